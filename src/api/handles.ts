// The handle classes of a connection share this one module: they refer to each other (a domain
// makes snapshots, a snapshot knows its domain), which separate modules could only do through an
// import cycle. The methods are generated (src/generated/handles.ts); this file adds identity,
// lifecycle and the few methods that mean more than their C function; their logic lives below it.
import {
  ConnectionBase,
  DomainBase,
  DomainCheckpointBase,
  type DomainSaveParams,
  DomainSnapshotBase,
  type HandleFactory,
  InterfaceBase,
  NetworkBase,
  NetworkPortBase,
  NodeDeviceBase,
  NWFilterBase,
  NWFilterBindingBase,
  type OpenStreamOptions,
  type ParamsIn,
  SecretBase,
  StoragePoolBase,
  StorageVolBase,
} from '../generated/handles.js';
import { type LxcMethods, lxcProgram } from '../generated/lxc.js';
import { type QemuMethods, qemuProgram } from '../generated/qemu.js';
import {
  type RemoteMethods,
  type RemoteNonnullDomain,
  type RemoteNonnullDomainCheckpoint,
  type RemoteNonnullDomainSnapshot,
  type RemoteNonnullInterface,
  type RemoteNonnullNetwork,
  type RemoteNonnullNetworkPort,
  type RemoteNonnullNodeDevice,
  type RemoteNonnullNwfilter,
  type RemoteNonnullNwfilterBinding,
  type RemoteNonnullSecret,
  type RemoteNonnullStoragePool,
  type RemoteNonnullStorageVol,
  remoteProgram,
} from '../generated/remote.js';
import type { CallOptions, CloseInfo, RpcClient } from '../rpc/client.js';
import { findProcedure } from '../rpc/descriptor.js';
import { ConnectionClosedError, isNoDomain } from '../rpc/errors.js';
import { bindProgram, type MethodsOf } from '../rpc/methods.js';
import type { VirStream } from '../rpc/stream.js';
import type { LibvirtUri } from '../uri/index.js';
import type { ProgramInfo } from '../xdr/program.js';
import { channelSecurity } from './channel-security.js';
import { type EventGap, Events } from './events.js';
import { HandleRegistry } from './handle-registry.js';
import { type MigrateOptions, Migration, type MigrationPlan } from './migration/index.js';
import { type JobStats, jobStats } from './migration/job-stats.js';
import { type DomainState, domainState, formatUuid, parseUuid } from './names.js';
import { openStream } from './streams.js';
import {
  type ConnectionState,
  type Link,
  type ReconnectPolicy,
  type StateChange,
  Supervisor,
} from './supervise.js';

const CONNECT_CLOSE = findProcedure(remoteProgram, 'CONNECT_CLOSE');

/** A connection opened with `reconnect`: its event subscriptions yield {@link EventGap} markers. */
export type SupervisedConnection = Connection<EventGap>;

/**
 * Any connection, supervised or not (a `Connection` is one too): what
 * functions that work with either take. Its subscriptions may yield gaps.
 */
export type AnyConnection = Connection<EventGap>;

/** Optional features the daemon said it supports during the open sequence. */
export interface ConnectionFeatures {
  readonly keepalive: boolean;
  readonly eventCallback: boolean;
  readonly closeCallback: boolean;
}

/** The class of each libvirt object type: what the generated methods take and return. */
export interface Handles {
  readonly Domain: Domain;
  readonly DomainSnapshot: DomainSnapshot;
  readonly DomainCheckpoint: DomainCheckpoint;
  readonly Network: Network;
  readonly NetworkPort: NetworkPort;
  readonly StoragePool: StoragePool;
  readonly StorageVol: StorageVol;
  readonly NodeDevice: NodeDevice;
  readonly Secret: Secret;
  readonly NWFilter: NWFilter;
  readonly NWFilterBinding: NWFilterBinding;
  readonly Interface: Interface;
}

const NO_FEATURES: ConnectionFeatures = {
  keepalive: false,
  eventCallback: false,
  closeCallback: false,
};

/**
 * An open libvirt connection. The methods are libvirt's connection and host functions
 * (`conn.listAllDomains()`, `conn.nodeGetInfo()`, `conn.networkLookupByName()`...), each
 * linked to libvirt's reference; every procedure is also a typed method of `remote`, `qemu`
 * and `lxc`, taking and giving wire structs.
 *
 * A connection opened with `reconnect` is supervised: when its link ends other than by
 * `close()` it opens a new one, and its event subscriptions yield an {@link EventGap} for
 * each gap: its type is `SupervisedConnection` (`G` = EventGap). `AnyConnection` accepts both.
 */
export class Connection<G extends EventGap = never>
  extends ConnectionBase<Handles>
  implements AsyncDisposable
{
  readonly remote: MethodsOf<RemoteMethods>;
  readonly qemu: MethodsOf<QemuMethods>;
  readonly lxc: MethodsOf<LxcMethods>;
  /** The URI the daemon reports for this connection. */
  uri = '';
  features: ConnectionFeatures = NO_FEATURES;
  /**
   * How this connection authenticated: `none`, `polkit`, or `sasl.<MECHANISM>`
   * (e.g. `sasl.SCRAM-SHA-256`). A daemon too old for AUTH_LIST gives `none`.
   */
  auth = 'none';
  /**
   * Makes every handle of this connection from the identity the daemon sent.
   * Made when first used: an idle connection (thousands in one process) pays nothing for it.
   */
  get handles(): HandleFactory<Handles> {
    this.handleFactory ??= {
      Domain: (w) => this.tracked(new Domain(this, w)),
      DomainSnapshot: (w) => new DomainSnapshot(this, w),
      DomainCheckpoint: (w) => new DomainCheckpoint(this, w),
      Network: (w) => new Network(this, w),
      NetworkPort: (w) => new NetworkPort(this, w),
      StoragePool: (w) => new StoragePool(this, w),
      StorageVol: (w) => new StorageVol(this, w),
      NodeDevice: (w) => new NodeDevice(this, w),
      Secret: (w) => new Secret(this, w),
      NWFilter: (w) => new NWFilter(this, w),
      NWFilterBinding: (w) => new NWFilterBinding(this, w),
      Interface: (w) => new Interface(this, w),
    };
    return this.handleFactory;
  }
  private handleFactory: HandleFactory<Handles> | null = null;
  private closing: Promise<void> | null = null;
  private eventsApi: Events<G> | null = null;
  private link: RpcClient;
  /** Only on a supervised connection. */
  private readonly supervisor: Supervisor | null;
  /** Live domain handles of a supervised connection, whose ids are refreshed after a reconnect. */
  private domainHandles: HandleRegistry<Domain> | null = null;
  /** Made at the first question: the answers hold for the daemon behind this one link. */
  private featureAnswers: { rpc: RpcClient; known: Map<number, boolean> } | null = null;

  constructor(
    link: Link,
    /** The URI this connection was opened with, parsed. */
    readonly target: LibvirtUri,
    supervise?: {
      /** The URI as given (for diagnostics). */
      readonly uri: string;
      readonly policy: ReconnectPolicy;
      /** Runs the whole open sequence once more. */
      readonly open: (signal: AbortSignal) => Promise<Link>;
    },
  ) {
    super();
    this.link = link.rpc;
    this.uri = link.uri;
    this.features = link.features;
    this.auth = link.auth;
    this.supervisor = supervise
      ? new Supervisor(link, supervise.uri, supervise.policy, supervise.open, {
          relinked: (l) => this.relinked(l),
          linkLost: (info, since) => this.eventsApi?.linkLost(info, since),
          ended: (info) => {
            this.eventsApi?.end(info);
            this.endInfo = info;
            this.resolveSupervisedClosed?.(info);
          },
        })
      : null;
    const caller = this.supervisor ?? link.rpc;
    this.remote = bindProgram<RemoteMethods>(caller, remoteProgram);
    this.qemu = bindProgram<QemuMethods>(caller, qemuProgram);
    this.lxc = bindProgram<LxcMethods>(caller, lxcProgram);
  }

  /**
   * The RPC client of the current link. A supervised connection gets a new
   * one with every reconnect; calls through `remote`, `qemu` and `lxc`
   * always go to the current one.
   */
  get rpc(): RpcClient {
    return this.link;
  }

  /** True for a connection opened with `reconnect`. */
  get supervised(): boolean {
    return this.supervisor !== null;
  }

  /**
   * `open`; for a supervised connection also `reconnecting` while its link is
   * down, and `closed` once `close()` was called or reconnecting gave up.
   */
  get state(): ConnectionState {
    if (this.supervisor) return this.supervisor.state;
    return this.link.isOpen ? 'open' : 'closed';
  }

  /**
   * Follows `state`: `listener` hears every change (on a supervised
   * connection, one per reconnect attempt too). Returns the function that
   * stops it. The same changes go to the `virtwire:connection:state` channel.
   */
  onStateChange(listener: (change: StateChange) => void): () => void {
    if (this.supervisor) return this.supervisor.onStateChange(listener);
    let live = true;
    const off = this.link.onClose((info) => {
      if (!live) return;
      listener({
        from: 'open',
        to: 'closed',
        reason: info.reason,
        ...(info.error ? { error: info.error } : {}),
      });
    });
    return () => {
      live = false;
      off();
    };
  }

  /** Resolves once the connection is usable (at once unless it is reconnecting), bounded by `opts`. */
  whenOpen(opts?: CallOptions): Promise<void> {
    if (this.supervisor) return this.supervisor.whenOpen('whenOpen', opts);
    return this.link.isOpen
      ? Promise.resolve()
      : Promise.reject(new ConnectionClosedError('client', 'the connection is closed'));
  }

  /**
   * Settles when the connection ends, with the reason (`client`, `eof`,
   * `error`, `keepalive`); for a supervised connection, when supervision
   * ends (closed, or reconnecting gave up), not when one link does.
   */
  get closed(): Promise<CloseInfo> {
    if (!this.supervisor) return this.link.closed;
    this.supervisedClosed ??= new Promise((resolve) => {
      if (this.endInfo) resolve(this.endInfo);
      else this.resolveSupervisedClosed = resolve;
    });
    return this.supervisedClosed;
  }
  private supervisedClosed: Promise<CloseInfo> | null = null;
  private resolveSupervisedClosed: ((info: CloseInfo) => void) | null = null;
  private endInfo: CloseInfo | null = null;

  /**
   * Whether the connection is open (libvirt's virConnectIsAlive); a supervised
   * connection that is reconnecting is not.
   */
  get isOpen(): boolean {
    return this.supervisor ? this.supervisor.state === 'open' : this.link.isOpen;
  }

  /** virConnectGetURI: the URI as the caller gave it to connect(). */
  getURI(): string {
    return this.target.original;
  }

  /**
   * Event subscriptions: `conn.events.domain('lifecycle', { domain })` and the
   * other families, each an async iterable over a bounded queue. On a
   * supervised connection they survive reconnects: every live subscription is
   * registered again, with its filters, on the new link, and yields one
   * {@link EventGap} for the time it may have missed events.
   */
  get events(): Events<G> {
    if (!this.eventsApi) {
      this.eventsApi = new Events<G>(this.supervisor ?? this.link, this.supervisor !== null);
      this.eventsApi.attach(this.link);
    }
    return this.eventsApi;
  }

  /** A supervised connection keeps its domain handles (weakly) to refresh their ids. */
  private tracked(d: Domain): Domain {
    if (this.supervisor) {
      this.domainHandles ??= new HandleRegistry<Domain>();
      this.domainHandles.add(d);
    }
    return d;
  }

  /** A new link is open: take its facts, re-register events, refresh handle ids. */
  private relinked(link: Link): void {
    this.link = link.rpc;
    this.uri = link.uri;
    this.features = link.features;
    this.auth = link.auth;
    this.eventsApi?.attach(link.rpc);
    if (this.domainHandles?.size) void this.refreshIds(this.domainHandles);
  }

  /** After a reconnect: domain ids change when a guest was restarted meanwhile. */
  private async refreshIds(handles: HandleRegistry<Domain>): Promise<void> {
    let list: RemoteNonnullDomain[];
    try {
      list = (await this.remote.connectListAllDomains({ needResults: 1, flags: 0 })).domains;
    } catch {
      return; // the link went again; the next reconnect refreshes them
    }
    const ids = new Map(list.map((d) => [formatUuid(d.uuid), d.id]));
    handles.update((dom) => {
      dom.id = ids.get(dom.uuid) ?? -1;
    });
  }

  /**
   * Asks the daemon whether it supports a feature (see `Feature`). A daemon's answer holds for
   * the connection's life, so each feature is asked once (libvirt's library asks every time).
   */
  override async supportsFeature(feature: number, opts?: CallOptions): Promise<boolean> {
    // answers belong to the daemon at the other end of this RPC client
    if (this.featureAnswers?.rpc !== this.rpc)
      this.featureAnswers = { rpc: this.rpc, known: new Map() };
    const { known } = this.featureAnswers;
    const answer = known.get(feature);
    if (answer !== undefined) return answer;
    const r = await this.remote.connectSupportsFeature({ feature }, opts);
    known.set(feature, r.supported !== 0);
    return r.supported !== 0;
  }

  /** Finds a domain by name, or by UUID when the string is one (as virsh does). */
  async lookupDomain(nameOrUuid: string, opts?: CallOptions): Promise<Domain> {
    const uuid = parseUuid(nameOrUuid);
    if (uuid) {
      try {
        return await this.domainLookupByUUID(uuid, opts);
      } catch (err) {
        // A name may look like a UUID: fall back to it, as virsh does.
        if (!isNoDomain(err)) throw err;
      }
    }
    return this.domainLookupByName(nameOrUuid, opts);
  }

  /**
   * [virConnectIsSecure](https://libvirt.org/html/libvirt-libvirt-host.html#virConnectIsSecure)
   * as libvirt's client answers it: 1 when the daemon's driver is secure and so is the channel
   * to it (TLS, a unix socket, SSH, or a SASL security layer).
   */
  override async isSecure(opts?: CallOptions): Promise<number> {
    const daemon = await super.isSecure(opts);
    return daemon !== 0 && channelSecurity(this.target.transport, this.auth).secure ? 1 : 0;
  }

  /**
   * [virConnectIsEncrypted](https://libvirt.org/html/libvirt-libvirt-host.html#virConnectIsEncrypted)
   * as libvirt's client answers it: 1 when the daemon's driver is secure and the channel
   * encrypted (TLS or a SASL security layer).
   */
  override async isEncrypted(opts?: CallOptions): Promise<number> {
    const daemon = await super.isEncrypted(opts);
    return daemon !== 0 && channelSecurity(this.target.transport, this.auth).encrypted ? 1 : 0;
  }

  /** Opens a stream with any procedure the protocol tables mark as one (see `openStream`). */
  override openStream<R = unknown>(
    program: ProgramInfo,
    procedure: string,
    args: unknown,
    opts?: OpenStreamOptions,
  ): Promise<{ stream: VirStream; result: R }> {
    return openStream<R>(this, program, procedure, args, opts);
  }

  /**
   * Closes the connection: CONNECT_CLOSE as libvirt's client sends it, then the
   * transport. Calls still waiting reject with ConnectionClosedError.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      // straight to the current link: a supervised caller would wait for one while reconnecting
      const rpc = this.link;
      if (rpc.isOpen) {
        try {
          await rpc.call(CONNECT_CLOSE, undefined, { timeoutMs: 2000 });
        } catch {
          // the daemon may already be gone; closing goes on regardless
        }
      }
      if (this.supervisor) await this.supervisor.close();
      else await rpc.close();
    })();
    return this.closing;
  }

  /** Closes the connection at the end of an `await using` block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * A domain of a connection. It holds the identity the daemon gave (name, UUID, id); each
 * method is one libvirt function (`dom.getBlockInfo('vda')`, `dom.snapshotCreateXML(xml)`),
 * plus `state()`, `jobStats()` and `migrate()`, which mean more than one call.
 */
export class Domain extends DomainBase<Handles> {
  /**
   * virDomainGetID: the id while running, -1 when not. As in libvirt's client it is the id of
   * the lookup, kept current by this handle's own start (create*), destroy and save calls.
   */
  id: number;

  constructor(
    readonly conn: AnyConnection,
    private ref: RemoteNonnullDomain,
  ) {
    super();
    this.id = ref.id;
  }

  /** virDomainGetName. */
  get name(): string {
    return this.ref.name;
  }

  /** virDomainGetUUIDString: the canonical UUID string. */
  get uuid(): string {
    return formatUuid(this.ref.uuid);
  }

  /** The wire identity used as `dom` in remote procedure arguments. */
  get wire(): RemoteNonnullDomain {
    return { name: this.ref.name, uuid: this.ref.uuid, id: this.id };
  }

  /** The state and its reason, by name and by libvirt's numbers (virDomainGetState). */
  async state(opts?: CallOptions): Promise<DomainState> {
    const r = await this.getState(0, opts);
    return domainState(r.state, r.reason);
  }

  /** Starts the domain; libvirt's client then looks it up again to learn its new id. */
  override async create(opts?: CallOptions): Promise<void> {
    await super.create(opts);
    this.id = (await this.conn.remote.domainLookupByUuid({ uuid: this.ref.uuid }, opts)).dom.id;
  }

  /** Starts the domain (VIR_DOMAIN_START_* flags) and takes its new id; resolves with this handle. */
  override async createWithFlags(flags = 0, opts?: CallOptions): Promise<Domain> {
    this.id = (await super.createWithFlags(flags, opts)).id;
    return this;
  }

  override async destroy(opts?: CallOptions): Promise<void> {
    await super.destroy(opts);
    this.id = -1;
  }

  override async destroyFlags(flags = 0, opts?: CallOptions): Promise<void> {
    await super.destroyFlags(flags, opts);
    this.id = -1;
  }

  override async save(to: string, opts?: CallOptions): Promise<void> {
    await super.save(to, opts);
    this.id = -1;
  }

  override async saveFlags(
    to: string,
    dxml: string | null,
    flags = 0,
    opts?: CallOptions,
  ): Promise<void> {
    await super.saveFlags(to, dxml, flags, opts);
    this.id = -1;
  }

  override async saveParams(
    params: ParamsIn<DomainSaveParams>,
    flags = 0,
    opts?: CallOptions,
  ): Promise<void> {
    await super.saveParams(params, flags, opts);
    this.id = -1;
  }

  override async managedSave(flags = 0, opts?: CallOptions): Promise<void> {
    await super.managedSave(flags, opts);
    this.id = -1;
  }

  /**
   * Live-migrates this domain to another daemon, driving both sides as
   * libvirt's client does (Begin3 -> Prepare3 -> Perform3 -> Finish3 ->
   * Confirm3, with parameters when both daemons support them). Options (or a
   * MigrationPlan made from them) are checked before anything is sent; the
   * returned Migration is live at once.
   *
   * ```ts
   * const m = src.migrate(destConn, { live: true, postcopy: true, postcopyPolicy: 'after-precopy' });
   * for await (const p of m.progress()) console.log(p.phase, p.percent);
   * const { domain, stats } = await m.done;
   * ```
   */
  migrate(dest: AnyConnection, opts: MigrateOptions | MigrationPlan = {}): Migration<Domain> {
    return Migration.managed<Domain>(this, dest, opts);
  }

  /**
   * Peer-to-peer migration (`peer2peer: true`, the source daemon connects to
   * `dconnuri` itself; tunnelled allowed) or direct migration to a hypervisor
   * URI (`peer2peer` unset).
   */
  migrateToURI(dconnuri: string, opts: MigrateOptions | MigrationPlan = {}): Migration<Domain> {
    return Migration.toURI<Domain>(this, dconnuri, opts);
  }

  /**
   * Statistics of the current job, or (`completed: true`) of the last completed one, with
   * units in the names (virDomainGetJobStats; `getJobStats(flags)` gives libvirt's fields).
   */
  async jobStats(
    opts: { completed?: boolean; keepCompleted?: boolean } & CallOptions = {},
  ): Promise<JobStats> {
    const flags = (opts.completed ? 1 : 0) | (opts.keepCompleted ? 2 : 0);
    const r = await this.conn.remote.domainGetJobStats({ dom: this.wire, flags }, opts);
    return jobStats(r.type, r.params);
  }

  override toString(): string {
    return `Domain(${this.name} ${this.uuid})`;
  }
}

/** A snapshot of a domain: `dom.snapshotCreateXML(xml)`, `dom.listAllSnapshots()`. */
export class DomainSnapshot extends DomainSnapshotBase<Handles> {
  /** virDomainSnapshotGetDomain. */
  readonly domain: Domain;

  constructor(
    readonly conn: AnyConnection,
    readonly wire: RemoteNonnullDomainSnapshot,
  ) {
    super();
    this.domain = conn.handles.Domain(wire.dom);
  }

  /** virDomainSnapshotGetName. */
  get name(): string {
    return this.wire.name;
  }
}

/** A checkpoint of a domain: `dom.checkpointCreateXML(xml)`, `dom.listAllCheckpoints()`. */
export class DomainCheckpoint extends DomainCheckpointBase<Handles> {
  /** virDomainCheckpointGetDomain. */
  readonly domain: Domain;

  constructor(
    readonly conn: AnyConnection,
    readonly wire: RemoteNonnullDomainCheckpoint,
  ) {
    super();
    this.domain = conn.handles.Domain(wire.dom);
  }

  /** virDomainCheckpointGetName. */
  get name(): string {
    return this.wire.name;
  }
}

/** A virtual network: `conn.networkLookupByName(name)`, `conn.listAllNetworks()`. */
export class Network extends NetworkBase<Handles> {
  constructor(
    readonly conn: AnyConnection,
    readonly wire: RemoteNonnullNetwork,
  ) {
    super();
  }

  /** virNetworkGetName. */
  get name(): string {
    return this.wire.name;
  }

  /** virNetworkGetUUIDString. */
  get uuid(): string {
    return formatUuid(this.wire.uuid);
  }
}

/** A port of a virtual network: `net.listAllPorts()`, `net.portCreateXML(xml)`. */
export class NetworkPort extends NetworkPortBase<Handles> {
  /** virNetworkPortGetNetwork. */
  readonly network: Network;

  constructor(
    readonly conn: AnyConnection,
    readonly wire: RemoteNonnullNetworkPort,
  ) {
    super();
    this.network = conn.handles.Network(wire.net);
  }

  /** virNetworkPortGetUUIDString. */
  get uuid(): string {
    return formatUuid(this.wire.uuid);
  }
}

/** A storage pool: `conn.storagePoolLookupByName(name)`, `conn.listAllStoragePools()`. */
export class StoragePool extends StoragePoolBase<Handles> {
  constructor(
    readonly conn: AnyConnection,
    readonly wire: RemoteNonnullStoragePool,
  ) {
    super();
  }

  /** virStoragePoolGetName. */
  get name(): string {
    return this.wire.name;
  }

  /** virStoragePoolGetUUIDString. */
  get uuid(): string {
    return formatUuid(this.wire.uuid);
  }
}

/** A storage volume: `pool.listAllVolumes()`, `conn.storageVolLookupByPath(path)`. */
export class StorageVol extends StorageVolBase<Handles> {
  constructor(
    readonly conn: AnyConnection,
    readonly wire: RemoteNonnullStorageVol,
  ) {
    super();
  }

  /** virStorageVolGetName. */
  get name(): string {
    return this.wire.name;
  }

  /** virStorageVolGetKey: the volume's unique key (often its path). */
  get key(): string {
    return this.wire.key;
  }

  /** The name of the pool holding the volume (`storagePoolLookupByVolume()` gives the pool). */
  get poolName(): string {
    return this.wire.pool;
  }
}

/** A host device: `conn.nodeDeviceLookupByName(name)`, `conn.listAllNodeDevices()`. */
export class NodeDevice extends NodeDeviceBase<Handles> {
  constructor(
    readonly conn: AnyConnection,
    readonly wire: RemoteNonnullNodeDevice,
  ) {
    super();
  }

  /** virNodeDeviceGetName. */
  get name(): string {
    return this.wire.name;
  }
}

/** A secret: `conn.secretDefineXML(xml)`, `conn.secretLookupByUsage(type, id)`. */
export class Secret extends SecretBase<Handles> {
  constructor(
    readonly conn: AnyConnection,
    readonly wire: RemoteNonnullSecret,
  ) {
    super();
  }

  /** virSecretGetUUIDString. */
  get uuid(): string {
    return formatUuid(this.wire.uuid);
  }

  /** virSecretGetUsageType: a VIR_SECRET_USAGE_TYPE_* value. */
  get usageType(): number {
    return this.wire.usageType;
  }

  /** virSecretGetUsageID: what the secret is for (a volume path, a Ceph name...). */
  get usageID(): string {
    return this.wire.usageID;
  }
}

/** A network filter: `conn.nwFilterLookupByName(name)`, `conn.listAllNWFilters()`. */
export class NWFilter extends NWFilterBase<Handles> {
  constructor(
    readonly conn: AnyConnection,
    readonly wire: RemoteNonnullNwfilter,
  ) {
    super();
  }

  /** virNWFilterGetName. */
  get name(): string {
    return this.wire.name;
  }

  /** virNWFilterGetUUIDString. */
  get uuid(): string {
    return formatUuid(this.wire.uuid);
  }
}

/** A filter bound to a port: `conn.nwFilterBindingLookupByPortDev(dev)`. */
export class NWFilterBinding extends NWFilterBindingBase<Handles> {
  constructor(
    readonly conn: AnyConnection,
    readonly wire: RemoteNonnullNwfilterBinding,
  ) {
    super();
  }

  /** virNWFilterBindingGetPortDev. */
  get portDev(): string {
    return this.wire.portdev;
  }

  /** virNWFilterBindingGetFilterName. */
  get filterName(): string {
    return this.wire.filtername;
  }
}

/** A host network interface: `conn.interfaceLookupByName(name)`, `conn.listAllInterfaces()`. */
export class Interface extends InterfaceBase<Handles> {
  constructor(
    readonly conn: AnyConnection,
    readonly wire: RemoteNonnullInterface,
  ) {
    super();
  }

  /** virInterfaceGetName. */
  get name(): string {
    return this.wire.name;
  }

  /** virInterfaceGetMACString. */
  get mac(): string {
    return this.wire.mac;
  }
}
