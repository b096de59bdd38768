import { randomUUID } from 'node:crypto';
import { connect } from '../api/connect.js';
import { Feature } from '../api/features.js';
import { MIGRATE_PARAMS } from '../api/migration/index.js';
import { getString, paramSchema, type TypedValue, toTypedParams } from '../api/typed-params.js';
import {
  VirDomainEventDefinedDetailType as Defined,
  VirDomainEventType as Ev,
  VirDomainMigrateFlags as F,
  VirDomainJobType as JobType,
  VirDomainJobOperation as Op,
  VirDomainPausedReason as Paused,
  VirDomainEventResumedDetailType as Resumed,
  VirDomainRunningReason as Running,
  VirDomainState as S,
  VirDomainShutoffReason as Shutoff,
  VirDomainEventStartedDetailType as Started,
  VirDomainEventStoppedDetailType as Stopped,
  VirDomainEventSuspendedDetailType as Suspended,
  VirDomainAbortJobFlagsValues,
  VirDomainGetJobStatsFlags,
  VirErrorDomain,
  VirErrorNumber,
} from '../generated/api.js';
import type {
  RemoteDomainGetJobInfoRet,
  RemoteNonnullDomain,
  RemoteTypedParam,
} from '../generated/remote.js';
import {
  checkFlags,
  internalError,
  invalidArg,
  invalidOperation,
  libvirtError,
  notRunning,
  operationFailed,
  SimError,
} from './errors.js';
import { type DomainJob, SimDomain, type SimHost, type SimJobSnapshot } from './host.js';
import { findByUri } from './registry.js';
import { attr, child, parseDomainXml, parseXml, textOf } from './xml.js';

const MiB = 1024 * 1024;
const PAGE_SIZE = 4096;
/** Real milliseconds between two steps of a running migration. */
const TICK_MS = 10;
/** Simulated ms QEMU needs to set a migration up, and to switch the guest between hosts. */
const SETUP_MS = 2;
const SWITCHOVER_MS = 5;
/** QEMU reports the transfer rate once it has measured it over its first interval. */
const BPS_AFTER_MS = 100;
/** A vCPU blocked on a missing page waits about this long (simulated ms) for it in post-copy. */
const FAULT_ROUND_TRIP_MS = 1;
const ALL_MIGRATE_FLAGS = Object.values(F).reduce((a, b) => a | b, 0);
const JOB_SCHEMA = paramSchema('VIR_DOMAIN_JOB_');

class Deferred<T> {
  readonly promise: Promise<T>;
  resolve!: (v: T) => void;
  reject!: (e: Error) => void;
  settled = false;
  constructor() {
    this.promise = new Promise<T>((res, rej) => {
      this.resolve = (v) => {
        this.settled = true;
        res(v);
      };
      this.reject = (e) => {
        this.settled = true;
        rej(e);
      };
    });
    // Nobody may be waiting yet; the outcome is read later through `promise`.
    this.promise.catch(() => {});
  }
}

/** Phases of the source's job. */
type OutPhase =
  | 'begin'
  | 'precopy'
  | 'postcopy'
  | 'postcopy-failed'
  | 'transferred'
  | 'failed'
  | 'done';

/**
 * The destination's side of a migration, from Prepare to Finish. Other
 * simulators in the process find it by the id in the migration cookie.
 */
class IncomingJob implements DomainJob {
  readonly direction = 'in';
  phase: 'prepared' | 'receiving' | 'postcopy' | 'postcopy-failed' | 'transferred' = 'prepared';
  source: OutgoingJob | null = null;
  /** The client connection that prepared it: if it goes away before the end, so does the guest. */
  owner: object | null = null;
  /** Settles when every page has arrived (or the stream broke). */
  done = new Deferred<void>();
  constructor(
    readonly id: string,
    readonly host: SimHost,
    readonly dom: SimDomain,
    readonly flags: number,
    /** The inactive definition the domain had here before (restored if the migration fails). */
    readonly previous: { def: SimDomain['def']; persistent: boolean } | null,
  ) {}
}

const incoming = new Map<string, IncomingJob>();

/**
 * The source's migration job: a pre-copy loop driven by the guest's dirty
 * rate and the bandwidth, an optional switch to post-copy, and the statistics
 * libvirt reports for it. Sizes are bytes and times simulated milliseconds.
 */
class OutgoingJob implements DomainJob {
  readonly direction = 'out';
  phase: OutPhase = 'begin';
  target: IncomingJob | null = null;
  /** The client connection that started it (libvirt cancels a migration whose client left). */
  owner: object | null = null;
  readonly startedAt: number;
  transferStartedAt: number | null = null;
  endedAt: number | null = null;
  readonly memTotal: number;
  processed = 0;
  passRemaining = 0;
  dirty = 0;
  iteration = 0;
  postcopyRequests = 0;
  private requestCarry = 0;
  postcopyTotal = 0;
  downtimeMs = 0;
  private pausedAt: number | null = null;
  /** The guest was running when the transfer started (resume it if the migration fails). */
  sourceWasRunning = false;
  /** When a non-live migration stopped the guest (simulated ms). */
  private stoppedAt: number | null = null;
  /** Auto-converge's vCPU throttle, 0-0.99. */
  throttle = 0;
  private lastStep = 0;
  private timer: NodeJS.Timeout | null = null;
  /** Perform waits on this: the transfer is over (pre-copy) or switched to post-copy. */
  performed = new Deferred<void>();
  /** Break the post-copy stream at this simulated time (test hook). */
  failAt: number | null = null;
  /** failPostcopy() before the switch: break this long after it. */
  failAfterSwitchMs: number | null = null;
  /** Set after a successful post-copy recovery: libvirt's final statistics then lack the *_net fields. */
  recovered = false;
  maxDowntimeMs: number;
  bandwidthMiBps: number;
  postcopyBandwidthMiBps: number;

  constructor(
    readonly host: SimHost,
    readonly dom: SimDomain,
    public flags: number,
    params: readonly RemoteTypedParam[],
  ) {
    this.startedAt = host.now();
    this.memTotal = dom.memoryBytes;
    this.maxDowntimeMs = Number(dom.maxDowntimeMs);
    this.bandwidthMiBps = Number(ulong(params, 'bandwidth') ?? dom.maxSpeedMiBps);
    this.postcopyBandwidthMiBps = Number(
      ulong(params, 'bandwidth.postcopy') ?? dom.postcopyMaxSpeedMiBps,
    );
    this.failAfterSwitchMs = dom.failPostcopyAfterMs;
    dom.failPostcopyAfterMs = null;
  }

  /** Pre-copy transfer rate, bytes per simulated ms: the limit, within the host's link. */
  get rate(): number {
    const link = this.host.bandwidthMiBps;
    const lim = this.bandwidthMiBps > 0 ? Math.min(this.bandwidthMiBps, link) : link;
    return (lim * MiB) / 1000;
  }

  get postcopyRate(): number {
    const link = this.host.bandwidthMiBps;
    const lim =
      this.postcopyBandwidthMiBps > 0 ? Math.min(this.postcopyBandwidthMiBps, link) : link;
    return (lim * MiB) / 1000;
  }

  /** Bytes the guest dirties per simulated ms (nothing while paused). */
  /** The most memory that can be dirty at once: the guest's dirty set, else all of it. */
  get dirtyCap(): number {
    const set = this.dom.def.dirtySetMiB;
    return set === null ? this.memTotal : Math.min(this.memTotal, set * MiB);
  }

  get dirtyRate(): number {
    if (this.dom.state !== S.VIR_DOMAIN_RUNNING) return 0;
    return ((this.dom.def.dirtyRateMiBps * MiB) / 1000) * (1 - this.throttle);
  }

  get remaining(): number {
    if (this.phase === 'transferred' || this.phase === 'done') return 0;
    if (this.phase === 'postcopy' || this.phase === 'postcopy-failed') return this.passRemaining;
    if (this.transferStartedAt === null) return this.memTotal;
    // A page dirtied again before this pass reached it is still one page to send; after the
    // first pass every page to send lies in the dirty set.
    return Math.min(
      this.iteration > 1 ? this.dirtyCap : this.memTotal,
      this.passRemaining + this.dirty,
    );
  }

  /** Starts moving memory: iteration 1 sends everything. */
  startTransfer(): void {
    const now = this.host.now();
    this.phase = 'precopy';
    this.transferStartedAt = now;
    this.lastStep = now;
    this.passRemaining = this.memTotal;
    this.dirty = 0;
    this.sourceWasRunning = this.dom.state === S.VIR_DOMAIN_RUNNING;
    if (!(this.flags & F.VIR_MIGRATE_LIVE) && this.sourceWasRunning) {
      // An offline-style (non-live) migration stops the guest first.
      this.pauseSource(
        Paused.VIR_DOMAIN_PAUSED_MIGRATION,
        Suspended.VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED,
      );
      this.stoppedAt = now;
    }
    this.nextIteration();
    this.run();
  }

  private run(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.step(this.host.now()), TICK_MS);
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private nextIteration(): void {
    this.iteration++;
    this.host.emit({ kind: 'migration_iteration', dom: this.dom.wire, iteration: this.iteration });
  }

  private pauseSource(reason: number, detail: number): void {
    const d = this.dom;
    // a guest paused already only moves on to a post-copy reason, not back to `migration`
    if (
      d.state === S.VIR_DOMAIN_RUNNING ||
      (d.state === S.VIR_DOMAIN_PAUSED && reason !== Paused.VIR_DOMAIN_PAUSED_MIGRATION)
    ) {
      this.host.setState(d, S.VIR_DOMAIN_PAUSED, reason);
      this.host.lifecycle(d, Ev.VIR_DOMAIN_EVENT_SUSPENDED, detail);
    }
    this.pausedAt ??= this.host.now();
  }

  /** Advances the simulation to simulated time `to`, piece by piece, so pass ends fall where they belong. */
  step(to: number): void {
    let t = this.lastStep;
    while (t < to) {
      if (this.phase === 'precopy') {
        const rate = this.rate;
        const dirtyRate = this.dirtyRate;
        const dt = to - t;
        const toPassEnd = this.passRemaining / rate;
        const d = Math.min(dt, toPassEnd);
        this.processed += rate * d;
        this.passRemaining -= rate * d;
        this.dirty = Math.min(this.dirtyCap, this.dirty + dirtyRate * d);
        t += d;
        if (toPassEnd <= dt) {
          this.passRemaining = 0;
          this.passEnd(t);
        }
      } else if (this.phase === 'postcopy') {
        const rate = this.postcopyRate;
        const dt = to - t;
        const toEnd = this.passRemaining / rate;
        const toFail =
          this.failAt === null ? Number.POSITIVE_INFINITY : Math.max(0, this.failAt - t);
        const d = Math.min(dt, toEnd, toFail);
        // The guest now runs on the destination and faults on the pages still missing there.
        const missing = this.postcopyTotal > 0 ? this.passRemaining / this.postcopyTotal : 0;
        const touchPerMs =
          Math.max(this.dom.def.dirtyRateMiBps * MiB, PAGE_SIZE * 50) / PAGE_SIZE / 1000;
        this.requestCarry += Math.min(touchPerMs, 1 / FAULT_ROUND_TRIP_MS) * missing * d;
        const whole = Math.floor(this.requestCarry);
        this.postcopyRequests += whole;
        this.requestCarry -= whole;
        this.processed += rate * d;
        this.passRemaining -= rate * d;
        t += d;
        if (toFail <= d && toFail <= toEnd) {
          this.brokenStream();
          break;
        }
        if (toEnd <= dt) {
          this.passRemaining = 0;
          this.transferDone(t);
        }
      } else break;
    }
    this.lastStep = to;
  }

  /** One pass over the dirty memory has ended: stop and copy if the rest fits in the downtime. */
  private passEnd(t: number): void {
    const rate = this.rate;
    const rest = this.dirty;
    if (rest / rate <= this.maxDowntimeMs) {
      this.pauseSource(
        Paused.VIR_DOMAIN_PAUSED_MIGRATION,
        Suspended.VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED,
      );
      this.nextIteration();
      this.processed += rest;
      this.dirty = 0;
      const end = t + rest / rate + SWITCHOVER_MS;
      // a non-live migration stopped the guest before the first page
      this.downtimeMs = end - (this.stoppedAt ?? t);
      this.transferDone(end);
      return;
    }
    if (this.flags & F.VIR_MIGRATE_AUTO_CONVERGE && this.iteration >= 2) {
      // QEMU's auto-converge: throttle the vCPUs 20%, then 10% more per pass that does not converge.
      this.throttle = Math.min(0.99, this.throttle === 0 ? 0.2 : this.throttle + 0.1);
    }
    this.passRemaining = rest;
    this.dirty = 0;
    this.nextIteration();
  }

  private transferDone(at: number): void {
    this.phase = 'transferred';
    this.endedAt = at;
    this.stopTimer();
    if (this.target) this.target.phase = 'transferred';
    this.performed.resolve();
    this.target?.done.resolve();
  }

  /** MIGRATE_START_POST_COPY: the guest moves to the destination now; its pages follow on demand. */
  switchToPostcopy(): void {
    const now = this.host.now();
    this.step(now);
    if (this.phase !== 'precopy') return; // converged meanwhile: nothing left to switch
    this.pauseSource(
      Paused.VIR_DOMAIN_PAUSED_MIGRATION,
      Suspended.VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED,
    );
    this.pauseSource(
      Paused.VIR_DOMAIN_PAUSED_POSTCOPY,
      Suspended.VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY,
    );
    this.nextIteration();
    this.phase = 'postcopy';
    this.passRemaining += this.dirty;
    this.dirty = 0;
    this.postcopyTotal = this.passRemaining;
    this.downtimeMs = SWITCHOVER_MS;
    const t = this.target!;
    t.phase = 'postcopy';
    t.host.setState(t.dom, S.VIR_DOMAIN_RUNNING, Running.VIR_DOMAIN_RUNNING_POSTCOPY);
    t.host.lifecycle(t.dom, Ev.VIR_DOMAIN_EVENT_RESUMED, Resumed.VIR_DOMAIN_EVENT_RESUMED_POSTCOPY);
    if (this.failAfterSwitchMs !== null) this.failAt = now + this.failAfterSwitchMs;
    this.performed.resolve();
    if (this.passRemaining === 0) this.transferDone(now);
  }

  /**
   * The post-copy stream broke: no rollback. Both sides pause in
   * POSTCOPY_FAILED as libvirt reports it (the destination keeps its vCPUs
   * "running" but blocked), and Finish on the destination fails.
   */
  breakPostcopy(): void {
    this.step(this.host.now());
    if (this.phase === 'postcopy') this.brokenStream();
  }

  private brokenStream(): void {
    this.phase = 'postcopy-failed';
    this.failAt = null;
    this.failAfterSwitchMs = null;
    this.stopTimer();
    const t = this.target!;
    t.phase = 'postcopy-failed';
    t.host.setState(t.dom, S.VIR_DOMAIN_RUNNING, Running.VIR_DOMAIN_RUNNING_POSTCOPY_FAILED);
    t.host.lifecycle(
      t.dom,
      Ev.VIR_DOMAIN_EVENT_RESUMED,
      Resumed.VIR_DOMAIN_EVENT_RESUMED_POSTCOPY_FAILED,
    );
    this.host.setState(this.dom, S.VIR_DOMAIN_PAUSED, Paused.VIR_DOMAIN_PAUSED_POSTCOPY_FAILED);
    this.host.lifecycle(
      this.dom,
      Ev.VIR_DOMAIN_EVENT_SUSPENDED,
      Suspended.VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY_FAILED,
    );
    t.done.reject(operationFailed("job 'migration in' failed in post-copy phase"));
  }

  /** POSTCOPY_RESUME: the stream is re-established and the remaining pages flow again. */
  recover(target: IncomingJob): void {
    this.target = target;
    target.source = this;
    target.done = new Deferred<void>();
    this.performed = new Deferred<void>();
    this.flags |= F.VIR_MIGRATE_POSTCOPY_RESUME;
    this.recovered = true;
    this.phase = 'postcopy';
    target.phase = 'postcopy';
    this.lastStep = this.host.now();
    target.host.setState(target.dom, S.VIR_DOMAIN_RUNNING, Running.VIR_DOMAIN_RUNNING_POSTCOPY);
    target.host.lifecycle(
      target.dom,
      Ev.VIR_DOMAIN_EVENT_RESUMED,
      Resumed.VIR_DOMAIN_EVENT_RESUMED_POSTCOPY,
    );
    this.host.setState(this.dom, S.VIR_DOMAIN_PAUSED, Paused.VIR_DOMAIN_PAUSED_POSTCOPY);
    this.host.lifecycle(
      this.dom,
      Ev.VIR_DOMAIN_EVENT_SUSPENDED,
      Suspended.VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY,
    );
    if (this.failAfterSwitchMs !== null) this.failAt = this.lastStep + this.failAfterSwitchMs;
    this.performed.resolve();
    if (this.passRemaining === 0) this.transferDone(this.lastStep);
    else this.run();
  }

  /** Ends a pre-copy transfer with an error (abort, destination gone...). */
  fail(err: SimError): void {
    this.step(this.host.now());
    if (this.phase !== 'precopy' && this.phase !== 'begin') return;
    this.phase = 'failed';
    this.endedAt = this.host.now();
    this.stopTimer();
    this.performed.reject(err);
    this.target?.done.reject(err);
  }

  /** Puts the source guest back as it was when a migration does not go through. */
  restoreSource(): void {
    const d = this.dom;
    if (
      d.active &&
      this.pausedAt !== null &&
      this.sourceWasRunning &&
      d.state === S.VIR_DOMAIN_PAUSED
    ) {
      this.host.setState(d, S.VIR_DOMAIN_RUNNING, Running.VIR_DOMAIN_RUNNING_MIGRATION_CANCELED);
      this.host.lifecycle(
        d,
        Ev.VIR_DOMAIN_EVENT_RESUMED,
        Resumed.VIR_DOMAIN_EVENT_RESUMED_MIGRATED,
      );
    }
    this.stopTimer();
    if (d.job === this) d.job = null;
  }

  /** Live statistics (GET_JOB_STATS), field for field as libvirtd reports a migration. */
  stats(
    completed: boolean,
    operation: number = Op.VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT,
  ): RemoteTypedParam[] {
    if (!completed) this.step(this.host.now());
    const end = this.endedAt ?? this.host.now();
    const elapsed = Math.max(0, Math.round(end - this.startedAt));
    const remaining = completed ? 0 : Math.round(this.remaining);
    const processed = Math.round(this.processed);
    const normal = Math.round(processed / PAGE_SIZE);
    const dirtyPages = Math.round(
      (this.dom.def.dirtyRateMiBps * MiB * (1 - this.throttle)) / PAGE_SIZE,
    );
    const v: Record<string, TypedValue> = { operation };
    if (this.transferStartedAt === null && !completed) {
      // libvirtd before QEMU starts the transfer: the job exists, the memory figures are zero.
      Object.assign(v, {
        time_elapsed: elapsed,
        data_total: 0,
        data_processed: 0,
        data_remaining: 0,
        memory_total: 0,
        memory_processed: 0,
        memory_remaining: 0,
        memory_dirty_rate: 0,
        memory_iteration: 0,
        memory_postcopy_requests: 0,
        disk_total: 0,
        disk_processed: 0,
        disk_remaining: 0,
      });
      return toTypedParams(v, JOB_SCHEMA, 'job statistic');
    }
    v.time_elapsed = elapsed;
    if (completed && !this.recovered) v.time_elapsed_net = Math.max(0, elapsed - 3);
    v.downtime = completed ? Math.round(this.downtimeMs) : Number(this.maxDowntimeMs);
    if (completed && !this.recovered) v.downtime_net = Math.max(0, Math.round(this.downtimeMs) - 4);
    Object.assign(v, {
      setup_time: SETUP_MS,
      data_total: this.memTotal,
      data_processed: processed,
      data_remaining: remaining,
      memory_total: this.memTotal,
      memory_processed: processed,
      memory_remaining: remaining,
      // libvirt leaves the rate out while QEMU has not measured one yet (its first 100 ms)
      memory_bps:
        !completed && end - (this.transferStartedAt ?? end) < BPS_AFTER_MS
          ? undefined
          : Math.round((this.phase === 'postcopy' ? this.postcopyRate : this.rate) * 1000),
      memory_constant: 0,
      memory_normal: normal,
      memory_normal_bytes: normal * PAGE_SIZE,
      memory_dirty_rate: this.phase === 'precopy' ? dirtyPages : 0,
      memory_iteration: this.iteration,
      memory_postcopy_requests: this.postcopyRequests,
      memory_page_size: PAGE_SIZE,
      disk_total: 0,
      disk_processed: 0,
      disk_remaining: 0,
    });
    return toTypedParams(v, JOB_SCHEMA, 'job statistic');
  }

  info(): RemoteDomainGetJobInfoRet {
    this.step(this.host.now());
    const started = this.transferStartedAt !== null;
    const total = started ? BigInt(this.memTotal) : 0n;
    const processed = started ? BigInt(Math.round(this.processed)) : 0n;
    const remaining = started ? BigInt(Math.round(this.remaining)) : 0n;
    return {
      type: JobType.VIR_DOMAIN_JOB_UNBOUNDED,
      timeElapsed: BigInt(Math.round((this.endedAt ?? this.host.now()) - this.startedAt)),
      timeRemaining: 0n,
      dataTotal: total,
      dataProcessed: processed,
      dataRemaining: remaining,
      memTotal: total,
      memProcessed: processed,
      memRemaining: remaining,
      fileTotal: 0n,
      fileProcessed: 0n,
      fileRemaining: 0n,
    };
  }

  snapshot(): SimJobSnapshot {
    return {
      direction: 'out',
      phase: this.phase,
      iteration: this.iteration,
      memoryTotal: this.memTotal,
      memoryProcessed: Math.round(this.processed),
      memoryRemaining: Math.round(this.remaining),
      postcopyRequests: this.postcopyRequests,
      flags: this.flags,
    };
  }
}

/** How the simulator describes jobs in `sim.domain(name).job`. */
export function describeJob(job: DomainJob): SimJobSnapshot {
  if (job instanceof OutgoingJob) {
    job.step(job.host.now());
    return job.snapshot();
  }
  const j = job as IncomingJob;
  return { direction: 'in', phase: j.phase, flags: j.flags };
}

function ulong(params: readonly RemoteTypedParam[], field: string): bigint | undefined {
  for (const p of params) {
    if (p.field !== field) continue;
    const v = p.value;
    if (v.type === 4) return v.ul;
    if (v.type === 3) return v.l;
    if (v.type === 2) return BigInt(v.ui);
    if (v.type === 1) return BigInt(v.i);
  }
  return undefined;
}

/** libvirt refuses parameters it does not know (the client checks too; a raw call may not). */
function checkParams(params: readonly RemoteTypedParam[]): void {
  for (const p of params) {
    const s = MIGRATE_PARAMS.get(p.field);
    if (!s) {
      throw libvirtError(
        'VIR_ERR_ARGUMENT_UNSUPPORTED',
        'VIR_FROM_QEMU',
        `parameter '${p.field}' not supported`,
      );
    }
  }
}

function checkMigrateFlags(flags: number, fn: string): void {
  checkFlags(flags, ALL_MIGRATE_FLAGS, fn);
  if (flags & F.VIR_MIGRATE_TUNNELLED && !(flags & F.VIR_MIGRATE_PEER2PEER)) {
    throw invalidArg('tunnelled migration requires peer-to-peer migration (VIR_MIGRATE_PEER2PEER)');
  }
  if (flags & F.VIR_MIGRATE_POSTCOPY_RESUME && !(flags & F.VIR_MIGRATE_POSTCOPY)) {
    throw invalidArg('resuming post-copy migration requires VIR_MIGRATE_POSTCOPY');
  }
  if (flags & F.VIR_MIGRATE_OFFLINE && !(flags & F.VIR_MIGRATE_PERSIST_DEST)) {
    throw invalidArg('offline migration requires VIR_MIGRATE_PERSIST_DEST');
  }
  if (flags & F.VIR_MIGRATE_OFFLINE && flags & (F.VIR_MIGRATE_LIVE | F.VIR_MIGRATE_POSTCOPY)) {
    throw invalidArg('offline migration cannot be live or post-copy');
  }
}

// Migration cookies are opaque to clients; like libvirt's they are a small XML document.
interface Cookie {
  readonly hostname: string;
  readonly hostUuid: string;
  readonly name: string;
  readonly uuid: string;
  readonly incoming?: string;
}

function encodeCookie(c: Cookie): Uint8Array {
  const inc = c.incoming ? `  <virtwire-incoming id='${c.incoming}'/>\n` : '';
  const xml =
    `<qemu-migration>\n  <name>${c.name.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</name>\n` +
    `  <uuid>${c.uuid}</uuid>\n  <hostname>${c.hostname}</hostname>\n  <hostuuid>${c.hostUuid}</hostuuid>\n${inc}</qemu-migration>\n`;
  return new TextEncoder().encode(xml);
}

function decodeCookie(b: Uint8Array): Cookie | null {
  if (b.length === 0) return null;
  let root: ReturnType<typeof parseXml>;
  try {
    root = parseXml(new TextDecoder().decode(b).replace(/\0+$/, ''));
  } catch {
    throw operationFailed('the migration cookie is not one this host understands');
  }
  const text = (n: string) => {
    const e = child(root, n);
    return e ? textOf(e).trim() : '';
  };
  const inc = child(root, 'virtwire-incoming');
  const id = inc ? attr(inc, 'id') : undefined;
  return {
    hostname: text('hostname'),
    hostUuid: text('hostuuid'),
    name: text('name'),
    uuid: text('uuid'),
    ...(id ? { incoming: id } : {}),
  };
}

function cookieFor(host: SimHost, d: SimDomain, incomingId?: string): Uint8Array {
  return encodeCookie({
    hostname: host.hostname,
    hostUuid: host.hostUuid,
    name: d.name,
    uuid: d.uuid,
    ...(incomingId ? { incoming: incomingId } : {}),
  });
}

const anotherJob = (d: SimDomain): SimError =>
  invalidOperation(`another migration job is already running for domain '${d.name}'`);

function outgoingOf(d: SimDomain): OutgoingJob | null {
  return d.job instanceof OutgoingJob ? d.job : null;
}

/** DOMAIN_MIGRATE_BEGIN3(_PARAMS) on the source: the XML to send and a cookie; with change protection the job starts here. */
export function begin(
  host: SimHost,
  d: SimDomain,
  params: readonly RemoteTypedParam[],
  flags: number,
  owner: object | null = null,
): { xml: string; cookieOut: Uint8Array } {
  checkMigrateFlags(flags, 'qemuDomainMigrateBegin3Params');
  checkParams(params);
  const job = outgoingOf(d);
  if (flags & F.VIR_MIGRATE_POSTCOPY_RESUME) {
    if (job?.phase !== 'postcopy-failed') {
      throw invalidOperation(
        'post-copy migration recovery is only possible for a migration whose post-copy phase failed',
      );
    }
    return { xml: host.xml(d, false), cookieOut: cookieFor(host, d) };
  }
  if (d.job) throw anotherJob(d);
  if (flags & F.VIR_MIGRATE_OFFLINE) {
    if (d.active)
      throw invalidOperation('offline migration needs an inactive domain; use live migration');
    if (!d.persistent) throw invalidOperation('cannot migrate a transient domain offline');
  } else if (!d.active) {
    throw notRunning();
  }
  if (flags & F.VIR_MIGRATE_CHANGE_PROTECTION && !(flags & F.VIR_MIGRATE_OFFLINE)) {
    const job = new OutgoingJob(host, d, flags, params);
    job.owner = owner;
    d.job = job;
  }
  return { xml: host.xml(d, false), cookieOut: cookieFor(host, d) };
}

/** DOMAIN_MIGRATE_PREPARE3(_PARAMS) on the destination: the guest is started, waiting for its memory. */
export function prepare(
  host: SimHost,
  params: readonly RemoteTypedParam[],
  cookieIn: Uint8Array,
  flags: number,
  owner: object | null = null,
): { cookieOut: Uint8Array; uriOut: string | null } {
  checkMigrateFlags(flags, 'qemuDomainMigratePrepare3Params');
  checkParams(params);
  const xml = getString(params, 'destination_xml');
  if (xml === undefined) throw invalidArg('no domain XML passed');
  const cookie = decodeCookie(cookieIn);
  if (cookie && cookie.hostUuid === host.hostUuid) {
    throw internalError(`Attempt to migrate guest to the same host ${host.hostUuid}`);
  }
  const probe = new SimDomain(parseDomainXml(xml), false);
  const dname = getString(params, 'destination_name');
  if (dname !== undefined && dname !== probe.def.name) probe.def = { ...probe.def, name: dname };
  const uriOut =
    getString(params, 'migrate_uri') === undefined
      ? `tcp://${host.hostname}:${49152 + (prepared++ % 64)}`
      : null;

  if (flags & F.VIR_MIGRATE_POSTCOPY_RESUME) {
    const d = host.byUuid(probe.uuid);
    const job = d?.job instanceof IncomingJob ? d.job : null;
    if (!d || !job || job.phase !== 'postcopy-failed') {
      throw invalidOperation(
        `domain '${probe.name}' has no failed post-copy migration to resume here`,
      );
    }
    job.owner = owner;
    return { cookieOut: cookieFor(host, d, job.id), uriOut };
  }
  const sameUuid = host.byUuid(probe.uuid);
  const sameName = host.byName(probe.name);
  if (sameName && sameName.uuid !== probe.uuid) {
    throw operationFailed(
      `domain '${probe.name}' already exists with uuid ${sameName.uuid}`,
      'VIR_FROM_DOMAIN',
    );
  }
  if (sameUuid && sameUuid.name !== probe.name) {
    throw operationFailed(
      `domain '${sameUuid.name}' is already defined with uuid ${sameUuid.uuid}`,
      'VIR_FROM_DOMAIN',
    );
  }
  if (sameUuid?.active) throw invalidOperation(`domain '${probe.name}' is already active`);
  if (sameUuid?.job) throw anotherJob(sameUuid);

  let d: SimDomain;
  let previous: IncomingJob['previous'] = null;
  if (sameUuid) {
    previous = { def: sameUuid.def, persistent: sameUuid.persistent };
    d = sameUuid;
    d.def = probe.def;
  } else {
    d = probe;
  }
  const id = randomUUID();
  const job = new IncomingJob(id, host, d, flags, previous);
  job.owner = owner;
  incoming.set(id, job);
  d.job = job;
  if (flags & F.VIR_MIGRATE_OFFLINE) {
    if (!sameUuid) {
      d.persistent = false;
      host.add(d); // kept hidden-in-plain-sight as inactive until Finish defines it
    }
    return { cookieOut: cookieFor(host, d, id), uriOut: null };
  }
  if (!sameUuid) host.add(d);
  d.id = host.newId();
  host.setState(d, S.VIR_DOMAIN_PAUSED, Paused.VIR_DOMAIN_PAUSED_MIGRATION);
  host.lifecycle(d, Ev.VIR_DOMAIN_EVENT_STARTED, Started.VIR_DOMAIN_EVENT_STARTED_MIGRATED);
  return { cookieOut: cookieFor(host, d, id), uriOut };
}
let prepared = 0;

function incomingFor(
  host: SimHost,
  cookie: Cookie | null,
  dname: string | undefined,
): IncomingJob | null {
  if (cookie?.incoming) {
    const j = incoming.get(cookie.incoming);
    if (j && j.host === host) return j;
  }
  const name = dname ?? cookie?.name;
  if (name !== undefined) {
    for (const j of incoming.values()) if (j.host === host && j.dom.name === name) return j;
  }
  return null;
}

/**
 * DOMAIN_MIGRATE_PERFORM3(_PARAMS) on the source. Managed: runs the transfer
 * to the destination the cookie names and returns when it is over (pre-copy)
 * or switched to post-copy. Peer-to-peer: the source drives the destination
 * itself, through a connection of its own, and returns when all is done.
 */
export async function perform(
  host: SimHost,
  d: SimDomain,
  dconnuri: string | null,
  params: readonly RemoteTypedParam[],
  cookieIn: Uint8Array,
  flags: number,
  owner: object | null = null,
): Promise<{ cookieOut: Uint8Array }> {
  checkMigrateFlags(flags, 'qemuDomainMigratePerform3Params');
  checkParams(params);
  if (flags & F.VIR_MIGRATE_PEER2PEER) {
    if (dconnuri === null)
      throw invalidArg('peer-to-peer migration needs a destination URI (dconnuri)');
    await peerToPeer(host, d, dconnuri, params, flags, owner);
    return { cookieOut: new Uint8Array(0) };
  }
  const cookie = decodeCookie(cookieIn);
  const target = findIncoming(cookie);
  if (!target) {
    throw operationFailed(
      'no destination has prepared this migration (the cookie names no incoming migration); direct migration to a hypervisor URI is not simulated',
    );
  }
  await run(host, d, params, flags, target, owner);
  return { cookieOut: cookieFor(host, d, target.id) };
}

function findIncoming(cookie: Cookie | null): IncomingJob | null {
  return cookie?.incoming ? (incoming.get(cookie.incoming) ?? null) : null;
}

/** The source's transfer (or its post-copy recovery); resolves when Perform may return. */
async function run(
  host: SimHost,
  d: SimDomain,
  params: readonly RemoteTypedParam[],
  flags: number,
  target: IncomingJob,
  owner: object | null,
): Promise<void> {
  if (target.host === host)
    throw internalError(`Attempt to migrate guest to the same host ${host.hostUuid}`);
  let job = outgoingOf(d);
  if (flags & F.VIR_MIGRATE_POSTCOPY_RESUME) {
    if (job?.phase !== 'postcopy-failed' || target.phase !== 'postcopy-failed') {
      throw invalidOperation(
        'post-copy migration recovery is only possible for a migration whose post-copy phase failed',
      );
    }
    const pb = ulong(params, 'bandwidth.postcopy');
    if (pb !== undefined) job.postcopyBandwidthMiBps = Number(pb);
    job.owner = owner;
    job.recover(target);
    await job.performed.promise;
    return;
  }
  if (job?.phase === 'failed') {
    // aborted between Begin and Perform
    job.restoreSource();
    throw aborted();
  }
  if (!d.active) throw notRunning();
  if (job && job.phase !== 'begin') throw anotherJob(d);
  if (d.job && !job) throw anotherJob(d);
  if (!job) {
    job = new OutgoingJob(host, d, flags, params);
    job.owner = owner;
    d.job = job;
  } else {
    job.flags = flags;
    const bw = ulong(params, 'bandwidth');
    if (bw !== undefined) job.bandwidthMiBps = Number(bw);
    const pb = ulong(params, 'bandwidth.postcopy');
    if (pb !== undefined) job.postcopyBandwidthMiBps = Number(pb);
  }
  job.target = target;
  target.source = job;
  target.phase = 'receiving';
  job.startTransfer();
  try {
    await job.performed.promise;
  } catch (err) {
    job.restoreSource();
    throw err;
  }
}

const aborted = (): SimError =>
  libvirtError(
    'VIR_ERR_OPERATION_ABORTED',
    'VIR_FROM_QEMU',
    "job 'migration out' canceled by client",
  );

/**
 * DOMAIN_MIGRATE_FINISH3(_PARAMS) on the destination: waits for the last page,
 * then the guest runs here (or stays paused with VIR_MIGRATE_PAUSED). With
 * `cancelled`, the half-migrated guest is killed.
 */
export async function finish(
  host: SimHost,
  params: readonly RemoteTypedParam[],
  cookieIn: Uint8Array,
  flags: number,
  cancelled: number,
): Promise<{ dom: RemoteNonnullDomain; cookieOut: Uint8Array }> {
  checkMigrateFlags(flags, 'qemuDomainMigrateFinish3Params');
  const dname = getString(params, 'destination_name');
  const job = incomingFor(host, decodeCookie(cookieIn), dname);
  if (!job) {
    throw operationFailed(`no incoming migration of domain '${dname ?? '?'}' on this host`);
  }
  const d = job.dom;
  if (cancelled) {
    if (job.phase === 'postcopy-failed') {
      throw operationFailed("job 'migration in' failed in post-copy phase");
    }
    abandonIncoming(
      job,
      Shutoff.VIR_DOMAIN_SHUTOFF_FAILED,
      Stopped.VIR_DOMAIN_EVENT_STOPPED_FAILED,
    );
    throw operationFailed(`migration of domain '${d.name}' did not complete on the source`);
  }
  if (!(job.flags & F.VIR_MIGRATE_OFFLINE)) {
    // Throws the stream's error when post-copy breaks meanwhile; the guest stays as it is then.
    await job.done.promise;
  }
  incoming.delete(job.id);
  d.job = null;
  const src = job.source;
  if (src) d.completedStats = src.stats(true, Op.VIR_DOMAIN_JOB_OPERATION_MIGRATION_IN);
  if (job.flags & F.VIR_MIGRATE_PERSIST_DEST) {
    const was = d.persistent;
    d.persistent = true;
    host.lifecycle(
      d,
      Ev.VIR_DOMAIN_EVENT_DEFINED,
      was ? Defined.VIR_DOMAIN_EVENT_DEFINED_UPDATED : Defined.VIR_DOMAIN_EVENT_DEFINED_ADDED,
    );
  }
  if (!(job.flags & F.VIR_MIGRATE_OFFLINE)) {
    if (job.flags & F.VIR_MIGRATE_PAUSED && d.state !== S.VIR_DOMAIN_RUNNING) {
      host.setState(d, S.VIR_DOMAIN_PAUSED, Paused.VIR_DOMAIN_PAUSED_USER);
      host.lifecycle(d, Ev.VIR_DOMAIN_EVENT_SUSPENDED, Suspended.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED);
    } else {
      host.setState(d, S.VIR_DOMAIN_RUNNING, Running.VIR_DOMAIN_RUNNING_MIGRATED);
      host.lifecycle(d, Ev.VIR_DOMAIN_EVENT_RESUMED, Resumed.VIR_DOMAIN_EVENT_RESUMED_MIGRATED);
    }
  }
  return { dom: d.wire, cookieOut: cookieFor(host, d) };
}

/** Kills the destination's half of a migration; the domain goes back to what it was here before. */
function abandonIncoming(job: IncomingJob, reason: number, detail: number): void {
  incoming.delete(job.id);
  const d = job.dom;
  const host = job.host;
  d.job = null;
  if (job.flags & F.VIR_MIGRATE_OFFLINE) {
    if (job.previous)
      Object.assign(d, { def: job.previous.def, persistent: job.previous.persistent });
    else host.remove(d);
    return;
  }
  if (d.active) {
    d.persistent = job.previous?.persistent ?? false;
    host.stop(d, reason, Ev.VIR_DOMAIN_EVENT_STOPPED, detail);
  }
  if (job.previous) {
    d.def = job.previous.def;
    if (!host.byUuid(d.uuid)) host.add(d);
  }
}

/**
 * DOMAIN_MIGRATE_CONFIRM3(_PARAMS) on the source: the guest has moved (it
 * stops here, the JOB_COMPLETED event carries the final statistics), or with
 * `cancelled` the migration is called off and the guest resumes here.
 */
export function confirm(host: SimHost, d: SimDomain, flags: number, cancelled: number): void {
  checkMigrateFlags(flags, 'qemuDomainMigrateConfirm3Params');
  const job = outgoingOf(d);
  if (flags & F.VIR_MIGRATE_OFFLINE) {
    if (!cancelled && flags & F.VIR_MIGRATE_UNDEFINE_SOURCE && d.persistent && !d.active)
      host.remove(d);
    return;
  }
  if (!job) throw invalidOperation(`domain '${d.name}' has no outgoing migration to confirm`);
  if (cancelled) {
    // After a post-copy failure there is nothing to roll back: the job waits for recovery.
    if (job.phase === 'postcopy-failed') return;
    job.fail(aborted());
    job.restoreSource();
    return;
  }
  if (job.phase !== 'transferred') {
    throw invalidOperation(`migration of domain '${d.name}' has not finished transferring`);
  }
  job.phase = 'done';
  const stats = job.stats(true);
  d.job = null;
  const persistent = d.persistent && !(flags & F.VIR_MIGRATE_UNDEFINE_SOURCE);
  d.completedStats = persistent ? stats : null;
  d.persistent = persistent;
  host.stop(
    d,
    Shutoff.VIR_DOMAIN_SHUTOFF_MIGRATED,
    Ev.VIR_DOMAIN_EVENT_STOPPED,
    Stopped.VIR_DOMAIN_EVENT_STOPPED_MIGRATED,
  );
  host.emit({ kind: 'job_completed', dom: { ...d.wire, id: -1 }, params: stats });
}

/** The source daemon's own run of a peer-to-peer migration, over a connection it opens to the destination. */
async function peerToPeer(
  host: SimHost,
  d: SimDomain,
  dconnuri: string,
  params: readonly RemoteTypedParam[],
  flags: number,
  owner: object | null,
): Promise<void> {
  const dest = findByUri(dconnuri);
  if (!dest) {
    throw new SimError(
      VirErrorNumber.VIR_ERR_SYSTEM_ERROR,
      VirErrorDomain.VIR_FROM_RPC,
      `unable to connect to server at '${dconnuri}': Connection refused (no simulator is started with this URI)`,
      '%s',
      `unable to connect to server at '${dconnuri}': Connection refused`,
    );
  }
  let localFlags = flags | F.VIR_MIGRATE_CHANGE_PROTECTION;
  // as the client does for managed migration: a paused guest stays paused on the destination
  if (d.state === S.VIR_DOMAIN_PAUSED && !(flags & F.VIR_MIGRATE_POSTCOPY_RESUME)) {
    localFlags |= F.VIR_MIGRATE_PAUSED;
  }
  const { xml, cookieOut } = begin(host, d, params, localFlags, owner);
  let conn: Awaited<ReturnType<typeof connect>> | null = null;
  try {
    conn = await connect(dconnuri, { transport: dest.transport(), keepalive: { interval: 0 } });
    if (!(await conn.supportsFeature(Feature.MIGRATION_PARAMS))) {
      throw operationFailed('the destination does not support migration with parameters');
    }
    // as libvirt's source daemon: the destination sees PEER2PEER (and TUNNELLED) too
    const destFlags =
      (flags | (localFlags & F.VIR_MIGRATE_PAUSED)) &
      ~(F.VIR_MIGRATE_ABORT_ON_ERROR | F.VIR_MIGRATE_AUTO_CONVERGE);
    const p = [
      ...params.filter((x) => x.field !== 'destination_xml'),
      { field: 'destination_xml', value: { type: 7 as const, s: xml } },
    ];
    let prep: { cookieOut: Uint8Array; uriOut: string | null };
    try {
      prep = await conn.remote.domainMigratePrepare3Params({
        params: p,
        cookieIn: cookieOut,
        flags: destFlags,
      });
    } catch (err) {
      confirmLocal(host, d, localFlags, 1);
      throw asSimError(err);
    }
    const target = findIncoming(decodeCookie(prep.cookieOut));
    let performError: SimError | null = null;
    if (!target) performError = operationFailed('the destination did not prepare the migration');
    else {
      try {
        await run(host, d, params, localFlags, target, owner);
      } catch (err) {
        performError = asSimError(err);
      }
    }
    const dname = getString(params, 'destination_name') ?? d.name;
    const fp = [
      ...p.filter((x) => x.field !== 'destination_name'),
      { field: 'destination_name', value: { type: 7 as const, s: dname } },
    ];
    let finishError: SimError | null = null;
    try {
      await conn.remote.domainMigrateFinish3Params({
        params: fp,
        cookieIn: performError ? new Uint8Array(0) : cookieFor(host, d, target?.id),
        flags: destFlags,
        cancelled: performError ? 1 : 0,
      });
    } catch (err) {
      finishError = asSimError(err);
    }
    if (performError) throw performError;
    confirmLocal(host, d, localFlags, finishError ? 1 : 0);
    if (finishError) throw finishError;
  } catch (err) {
    const j = outgoingOf(d);
    if (j && j.phase === 'begin') j.restoreSource();
    throw asSimError(err);
  } finally {
    await conn?.close();
  }
}

function confirmLocal(host: SimHost, d: SimDomain, flags: number, cancelled: number): void {
  try {
    confirm(host, d, flags, cancelled);
  } catch {
    // the first error is the one reported
  }
}

/** A RemoteError from the destination becomes the same error reported by this daemon. */
function asSimError(err: unknown): SimError {
  if (err instanceof SimError) return err;
  const e = err as {
    code?: number;
    domain?: number;
    message?: string;
    str1?: string | null;
    str2?: string | null;
  };
  if (typeof e.code === 'number' && typeof e.domain === 'number') {
    return new SimError(e.code, e.domain, e.message ?? 'error', e.str1 ?? null, e.str2 ?? null);
  }
  return internalError(String(e.message ?? err));
}

/** DOMAIN_MIGRATE_START_POST_COPY. */
export function startPostCopy(d: SimDomain, flags: number): void {
  checkFlags(flags, 0, 'qemuDomainMigrateStartPostCopy');
  if (!d.active) throw notRunning();
  const job = outgoingOf(d);
  if (
    !job ||
    (job.phase !== 'precopy' && job.phase !== 'postcopy' && job.phase !== 'transferred')
  ) {
    throw invalidOperation('post-copy can only be started while outgoing migration is in progress');
  }
  if (!(job.flags & F.VIR_MIGRATE_POSTCOPY)) {
    throw invalidOperation(
      'switching to post-copy requires migration to be started with VIR_MIGRATE_POSTCOPY flag',
    );
  }
  if (job.phase === 'postcopy') throw invalidOperation('post-copy migration already started');
  job.switchToPostcopy();
}

/** DOMAIN_ABORT_JOB(_FLAGS). */
export function abortJob(d: SimDomain, flags: number): void {
  checkFlags(
    flags,
    VirDomainAbortJobFlagsValues.VIR_DOMAIN_ABORT_JOB_POSTCOPY,
    'qemuDomainAbortJobFlags',
  );
  if (!d.active) throw notRunning();
  if (!d.job) throw invalidOperation('no job is active on the domain');
  if (d.job.direction === 'in')
    throw invalidOperation('cannot abort incoming migration; use virDomainDestroy instead');
  const job = d.job as OutgoingJob;
  const postcopy = job.phase === 'postcopy';
  if (flags & VirDomainAbortJobFlagsValues.VIR_DOMAIN_ABORT_JOB_POSTCOPY) {
    if (!postcopy)
      throw invalidOperation('current job is not outgoing migration in post-copy mode');
    job.breakPostcopy();
    return;
  }
  if (postcopy) throw invalidOperation('cannot abort migration in post-copy mode');
  if (job.phase === 'postcopy-failed')
    throw invalidOperation('cannot abort migration in post-copy mode');
  if (job.phase === 'transferred' || job.phase === 'done') {
    throw invalidOperation('migration is already completing and cannot be aborted');
  }
  job.fail(aborted());
}

/**
 * The test hook behind `sim.failPostcopy()`: breaks the post-copy stream of
 * the domain's outgoing migration now (or `afterMs` later); before the switch
 * (or before any migration) it arms the failure for `afterMs` after the switch.
 */
export function failPostcopy(d: SimDomain, afterMs: number): void {
  const job = outgoingOf(d);
  if (!job) {
    d.failPostcopyAfterMs = afterMs;
    return;
  }
  if (job.phase === 'postcopy') {
    if (afterMs <= 0) job.breakPostcopy();
    else job.failAt = job.host.now() + afterMs;
    return;
  }
  if (job.phase === 'begin' || job.phase === 'precopy' || job.phase === 'postcopy-failed') {
    job.failAfterSwitchMs = afterMs;
    return;
  }
  throw new Error(`the migration of ${d.name} is past post-copy (${job.phase})`);
}

/** GET_JOB_INFO. */
export function jobInfo(d: SimDomain): RemoteDomainGetJobInfoRet {
  if (!d.active) throw notRunning();
  if (d.job?.direction === 'in') throw sourceOnly();
  const job = outgoingOf(d);
  if (job && job.phase !== 'done' && job.phase !== 'failed') return job.info();
  return {
    type: JobType.VIR_DOMAIN_JOB_NONE,
    timeElapsed: 0n,
    timeRemaining: 0n,
    dataTotal: 0n,
    dataProcessed: 0n,
    dataRemaining: 0n,
    memTotal: 0n,
    memProcessed: 0n,
    memRemaining: 0n,
    fileTotal: 0n,
    fileProcessed: 0n,
    fileRemaining: 0n,
  };
}

const sourceOnly = (): SimError =>
  libvirtError(
    'VIR_ERR_OPERATION_UNSUPPORTED',
    'VIR_FROM_QEMU',
    'migration statistics are available only on the source host',
  );

/** GET_JOB_STATS: the running job, or (COMPLETED) the last completed one, as libvirtd reports them. */
export function jobStats(
  d: SimDomain,
  flags: number,
): { type: number; params: RemoteTypedParam[] } {
  const { VIR_DOMAIN_JOB_STATS_COMPLETED: C, VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED: K } =
    VirDomainGetJobStatsFlags;
  checkFlags(flags, C | K, 'qemuDomainGetJobStats');
  if (flags & C) {
    const s = d.completedStats;
    if (!s) return { type: JobType.VIR_DOMAIN_JOB_NONE, params: [] };
    if (!(flags & K)) d.completedStats = null;
    return { type: JobType.VIR_DOMAIN_JOB_COMPLETED, params: s };
  }
  if (!d.active) throw notRunning();
  if (d.job?.direction === 'in') throw sourceOnly();
  const job = outgoingOf(d);
  if (!job || job.phase === 'done' || job.phase === 'failed')
    return { type: JobType.VIR_DOMAIN_JOB_NONE, params: [] };
  return { type: JobType.VIR_DOMAIN_JOB_UNBOUNDED, params: job.stats(false) };
}

/** MIGRATE_SET_MAX_SPEED also applies to a migration in progress, as QEMU applies it at once. */
export function setMaxSpeed(d: SimDomain, mibps: bigint, postcopy: boolean): void {
  if (postcopy) d.postcopyMaxSpeedMiBps = mibps;
  else d.maxSpeedMiBps = mibps;
  const job = outgoingOf(d);
  if (!job) return;
  job.step(job.host.now());
  if (postcopy) job.postcopyBandwidthMiBps = Number(mibps);
  else job.bandwidthMiBps = Number(mibps);
}

export function setMaxDowntime(d: SimDomain, ms: bigint): void {
  d.maxDowntimeMs = ms;
  const job = outgoingOf(d);
  if (job) {
    job.step(job.host.now());
    job.maxDowntimeMs = Number(ms);
  }
}

/**
 * A domain is being destroyed: a migration it takes part in fails (the
 * source's with "domain is not running", the destination's by the broken
 * stream).
 */
export function onDestroy(d: SimDomain): void {
  const job = d.job;
  if (job instanceof OutgoingJob) {
    job.fail(operationFailed('domain is not running'));
    if (job.target)
      abandonIncoming(
        job.target,
        Shutoff.VIR_DOMAIN_SHUTOFF_FAILED,
        Stopped.VIR_DOMAIN_EVENT_STOPPED_FAILED,
      );
    d.job = null;
  } else if (job instanceof IncomingJob) {
    incoming.delete(job.id);
    d.job = null;
    job.source?.fail(operationFailed('Unable to write to socket: Connection reset by peer'));
    job.done.reject(operationFailed('domain is not running'));
  }
}

/**
 * A client connection closed. As libvirt does, a migration it was driving is
 * called off: the source's job ends (the guest resumes if the migration had
 * stopped it) and the destination's half-migrated guest is killed. Post-copy
 * goes on (there is no way back), and a failed post-copy waits for recovery.
 */
export function onClientClosed(host: SimHost, owner: object): void {
  const gone = operationFailed('the client driving the migration closed its connection');
  for (const d of host.all()) {
    const job = d.job;
    if (job instanceof OutgoingJob && job.owner === owner) {
      if (job.phase === 'begin' || job.phase === 'precopy') {
        job.fail(gone);
        job.restoreSource();
        if (job.target) {
          abandonIncoming(
            job.target,
            Shutoff.VIR_DOMAIN_SHUTOFF_FAILED,
            Stopped.VIR_DOMAIN_EVENT_STOPPED_FAILED,
          );
        }
      } else if (job.phase === 'transferred') {
        // whether the destination runs it is unknown here: leave the guest as it is, as libvirt does
        d.job = null;
      }
    } else if (job instanceof IncomingJob && job.owner === owner) {
      if (job.phase === 'postcopy' || job.phase === 'postcopy-failed') continue;
      job.source?.fail(operationFailed('Unable to write to socket: Connection reset by peer'));
      job.done.reject(gone);
      abandonIncoming(
        job,
        Shutoff.VIR_DOMAIN_SHUTOFF_FAILED,
        Stopped.VIR_DOMAIN_EVENT_STOPPED_FAILED,
      );
    }
  }
}

/** Stops every timer of a host's migrations (the simulator is closing). */
export function stopAll(host: SimHost): void {
  for (const d of host.all()) {
    const job = d.job;
    if (job instanceof OutgoingJob)
      job.fail(operationFailed('the simulated host is shutting down'));
    if (job instanceof IncomingJob) {
      incoming.delete(job.id);
      job.done.reject(operationFailed('the simulated host is shutting down'));
      job.source?.fail(operationFailed('Unable to write to socket: Connection reset by peer'));
    }
  }
}
