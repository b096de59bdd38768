// Memory per idle connection and the open rate: N connections to simulators (in child
// processes, so only the client side is measured) from this one process.
//
//   npx tsx bench/scale.ts                     # 10,000 connections over TCP
//   npx tsx bench/scale.ts --connections=2000 --transport=unix --sims=2 --json
//   options: --connections=N (10000) --parallel=N (opens at a time, 200) --sims=N (2)
//            --transport=tcp|unix --snapshot=PREFIX (heap snapshots PREFIX-before/-after.heapsnapshot)
//
// Measures process.memoryUsage() after a forced GC, once one warm-up connection is open
// (code loaded, method tables built) and again with all N open and idle; the differences
// divided by N are the cost of one idle connection: V8 heap, memory outside the heap
// (ArrayBuffers: socket read buffers, writer buffers) and RSS. Target: heap <= 16 KiB per
// idle open connection. The bench re-runs itself under `prlimit --nofile` (one fd per
// connection, here and in the simulators) and `--expose-gc`. Exits 0 whatever the figures,
// 1 on errors.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeHeapSnapshot } from 'node:v8';
import { type Connection, connect } from '../src/index.js';

const argv = process.argv.slice(2);
const opt = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const known = ['connections', 'parallel', 'sims', 'transport', 'snapshot', 'json'];
for (const a of argv) {
  const name = a.replace(/^--/, '').split('=')[0]!;
  if (!a.startsWith('--') || !known.includes(name)) {
    process.stderr.write(
      `unknown argument ${a}\nusage: npx tsx bench/scale.ts [--connections=N] [--parallel=N] ` +
        '[--sims=N] [--transport=tcp|unix] [--snapshot=PREFIX] [--json]\n',
    );
    process.exit(2);
  }
}
function count(name: string, dflt: number): number {
  const v = opt(name);
  const n = v === undefined ? dflt : Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
  return n;
}
const N = count('connections', 10_000);
const PARALLEL = count('parallel', 200);
const SIMS = count('sims', 2);
const TRANSPORT = opt('transport') ?? 'tcp';
if (TRANSPORT !== 'tcp' && TRANSPORT !== 'unix') throw new Error('--transport must be tcp or unix');
const JSON_OUT = argv.includes('--json');
const TARGET_KIB = 16;
const HERE = dirname(fileURLToPath(import.meta.url));
const log = JSON_OUT
  ? (s: string) => process.stderr.write(`${s}\n`)
  : (s: string) => process.stdout.write(`${s}\n`);

// One fd per connection here (and one per accepted connection in the simulators), plus slack.
const NOFILE = N + 1024;

/** Re-runs this script with the fd limit raised and gc() exposed; returns its exit code. */
function reexec(): number {
  const r = spawnSync(
    'prlimit',
    [
      `--nofile=${NOFILE}:${NOFILE}`,
      process.execPath,
      ...process.execArgv,
      '--expose-gc',
      fileURLToPath(import.meta.url),
      ...argv,
    ],
    { stdio: 'inherit', env: { ...process.env, VIRTWIRE_SCALE_CHILD: '1' } },
  );
  if (r.error) {
    process.stderr.write(`cannot run prlimit (util-linux): ${r.error.message}\n`);
    return 1;
  }
  return r.status ?? 1;
}

const gc = (globalThis as { gc?: () => void }).gc;
if (process.env.VIRTWIRE_SCALE_CHILD !== '1' || gc === undefined) process.exit(reexec());

interface Sim {
  readonly uri: string;
  readonly child: ChildProcess;
}

const sims: Sim[] = [];
const conns: Connection[] = [];
let sockDir: string | null = null;

function startSim(i: number): Promise<Sim> {
  const args = [
    ...process.execArgv.filter((a) => a !== '--expose-gc'),
    join(HERE, 'lib', 'sim-server.ts'),
  ];
  if (TRANSPORT === 'unix') {
    sockDir ??= mkdtempSync(join(tmpdir(), 'virtwire-scale-'));
    args.push(`--unix=${join(sockDir, `sim${i}.sock`)}`);
  }
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.on('error', reject);
    child.on('exit', (code) =>
      reject(new Error(`simulator ${i} exited (${code}) before it was up`)),
    );
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      child.removeAllListeners('exit');
      resolve({ uri: (JSON.parse(out.slice(0, nl)) as { uri: string }).uri, child });
    });
  });
}

interface Mem {
  heapUsed: number;
  external: number;
  rss: number;
}
function memory(): Mem {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, external: m.external, rss: m.rss };
}

const kib = (bytes: number) => bytes / 1024;

async function main(): Promise<void> {
  log(
    `${N.toLocaleString('en-US')} connections over ${TRANSPORT} to ${SIMS} simulator process(es), ` +
      `${PARALLEL} opening at a time; node ${process.version}, ${cpus().length} CPUs, load ${loadavg()[0]!.toFixed(1)}`,
  );
  for (let i = 0; i < SIMS; i++) sims.push(await startSim(i));
  // Warm-up: code loaded, method tables and caches built before the baseline.
  const warm = await connect(sims[0]!.uri);
  await warm.remote.connectGetLibVersion();
  const before = memory();
  const snapshot = opt('snapshot');
  if (snapshot) log(`heap snapshot: ${writeHeapSnapshot(`${snapshot}-before.heapsnapshot`)}`);

  const t0 = performance.now();
  let next = 0;
  let failed: unknown = null;
  const opener = async (): Promise<void> => {
    while (next < N && failed === null) {
      const i = next++;
      try {
        conns[i] = await connect(sims[i % SIMS]!.uri);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, opener));
  if (failed) throw failed;
  const openSec = (performance.now() - t0) / 1000;
  const open = conns.filter((c) => c.isOpen).length;
  if (open !== N) throw new Error(`only ${open} of ${N} connections are open`);
  // Idle a moment (keepalive timers armed, nothing in flight), then measure.
  await new Promise((r) => setTimeout(r, 1000));
  const after = memory();
  if (snapshot) log(`heap snapshot: ${writeHeapSnapshot(`${snapshot}-after.heapsnapshot`)}`);
  // Every connection still answers.
  const answers = await Promise.all(conns.map((c) => c.remote.connectGetLibVersion()));
  if (answers.length !== N) throw new Error('a connection did not answer');

  const t1 = performance.now();
  await Promise.all(conns.map((c) => c.close()));
  const closeSec = (performance.now() - t1) / 1000;
  await warm.close();

  const per = {
    heapKiB: kib((after.heapUsed - before.heapUsed) / N),
    externalKiB: kib((after.external - before.external) / N),
    rssKiB: kib((after.rss - before.rss) / N),
  };
  const result = {
    connections: N,
    transport: TRANSPORT,
    simulators: SIMS,
    node: process.version,
    loadavg: loadavg().map((x) => Number(x.toFixed(2))),
    openPerSec: N / openSec,
    openSec,
    closeSec,
    before,
    after,
    perConnection: per,
    targetHeapKiB: TARGET_KIB,
    pass: per.heapKiB <= TARGET_KIB,
  };
  if (JSON_OUT) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
  log(
    `opened ${N.toLocaleString('en-US')} in ${openSec.toFixed(1)} s: ${Math.round(N / openSec)} connections/s; closed in ${closeSec.toFixed(1)} s`,
  );
  log(
    `memory, one connection open -> all open (after GC): heap ${mib(before.heapUsed)} -> ${mib(after.heapUsed)}, ` +
      `outside the heap ${mib(before.external)} -> ${mib(after.external)}, RSS ${mib(before.rss)} -> ${mib(after.rss)}`,
  );
  log(
    `per idle connection: heap ${per.heapKiB.toFixed(1)} KiB, outside the heap ${per.externalKiB.toFixed(1)} KiB, ` +
      `RSS ${per.rssKiB.toFixed(1)} KiB`,
  );
  log(`target: heap <= ${TARGET_KIB} KiB per idle connection: ${result.pass ? 'PASS' : 'FAIL'}`);
}

async function cleanup(): Promise<void> {
  for (const s of sims) s.child.stdin?.end();
  await Promise.all(
    sims.map(
      (s) =>
        new Promise<void>((r) =>
          s.child.exitCode !== null ? r() : s.child.once('exit', () => r()),
        ),
    ),
  );
  if (sockDir) rmSync(sockDir, { recursive: true, force: true });
}

try {
  await main();
  await cleanup();
} catch (err) {
  process.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : err}\n`);
  for (const c of conns) c?.rpc.close();
  for (const s of sims) s.child.kill('SIGTERM');
  process.exit(1);
}
