/**
 * The hostile-peer scenarios as data: each one names what a lying, flooding
 * or stalling peer does, what must come of it (the error class, how fast,
 * how much memory at most, and that the other side keeps serving
 * well-behaved peers), and how to run it. The unit tests (test/unit/hostile)
 * and the report script (scripts/hostile-report.ts) run the same scenarios,
 * so the table printed for the issue is what the tests assert.
 */
import { ConnectionClosedError, RemoteError, VirtwireError } from '../../src/index.js';
import { type Measurement, MiB, measure } from './measure.js';

/** What a scenario must come to. */
export interface Expectation {
  /** The outcome (see `describeOutcome`) must be one of these. */
  readonly outcome: readonly string[];
  /** It must settle within this many milliseconds. */
  readonly withinMs: number;
  /** Peak growth of heap + external memory must stay below this many MiB. */
  readonly peakMiB: number;
}

/** What running a scenario gave. */
export interface Outcome {
  /** `ok`, an error class such as `ProtocolError`, `RemoteError(VIR_ERR_NO_DOMAIN)`, `ConnectionClosedError(eof)`... */
  readonly outcome: string;
  /** Checks that failed besides the outcome (a well-behaved peer not served, a count off...). */
  readonly problems: readonly string[];
  /** Milliseconds until the hostile act was answered, when setup and cleanup would blur the whole run's time. */
  readonly ms?: number;
}

export interface Scenario {
  readonly name: string;
  /** Who is attacked: the client library (`client`) or the simulator (`simulator`). */
  readonly side: 'client' | 'simulator';
  readonly expect: Expectation;
  run(): Promise<Outcome>;
}

/** One row of the table: a scenario's run and whether it met its expectation. */
export interface Row {
  readonly scenario: Scenario;
  readonly outcome: string;
  readonly ms: number;
  readonly peakMiB: number;
  readonly rssMiB: number;
  /** Every way the run missed the expectation; empty when it passed. */
  readonly failures: readonly string[];
}

/**
 * An error as the table shows it: its class, and for the classes whose
 * class alone says too little, what is inside (the libvirt error name, the
 * close reason and the cause's class).
 */
export function describeOutcome(err: unknown): string {
  if (err instanceof RemoteError) return `RemoteError(${err.codeName})`;
  if (err instanceof ConnectionClosedError) {
    const c = err.cause;
    const cause = c instanceof Error && !(c instanceof ConnectionClosedError) ? `, ${c.name}` : '';
    return `ConnectionClosedError(${err.reason}${cause})`;
  }
  if (err instanceof VirtwireError) return err.name;
  if (err instanceof Error) return `${err.name} (not a VirtwireError): ${err.message.slice(0, 80)}`;
  return `non-error thrown: ${String(err).slice(0, 80)}`;
}

/** Runs `fn` and describes how it settled. */
export async function settle(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
    return 'ok';
  } catch (err) {
    return describeOutcome(err);
  }
}

/** Like `settle`, with the milliseconds it took. */
export async function timed(fn: () => Promise<unknown>): Promise<{ outcome: string; ms: number }> {
  const t0 = performance.now();
  const outcome = await settle(fn);
  return { outcome, ms: performance.now() - t0 };
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until `cond()` holds, polling; false if it did not within `ms`. */
export async function until(cond: () => boolean, ms: number, every = 5): Promise<boolean> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) return false;
    await sleep(every);
  }
  return true;
}

/**
 * Runs one scenario under the watch of a memory sampler, a watchdog (a
 * scenario that hangs is reported as `hang`, after twice its time bound plus
 * a second), and process-level listeners: an unhandled rejection or an
 * uncaught exception during the run is a failure (it would end a real process).
 */
export async function runScenario(s: Scenario): Promise<Row> {
  const crashes: string[] = [];
  const onCrash = (err: unknown): void => {
    crashes.push(err instanceof Error ? `${err.name}: ${err.message.slice(0, 120)}` : String(err));
  };
  process.on('unhandledRejection', onCrash);
  process.on('uncaughtException', onCrash);
  const limit = s.expect.withinMs * 2 + 1000;
  let watchdog: NodeJS.Timeout | undefined;
  let m: Measurement<Outcome>;
  try {
    m = await measure(() =>
      Promise.race([
        // A scenario that throws is broken, not hostile: report it as such.
        s.run().catch((err: unknown) => ({
          outcome: `scenario threw: ${err instanceof Error ? `${err.name}: ${err.message.slice(0, 120)}` : String(err)}`,
          problems: [],
        })),
        new Promise<Outcome>((resolve) => {
          watchdog = setTimeout(
            () => resolve({ outcome: `hang (nothing after ${limit} ms)`, problems: [] }),
            limit,
          );
        }),
      ]),
    );
  } finally {
    clearTimeout(watchdog);
    // A crash may surface a moment after the scenario settles.
    await sleep(20);
    process.off('unhandledRejection', onCrash);
    process.off('uncaughtException', onCrash);
  }
  const peakMiB = (m.peakHeap + m.peakExternal) / MiB;
  const ms = m.value.ms ?? m.ms;
  const failures: string[] = [];
  if (!s.expect.outcome.includes(m.value.outcome)) {
    failures.push(`outcome ${m.value.outcome}, expected ${s.expect.outcome.join(' or ')}`);
  }
  if (ms > s.expect.withinMs)
    failures.push(`took ${ms.toFixed(0)} ms (bound ${s.expect.withinMs})`);
  if (peakMiB > s.expect.peakMiB) {
    failures.push(`peak memory +${peakMiB.toFixed(1)} MiB (bound ${s.expect.peakMiB})`);
  }
  failures.push(...m.value.problems);
  for (const c of crashes) failures.push(`process-level error: ${c}`);
  return {
    scenario: s,
    outcome: crashes.length > 0 ? `${m.value.outcome} + crash` : m.value.outcome,
    ms,
    peakMiB,
    rssMiB: m.peakRss / MiB,
    failures,
  };
}

/** The table the closing note pastes: scenario, error class, time, peak memory, verdict. */
export function formatTable(rows: readonly Row[]): string {
  const head = [
    'scenario',
    'side',
    'outcome (error class)',
    'time',
    'peak heap+ext',
    'peak RSS',
    '',
  ];
  const lines = rows.map((r) => [
    r.scenario.name,
    r.scenario.side,
    r.outcome,
    `${r.ms < 10 ? r.ms.toFixed(1) : r.ms.toFixed(0)} ms`,
    `${r.peakMiB.toFixed(1)} MiB`,
    `${r.rssMiB.toFixed(1)} MiB`,
    r.failures.length === 0 ? 'pass' : `FAIL: ${r.failures.join('; ')}`,
  ]);
  const cells = [head, head.map(() => '---'), ...lines];
  return cells.map((c) => `| ${c.map((x) => x.replaceAll('|', '\\|')).join(' | ')} |`).join('\n');
}
