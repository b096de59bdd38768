// RPC throughput benchmark: virtwire vs python3-libvirt (libvirt's C client) against the same
// real libvirtd (host A of scripts/test-hosts.sh, qemu+tcp).
//
//   npx tsx bench/rpc.ts            # table (about 3 minutes with the defaults)
//   npx tsx bench/rpc.ts --json     # machine-readable results on stdout, progress on stderr
//   npx tsx bench/rpc.ts --rounds=5 --duration-ms=3000 --warmup-ms=500 --guest=inactive  (defaults)
//
// Cells: connectGetLibVersion and domainGetInfo at concurrency 1 and 16.
// - virtwire: ONE connection; concurrency N = N async workers issuing calls back to back on it
//   (pipelined on one socket).
// - python3-libvirt (bench/rpc_baseline.py, /usr/bin/python3): N threads sharing ONE virConnect
//   (the C client multiplexes their calls on one socket); at concurrency 16 also 16 threads with
//   16 connections, as a second baseline row (no target).
// Each run: warm-up, then the calls completed in a fixed window are counted. The two clients run
// alternately, cell by cell, for --rounds rounds (the order flips every round); each calls/s
// figure is the median round, the ratio the median of the per-round virtwire/python ratios.
// Targets: ratio >= 1.0x at concurrency 1, >= 1.5x at 16. Exits 0 whatever the ratios (it is a
// report); 1 if anything errors.
//
// The domain `bench-rpc` is defined from VIRTWIRE_GUEST_XML for domainGetInfo (inactive by
// default; --guest=running starts it, and the TCG guest then keeps one host core busy) and is
// destroyed and undefined at the end, also on failure or Ctrl-C. If `test-hosts.sh status` fails
// (and host A is not up) the bench runs `test-hosts.sh up` and, at the end, `down`; hosts it
// found up stay up.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchWithHosts } from '../scripts/lib/harness.js';
import {
  encodeRemoteConnectOpenArgs,
  REMOTE_PROGRAM,
  REMOTE_PROTOCOL_VERSION,
  RemoteProcedure,
} from '../src/generated/remote.js';
import { type Connection, connect, type Domain, isNoDomain } from '../src/index.js';
import { XdrWriter } from '../src/xdr/index.js';

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
const known = ['json', 'rounds', 'duration-ms', 'warmup-ms', 'guest', 'uri', 'no-per-conn'];
for (const a of argv) {
  const name = a.replace(/^--/, '').split('=')[0]!;
  if (!a.startsWith('--') || !known.includes(name)) {
    process.stderr.write(
      `unknown argument ${a}\nusage: npx tsx bench/rpc.ts [--json] [--rounds=N] ` +
        '[--duration-ms=MS] [--warmup-ms=MS] [--guest=inactive|running] [--uri=URI] [--no-per-conn]\n',
    );
    process.exit(2);
  }
}
const JSON_OUT = argv.includes('--json');
const ROUNDS = Math.max(3, Math.floor(numOpt('rounds', 5)));
const DURATION_MS = numOpt('duration-ms', 3000);
const WARMUP_MS = numOpt('warmup-ms', 500);
const GUEST = opt('guest') ?? 'inactive';
if (GUEST !== 'inactive' && GUEST !== 'running') throw new Error(`bad --guest=${GUEST}`);
const PER_CONN = !argv.includes('--no-per-conn');
const DOMAIN_NAME = 'bench-rpc';
const PYTHON = '/usr/bin/python3';
const CONCURRENCY = [1, 16] as const;
const TARGET: Record<number, number> = { 1: 1.0, 16: 1.5 };

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BASELINE = join(ROOT, 'bench', 'rpc_baseline.py');

/** Progress and notes go to stderr in --json mode so stdout stays parseable. */
const log = JSON_OUT
  ? (s: string) => process.stderr.write(`${s}\n`)
  : (s: string) => process.stdout.write(`${s}\n`);

// ---------------------------------------------------------------------------
// Hosts, environment, domain

/** The daemon settings that bound concurrency, as written in libvirtd.conf. */
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

/** [name, utime + stime in seconds] from a /proc/<pid>[/task/<tid>]/stat file; throws if unreadable. */
function readStatCpu(path: string): [string, number] {
  const stat = readFileSync(path, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
  return [name, (Number(f[11]) + Number(f[12])) / 100]; // CLK_TCK is 100 on Linux
}

/** utime + stime of a process in seconds (from /proc), or null. */
function procCpuSec(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    return readStatCpu(`/proc/${pid}/stat`)[1];
  } catch {
    return null;
  }
}

/** CPU seconds all CPUs spent not idle, from /proc/stat (null if unreadable). */
function machineBusySec(): number | null {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.split(/\s+/).slice(1, 9);
    const [user, nice, system, , , irq, softirq, steal] = f.map(Number) as number[];
    return (user! + nice! + system! + irq! + softirq! + steal!) / 100;
  } catch {
    return null;
  }
}

/** CPU seconds per thread of `pid`, by thread id, with the thread's name (null if unreadable). */
function threadCpuSec(pid: number | null): Map<string, [string, number]> | null {
  if (pid === null) return null;
  const out = new Map<string, [string, number]>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return null;
  }
  for (const tid of tids) {
    try {
      out.set(tid, readStatCpu(`/proc/${pid}/task/${tid}/stat`));
    } catch {
      // the thread ended
    }
  }
  return out;
}

/** [name, CPU seconds] of the thread that used the most CPU between two samples. */
function busiestThread(
  before: Map<string, [string, number]> | null,
  after: Map<string, [string, number]> | null,
): [string, number] | null {
  if (before === null || after === null) return null;
  let best: [string, number] | null = null;
  for (const [tid, [name, sec]] of after) {
    const used = sec - (before.get(tid)?.[1] ?? 0);
    if (best === null || used > best[1]) best = [name, used];
  }
  return best;
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
// Measurements

interface Run {
  readonly callsPerSec: number;
  readonly calls: number;
  readonly seconds: number;
  /** Client CPU seconds over the counted window (all threads). */
  readonly clientCpuSec: number;
  /** libvirtd CPU seconds over the counted window, null if /proc was unreadable. */
  readonly daemonCpuSec: number | null;
  /** CPU seconds the whole machine spent busy over the window (all CPUs), or null. */
  readonly machineBusySec: number | null;
  /** libvirtd's busiest thread over the window: [name, CPU seconds], or null. */
  readonly daemonBusiestThread: [string, number] | null;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Waits out the warm-up, then counts `done()` over the timed window with the
 * CPU figures of this process, libvirtd, its busiest thread and the machine.
 */
async function measureWindow(done: () => number, pid: number | null): Promise<Run> {
  await sleep(WARMUP_MS);
  const d0 = procCpuSec(pid);
  const th0 = threadCpuSec(pid);
  const m0 = machineBusySec();
  const u0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const c0 = done();
  await sleep(DURATION_MS);
  const c1 = done();
  const t1 = process.hrtime.bigint();
  const u1 = process.cpuUsage(u0);
  const m1 = machineBusySec();
  const th1 = threadCpuSec(pid);
  const d1 = procCpuSec(pid);
  const seconds = Number(t1 - t0) / 1e9;
  return {
    callsPerSec: (c1 - c0) / seconds,
    calls: c1 - c0,
    seconds,
    clientCpuSec: (u1.user + u1.system) / 1e6,
    daemonCpuSec: d0 === null || d1 === null ? null : d1 - d0,
    machineBusySec: m0 === null || m1 === null ? null : m1 - m0,
    daemonBusiestThread: busiestThread(th0, th1),
  };
}

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
  const run = await measureWindow(() => done, pid);
  stop = true;
  await Promise.all(workers);
  if (failure) throw failure;
  return run;
}

/** One call of the remote program, its body given as XDR bytes, as bytes. */
function bareMessage(proc: number, serial: number, body: Uint8Array = new Uint8Array(0)): Buffer {
  const b = Buffer.alloc(28 + body.length);
  b.writeUInt32BE(b.length, 0);
  b.writeUInt32BE(REMOTE_PROGRAM, 4);
  b.writeUInt32BE(REMOTE_PROTOCOL_VERSION, 8);
  b.writeInt32BE(proc, 12);
  b.writeInt32BE(0, 16); // CALL
  b.writeUInt32BE(serial, 20);
  b.writeInt32BE(0, 24); // OK
  b.set(body, 28);
  return b;
}

/**
 * The floor of any Node.js client: a bare net.Socket to the same daemon that
 * writes pre-encoded connectGetLibVersion calls (as many in flight as `conc`,
 * the calls answering one read going out in one write) and only counts the
 * replies by their length words, decoding nothing. Not a client (no serial
 * routing, no errors): it shows what Node's socket I/O alone costs per call.
 */
async function runBareSocket(
  host: string,
  port: number,
  name: string,
  conc: number,
  pid: number | null,
) {
  const sock: Socket = netConnect({ host, port, noDelay: true });
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    let onReply: (status: number) => void = () => {};
    let acc: Buffer = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      acc = acc.length === 0 ? d : Buffer.concat([acc, d]);
      while (acc.length >= 28 && acc.length >= acc.readUInt32BE(0)) {
        const status = acc.readInt32BE(24);
        acc = acc.subarray(acc.readUInt32BE(0));
        onReply(status);
      }
    });
    const once = (b: Buffer) =>
      new Promise<void>((resolve, reject) => {
        onReply = (status) =>
          status === 0 ? resolve() : reject(new Error(`bare call ${b.readInt32BE(12)} failed`));
        sock.write(b);
      });
    await once(bareMessage(RemoteProcedure.REMOTE_PROC_AUTH_LIST, 1));
    const w = new XdrWriter();
    encodeRemoteConnectOpenArgs(w, { name, flags: 0 });
    await once(bareMessage(RemoteProcedure.REMOTE_PROC_CONNECT_OPEN, 2, w.finish()));
    const call = bareMessage(RemoteProcedure.REMOTE_PROC_CONNECT_GET_LIB_VERSION, 3); // serials may repeat
    let done = 0;
    let owed = 0;
    let failed = false;
    const flush = () => {
      const n = owed;
      owed = 0;
      sock.write(n === 1 ? call : Buffer.concat(Array.from({ length: n }, () => call)));
    };
    onReply = (status) => {
      if (status !== 0) failed = true;
      done++;
      if (owed++ === 0) process.nextTick(flush);
    };
    sock.write(Buffer.concat(Array.from({ length: conc }, () => call)));
    const run = await measureWindow(() => done, pid);
    if (failed) throw new Error('a bare connectGetLibVersion call failed');
    return run;
  } finally {
    sock.destroy();
  }
}

let child: ChildProcess | null = null;

/** One bench/rpc_baseline.py run; its JSON line on stdout. */
function runPython(
  uri: string,
  proc: string,
  threads: number,
  connections: number,
  pid: number | null,
): Promise<Run> {
  const args = [
    BASELINE,
    `--uri=${uri}`,
    `--proc=${proc}`,
    `--threads=${threads}`,
    `--connections=${connections}`,
    `--warmup=${WARMUP_MS / 1000}`,
    `--duration=${DURATION_MS / 1000}`,
    `--domain=${DOMAIN_NAME}`,
  ];
  if (pid !== null) args.push(`--daemon-pid=${pid}`);
  return new Promise((resolve, reject) => {
    const c = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    let out = '';
    let err = '';
    c.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s;
    });
    c.stderr.setEncoding('utf8').on('data', (s: string) => {
      err += s;
    });
    c.on('error', reject);
    c.on('close', (code, signal) => {
      child = null;
      let r: (Run & { errors?: string[] }) | null = null;
      try {
        r = JSON.parse(out.trim().split('\n').pop() ?? '');
      } catch {
        // reported below
      }
      if (code !== 0 || !r) {
        const why = r?.errors?.length ? r.errors.join('; ') : err.trim() || out.trim();
        reject(
          new Error(
            `${PYTHON} ${args.slice(1).join(' ')} failed (${signal ?? `exit ${code}`}): ${why}`,
          ),
        );
        return;
      }
      resolve(r);
    });
  });
}

// ---------------------------------------------------------------------------
// Statistics and output

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Median of `pick` over the rounds, null if any round lacks it. */
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
  return median(xs);
}

interface Row {
  readonly procedure: string;
  readonly concurrency: number;
  /** python3-libvirt connections (threads = concurrency); virtwire always uses one. */
  readonly pythonConnections: number;
  readonly virtwire: Run[];
  readonly python: Run[];
  /** runBareSocket() runs (connectGetLibVersion over tcp only; shared by the cell's rows). */
  readonly bare: Run[];
}

function summarize(row: Row) {
  const ratios = row.virtwire.map((v, i) => v.callsPerSec / row.python[i]!.callsPerSec);
  const ratio = median(ratios);
  const target = row.pythonConnections === 1 ? TARGET[row.concurrency]! : null;
  const side = (runs: Run[]) => ({
    callsPerSec: median(runs.map((r) => r.callsPerSec)),
    rounds: runs.map((r) => Math.round(r.callsPerSec)),
    clientCpuUsPerCall: usPerCall(runs, (r) => r.clientCpuSec),
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
  });
  const py = side(row.python);
  // The CPU time a call may take in all, client and libvirtd together, if the target rate
  // is to fit on this machine's CPUs; minus what libvirtd took per call: the client's share.
  const budget =
    target === null || py.daemonCpuUsPerCall === null
      ? null
      : (cpus().length * 1e6) / (target * py.callsPerSec) - py.daemonCpuUsPerCall;
  return {
    procedure: row.procedure,
    concurrency: row.concurrency,
    pythonConnections: row.pythonConnections,
    virtwire: side(row.virtwire),
    python: py,
    bare: row.bare.length === 0 ? null : side(row.bare),
    clientBudgetUsPerCall: budget,
    ratio,
    roundRatios: ratios,
    target,
    pass: target === null ? null : ratio >= target,
  };
}

const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
const fmtUs = (n: number | null) => (n === null ? '-' : n.toFixed(0));

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

function printTable(rows: ReturnType<typeof summarize>[]): void {
  const conc = (r: (typeof rows)[number]) =>
    r.pythonConnections === 1 ? String(r.concurrency) : `${r.concurrency}*`;
  printColumns(
    [
      'procedure',
      'conc',
      'virtwire calls/s',
      'python3-libvirt calls/s',
      'ratio',
      'rounds',
      'target',
    ],
    rows.map((r) => [
      r.procedure,
      conc(r),
      fmtInt(r.virtwire.callsPerSec),
      fmtInt(r.python.callsPerSec),
      `${r.ratio.toFixed(2)}x`,
      `${Math.min(...r.roundRatios).toFixed(2)}-${Math.max(...r.roundRatios).toFixed(2)}`,
      r.target === null ? 'info' : `>=${r.target.toFixed(1)}x ${r.pass ? 'PASS' : 'FAIL'}`,
    ]),
  );
  log(
    'calls/s: median round. ratio: median of the per-round virtwire/python ratios; rounds: their range.',
  );
  if (rows.some((r) => r.pythonConnections !== 1)) {
    log('* python3-libvirt with one connection per thread (16 sockets); virtwire still uses one.');
  }
  log('');
  log(
    'CPU microseconds per call (median round), client / libvirtd; steadier than calls/s on a busy host:',
  );
  const pct = (x: number | null) => (x === null ? '-' : `${Math.round(x * 100)}%`);
  printColumns(
    ['procedure', 'conc', 'virtwire', 'python3-libvirt', 'bare net.Socket'],
    rows.map((r) => [
      r.procedure,
      conc(r),
      `${fmtUs(r.virtwire.clientCpuUsPerCall)} / ${fmtUs(r.virtwire.daemonCpuUsPerCall)}`,
      `${fmtUs(r.python.clientCpuUsPerCall)} / ${fmtUs(r.python.daemonCpuUsPerCall)}`,
      r.bare === null
        ? '-'
        : `${fmtUs(r.bare.clientCpuUsPerCall)} / ${fmtUs(r.bare.daemonCpuUsPerCall)}`,
    ]),
  );
  const bareRates = rows
    .filter((r) => r.bare !== null && r.pythonConnections === 1)
    .map((r) => `c=${r.concurrency} ${fmtInt(r.bare!.callsPerSec)} calls/s`);
  if (bareRates.length > 0) {
    log(
      'bare net.Socket: pre-encoded calls on a plain socket, replies only counted (no RPC client at',
    );
    log(`all), the floor of Node's socket I/O: ${bareRates.join(', ')}.`);
  }
  log('');
  log(
    "Where the CPU went (median round): all CPUs busy, and libvirtd's busiest thread (of one CPU):",
  );
  printColumns(
    [
      'procedure',
      'conc',
      'busy: virtwire',
      'python3-libvirt',
      'libvirtd thread: virtwire',
      'python3-libvirt',
    ],
    rows.map((r) => [
      r.procedure,
      conc(r),
      pct(r.virtwire.machineBusy),
      pct(r.python.machineBusy),
      `${pct(r.virtwire.daemonBusiestThread.busy)} ${r.virtwire.daemonBusiestThread.name ?? ''}`,
      `${pct(r.python.daemonBusiestThread.busy)} ${r.python.daemonBusiestThread.name ?? ''}`,
    ]),
  );
  const budgets = rows.filter((r) => r.clientBudgetUsPerCall !== null && r.target !== null);
  if (budgets.length > 0) {
    log('');
    log(
      `CPU budget of each target on these ${cpus().length} CPUs: (CPUs / (target x python calls/s)) - libvirtd's CPU per call`,
    );
    log('is what a client may spend per call for the target rate to fit at all:');
    printColumns(
      [
        'procedure',
        'conc',
        'target calls/s',
        'client budget',
        'virtwire uses',
        'bare net.Socket uses',
      ],
      budgets.map((r) => [
        r.procedure,
        conc(r),
        fmtInt(r.target! * r.python.callsPerSec),
        `${fmtUs(r.clientBudgetUsPerCall)} us`,
        `${fmtUs(r.virtwire.clientCpuUsPerCall)} us`,
        r.bare === null ? '-' : `${fmtUs(r.bare.clientCpuUsPerCall)} us`,
      ]),
    );
  }
}

// ---------------------------------------------------------------------------
// Main

let admin: Connection | null = null;
let bench: Connection | null = null;
let domainDefined = false;

/** Stops the baseline child, removes the domain, closes the connections. */
async function cleanup(): Promise<void> {
  child?.kill('SIGTERM');
  try {
    await bench?.close();
  } catch {
    // best effort
  }
  if (domainDefined && admin?.isOpen) {
    try {
      await removeDomain(admin, DOMAIN_NAME);
      log(`removed domain ${DOMAIN_NAME}`);
    } catch (err) {
      process.stderr.write(
        `warning: could not remove domain ${DOMAIN_NAME}: ${(err as Error).message}\n`,
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
  const uri = opt('uri') ?? env.VIRTWIRE_HOST_A_TCP;
  const guestXmlPath = env.VIRTWIRE_GUEST_XML;
  const hostsDir = env.VIRTWIRE_HOSTS_DIR;
  if (!uri || !guestXmlPath || !hostsDir) throw new Error('test-hosts.sh env is incomplete');
  const pid = daemonPid(hostsDir);
  const config = daemonConfig(hostsDir);

  const py = spawnSync(PYTHON, ['-c', 'import libvirt; print(libvirt.getVersion())'], {
    encoding: 'utf8',
  });
  if (py.status !== 0) throw new Error(`${PYTHON} cannot import libvirt: ${py.stderr}`);
  const pyLibvirt = Number(py.stdout.trim());

  admin = await connect(uri);
  const daemonVersion = Number((await admin.remote.connectGetLibVersion()).libVer);
  if (await removeDomain(admin, DOMAIN_NAME)) log(`removed a leftover domain ${DOMAIN_NAME}`);
  const xml = readFileSync(guestXmlPath, 'utf8').replace(
    /<name>[^<]*<\/name>/,
    `<name>${DOMAIN_NAME}</name>`,
  );
  domainDefined = true; // from here on cleanup() tries to remove it
  const defined = await admin.domainDefineXML(xml);
  if (GUEST === 'running') await defined.createWithFlags();

  bench = await connect(uri);
  const dom = (await bench.lookupDomain(DOMAIN_NAME)).wire;
  const remote = bench.remote;
  const procs: Record<string, () => Promise<unknown>> = {
    connectGetLibVersion: () => remote.connectGetLibVersion(),
    domainGetInfo: () => remote.domainGetInfo({ dom }),
  };
  const info = await remote.domainGetInfo({ dom });

  const vstr = (v: number) => `${Math.floor(v / 1e6)}.${Math.floor(v / 1e3) % 1e3}.${v % 1e3}`;
  const environment = {
    uri,
    daemonLibvirt: vstr(daemonVersion),
    pythonLibvirt: vstr(pyLibvirt),
    node: process.version,
    cpus: cpus().length,
    loadavgAtStart: loadavg().map((x) => Number(x.toFixed(2))),
    loadavgAtEnd: [] as number[],
    daemonConfig: config,
    daemonPid: pid,
    guest: GUEST,
    guestInfo: { state: info.state, cpuTimeNs: String(info.cpuTime) },
  };
  log(
    `libvirtd ${environment.daemonLibvirt} at ${uri} (pid ${pid ?? '?'}; ` +
      Object.entries(config)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ') +
      `); python3-libvirt ${environment.pythonLibvirt}; node ${process.version}; ` +
      `${environment.cpus} CPUs, load ${environment.loadavgAtStart.join(' ')}`,
  );
  log(
    `domain ${DOMAIN_NAME}: ${GUEST} (state ${info.state}); ${ROUNDS} rounds of ` +
      `${WARMUP_MS} ms warm-up + ${DURATION_MS} ms counted per run`,
  );
  if (environment.loadavgAtStart[0]! > environment.cpus / 2) {
    log(
      `note: load average ${environment.loadavgAtStart[0]} on ${environment.cpus} CPUs: ` +
        'other work competes with the daemon and both clients; expect noisy calls/s',
    );
  }
  const maxReq = config.max_client_requests;
  if (maxReq !== undefined && maxReq < Math.max(...CONCURRENCY)) {
    log(`warning: max_client_requests=${maxReq} caps the calls in flight per connection`);
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

  const rows: Row[] = [];
  for (const procedure of Object.keys(procs)) {
    for (const conc of CONCURRENCY) {
      rows.push({
        procedure,
        concurrency: conc,
        pythonConnections: 1,
        virtwire: [],
        python: [],
        bare: [],
      });
      if (conc > 1 && PER_CONN) {
        rows.push({
          procedure,
          concurrency: conc,
          pythonConnections: conc,
          virtwire: [],
          python: [],
          bare: [],
        });
      }
    }
  }

  for (let round = 0; round < ROUNDS; round++) {
    log(`round ${round + 1}/${ROUNDS}`);
    for (const procedure of Object.keys(procs)) {
      for (const conc of CONCURRENCY) {
        const cellRows = rows.filter((r) => r.procedure === procedure && r.concurrency === conc);
        // one virtwire run per cell, paired with every python variant of the cell
        const steps: (() => Promise<void>)[] = [
          async () => {
            const r = await runVirtwire(procs[procedure]!, conc, pid);
            for (const row of cellRows) row.virtwire.push(r);
            log(`  ${procedure} c=${conc} virtwire: ${fmtInt(r.callsPerSec)} calls/s`);
          },
          ...(bareTarget !== null && procedure === 'connectGetLibVersion'
            ? [
                async () => {
                  const r = await runBareSocket(
                    bareTarget.host,
                    bareTarget.port,
                    bareTarget.name,
                    conc,
                    pid,
                  );
                  for (const row of cellRows) row.bare.push(r);
                  log(`  ${procedure} c=${conc} bare net.Socket: ${fmtInt(r.callsPerSec)} calls/s`);
                },
              ]
            : []),
          ...cellRows.map((row) => async () => {
            const r = await runPython(uri, procedure, conc, row.pythonConnections, pid);
            row.python.push(r);
            log(
              `  ${procedure} c=${conc} python3-libvirt (${row.pythonConnections} conn): ` +
                `${fmtInt(r.callsPerSec)} calls/s`,
            );
          }),
        ];
        if (round % 2 === 1) steps.reverse();
        for (const step of steps) await step();
      }
    }
  }

  environment.loadavgAtEnd = loadavg().map((x) => Number(x.toFixed(2)));
  const results = rows.map(summarize);
  const allPass = results.every((r) => r.pass !== false);
  if (JSON_OUT) {
    const options = { rounds: ROUNDS, durationMs: DURATION_MS, warmupMs: WARMUP_MS };
    process.stdout.write(
      `${JSON.stringify({ environment, options, results, allPass }, null, 2)}\n`,
    );
  } else {
    log('');
    printTable(results);
    log('');
    log(
      `load average at the end: ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );
    log(`targets (>= 1.0x at concurrency 1, >= 1.5x at 16): ${allPass ? 'PASS' : 'FAIL'}`);
  }
}

await benchWithHosts({
  log,
  // Only host A is needed: if it answers, never run up/down over the others' hosts.
  hostsUp: (status) => status.ok || /^host A: up/m.test(status.stdout),
  main,
  cleanup,
});
