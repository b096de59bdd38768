// The job model: a migration's two halves and the transfer between them, one
// state machine from Begin to Confirm (pre-copy passes, the post-copy switch,
// failure, recovery). Both halves live here because each changes the other.
import {
  VirDomainEventType as Ev,
  VirDomainMigrateFlags as F,
  VirDomainPausedReason as Paused,
  VirDomainEventResumedDetailType as Resumed,
  VirDomainRunningReason as Running,
  VirDomainState as S,
  VirDomainEventSuspendedDetailType as Suspended,
} from '../../generated/api.js';
import type { RemoteTypedParam } from '../../generated/remote.js';
import { operationFailed, type SimError } from '../errors.js';
import type { DomainJob, SimDomain, SimHost } from '../host.js';
import { Deferred } from './deferred.js';
import { ulong } from './rules.js';

export const MiB = 1024 * 1024;
export const PAGE_SIZE = 4096;
/** Real milliseconds between two steps of a running migration. */
const TICK_MS = 10;
/** Simulated ms QEMU needs to switch the guest between hosts. */
const SWITCHOVER_MS = 5;
/** A vCPU blocked on a missing page waits about this long (simulated ms) for it in post-copy. */
const FAULT_ROUND_TRIP_MS = 1;

/** Phases of the source's job. */
export type OutPhase =
  | 'begin'
  | 'precopy'
  | 'postcopy'
  | 'postcopy-failed'
  | 'transferred'
  | 'failed'
  | 'done';

/**
 * The destination's side of a migration, from Prepare to Finish. The source
 * finds it on their network by the id in the migration cookie.
 */
export class IncomingJob implements DomainJob {
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
    /** The network's incoming migrations, where this one is listed while it may be found. */
    private readonly listing: Map<string, DomainJob>,
  ) {}

  /** Makes it findable by the sources on its network. */
  list(): void {
    this.listing.set(this.id, this);
  }

  unlist(): void {
    this.listing.delete(this.id);
  }
}

/**
 * The source's migration job: a pre-copy loop driven by the guest's dirty
 * rate and the bandwidth, an optional switch to post-copy, and the figures
 * libvirt's statistics are made of (stats.ts). Sizes are bytes and times
 * simulated milliseconds.
 */
export class OutgoingJob implements DomainJob {
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

  /** The most memory that can be dirty at once: the guest's dirty set, else all of it. */
  get dirtyCap(): number {
    const set = this.dom.def.dirtySetMiB;
    return set === null ? this.memTotal : Math.min(this.memTotal, set * MiB);
  }

  /** Bytes the guest dirties per simulated ms (nothing while paused). */
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
    // What is left is what pre-copy reports as left: a page dirtied again before this pass
    // reached it is one page to send, not two (never more than the memory, or the dirty set).
    const left = this.remaining;
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
    this.passRemaining = left;
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
}

/** The domain's outgoing migration, if it is the source of one. */
export function outgoingOf(d: SimDomain): OutgoingJob | null {
  return d.job instanceof OutgoingJob ? d.job : null;
}

/** The domain's incoming migration, if it is the destination of one. */
export function incomingOf(d: SimDomain): IncomingJob | null {
  return d.job instanceof IncomingJob ? d.job : null;
}
