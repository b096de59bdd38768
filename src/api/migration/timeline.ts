/**
 * One timeline per migration: what the Migration observed, in order, on one
 * clock (real milliseconds since it was created): job-statistics samples with
 * their derived figures, both sides' events, the orchestration's steps, the
 * post-copy switch, aborts, notes, and the end with both sides' states. The
 * progress records, the CLI's line and --json, the summary and the chart are
 * all views of it.
 *
 * It stays bounded however long the migration runs: past `maxSamples`
 * samples (or `maxEvents` events and notes) every other one is dropped,
 * oldest first, keeping the first sample of each pass and the latest; the
 * figures of the records kept do not change. Steps, switches and the end are
 * never dropped.
 */
import { VirtwireError } from '../../errors.js';
import type {
  EndRecord,
  NoteRecord,
  ProgressRecord,
  SwitchRecord,
  TimelineJson,
  TimelineMeta,
  TimelineRecord,
} from './records.js';

export interface TimelineLimits {
  /** Samples kept before thinning (default 1000: 8 minutes at 2 per second, then coarser). */
  readonly maxSamples?: number;
  /** Events, aborts and notes kept before thinning (default 500). */
  readonly maxEvents?: number;
}

/** A saved timeline that cannot be read: names what is wrong. */
export class TimelineFormatError extends VirtwireError {
  override name = 'TimelineFormatError';
}

const DEFAULT_MAX_SAMPLES = 1000;
const DEFAULT_MAX_EVENTS = 500;

const isSample = (r: TimelineRecord): r is ProgressRecord => r.type === 'progress';
const isThinnableEvent = (r: TimelineRecord): boolean =>
  r.type === 'event' || r.type === 'note' || r.type === 'abort';

/** A migration's timeline, live while it runs and complete after (`migration.timeline`). */
export class MigrationTimeline {
  private list: TimelineRecord[] = [];
  private readonly listeners = new Set<(r: TimelineRecord) => void>();
  private readonly maxSamples: number;
  private readonly maxEvents: number;
  private samples = 0;
  private events = 0;
  private thinnedSamples = 0;
  private thinnedEvents = 0;
  private last: ProgressRecord | null = null;
  private endRecord: EndRecord | null = null;
  private readonly origin: number;

  constructor(
    readonly meta: TimelineMeta,
    limits: TimelineLimits = {},
    /** performance.now() at t = 0. */
    origin: number = performance.now(),
  ) {
    this.maxSamples = Math.max(4, limits.maxSamples ?? DEFAULT_MAX_SAMPLES);
    this.maxEvents = Math.max(4, limits.maxEvents ?? DEFAULT_MAX_EVENTS);
    this.origin = origin;
  }

  /** Milliseconds since t = 0, now. */
  now(): number {
    return performance.now() - this.origin;
  }

  /** Every record kept, in the order they happened. */
  get records(): readonly TimelineRecord[] {
    return this.list.slice();
  }

  /** The latest sample (kept even if thinning dropped it from `records`). */
  get latest(): ProgressRecord | null {
    return this.last;
  }

  /** The end record, once the migration ended (or was left). */
  get end(): EndRecord | null {
    return this.endRecord;
  }

  /** The switch to post-copy that took effect, if any. */
  get switched(): SwitchRecord | null {
    for (const r of this.list) if (r.type === 'switch' && r.ok) return r;
    return null;
  }

  /** How many records thinning dropped so far. */
  get thinned(): { readonly samples: number; readonly events: number } {
    return { samples: this.thinnedSamples, events: this.thinnedEvents };
  }

  /** Calls `listener` with every record appended from now on; returns the function that stops it. */
  subscribe(listener: (r: TimelineRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The records so far, then each new one as it comes, until the end record. */
  async *follow(): AsyncGenerator<TimelineRecord> {
    const queue: TimelineRecord[] = this.list.slice();
    let wake: (() => void) | null = null;
    const off = this.subscribe((r) => {
      queue.push(r);
      wake?.();
    });
    try {
      for (;;) {
        while (queue.length) {
          const r = queue.shift()!;
          yield r;
          if (r.type === 'end') return;
        }
        if (this.endRecord) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = null;
      }
    } finally {
      off();
    }
  }

  /**
   * Adds what the application did or decided (the CLI notes its Ctrl-C
   * handling here, so that its --json and chart show it). Ignored after the end.
   */
  note(message: string, action: string | null = null): NoteRecord | null {
    if (this.endRecord) return null;
    const r: NoteRecord = { type: 'note', t: this.now(), message, action };
    this.append(r);
    return r;
  }

  /** The timeline as JSON, read back with timelineFromJson. */
  toJSON(): TimelineJson {
    return {
      version: 1,
      meta: this.meta,
      records: this.list.slice(),
      thinned: this.thinned,
    };
  }

  /** @internal Appends a record; the Migration's recorder is the only writer besides note(). */
  append(r: TimelineRecord): void {
    if (this.endRecord) return;
    this.list.push(r);
    if (isSample(r)) {
      this.last = r;
      if (++this.samples > this.maxSamples) this.thinSamples();
    } else if (isThinnableEvent(r)) {
      if (++this.events > this.maxEvents) this.thinEvents();
    } else if (r.type === 'end') this.endRecord = r;
    for (const l of [...this.listeners]) l(r);
  }

  /** @internal A saved timeline says how much was thinned before it was saved. */
  countThinned(n: { readonly samples: number; readonly events: number }): void {
    this.thinnedSamples += n.samples;
    this.thinnedEvents += n.events;
  }

  private thinSamples(): void {
    // Keep the first sample of each pass (the chart's and the percent's anchor) and the newest.
    const anchors = new Set<TimelineRecord>();
    let key = '';
    for (const r of this.list) {
      if (!isSample(r)) continue;
      const k = `${r.phase}:${r.iteration}`;
      if (k !== key) anchors.add(r);
      key = k;
    }
    if (this.last) anchors.add(this.last);
    // The first post-copy sample stays whatever the bound: it says where post-copy's figures
    // start (the one sample with no post-copy rate and no ETA yet).
    const firstPostcopy = this.list.find((r) => isSample(r) && r.phase === 'postcopy');
    const dropped = this.thin(
      isSample,
      anchors,
      this.samples - Math.floor(this.maxSamples / 2),
      firstPostcopy,
    );
    this.samples -= dropped;
    this.thinnedSamples += dropped;
  }

  private thinEvents(): void {
    // Lifecycle events are few and each one matters; iteration events are the ones that pile up.
    const anchors = new Set<TimelineRecord>(
      this.list.filter((r) => r.type === 'event' && r.event === 'lifecycle'),
    );
    const dropped = this.thin(
      isThinnableEvent,
      anchors,
      this.events - Math.floor(this.maxEvents / 2),
    );
    this.events -= dropped;
    this.thinnedEvents += dropped;
  }

  /**
   * Drops every other candidate (oldest first), sparing the anchors while
   * others remain, until `want` are gone or nothing more can go; the first
   * and the last candidate, and `pinned`, always stay. Returns how many were dropped.
   */
  private thin(
    candidate: (r: TimelineRecord) => boolean,
    anchors: ReadonlySet<TimelineRecord>,
    want: number,
    pinned?: TimelineRecord,
  ): number {
    let dropped = 0;
    for (const spareAnchors of [true, false]) {
      while (dropped < want) {
        const cands = this.list.filter(candidate);
        const first = cands[0];
        const last = cands.at(-1);
        const gone = new Set<TimelineRecord>();
        let odd = false;
        for (const r of cands) {
          if (r === first || r === last || r === pinned || (spareAnchors && anchors.has(r)))
            continue;
          if (odd && dropped + gone.size < want) gone.add(r);
          odd = !odd;
        }
        if (gone.size === 0) break;
        this.list = this.list.filter((r) => !gone.has(r));
        dropped += gone.size;
      }
    }
    return dropped;
  }
}

const NULLABLE_NUMBERS = [
  'iteration',
  'memoryTotal',
  'memoryProcessed',
  'memoryRemaining',
  'memoryBps',
  'memoryDirtyRate',
  'memoryPageSize',
  'jobElapsedMs',
  'dataTotal',
  'dataProcessed',
  'dataRemaining',
  'postcopyRequests',
  'percent',
  'rateBps',
  'dirtyBps',
  'etaMs',
] as const;

const KNOWN_TYPES = new Set(['progress', 'step', 'event', 'switch', 'abort', 'note', 'end']);

/**
 * A timeline from saved records (the lines of `virtwire migrate --json`, or
 * `records` of a TimelineJson): lines of other types (the CLI's `start` and
 * `summary`) are skipped; a record of a known type that lacks what the views
 * need is a TimelineFormatError naming it.
 */
export function timelineFromRecords(
  meta: TimelineMeta,
  records: readonly unknown[],
  thinned: { samples: number; events: number } = { samples: 0, events: 0 },
): MigrationTimeline {
  // Never thinned again: a saved timeline is shown as it was saved.
  const tl = new MigrationTimeline(meta, {
    maxSamples: Number.MAX_SAFE_INTEGER,
    maxEvents: Number.MAX_SAFE_INTEGER,
  });
  records.forEach((raw, i) => {
    const r = checkRecord(raw, i);
    if (r) tl.append(r);
  });
  tl.countThinned(thinned);
  return tl;
}

/** Reads `JSON.stringify(migration.timeline)` back. */
export function timelineFromJson(json: unknown): MigrationTimeline {
  if (typeof json !== 'object' || json === null) throw new TimelineFormatError('not a timeline');
  const j = json as Partial<TimelineJson>;
  if (j.version !== 1)
    throw new TimelineFormatError(`unknown timeline version ${String(j.version)}`);
  if (!Array.isArray(j.records)) throw new TimelineFormatError('the timeline has no records');
  return timelineFromRecords(checkMeta(j.meta), j.records, j.thinned ?? undefined);
}

/** Checks a TimelineMeta read from a file. */
export function checkMeta(m: unknown): TimelineMeta {
  const o = (typeof m === 'object' && m !== null ? m : {}) as Record<string, unknown>;
  for (const k of ['domain', 'uuid', 'startedAt'] as const) {
    if (typeof o[k] !== 'string') throw new TimelineFormatError(`timeline meta: ${k} is missing`);
  }
  const mode = o.mode;
  if (mode !== 'managed' && mode !== 'p2p' && mode !== 'direct')
    throw new TimelineFormatError(`timeline meta: unknown mode ${JSON.stringify(mode)}`);
  return {
    domain: o.domain as string,
    uuid: o.uuid as string,
    startedAt: o.startedAt as string,
    mode,
    flags: typeof o.flags === 'number' ? o.flags : 0,
  };
}

function checkRecord(raw: unknown, i: number): TimelineRecord | null {
  if (typeof raw !== 'object' || raw === null) throw bad(i, 'not an object');
  const r = raw as Record<string, unknown>;
  if (typeof r.type !== 'string' || !KNOWN_TYPES.has(r.type)) return null;
  if (typeof r.t !== 'number' || !Number.isFinite(r.t)) throw bad(i, `${r.type} without a time t`);
  switch (r.type) {
    case 'progress':
      if (r.phase !== 'precopy' && r.phase !== 'postcopy') throw bad(i, 'progress without a phase');
      for (const k of NULLABLE_NUMBERS) {
        if (r[k] === undefined) r[k] = null; // older or partial lines
        if (r[k] !== null && typeof r[k] !== 'number')
          throw bad(i, `progress: ${k} is not a number`);
      }
      if (r.converging === undefined) r.converging = null;
      break;
    case 'event':
      if (r.side !== 'source' && r.side !== 'destination') throw bad(i, 'event without a side');
      if (typeof r.details !== 'object' || r.details === null)
        throw bad(i, 'event without details');
      break;
    case 'switch':
      if (typeof r.trigger !== 'string' || typeof r.ok !== 'boolean')
        throw bad(i, 'switch without trigger or ok');
      break;
    case 'end':
      if (typeof r.outcome !== 'string') throw bad(i, 'end without an outcome');
      break;
  }
  return r as unknown as TimelineRecord;
}

const bad = (i: number, what: string): TimelineFormatError =>
  new TimelineFormatError(`timeline record ${i + 1}: ${what}`);

export type { EndRecord, NoteRecord, ProgressRecord, SwitchRecord, TimelineRecord };
