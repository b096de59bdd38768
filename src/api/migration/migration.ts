// One state machine (begin, pre-copy, the switch, post-copy, done or failed), with its timeline
// and link watch, kept in one file past ~700 lines so that every transition stays in view.
/**
 * The Migration handle: a migration in progress, its events, progress,
 * post-copy switch and outcome. The calls it makes on the domain go through
 * the domain's own methods; the protocol runs in managed.ts.
 */
import { type MigrationPhaseMessage, migrationPhaseChannel, nextId } from '../../diagnostics.js';
import {
  VirDomainMigrateFlags as F,
  VirDomainAbortJobFlagsValues,
  VirDomainMigrateMaxSpeedFlags,
} from '../../generated/api.js';
import type { CallOptions } from '../../rpc/client.js';
import { ConnectionClosedError } from '../../rpc/errors.js';
import { type DomainEvent, type EventGap, isEventGap, type Subscription } from '../events.js';
import type { MigrationConnection, MigrationDomain } from './contract.js';
import { asError, MigrationError, type MigrationPhase, PostcopyFailedError } from './errors.js';
import type { SampleFigures } from './figures.js';
import { interrupted, LinkWatch, linkEnded, postcopyAdvice } from './interruption.js';
import { hasJob, JOB_COMPLETED, type JobStats, jobStats } from './job-stats.js';
import { migrateManaged, migrateUnmanaged, type Orchestration } from './managed.js';
import {
  destinationSettling,
  errorRecord,
  failureOutcome,
  sameHost,
  settledSide,
  sideState,
  sideStateText,
} from './outcome.js';
import { type MigrateOptions, MigrationPlan } from './plan.js';
import { TimelineRecorder } from './recorder.js';
import type { EndRecord, ProgressRecord, SideState } from './records.js';
import type { MigrationTimeline } from './timeline.js';

/**
 * How long a migration whose link ended waits for its (supervised)
 * connections to be back before it reports what the daemons say.
 */
const REPORT_WAIT_MS = 30_000;

/**
 * A progress snapshot of a running migration: the source's job statistics
 * and the figures derived from them, as recorded in the timeline (`record`).
 */
export interface MigrationProgress extends JobStats, Omit<SampleFigures, 'percent'> {
  readonly phase: 'precopy' | 'postcopy';
  /** Percent of memory on the destination, 0-100, when known. */
  readonly percent: number | undefined;
  readonly at: Date;
  /** Milliseconds on the migration's clock (see `migration.timeline`). */
  readonly t: number;
  /** The timeline record of this sample. */
  readonly record: ProgressRecord;
}

/** What `migration.done` resolves with. */
export interface MigrationResult<D extends MigrationDomain = MigrationDomain> {
  /** The domain on the destination; null for peer-to-peer and direct migration (no destination connection). */
  readonly domain: D | null;
  /** Final statistics from the source (its JOB_COMPLETED event, or its completed job stats). */
  readonly stats: JobStats | null;
  /** The domain's state on the source when the migration ended, as queried. */
  readonly sourceState: SideState;
  /** The domain's state on the destination when the migration ended, as queried. */
  readonly destinationState: SideState;
}

/** Timestamps of the automatic post-copy switch, for latency measurements (performance.now() ms). */
export interface PostcopySwitchTiming {
  readonly trigger: 'iteration' | 'timeout' | 'manual';
  readonly triggeredAt: number;
  readonly requestedAt: number;
  readonly repliedAt: number;
}

/** One event of either side of a migration. */
export type MigrationEvent =
  | { readonly side: 'source' | 'destination'; readonly event: DomainEvent<'lifecycle'> }
  | { readonly side: 'source'; readonly event: DomainEvent<'migration_iteration'> }
  | { readonly side: 'source'; readonly event: DomainEvent<'job_completed'> };

/** The connections a detached migration's end states are queried through. */
interface Via {
  readonly source: MigrationConnection | null;
  readonly destination: MigrationConnection | null;
}

/** Where a migration goes: a destination connection (managed), or a URI (peer-to-peer, direct). */
type Target<D extends MigrationDomain> =
  | { readonly destination: MigrationConnection<D>; readonly destinationUri: null }
  | { readonly destination: null; readonly destinationUri: string };

/**
 * A migration in progress, returned at once by `domain.migrate()` /
 * `domain.migrateToURI()`. `done` settles with the destination domain and the
 * final statistics, or with a MigrationError from the first failing phase.
 * Each phase is published on `virtwire:migration:phase` (see diagnostics.ts).
 */
export class Migration<D extends MigrationDomain = MigrationDomain> implements AsyncDisposable {
  /** Process-unique number, the `migrationId` of its `virtwire:migration:phase` messages. */
  readonly id = nextId();
  readonly done: Promise<MigrationResult<D>>;
  /** Where the orchestration is. */
  phase: MigrationPhase = 'setup';
  /** True once the switch to post-copy was requested and acknowledged (or seen in events). */
  postcopyStarted = false;
  /** When the automatic switch happened, for latency measurements. */
  postcopySwitch: PostcopySwitchTiming | null = null;
  private readonly startedAt = performance.now();
  private readonly subs: Array<Subscription<unknown>> = [];
  private readonly listeners = new Set<(e: MigrationEvent) => void>();
  private readonly eventLog: MigrationEvent[] = [];
  private finished = false;
  private completedStats: JobStats | null = null;
  private completedWaiters: Array<(s: JobStats) => void> = [];
  private postcopyTimer: NodeJS.Timeout | null = null;
  // The timeline (see timeline.ts): written here at enter(), record(), the sampler and the switch.
  private readonly recorder: TimelineRecorder;
  private sampleIntervalMs = 500;
  private readonly progressListeners = new Set<(p: MigrationProgress) => void>();
  /** A switch request is on its way: its events are not an external switch. */
  private switchAsked = false;
  /** For peer-to-peer and direct migration: a connection to the destination to watch it through. */
  private observer: MigrationConnection | null = null;
  /** Counts switch requests and answers: a sample in flight while one happens is of either phase. */
  private switchEvents = 0;
  private detached = false;
  /** A pre-copy abort() that libvirt accepted: the job's failure after it is the abort's. */
  private abortAccepted = false;
  /** Gaps in this migration's event subscriptions (supervised connections that reconnected). */
  private readonly gaps: Array<{ side: 'source' | 'destination'; gap: EventGap }> = [];

  /**
   * Managed migration of `domain` to the daemon of `dest` (the client drives
   * both). Options are checked before anything is sent.
   */
  static managed<D extends MigrationDomain>(
    domain: D,
    dest: MigrationConnection<D>,
    options?: MigrateOptions | MigrationPlan,
  ): Migration<D> {
    const plan = MigrationPlan.from(options);
    if (plan.has(F.VIR_MIGRATE_PEER2PEER)) {
      throw new TypeError(
        'peer-to-peer migration takes the destination URI: use migrateToURI(dconnuri, options)',
      );
    }
    return new Migration(domain, plan, { destination: dest, destinationUri: null });
  }

  /** Peer-to-peer (`peer2peer`) or direct migration of `domain` to `uri`; see Domain.migrateToURI. */
  static toURI<D extends MigrationDomain>(
    domain: D,
    uri: string,
    options?: MigrateOptions | MigrationPlan,
  ): Migration<D> {
    return new Migration<D>(domain, MigrationPlan.from(options), {
      destination: null,
      destinationUri: uri,
    });
  }

  private constructor(
    /** The domain on the source. */
    readonly domain: D,
    /** The checked options this migration runs with. */
    readonly plan: MigrationPlan,
    private readonly target: Target<D>,
  ) {
    const mode = target.destination
      ? 'managed'
      : plan.has(F.VIR_MIGRATE_PEER2PEER)
        ? 'p2p'
        : 'direct';
    this.recorder = new TimelineRecorder(
      {
        domain: domain.name,
        uuid: domain.uuid,
        startedAt: new Date().toISOString(),
        mode,
        flags: plan.flags,
      },
      this.startedAt,
    );
    this.done = this.run();
    this.done.catch(() => {}); // reported through `done`; no unhandled rejection if nobody awaits it
  }

  /** The destination connection of a managed migration; null for peer-to-peer and direct. */
  get destination(): MigrationConnection<D> | null {
    return this.target.destination;
  }

  /** The URI of a peer-to-peer or direct migration; null for managed. */
  get destinationUri(): string | null {
    return this.target.destinationUri;
  }

  /** The VIR_MIGRATE_* flags the migration was started with. */
  get flags(): number {
    return this.plan.flags;
  }

  /**
   * Everything this migration observed, in order, on one clock: samples of the
   * source's job statistics (every `sampleEvery` ms) with the figures derived
   * from them, both sides' events, the post-copy switch, aborts, and the end
   * with both sides' states. Live while it runs, complete after; bounded;
   * `JSON.stringify` gives its plain form. See timeline.ts.
   */
  get timeline(): MigrationTimeline {
    return this.recorder.timeline;
  }

  /**
   * Peer-to-peer and direct migration have no destination connection of
   * their own: give one (to the destination's daemon) and the migration
   * follows the destination's lifecycle events through it and queries the
   * domain's final state there. Call it right after starting the migration.
   */
  observeDestination(conn: MigrationConnection): this {
    if (this.target.destination) throw new TypeError('a managed migration has its destination');
    this.observer = conn;
    this.followDestination(conn);
    return this;
  }

  /** The destination's lifecycle events: the post-copy resume, and the timeline's record. */
  private followDestination(conn: MigrationConnection): Promise<void> {
    const dl = conn.events.domain('lifecycle', { domain: this.domain });
    this.subs.push(dl as Subscription<unknown>);
    void this.pump(
      dl,
      (event) => {
        if (event.event === 'resumed' && event.detail === 'postcopy') this.postcopySeen();
        this.record({ side: 'destination', event });
      },
      'destination',
    );
    return dl.ready;
  }

  /** Samples the source's job statistics into the timeline every `ms` (default 500). */
  sampleEvery(ms: number): this {
    if (!Number.isFinite(ms) || ms <= 0)
      throw new RangeError(`sampleEvery needs a positive number of milliseconds, got ${ms}`);
    this.sampleIntervalMs = ms;
    return this;
  }

  /** Events of both sides for this domain, from the moment the migration started. Ends when it does. */
  async *events(): AsyncGenerator<MigrationEvent> {
    let i = 0;
    let wake: (() => void) | null = null;
    const l = (): void => wake?.();
    this.listeners.add(l);
    try {
      for (;;) {
        while (i < this.eventLog.length) yield this.eventLog[i++]!;
        if (this.finished) return;
        await new Promise<void>((r) => {
          wake = r;
          void this.done.then(
            () => r(),
            () => r(),
          );
        });
        wake = null;
      }
    } finally {
      this.listeners.delete(l);
    }
  }

  /**
   * The timeline's samples of the source's job statistics as they are taken
   * (every `intervalMs`, default 500; the fastest interval asked for wins),
   * until the migration ends: phase, memory total/processed/remaining, rates,
   * iteration, and the derived figures (percent, measured rate, ETA).
   */
  async *progress(
    opts: { intervalMs?: number; signal?: AbortSignal } = {},
  ): AsyncGenerator<MigrationProgress> {
    if (opts.intervalMs !== undefined)
      this.sampleEvery(Math.min(this.sampleIntervalMs, opts.intervalMs));
    const queue: MigrationProgress[] = [];
    let wake: (() => void) | null = null;
    const listener = (p: MigrationProgress): void => {
      queue.push(p);
      wake?.();
    };
    this.progressListeners.add(listener);
    try {
      for (;;) {
        while (queue.length) yield queue.shift()!;
        if (this.finished || this.detached || opts.signal?.aborted) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
          void this.done.then(
            () => resolve(),
            () => resolve(),
          );
          opts.signal?.addEventListener('abort', () => resolve(), { once: true });
        });
        wake = null;
      }
    } finally {
      this.progressListeners.delete(listener);
    }
  }

  /** Polls the source's job statistics into the timeline from Perform until the migration ends. */
  private async sample(): Promise<void> {
    while (!this.finished && !this.detached) {
      const postcopy = this.postcopyStarted;
      const switches = this.switchEvents;
      const pending = this.switchAsked && !this.postcopyStarted;
      try {
        const s = await this.domain.jobStats();
        if (this.finished || this.detached) return;
        // A sample in flight while the switch was asked for, answered or seen could be of
        // either phase: skip it rather than label it wrong.
        const settled =
          !pending && switches === this.switchEvents && postcopy === this.postcopyStarted;
        if (hasJob(s) && settled) {
          const r = this.recorder.sample(s, postcopy ? 'postcopy' : 'precopy');
          if (r) this.emitProgress(s, r);
        }
      } catch {
        // The source domain goes away once a transient domain has moved, or the connection
        // ended: either way the outcome is reported through `done`.
        return;
      }
      await this.sleepUnlessDone(this.sampleIntervalMs);
    }
  }

  private emitProgress(s: JobStats, r: ProgressRecord): void {
    if (this.progressListeners.size === 0) return;
    const p: MigrationProgress = {
      ...s,
      phase: r.phase,
      percent: r.percent ?? undefined,
      rateBps: r.rateBps,
      dirtyBps: r.dirtyBps,
      converging: r.converging,
      etaMs: r.etaMs,
      at: new Date(),
      t: r.t,
      record: r,
    };
    for (const l of [...this.progressListeners]) l(p);
  }

  private sleepUnlessDone(ms: number): Promise<void> {
    return new Promise<void>((r) => {
      const t = setTimeout(r, ms);
      const wake = (): void => {
        clearTimeout(t);
        r();
      };
      void this.done.then(wake, wake);
    });
  }

  /** Switches a post-copy migration to post-copy now (sent on the source while Perform runs). */
  async startPostCopy(opts?: CallOptions): Promise<void> {
    await this.requestSwitch('manual', performance.now(), opts);
  }

  /** Sends the switch and records the daemon's answer with its latency. */
  private async requestSwitch(
    trigger: 'iteration' | 'timeout' | 'manual',
    requestedAt: number,
    opts?: CallOptions,
  ): Promise<void> {
    this.switchAsked = true;
    this.switchEvents++;
    try {
      await this.domain.migrateStartPostCopy(0, opts);
    } catch (err) {
      this.switchEvents++;
      this.switchAsked = this.postcopyStarted;
      this.recorder.switchAnswered(trigger, requestedAt, performance.now(), asError(err));
      throw err;
    }
    this.switchEvents++;
    this.postcopyStarted = true;
    this.recorder.switchAnswered(trigger, requestedAt, performance.now(), null);
  }

  /** Aborts the job on the source. During post-copy only `{ postcopy: true }` is accepted, and it fails the migration. */
  async abort(opts: { postcopy?: boolean } & CallOptions = {}): Promise<void> {
    const postcopy = opts.postcopy === true || this.postcopyStarted;
    try {
      if (opts.postcopy)
        await this.domain.abortJobFlags(
          VirDomainAbortJobFlagsValues.VIR_DOMAIN_ABORT_JOB_POSTCOPY,
          opts,
        );
      else await this.domain.abortJob(opts);
    } catch (err) {
      this.recorder.abort(postcopy, asError(err));
      throw err;
    }
    if (!postcopy) this.abortAccepted = true;
    this.recorder.abort(postcopy, null);
  }

  /**
   * Stops following the migration, which goes on without this client's
   * attention: sampling and events stop, and the timeline ends with
   * `detached` and both sides' states. Closing the connection a managed
   * migration runs on makes libvirt end it (cancelled in pre-copy; in
   * post-copy the source is marked paused, post-copy failed): an application
   * that leaves does so in `release`, which runs once following has stopped
   * and returns the connections to query the states through (fresh ones), so
   * the end record shows what libvirt made of the departure.
   */
  async detach(
    opts: {
      release?: () => Promise<{
        source: MigrationConnection | null;
        destination: MigrationConnection | null;
      }>;
    } = {},
  ): Promise<EndRecord> {
    const ended = this.timeline.end;
    if (ended) return ended;
    this.detached = true;
    await Promise.all(this.subs.map((s) => s.close().catch(() => {})));
    const via = opts.release ? await opts.release() : null;
    let { source, destination } = await this.sides(via);
    if (
      via &&
      this.target.destination &&
      !this.postcopyStarted &&
      destinationSettling(destination)
    ) {
      // A managed migration left in pre-copy: libvirt cancels it and removes the incoming guest.
      ({ source, destination } = await this.settled(source, destination, via));
    }
    return this.recorder.end({
      outcome: 'detached',
      step: this.phase,
      postcopy: this.postcopyStarted,
      error: null,
      stats: null,
      source,
      destination,
    });
  }

  /**
   * Both sides' states, queried now: through `via`'s connections when given,
   * and through `arrived` (the destination's handle of the migrated domain) when there is one.
   */
  private async sides(
    via: Via | null = null,
    arrived: D | null = null,
  ): Promise<{ source: SideState; destination: SideState }> {
    const sourceConn = via ? via.source : this.domain.conn;
    const destConn = via ? via.destination : (this.destination ?? this.observer);
    const [source, destination] = await Promise.all([
      sideState(sourceConn, this.domain.uuid, 'no connection to the source'),
      sideState(
        destConn,
        this.domain.uuid,
        'no connection to the destination (the source daemon drives it)',
        via ? null : arrived,
      ),
    ]);
    // Found on both sides: the same domain twice if both connections reach one host.
    if (source.kind === 'domain' && destination.kind === 'domain' && sourceConn && destConn) {
      if (await sameHost(sourceConn, destConn)) {
        return {
          source,
          destination: { kind: 'unknown', why: 'the destination is the source host itself' },
        };
      }
    }
    return { source, destination };
  }

  /** Both sides again, read until the destination stops settling (SETTLE_MS at most). */
  private async settled(
    source: SideState,
    destination: SideState,
    via: Via | null = null,
  ): Promise<{ source: SideState; destination: SideState }> {
    let both = { source, destination };
    await settledSide(
      destination,
      async () => {
        both = await this.sides(via);
        return both.destination;
      },
      destinationSettling,
    );
    return both;
  }

  /** Maximum tolerable downtime, in milliseconds. */
  setMaxDowntime(ms: number | bigint, opts?: CallOptions): Promise<void> {
    return this.domain.migrateSetMaxDowntime(ms, 0, opts);
  }

  /** Bandwidth limit in MiB/s, for pre-copy or (with `postcopy`) post-copy. */
  setMaxSpeed(
    mibps: number | bigint,
    opts: { postcopy?: boolean } & CallOptions = {},
  ): Promise<void> {
    const flags = opts.postcopy
      ? VirDomainMigrateMaxSpeedFlags.VIR_DOMAIN_MIGRATE_MAX_SPEED_POSTCOPY
      : 0;
    return this.domain.migrateSetMaxSpeed(mibps, flags, opts);
  }

  private enter(phase: MigrationPhase): void {
    this.phase = phase;
    this.recorder.step(phase);
    this.publish(phase);
    // Memory moves from Perform on; before it, the source's job statistics may still be those of
    // an earlier job (a post-copy migration QEMU has not finished, say), not this one's.
    if (phase === 'perform') void this.sample();
  }

  private publish(phase: MigrationPhase | 'failed', error?: Error): void {
    if (!migrationPhaseChannel.hasSubscribers) return;
    const message: MigrationPhaseMessage = {
      migrationId: this.id,
      domain: this.domain.name,
      uuid: this.domain.uuid,
      phase,
      elapsedMs: performance.now() - this.startedAt,
      ...(error ? { error } : {}),
    };
    migrationPhaseChannel.publish(message);
  }

  private async run(): Promise<MigrationResult<D>> {
    const watch = new LinkWatch({
      domain: this.domain,
      destination: this.destination,
      phase: () => this.phase,
      postcopyStarted: () => this.postcopyStarted,
      finished: () => this.finished,
    });
    const orchestration: Orchestration = {
      domain: this.domain,
      plan: this.plan,
      enter: (phase) => this.enter(phase),
      destinationGone: () => {
        const loss = watch.destinationGone();
        return loss
          ? new ConnectionClosedError(
              'eof',
              `the destination's connection ended during ${loss.phase} (${loss.reason}) and is not back`,
              { cause: loss.error },
            )
          : null;
      },
    };
    this.publish('setup');
    watch.start();
    try {
      await this.subscribe();
      const { afterMs } = this.plan.postcopyPolicy;
      if (afterMs !== null) {
        this.postcopyTimer = setTimeout(() => this.autoSwitch('timeout'), afterMs);
      }
      const t = this.target;
      let domain: D | null = null;
      if (t.destination === null) await migrateUnmanaged(orchestration, t.destinationUri);
      else
        domain = t.destination.handles.Domain(await migrateManaged(orchestration, t.destination));
      this.enter('done');
      const stats = await this.finalStats();
      const { source, destination } = await this.sides(null, domain);
      this.recorder.end({
        outcome: 'completed',
        step: 'done',
        postcopy: this.postcopyStarted,
        error: null,
        stats,
        source,
        destination,
      });
      return { domain, stats, sourceState: source, destinationState: destination };
    } catch (err) {
      watch.stop();
      const e =
        watch.losses.length > 0 || linkEnded(err)
          ? await this.explain(await this.afterLinkLoss(watch, asError(err)))
          : await this.explain(err);
      this.publish('failed', e);
      throw e;
    } finally {
      watch.stop();
      this.finished = true;
      if (this.postcopyTimer) clearTimeout(this.postcopyTimer);
      await Promise.all(this.subs.map((s) => s.close().catch(() => {})));
    }
  }

  private record(e: MigrationEvent): void {
    this.eventLog.push(e);
    this.recorder.event(e);
    for (const l of this.listeners) l(e);
  }

  /** The events show the switch to post-copy. */
  private postcopySeen(): void {
    if (!this.postcopyStarted && !this.switchAsked) this.recorder.switchSeen();
    this.postcopyStarted = true;
  }

  private async subscribe(): Promise<void> {
    const filter = { domain: this.domain };
    const src = this.domain.conn.events;
    const lifecycle = src.domain('lifecycle', filter);
    const iteration = src.domain('migration_iteration', filter);
    const completed = src.domain('job_completed', filter);
    this.subs.push(
      lifecycle as Subscription<unknown>,
      iteration as Subscription<unknown>,
      completed as Subscription<unknown>,
    );
    void this.pump(
      lifecycle,
      (event) => {
        if (event.event === 'suspended' && event.detail === 'postcopy') this.postcopySeen();
        this.record({ side: 'source', event });
      },
      'source',
    );
    void this.pump(
      iteration,
      (event) => {
        this.record({ side: 'source', event });
        this.onIteration(event.iteration);
      },
      'source',
    );
    void this.pump(
      completed,
      (event) => {
        this.record({ side: 'source', event });
        this.completedStats = jobStats(JOB_COMPLETED, event.params);
        for (const w of this.completedWaiters) w(this.completedStats);
        this.completedWaiters = [];
      },
      'source',
    );
    const waits = [lifecycle.ready, iteration.ready, completed.ready];
    if (this.destination) waits.push(this.followDestination(this.destination));
    await Promise.all(waits);
  }

  /**
   * Feeds a subscription's events to `fn`. A gap (a supervised connection
   * reconnected) is counted: events may be missing, so the outcome is taken
   * from the daemons, not from the events.
   */
  private async pump<T>(
    sub: Subscription<T | EventGap>,
    fn: (e: T) => void,
    side: 'source' | 'destination',
  ): Promise<void> {
    try {
      for await (const e of sub) {
        if (isEventGap(e)) this.gaps.push({ side, gap: e });
        else fn(e);
      }
    } catch {
      // the connection ended; the orchestration reports that through its calls
    }
  }

  private onIteration(iteration: number): void {
    const after = this.plan.postcopyPolicy.afterIterations;
    // libvirt reports iteration N+1 once N complete passes are done (virsh switches at 2).
    if (after !== null && iteration === after + 1) this.autoSwitch('iteration');
  }

  private autoSwitch(trigger: 'iteration' | 'timeout'): void {
    if (this.postcopyStarted || this.postcopySwitch || this.phase !== 'perform') return;
    const triggeredAt = performance.now();
    const requestedAt = performance.now();
    this.postcopySwitch = { trigger, triggeredAt, requestedAt, repliedAt: Number.NaN };
    this.requestSwitch(trigger, requestedAt).then(
      () => {
        this.postcopySwitch = { trigger, triggeredAt, requestedAt, repliedAt: performance.now() };
      },
      () => {
        // e.g. the migration converged first; the outcome shows in `done`
      },
    );
  }

  private waitCompleted(ms: number): Promise<JobStats | null> {
    if (this.completedStats) return Promise.resolve(this.completedStats);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(null), ms);
      this.completedWaiters.push((s) => {
        clearTimeout(t);
        resolve(s);
      });
    });
  }

  private async finalStats(): Promise<JobStats | null> {
    // An offline migration moves only the definition: no job runs, no JOB_COMPLETED comes.
    if (this.plan.has(F.VIR_MIGRATE_OFFLINE)) return null;
    const fromEvent = await this.waitCompleted(3000);
    if (fromEvent) return fromEvent;
    try {
      const s = await this.domain.jobStats({ completed: true });
      return Object.keys(s.raw).length ? s : null;
    } catch {
      return null; // a transient domain is gone from the source: only the event had them
    }
  }

  /**
   * A link ended while the migration ran: wait (bounded) for the links to be
   * back and report what the daemons say. After the switch to post-copy that
   * is a PostcopyFailedError, to recover with `postcopyResume`.
   */
  private async afterLinkLoss(watch: LinkWatch, err: Error): Promise<Error> {
    const report = await interrupted(
      this.domain.name,
      watch,
      this.domain,
      this.destination,
      err,
      REPORT_WAIT_MS,
    );
    if (!this.postcopyStarted) return report;
    return new PostcopyFailedError(
      `post-copy migration of ${this.domain.name} failed after the switch: ${report.message}; ${postcopyAdvice(report.destinationState)}`,
      report.sourceState,
      report.destinationState,
      { cause: report },
    );
  }

  /**
   * After a failure: both sides' states, queried; a PostcopyFailedError if
   * post-copy had started (no rollback); the end of the timeline.
   */
  private async explain(err: unknown): Promise<Error> {
    const cause = asError(err);
    let { source, destination } = await this.sides();
    if (!this.postcopyStarted && destinationSettling(destination)) {
      // Failed before the switch: libvirt is removing the incoming guest; report where it ends.
      ({ source, destination } = await this.settled(source, destination));
    }
    let e = cause;
    if (this.postcopyStarted && !(cause instanceof PostcopyFailedError)) {
      const dom = (x: SideState) => (x.kind === 'domain' ? x : null);
      e = new PostcopyFailedError(
        `post-copy migration of ${this.domain.name} failed after the switch: source ${sideStateText(source)}, destination ${sideStateText(destination)}; ` +
          `recover with migrate(dest, { postcopy: true, postcopyResume: true }): ${cause.message}`,
        dom(source),
        dom(destination),
        { cause },
      );
    }
    if (e instanceof MigrationError) e.sides = { source, destination };
    if (!this.detached) {
      this.recorder.end({
        outcome: failureOutcome(cause, this.abortAccepted && !this.postcopyStarted),
        // where it failed: the first error's phase (a PostcopyFailedError always says perform)
        step: cause instanceof MigrationError ? cause.phase : this.phase,
        postcopy: this.postcopyStarted,
        error: errorRecord(e),
        stats: await this.failedStats(source),
        source,
        destination,
      });
    }
    return e;
  }

  /** What libvirt kept of a failed job's statistics (libvirt keeps them for the source domain). */
  private async failedStats(source: SideState): Promise<JobStats | null> {
    if (source.kind !== 'domain') return null;
    try {
      const s = await this.domain.jobStats({ completed: true, timeoutMs: 5000 });
      return hasJob(s) ? s : null;
    } catch {
      return null;
    }
  }

  /** Ends event subscriptions early; does not stop the migration (use abort()). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.done.catch(() => {});
  }
}
