/**
 * `npm run examples`: checks that every code block of README.md and docs/
 * that shows library use is an excerpt of a file in examples/, then packs
 * the package (dist/ as `npm run build` left it), installs the tarball into a
 * scratch consumer project, type-checks and compiles every example there,
 * and runs each example marked `runs on: simulator` against two simulated
 * hosts started from the installed `virtwire/testing`. The examples that
 * need real hosts run in test/e2e/examples.test.ts.
 *
 *   npm run examples                 # all of it
 *   npm run examples -- --docs-only  # only the README/docs check (no build needed)
 *   npm run examples -- NAME...      # only these examples (--verbose: with their output)
 *
 * Each example gets fresh simulators, its own working directory and
 * VIRTWIRE_URI / VIRTWIRE_DEST_URI / VIRTWIRE_DOMAIN / VIRTWIRE_GUEST_XML;
 * any exit status but 0, or an example no target runs, fails.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Testing from '../src/testing/index.js';
import { checkDocs, listExamples, prepareConsumer, runExample } from './lib/examples.js';

type Sim = Testing.Simulator;

/** A guest the examples may define and create: its name is free on the source host. */
const GUEST_XML = `<domain type='qemu'>
  <name>vm2</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
</domain>
`;

/**
 * What an example's run must have left on the simulators, beyond exit status 0:
 * the examples that change the hosts are checked by their effect.
 */
const AFTER: Record<string, (a: Sim, b: Sim, stdout: string) => string | null> = {
  'migration-postcopy': (a, b) =>
    b.domain('vm1')?.state === 'running' && a.domain('vm1')?.state !== 'running'
      ? null
      : 'vm1 is not running on the destination only',
  'migration-recover': (a, b, stdout) =>
    !stdout.includes('post-copy failed:')
      ? 'the post-copy failure did not reach the example'
      : b.domain('vm1')?.state === 'running' && a.domain('vm1')?.state !== 'running'
        ? null
        : 'vm1 is not running on the destination only after the recovery',
  'events-domain': (a) =>
    a.domain('vm1')?.state === 'running' ? null : 'vm1 was not started again',
};

/** Test hooks applied before an example runs. */
const BEFORE: Record<string, (a: Sim, b: Sim) => void> = {
  // the recovery path must run, not only type-check: break the post-copy stream
  'migration-recover': (a) => a.failPostcopy('vm1', { afterMs: 0 }),
};

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const problems = checkDocs();
  const examples = listExamples();
  for (const p of problems) console.error(p);
  if (problems.length > 0) {
    console.error(`${problems.length} code block(s) in README.md/docs are not examples`);
    return 1;
  }
  console.log(`README.md and docs/: every code block that shows library use is an example`);
  if (args.includes('--docs-only')) return 0;

  const verbose = args.includes('--verbose');
  const only = args.filter((a) => !a.startsWith('--'));
  for (const n of only)
    if (!examples.some((e) => e.name === n)) throw new Error(`no example ${n} in examples/`);
  const scratch = mkdtempSync(join(tmpdir(), 'vw-examples-'));
  try {
    let t0 = performance.now();
    const consumer = prepareConsumer(scratch);
    console.log(
      `packed, installed into a scratch project and type-checked ${examples.length} examples in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    const testing = (await import(
      pathToFileURL(join(consumer, 'node_modules/virtwire/dist/testing.js')).href
    )) as typeof Testing;
    let failed = 0;
    for (const ex of examples) {
      if (only.length > 0 && !only.includes(ex.name)) continue;
      if (!ex.runsOn.has('simulator')) {
        console.log(`  ${ex.name.padEnd(24)} real hosts only (test/e2e/examples.test.ts)`);
        continue;
      }
      const network = new testing.SimNetwork();
      const a = await testing.Simulator.start({
        network,
        hostname: 'host-a',
        tcp: true,
        timeScale: 20,
        bandwidthMiBps: 200,
        domains: [
          // dirtier than the 200 MiB/s link copies: only post-copy moves it
          { name: 'vm1', state: 'running', memoryMiB: 512, dirtyRateMiBps: 300, dirtySetMiB: 128 },
        ],
      });
      const b = await testing.Simulator.start({ network, hostname: 'host-b', tcp: true });
      const cwd = join(scratch, ex.name);
      mkdirSync(cwd);
      writeFileSync(join(cwd, 'guest.xml'), GUEST_XML);
      try {
        BEFORE[ex.name]?.(a, b);
        t0 = performance.now();
        const r = await runExample(consumer, ex.name, cwd, {
          VIRTWIRE_URI: a.uri,
          VIRTWIRE_DEST_URI: b.uri,
          VIRTWIRE_DOMAIN: 'vm1',
          VIRTWIRE_GUEST_XML: join(cwd, 'guest.xml'),
        });
        const after = r.status === 0 ? (AFTER[ex.name]?.(a, b, r.stdout) ?? null) : null;
        const ok = r.status === 0 && after === null;
        console.log(
          `  ${ex.name.padEnd(24)} ${ok ? 'ok' : 'FAILED'} ${(r.ms / 1000).toFixed(2)} s (simulator)`,
        );
        if (verbose) process.stdout.write(`${r.stdout.trimEnd().replace(/^/gm, '      ')}\n`);
        if (!ok) {
          failed++;
          console.error(
            `${ex.name}: ${after ?? `exit status ${r.status}`}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`,
          );
        }
      } finally {
        await a.close();
        await b.close();
      }
    }
    return failed === 0 ? 0 : 1;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

process.exitCode = await main();
