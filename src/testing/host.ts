import { randomUUID } from 'node:crypto';
import {
  type DomainStateName,
  domainReasonName,
  domainStateName,
  formatUuid,
} from '../api/names.js';
import {
  VirDomainEventDefinedDetailType as Defined,
  VirDomainEventType as Ev,
  VirConnectListAllDomainsFlags as L,
  VirDomainPausedReason as Paused,
  VirDomainEventResumedDetailType as Resumed,
  VirDomainRunningReason as Running,
  VirDomainState as S,
  VirDomainEventShutdownDetailType as Shutdown,
  VirDomainShutoffReason as Shutoff,
  VirDomainEventStartedDetailType as Started,
  VirDomainEventStoppedDetailType as Stopped,
  VirDomainEventSuspendedDetailType as Suspended,
  VirDomainEventUndefinedDetailType as Undefined,
  VirDomainCreateFlags,
  VirErrorDomain,
  VirErrorNumber,
} from '../generated/api.js';
import type { RemoteNonnullDomain, RemoteTypedParam } from '../generated/remote.js';
import {
  alreadyRunning,
  checkFlags,
  invalidOperation,
  noDomain,
  noDomainForArg,
  notRunning,
  operationFailed,
  SimError,
} from './errors.js';
import { DEFAULT_PROFILE, SIM_PROFILES, type SimProfile } from './profile.js';
import { type DomainDefinition, formatDomainXml, parseDomainXml } from './xml.js';

/** libvirt's "no limit" for the migration speed, in MiB/s (what GET_MAX_SPEED reports by default). */
export const UNLIMITED_SPEED_MIBPS = 8796093022207n;

/** A migration job attached to a domain (see migration.ts). */
export interface DomainJob {
  readonly direction: 'out' | 'in';
  /** Where the job is, for snapshots and error checks. */
  readonly phase: string;
}

/** One event the host reports; connections deliver it to matching registrations. */
export type HostEvent =
  | {
      readonly kind: 'lifecycle';
      readonly dom: RemoteNonnullDomain;
      readonly event: number;
      readonly detail: number;
    }
  | {
      readonly kind: 'migration_iteration';
      readonly dom: RemoteNonnullDomain;
      readonly iteration: number;
    }
  | {
      readonly kind: 'job_completed';
      readonly dom: RemoteNonnullDomain;
      readonly params: RemoteTypedParam[];
    };

/** A simulated guest and its libvirt-side state. */
export class SimDomain {
  id = -1;
  state: number = S.VIR_DOMAIN_SHUTOFF;
  reason: number = Shutoff.VIR_DOMAIN_SHUTOFF_UNKNOWN;
  autostart = false;
  /** Simulated ms at which the guest last started running (null when not running). */
  runningSince: number | null = null;
  cpuTimeMs = 0;
  maxDowntimeMs = 300n;
  maxSpeedMiBps = UNLIMITED_SPEED_MIBPS;
  postcopyMaxSpeedMiBps = 0n;
  compressionCacheBytes = 64n * 1024n * 1024n;
  job: DomainJob | null = null;
  /** Statistics of the last completed job (GET_JOB_STATS with COMPLETED). */
  completedStats: RemoteTypedParam[] | null = null;
  /** Test hook: the next outgoing post-copy migration breaks this many simulated ms after the switch. */
  failPostcopyAfterMs: number | null = null;
  /** The connection whose closing destroys this domain (VIR_DOMAIN_START_AUTODESTROY). */
  autodestroyOwner: object | null = null;

  constructor(
    public def: DomainDefinition,
    public persistent: boolean,
  ) {}

  get name(): string {
    return this.def.name;
  }

  get uuid(): string {
    return formatUuid(this.def.uuid);
  }

  get active(): boolean {
    return this.state !== S.VIR_DOMAIN_SHUTOFF;
  }

  /** The identity calls and events carry. */
  get wire(): RemoteNonnullDomain {
    return { name: this.def.name, uuid: this.def.uuid, id: this.id };
  }

  /** Guest memory in bytes. */
  get memoryBytes(): number {
    return Number(this.def.memoryKiB) * 1024;
  }
}

/** What tests see of a domain: `sim.domain(name)`. */
export interface SimDomainSnapshot {
  readonly name: string;
  readonly uuid: string;
  /** The id while running, -1 otherwise. */
  readonly id: number;
  readonly state: DomainStateName;
  /** The state's reason by name, e.g. `postcopy`, `migrated`, `user`. */
  readonly reason: string;
  readonly stateCode: number;
  readonly reasonCode: number;
  readonly persistent: boolean;
  readonly memoryMiB: number;
  readonly vcpus: number;
  readonly dirtyRateMiBps: number;
  /** The most memory that is dirty at once, MiB (null: all of it). */
  readonly dirtySetMiB: number | null;
  readonly maxDowntimeMs: number;
  /** The domain's migration speed limit (MiB/s); libvirt's "unlimited" is 8796093022207. */
  readonly maxSpeedMiBps: number;
  readonly postcopyMaxSpeedMiBps: number;
  /** The migration job this domain is part of, if any. */
  readonly job: SimJobSnapshot | null;
  /** Whether statistics of a completed job are kept (GET_JOB_STATS with COMPLETED). */
  readonly hasCompletedStats: boolean;
}

/** A migration job as tests see it. */
export interface SimJobSnapshot {
  readonly direction: 'out' | 'in';
  /** `begin`, `precopy`, `postcopy`, `postcopy-failed`, `transferred`... */
  readonly phase: string;
  readonly iteration?: number;
  readonly memoryTotal?: number;
  readonly memoryProcessed?: number;
  readonly memoryRemaining?: number;
  /** Bytes the current pass set out to send: the memory dirty when it began (all of it in pass 1). */
  readonly passSize?: number;
  readonly postcopyRequests?: number;
  readonly flags?: number;
}

export interface SimHostOptions {
  readonly hostname: string;
  readonly timeScale: number;
  readonly bandwidthMiBps: number;
  /** Real milliseconds (default `performance.now`); tests of the model drive their own. */
  readonly clock?: () => number;
  /** Domains held at most (default unlimited); see SimulatorLimits. */
  readonly maxDomains?: number;
  /** Longest domain name, UTF-8 bytes (default unlimited); see SimulatorLimits. */
  readonly maxNameBytes?: number;
  /** The release whose behaviour the host follows where releases differ (default: DEFAULT_PROFILE's). */
  readonly profile?: SimProfile;
}

/**
 * The simulated hypervisor behind one simulator: its domains, ids, clock and
 * events. Every check and every event follows what libvirtd with QEMU does
 * (recorded against libvirt 9.0 / QEMU 7.2 in the cross-check test).
 */
export class SimHost {
  readonly hostname: string;
  readonly hostUuid = randomUUID();
  readonly timeScale: number;
  readonly bandwidthMiBps: number;
  readonly profile: SimProfile;
  private readonly domains = new Map<string, SimDomain>();
  private nextId = 1;
  private readonly clock: () => number;
  private readonly t0: number;
  private readonly listeners = new Set<(e: HostEvent) => void>();
  private readonly maxDomains: number;
  private readonly maxNameBytes: number;
  /** Describes a domain's job for snapshots (set by the migration module). */
  describeJob: (job: DomainJob) => SimJobSnapshot = (j) => ({
    direction: j.direction,
    phase: j.phase,
  });

  constructor(opts: SimHostOptions) {
    this.hostname = opts.hostname;
    this.timeScale = opts.timeScale;
    this.bandwidthMiBps = opts.bandwidthMiBps;
    this.profile = opts.profile ?? SIM_PROFILES[DEFAULT_PROFILE];
    this.clock = opts.clock ?? (() => performance.now());
    this.t0 = this.clock();
    this.maxDomains = opts.maxDomains ?? Number.POSITIVE_INFINITY;
    this.maxNameBytes = opts.maxNameBytes ?? Number.POSITIVE_INFINITY;
  }

  /**
   * The simulator's limits on a new definition (the domain count, and the
   * name length the QEMU driver's file names allow); `dir` is where the QEMU
   * driver would save it, for the error libvirt reports.
   */
  private checkLimits(def: DomainDefinition, isNew: boolean, dir: string): void {
    if (Buffer.byteLength(def.name, 'utf8') > this.maxNameBytes) {
      const file = `${dir}/${def.name}.xml.new`;
      throw new SimError(
        VirErrorNumber.VIR_ERR_SYSTEM_ERROR,
        VirErrorDomain.VIR_FROM_NONE,
        `Failed to create file '${file}': File name too long`,
        '%s',
        `Failed to create file '${file}': File name too long`,
      );
    }
    if (isNew && this.domains.size >= this.maxDomains) {
      throw operationFailed(
        `the simulated host holds at most ${this.maxDomains} domains (SimulatorOptions.limits.domains)`,
      );
    }
  }

  /** Simulated milliseconds since the host started (real time times the time scale). */
  now(): number {
    return (this.clock() - this.t0) * this.timeScale;
  }

  /** The real clock (ms) simulated time derives from: the same for every host of a process. */
  realNow(): number {
    return this.clock();
  }

  /** Real milliseconds for a simulated duration. */
  realMs(simMs: number): number {
    return simMs / this.timeScale;
  }

  onEvent(fn: (e: HostEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(e: HostEvent): void {
    for (const l of this.listeners) l(e);
  }

  lifecycle(d: SimDomain, event: number, detail: number): void {
    this.emit({ kind: 'lifecycle', dom: d.wire, event, detail });
  }

  all(): SimDomain[] {
    return [...this.domains.values()];
  }

  byUuid(uuid: string): SimDomain | undefined {
    return this.domains.get(uuid);
  }

  byName(name: string): SimDomain | undefined {
    for (const d of this.domains.values()) if (d.name === name) return d;
    return undefined;
  }

  lookupByName(name: string): SimDomain {
    const d = this.byName(name);
    if (!d) throw noDomain(`no domain with matching name '${name}'`);
    return d;
  }

  lookupByUuid(uuid: Uint8Array): SimDomain {
    const u = formatUuid(uuid);
    const d = this.domains.get(u);
    if (!d) throw noDomain(`no domain with matching uuid '${u}'`);
    return d;
  }

  lookupById(id: number): SimDomain {
    for (const d of this.domains.values()) if (d.active && d.id === id) return d;
    throw noDomain(`no domain with matching id ${id}`);
  }

  /** The domain a call's `dom` argument names (libvirt looks it up by UUID). */
  forArg(dom: RemoteNonnullDomain): SimDomain {
    const u = formatUuid(dom.uuid);
    const d = this.domains.get(u);
    if (!d) throw noDomainForArg(u, dom.name);
    return d;
  }

  /** Same as forArg, and the domain must be running or paused. */
  activeArg(dom: RemoteNonnullDomain): SimDomain {
    const d = this.forArg(dom);
    if (!d.active) throw notRunning();
    return d;
  }

  /** Checks a new definition against existing domains; returns the domain it redefines, if any. */
  private conflict(def: DomainDefinition): SimDomain | undefined {
    const u = formatUuid(def.uuid);
    const sameUuid = this.domains.get(u);
    if (sameUuid && sameUuid.name !== def.name) {
      throw operationFailed(
        `domain '${sameUuid.name}' is already defined with uuid ${u}`,
        'VIR_FROM_DOMAIN',
      );
    }
    const sameName = this.byName(def.name);
    if (sameName && sameName.uuid !== u) {
      throw operationFailed(
        `domain '${def.name}' already exists with uuid ${sameName.uuid}`,
        'VIR_FROM_DOMAIN',
      );
    }
    return sameUuid;
  }

  /** DOMAIN_DEFINE_XML(_FLAGS): a new persistent domain, or a new definition of an existing one. */
  define(xml: string): SimDomain {
    const def = parseDomainXml(xml);
    const existing = this.conflict(def);
    this.checkLimits(def, !existing, '/etc/libvirt/qemu');
    if (existing) {
      if (existing.job)
        throw invalidOperation(`domain '${existing.name}' has a migration job running`);
      const wasPersistent = existing.persistent;
      // A running domain keeps its live configuration; the new one applies from the next start.
      existing.def = { ...def, uuid: existing.def.uuid };
      existing.persistent = true;
      this.lifecycle(
        existing,
        Ev.VIR_DOMAIN_EVENT_DEFINED,
        wasPersistent
          ? Defined.VIR_DOMAIN_EVENT_DEFINED_UPDATED
          : Defined.VIR_DOMAIN_EVENT_DEFINED_ADDED,
      );
      return existing;
    }
    const d = new SimDomain(def, true);
    this.domains.set(d.uuid, d);
    this.lifecycle(d, Ev.VIR_DOMAIN_EVENT_DEFINED, Defined.VIR_DOMAIN_EVENT_DEFINED_ADDED);
    return d;
  }

  /** DOMAIN_CREATE_XML: a transient domain, started at once. */
  createXml(xml: string, flags: number, owner: object | null): SimDomain {
    checkFlags(flags, CREATE_FLAGS, 'qemuDomainCreateXML');
    const def = parseDomainXml(xml);
    const existing = this.conflict(def);
    if (existing?.active) throw invalidOperation(`domain '${existing.name}' is already active`);
    this.checkLimits(def, !existing, '/run/libvirt/qemu');
    let d = existing;
    if (d) d.def = { ...def, uuid: d.def.uuid };
    else {
      d = new SimDomain(def, false);
      this.domains.set(d.uuid, d);
    }
    this.boot(d, flags, owner);
    return d;
  }

  /** DOMAIN_CREATE(_WITH_FLAGS): starts a defined domain. */
  start(d: SimDomain, flags: number, owner: object | null): void {
    checkFlags(flags, CREATE_FLAGS, 'qemuDomainCreateWithFlags');
    if (d.active) throw alreadyRunning();
    this.boot(d, flags, owner);
  }

  private boot(d: SimDomain, flags: number, owner: object | null): void {
    d.id = this.nextId++;
    d.completedStats = null;
    d.autodestroyOwner = flags & VirDomainCreateFlags.VIR_DOMAIN_START_AUTODESTROY ? owner : null;
    if (flags & VirDomainCreateFlags.VIR_DOMAIN_START_PAUSED) {
      this.setState(d, S.VIR_DOMAIN_PAUSED, Paused.VIR_DOMAIN_PAUSED_USER);
      this.lifecycle(d, Ev.VIR_DOMAIN_EVENT_STARTED, Started.VIR_DOMAIN_EVENT_STARTED_BOOTED);
      this.lifecycle(d, Ev.VIR_DOMAIN_EVENT_SUSPENDED, Suspended.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED);
      return;
    }
    this.setState(d, S.VIR_DOMAIN_RUNNING, Running.VIR_DOMAIN_RUNNING_BOOTED);
    // QEMU starts its vCPUs before libvirt reports the start: the RESUME comes first.
    this.lifecycle(d, Ev.VIR_DOMAIN_EVENT_RESUMED, Resumed.VIR_DOMAIN_EVENT_RESUMED_UNPAUSED);
    this.lifecycle(d, Ev.VIR_DOMAIN_EVENT_STARTED, Started.VIR_DOMAIN_EVENT_STARTED_BOOTED);
  }

  /**
   * Puts a domain into (state, reason), keeping the CPU-time clock: a guest
   * only uses CPU (and dirties memory) while running.
   */
  setState(d: SimDomain, state: number, reason: number): void {
    const now = this.now();
    if (d.runningSince !== null) {
      d.cpuTimeMs += (now - d.runningSince) * d.def.vcpus;
      d.runningSince = null;
    }
    d.state = state;
    d.reason = reason;
    if (state === S.VIR_DOMAIN_RUNNING) d.runningSince = now;
  }

  cpuTimeNs(d: SimDomain): bigint {
    const extra = d.runningSince !== null ? (this.now() - d.runningSince) * d.def.vcpus : 0;
    return BigInt(Math.round((d.cpuTimeMs + extra) * 1e6));
  }

  suspend(d: SimDomain): void {
    if (!d.active) throw notRunning();
    if (d.state === S.VIR_DOMAIN_PAUSED) return;
    // as libvirtd: a guest paused while it migrates out is paused for the migration
    // (virsh migrate --timeout suspends it so)
    if (d.job?.direction === 'out') {
      this.setState(d, S.VIR_DOMAIN_PAUSED, Paused.VIR_DOMAIN_PAUSED_MIGRATION);
      this.lifecycle(
        d,
        Ev.VIR_DOMAIN_EVENT_SUSPENDED,
        Suspended.VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED,
      );
      return;
    }
    this.setState(d, S.VIR_DOMAIN_PAUSED, Paused.VIR_DOMAIN_PAUSED_USER);
    this.lifecycle(d, Ev.VIR_DOMAIN_EVENT_SUSPENDED, Suspended.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED);
  }

  resume(d: SimDomain): void {
    if (!d.active) throw notRunning();
    if (d.state === S.VIR_DOMAIN_RUNNING) throw alreadyRunning();
    if (
      d.reason === Paused.VIR_DOMAIN_PAUSED_POSTCOPY_FAILED ||
      d.reason === Paused.VIR_DOMAIN_PAUSED_POSTCOPY ||
      d.reason === Paused.VIR_DOMAIN_PAUSED_MIGRATION
    ) {
      throw invalidOperation(
        d.reason === Paused.VIR_DOMAIN_PAUSED_POSTCOPY_FAILED
          ? 'resuming failed post-copy migration requires post-copy migration recovery'
          : 'domain is paused for a migration in progress',
      );
    }
    this.setState(d, S.VIR_DOMAIN_RUNNING, Running.VIR_DOMAIN_RUNNING_UNPAUSED);
    this.lifecycle(d, Ev.VIR_DOMAIN_EVENT_RESUMED, Resumed.VIR_DOMAIN_EVENT_RESUMED_UNPAUSED);
  }

  /**
   * Stops a running domain (destroy, shutdown, end of migration): state shut
   * off with `reason`, the lifecycle event, and a transient domain is gone.
   */
  stop(d: SimDomain, reason: number, event: number, detail: number): void {
    this.setState(d, S.VIR_DOMAIN_SHUTOFF, reason);
    d.id = -1;
    d.autodestroyOwner = null;
    this.lifecycle(d, event, detail);
    if (!d.persistent) this.domains.delete(d.uuid);
  }

  /** DOMAIN_DESTROY(_FLAGS). `onJob` lets a running migration fail first. */
  destroy(d: SimDomain): void {
    if (!d.active) throw notRunning();
    // QEMU reports the SIGTERM as a shutdown requested by the host, then libvirt the stop.
    this.lifecycle(d, Ev.VIR_DOMAIN_EVENT_SHUTDOWN, Shutdown.VIR_DOMAIN_EVENT_SHUTDOWN_HOST);
    this.stop(
      d,
      Shutoff.VIR_DOMAIN_SHUTOFF_DESTROYED,
      Ev.VIR_DOMAIN_EVENT_STOPPED,
      Stopped.VIR_DOMAIN_EVENT_STOPPED_DESTROYED,
    );
  }

  /** The guest honours a shutdown request (ACPI): it powers off a moment later. */
  shutdown(d: SimDomain): void {
    if (!d.active) throw notRunning();
    const id = d.id;
    setTimeout(
      () => {
        if (!d.active || d.id !== id || d.state !== S.VIR_DOMAIN_RUNNING) return;
        this.lifecycle(
          d,
          Ev.VIR_DOMAIN_EVENT_SHUTDOWN,
          Shutdown.VIR_DOMAIN_EVENT_SHUTDOWN_FINISHED,
        );
        this.stop(
          d,
          Shutoff.VIR_DOMAIN_SHUTOFF_SHUTDOWN,
          Ev.VIR_DOMAIN_EVENT_STOPPED,
          Stopped.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN,
        );
      },
      Math.max(1, this.realMs(100)),
    ).unref();
  }

  /** DOMAIN_UNDEFINE(_FLAGS): inactive domains go away; active ones become transient. */
  undefine(d: SimDomain): void {
    if (!d.persistent) throw invalidOperation('cannot undefine transient domain');
    this.lifecycle(d, Ev.VIR_DOMAIN_EVENT_UNDEFINED, Undefined.VIR_DOMAIN_EVENT_UNDEFINED_REMOVED);
    if (d.active) d.persistent = false;
    else this.domains.delete(d.uuid);
  }

  /** Adds a domain that arrived by migration (or removes one that left). */
  add(d: SimDomain): void {
    this.domains.set(d.uuid, d);
  }

  remove(d: SimDomain): void {
    if (this.domains.get(d.uuid) === d) this.domains.delete(d.uuid);
  }

  newId(): number {
    return this.nextId++;
  }

  /** CONNECT_LIST_ALL_DOMAINS filtering, as libvirt's virDomainObjListFilter. */
  list(flags: number): SimDomain[] {
    checkFlags(flags, LIST_FLAGS, 'qemuConnectListAllDomains');
    const pair = (a: number, b: number, yesA: (d: SimDomain) => boolean) => (d: SimDomain) =>
      (flags & (a | b)) === 0 || (flags & (a | b)) === (a | b) || (flags & a ? yesA(d) : !yesA(d));
    const checks = [
      pair(L.VIR_CONNECT_LIST_DOMAINS_ACTIVE, L.VIR_CONNECT_LIST_DOMAINS_INACTIVE, (d) => d.active),
      pair(
        L.VIR_CONNECT_LIST_DOMAINS_PERSISTENT,
        L.VIR_CONNECT_LIST_DOMAINS_TRANSIENT,
        (d) => d.persistent,
      ),
      pair(
        L.VIR_CONNECT_LIST_DOMAINS_MANAGEDSAVE,
        L.VIR_CONNECT_LIST_DOMAINS_NO_MANAGEDSAVE,
        () => false,
      ),
      pair(
        L.VIR_CONNECT_LIST_DOMAINS_AUTOSTART,
        L.VIR_CONNECT_LIST_DOMAINS_NO_AUTOSTART,
        (d) => d.autostart,
      ),
      pair(
        L.VIR_CONNECT_LIST_DOMAINS_HAS_SNAPSHOT,
        L.VIR_CONNECT_LIST_DOMAINS_NO_SNAPSHOT,
        () => false,
      ),
      pair(
        L.VIR_CONNECT_LIST_DOMAINS_HAS_CHECKPOINT,
        L.VIR_CONNECT_LIST_DOMAINS_NO_CHECKPOINT,
        () => false,
      ),
    ];
    const stateMask =
      flags &
      (L.VIR_CONNECT_LIST_DOMAINS_RUNNING |
        L.VIR_CONNECT_LIST_DOMAINS_PAUSED |
        L.VIR_CONNECT_LIST_DOMAINS_SHUTOFF |
        L.VIR_CONNECT_LIST_DOMAINS_OTHER);
    const stateOk = (d: SimDomain): boolean => {
      if (stateMask === 0) return true;
      const bit =
        d.state === S.VIR_DOMAIN_RUNNING
          ? L.VIR_CONNECT_LIST_DOMAINS_RUNNING
          : d.state === S.VIR_DOMAIN_PAUSED
            ? L.VIR_CONNECT_LIST_DOMAINS_PAUSED
            : d.state === S.VIR_DOMAIN_SHUTOFF
              ? L.VIR_CONNECT_LIST_DOMAINS_SHUTOFF
              : L.VIR_CONNECT_LIST_DOMAINS_OTHER;
      return (stateMask & bit) !== 0;
    };
    return this.all()
      .filter((d) => checks.every((c) => c(d)) && stateOk(d))
      .sort((a, b) =>
        a.active === b.active
          ? a.active
            ? a.id - b.id
            : a.name < b.name
              ? -1
              : 1
          : a.active
            ? -1
            : 1,
      );
  }

  xml(d: SimDomain, inactive: boolean): string {
    return formatDomainXml(d.def, d.active && !inactive ? d.id : null);
  }

  snapshot(d: SimDomain): SimDomainSnapshot {
    return {
      name: d.name,
      uuid: d.uuid,
      id: d.id,
      state: domainStateName(d.state),
      reason: domainReasonName(d.state, d.reason),
      stateCode: d.state,
      reasonCode: d.reason,
      persistent: d.persistent,
      memoryMiB: Number(d.def.memoryKiB) / 1024,
      vcpus: d.def.vcpus,
      dirtyRateMiBps: d.def.dirtyRateMiBps,
      dirtySetMiB: d.def.dirtySetMiB,
      maxDowntimeMs: Number(d.maxDowntimeMs),
      maxSpeedMiBps: Number(d.maxSpeedMiBps),
      postcopyMaxSpeedMiBps: Number(d.postcopyMaxSpeedMiBps),
      job: d.job ? this.describeJob(d.job) : null,
      hasCompletedStats: d.completedStats !== null,
    };
  }
}

const CREATE_FLAGS = Object.values(VirDomainCreateFlags).reduce<number>((a, b) => a | b, 0);
const LIST_FLAGS = Object.values(L).reduce<number>((a, b) => a | b, 0);
