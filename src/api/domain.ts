import type { RemoteNonnullDomain } from '../generated/remote.js';
import type { CallOptions } from '../rpc/client.js';
import type { Connection } from './connection.js';
import {
  buildMigration,
  type JobStats,
  jobStats,
  type MigrateOptions,
  Migration,
} from './migration.js';
import { type DomainStateName, domainReasonName, domainStateName, formatUuid } from './names.js';

/** A domain's state and why it is in it, by name and by libvirt's numbers. */
export interface DomainState {
  readonly state: DomainStateName;
  readonly reason: string;
  readonly stateCode: number;
  readonly reasonCode: number;
}

export interface DomainInfo {
  readonly state: DomainStateName;
  readonly stateCode: number;
  /** Maximum memory in KiB. */
  readonly maxMemKiB: bigint;
  /** Current memory in KiB. */
  readonly memoryKiB: bigint;
  readonly vcpus: number;
  /** CPU time used, in nanoseconds. */
  readonly cpuTimeNs: bigint;
}

/**
 * A handle on one domain of a connection. It holds the identity the daemon
 * gave (name, UUID, id at lookup time); every method is one RPC.
 */
export class Domain {
  /** The id when running, -1 when inactive (as of the last call that returned it). */
  id: number;

  constructor(
    readonly conn: Connection,
    private ref: RemoteNonnullDomain,
  ) {
    this.id = ref.id;
  }

  get name(): string {
    return this.ref.name;
  }

  /** Canonical UUID string. */
  get uuid(): string {
    return formatUuid(this.ref.uuid);
  }

  /** The wire identity used as `dom` in remote procedure arguments. */
  get wire(): RemoteNonnullDomain {
    return { name: this.ref.name, uuid: this.ref.uuid, id: this.id };
  }

  async state(opts?: CallOptions): Promise<DomainState> {
    const r = await this.conn.remote.domainGetState({ dom: this.wire, flags: 0 }, opts);
    return {
      state: domainStateName(r.state),
      reason: domainReasonName(r.state, r.reason),
      stateCode: r.state,
      reasonCode: r.reason,
    };
  }

  async info(opts?: CallOptions): Promise<DomainInfo> {
    const r = await this.conn.remote.domainGetInfo({ dom: this.wire }, opts);
    return {
      state: domainStateName(r.state),
      stateCode: r.state,
      maxMemKiB: r.maxMem,
      memoryKiB: r.memory,
      vcpus: r.nrVirtCpu,
      cpuTimeNs: r.cpuTime,
    };
  }

  /** The domain's XML description (VIR_DOMAIN_XML_* flags). */
  async xml(flags = 0, opts?: CallOptions): Promise<string> {
    return (await this.conn.remote.domainGetXmlDesc({ dom: this.wire, flags }, opts)).xml;
  }

  /** Starts an inactive domain (VIR_DOMAIN_START_* flags); updates `id`. */
  async start(flags = 0, opts?: CallOptions): Promise<void> {
    const r = await this.conn.remote.domainCreateWithFlags({ dom: this.wire, flags }, opts);
    this.id = r.dom.id;
  }

  async suspend(opts?: CallOptions): Promise<void> {
    await this.conn.remote.domainSuspend({ dom: this.wire }, opts);
  }

  async resume(opts?: CallOptions): Promise<void> {
    await this.conn.remote.domainResume({ dom: this.wire }, opts);
  }

  /** Stops the domain at once (VIR_DOMAIN_DESTROY_* flags). */
  async destroy(flags = 0, opts?: CallOptions): Promise<void> {
    await this.conn.remote.domainDestroyFlags({ dom: this.wire, flags }, opts);
    this.id = -1;
  }

  /** Removes a persistent definition (VIR_DOMAIN_UNDEFINE_* flags). */
  async undefine(flags = 0, opts?: CallOptions): Promise<void> {
    await this.conn.remote.domainUndefineFlags({ dom: this.wire, flags }, opts);
  }

  /**
   * Live-migrates this domain to another daemon, driving both sides as
   * libvirt's client does (Begin3 -> Prepare3 -> Perform3 -> Finish3 ->
   * Confirm3, with parameters when both daemons support them). Options are
   * checked before anything is sent; the returned Migration is live at once.
   *
   * ```ts
   * const m = src.migrate(destConn, { live: true, postcopy: true, postcopyPolicy: 'after-precopy' });
   * for await (const p of m.progress()) console.log(p.phase, p.percent);
   * const { domain, stats } = await m.done;
   * ```
   */
  migrate(dest: Connection, opts: MigrateOptions = {}): Migration {
    if (opts.peer2peer) {
      throw new TypeError(
        'peer-to-peer migration takes the destination URI: use migrateToURI(dconnuri, options)',
      );
    }
    const { flags, params } = buildMigration(opts);
    return new Migration(
      this,
      dest,
      null,
      flags,
      params,
      opts.postcopyPolicy ?? 'manual',
      makeDomain,
      opts.protocol ?? 'auto',
    );
  }

  /**
   * Peer-to-peer migration (`peer2peer: true`, the source daemon connects to
   * `dconnuri` itself; tunnelled allowed) or direct migration to a hypervisor
   * URI (`peer2peer` unset).
   */
  migrateToURI(dconnuri: string, opts: MigrateOptions = {}): Migration {
    const { flags, params } = buildMigration(opts);
    return new Migration(
      this,
      null,
      dconnuri,
      flags,
      params,
      opts.postcopyPolicy ?? 'manual',
      makeDomain,
    );
  }

  /** Statistics of the current job, or (`completed: true`) of the last completed one. */
  async jobStats(
    opts: { completed?: boolean; keepCompleted?: boolean } & CallOptions = {},
  ): Promise<JobStats> {
    const flags = (opts.completed ? 1 : 0) | (opts.keepCompleted ? 2 : 0);
    const r = await this.conn.remote.domainGetJobStats({ dom: this.wire, flags }, opts);
    return jobStats(r.type, r.params);
  }

  /** Aborts the current job; `postcopy: true` aborts a migration in post-copy (leaving it failed). */
  async abortJob(opts: { postcopy?: boolean } & CallOptions = {}): Promise<void> {
    if (opts.postcopy)
      await this.conn.remote.domainAbortJobFlags({ dom: this.wire, flags: 1 }, opts);
    else await this.conn.remote.domainAbortJob({ dom: this.wire }, opts);
  }

  /** Switches the outgoing migration of this domain to post-copy. */
  async migrateStartPostCopy(opts?: CallOptions): Promise<void> {
    await this.conn.remote.domainMigrateStartPostCopy({ dom: this.wire, flags: 0 }, opts);
  }

  /** Maximum downtime of a live migration, in milliseconds. */
  async migrateGetMaxDowntime(opts?: CallOptions): Promise<bigint> {
    return (await this.conn.remote.domainMigrateGetMaxDowntime({ dom: this.wire, flags: 0 }, opts))
      .downtime;
  }

  async migrateSetMaxDowntime(ms: number | bigint, opts?: CallOptions): Promise<void> {
    await this.conn.remote.domainMigrateSetMaxDowntime(
      { dom: this.wire, downtime: BigInt(ms), flags: 0 },
      opts,
    );
  }

  /** Migration bandwidth limit in MiB/s (`postcopy: true` for the post-copy phase). */
  async migrateGetMaxSpeed(opts: { postcopy?: boolean } & CallOptions = {}): Promise<bigint> {
    return (
      await this.conn.remote.domainMigrateGetMaxSpeed(
        { dom: this.wire, flags: opts.postcopy ? 1 : 0 },
        opts,
      )
    ).bandwidth;
  }

  async migrateSetMaxSpeed(
    mibps: number | bigint,
    opts: { postcopy?: boolean } & CallOptions = {},
  ): Promise<void> {
    await this.conn.remote.domainMigrateSetMaxSpeed(
      { dom: this.wire, bandwidth: BigInt(mibps), flags: opts.postcopy ? 1 : 0 },
      opts,
    );
  }

  /** XBZRLE compression cache size in bytes. */
  async migrateGetCompressionCache(opts?: CallOptions): Promise<bigint> {
    return (
      await this.conn.remote.domainMigrateGetCompressionCache({ dom: this.wire, flags: 0 }, opts)
    ).cacheSize;
  }

  async migrateSetCompressionCache(bytes: number | bigint, opts?: CallOptions): Promise<void> {
    await this.conn.remote.domainMigrateSetCompressionCache(
      { dom: this.wire, cacheSize: BigInt(bytes), flags: 0 },
      opts,
    );
  }

  toString(): string {
    return `Domain(${this.name} ${this.uuid})`;
  }
}

function makeDomain(conn: Connection, ref: RemoteNonnullDomain): Domain {
  return new Domain(conn, ref);
}
