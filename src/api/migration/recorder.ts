/**
 * How a Migration writes its timeline: job statistics become samples with
 * their figures, events become plain records, performance.now() times become
 * the timeline's clock. The only writer of a migration's timeline (besides
 * the application's notes).
 */
import type { TypedValue } from '../typed-params.js';
import type { MigrationPhase } from './errors.js';
import { RATE_WINDOW_MS, type RawSample, sampleFigures, type TransferPhase } from './figures.js';
import type { JobStats } from './job-stats.js';
import type {
  EndRecord,
  EventRecord,
  FinalStats,
  MigrationOutcome,
  ProgressRecord,
  SideState,
  SwitchRecord,
  SwitchTrigger,
  TimelineMeta,
} from './records.js';
import { MigrationTimeline, type TimelineLimits } from './timeline.js';

/** An event of either side, as the Migration receives it (see MigrationEvent). */
export interface ObservedEvent {
  readonly side: 'source' | 'destination';
  readonly event:
    | {
        readonly type: 'lifecycle';
        readonly event: string;
        readonly detail: string;
        readonly eventCode: number;
        readonly detailCode: number;
      }
    | { readonly type: 'migration_iteration'; readonly iteration: number }
    | { readonly type: 'job_completed'; readonly stats: Readonly<Record<string, TypedValue>> };
}

const n = (v: number | undefined): number | null => (v === undefined ? null : v);

/** JSON has no bigint: statistics are byte counts and times well below 2^53. */
function plain(v: TypedValue): number | string | boolean {
  return typeof v === 'bigint' ? Number(v) : v;
}

/** The named final statistics of a completed (or failed) job. */
export function finalStats(s: JobStats): FinalStats {
  return {
    jobType: s.type,
    timeElapsedMs: n(s.timeElapsedMs),
    downtimeMs: n(s.downtimeMs),
    dataTotal: n(s.dataTotal),
    dataProcessed: n(s.dataProcessed),
    memoryTotal: n(s.memoryTotal),
    memoryProcessed: n(s.memoryProcessed),
    memoryRemaining: n(s.memoryRemaining),
    memoryBps: n(s.memoryBps),
    memoryIteration: n(s.memoryIteration),
    memoryPostcopyRequests: n(s.memoryPostcopyRequests),
  };
}

export class TimelineRecorder {
  readonly timeline: MigrationTimeline;
  /** Recent samples of the current phase, for the measured rates. */
  private recent: RawSample[] = [];

  constructor(
    meta: TimelineMeta,
    /** performance.now() at t = 0. */
    private readonly origin: number,
    limits?: TimelineLimits,
  ) {
    this.timeline = new MigrationTimeline(meta, limits, origin);
  }

  /** A performance.now() time on the timeline's clock. */
  at(perfMs: number): number {
    return perfMs - this.origin;
  }

  /**
   * A job-statistics sample. Returns null (and records nothing) while the job
   * has no memory figures yet: libvirt reports zeros until QEMU starts sending.
   */
  sample(s: JobStats, phase: TransferPhase): ProgressRecord | null {
    if ((s.memoryTotal ?? 0) === 0 && (s.memoryProcessed ?? 0) === 0) return null;
    const raw: RawSample = {
      t: this.timeline.now(),
      phase,
      iteration: n(s.memoryIteration),
      memoryTotal: n(s.memoryTotal),
      memoryProcessed: n(s.memoryProcessed),
      memoryRemaining: n(s.memoryRemaining),
      memoryBps: n(s.memoryBps),
      memoryDirtyRate: n(s.memoryDirtyRate),
      memoryPageSize: n(s.memoryPageSize),
      jobElapsedMs: n(s.timeElapsedMs),
    };
    if (this.recent.length && this.recent[0]!.phase !== phase) this.recent = [];
    const r: ProgressRecord = {
      type: 'progress',
      ...raw,
      dataTotal: n(s.dataTotal),
      dataProcessed: n(s.dataProcessed),
      dataRemaining: n(s.dataRemaining),
      postcopyRequests: n(s.memoryPostcopyRequests),
      ...sampleFigures(this.recent, raw),
    };
    this.recent.push(raw);
    // keep one sample older than the window, so a slow poll still has a baseline
    while (this.recent.length > 2 && raw.t - this.recent[1]!.t > RATE_WINDOW_MS)
      this.recent.shift();
    this.timeline.append(r);
    return r;
  }

  step(step: MigrationPhase): void {
    this.timeline.append({ type: 'step', t: this.timeline.now(), step });
  }

  event(e: ObservedEvent): void {
    const t = this.timeline.now();
    const ev = e.event;
    let r: EventRecord;
    if (ev.type === 'lifecycle') {
      const { event, detail, eventCode, detailCode } = ev;
      r = {
        type: 'event',
        t,
        side: e.side,
        event: 'lifecycle',
        details: { event, detail, eventCode, detailCode },
      };
    } else if (ev.type === 'migration_iteration') {
      r = {
        type: 'event',
        t,
        side: 'source',
        event: 'migration_iteration',
        details: { iteration: ev.iteration },
      };
    } else {
      const stats = Object.fromEntries(Object.entries(ev.stats).map(([k, v]) => [k, plain(v)]));
      r = { type: 'event', t, side: 'source', event: 'job_completed', details: { stats } };
    }
    this.timeline.append(r);
  }

  /** The daemon answered a switch request sent at `requestedAt` (performance.now() ms). */
  switchAnswered(
    trigger: Exclude<SwitchTrigger, 'external'>,
    requestedAt: number,
    repliedAt: number,
    error: Error | null,
  ): SwitchRecord {
    const r: SwitchRecord = {
      type: 'switch',
      t: this.at(repliedAt),
      trigger,
      requestedT: this.at(requestedAt),
      latencyMs: repliedAt - requestedAt,
      ok: error === null,
      error: error?.message ?? null,
    };
    this.timeline.append(r);
    return r;
  }

  /** The events show a switch nobody here asked for (virsh migrate-postcopy, say). */
  switchSeen(): void {
    this.timeline.append({
      type: 'switch',
      t: this.timeline.now(),
      trigger: 'external',
      requestedT: null,
      latencyMs: null,
      ok: true,
      error: null,
    });
  }

  abort(postcopy: boolean, error: Error | null): void {
    this.timeline.append({
      type: 'abort',
      t: this.timeline.now(),
      postcopy,
      error: error?.message ?? null,
    });
  }

  end(e: {
    outcome: MigrationOutcome;
    step: MigrationPhase;
    postcopy: boolean;
    error: EndRecord['error'];
    stats: JobStats | null;
    source: SideState;
    destination: SideState;
  }): EndRecord {
    const r: EndRecord = {
      type: 'end',
      t: this.timeline.now(),
      outcome: e.outcome,
      step: e.step,
      postcopy: e.postcopy,
      error: e.error,
      stats: e.stats ? finalStats(e.stats) : null,
      source: e.source,
      destination: e.destination,
    };
    this.timeline.append(r);
    return this.timeline.end ?? r;
  }
}
