// XDR codec benchmark: virtwire's generated codecs vs @stellar/js-xdr.
//
//   npx tsx bench/xdr.ts            # table (about a minute)
//   npx tsx bench/xdr.ts --json     # machine-readable results on stdout
//   npx tsx bench/xdr.ts --round-ms=200 --rounds=7 --warmup-ms=300 --batch-ms=2   (the defaults)
//   npx tsx bench/xdr.ts --only='list.*decode'          # only the rows matching a regex
//   npx tsx bench/xdr.ts --cold       # strings never repeat: virtwire's string caches miss
//   npx tsx bench/xdr.ts --floor-strings=oracle   # how the floor column gets strings: read (default), map, oracle
//   npx tsx bench/xdr.ts --floor-cache=65536      # slots of the floor's decoding cache of strings (default 4096, virtwire's)
//   npx tsx bench/xdr.ts --clock=wall             # elapsed time instead of this process's CPU time (the default)
//   node --cpu-prof --import tsx bench/xdr.ts --only=decode --profile=virtwire   # one side only
//   npx tsx bench/xdr.ts --aa         # A/A: the virtwire column times the floor a second time
//   npx tsx bench/xdr.ts --processes=6 --cold   # 6 fresh processes; each row judged on their median
//   npx tsx bench/xdr.ts --gc         # which side's batches V8's collections began in
//   npx tsx bench/xdr.ts --schedule=rotate --seed=N   # the fixed order of before; the random order's seed
//
// Both libraries get type definitions with exactly the same wire layout
// (js-xdr's through its own config() DSL; bench/xdr-messages.ts). Two more
// sides run in the same rounds: the check-free floor (bench/xdr-floor.ts), the
// target being virtwire >= 0.9 of it, and the checked floor
// (bench/xdr-floor-checked.ts), which shows what the checks that must stay cost.
// Before anything is timed, each message must encode to identical bytes on
// every side and every decoder must give the original value back; if not, the
// bench exits 1. Otherwise it exits 0 whatever the ratios (it is a report).

import { spawnSync } from 'node:child_process';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { isDeepStrictEqual } from 'node:util';
import { XdrReader, XdrWriter } from '../src/xdr/index.js';
import {
  FLOOR_CACHE,
  FLOOR_STRINGS,
  type FloorCodec,
  floorAllStats,
  floorCheck,
  floorJobStats,
  floorListAll,
  floorOracle,
} from './xdr-floor.js';
import { checkedAllStats, checkedJobStats, checkedListAll } from './xdr-floor-checked.js';
import { allStats, jobStats, jsXdrVersion, listAll, type Message } from './xdr-messages.js';

// ---------------------------------------------------------------------------
// Options

const argv = process.argv.slice(2);
function numOpt(name: string, dflt: number): number {
  const a = argv.find((x) => x.startsWith(`--${name}=`));
  if (a === undefined) return dflt;
  const n = Number(a.slice(name.length + 3));
  if (!Number.isFinite(n) || n <= 0) throw new Error(`bad --${name}: ${a}`);
  return n;
}
const JSON_OUT = argv.includes('--json');
/**
 * `--cold`: every operation takes the next of many variants of its message
 * whose strings all differ, more distinct strings than the decoding caches of
 * strings (virtwire's and the floor's) hold, so those caches (almost) never
 * hit. All sides rotate alike.
 */
const COLD = argv.includes('--cold');
/**
 * `--clock=cpu|wall`: what a round's length and its ops/s are measured in. `cpu`
 * (the default) counts only the time this process ran (process.cpuUsage, GC
 * threads included), so on a machine shared with other work a side is not
 * charged for the time it waited for a core; `wall` is elapsed time.
 */
const CLOCK = (() => {
  const a = argv.find((x) => x.startsWith('--clock='));
  const v = a?.slice('--clock='.length) ?? 'cpu';
  if (v !== 'wall' && v !== 'cpu') throw new Error(`bad ${a}: cpu (the default) or wall`);
  return v;
})();
// `--floor-strings=read|map|oracle` (how the floor gets its strings) is read by bench/xdr-floor.ts.
const ROUND_MS = numOpt('round-ms', 200);
const ROUNDS = Math.max(3, Math.floor(numOpt('rounds', 7)));
const WARMUP_MS = numOpt('warmup-ms', 300);
/** `--batch-ms`: how long one batch of calls runs before the next side's turn (see round()). */
const BATCH_MS = numOpt('batch-ms', 2);
/** `--only=REGEX`: time only the rows whose "message op" matches, e.g. `--only='list.*decode'`. */
const ONLY = (() => {
  const a = argv.find((x) => x.startsWith('--only='));
  return a === undefined ? null : new RegExp(a.slice('--only='.length));
})();
/** The sides timed in every round, in this order. */
const SIDES = ['virtwire', 'js-xdr', 'floor', 'checked'];
/** `--profile=virtwire|js-xdr|floor|checked`: run only that side of the selected rows, for a CPU profile. */
const PROFILE = (() => {
  const a = argv.find((x) => x.startsWith('--profile='));
  const v = a?.slice('--profile='.length);
  if (v !== undefined && !SIDES.includes(v)) {
    throw new Error(`bad ${a}: one of ${SIDES.join(', ')}`);
  }
  return v ?? null;
})();
/**
 * `--aa`: an A/A run. The virtwire column times the floor's own code a second
 * time, so "vs floor" compares identical work and any spread it shows (away
 * from 1.00) is the measurement's, not a codec's.
 */
const AA = argv.includes('--aa');
/**
 * `--schedule=random|rotate`: the order of the sides' batches in a round.
 * `random` (the default): every pass a fresh random order, and every batch
 * between half and one and a half times its calibrated length, from a PRNG
 * seeded by `--seed=N` (printed; a random seed by default). `rotate` (the
 * method before): the first side rotating, every other pass backwards, every
 * batch its calibrated length. A fixed, periodic schedule with fixed batches
 * allocates the same amount every cycle, so the young generation fills at the
 * same points of the cycle again and again and each scavenge is charged to
 * the side running there: on a row that allocates much (cold all-domain stats
 * decode) one side can pay nearly every scavenge of a process and another none
 * (`--gc` shows it). A random schedule puts each scavenge in a batch with a
 * probability in proportion to what the batch allocates.
 */
const SCHEDULE = (() => {
  const a = argv.find((x) => x.startsWith('--schedule='));
  const v = a?.slice('--schedule='.length) ?? 'random';
  if (v !== 'random' && v !== 'rotate') throw new Error(`bad ${a}: random (the default) or rotate`);
  return v;
})();
/** `--seed=N`: the seed of the random schedule. */
const SEED = (() => {
  const a = argv.find((x) => x.startsWith('--seed='));
  if (a === undefined) return Math.floor(Math.random() * 0x7fffffff);
  const n = Number(a.slice('--seed='.length));
  if (!Number.isInteger(n)) throw new Error(`bad ${a}: an integer`);
  return n;
})();
/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
const random = (() => {
  let t = SEED >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), t | 1);
    r ^= r + Math.imul(r ^ (r >>> 7), r | 61);
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
})();
/** `--gc`: charge each main-thread GC pause to the side whose batch it fell in, and print the shares. */
const GC = argv.includes('--gc');
/** The target (#21): virtwire at no less than this share of the floor's ops/s, every row. */
const TARGET = 0.9;

/** Progress and notes go to stderr in --json mode so stdout stays parseable. */
const log = JSON_OUT
  ? (s: string) => process.stderr.write(`${s}\n`)
  : (s: string) => process.stdout.write(`${s}\n`);

// ---------------------------------------------------------------------------
// Cases

interface Case {
  name: string;
  ours: { encode: () => Uint8Array; decode: () => unknown };
  js: { encode: () => Buffer; decode: () => unknown };
  floor: { encode: () => Uint8Array; decode: () => unknown };
  checked: { encode: () => Uint8Array; decode: () => unknown };
  bytes: number;
  /** How many variants of the message the sides rotate through (1 unless --cold). */
  variants: number;
}

const writer = new XdrWriter();
const reader = new XdrReader();

/** The same value with `~k` appended to every string in it (names, field names, string values). */
function withSuffix<T>(v: T, k: number): T {
  const walk = (x: unknown): unknown => {
    if (typeof x === 'string') return `${x}~${k}`;
    if (Array.isArray(x)) return x.map(walk);
    if (x instanceof Uint8Array || x === null || typeof x !== 'object') return x;
    return Object.fromEntries(Object.entries(x).map(([key, val]) => [key, walk(val)]));
  };
  return walk(v) as T;
}

/** Round-robin over `xs` (one element: always it). */
function cycle<X>(xs: X[]): () => X {
  let i = 0;
  return () => {
    const x = xs[i]!;
    i = i + 1 === xs.length ? 0 : i + 1;
    return x;
  };
}

function makeCase<T>(m: Message<T>, floor: FloorCodec<T>, checked: FloorCodec<T>): Case {
  const { name, encode: enc, decode: dec, jsType, toJs, fromJs } = m;
  const values = COLD
    ? Array.from({ length: m.coldVariants }, (_, k) => withSuffix(m.value, k))
    : [m.value];
  const jsValues = values.map(toJs);
  const encodeOne = (v: T) => {
    writer.reset();
    enc(writer, v);
    return writer.finish();
  };

  // Honesty checks: same bytes, and both decoders give the value back.
  const fail = (what: string): never => {
    process.stderr.write(`${name}: ${what}; aborting, the comparison would be meaningless\n`);
    process.exit(1);
  };
  const ourBytes: Uint8Array[] = [];
  const jsBytes: Buffer[] = [];
  // What the floor is handed besides each variant: its strings in wire order, and their wire forms.
  const oracles = values.map(floorOracle);
  values.forEach((value, k) => {
    try {
      const ours = encodeOne(value);
      const js = jsType.toXDR(jsValues[k]);
      if (ours.length !== js.length || Buffer.compare(Buffer.from(ours), js) !== 0) {
        let i = 0;
        while (i < ours.length && ours[i] === js[i]) i++;
        fail(
          `encodings differ (virtwire ${ours.length} bytes, js-xdr ${js.length} bytes, first difference at byte ${i})`,
        );
      }
      if (!isDeepStrictEqual(dec(reader.reset(ours)), value)) {
        fail('virtwire decode(virtwire bytes) does not give back the value');
      }
      reader.done();
      if (!isDeepStrictEqual(fromJs(jsType.fromXDR(js)), value)) {
        fail('js-xdr fromXDR(js-xdr bytes) does not give back the value');
      }
      const floorFault = floorCheck(floor, value, oracles[k]!, js);
      if (floorFault !== null) fail(floorFault);
      const checkedFault = floorCheck(checked, value, oracles[k]!, js);
      if (checkedFault !== null) fail(`checked: ${checkedFault}`);
      ourBytes.push(ours);
      jsBytes.push(js);
    } catch (err) {
      fail(`equality check threw: ${err instanceof Error ? err.message : String(err)}`);
    }
  });

  const nextValue = cycle(values);
  const nextJsValue = cycle(jsValues);
  const nextOurBytes = cycle(ourBytes);
  const nextJsBytes = cycle(jsBytes);
  const nextFloorOut = cycle(values.map((v, k) => [v, oracles[k]!] as const));
  const nextFloorIn = cycle(values.map((_, k) => [ourBytes[k]!, oracles[k]!] as const));
  const nextCheckedOut = cycle(values.map((v, k) => [v, oracles[k]!] as const));
  const nextCheckedIn = cycle(values.map((_, k) => [ourBytes[k]!, oracles[k]!] as const));
  const maxBytes = Math.max(...ourBytes.map((b) => b.length));
  return {
    name,
    bytes: ourBytes[0]!.length,
    variants: values.length,
    ours: {
      encode: () => encodeOne(nextValue()),
      decode: () => dec(reader.reset(nextOurBytes())),
    },
    js: {
      encode: () => jsType.toXDR(nextJsValue()),
      decode: () => jsType.fromXDR(nextJsBytes()),
    },
    floor: {
      encode: () => {
        const [value, oracle] = nextFloorOut();
        return floor.encode(value, oracle, maxBytes);
      },
      decode: () => {
        const [bytes, oracle] = nextFloorIn();
        return floor.decode(bytes, oracle);
      },
    },
    checked: {
      encode: () => {
        const [value, oracle] = nextCheckedOut();
        return checked.encode(value, oracle, maxBytes);
      },
      decode: () => {
        const [bytes, oracle] = nextCheckedIn();
        return checked.decode(bytes, oracle);
      },
    },
  };
}

// ---------------------------------------------------------------------------
// --processes=N: the same run in N fresh processes, one after another

/**
 * `--processes=N`: runs the bench (these options, without this one) in N
 * fresh processes one after another and judges each row on the median of the
 * processes' virtwire / floor, printing the lowest and highest beside it. What
 * a process decides for itself (the young generation's size, the order code
 * is optimised in, where its objects land) can move a row in every round of
 * that process alike, which more rounds in one process do not average out.
 */
const PROCESSES = Math.floor(numOpt('processes', 1));

interface ChildRow {
  message: string;
  op: 'encode' | 'decode';
  vsFloor: number;
  checksPrice: number;
  vsChecked: number;
}

if (PROCESSES > 1) {
  const childArgs = argv.filter((x) => !x.startsWith('--processes=') && x !== '--json');
  const perProcess: ChildRow[][] = [];
  log(
    `${PROCESSES} processes of: bench/xdr.ts ${childArgs.join(' ')}; each row judged on the median of the processes' virtwire / floor`,
  );
  for (let k = 0; k < PROCESSES; k++) {
    const child = spawnSync(
      process.execPath,
      [...process.execArgv, process.argv[1]!, ...childArgs, '--json'],
      { encoding: 'utf8', maxBuffer: 64 << 20 },
    );
    if (child.status !== 0) {
      process.stderr.write(child.stderr);
      process.stderr.write(`process ${k + 1} exited with ${child.status}\n`);
      process.exit(1);
    }
    const out = JSON.parse(child.stdout) as { rows: ChildRow[] };
    perProcess.push(out.rows);
    const seed = /seed (\d+)/.exec(child.stderr)?.[1];
    log(
      `  process ${k + 1}${seed === undefined ? '' : ` (seed ${seed})`}: ` +
        out.rows.map((r) => `${r.message} ${r.op} ${r.vsFloor.toFixed(2)}`).join(', '),
    );
  }
  const summary = perProcess[0]!.map((r0, i) => {
    const of = (f: (r: ChildRow) => number) => perProcess.map((rs) => f(rs[i]!));
    const vs = of((r) => r.vsFloor);
    return {
      message: r0.message,
      op: r0.op,
      vsFloor: median(vs),
      min: Math.min(...vs),
      max: Math.max(...vs),
      perProcess: vs,
      checksPrice: median(of((r) => r.checksPrice)),
      vsChecked: median(of((r) => r.vsChecked)),
      pass: median(vs) >= TARGET,
    };
  });
  const allPass = summary.every((r) => r.pass);
  if (JSON_OUT) {
    process.stdout.write(
      `${JSON.stringify({ processes: PROCESSES, args: childArgs, target: TARGET, pass: allPass, rows: summary }, null, 2)}\n`,
    );
  } else {
    const w = [27, 8, 16, 14, 14, 8, 16, 12];
    const line = (cells: string[]) => log(cells.map((x, i) => x.padEnd(w[i] ?? 0)).join(''));
    log('');
    line([
      'message',
      'op',
      'vs floor (med)',
      'lowest',
      'highest',
      `>= ${TARGET}`,
      'checked/floor',
      'vs checked',
    ]);
    for (const r of summary) {
      line([
        r.message,
        r.op,
        r.vsFloor.toFixed(2),
        r.min.toFixed(2),
        r.max.toFixed(2),
        r.pass ? 'PASS' : 'FAIL',
        r.checksPrice.toFixed(2),
        r.vsChecked.toFixed(2),
      ]);
    }
    log('');
    log(
      `target: virtwire >= ${TARGET} of the floor on every row, median of ${PROCESSES} processes: ${allPass ? 'PASS' : 'FAIL'}`,
    );
  }
  process.exit(0);
}

const cases: Case[] = [
  makeCase(jobStats, floorJobStats, checkedJobStats),
  makeCase(listAll, floorListAll, checkedListAll),
  makeCase(allStats, floorAllStats, checkedAllStats),
];

// ---------------------------------------------------------------------------
// Timing

let sink = 0;
/** Nanoseconds on the `--clock` chosen: wall time, or this process's CPU time (all its threads, GC included). */
const now =
  CLOCK === 'wall'
    ? () => process.hrtime.bigint()
    : () => {
        const u = process.cpuUsage();
        return BigInt(u.user + u.system) * 1000n;
      };

/**
 * Calls per batch so one batch takes about `--batch-ms` (2 ms): long enough
 * that the clock reads around it (tens of microseconds for the `cpu` clock on
 * a busy machine) cost well under 1%, short enough that the sides' batches
 * interleave finely (see round()). Batches double until one takes four times
 * that, then scale down.
 */
function calibrate(fn: () => unknown): number {
  const want = BATCH_MS * 1e6;
  for (let batch = 1; ; batch *= 2) {
    const t0 = now();
    for (let i = 0; i < batch; i++) fn();
    const ns = Number(now() - t0);
    if (ns >= 4 * want) return Math.max(1, Math.round((batch * want) / ns));
  }
}

/** Runs `fn` for about `ms` (warm-up). */
function run(fn: () => unknown, ms: number, batch: number): void {
  const stop = now() + BigInt(Math.round(ms * 1e6));
  let last: unknown;
  do {
    for (let i = 0; i < batch; i++) last = fn();
  } while (now() < stop);
  if (last === sink) sink++;
}

/**
 * One timed round: the sides take turns a batch at a time, in the order
 * `--schedule` gives (by default a fresh random order every pass and batches
 * of random length around their calibrated one), until every side has run
 * `ms`; returns each side's ops/s over its own batches. Sides measured in turn over whole rounds of hundreds
 * of milliseconds (as this bench did before) meet different neighbours on a
 * shared machine: the same code timed twice that way (`--aa`) gave per-round
 * ratios of 0.57-1.87 and per-process ones of 0.83-1.31; in batches of 2 ms,
 * 0.93-1.09 and 0.96-1.02 but for the row that allocates most (bench/README.md).
 * Batches next to each other meet the same conditions, so a ratio measures the
 * code; a side that is slow in this process is slow in every batch and still
 * shows.
 */
function round(fns: (() => unknown)[], batches: number[], ms: number, first: number): number[] {
  const n = fns.length;
  const ops = fns.map(() => 0);
  const ns = fns.map(() => 0);
  const want = ms * 1e6;
  const order = fns.map((_, i) => i);
  let last: unknown;
  for (let pass = first; Math.min(...ns) < want; pass++) {
    if (SCHEDULE === 'random') {
      for (let k = n - 1; k > 0; k--) {
        const j = Math.floor(random() * (k + 1));
        const x = order[k]!;
        order[k] = order[j]!;
        order[j] = x;
      }
    }
    for (let k = 0; k < n; k++) {
      // rotate: every other pass runs backwards, so each side follows each of
      // its two neighbours in the cycle as often. random: see SCHEDULE.
      const i = SCHEDULE === 'random' ? order[k]! : (pass & 1 ? pass + n - k : pass + k) % n;
      const fn = fns[i]!;
      const batch =
        SCHEDULE === 'random'
          ? Math.max(1, Math.round(batches[i]! * (0.5 + random())))
          : batches[i]!;
      if (GC) gcMark(i);
      const t0 = now();
      for (let j = 0; j < batch; j++) last = fn();
      ns[i]! += Number(now() - t0);
      ops[i]! += batch;
      if (GC) {
        gcMark(-1);
        gcCalls[i] = (gcCalls[i] ?? 0) + batch;
      }
    }
  }
  if (last === sink) sink++;
  return ops.map((o, i) => o / (ns[i]! / 1e9));
}

/** `--gc`: where each batch began and ended (performance.now()) and whose it was (-1: between batches). */
const gcMarks: { t: number[]; side: number[] } = { t: [], side: [] };
/** `--gc`: calls per side since the last gcTake(). */
const gcCalls: number[] = [];
function gcMark(side: number): void {
  gcMarks.t.push(performance.now());
  gcMarks.side.push(side);
}
let gcEntries: { startTime: number; duration: number; detail?: unknown }[] = [];
const gcObserver = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcEntries.push(e);
});
if (GC) gcObserver.observe({ entryTypes: ['gc'] });

interface GcShare {
  /** Scavenges (V8's minor GCs) that began in this side's batches. */
  minor: number;
  /** Other collections (mark-compact, incremental marking steps) that began in its batches. */
  major: number;
  /** Their pauses in elapsed time, ms: on a loaded machine far more than the CPU time they took. */
  pauseMs: number;
  /** Calls the side made in its batches. */
  calls: number;
}

/**
 * `--gc`: the collections V8 reported since the last call (perf_hooks 'gc'
 * entries, delivered once the event loop turns), each charged to the side
 * whose batch it began in.
 */
async function gcTake(n: number): Promise<GcShare[]> {
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  const entries: { startTime: number; duration: number; detail?: unknown }[] = [
    ...gcEntries,
    ...gcObserver.takeRecords(),
  ];
  gcEntries = [];
  const out: GcShare[] = Array.from({ length: n }, (_, i) => ({
    minor: 0,
    major: 0,
    pauseMs: 0,
    calls: gcCalls[i] ?? 0,
  }));
  const { t, side } = gcMarks;
  let j = 0;
  for (const e of entries) {
    while (j + 1 < t.length && t[j + 1]! <= e.startTime) j++;
    const s = j < t.length && t[j]! <= e.startTime ? side[j]! : -1;
    if (s < 0) continue;
    const kind = (e.detail as { kind?: number } | undefined)?.kind;
    // NODE_PERFORMANCE_GC_MINOR is 1.
    if (kind === 1) out[s]!.minor++;
    else out[s]!.major++;
    out[s]!.pauseMs += e.duration;
  }
  gcMarks.t = [];
  gcMarks.side = [];
  gcCalls.length = 0;
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

interface Row {
  message: string;
  op: 'encode' | 'decode';
  bytes: number;
  virtwireOpsPerSec: number;
  jsXdrOpsPerSec: number;
  floorOpsPerSec: number;
  /** virtwire / js-xdr */
  ratio: number;
  /** floor / js-xdr: the most any codec could reach on this row here. */
  floorRatio: number;
  /** virtwire / floor: the share of the floor virtwire reaches; the target is on this. */
  vsFloor: number;
  /** vsFloor >= TARGET */
  pass: boolean;
  checkedOpsPerSec: number;
  /** checked floor / floor: what the checks a codec must keep cost (the most such a codec reaches). */
  checksPrice: number;
  /** virtwire / checked floor: how close virtwire comes to the floor with the same checks. */
  vsChecked: number;
  checkedRounds: number[];
  virtwireRounds: number[];
  jsXdrRounds: number[];
  floorRounds: number[];
  /** `--gc`: the collections that began in each side's batches (virtwire, js-xdr, floor, checked). */
  gc?: GcShare[];
}

const rows: Row[] = [];
log(
  `virtwire vs @stellar/js-xdr ${jsXdrVersion} on Node ${process.version}, and a hand-written floor (strings: ${FLOOR_STRINGS}): ` +
    `${ROUNDS} rounds of ${ROUND_MS} ms per side and case after ${WARMUP_MS} ms warm-up, the sides taking turns in batches of ${BATCH_MS} ms; median ops/s reported (${CLOCK} clock); ratios = median of the per-round ratios`,
);
log(
  'encodings checked identical and round-tripped in both libraries, the floor and the checked floor before timing',
);
log(
  SCHEDULE === 'random'
    ? `schedule: random order every pass, batches 0.5-1.5 times their length, seed ${SEED}`
    : 'schedule: rotate (fixed order, every other pass backwards, fixed batches)',
);
if (AA) log('A/A: the virtwire column is the floor timed a second time (identical work)');
if (COLD) {
  log(
    `cold: each operation takes the next of ${cases.map((c) => c.variants).join(' / ')} variants of its message whose strings all differ (every string gets a ~k suffix), more distinct strings than virtwire's string cache and the floor's (${FLOOR_CACHE} slots) hold, so they miss`,
  );
}
for (const c of cases) {
  for (const op of ['encode', 'decode'] as const) {
    if (ONLY && !ONLY.test(`${c.name} ${op}`)) continue;
    const sides = [AA ? c.floor[op] : c.ours[op], c.js[op], c.floor[op], c.checked[op]];
    if (PROFILE) {
      const fn = sides[SIDES.indexOf(PROFILE)]!;
      const [ops] = round([fn], [calibrate(fn)], ROUND_MS * ROUNDS, 0) as [number];
      log(`${c.name} ${op} ${PROFILE}: ${Math.round(ops).toLocaleString('en-US')} ops/s`);
      continue;
    }
    // Calibrated again after the warm-up: the first calibration times code not yet
    // optimized, and batches of unequal length would weigh the clock reads unequally.
    const warm = sides.map(calibrate);
    for (let i = 0; i < sides.length; i++) run(sides[i]!, WARMUP_MS, warm[i]!);
    const batches = sides.map(calibrate);
    const rounds: number[][] = sides.map(() => []);
    for (let r = 0; r < ROUNDS; r++) {
      const ops = round(sides, batches, ROUND_MS, r);
      for (let i = 0; i < sides.length; i++) rounds[i]!.push(ops[i]!);
    }
    let gc: GcShare[] | undefined;
    if (GC) {
      gc = await gcTake(sides.length);
      log(
        `  gc, ${c.name} ${op} (scavenges per 1,000 calls / other collections / pauses, elapsed ms): ` +
          gc
            .map(
              (g, i) =>
                `${SIDES[i]} ${((1000 * g.minor) / g.calls).toFixed(1)} / ${g.major} / ${Math.round(g.pauseMs)}`,
            )
            .join(', '),
      );
    }
    const [ro, rj, rf, rc] = rounds as [number[], number[], number[], number[]];
    const vsFloor = median(ro.map((x, i) => x / rf[i]!));
    rows.push({
      message: c.name,
      op,
      bytes: c.bytes,
      virtwireOpsPerSec: median(ro),
      jsXdrOpsPerSec: median(rj),
      floorOpsPerSec: median(rf),
      ratio: median(ro.map((x, i) => x / rj[i]!)),
      floorRatio: median(rf.map((x, i) => x / rj[i]!)),
      vsFloor,
      pass: vsFloor >= TARGET,
      checkedOpsPerSec: median(rc),
      checksPrice: median(rc.map((x, i) => x / rf[i]!)),
      vsChecked: median(ro.map((x, i) => x / rc[i]!)),
      virtwireRounds: ro,
      jsXdrRounds: rj,
      floorRounds: rf,
      checkedRounds: rc,
      ...(gc === undefined ? {} : { gc }),
    });
    const row = rows[rows.length - 1]!;
    if (JSON_OUT)
      log(
        `  ${c.name} ${op}: ${row.ratio.toFixed(1)}x js-xdr, ${row.vsFloor.toFixed(2)} of the floor`,
      );
  }
}

if (PROFILE) process.exit(0);
if (rows.length === 0) throw new Error(`--only=${ONLY} matches no row`);
const pass = rows.every((r) => r.pass);
const notes = [
  'virtwire encode = w.reset(); encodeX(w, v); w.finish() with one reused XdrWriter (finish() hands out the bytes without a copy; later messages never overwrite them)',
  'virtwire decode = decodeX(reader.reset(bytes)) with one reused XdrReader',
  "js-xdr encode = Type.toXDR(value) ('raw' format, returns a Buffer), value built once with JS strings, Buffer opaques, bigint hypers",
  "js-xdr decode = Type.fromXDR(buffer) ('raw' format, Buffer input); it leaves strings and opaques as Buffer views and wraps hypers in Hyper objects, i.e. does less than virtwire, which decodes UTF-8 strings, copies opaques and returns bigints",
  "the same message is encoded and decoded again and again, so virtwire's string cache (short strings by their bytes when decoding) always hits, as in a polling loop where typed-parameter names and domain names repeat; bench/README.md gives the numbers with the cache defeated",
  'checked floor = the floor (strings read) plus every check a correct codec keeps (bounds, counts against their bounds and the bytes left, zero padding, UTF-8, union arms, exact consumption; on encode each value against its XDR type and bound), inlined: checked/floor is the price of those checks, the most a codec that keeps them can reach of the floor',
  `floor = hand-written loops for these three messages with no checks at all, writing the same bytes into fresh memory or building the same objects; strings: ${FLOOR_STRINGS} (--floor-strings=read: written a character at a time, decoded through a cache of their bytes; map: encoded by a Map lookup of their wire form; oracle: ready-made), so floor / js-xdr is more than a codec of that kind can reach here`,
];

if (JSON_OUT) {
  process.stdout.write(
    `${JSON.stringify(
      {
        node: process.version,
        jsXdrVersion,
        roundMs: ROUND_MS,
        rounds: ROUNDS,
        warmupMs: WARMUP_MS,
        batchMs: BATCH_MS,
        cold: COLD,
        aa: AA,
        clock: CLOCK,
        floorStrings: FLOOR_STRINGS,
        statistic:
          'median of rounds; ratio is the median of per-round ratios; in a round the sides take turns a batch of batchMs at a time',
        target: TARGET,
        pass,
        notes,
        rows,
      },
      null,
      2,
    )}\n`,
  );
} else {
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const w = [27, 8, 16, 14, 13, 8, 14, 10, 8, 16, 12];
  const line = (cells: string[]) => log(cells.map((x, i) => x.padEnd(w[i] ?? 0)).join(''));
  log('');
  line([
    'message',
    'op',
    'virtwire ops/s',
    'js-xdr ops/s',
    'floor ops/s',
    'ratio',
    'floor/js-xdr',
    'vs floor',
    `>= ${TARGET}`,
    'checked/floor',
    'vs checked',
  ]);
  for (const r of rows) {
    line([
      r.message,
      r.op,
      fmt(r.virtwireOpsPerSec),
      fmt(r.jsXdrOpsPerSec),
      fmt(r.floorOpsPerSec),
      `${r.ratio.toFixed(1)}x`,
      `${r.floorRatio.toFixed(1)}x`,
      r.vsFloor.toFixed(2),
      r.pass ? 'PASS' : 'FAIL',
      r.checksPrice.toFixed(2),
      r.vsChecked.toFixed(2),
    ]);
  }
  log('');
  log(
    `message sizes: ${cases.map((c) => `${c.name} ${c.bytes.toLocaleString('en-US')} B`).join(', ')}`,
  );
  for (const n of notes) log(`note: ${n}`);
  log('');
  log(`target: virtwire >= ${TARGET} of the floor on every row: ${pass ? 'PASS' : 'FAIL'}`);
  /** The share lost against 1 (a ratio of ops/s), e.g. 0.93 -> "7%"; a gain reads "none (+3%)". */
  const pct = (ratio: number): string =>
    ratio >= 1 ? `none (+${Math.round((ratio - 1) * 100)}%)` : `${Math.round((1 - ratio) * 100)}%`;
  for (const r of rows.filter((x) => !x.pass)) {
    // Both shares are measured in this run: what the checks cost the floor, and
    // what virtwire's code costs beyond them (vs floor ~ checked/floor x vs checked).
    const own = `virtwire's own code costs ${pct(r.vsChecked)} of the checked floor on top`;
    const why =
      r.checksPrice < TARGET
        ? `the checks a correct codec must keep already bring the floor down to ${r.checksPrice.toFixed(2)} of itself (checked floor), so no such codec reaches ${TARGET} here; ${own}`
        : `the checks cost ${pct(r.checksPrice)} of the floor (checked floor ${r.checksPrice.toFixed(2)}) and ${own}`;
    log(
      `  ${r.message} ${r.op}: ${r.vsFloor.toFixed(2)} of the floor, ${r.vsChecked.toFixed(2)} of the checked floor; ${why}`,
    );
  }
}
if (sink === -1) log('');
