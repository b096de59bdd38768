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
import { isNoDomain } from '../../rpc/errors.js';
import type { DomainEvent, Subscription } from '../events.js';
import type { DomainState } from '../names.js';
import type { MigrationConnection, MigrationDomain } from './contract.js';
import { asError, type MigrationPhase, PostcopyFailedError } from './errors.js';
import { hasJob, JOB_COMPLETED, type JobStats, jobStats } from './job-stats.js';
import { migrateManaged, migrateUnmanaged, type Orchestration } from './managed.js';
import { type MigrateOptions, MigrationPlan } from './plan.js';

/** A progress snapshot of a running migration. */
export interface MigrationProgress extends JobStats {
  readonly phase: 'precopy' | 'postcopy';
  /** Percent of memory transferred, 0-100, when known. */
  readonly percent: number | undefined;
  readonly at: Date;
}

export interface MigrationResult<D extends MigrationDomain = MigrationDomain> {
  /** The domain on the destination; null for peer-to-peer and direct migration (no destination connection). */
  readonly domain: D | null;
  /** Final statistics from the source (its JOB_COMPLETED event, or its completed job stats). */
  readonly stats: JobStats | null;
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
   * Job statistics of the source, every `intervalMs` (default 500), while the
   * migration runs: phase, memory total/processed/remaining, rate, dirty rate,
   * iteration.
   */
  async *progress(
    opts: { intervalMs?: number; signal?: AbortSignal } = {},
  ): AsyncGenerator<MigrationProgress> {
    const interval = opts.intervalMs ?? 500;
    while (!this.finished && !opts.signal?.aborted) {
      try {
        const s = await this.domain.jobStats();
        if (this.finished) return;
        // no job before it starts and after it ends: nothing to report
        if (hasJob(s)) yield this.snapshot(s);
      } catch (err) {
        // The source domain goes away once a transient domain has moved: that is the end, not a failure.
        if (this.finished || isNoDomain(err) || this.phase === 'finish' || this.phase === 'confirm')
          return;
        throw err;
      }
      await this.sleepUnlessDone(interval);
    }
  }

  private snapshot(s: JobStats): MigrationProgress {
    const total = s.memoryTotal;
    return {
      ...s,
      phase: this.postcopyStarted ? 'postcopy' : 'precopy',
      percent:
        total && s.memoryRemaining !== undefined
          ? Math.min(100, (100 * (total - s.memoryRemaining)) / total)
          : undefined,
      at: new Date(),
    };
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
    await this.domain.migrateStartPostCopy(0, opts);
    this.postcopyStarted = true;
  }

  /** Aborts the job on the source. During post-copy only `{ postcopy: true }` is accepted, and it fails the migration. */
  abort(opts: { postcopy?: boolean } & CallOptions = {}): Promise<void> {
    return opts.postcopy
      ? this.domain.abortJobFlags(VirDomainAbortJobFlagsValues.VIR_DOMAIN_ABORT_JOB_POSTCOPY, opts)
      : this.domain.abortJob(opts);
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
    this.publish(phase);
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
    const orchestration: Orchestration = {
      domain: this.domain,
      plan: this.plan,
      enter: (phase) => this.enter(phase),
    };
    this.publish('setup');
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
      return { domain, stats: await this.finalStats() };
    } catch (err) {
      const e = await this.explain(err);
      this.publish('failed', e);
      throw e;
    } finally {
      this.finished = true;
      if (this.postcopyTimer) clearTimeout(this.postcopyTimer);
      await Promise.all(this.subs.map((s) => s.close().catch(() => {})));
    }
  }

  private record(e: MigrationEvent): void {
    this.eventLog.push(e);
    for (const l of this.listeners) l(e);
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
    void this.pump(lifecycle, (event) => {
      if (event.event === 'suspended' && event.detail === 'postcopy') this.postcopyStarted = true;
      this.record({ side: 'source', event });
    });
    void this.pump(iteration, (event) => {
      this.record({ side: 'source', event });
      this.onIteration(event.iteration);
    });
    void this.pump(completed, (event) => {
      this.record({ side: 'source', event });
      this.completedStats = jobStats(JOB_COMPLETED, event.params);
      for (const w of this.completedWaiters) w(this.completedStats);
      this.completedWaiters = [];
    });
    const waits = [lifecycle.ready, iteration.ready, completed.ready];
    if (this.destination) {
      const dl = this.destination.events.domain('lifecycle', filter);
      this.subs.push(dl as Subscription<unknown>);
      void this.pump(dl, (event) => {
        if (event.event === 'resumed' && event.detail === 'postcopy') this.postcopyStarted = true;
        this.record({ side: 'destination', event });
      });
      waits.push(dl.ready);
    }
    await Promise.all(waits);
  }

  private async pump<T>(sub: Subscription<T>, fn: (e: T) => void): Promise<void> {
    try {
      for await (const e of sub) fn(e);
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
    this.startPostCopy().then(
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

  /** After a failure: if post-copy had started, say what state each side is in. */
  private async explain(err: unknown): Promise<Error> {
    const e = asError(err);
    if (!this.postcopyStarted || e instanceof PostcopyFailedError) return e;
    const state = async (c: MigrationConnection | null): Promise<DomainState | null> => {
      if (!c?.isOpen) return null;
      try {
        return await (await c.lookupDomain(this.domain.uuid)).state();
      } catch {
        return null;
      }
    };
    const [s, d] = await Promise.all([state(this.domain.conn), state(this.destination)]);
    const show = (x: DomainState | null): string => (x ? `${x.state} (${x.reason})` : 'unknown');
    return new PostcopyFailedError(
      `post-copy migration of ${this.domain.name} failed after the switch: source ${show(s)}, destination ${show(d)}; ` +
        `recover with migrate(dest, { postcopy: true, postcopyResume: true }): ${e.message}`,
      s,
      d,
      { cause: e },
    );
  }

  /** Ends event subscriptions early; does not stop the migration (use abort()). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.done.catch(() => {});
  }
}
