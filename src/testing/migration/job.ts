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
import type { Flow, LinkEnd, SharedLinks } from './link.js';
import { ulong } from './rules.js';
import type { MigrationSite } from './site.js';

export const MiB = 1024 * 1024;
export const PAGE_SIZE = 4096;
/** Simulated ms QEMU needs to switch the guest between hosts. */
const SWITCHOVER_MS = 5;
/** A vCPU blocked on a missing page waits about this long (simulated ms) for it in post-copy. */
const FAULT_ROUND_TRIP_MS = 1;
/** Real ms after the post-copy switch by which the destination reports its guest running, Finish or not. */
const RUN_WITHOUT_FINISH_MS = 50;

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
    this.cancelRun();
  }

  private runTimer: NodeJS.Timeout | null = null;

  /**
   * Post-copy began: QEMU runs the guest here, and libvirtd reports it
   * (RESUMED/POSTCOPY) once Finish, which it is busy with then, has defined
   * the guest; without a Finish, a moment later.
   */
  startsRunning(): void {
    this.cancelRun();
    this.runTimer = setTimeout(() => this.running(), RUN_WITHOUT_FINISH_MS);
    this.runTimer.unref();
  }

  /** The guest runs here in post-copy, if post-copy began and it was not reported yet. */
  running(): void {
    if (!this.runTimer) return;
    this.cancelRun();
    this.host.setState(this.dom, S.VIR_DOMAIN_RUNNING, Running.VIR_DOMAIN_RUNNING_POSTCOPY);
    this.host.lifecycle(
      this.dom,
      Ev.VIR_DOMAIN_EVENT_RESUMED,
      Resumed.VIR_DOMAIN_EVENT_RESUMED_POSTCOPY,
    );
  }

  private cancelRun(): void {
    if (this.runTimer) clearTimeout(this.runTimer);
    this.runTimer = null;
  }
}

/**
 * The source's migration job: a pre-copy loop driven by the guest's dirty
 * rate and its share of the links, an optional switch to post-copy, and the
 * figures libvirt's statistics are made of (stats.ts). Sizes are bytes and
 * times simulated milliseconds of the source host.
 *
 * Memory is tracked as QEMU tracks it: each pass sends the pages dirty when
 * it began (`passSize`), and what the guest dirties meanwhile is only
 * counted at the next pass's start. So the memory remaining never grows
 * within a pass and never exceeds the guest's memory, and pages dirtied
 * twice are sent twice.
 */
export class OutgoingJob implements DomainJob, Flow {
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
  /** Bytes of this pass not sent yet. */
  passRemaining = 0;
  /** Bytes this pass set out to send: the memory dirty when it began. */
  passSize = 0;
  /** Bytes dirtied since this pass began (at most the dirty set): the next pass's size. */
  dirty = 0;
  /** Every byte the guest dirtied since the transfer began: the most that can have to be sent again. */
  dirtied = 0;
  iteration = 0;
  postcopyRequests = 0;
  private requestCarry = 0;
  /** Bytes post-copy had to move when it began. */
  postcopyTotal = 0;
  downtimeMs = 0;
  private pausedAt: number | null = null;
  /** The guest was running when the transfer started (resume it if the migration fails). */
  sourceWasRunning = false;
  /** When a non-live migration stopped the guest (simulated ms). */
  private stoppedAt: number | null = null;
  /** Auto-converge's vCPU throttle, 0-0.99. */
  throttle = 0;
  /** The simulated time the transfer has advanced to. */
  private clockAt = 0;
  private lastRate = 0;
  /** Perform waits on this: the transfer is over (pre-copy) or switched to post-copy. */
  performed = new Deferred<void>();
  /** Break the post-copy stream at this simulated time (test hook). */
  failAt: number | null = null;
  /** failPostcopy() before the switch: break this long after it. */
  failAfterSwitchMs: number | null = null;
  /** Set after a successful post-copy recovery: libvirt's final statistics then lack the *_net fields. */
  recovered = false;
  /** When the post-copy stream broke (simulated ms), for the release's refusal window. */
  postcopyFailedAt: number | null = null;
  maxDowntimeMs: number;
  bandwidthMiBps: number;
  postcopyBandwidthMiBps: number;
  readonly host: SimHost;
  private readonly links: SharedLinks;

  constructor(
    site: MigrationSite,
    readonly dom: SimDomain,
    public flags: number,
    params: readonly RemoteTypedParam[],
  ) {
    this.host = site.host;
    this.links = site.seat.links;
    this.startedAt = this.host.now();
    this.memTotal = dom.memoryBytes;
    this.maxDowntimeMs = Number(dom.maxDowntimeMs);
    this.bandwidthMiBps = Number(ulong(params, 'bandwidth') ?? dom.maxSpeedMiBps);
    this.postcopyBandwidthMiBps = Number(
      ulong(params, 'bandwidth.postcopy') ?? dom.postcopyMaxSpeedMiBps,
    );
    this.failAfterSwitchMs = dom.failPostcopyAfterMs;
    dom.failPostcopyAfterMs = null;
  }

  // The job as a flow on the network's links.

  get from(): LinkEnd {
    return this.host;
  }

  get to(): LinkEnd {
    return this.target?.host ?? this.host;
  }

  get timeScale(): number {
    return this.host.timeScale;
  }

  /** Its own speed limit in the current phase, MiB/s (libvirt's 0 is no limit). */
  cap(): number {
    const limit = this.phase === 'postcopy' ? this.postcopyBandwidthMiBps : this.bandwidthMiBps;
    return limit > 0 ? limit : Number.POSITIVE_INFINITY;
  }

  /** The transfer rate, bytes per simulated ms: its share of the links now, else the last it had. */
  get rate(): number {
    return this.links.has(this) ? this.links.rateOf(this) : this.lastRate;
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

  /** What QEMU reports as remaining: the pages of this pass (or of post-copy) not sent yet. */
  get remaining(): number {
    if (this.phase === 'transferred' || this.phase === 'done') return 0;
    if (this.transferStartedAt === null) return this.memTotal;
    return this.passRemaining;
  }

  /** Runs the network's transfers up to now, this one among them. */
  step(): void {
    this.links.advance(this.host.realNow());
  }

  /** Starts moving memory: iteration 1 sends everything. */
  startTransfer(): void {
    const now = this.host.now();
    this.phase = 'precopy';
    this.transferStartedAt = now;
    this.clockAt = now;
    this.passRemaining = this.memTotal;
    this.passSize = this.memTotal;
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
    this.links.join(this);
  }

  private leaveLinks(): void {
    this.links.leave(this);
  }

  /**
   * A new pass begins (`last`: the final pre-copy pass, the guest paused for it); QEMU reports it
   * unless its release leaves this one out.
   */
  private nextIteration(last = false): void {
    this.iteration++;
    const p = this.host.profile.migrationSource;
    if (this.iteration < p.firstReportedPass) return;
    if (last && !p.reportsPausedPass) return;
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

  /** Simulated ms to this transfer's next event at `rate`: its pass ends, it ends, its stream breaks. */
  untilEvent(rate: number): number {
    if (this.phase !== 'precopy' && this.phase !== 'postcopy') return 0;
    const toEnd = rate > 0 ? this.passRemaining / rate : Number.POSITIVE_INFINITY;
    if (this.phase === 'postcopy' && this.failAt !== null) {
      return Math.min(toEnd, Math.max(0, this.failAt - this.clockAt));
    }
    return toEnd;
  }

  /** Moves the transfer on by `dt` simulated ms at `rate`, up to its next event at most. */
  advance(dt: number, rate: number): void {
    if (rate > 0) this.lastRate = rate;
    const sent = Math.min(this.passRemaining, rate * dt);
    if (this.phase === 'precopy') {
      const before = this.dirty;
      this.dirty = Math.min(this.dirtyCap, this.dirty + this.dirtyRate * dt);
      this.dirtied += this.dirty - before;
    } else if (this.phase === 'postcopy') {
      // The guest now runs on the destination and faults on the pages still missing there.
      const missing = this.postcopyTotal > 0 ? this.passRemaining / this.postcopyTotal : 0;
      const touchPerMs =
        Math.max(this.dom.def.dirtyRateMiBps * MiB, PAGE_SIZE * 50) / PAGE_SIZE / 1000;
      this.requestCarry += Math.min(touchPerMs, 1 / FAULT_ROUND_TRIP_MS) * missing * dt;
      const whole = Math.floor(this.requestCarry);
      this.postcopyRequests += whole;
      this.requestCarry -= whole;
    } else return;
    this.processed += sent;
    this.passRemaining -= sent;
    this.clockAt += dt;
  }

  /** This transfer's event is due at its clock: a pass or the transfer ends, or the stream breaks. */
  settle(): void {
    const t = this.clockAt;
    if (this.phase === 'precopy') {
      this.processed += this.passRemaining;
      this.passRemaining = 0;
      this.passEnd(t);
    } else if (this.phase === 'postcopy') {
      if (this.failAt !== null && this.failAt <= t + 1e-6 && this.passRemaining > 0) {
        this.brokenStream();
        return;
      }
      this.processed += this.passRemaining;
      this.passRemaining = 0;
      this.transferDone(t);
    } else this.leaveLinks();
  }

  /** One pass over the dirty memory has ended: stop and copy if the rest fits in the downtime. */
  private passEnd(t: number): void {
    const rate = this.rate;
    const rest = this.dirty;
    if (rate > 0 && rest / rate <= this.maxDowntimeMs) {
      this.pauseSource(
        Paused.VIR_DOMAIN_PAUSED_MIGRATION,
        Suspended.VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED,
      );
      this.nextIteration(true);
      this.processed += rest;
      this.dirty = 0;
      this.passSize = rest;
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
    this.passSize = rest;
    this.dirty = 0;
    this.nextIteration();
  }

  private transferDone(at: number): void {
    this.phase = 'transferred';
    this.endedAt = at;
    this.leaveLinks();
    if (this.target) this.target.phase = 'transferred';
    this.performed.resolve();
    this.target?.done.resolve();
  }

  /**
   * MIGRATE_START_POST_COPY: the guest moves to the destination now; its
   * pages follow on demand. What is left is what QEMU's last bitmap sync
   * finds: this pass's unsent pages and those dirtied since it began, within
   * the guest's memory (the dirty set after pass 1).
   */
  switchToPostcopy(): void {
    this.step();
    if (this.phase !== 'precopy') return; // converged meanwhile: nothing left to switch
    this.pauseSource(
      Paused.VIR_DOMAIN_PAUSED_MIGRATION,
      Suspended.VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED,
    );
    this.pauseSource(
      Paused.VIR_DOMAIN_PAUSED_POSTCOPY,
      Suspended.VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY,
    );
    // after pass 1 every page still to send lies in the dirty set
    const bound = this.iteration <= 1 ? this.memTotal : this.dirtyCap;
    this.nextIteration();
    this.phase = 'postcopy';
    this.passRemaining = Math.min(bound, this.passRemaining + this.dirty);
    this.passSize = this.passRemaining;
    this.dirty = 0;
    this.postcopyTotal = this.passRemaining;
    this.downtimeMs = SWITCHOVER_MS;
    const t = this.target!;
    t.phase = 'postcopy';
    t.startsRunning();
    if (this.failAfterSwitchMs !== null) this.failAt = this.clockAt + this.failAfterSwitchMs;
    this.performed.resolve();
    if (this.passRemaining === 0) this.transferDone(this.clockAt);
  }

  /**
   * The post-copy stream broke: no rollback. Both sides pause in
   * POSTCOPY_FAILED as libvirt reports it (the destination keeps its vCPUs
   * "running" but blocked), and Finish on the destination fails.
   */
  breakPostcopy(): void {
    this.step();
    if (this.phase === 'postcopy') this.brokenStream();
  }

  private brokenStream(): void {
    this.phase = 'postcopy-failed';
    this.postcopyFailedAt = this.host.now();
    this.failAt = null;
    this.failAfterSwitchMs = null;
    this.leaveLinks();
    const t = this.target!;
    t.running(); // it ran there before the stream broke
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
    this.clockAt = this.host.now();
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
    if (this.failAfterSwitchMs !== null) this.failAt = this.clockAt + this.failAfterSwitchMs;
    this.performed.resolve();
    if (this.passRemaining === 0) this.transferDone(this.clockAt);
    else this.links.join(this);
  }

  /** Ends a pre-copy transfer with an error (abort, destination gone...). */
  fail(err: SimError): void {
    this.step();
    if (this.phase !== 'precopy' && this.phase !== 'begin') return;
    this.phase = 'failed';
    this.endedAt = this.host.now();
    this.leaveLinks();
    this.performed.reject(err);
    this.target?.done.reject(err);
  }

  /** Takes the transfer off the links whatever its phase (its simulator is closing). */
  halt(): void {
    this.step();
    this.leaveLinks();
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
    this.leaveLinks();
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
