import { inject } from 'vitest';
import {
  GENERATION_KEYS,
  type Generation,
  type GenerationKey,
  generationsFromEnv,
} from '../../scripts/lib/harness.js';

export type { Generation };

/** Addresses of the real libvirt test hosts started by the global setup. */
export function hosts(): Record<string, string> {
  return inject('hosts');
}

export function host(name: string): string {
  const v = inject('hosts')[name];
  if (v === undefined)
    throw new Error(`test host variable ${name} is not set by scripts/test-hosts.sh env`);
  return v;
}

/**
 * The libvirt generations whose hosts are up for this run, oldest first, for
 * `describe.each(generations())('$label', (gen) => ...)`. Never empty: the
 * oldest (hosts A and B) is always there.
 */
export function generations(limit?: GenerationLimit): Generation[] {
  const gens = generationsFromEnv(inject('hosts'));
  if (gens.length === 0) throw new Error('scripts/test-hosts.sh env lists no generation');
  if (limit === undefined) return gens;
  if (limit.because.trim() === '')
    throw new Error('generations({ only }) needs the reason the others do not apply');
  for (const k of limit.only)
    if (!GENERATION_KEYS.includes(k)) throw new Error(`no generation named ${k}`);
  return gens.filter((g) => limit.only.includes(g.key));
}

/**
 * A test file that cannot run on every generation says on which it runs and
 * why the others do not apply (test/unit/scripts/generations.test.ts holds
 * every real-daemon file to one or the other).
 */
export interface GenerationLimit {
  readonly only: readonly GenerationKey[];
  /** Why the other generations do not apply, e.g. "SASL is configured on hosts A and B only". */
  readonly because: string;
}

/**
 * For a part of a file that uses hosts A and B (libvirt 9.0) directly, whatever the generation:
 * `describe.each(onHostsAB('why only A and B'))('...: $label', ...)` registers it when this run
 * includes libvirt 9.0, and not in a run of the newer generations only, which must leave A and B
 * alone (CI runs it beside the 9.0 run, which owns them).
 */
export function onHostsAB(because: string): Generation[] {
  return generations({ only: ['bookworm'], because });
}

/** A variable of one host of a generation: `hostOf(gen, 0, 'TCP')` is its first host's URI. */
export function hostOf(gen: Generation, which: 0 | 1, what: string): string {
  return host(`VIRTWIRE_HOST_${gen.hosts[which]}_${what}`);
}
