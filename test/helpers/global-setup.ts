/**
 * Vitest global setup for tests against real daemons: starts the project's
 * libvirt hosts (scripts/test-hosts.sh up, which installs what is missing:
 * A and B, libvirt 9.0) and the hosts of the newer generations
 * (test-hosts.sh up-gen: C and D, libvirt 11.3; E and F, libvirt 12.x; their
 * roots are built once and cached on the machine), and hands their addresses
 * to the tests. Stops afterwards what it started, and only that: hosts already
 * running before the suite (a developer's) stay up.
 *
 * VIRTWIRE_GENERATIONS narrows the generations (keys bookworm, trixie,
 * backports, or libvirt versions such as 9.0, 11.3, 12; default all): the
 * tests parameterised over generations see only those. A and B always come
 * up, since most test files use them directly.
 *
 * VIRTWIRE_BOOKWORM_HOSTS=G,H gives the bookworm generation (libvirt 9.0) the
 * spare pair G and H (gen-hosts.sh `spare`: the machine's own libvirt, like A
 * and B) instead of A and B, and hides A and B from the tests: a test that
 * uses them directly then fails rather than race the run that holds them. CI
 * runs the cross-version migrations so, beside the 9.0 suite on A and B.
 */
import type { TestProject } from 'vitest/node';
import {
  bookwormOnSpare,
  bookwormPair,
  GENERATION_KEYS,
  generationsFromEnv,
  generationWanted,
  runHarness as harness,
  parseHarnessEnv,
} from '../../scripts/lib/harness.js';

function fail(what: string, out: string): never {
  throw new Error(
    `could not start the real libvirt test hosts (${what}). These tests need root, Debian's ` +
      `libvirt-daemon, libvirt-daemon-driver-qemu and qemu-system-x86 (run: sudo bash ` +
      `scripts/test-hosts.sh install), mmdebstrap and a Debian mirror for the newer generations ` +
      `(or VIRTWIRE_GENERATIONS=bookworm), then: bash scripts/test-hosts.sh up\n${out}`,
  );
}

export default function setup(project: TestProject): () => void {
  const request = process.env['VIRTWIRE_GENERATIONS'];
  const pair = bookwormPair(process.env['VIRTWIRE_BOOKWORM_HOSTS']);
  let spareStarted = false;
  if (pair === 'GH' && !harness(['status-gen', 'spare']).ok) {
    const up = harness(['up-gen', 'spare']);
    if (!up.ok) fail('the spare bookworm hosts G and H', up.out);
    spareStarted = true;
  }
  const wasUp = pair === 'GH' || harness('status').ok;
  if (!wasUp) {
    const up = harness('up');
    if (!up.ok) fail('hosts A and B', up.out);
  }

  // Which of gen-hosts.sh's generations the request names: everything but A and B's.
  const oldest = generationsFromEnv(parseHarnessEnv(harness('env').stdout))[0];
  const tokens = (request ?? 'all').split(/[\s,]+/).filter(Boolean);
  const namesAB = (t: string): boolean =>
    t === GENERATION_KEYS[0] ||
    (t !== 'all' && oldest !== undefined && generationWanted(oldest, t));
  const genArgs = tokens.filter((t) => !namesAB(t));
  let gensStarted = false;
  if (genArgs.length > 0 && !harness(['status-gen', ...genArgs]).ok) {
    const up = harness(['up-gen', ...genArgs]);
    if (!up.ok) fail(`generations ${genArgs.join(' ')}`, up.out);
    gensStarted = true;
  }

  const all = parseHarnessEnv(harness('env').stdout);
  const env = pair === 'GH' ? bookwormOnSpare(all) : all;
  // a generation left up by an earlier run but not asked for is not the tests' to use
  for (const g of generationsFromEnv(env))
    if (!generationWanted(g, request)) delete env[`VIRTWIRE_GEN_${g.key.toUpperCase()}_HOSTS`];
  project.provide('hosts', env);
  return () => {
    if (gensStarted) harness(['down-gen', ...genArgs]);
    if (spareStarted) harness(['down-gen', 'spare']);
    if (!wasUp) harness('down');
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    hosts: Record<string, string>;
  }
}
