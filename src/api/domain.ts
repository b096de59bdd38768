import type { RemoteNonnullDomain } from '../generated/remote.js';
import type { CallOptions } from '../rpc/client.js';
import type { Connection } from './connection.js';
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

  toString(): string {
    return `Domain(${this.name} ${this.uuid})`;
  }
}
