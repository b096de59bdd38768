import { inject } from 'vitest';
import { type Generation, generationsFromEnv } from '../../scripts/lib/harness.js';

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
export function generations(): Generation[] {
  const gens = generationsFromEnv(inject('hosts'));
  if (gens.length === 0) throw new Error('scripts/test-hosts.sh env lists no generation');
  return gens;
}

/** A variable of one host of a generation: `hostOf(gen, 0, 'TCP')` is its first host's URI. */
export function hostOf(gen: Generation, which: 0 | 1, what: string): string {
  return host(`VIRTWIRE_HOST_${gen.hosts[which]}_${what}`);
}
