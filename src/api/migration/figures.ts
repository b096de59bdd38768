/**
 * The figures a migration's progress shows, derived once per job-statistics
 * sample and stored with it in the timeline, so that every view (progress
 * line, --json, summary, chart) shows the same numbers.
 *
 * What is known when:
 * - percent: once the daemon reports the memory total;
 * - transfer rate: measured from the memory processed between samples of the
 *   same phase (before there are two: QEMU's own rate in pre-copy, nothing in
 *   post-copy, whose traffic only post-copy samples can tell);
 * - dirty rate: from the second pre-copy pass on (QEMU measures it over a
 *   completed pass and reports 0 during the first);
 * - convergence and ETA in pre-copy: once both rates are known, from the
 *   measured transfer rate against the dirty rate; in post-copy, from the
 *   post-copy rate alone.
 */

/** Which kind of transfer a sample belongs to. */
export type TransferPhase = 'precopy' | 'postcopy';

/** What a sample brings from the daemon, on the migration's clock (`t`, real ms since it started). */
export interface RawSample {
  readonly t: number;
  readonly phase: TransferPhase;
  readonly iteration: number | null;
  readonly memoryTotal: number | null;
  readonly memoryProcessed: number | null;
  readonly memoryRemaining: number | null;
  /** QEMU's transfer rate, bytes/s. */
  readonly memoryBps: number | null;
  /** Pages dirtied per second, as the daemon reports it. */
  readonly memoryDirtyRate: number | null;
  readonly memoryPageSize: number | null;
  /** The daemon's time since the job started: the guest's clock (simulated time in a simulator). */
  readonly jobElapsedMs: number | null;
}

/** The figures derived from a sample; null while not known. */
export interface SampleFigures {
  /** Memory already on the destination, 0-100: (total - remaining) / total. */
  readonly percent: number | null;
  /** Measured transfer rate of this phase, bytes per second of the guest's clock. */
  readonly rateBps: number | null;
  /** Dirty rate in bytes per second of the guest's clock (pre-copy, from the second pass on). */
  readonly dirtyBps: number | null;
  /** Pre-copy: whether the transfer outruns the dirtying. Null when not known, and in post-copy. */
  readonly converging: boolean | null;
  /** Real milliseconds left, when computable; null when unknown or when pre-copy cannot converge. */
  readonly etaMs: number | null;
}

/** Rates are measured over the samples of the last two seconds. */
export const RATE_WINDOW_MS = 2000;

/**
 * The figures of `s`, given the earlier samples of the same phase (oldest
 * first; only the last RATE_WINDOW_MS of them matter).
 */
export function sampleFigures(earlier: readonly RawSample[], s: RawSample): SampleFigures {
  const total = s.memoryTotal;
  const left = s.memoryRemaining;
  const percent =
    total !== null && total > 0 && left !== null
      ? Math.max(0, Math.min(100, (100 * (total - left)) / total))
      : null;

  const { rate, realPerGuestMs } = measuredRate(earlier, s);
  const dirtyBps =
    s.phase === 'precopy' &&
    (s.iteration ?? 0) >= 2 &&
    s.memoryDirtyRate !== null &&
    s.memoryPageSize !== null
      ? s.memoryDirtyRate * s.memoryPageSize
      : null;

  let converging: boolean | null = null;
  let etaMs: number | null = null;
  if (left === 0) {
    // nothing left to send: the figures are final whatever the rates
    etaMs = 0;
    converging = s.phase === 'precopy' ? true : null;
  } else if (left !== null && rate !== null) {
    if (s.phase === 'postcopy') {
      if (rate > 0) etaMs = ((1000 * left) / rate) * realPerGuestMs;
    } else if (dirtyBps !== null) {
      const net = rate - dirtyBps;
      converging = net > 0;
      if (converging) etaMs = ((1000 * left) / net) * realPerGuestMs;
    }
  }
  return { percent, rateBps: rate, dirtyBps, converging, etaMs };
}

/**
 * Bytes per second of the guest's clock between the oldest sample of the
 * window and `s`, and how many real ms pass per guest ms (1 on real hosts;
 * a simulator's guest may run faster), so that an ETA comes out in real time.
 */
function measuredRate(
  earlier: readonly RawSample[],
  s: RawSample,
): { rate: number | null; realPerGuestMs: number } {
  let base: RawSample | undefined;
  for (const e of earlier) {
    if (e.phase !== s.phase || e.memoryProcessed === null || e.t >= s.t) continue;
    if (s.t - e.t <= RATE_WINDOW_MS) {
      base = e;
      break;
    }
    base = e; // older than the window: keep the newest such one unless a sample in the window follows
  }
  if (base === undefined || s.memoryProcessed === null) {
    // One sample of this phase so far: QEMU's own figure describes pre-copy's traffic; post-copy's
    // first sample would only repeat pre-copy's rate, which says nothing about post-copy.
    return { rate: s.phase === 'precopy' ? s.memoryBps : null, realPerGuestMs: 1 };
  }
  const real = s.t - base.t;
  const guest =
    s.jobElapsedMs !== null && base.jobElapsedMs !== null && s.jobElapsedMs > base.jobElapsedMs
      ? s.jobElapsedMs - base.jobElapsedMs
      : real;
  if (guest <= 0) return { rate: null, realPerGuestMs: 1 };
  const bytes = Math.max(0, s.memoryProcessed - base.memoryProcessed!);
  return { rate: (bytes * 1000) / guest, realPerGuestMs: real > 0 ? real / guest : 1 };
}
