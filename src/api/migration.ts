import { VirtwireError } from '../errors.js';
import { VirDomainMigrateFlags as F, VirDomainAbortJobFlagsValues } from '../generated/api.js';
import type { RemoteNonnullDomain, RemoteTypedParam } from '../generated/remote.js';
import type { CallOptions } from '../rpc/client.js';
import { isNoDomain } from '../rpc/errors.js';
import type { Connection } from './connection.js';
import type { Domain, DomainState } from './domain.js';
import type { DomainEvent, Subscription } from './events.js';
import { Feature } from './features.js';
import {
  fromTypedParams,
  getString,
  paramSchema,
  replaceString,
  TypedParamError,
  type TypedValue,
  toTypedParams,
} from './typed-params.js';

/** Every VIR_MIGRATE_PARAM_* of libvirt 11.3.0, by field name, with its type. */
export const MIGRATE_PARAMS = paramSchema('VIR_MIGRATE_PARAM_');
/** Every VIR_MIGRATE_* flag, by name. */
export const MigrateFlags = F;

/** When to switch a post-copy migration from pre-copy to post-copy. */
export type PostcopyPolicy =
  /** only when `migration.startPostCopy()` is called */
  | 'manual'
  /** after the first pre-copy iteration, as `virsh migrate --postcopy-after-precopy` */
  | 'after-precopy'
  /** after this many complete pre-copy iterations */
  | { readonly afterIterations: number }
  /** this many milliseconds after the migration started, as `virsh --timeout N --timeout-postcopy` */
  | { readonly afterMs: number };

/** Migration options in virsh's vocabulary. Bandwidths are MiB/s, as in virsh and libvirt. */
export interface MigrateOptions {
  readonly live?: boolean;
  readonly peer2peer?: boolean;
  readonly tunnelled?: boolean;
  /** Keep the domain persistent on the destination (VIR_MIGRATE_PERSIST_DEST). */
  readonly persistent?: boolean;
  readonly undefineSource?: boolean;
  /** Leave the domain paused on the destination. */
  readonly paused?: boolean;
  readonly offline?: boolean;
  readonly compressed?: boolean;
  readonly autoConverge?: boolean;
  readonly postcopy?: boolean;
  readonly postcopyResume?: boolean;
  readonly abortOnError?: boolean;
  readonly unsafe?: boolean;
  readonly changeProtection?: boolean;
  readonly tls?: boolean;
  readonly zerocopy?: boolean;
  /** Use this many parallel connections (VIR_MIGRATE_PARALLEL + parallel.connections). */
  readonly parallel?: number;
  readonly bandwidth?: number;
  readonly postcopyBandwidth?: number;
  /** Where the migration stream goes (migrate_uri), e.g. `tcp://10.0.0.2`. */
  readonly migrateUri?: string;
  readonly destXml?: string;
  readonly persistentXml?: string;
  readonly destName?: string;
  readonly migrateDisks?: readonly string[];
  readonly listenAddress?: string;
  readonly graphicsUri?: string;
  readonly disksPort?: number;
  readonly disksUri?: string;
  readonly compression?: readonly string[];
  /** More parameters by field name (e.g. `{ 'compression.zstd.level': 3 }`); checked against MIGRATE_PARAMS. */
  readonly params?: Readonly<Record<string, TypedValue | readonly string[]>>;
  /** Raw VIR_MIGRATE_* bits OR'ed into the flags the options produce. */
  readonly flags?: number;
  /** When to switch to post-copy (requires `postcopy`). Default: manual. */
  readonly postcopyPolicy?: PostcopyPolicy;
  /**
   * Which managed protocol to use: `auto` (default) prefers v3 with extensible
   * parameters when both daemons support it, as libvirt does; `v3` forces the
   * older v3 procedures (only the options they can carry are allowed).
   */
  readonly protocol?: 'auto' | 'v3';
}

/** A migration failed; `phase` says where, `cause` is the first error (libvirt reports the first one too). */
export class MigrationError extends VirtwireError {
  override name = 'MigrationError';
  constructor(
    readonly phase: MigrationPhase,
    message: string,
    options: ErrorOptions & {
      readonly confirmError?: Error;
    } = {},
  ) {
    super(message, options);
    this.confirmError = options.confirmError;
  }
  /** Confirm also failed: the guest was probably left paused on the source. */
  readonly confirmError: Error | undefined;
}

/**
 * Post-copy failed after the switch: there is no rollback. Both sides are left
 * paused (or the destination running in a failed post-copy state); migrate
 * again with `{ postcopy: true, postcopyResume: true }` to recover.
 */
export class PostcopyFailedError extends MigrationError {
  override name = 'PostcopyFailedError';
  constructor(
    message: string,
    readonly sourceState: DomainState | null,
    readonly destinationState: DomainState | null,
    options: ErrorOptions = {},
  ) {
    super('perform', message, options);
  }
}

export type MigrationPhase =
  | 'setup'
  | 'begin'
  | 'prepare'
  | 'perform'
  | 'finish'
  | 'confirm'
  | 'done';

/** Named fields of libvirt's job statistics (VIR_DOMAIN_JOB_*); byte counts and times as numbers. */
export interface JobStats {
  /** Every field as the daemon sent it. */
  readonly raw: Readonly<Record<string, TypedValue>>;
  readonly type: number;
  readonly operation: number | undefined;
  readonly timeElapsedMs: number | undefined;
  readonly downtimeMs: number | undefined;
  readonly setupTimeMs: number | undefined;
  readonly dataTotal: number | undefined;
  readonly dataProcessed: number | undefined;
  readonly dataRemaining: number | undefined;
  readonly memoryTotal: number | undefined;
  readonly memoryProcessed: number | undefined;
  readonly memoryRemaining: number | undefined;
  /** Transfer rate, bytes per second. */
  readonly memoryBps: number | undefined;
  /** Pages dirtied per second. */
  readonly memoryDirtyRate: number | undefined;
  readonly memoryIteration: number | undefined;
  readonly memoryPostcopyRequests: number | undefined;
  readonly memoryPageSize: number | undefined;
}

/** A progress snapshot of a running migration. */
export interface MigrationProgress extends JobStats {
  readonly phase: 'precopy' | 'postcopy';
  /** Percent of memory transferred, 0-100, when known. */
  readonly percent: number | undefined;
  readonly at: Date;
}

export interface MigrationResult {
  /** The domain on the destination; null for peer-to-peer and direct migration (no destination connection). */
  readonly domain: Domain | null;
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

const num = (v: TypedValue | undefined): number | undefined =>
  typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : undefined;

export function jobStats(type: number, params: readonly RemoteTypedParam[]): JobStats {
  const raw = fromTypedParams(params);
  return {
    raw,
    type,
    operation: num(raw.operation),
    timeElapsedMs: num(raw.time_elapsed),
    downtimeMs: num(raw.downtime),
    setupTimeMs: num(raw.setup_time),
    dataTotal: num(raw.data_total),
    dataProcessed: num(raw.data_processed),
    dataRemaining: num(raw.data_remaining),
    memoryTotal: num(raw.memory_total),
    memoryProcessed: num(raw.memory_processed),
    memoryRemaining: num(raw.memory_remaining),
    memoryBps: num(raw.memory_bps),
    memoryDirtyRate: num(raw.memory_dirty_rate),
    memoryIteration: num(raw.memory_iteration),
    memoryPostcopyRequests: num(raw.memory_postcopy_requests),
    memoryPageSize: num(raw.memory_page_size),
  };
}

const FLAG_OPTIONS: ReadonlyArray<readonly [keyof MigrateOptions, number]> = [
  ['live', F.VIR_MIGRATE_LIVE],
  ['peer2peer', F.VIR_MIGRATE_PEER2PEER],
  ['tunnelled', F.VIR_MIGRATE_TUNNELLED],
  ['persistent', F.VIR_MIGRATE_PERSIST_DEST],
  ['undefineSource', F.VIR_MIGRATE_UNDEFINE_SOURCE],
  ['paused', F.VIR_MIGRATE_PAUSED],
  ['offline', F.VIR_MIGRATE_OFFLINE],
  ['compressed', F.VIR_MIGRATE_COMPRESSED],
  ['autoConverge', F.VIR_MIGRATE_AUTO_CONVERGE],
  ['postcopy', F.VIR_MIGRATE_POSTCOPY],
  ['postcopyResume', F.VIR_MIGRATE_POSTCOPY_RESUME],
  ['abortOnError', F.VIR_MIGRATE_ABORT_ON_ERROR],
  ['unsafe', F.VIR_MIGRATE_UNSAFE],
  ['changeProtection', F.VIR_MIGRATE_CHANGE_PROTECTION],
  ['tls', F.VIR_MIGRATE_TLS],
  ['zerocopy', F.VIR_MIGRATE_ZEROCOPY],
];

const KNOWN_OPTIONS = new Set<string>([
  ...FLAG_OPTIONS.map(([k]) => k),
  'parallel',
  'bandwidth',
  'postcopyBandwidth',
  'migrateUri',
  'destXml',
  'persistentXml',
  'destName',
  'migrateDisks',
  'listenAddress',
  'graphicsUri',
  'disksPort',
  'disksUri',
  'compression',
  'params',
  'flags',
  'postcopyPolicy',
  'protocol',
]);

const ALL_FLAGS = Object.values(F).reduce((a, b) => a | b, 0);

/** Turns options into VIR_MIGRATE_* flags and checked typed parameters; throws before any RPC. */
export function buildMigration(opts: MigrateOptions): {
  flags: number;
  params: RemoteTypedParam[];
} {
  for (const k of Object.keys(opts)) {
    if (!KNOWN_OPTIONS.has(k))
      throw new TypedParamError(k, `unknown migration option ${JSON.stringify(k)}`);
  }
  let flags = 0;
  for (const [k, bit] of FLAG_OPTIONS) {
    const v = opts[k];
    if (v === undefined) continue;
    if (typeof v !== 'boolean')
      throw new TypedParamError(k, `migration option ${k} must be a boolean, got ${typeof v}`);
    if (v) flags |= bit;
  }
  if (opts.flags !== undefined) {
    if (!Number.isInteger(opts.flags) || opts.flags < 0 || (opts.flags & ~ALL_FLAGS) !== 0) {
      throw new TypedParamError(
        'flags',
        `flags 0x${Number(opts.flags).toString(16)} contain bits that are not VIR_MIGRATE_* flags`,
      );
    }
    flags |= opts.flags;
  }
  const values: Record<string, TypedValue | readonly string[] | undefined> = {
    ...(opts.params ?? {}),
  };
  const set = (field: string, v: TypedValue | readonly string[] | undefined): void => {
    if (v === undefined) return;
    if (field in values)
      throw new TypedParamError(field, `${field} is given both as an option and in params`);
    values[field] = v;
  };
  if (opts.parallel !== undefined) {
    flags |= F.VIR_MIGRATE_PARALLEL;
    set('parallel.connections', opts.parallel);
  }
  set('bandwidth', opts.bandwidth);
  set('bandwidth.postcopy', opts.postcopyBandwidth);
  set('migrate_uri', opts.migrateUri);
  set('destination_xml', opts.destXml);
  set('persistent_xml', opts.persistentXml);
  set('destination_name', opts.destName);
  set('migrate_disks', opts.migrateDisks);
  set('listen_address', opts.listenAddress);
  set('graphics_uri', opts.graphicsUri);
  set('disks_port', opts.disksPort);
  set('disks_uri', opts.disksUri);
  set('compression', opts.compression);
  const params = toTypedParams(values, MIGRATE_PARAMS, 'migration parameter');
  if (flags & F.VIR_MIGRATE_TUNNELLED && !(flags & F.VIR_MIGRATE_PEER2PEER)) {
    throw new TypedParamError('tunnelled', 'tunnelled migration requires peer2peer');
  }
  if (flags & F.VIR_MIGRATE_POSTCOPY_RESUME && !(flags & F.VIR_MIGRATE_POSTCOPY)) {
    throw new TypedParamError('postcopyResume', 'postcopyResume requires postcopy');
  }
  const policy = opts.postcopyPolicy;
  if (opts.protocol !== undefined && opts.protocol !== 'auto' && opts.protocol !== 'v3') {
    throw new TypedParamError(
      'protocol',
      `unknown migration protocol ${JSON.stringify(opts.protocol)} (auto or v3)`,
    );
  }
  if (policy !== undefined && policy !== 'manual') {
    if (!(flags & F.VIR_MIGRATE_POSTCOPY))
      throw new TypedParamError('postcopyPolicy', 'a post-copy policy requires postcopy');
    if (typeof policy === 'object') {
      const n = 'afterIterations' in policy ? policy.afterIterations : policy.afterMs;
      if (!Number.isInteger(n) || n < ('afterIterations' in policy ? 1 : 0)) {
        throw new TypedParamError(
          'postcopyPolicy',
          `postcopyPolicy needs a positive integer, got ${String(n)}`,
        );
      }
    } else if (policy !== 'after-precopy') {
      throw new TypedParamError(
        'postcopyPolicy',
        `unknown postcopyPolicy ${JSON.stringify(policy)}`,
      );
    }
  }
  return { flags, params };
}

type MakeDomain = (conn: Connection, ref: RemoteNonnullDomain) => Domain;

/**
 * A migration in progress, returned at once by `domain.migrate()` /
 * `domain.migrateToURI()`. `done` settles with the destination domain and the
 * final statistics, or with a MigrationError from the first failing phase.
 */
export class Migration implements AsyncDisposable {
  readonly done: Promise<MigrationResult>;
  /** Where the orchestration is. */
  phase: MigrationPhase = 'setup';
  /** True once the switch to post-copy was requested and acknowledged (or seen in events). */
  postcopyStarted = false;
  /** When the automatic switch happened, for latency measurements. */
  postcopySwitch: PostcopySwitchTiming | null = null;
  private readonly subs: Array<Subscription<unknown>> = [];
  private readonly listeners = new Set<(e: MigrationEvent) => void>();
  private readonly eventLog: MigrationEvent[] = [];
  private finished = false;
  private completedStats: JobStats | null = null;
  private completedWaiters: Array<(s: JobStats) => void> = [];
  private postcopyTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly domain: Domain,
    readonly destination: Connection | null,
    readonly destinationUri: string | null,
    readonly flags: number,
    private readonly params: RemoteTypedParam[],
    private readonly policy: PostcopyPolicy,
    private readonly makeDomain: MakeDomain,
    private readonly protocol: 'auto' | 'v3' = 'auto',
  ) {
    this.done = this.run();
    this.done.catch(() => {}); // reported through `done`; no unhandled rejection if nobody awaits it
  }

  private get src(): Connection {
    return this.domain.conn;
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

  private record(e: MigrationEvent): void {
    this.eventLog.push(e);
    for (const l of this.listeners) l(e);
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
        const r = await this.src.remote.domainGetJobStats({ dom: this.domain.wire, flags: 0 });
        if (this.finished) return;
        // type 0 (none) before the job starts and after it ends: nothing to report
        if (r.type !== 0 && r.params.length > 0) {
          const s = jobStats(r.type, r.params);
          const total = s.memoryTotal;
          yield {
            ...s,
            phase: this.postcopyStarted ? 'postcopy' : 'precopy',
            percent:
              total && s.memoryRemaining !== undefined
                ? Math.min(100, (100 * (total - s.memoryRemaining)) / total)
                : undefined,
            at: new Date(),
          };
        }
      } catch (err) {
        // The source domain goes away once a transient domain has moved: that is the end, not a failure.
        if (this.finished || isNoDomain(err) || this.phase === 'finish' || this.phase === 'confirm')
          return;
        throw err;
      }
      await new Promise<void>((r) => {
        const t = setTimeout(r, interval);
        void this.done.then(
          () => {
            clearTimeout(t);
            r();
          },
          () => {
            clearTimeout(t);
            r();
          },
        );
      });
    }
  }

  /** Switches a post-copy migration to post-copy now (sent on the source while Perform runs). */
  async startPostCopy(opts?: CallOptions): Promise<void> {
    await this.src.remote.domainMigrateStartPostCopy({ dom: this.domain.wire, flags: 0 }, opts);
    this.postcopyStarted = true;
  }

  /** Aborts the job on the source. During post-copy only `{ postcopy: true }` is accepted, and it fails the migration. */
  async abort(opts: { postcopy?: boolean } & CallOptions = {}): Promise<void> {
    const flags = opts.postcopy ? VirDomainAbortJobFlagsValues.VIR_DOMAIN_ABORT_JOB_POSTCOPY : 0;
    if (flags === 0) await this.src.remote.domainAbortJob({ dom: this.domain.wire }, opts);
    else await this.src.remote.domainAbortJobFlags({ dom: this.domain.wire, flags }, opts);
  }

  /** Maximum tolerable downtime, in milliseconds. */
  async setMaxDowntime(ms: number, opts?: CallOptions): Promise<void> {
    await this.src.remote.domainMigrateSetMaxDowntime(
      { dom: this.domain.wire, downtime: BigInt(ms), flags: 0 },
      opts,
    );
  }

  /** Bandwidth limit in MiB/s, for pre-copy or (with `postcopy`) post-copy. */
  async setMaxSpeed(mibps: number, opts: { postcopy?: boolean } & CallOptions = {}): Promise<void> {
    await this.src.remote.domainMigrateSetMaxSpeed(
      { dom: this.domain.wire, bandwidth: BigInt(mibps), flags: opts.postcopy ? 1 : 0 },
      opts,
    );
  }

  private async subscribe(): Promise<void> {
    const filter = { domain: this.domain };
    const lifecycle = this.src.events.domain('lifecycle', filter);
    const iteration = this.src.events.domain('migration_iteration', filter);
    const completed = this.src.events.domain('job_completed', filter);
    this.subs.push(
      lifecycle as Subscription<unknown>,
      iteration as Subscription<unknown>,
      completed as Subscription<unknown>,
    );
    const pumps: Array<Promise<void>> = [];
    pumps.push(
      this.pump(lifecycle, (event) => {
        if (event.event === 'suspended' && event.detail === 'postcopy') this.postcopyStarted = true;
        this.record({ side: 'source', event });
      }),
    );
    pumps.push(
      this.pump(iteration, (event) => {
        this.record({ side: 'source', event });
        this.onIteration(event.iteration);
      }),
    );
    pumps.push(
      this.pump(completed, (event) => {
        this.record({ side: 'source', event });
        this.completedStats = jobStats(3, event.params);
        for (const w of this.completedWaiters) w(this.completedStats);
        this.completedWaiters = [];
      }),
    );
    const waits = [lifecycle.ready, iteration.ready, completed.ready];
    if (this.destination) {
      const dl = this.destination.events.domain('lifecycle', filter);
      this.subs.push(dl as Subscription<unknown>);
      pumps.push(
        this.pump(dl, (event) => {
          if (event.event === 'resumed' && event.detail === 'postcopy') this.postcopyStarted = true;
          this.record({ side: 'destination', event });
        }),
      );
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
    const p = this.policy;
    const after =
      p === 'after-precopy'
        ? 1
        : typeof p === 'object' && 'afterIterations' in p
          ? p.afterIterations
          : null;
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
    if (this.flags & F.VIR_MIGRATE_OFFLINE) return null;
    const fromEvent = await this.waitCompleted(3000);
    if (fromEvent) return fromEvent;
    try {
      const r = await this.src.remote.domainGetJobStats({
        dom: this.domain.wire,
        flags: 1 /* COMPLETED */,
      });
      return r.params.length ? jobStats(r.type, r.params) : null;
    } catch {
      return null; // a transient domain is gone from the source: only the event had them
    }
  }

  private async run(): Promise<MigrationResult> {
    try {
      await this.subscribe();
      const p = this.policy;
      if (typeof p === 'object' && 'afterMs' in p) {
        this.postcopyTimer = setTimeout(() => this.autoSwitch('timeout'), p.afterMs);
      }
      const ref = this.destination ? await this.managed(this.destination) : await this.unmanaged();
      this.phase = 'done';
      const stats = await this.finalStats();
      return { domain: ref ? this.makeDomain(ref.conn, ref.dom) : null, stats };
    } catch (err) {
      throw await this.explain(err);
    } finally {
      this.finished = true;
      if (this.postcopyTimer) clearTimeout(this.postcopyTimer);
      await Promise.all(this.subs.map((s) => s.close().catch(() => {})));
    }
  }

  /** After a failure: if post-copy had started, say what state each side is in. */
  private async explain(err: unknown): Promise<Error> {
    const e = err instanceof Error ? err : new Error(String(err));
    if (!this.postcopyStarted || e instanceof PostcopyFailedError) return e;
    const state = async (c: Connection | null): Promise<DomainState | null> => {
      if (!c?.isOpen) return null;
      try {
        return await (await c.lookupDomain(this.domain.uuid)).state();
      } catch {
        return null;
      }
    };
    const [s, d] = await Promise.all([state(this.src), state(this.destination)]);
    const show = (x: DomainState | null): string => (x ? `${x.state} (${x.reason})` : 'unknown');
    return new PostcopyFailedError(
      `post-copy migration of ${this.domain.name} failed after the switch: source ${show(s)}, destination ${show(d)}; ` +
        `recover with migrate(dest, { postcopy: true, postcopyResume: true }): ${e.message}`,
      s,
      d,
      { cause: e },
    );
  }

  /** libvirt's managed migration (virDomainMigrate3): the client drives both daemons. */
  private async managed(
    dest: Connection,
  ): Promise<{ conn: Connection; dom: RemoteNonnullDomain } | null> {
    const src = this.src;
    const [srcParams, dstParams] = await Promise.all([
      src.supportsFeature(Feature.MIGRATION_PARAMS),
      dest.supportsFeature(Feature.MIGRATION_PARAMS),
    ]);
    if (this.flags & F.VIR_MIGRATE_OFFLINE) {
      for (const [c, side] of [
        [src, 'source'],
        [dest, 'destination'],
      ] as const) {
        if (!(await c.supportsFeature(Feature.MIGRATION_OFFLINE))) {
          throw new MigrationError(
            'setup',
            `offline migration is not supported by the ${side} host`,
          );
        }
      }
    }
    const useParams = srcParams && dstParams && this.protocol !== 'v3';
    if (!useParams) {
      // The v3 procedures carry only the URI, destination name and XML, and bandwidth.
      const compat = new Set(['migrate_uri', 'destination_name', 'destination_xml', 'bandwidth']);
      const extra = this.params.filter((p) => !compat.has(p.field)).map((p) => p.field);
      if (extra.length) {
        throw new MigrationError(
          'setup',
          `migration v3 without parameters cannot carry ${[...new Set(extra)].join(', ')}`,
        );
      }
      const [a, b] = await Promise.all([
        src.supportsFeature(Feature.MIGRATION_V3),
        dest.supportsFeature(Feature.MIGRATION_V3),
      ]);
      if (!(a && b))
        throw new MigrationError(
          'setup',
          'the daemons support neither migration v3 with parameters nor v3',
        );
    }
    const protection = (await src.supportsFeature(Feature.MIGRATION_CHANGE_PROTECTION))
      ? F.VIR_MIGRATE_CHANGE_PROTECTION
      : 0;
    let flags = this.flags & ~F.VIR_MIGRATE_CHANGE_PROTECTION;
    let params = this.params;
    const dom = this.domain.wire;
    const dname = getString(params, 'destination_name') ?? null;
    const uriIn = getString(params, 'migrate_uri') ?? null;
    const bw = params.find((p) => p.field === 'bandwidth')?.value;
    const bandwidth = bw?.type === 4 ? bw.ul : 0n;
    const xmlin = getString(params, 'destination_xml') ?? null;

    this.phase = 'begin';
    let cookie: Uint8Array;
    let xml: string;
    try {
      if (useParams) {
        const r = await src.remote.domainMigrateBegin3Params({
          dom,
          params,
          flags: flags | protection,
        });
        cookie = r.cookieOut;
        xml = r.xml;
      } else {
        const r = await src.remote.domainMigrateBegin3({
          dom,
          xmlin,
          flags: BigInt(flags | protection),
          dname,
          resource: bandwidth,
        });
        cookie = r.cookieOut;
        xml = r.xml;
      }
    } catch (err) {
      throw this.fail('begin', err);
    }
    const st = await src.remote.domainGetState({ dom, flags: 0 }).catch(() => null);
    if (st && st.state === 3 /* paused */ && !(flags & F.VIR_MIGRATE_POSTCOPY_RESUME))
      flags |= F.VIR_MIGRATE_PAUSED;
    const destFlags = flags & ~(F.VIR_MIGRATE_ABORT_ON_ERROR | F.VIR_MIGRATE_AUTO_CONVERGE);

    let firstError: MigrationError | null = null;
    let cancelled = 1;
    let notifySource = true;
    let ddom: RemoteNonnullDomain | null = null;
    let uri = uriIn;

    this.phase = 'prepare';
    let prepared = false;
    try {
      if (useParams) {
        params = replaceString(params, 'destination_xml', xml);
        const r = await dest.remote.domainMigratePrepare3Params({
          params,
          cookieIn: cookie,
          flags: destFlags,
        });
        cookie = r.cookieOut;
        if (r.uriOut !== null) {
          uri = r.uriOut;
          params = replaceString(params, 'migrate_uri', r.uriOut);
        }
      } else {
        const r = await dest.remote.domainMigratePrepare3({
          cookieIn: cookie,
          uriIn,
          flags: BigInt(destFlags),
          dname,
          resource: bandwidth,
          domXml: xml,
        });
        cookie = r.cookieOut;
        if (r.uriOut !== null) uri = r.uriOut;
      }
      prepared = true;
    } catch (err) {
      firstError = this.fail('prepare', err);
      // Begin started a job on the source: with change protection it must be cancelled through Confirm.
      if (!protection) throw firstError;
    }

    if (prepared) {
      if (flags & F.VIR_MIGRATE_OFFLINE) {
        cookie = new Uint8Array(0);
        cancelled = 0;
      } else {
        this.phase = 'perform';
        try {
          if (useParams) {
            const r = await src.remote.domainMigratePerform3Params({
              dom,
              dconnuri: null,
              params,
              cookieIn: cookie,
              flags: flags | protection,
            });
            cookie = r.cookieOut;
          } else {
            const r = await src.remote.domainMigratePerform3({
              dom,
              xmlin: null,
              cookieIn: cookie,
              dconnuri: null,
              uri,
              flags: BigInt(flags | protection),
              dname,
              resource: bandwidth,
            });
            cookie = r.cookieOut;
          }
          cancelled = 0;
        } catch (err) {
          firstError = this.fail('perform', err);
          // the source already knows it failed: no Confirm
          notifySource = false;
          cookie = new Uint8Array(0);
          cancelled = 1;
        }
      }

      this.phase = 'finish';
      try {
        if (useParams) {
          if (getString(params, 'destination_name') === undefined) {
            params = replaceString(params, 'destination_name', this.domain.name);
          }
          const r = await dest.remote.domainMigrateFinish3Params({
            params,
            cookieIn: cookie,
            flags: destFlags,
            cancelled,
          });
          ddom = r.dom;
          cookie = r.cookieOut;
        } else {
          const r = await dest.remote.domainMigrateFinish3({
            dname: dname ?? this.domain.name,
            cookieIn: cookie,
            dconnuri: null,
            uri,
            flags: BigInt(destFlags),
            cancelled,
          });
          ddom = r.dom;
          cookie = r.cookieOut;
        }
      } catch (err) {
        ddom = null;
        cookie = new Uint8Array(0);
        firstError ??= this.fail('finish', err);
      }
      cancelled = ddom === null ? 1 : 0;
    }

    let confirmError: Error | undefined;
    if (notifySource) {
      this.phase = 'confirm';
      try {
        if (useParams) {
          await src.remote.domainMigrateConfirm3Params({
            dom,
            params,
            cookieIn: cookie,
            flags: flags | protection,
            cancelled,
          });
        } else {
          await src.remote.domainMigrateConfirm3({
            dom,
            cookieIn: cookie,
            flags: BigInt(flags | protection),
            cancelled,
          });
        }
      } catch (err) {
        confirmError = err instanceof Error ? err : new Error(String(err));
      }
    }
    if (firstError) {
      if (confirmError) {
        throw new MigrationError(
          firstError.phase,
          `${firstError.message}; confirm also failed, so the guest is probably left paused on the source: ${confirmError.message}`,
          {
            cause: firstError.cause,
            confirmError,
          },
        );
      }
      throw firstError;
    }
    if (!ddom)
      throw new MigrationError(
        'finish',
        `the destination did not report the migrated domain ${this.domain.name}`,
      );
    if (confirmError) {
      throw new MigrationError(
        'confirm',
        `migration of ${this.domain.name} finished on the destination, but confirm failed on the source, so the guest is probably left paused there: ${confirmError.message}`,
        {
          cause: confirmError,
          confirmError,
        },
      );
    }
    return { conn: dest, dom: ddom };
  }

  /** Peer-to-peer or direct: one Perform on the source (virDomainMigrateToURI3). */
  private async unmanaged(): Promise<null> {
    const src = this.src;
    const dom = this.domain.wire;
    this.phase = 'perform';
    const p2p = (this.flags & F.VIR_MIGRATE_PEER2PEER) !== 0;
    const feature = p2p ? Feature.MIGRATION_P2P : Feature.MIGRATION_V3;
    if (!(await src.supportsFeature(feature))) {
      throw new MigrationError(
        'setup',
        `the source does not support ${p2p ? 'peer-to-peer' : 'direct'} migration`,
      );
    }
    const useParams = await src.supportsFeature(Feature.MIGRATION_PARAMS);
    try {
      if (useParams) {
        await src.remote.domainMigratePerform3Params({
          dom,
          dconnuri: p2p ? this.destinationUri : null,
          params: this.params,
          cookieIn: new Uint8Array(0),
          flags: this.flags,
        });
      } else {
        await src.remote.domainMigratePerform3({
          dom,
          xmlin: getString(this.params, 'destination_xml') ?? null,
          cookieIn: new Uint8Array(0),
          dconnuri: p2p ? this.destinationUri : null,
          uri: p2p ? (getString(this.params, 'migrate_uri') ?? null) : this.destinationUri,
          flags: BigInt(this.flags),
          dname: getString(this.params, 'destination_name') ?? null,
          resource: 0n,
        });
      }
    } catch (err) {
      throw this.fail('perform', err);
    }
    return null;
  }

  private fail(phase: MigrationPhase, err: unknown): MigrationError {
    const e = err instanceof Error ? err : new Error(String(err));
    const where = phase === 'prepare' || phase === 'finish' ? 'the destination' : 'the source';
    return new MigrationError(
      phase,
      `migration of ${this.domain.name} failed in ${phase} on ${where}: ${e.message}`,
      {
        cause: e,
      },
    );
  }

  /** Ends event subscriptions early; does not stop the migration (use abort()). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.done.catch(() => {});
  }
}
