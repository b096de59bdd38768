// Post-copy live migration benchmark: virsh vs virtwire, the same migration of the same guest
// between the two real libvirt hosts of scripts/test-hosts.sh (A -> B, qemu+tcp).
//
//   npx tsx bench/migrate.ts          # table (about 3 minutes with the defaults)
//   npx tsx bench/migrate.ts --json   # machine-readable results on stdout, progress on stderr
//   npx tsx bench/migrate.ts --rounds=7 --bandwidth=20 --postcopy-bandwidth=200 --settle-ms=2000
//                                     (defaults; --rounds is at least 4)
//
// Each round migrates the guest `bench-mig` (VIRTWIRE_GUEST_XML: a multiboot kernel dirtying
// 46 MiB continuously, so pre-copy at 20 MiB/s never converges) from A to B twice, first with
//   virsh -c A migrate --live --postcopy --postcopy-after-precopy --bandwidth N
//         --postcopy-bandwidth M bench-mig B                     (timed from spawn to exit)
// then with
//   dom.migrate(b, { live, postcopy, bandwidth: N, postcopyBandwidth: M,
//                    postcopyPolicy: 'after-precopy' })           (timed from the call to `done`)
// on connections opened beforehand. Both switch to post-copy on the MIGRATION_ITERATION event of
// iteration 2 (the end of the first pass). The guest is persistent on A; before every migration
// it is started on A and left to run --settle-ms, and afterwards destroyed on B (where it is
// transient), so both tools do identical work: same direction, same guest age, same bandwidths.
// Only one guest is alive at a time.
//
// Every migration is verified after its timing: the completed job on A (`virsh domjobinfo
// --completed`, kept because the domain stays defined there) and the JOB_COMPLETED event must
// show post-copy requests > 0 (virtwire: also its own stats.memoryPostcopyRequests), A must have
// sent suspended/postcopy, and the guest must be running on B with its memory counter moving, and
// shut off on A.
//
// Output: per-round wall times, median per tool, the ratio of the medians virtwire/virsh
// (target <= 1.05x), and virtwire's switch latency, iteration event -> START_POST_COPY reply
// (postcopySwitch.repliedAt - triggeredAt; target median < 10 ms). Two side connections (one per
// host, open for the whole run, for both tools) record the migration's events, which gives the
// same timeline for both tools; virtwire's own RPCs are timed too (subscribing to the
// `virtwire:rpc:call` tracing channel for its two connections), to say where its time goes. Rounds whose switch
// came a whole pre-copy pass late (QEMU's MIGRATION_PASS events; virsh's libvirt client can hold
// START_POST_COPY back until the next incoming message) are marked LATE, and the ratio is also
// given over the rounds where both tools switched after the first pass.
// Exits 0 whatever the targets (it is a report); 1 if anything errors or a migration fails its
// verification. The guest is destroyed and undefined on both hosts at the end, also on failure or
// Ctrl-C. If `test-hosts.sh status` fails the bench runs `up`, and `down` at the end.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { benchWithHosts } from '../scripts/lib/harness.js';
import { callChannel, type RpcCallMessage } from '../src/diagnostics.js';
import type { RemoteNonnullDomain } from '../src/generated/remote.js';
import {
  type Connection,
  connect,
  isNoDomain,
  type JobStats,
  type Migration,
  type QemuMonitorEvent,
  type TypedValue,
} from '../src/index.js';

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
  if (!Number.isFinite(n) || n < 0) throw new Error(`bad --${name}=${v}`);
  return n;
}
const known = ['json', 'rounds', 'bandwidth', 'postcopy-bandwidth', 'settle-ms'];
for (const a of argv) {
  const name = a.replace(/^--/, '').split('=')[0]!;
  if (!a.startsWith('--') || !known.includes(name)) {
    process.stderr.write(
      `unknown argument ${a}\nusage: npx tsx bench/migrate.ts [--json] [--rounds=N] ` +
        '[--bandwidth=MiBps] [--postcopy-bandwidth=MiBps] [--settle-ms=MS]\n',
    );
    process.exit(2);
  }
}
const JSON_OUT = argv.includes('--json');
const ROUNDS = Math.max(4, Math.floor(numOpt('rounds', 7)));
const BANDWIDTH = Math.floor(numOpt('bandwidth', 20));
const POSTCOPY_BANDWIDTH = Math.floor(numOpt('postcopy-bandwidth', 200));
const SETTLE_MS = numOpt('settle-ms', 2000);
const NAME = 'bench-mig';
const RATIO_TARGET = 1.05;
const SWITCH_TARGET_MS = 10;

const log = JSON_OUT
  ? (s: string) => process.stderr.write(`${s}\n`)
  : (s: string) => process.stdout.write(`${s}\n`);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------
// Hosts and environment

// ---------------------------------------------------------------------------
// virsh

let child: ChildProcess | null = null;

interface Proc {
  readonly code: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  /** performance.now() ms from spawn() to the process's exit. */
  readonly ms: number;
}

function run(cmd: string, args: readonly string[]): Promise<Proc> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    let exited: { code: number | null; signal: string | null; at: number } | null = null;
    const t0 = performance.now();
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    c.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
    });
    c.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    c.on('error', reject);
    c.on('exit', (code, signal) => {
      exited = { code, signal, at: performance.now() };
    });
    c.on('close', () => {
      child = null;
      const e = exited ?? { code: c.exitCode, signal: c.signalCode, at: performance.now() };
      resolve({ code: e.code, signal: e.signal, stdout, stderr, ms: e.at - t0 });
    });
  });
}

async function virsh(uri: string, ...args: string[]): Promise<Proc> {
  const r = await run('virsh', ['-c', uri, ...args]);
  if (r.code !== 0) {
    throw new Error(
      `virsh -c ${uri} ${args.join(' ')} failed (${r.signal ?? `exit ${r.code}`}): ` +
        (r.stderr.trim() || r.stdout.trim()),
    );
  }
  return r;
}

/** `virsh domjobinfo --completed` as field -> text. */
function parseJobInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([^:]+):\s+(.*?)\s*$/.exec(line);
    if (m) out[m[1]!.trim()] = m[2]!;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Observation: the migration's events as a third party sees them, for both tools

interface Seen {
  /** ms since the round's start */
  readonly t: number;
  readonly host: 'A' | 'B';
  readonly what: string;
  readonly stats?: Record<string, TypedValue>;
}

let seen: Seen[] | null = null;
let roundStart = 0;

/** Starts recording the guest's events on `conn`; resolves once the daemon registered them. */
async function observe(conn: Connection, host: 'A' | 'B'): Promise<void> {
  const pump = async <T extends { readonly domain: { readonly name: string } }>(
    sub: AsyncIterable<T>,
    describe: (e: T) => Omit<Seen, 'host' | 't'> & { readonly epochMs?: number },
  ): Promise<void> => {
    try {
      for await (const e of sub) {
        const t = performance.now();
        if (!seen || e.domain.name !== NAME) continue;
        const { epochMs, ...d } = describe(e);
        // QMP events carry QEMU's own timestamp (wall clock): place them by it
        const at = epochMs === undefined ? t - roundStart : epochMs - epochOf(roundStart);
        seen.push({ t: at, host, ...d });
      }
    } catch {
      // the connection closed: the end of the run
    }
  };
  const lc = conn.events.domain('lifecycle');
  const it = conn.events.domain('migration_iteration');
  const jc = conn.events.domain('job_completed');
  const qm = conn.events.qemuMonitor({ event: 'MIGRATION' });
  const qp = conn.events.qemuMonitor({ event: 'MIGRATION_PASS' });
  const qmp = (e: QemuMonitorEvent) => {
    let data: Record<string, unknown> = {};
    try {
      data = JSON.parse(e.details ?? '{}') as Record<string, unknown>;
    } catch {
      // keep it empty
    }
    const arg = e.event === 'MIGRATION' ? data.status : data.pass;
    return {
      what: `qmp ${e.event} ${String(arg)}`,
      epochMs: Number(e.seconds) * 1000 + e.micros / 1000,
    };
  };
  void pump(lc, (e) => ({ what: `${e.event}/${e.detail}` }));
  void pump(it, (e) => ({ what: `iteration ${e.iteration}` }));
  void pump(jc, (e) => ({ what: 'job_completed', stats: e.stats }));
  void pump(qm, qmp);
  void pump(qp, qmp);
  await Promise.all([lc.ready, it.ready, jc.ready, qm.ready, qp.ready]);
}

/** performance.now() ms as wall-clock epoch ms (QEMU stamps its events with the wall clock). */
const epochOf = (perfMs: number) => performance.timeOrigin + perfMs;

const firstAt = (log: readonly Seen[], host: 'A' | 'B', what: string): number | null =>
  log.find((s) => s.host === host && s.what === what)?.t ?? null;

/** The common milestones, ms from the start of the round (null: not seen). */
function timeline(log: readonly Seen[], endMs: number) {
  return {
    /** B: the incoming QEMU is up (Prepare) */
    destStarted: firstAt(log, 'B', 'started/migrated'),
    /** A's QEMU: first pass done (QEMU's timestamp) */
    qemuPass2: firstAt(log, 'A', 'qmp MIGRATION_PASS 2'),
    /** A: libvirt's MIGRATION_ITERATION 2 event, as the side connection got it */
    iteration2: firstAt(log, 'A', 'iteration 2'),
    /** A's QEMU: switched to post-copy (QEMU's timestamp) */
    qemuPostcopyActive: firstAt(log, 'A', 'qmp MIGRATION postcopy-active'),
    srcSuspendedPostcopy: firstAt(log, 'A', 'suspended/postcopy'),
    destResumedPostcopy: firstAt(log, 'B', 'resumed/postcopy'),
    /** A's QEMU: all memory sent (QEMU's timestamp) */
    qemuCompleted: firstAt(log, 'A', 'qmp MIGRATION completed'),
    destResumedMigrated: firstAt(log, 'B', 'resumed/migrated'),
    srcStopped: firstAt(log, 'A', 'stopped/migrated'),
    jobCompleted: firstAt(log, 'A', 'job_completed'),
    end: endMs,
  };
}
type Timeline = ReturnType<typeof timeline>;

/** The last MIGRATION_PASS on A stamped (by QEMU) at least 5 ms before postcopy-active. */
function switchedInPass(log: readonly Seen[]): number | null {
  const active = firstAt(log, 'A', 'qmp MIGRATION postcopy-active');
  if (active === null) return null;
  let pass: number | null = null;
  for (const e of log) {
    const m = /^qmp MIGRATION_PASS (\d+)$/.exec(e.what);
    if (e.host === 'A' && m && e.t < active - 5) pass = Math.max(pass ?? 0, Number(m[1]));
  }
  return pass;
}

const diff = (a: number | null, b: number | null) => (a === null || b === null ? null : a - b);

/** Intervals both tools can be compared on, ms. */
function intervals(t: Timeline) {
  return {
    /** client start-up, Begin, Prepare (QEMU start on B) */
    'start -> B QEMU started': t.destStarted,
    'B QEMU started -> iteration 2 event': diff(t.iteration2, t.destStarted),
    /** the switch as QEMU sees it: end of pass 1 -> postcopy-active, both QEMU timestamps */
    'QEMU pass 2 -> QEMU postcopy-active': diff(t.qemuPostcopyActive, t.qemuPass2),
    'iteration 2 event -> A suspended/postcopy event': diff(t.srcSuspendedPostcopy, t.iteration2),
    'A suspended/postcopy -> QEMU completed': diff(t.qemuCompleted, t.srcSuspendedPostcopy),
    /** Finish on B, Confirm on A (libvirt stops the source QEMU) */
    'QEMU completed -> JOB_COMPLETED': diff(t.jobCompleted, t.qemuCompleted),
    /** what the tool does after the source's job has ended */
    'JOB_COMPLETED -> tool done': diff(t.end, t.jobCompleted),
    total: t.end,
  };
}
type Intervals = ReturnType<typeof intervals>;

// ---------------------------------------------------------------------------
// virtwire's RPCs, timed

interface Span {
  readonly host: 'A' | 'B';
  readonly label: string;
  /** ms since the round's start */
  readonly start: number;
  readonly end: number;
  readonly ok: boolean;
}

let spans: Span[] | null = null;

/**
 * Times every call of the connection (event registrations included) through
 * the `virtwire:rpc:call` tracing channel: `start` when it is queued,
 * `asyncEnd` when its reply has been handled.
 */
function traceRpc(conn: Connection, host: 'A' | 'B'): void {
  const id = conn.rpc.id;
  // each call lands in the spans of the round it started in
  const started = new WeakMap<RpcCallMessage, { rec: Span[]; start: number }>();
  const ignore = (): void => {};
  callChannel.subscribe({
    start: (m) => {
      if (m.connectionId === id && spans) {
        started.set(m, { rec: spans, start: performance.now() - roundStart });
      }
    },
    asyncEnd: (m) => {
      const s = started.get(m);
      if (s === undefined) return;
      const label = `${m.program}.${m.procedure}`;
      const end = performance.now() - roundStart;
      s.rec.push({ host, label, start: s.start, end, ok: !('error' in m) });
    },
    end: ignore,
    asyncStart: ignore,
    error: ignore,
  });
}

/** Where virtwire's time went, ms: from the call to Begin, each phase's RPC, and after Confirm. */
function phases(sp: readonly Span[], endMs: number, ownJobCompleted: number | null) {
  const find = (re: RegExp) => sp.find((s) => re.test(s.label)) ?? null;
  const begin = find(/MIGRATE_BEGIN3/);
  const prepare = find(/MIGRATE_PREPARE3/);
  const perform = find(/MIGRATE_PERFORM3/);
  const finish = find(/MIGRATE_FINISH3/);
  const confirm = find(/MIGRATE_CONFIRM3/);
  const post = find(/MIGRATE_START_POST_COPY/);
  const dur = (s: Span | null) => (s ? s.end - s.start : null);
  const dereg = sp.filter((s) => /DEREGISTER/.test(s.label) && confirm && s.start >= confirm.end);
  const trivial = sp
    .filter((s) => /GET_STATE|SUPPORTS_FEATURE/.test(s.label))
    .map((s) => s.end - s.start);
  return {
    /** event registrations and feature probes before Begin */
    setup: begin ? begin.start : null,
    begin: dur(begin),
    /** GET_STATE between Begin and Prepare */
    betweenBeginPrepare: begin && prepare ? prepare.start - begin.end : null,
    prepare: dur(prepare),
    perform: dur(perform),
    finish: dur(finish),
    confirm: dur(confirm),
    /** final stats and event deregistration, after Confirm's reply */
    afterConfirm: confirm ? endMs - confirm.end : null,
    /** JOB_COMPLETED on virtwire's own connection, after Confirm's reply (Migration.finalStats waits for it) */
    jobCompletedAfterConfirm: confirm ? diff(ownJobCompleted, confirm.end) : null,
    /** the event deregistrations `done` waits for, after Confirm's reply */
    deregisterAfterConfirm:
      confirm && dereg.length ? Math.max(...dereg.map((s) => s.end)) - confirm.end : null,
    /** the START_POST_COPY call itself */
    startPostCopyRpc: dur(post),
    /** round trip of the cheap calls (GET_STATE, SUPPORTS_FEATURE) of the same run, median */
    cheapRpc: trivial.length ? median(trivial) : null,
  };
}

/**
 * A yardstick for START_POST_COPY, the same for both tools: 1 s into pass 1 (well before the
 * switch), three GET_JOB_STATS calls on host A from the side connection. Each takes a job on
 * the domain and sends QEMU a query-migrate, as START_POST_COPY takes one and sends
 * migrate-start-postcopy. Returns their round trips, ms.
 */
async function qmpProbe(
  log: readonly Seen[],
  dom: RemoteNonnullDomain,
  conn: Connection,
): Promise<number[]> {
  for (let i = 0; i < 600 && seen === log; i++) {
    if (log.some((s) => s.host === 'A' && s.what === 'iteration 1')) break;
    await sleep(50);
  }
  await sleep(1000);
  const out: number[] = [];
  for (let i = 0; i < 3 && seen === log; i++) {
    const t = performance.now();
    try {
      await conn.remote.domainGetJobStats({ dom, flags: 0 });
    } catch {
      break; // the job has ended
    }
    out.push(performance.now() - t);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Statistics and output

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
function medianOf(xs: ReadonlyArray<number | null>): number | null {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? median(v) : null;
}
const f0 = (n: number | null) => (n === null ? '-' : n.toFixed(0));
const f1 = (n: number | null) => (n === null ? '-' : n.toFixed(1));

function printColumns(head: string[], body: string[][]): void {
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!)))
      .join('  ')
      .trimEnd();
  log(line(head));
  for (const b of body) log(line(b));
}

// ---------------------------------------------------------------------------
// Rounds

type Tool = 'virsh' | 'virtwire';

interface RoundResult {
  readonly round: number;
  readonly tool: Tool;
  readonly direction: 'A->B';
  readonly wallMs: number;
  readonly verified: {
    readonly postcopyRequests: number;
    /** virtwire only: stats.memoryPostcopyRequests from `done` */
    readonly ownStatsPostcopyRequests: number | null;
    readonly eventPostcopyRequests: number | null;
    readonly jobTimeElapsedMs: number | null;
    readonly downtimeMs: number | null;
    readonly destState: string;
    readonly sourceState: string;
    readonly guestCounterMoved: boolean;
  };
  readonly timeline: Timeline;
  readonly intervals: Intervals;
  /**
   * The pre-copy pass in which A's QEMU went post-copy (QMP MIGRATION_PASS events before its
   * postcopy-active event): 2 when the switch followed the iteration-2 event, 3 or more when it
   * came a whole pass late.
   */
  readonly switchedInPass: number | null;
  /** virtwire: postcopySwitch.repliedAt - triggeredAt */
  readonly switchLatencyMs: number | null;
  /** virtwire: postcopySwitch, ms from the start */
  readonly postcopySwitch: {
    readonly triggeredAt: number;
    readonly requestedAt: number;
    readonly repliedAt: number;
  } | null;
  readonly phases: ReturnType<typeof phases> | null;
  /** GET_JOB_STATS round trips on A in mid-pass 1 (a QEMU query-migrate through libvirt's job) */
  readonly qmpProbeMs: number[];
  /** virtwire: when its own connection got JOB_COMPLETED, ms from the start */
  readonly ownJobCompletedAt: number | null;
  readonly spans: Span[] | null;
  readonly events: Seen[];
}

async function guestCounter(conn: Connection): Promise<number> {
  const d = await conn.lookupDomain(NAME);
  const { result } = await conn.qemu.domainMonitorCommand({
    dom: d.wire,
    cmd: 'xp /1wx 0x200000',
    flags: 1,
  });
  const m = /:\s*0x([0-9a-f]+)/i.exec(result);
  if (!m) throw new Error(`unexpected monitor output: ${result}`);
  return Number.parseInt(m[1]!, 16);
}

async function stateOf(conn: Connection): Promise<string> {
  try {
    const s = await (await conn.lookupDomain(NAME)).state();
    return `${s.state}/${s.reason}`;
  } catch (err) {
    if (isNoDomain(err)) return 'absent';
    throw err;
  }
}

const num = (v: TypedValue | undefined): number | null =>
  typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : null;

// ---------------------------------------------------------------------------
// Main

let adminA: Connection | null = null;
let adminB: Connection | null = null;
let migA: Connection | null = null;
let migB: Connection | null = null;
let uriA = '';
let uriB = '';
let touched = false;

/** Destroys and undefines the guest on one host: through `conn`, else through virsh. */
async function removeGuest(conn: Connection | null, uri: string): Promise<boolean> {
  if (conn?.isOpen) {
    let found = false;
    for (let i = 0; i < 2; i++) {
      try {
        const d = await conn.lookupDomain(NAME);
        found = true;
        if (d.id !== -1) await d.destroy();
        else await d.undefine();
      } catch (err) {
        if (isNoDomain(err)) return found;
        throw err;
      }
    }
    return found;
  }
  const a = spawnSync('virsh', ['-c', uri, 'destroy', NAME], { encoding: 'utf8' });
  const b = spawnSync('virsh', ['-c', uri, 'undefine', NAME], { encoding: 'utf8' });
  return a.status === 0 || b.status === 0;
}

/** Stops the baseline child, removes the guest from both hosts, closes the connections. */
async function cleanup(): Promise<void> {
  child?.kill('SIGTERM');
  if (touched) {
    for (const [conn, uri, h] of [
      [adminA, uriA, 'A'],
      [adminB, uriB, 'B'],
    ] as const) {
      try {
        if (await removeGuest(conn, uri)) log(`removed ${NAME} on host ${h}`);
      } catch (err) {
        process.stderr.write(
          `warning: could not remove ${NAME} on host ${h}: ${(err as Error).message}\n`,
        );
      }
    }
  }
  for (const c of [migA, migB, adminA, adminB]) {
    try {
      await c?.close();
    } catch {
      // best effort
    }
  }
}

async function main(env: Record<string, string>): Promise<void> {
  uriA = env.VIRTWIRE_HOST_A_TCP ?? '';
  uriB = env.VIRTWIRE_HOST_B_TCP ?? '';
  const guestXmlPath = env.VIRTWIRE_GUEST_XML;
  if (!uriA || !uriB || !guestXmlPath) throw new Error('test-hosts.sh env is incomplete');
  const virshVersion = spawnSync('virsh', ['--version'], { encoding: 'utf8' }).stdout.trim();

  const admA = await connect(uriA);
  adminA = admA;
  const admB = await connect(uriB);
  adminB = admB;
  migA = await connect(uriA);
  migB = await connect(uriB);
  const a = migA;
  const b = migB;
  traceRpc(a, 'A');
  traceRpc(b, 'B');
  const lib = Number((await admA.remote.connectGetLibVersion()).libVer);
  const vstr = (v: number) => `${Math.floor(v / 1e6)}.${Math.floor(v / 1e3) % 1e3}.${v % 1e3}`;

  touched = true;
  for (const [c, u, h] of [
    [admA, uriA, 'A'],
    [admB, uriB, 'B'],
  ] as const) {
    if (await removeGuest(c, u)) log(`removed a leftover ${NAME} on host ${h}`);
  }
  const xml = readFileSync(guestXmlPath, 'utf8').replace(
    /<name>[^<]*<\/name>/,
    `<name>${NAME}</name>`,
  );
  const defined = await admA.domainDefineXML(xml);

  // side connections record the events of every migration, both tools alike
  await Promise.all([observe(admA, 'A'), observe(admB, 'B')]);

  const environment = {
    hostA: uriA,
    hostB: uriB,
    libvirtd: vstr(lib),
    virsh: virshVersion,
    node: process.version,
    cpus: cpus().length,
    loadavgAtStart: loadavg().map((x) => Number(x.toFixed(2))),
    loadavgAtEnd: [] as number[],
  };
  const options = {
    rounds: ROUNDS,
    bandwidth: BANDWIDTH,
    postcopyBandwidth: POSTCOPY_BANDWIDTH,
    settleMs: SETTLE_MS,
  };
  log(
    `libvirtd ${environment.libvirtd} on A and B, virsh ${virshVersion}, node ${process.version}; ` +
      `${environment.cpus} CPUs, load ${environment.loadavgAtStart.join(' ')}`,
  );
  log(
    `${ROUNDS} rounds of virsh then virtwire, each A -> B with post-copy after the first pass; ` +
      `bandwidth ${BANDWIDTH} MiB/s, post-copy bandwidth ${POSTCOPY_BANDWIDTH} MiB/s, guest age ${SETTLE_MS} ms`,
  );

  const results: RoundResult[] = [];

  const migrateOnce = async (round: number, tool: Tool): Promise<RoundResult> => {
    await defined.createWithFlags();
    await sleep(SETTLE_MS);
    const dom = await a.lookupDomain(NAME); // outside the timing: virtwire's caller has it
    const log_: Seen[] = [];
    const sp: Span[] = [];
    let own: number | null = null;
    let wallMs: number;
    let m: Migration | null = null;
    let ownStats: JobStats | null = null;
    seen = log_;
    roundStart = performance.now();
    const probe = qmpProbe(log_, defined.wire, admA);
    if (tool === 'virsh') {
      spans = null;
      const r = await run('virsh', [
        '-c',
        uriA,
        'migrate',
        '--live',
        '--postcopy',
        '--postcopy-after-precopy',
        '--bandwidth',
        String(BANDWIDTH),
        '--postcopy-bandwidth',
        String(POSTCOPY_BANDWIDTH),
        NAME,
        uriB,
      ]);
      wallMs = r.ms;
      if (r.code !== 0) {
        throw new Error(
          `virsh migrate failed (${r.signal ?? `exit ${r.code}`}): ${r.stderr.trim() || r.stdout.trim()}`,
        );
      }
    } else {
      spans = sp;
      const t0 = performance.now();
      roundStart = t0;
      m = dom.migrate(b, {
        live: true,
        postcopy: true,
        bandwidth: BANDWIDTH,
        postcopyBandwidth: POSTCOPY_BANDWIDTH,
        postcopyPolicy: 'after-precopy',
      });
      const mig = m;
      const ownEvents = (async () => {
        for await (const e of mig.events()) {
          if (e.event.type === 'job_completed' && own === null) own = performance.now() - t0;
        }
      })();
      const { stats } = await m.done;
      wallMs = performance.now() - t0;
      ownStats = stats;
      await ownEvents;
    }
    spans = null;
    const probeMs = await probe;
    // let late events (JOB_COMPLETED may follow the tool's end) reach the observers
    await sleep(300);
    seen = null;

    // verification, outside the timing
    const info = parseJobInfo((await virsh(uriA, 'domjobinfo', '--completed', NAME)).stdout);
    const jobPcr = info['Postcopy requests'] === undefined ? 0 : Number(info['Postcopy requests']);
    const ev = log_.find((s) => s.what === 'job_completed' && s.host === 'A');
    const evPcr = ev?.stats ? num(ev.stats.memory_postcopy_requests) : null;
    const destState = await stateOf(admB);
    const sourceState = await stateOf(admA);
    const c1 = await guestCounter(admB);
    await sleep(200);
    const c2 = await guestCounter(admB);
    const ownPcr = ownStats?.memoryPostcopyRequests ?? null;
    const verified = {
      postcopyRequests: jobPcr,
      ownStatsPostcopyRequests: tool === 'virtwire' ? (ownPcr ?? 0) : null,
      eventPostcopyRequests: evPcr,
      jobTimeElapsedMs: info['Time elapsed'] ? Number.parseFloat(info['Time elapsed']) : null,
      downtimeMs: info['Total downtime'] ? Number.parseFloat(info['Total downtime']) : null,
      destState,
      sourceState,
      guestCounterMoved: c1 !== c2,
    };
    const problems: string[] = [];
    if (!(jobPcr > 0))
      problems.push(`domjobinfo --completed on A shows ${jobPcr} post-copy requests`);
    if (evPcr !== null && !(evPcr > 0))
      problems.push(`JOB_COMPLETED shows ${evPcr} post-copy requests`);
    if (tool === 'virtwire' && !((ownPcr ?? 0) > 0))
      problems.push(`stats.memoryPostcopyRequests is ${ownPcr}`);
    if (tool === 'virtwire' && m?.postcopySwitch?.trigger !== 'iteration')
      problems.push(`postcopySwitch is ${JSON.stringify(m?.postcopySwitch)}`);
    if (!destState.startsWith('running/')) problems.push(`the guest is ${destState} on B`);
    if (!sourceState.startsWith('shutoff/')) problems.push(`the guest is ${sourceState} on A`);
    if (c1 === c2) problems.push('the guest counter does not move on B');
    if (!log_.some((e) => e.host === 'A' && e.what === 'suspended/postcopy'))
      problems.push('no suspended/postcopy event on A');
    if (problems.length) {
      throw new Error(
        `round ${round} ${tool}: not a completed post-copy migration: ${problems.join('; ')}`,
      );
    }

    const sw = m?.postcopySwitch ?? null;
    const tl = timeline(log_, wallMs);
    const result: RoundResult = {
      round,
      tool,
      direction: 'A->B',
      wallMs,
      verified,
      timeline: tl,
      intervals: intervals(tl),
      switchedInPass: switchedInPass(log_),
      switchLatencyMs: sw ? sw.repliedAt - sw.triggeredAt : null,
      postcopySwitch: sw
        ? {
            triggeredAt: sw.triggeredAt - roundStart,
            requestedAt: sw.requestedAt - roundStart,
            repliedAt: sw.repliedAt - roundStart,
          }
        : null,
      phases: tool === 'virtwire' ? phases(sp, wallMs, own) : null,
      qmpProbeMs: probeMs,
      ownJobCompletedAt: own,
      spans: tool === 'virtwire' ? sp : null,
      events: log_,
    };

    // back to the start: the guest is transient on B, destroying it removes it there
    await (await admB.lookupDomain(NAME)).destroy();
    return result;
  };

  for (let round = 1; round <= ROUNDS; round++) {
    for (const tool of ['virsh', 'virtwire'] as const) {
      const r = await migrateOnce(round, tool);
      results.push(r);
      const iv = r.intervals;
      log(
        `round ${round} ${tool.padEnd(8)} ${f0(r.wallMs).padStart(5)} ms  ` +
          `(job ${f0(r.verified.jobTimeElapsedMs)} ms, post-copy requests ${r.verified.postcopyRequests}, ` +
          `downtime ${f0(r.verified.downtimeMs)} ms; QEMU pass 2 -> postcopy-active ` +
          `${f1(iv['QEMU pass 2 -> QEMU postcopy-active'])} ms` +
          (r.switchedInPass !== null && r.switchedInPass !== 2
            ? ` (LATE: switched in pass ${r.switchedInPass})`
            : '') +
          (r.switchLatencyMs !== null
            ? `; iteration event -> START_POST_COPY reply ${f1(r.switchLatencyMs)} ms`
            : '') +
          ')',
      );
    }
  }

  // virsh's fixed cost, not part of virtwire's timed region: process start, two connections
  const startup: number[] = [];
  for (let i = 0; i < 5; i++) {
    startup.push((await virsh(uriA, `domstate ${NAME}; connect ${uriB}; uri`)).ms);
  }

  environment.loadavgAtEnd = loadavg().map((x) => Number(x.toFixed(2)));
  const by = (tool: Tool) => results.filter((r) => r.tool === tool);
  const vs = by('virsh');
  const vw = by('virtwire');
  const medVirsh = median(vs.map((r) => r.wallMs));
  const medVw = median(vw.map((r) => r.wallMs));
  const ratio = medVw / medVirsh;
  const switchMs = vw.map((r) => r.switchLatencyMs!);
  const medSwitch = median(switchMs);
  const roundRatios = vw.map((r, i) => r.wallMs / vs[i]!.wallMs);
  // rounds in which both tools switched right after the first pass: like for like
  const onTime = (r: RoundResult) => r.switchedInPass === 2;
  const pairs = vs.map((v, i) => [v, vw[i]!] as const).filter(([v, w]) => onTime(v) && onTime(w));
  const likeForLike =
    pairs.length >= 2
      ? {
          rounds: pairs.map(([v]) => v.round),
          virshMedianMs: median(pairs.map(([v]) => v.wallMs)),
          virtwireMedianMs: median(pairs.map(([, w]) => w.wallMs)),
          ratio: median(pairs.map(([, w]) => w.wallMs)) / median(pairs.map(([v]) => v.wallMs)),
        }
      : null;
  const summary = {
    virshMedianMs: medVirsh,
    virtwireMedianMs: medVw,
    ratio,
    roundRatios,
    medianRoundRatio: median(roundRatios),
    ratioTarget: RATIO_TARGET,
    ratioPass: ratio <= RATIO_TARGET,
    switchLatencyMedianMs: medSwitch,
    switchLatencyTargetMs: SWITCH_TARGET_MS,
    switchPass: medSwitch < SWITCH_TARGET_MS,
    lateSwitches: {
      virsh: vs.filter((r) => !onTime(r)).length,
      virtwire: vw.filter((r) => !onTime(r)).length,
    },
    likeForLike,
    virshStartupMedianMs: median(startup),
    qmpProbeMedianMs: {
      virsh: medianOf(vs.flatMap((r) => r.qmpProbeMs)),
      virtwire: medianOf(vw.flatMap((r) => r.qmpProbeMs)),
    },
    intervalMedians: Object.fromEntries(
      (['virsh', 'virtwire'] as const).map((t) => [
        t,
        Object.fromEntries(
          Object.keys(results[0]!.intervals).map((k) => [
            k,
            medianOf(by(t).map((r) => r.intervals[k as keyof Intervals])),
          ]),
        ),
      ]),
    ),
    virtwirePhaseMedians: Object.fromEntries(
      Object.keys(vw[0]!.phases!).map((k) => [
        k,
        medianOf(vw.map((r) => r.phases![k as keyof ReturnType<typeof phases>])),
      ]),
    ),
  };

  // the report goes to stderr with --json (log), the JSON to stdout
  log('');
  printColumns(
    ['round', 'virsh ms', 'virtwire ms', 'ratio', 'switch ms'],
    vs.map((v, i) => {
      const w = vw[i]!;
      return [
        String(v.round),
        f0(v.wallMs),
        f0(w.wallMs),
        `${(w.wallMs / v.wallMs).toFixed(3)}x`,
        f1(w.switchLatencyMs),
      ];
    }),
  );
  printColumns(
    ['median', 'virsh ms', 'virtwire ms', 'ratio', 'switch ms'],
    [['', f0(medVirsh), f0(medVw), `${ratio.toFixed(3)}x`, f1(medSwitch)]],
  );
  log(
    'wall: virsh from spawn to exit; virtwire from migrate() to `done`. ratio: per round, and of the medians' +
      ` (median of the per-round ratios: ${summary.medianRoundRatio.toFixed(3)}x).`,
  );
  log('switch: virtwire, MIGRATION_ITERATION (iteration 2) handled -> START_POST_COPY reply.');
  log('');
  log(
    'where the time goes, median ms per interval (events seen by a side connection to each host;',
  );
  log("QEMU's own timestamps for its MIGRATION_PASS / MIGRATION events):");
  const im = summary.intervalMedians as Record<Tool, Record<string, number | null>>;
  printColumns(
    ['interval', 'virsh', 'virtwire'],
    Object.keys(im.virsh).map((k) => [k, f1(im.virsh[k]!), f1(im.virtwire[k]!)]),
  );
  log('');
  const pm = summary.virtwirePhaseMedians as Record<string, number | null>;
  log(
    'virtwire RPCs, median ms: ' +
      Object.entries(pm)
        .map(([k, v]) => `${k} ${f1(v)}`)
        .join(', '),
  );
  log(
    `GET_JOB_STATS on A in mid-pass 1 (a libvirt job + QMP round trip, as START_POST_COPY), median ms: ` +
      `${f1(summary.qmpProbeMedianMs.virsh)} in virsh rounds, ${f1(summary.qmpProbeMedianMs.virtwire)} in virtwire rounds`,
  );
  log(
    `virsh fixed cost (spawn, connect A, lookup, connect B, exit), median of 5: ${f0(summary.virshStartupMedianMs)} ms`,
  );
  log(`load average at the end: ${environment.loadavgAtEnd.join(' ')}`);
  log('');
  const late = summary.lateSwitches;
  if (late.virsh + late.virtwire > 0) {
    log(
      `late switches (post-copy only after a further whole pass): virsh ${late.virsh}/${vs.length}, ` +
        `virtwire ${late.virtwire}/${vw.length} rounds. ` +
        (likeForLike
          ? `Rounds where both switched after pass 1 (${likeForLike.rounds.join(', ')}): medians virsh ` +
            `${f0(likeForLike.virshMedianMs)} ms, virtwire ${f0(likeForLike.virtwireMedianMs)} ms, ratio ${likeForLike.ratio.toFixed(3)}x.`
          : 'Too few rounds where both switched after pass 1 for a like-for-like ratio.'),
    );
  }
  log(
    `wall time virtwire/virsh (medians) ${ratio.toFixed(3)}x, target <= ${RATIO_TARGET}x: ${summary.ratioPass ? 'PASS' : 'FAIL'}`,
  );
  log(
    `switch latency median ${medSwitch.toFixed(1)} ms, target < ${SWITCH_TARGET_MS} ms: ${summary.switchPass ? 'PASS' : 'FAIL'}`,
  );
  if (JSON_OUT) {
    process.stdout.write(
      `${JSON.stringify(
        { environment, options, rounds: results, summary },
        (_k, v) => (typeof v === 'bigint' ? Number(v) : v),
        2,
      )}\n`,
    );
  }
}

await benchWithHosts({ log, main, cleanup });
