// RPC throughput benchmark: virtwire against libvirt's own C client (a small C program
// compiled here against libvirt.so) and python3-libvirt, on the same real libvirtd, in the
// same rounds.
//
//   flock /tmp/virtwire-hosts.lock npx tsx bench/rpc.ts          # table (~4 minutes)
//   flock /tmp/virtwire-hosts.lock npx tsx bench/rpc.ts --json   # JSON on stdout, progress on stderr
//   options: --rounds=5 --duration-ms=2000 --warmup-ms=500 --uri=URI --only=REGEX
//            --no-python --no-bare --per-conn --no-wire --guest=inactive|running (qemu URIs only)
//
// Default daemon: the test driver through host A's real libvirtd over TCP
// (test+tcp://127.0.0.1/default, domain `test`). Cells: connectGetLibVersion and
// domainGetInfo at 1 and 16 calls in flight on ONE connection:
// - virtwire: N async workers issuing calls back to back on one connection (pipelined);
// - libvirt C (bench/rpc_baseline.c): N threads sharing one virConnect;
// - python3-libvirt (bench/rpc_baseline.py): the same through the Python bindings;
// - bare net.Socket (connectGetLibVersion): pre-encoded calls, replies only counted, in two
//   write patterns (the calls answered by one read in one write; one write per call, as the
//   C client does); the better of the two is the floor of any Node.js client on one connection.
// Each run: warm-up, then the calls completed in a fixed window are counted, with the client's
// and the daemon's CPU. Sides alternate within each cell and the order flips every round; a
// calls/s figure is the median round, a ratio the median of the per-round ratios.
// On the wire (not with --no-wire; tcp URIs, dumpcap and tshark needed): after the rounds, one
// extra run per cell of virtwire and of the C client under a loopback capture (bench/lib/wire.ts),
// from which the calls really in flight between client and daemon, the messages per TCP segment
// each way and the daemon's reply time are printed for both clients side by side.
// Targets (vs the C client): calls/s ratio >= 1.0x at 1 and at 16, and CPU per call no
// higher than the C client's. Exits 0 whatever the figures (it is a report), 1 on errors.

import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchWithHosts } from '../scripts/lib/harness.js';
import { type Connection, connect, type Domain, isNoDomain } from '../src/index.js';
import { runBareSocket } from './lib/bare-socket.js';
import { compileCBaseline, killBaseline, PYTHON, runBaseline } from './lib/baseline.js';
import { measureWindow, type Run } from './lib/procstat.js';
import { canCapture, WireCapture, type WireStats } from './lib/wire.js';

// ---------------------------------------------------------------------------
// Options

const argv = process.argv.slice(2);
function opt(name: string): string | undefined {
  const a = argv.find((x) => x.startsWith(`--${name}=`));
  return a === undefined ? undefined : a.slice(name.length + 3);
}
function numOpt(name: string, dflt: number): number {
  const v = opt(name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`bad --${name}=${v}`);
  return n;
}
const known = [
  'json',
  'rounds',
  'duration-ms',
  'warmup-ms',
  'guest',
  'uri',
  'only',
  'no-python',
  'no-bare',
  'per-conn',
  'no-wire',
];
for (const a of argv) {
  const name = a.replace(/^--/, '').split('=')[0]!;
  if (!a.startsWith('--') || !known.includes(name)) {
    process.stderr.write(
      `unknown argument ${a}\nusage: npx tsx bench/rpc.ts [--json] [--rounds=N] [--duration-ms=MS] ` +
        '[--warmup-ms=MS] [--uri=URI] [--only=REGEX] [--no-python] [--no-bare] [--per-conn] ' +
        '[--guest=inactive|running] [--no-wire]\n',
    );
    process.exit(2);
  }
}
const JSON_OUT = argv.includes('--json');
const ROUNDS = Math.max(3, Math.floor(numOpt('rounds', 5)));
const DURATION_MS = numOpt('duration-ms', 2000);
const WARMUP_MS = numOpt('warmup-ms', 500);
const GUEST = opt('guest') ?? 'inactive';
if (GUEST !== 'inactive' && GUEST !== 'running') throw new Error(`bad --guest=${GUEST}`);
const ONLY = opt('only') === undefined ? null : new RegExp(opt('only')!);
const PYTHON_SIDE = !argv.includes('--no-python');
const BARE_SIDE = !argv.includes('--no-bare');
const PER_CONN = argv.includes('--per-conn');
const WIRE = !argv.includes('--no-wire');
const CONCURRENCY = [1, 16] as const;
const TARGET = 1.0;

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PY_BASELINE = join(ROOT, 'bench', 'rpc_baseline.py');

/** Progress and notes go to stderr in --json mode so stdout stays parseable. */
const log = JSON_OUT
  ? (s: string) => process.stderr.write(`${s}\n`)
  : (s: string) => process.stdout.write(`${s}\n`);

// ---------------------------------------------------------------------------
// Hosts and domain

/** The daemon settings that bound concurrency, as written in host A's libvirtd.conf. */
function daemonConfig(hostsDir: string): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    const conf = readFileSync(join(hostsDir, 'A', 'etc', 'libvirtd.conf'), 'utf8');
    for (const m of conf.matchAll(/^(\w*(?:workers|clients|client_requests))\s*=\s*(\d+)/gm)) {
      out[m[1]!] = Number(m[2]);
    }
  } catch {
    // reported as empty
  }
  return out;
}

function daemonPid(hostsDir: string): number | null {
  try {
    const n = Number(readFileSync(join(hostsDir, 'A', 'libvirtd.pid'), 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

/** Destroys (if running) and undefines `name`; true if it existed. */
async function removeDomain(conn: Connection, name: string): Promise<boolean> {
  let d: Domain;
  try {
    d = await conn.lookupDomain(name);
  } catch (err) {
    if (isNoDomain(err)) return false;
    throw err;
  }
  if (d.id !== -1) await d.destroy();
  await d.undefine();
  return true;
}

// ---------------------------------------------------------------------------
// Sides

type Side = 'virtwire' | 'c' | 'python' | 'python16' | 'bare' | 'bareEach';
const SIDE_NAMES: Record<Side, string> = {
  virtwire: 'virtwire',
  c: 'libvirt C',
  python: 'python3-libvirt',
  python16: 'python3-libvirt, 16 conns',
  bare: 'bare net.Socket',
  bareEach: 'bare, write per call',
};

/** N async workers issuing `call` back to back; counts completions in the timed window. */
async function runVirtwire(
  call: () => Promise<unknown>,
  conc: number,
  pid: number | null,
): Promise<Run> {
  let done = 0;
  let stop = false;
  let failure: unknown = null;
  const worker = async (): Promise<void> => {
    try {
      while (!stop) {
        await call();
        done++;
      }
    } catch (err) {
      failure ??= err;
      stop = true;
    }
  };
  const workers = Array.from({ length: conc }, worker);
  const run = await measureWindow(() => done, pid, WARMUP_MS, DURATION_MS);
  stop = true;
  await Promise.all(workers);
  if (failure) throw failure;
  return run;
}

// ---------------------------------------------------------------------------
// Statistics and output

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function medianOrNull(runs: readonly Run[], pick: (r: Run) => number | null): number | null {
  const xs = runs.map(pick);
  return xs.length === 0 || xs.some((x) => x === null) ? null : median(xs as number[]);
}

/** Median of per-call CPU microseconds over the rounds (null if unknown). */
function usPerCall(runs: readonly Run[], pick: (r: Run) => number | null): number | null {
  const xs: number[] = [];
  for (const r of runs) {
    const v = pick(r);
    if (v === null || r.calls === 0) return null;
    xs.push((v / r.calls) * 1e6);
  }
  return xs.length === 0 ? null : median(xs);
}

interface Cell {
  readonly procedure: string;
  readonly concurrency: number;
  readonly runs: Partial<Record<Side, Run[]>>;
}

function sideSummary(runs: readonly Run[]) {
  return {
    callsPerSec: median(runs.map((r) => r.callsPerSec)),
    rounds: runs.map((r) => Math.round(r.callsPerSec)),
    clientCpuUsPerCall: usPerCall(runs, (r) => r.clientCpuSec),
    clientRunqueueUsPerCall: usPerCall(runs, (r) => r.clientRunqueueSec ?? null),
    daemonCpuUsPerCall: usPerCall(runs, (r) => r.daemonCpuSec),
    /** Share of all CPUs busy (1 = every CPU all the time), median round. */
    machineBusy: medianOrNull(runs, (r) =>
      r.machineBusySec === null ? null : r.machineBusySec / r.seconds / cpus().length,
    ),
    /** libvirtd's busiest thread: its name and the share of one CPU it used, median round. */
    daemonBusiestThread: {
      name: runs[0]?.daemonBusiestThread?.[0] ?? null,
      busy: medianOrNull(runs, (r) =>
        r.daemonBusiestThread === null ? null : r.daemonBusiestThread[1] / r.seconds,
      ),
    },
  };
}

/** Median of the per-round ratios virtwire / `side` (rounds pair up by index). */
function ratioTo(cell: Cell, side: Side): { median: number; min: number; max: number } | null {
  const v = cell.runs.virtwire ?? [];
  const o = cell.runs[side] ?? [];
  if (v.length === 0 || o.length === 0) return null;
  const xs = v.slice(0, o.length).map((r, i) => r.callsPerSec / o[i]!.callsPerSec);
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
}

/**
 * The Node.js floor per round: the better of the two bare-socket patterns. Returns the
 * median of the per-round ratios floor / C and virtwire / floor, or null without both.
 */
function floorOf(cell: Cell): { floorVsC: number; virtwireVsFloor: number } | null {
  const a = cell.runs.bare ?? [];
  const b = cell.runs.bareEach ?? [];
  const c = cell.runs.c ?? [];
  const v = cell.runs.virtwire ?? [];
  const n = Math.min(a.length, b.length, c.length, v.length);
  if (n === 0) return null;
  const floor = Array.from({ length: n }, (_, i) => Math.max(a[i]!.callsPerSec, b[i]!.callsPerSec));
  return {
    floorVsC: median(floor.map((f, i) => f / c[i]!.callsPerSec)),
    virtwireVsFloor: median(floor.map((f, i) => v[i]!.callsPerSec / f)),
  };
}

function summarize(cell: Cell) {
  const sides = Object.fromEntries(
    Object.entries(cell.runs).map(([k, runs]) => [k, sideSummary(runs)]),
  ) as Partial<Record<Side, ReturnType<typeof sideSummary>>>;
  const vsC = ratioTo(cell, 'c');
  const vCpu = sides.virtwire?.clientCpuUsPerCall ?? null;
  const cCpu = sides.c?.clientCpuUsPerCall ?? null;
  return {
    procedure: cell.procedure,
    concurrency: cell.concurrency,
    sides,
    ratioToC: vsC,
    ratioToPython: ratioTo(cell, 'python'),
    floor: floorOf(cell),
    passCalls: vsC === null ? null : vsC.median >= TARGET,
    passCpu: vCpu === null || cCpu === null ? null : vCpu <= cCpu,
  };
}

const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
const fmtUs = (n: number | null | undefined) =>
  n === null || n === undefined ? '-' : n.toFixed(0);
const fmtRatio = (r: { median: number; min: number; max: number } | null) =>
  r === null ? '-' : `${r.median.toFixed(2)}x (${r.min.toFixed(2)}-${r.max.toFixed(2)})`;
const pct = (x: number | null | undefined) =>
  x === null || x === undefined ? '-' : `${Math.round(x * 100)}%`;

/** Left-aligned columns, two spaces apart. */
function printColumns(head: string[], body: string[][]): void {
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(w[i]!))
      .join('  ')
      .trimEnd();
  log(line(head));
  for (const b of body) log(line(b));
}

function printTable(rows: ReturnType<typeof summarize>[], sides: readonly Side[]): void {
  printColumns(
    ['procedure', 'conc', ...sides.map((s) => `${SIDE_NAMES[s]} calls/s`), 'vs C', 'vs python'],
    rows.map((r) => [
      r.procedure,
      String(r.concurrency),
      ...sides.map((s) => (r.sides[s] ? fmtInt(r.sides[s].callsPerSec) : '-')),
      fmtRatio(r.ratioToC),
      fmtRatio(r.ratioToPython),
    ]),
  );
  log('calls/s: median round; ratio: median of the per-round virtwire/other ratios (range).');
  log('');
  log('CPU microseconds per call (median round), client / libvirtd:');
  printColumns(
    ['procedure', 'conc', ...sides.map((s) => SIDE_NAMES[s])],
    rows.map((r) => [
      r.procedure,
      String(r.concurrency),
      ...sides.map((s) =>
        r.sides[s]
          ? `${fmtUs(r.sides[s].clientCpuUsPerCall)} / ${fmtUs(r.sides[s].daemonCpuUsPerCall)}`
          : '-',
      ),
    ]),
  );
  log('');
  log("All CPUs busy, and libvirtd's busiest thread (share of one CPU), median round:");
  printColumns(
    ['procedure', 'conc', ...sides.map((s) => SIDE_NAMES[s])],
    rows.map((r) => [
      r.procedure,
      String(r.concurrency),
      ...sides.map((s) =>
        r.sides[s]
          ? `${pct(r.sides[s].machineBusy)} / ${pct(r.sides[s].daemonBusiestThread.busy)}`
          : '-',
      ),
    ]),
  );
  log('');
  log(
    "Client's threads runnable but waiting for a CPU, microseconds per call (median round; " +
      'a loaded machine gives a 16-thread client more turns than a one-thread one):',
  );
  printColumns(
    ['procedure', 'conc', ...sides.map((s) => SIDE_NAMES[s])],
    rows.map((r) => [
      r.procedure,
      String(r.concurrency),
      ...sides.map((s) => fmtUs(r.sides[s]?.clientRunqueueUsPerCall)),
    ]),
  );
  log('');
  log('Targets against the C client, per cell:');
  printColumns(
    ['procedure', 'conc', `calls/s >= ${TARGET.toFixed(1)}x`, 'CPU per call <= C'],
    rows.map((r) => [
      r.procedure,
      String(r.concurrency),
      r.passCalls === null ? '-' : r.passCalls ? 'PASS' : 'FAIL',
      r.passCpu === null
        ? '-'
        : `${r.passCpu ? 'PASS' : 'FAIL'} (${fmtUs(r.sides.virtwire?.clientCpuUsPerCall)} vs ${fmtUs(r.sides.c?.clientCpuUsPerCall)} us)`,
    ]),
  );
  const floors = rows.filter((r) => r.floor !== null);
  if (floors.length === 0) return;
  log('');
  log(
    'The Node.js floor (the better bare-socket pattern per round), median of per-round ratios; ' +
      'where the floor itself is below the C client, no Node.js client on one connection reaches it here:',
  );
  printColumns(
    ['procedure', 'conc', 'floor / C', 'virtwire / floor', 'reading'],
    floors.map((r) => {
      const f = r.floor!;
      const reading =
        r.passCalls !== false
          ? 'target met'
          : f.floorVsC < TARGET
            ? `unreachable here: the floor is ${f.floorVsC.toFixed(2)}x C`
            : `virtwire's gap: the floor reaches ${f.floorVsC.toFixed(2)}x C`;
      return [
        r.procedure,
        String(r.concurrency),
        `${f.floorVsC.toFixed(2)}x`,
        `${f.virtwireVsFloor.toFixed(2)}x`,
        reading,
      ];
    }),
  );
}

/** The captured runs, virtwire and the C client side by side per cell. */
function printWire(
  wire: ReadonlyArray<{ procedure: string; concurrency: number; side: Side; stats: WireStats }>,
  maxClientRequests: number,
): void {
  log(
    `On the wire (one captured run per side; the daemon reads at most max_client_requests=${maxClientRequests} calls ahead):`,
  );
  printColumns(
    [
      'procedure',
      'conc',
      'client',
      'calls',
      'in flight mean / max',
      'held by client',
      'calls/segment',
      'replies/segment',
      'reply us p50 / p90',
    ],
    wire.map((w) => [
      w.procedure,
      String(w.concurrency),
      SIDE_NAMES[w.side],
      `${fmtInt(w.stats.calls)}${w.stats.unanswered > 16 ? ` (${w.stats.unanswered} unanswered)` : ''}`,
      `${w.stats.inFlightMean.toFixed(1)} / ${w.stats.inFlightMax}`,
      (w.concurrency - w.stats.inFlightMean).toFixed(1),
      w.stats.callsPerSegment.toFixed(2),
      w.stats.repliesPerSegment.toFixed(2),
      `${fmtUs(w.stats.replyUsP50)} / ${fmtUs(w.stats.replyUsP90)}`,
    ]),
  );
  log(
    "in flight: calls sent and not yet answered on the wire (the daemon's side of the pipeline); " +
      'held by client: concurrency minus that mean, the calls answered but not yet replaced.',
  );
  log('');
}

// ---------------------------------------------------------------------------
// Main

let admin: Connection | null = null;
let bench: Connection | null = null;
let domainDefined = false;
let removeBinary: (() => void) | null = null;
const QEMU_DOMAIN = 'bench-rpc';

async function cleanup(): Promise<void> {
  killBaseline();
  removeBinary?.();
  try {
    await bench?.close();
  } catch {
    // best effort
  }
  if (domainDefined && admin?.isOpen) {
    try {
      await removeDomain(admin, QEMU_DOMAIN);
      log(`removed domain ${QEMU_DOMAIN}`);
    } catch (err) {
      process.stderr.write(
        `warning: could not remove domain ${QEMU_DOMAIN}: ${(err as Error).message}\n`,
      );
    }
  }
  try {
    await admin?.close();
  } catch {
    // best effort
  }
}

async function main(env: Record<string, string>): Promise<void> {
  const uri = opt('uri') ?? env.VIRTWIRE_HOST_A_TEST;
  const hostsDir = env.VIRTWIRE_HOSTS_DIR;
  if (!uri || !hostsDir) throw new Error('test-hosts.sh env is incomplete');
  const pid = daemonPid(hostsDir);
  const config = daemonConfig(hostsDir);
  const cBin = compileCBaseline();
  removeBinary = cBin.remove;

  admin = await connect(uri);
  const daemonVersion = Number((await admin.remote.connectGetLibVersion()).libVer);
  // The test driver has its domain `test`; a real hypervisor gets one defined from the harness's guest.
  let domain = 'test';
  if (!uri.startsWith('test')) {
    domain = QEMU_DOMAIN;
    if (await removeDomain(admin, domain)) log(`removed a leftover domain ${domain}`);
    const xmlPath = env.VIRTWIRE_GUEST_XML;
    if (!xmlPath) throw new Error('test-hosts.sh env has no VIRTWIRE_GUEST_XML');
    const xml = readFileSync(xmlPath, 'utf8').replace(
      /<name>[^<]*<\/name>/,
      `<name>${domain}</name>`,
    );
    domainDefined = true;
    const defined = await admin.domainDefineXML(xml);
    if (GUEST === 'running') await defined.createWithFlags();
  }

  bench = await connect(uri);
  const dom = (await bench.lookupDomain(domain)).wire;
  const remote = bench.remote;
  const procs: Record<string, () => Promise<unknown>> = {
    connectGetLibVersion: () => remote.connectGetLibVersion(),
    domainGetInfo: () => remote.domainGetInfo({ dom }),
  };

  const vstr = (v: number) => `${Math.floor(v / 1e6)}.${Math.floor(v / 1e3) % 1e3}.${v % 1e3}`;
  const environment = {
    uri,
    domain,
    daemonLibvirt: vstr(daemonVersion),
    clientLibvirt: cBin.libvirt,
    node: process.version,
    cpus: cpus().length,
    loadavgAtStart: loadavg().map((x) => Number(x.toFixed(2))),
    loadavgAtEnd: [] as number[],
    daemonConfig: config,
    daemonPid: pid,
  };
  log(
    `libvirtd ${environment.daemonLibvirt} at ${uri} (pid ${pid ?? '?'}; ` +
      Object.entries(config)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ') +
      `); libvirt C client ${cBin.libvirt}; node ${process.version}; ` +
      `${environment.cpus} CPUs, load ${environment.loadavgAtStart.join(' ')}`,
  );
  log(
    `domain ${domain}; ${ROUNDS} rounds of ${WARMUP_MS} ms warm-up + ${DURATION_MS} ms counted per run`,
  );
  const maxReq = config.max_client_requests ?? 5;
  if (maxReq < Math.max(...CONCURRENCY)) {
    log(`note: max_client_requests=${maxReq}: the daemon reads at most that many calls ahead`);
  }

  // The bare-socket floor needs a plain tcp URI (no TLS, no SSH, no SASL).
  const u = new URL(uri);
  const bareTarget = /\+tcp$/.test(u.protocol.slice(0, -1))
    ? {
        host: u.hostname.replace(/^\[|\]$/g, ''),
        port: Number(u.port || 16509),
        // what libvirt's client sends in CONNECT_OPEN: the URI without transport and host
        name: `${u.protocol.replace(/\+tcp:$/, ':')}//${u.pathname}`,
      }
    : null;

  const sides: Side[] = ['virtwire', 'c'];
  if (PYTHON_SIDE) sides.push('python');
  if (PYTHON_SIDE && PER_CONN) sides.push('python16');
  if (BARE_SIDE && bareTarget) sides.push('bare', 'bareEach');

  const cells: Cell[] = [];
  for (const procedure of Object.keys(procs)) {
    for (const concurrency of CONCURRENCY) {
      if (ONLY && !ONLY.test(`${procedure} ${concurrency}`)) continue;
      cells.push({ procedure, concurrency, runs: {} });
    }
  }

  const baselineArgs = (procedure: string, conc: number) => [
    `--uri=${uri}`,
    `--proc=${procedure}`,
    `--threads=${conc}`,
    `--warmup=${WARMUP_MS / 1000}`,
    `--duration=${DURATION_MS / 1000}`,
    `--domain=${domain}`,
    ...(pid !== null ? [`--daemon-pid=${pid}`] : []),
  ];
  const runSide = (side: Side, cell: Cell): Promise<Run> | null => {
    const { procedure, concurrency: conc } = cell;
    switch (side) {
      case 'virtwire':
        return runVirtwire(procs[procedure]!, conc, pid);
      case 'c':
        return runBaseline(cBin.path, baselineArgs(procedure, conc));
      case 'python':
        return runBaseline(PYTHON, [PY_BASELINE, ...baselineArgs(procedure, conc)]);
      case 'python16':
        if (conc === 1) return null;
        return runBaseline(PYTHON, [
          PY_BASELINE,
          ...baselineArgs(procedure, conc),
          `--connections=${conc}`,
        ]);
      case 'bare':
      case 'bareEach':
        if (procedure !== 'connectGetLibVersion' || bareTarget === null) return null;
        return runBareSocket(
          bareTarget.host,
          bareTarget.port,
          bareTarget.name,
          conc,
          pid,
          WARMUP_MS,
          DURATION_MS,
          side === 'bare' ? 'tick' : 'each',
        );
    }
  };

  for (let round = 0; round < ROUNDS; round++) {
    log(`round ${round + 1}/${ROUNDS} (load ${loadavg()[0]!.toFixed(1)})`);
    for (const cell of cells) {
      const order = round % 2 === 0 ? sides : [...sides].reverse();
      const got: string[] = [];
      for (const side of order) {
        const p = runSide(side, cell);
        if (p === null) continue;
        const r = await p;
        const runs = cell.runs[side] ?? [];
        runs.push(r);
        cell.runs[side] = runs;
        got.push(`${SIDE_NAMES[side]} ${fmtInt(r.callsPerSec)}`);
      }
      log(`  ${cell.procedure} c=${cell.concurrency}: ${got.join(', ')}`);
    }
  }

  // The wire: one more run per cell for virtwire and the C client, each under a capture.
  const wire: Array<{ procedure: string; concurrency: number; side: Side; stats: WireStats }> = [];
  if (WIRE && bareTarget !== null && canCapture()) {
    log('on the wire: one captured run per cell for virtwire and libvirt C');
    for (const cell of cells) {
      for (const side of ['virtwire', 'c'] as const) {
        const cap = new WireCapture(bareTarget.port);
        let stats: WireStats | null = null;
        try {
          await cap.started();
          await runSide(side, cell);
          stats = await cap.stop();
        } catch (err) {
          // a report without the wire beats no report: say why and go on
          log(
            `  ${cell.procedure} c=${cell.concurrency} ${SIDE_NAMES[side]}: no wire figures: ${(err as Error).message}`,
          );
          await cap.stop().catch(() => null);
        }
        if (stats)
          wire.push({ procedure: cell.procedure, concurrency: cell.concurrency, side, stats });
      }
    }
  } else if (WIRE) {
    log('on the wire: skipped (needs a tcp URI, dumpcap and tshark)');
  }

  environment.loadavgAtEnd = loadavg().map((x) => Number(x.toFixed(2)));
  const results = cells.map(summarize);
  const allPass = results.every((r) => r.passCalls !== false && r.passCpu !== false);
  if (JSON_OUT) {
    const options = { rounds: ROUNDS, durationMs: DURATION_MS, warmupMs: WARMUP_MS };
    process.stdout.write(
      `${JSON.stringify({ environment, options, results, wire, allPass }, null, 2)}\n`,
    );
  } else {
    log('');
    printTable(results, sides);
    log('');
    if (wire.length > 0) printWire(wire, config.max_client_requests ?? 5);
    log(`load average at the end: ${environment.loadavgAtEnd.join(' ')}`);
    log(
      `targets (>= 1.0x the C client's calls/s, CPU per call <= C's): ${allPass ? 'PASS' : 'FAIL'}`,
    );
  }
}

await benchWithHosts({
  log,
  // Only host A is needed: if it answers, never run up/down over the others' hosts.
  hostsUp: (status) => status.ok || /^host A: up/m.test(status.stdout),
  main,
  cleanup,
});
