/**
 * The records of a migration's timeline: plain objects, JSON as they are
 * (numbers, strings, booleans, null; no bigint, no Date), each with its
 * `type` and its time `t` in milliseconds on the migration's clock (real
 * time since the Migration was created). `virtwire migrate --json` writes
 * them one per line, so a saved run can be read back (`timelineFromRecords`).
 */
import type { DomainStateName } from '../names.js';
import type { RawSample, SampleFigures, TransferPhase } from './figures.js';

/** Where a migration's orchestration is: `setup` until the first migration call, `done` after the last. */
export type MigrationPhase =
  | 'setup'
  | 'begin'
  | 'prepare'
  | 'perform'
  | 'finish'
  | 'confirm'
  | 'done';

/** A job-statistics sample of the source and the figures derived from it. */
export interface ProgressRecord extends RawSample, SampleFigures {
  readonly type: 'progress';
  readonly phase: TransferPhase;
  readonly dataTotal: number | null;
  readonly dataProcessed: number | null;
  readonly dataRemaining: number | null;
  /** Pages the destination asked for (post-copy), so far. */
  readonly postcopyRequests: number | null;
}

/** The orchestration entered a step (begin, prepare, perform, finish, confirm, done). */
export interface StepRecord {
  readonly type: 'step';
  readonly t: number;
  readonly step: MigrationPhase;
}

/** A lifecycle event of either side. */
export interface LifecycleRecord {
  readonly type: 'event';
  readonly t: number;
  readonly side: 'source' | 'destination';
  readonly event: 'lifecycle';
  readonly details: {
    readonly event: string;
    readonly detail: string;
    readonly eventCode: number;
    readonly detailCode: number;
  };
}

/** The source started pre-copy pass `iteration` (QEMU's dirty-bitmap sync count). */
export interface IterationRecord {
  readonly type: 'event';
  readonly t: number;
  readonly side: 'source';
  readonly event: 'migration_iteration';
  readonly details: { readonly iteration: number };
}

/** The source's JOB_COMPLETED event, with its statistics by libvirt's field names. */
export interface JobCompletedRecord {
  readonly type: 'event';
  readonly t: number;
  readonly side: 'source';
  readonly event: 'job_completed';
  readonly details: { readonly stats: Readonly<Record<string, number | string | boolean>> };
}

/** A domain event of either side, as the timeline keeps it. */
export type EventRecord = LifecycleRecord | IterationRecord | JobCompletedRecord;

/** What made the switch to post-copy: a policy trigger, `startPostCopy()`, or someone else (seen in events). */
export type SwitchTrigger = 'iteration' | 'timeout' | 'manual' | 'external';

/**
 * The switch to post-copy: recorded when the daemon acknowledged the request
 * (or refused it), or when the events showed a switch nobody here asked for.
 */
export interface SwitchRecord {
  readonly type: 'switch';
  readonly t: number;
  readonly trigger: SwitchTrigger;
  /** When the request was sent; null for an external switch. */
  readonly requestedT: number | null;
  /** From the request to the daemon's reply; null for an external switch. */
  readonly latencyMs: number | null;
  /** False when the daemon refused (e.g. the migration had converged meanwhile). */
  readonly ok: boolean;
  readonly error: string | null;
}

/** An abort of the job was requested. */
export interface AbortRecord {
  readonly type: 'abort';
  readonly t: number;
  /** Aborting in post-copy (it fails the migration, which then needs recovery). */
  readonly postcopy: boolean;
  /** The daemon's refusal, if it refused. */
  readonly error: string | null;
}

/** Something an application did or decided about the migration (the CLI's Ctrl-C handling...). */
export interface NoteRecord {
  readonly type: 'note';
  readonly t: number;
  readonly message: string;
  /** What was done: `abort`, `suspend`, `leave`, `none`... */
  readonly action: string | null;
}

/** A domain's state on one side, as queried when the migration ended. */
export type SideState =
  | {
      readonly kind: 'domain';
      readonly state: DomainStateName;
      readonly reason: string;
      readonly stateCode: number;
      readonly reasonCode: number;
    }
  /** The host has no such domain (a transient domain that left, or one that never arrived). */
  | { readonly kind: 'absent' }
  /** Not asked (no connection to that host) or the query failed. */
  | { readonly kind: 'unknown'; readonly why: string };

/** How a migration ended; `detached`: the application stopped following it while it went on. */
export type MigrationOutcome = 'completed' | 'failed' | 'aborted' | 'detached';

/** The source's final job statistics, by name (bytes, ms, counts). */
export interface FinalStats {
  /** VIR_DOMAIN_JOB_*: 3 completed, 4 failed, 5 cancelled. */
  readonly jobType: number;
  readonly timeElapsedMs: number | null;
  readonly downtimeMs: number | null;
  readonly dataTotal: number | null;
  readonly dataProcessed: number | null;
  readonly memoryTotal: number | null;
  readonly memoryProcessed: number | null;
  readonly memoryRemaining: number | null;
  readonly memoryBps: number | null;
  readonly memoryIteration: number | null;
  readonly memoryPostcopyRequests: number | null;
}

/** The end of a migration (or of following it): its outcome and both sides' states, queried. */
export interface EndRecord {
  readonly type: 'end';
  readonly t: number;
  readonly outcome: MigrationOutcome;
  /** The orchestration step it ended in (`done` on success). */
  readonly step: MigrationPhase;
  /** Whether it had switched to post-copy. */
  readonly postcopy: boolean;
  readonly error: {
    readonly name: string;
    readonly message: string;
    /** libvirt's error name, e.g. VIR_ERR_OPERATION_ABORTED, when the daemon reported it. */
    readonly code: string | null;
  } | null;
  /** The source's final statistics, when it has them. */
  readonly stats: FinalStats | null;
  readonly source: SideState;
  readonly destination: SideState;
}

/** One record of a migration timeline; narrowed by `type`. */
export type TimelineRecord =
  | ProgressRecord
  | StepRecord
  | EventRecord
  | SwitchRecord
  | AbortRecord
  | NoteRecord
  | EndRecord;

/** What the timeline is about. */
export interface TimelineMeta {
  readonly domain: string;
  readonly uuid: string;
  /** Wall-clock time of t = 0, ISO 8601. */
  readonly startedAt: string;
  /** managed (the client drives both daemons), p2p or direct. */
  readonly mode: 'managed' | 'p2p' | 'direct';
  /** The VIR_MIGRATE_* flags. */
  readonly flags: number;
}

/** A timeline as JSON: `JSON.stringify(migration.timeline)`. */
export interface TimelineJson {
  readonly version: 1;
  readonly meta: TimelineMeta;
  readonly records: readonly TimelineRecord[];
  /** Records dropped to keep the timeline bounded (every other one, oldest first). */
  readonly thinned: { readonly samples: number; readonly events: number };
}
