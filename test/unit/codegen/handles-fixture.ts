/**
 * The smallest hand-written side of the generated handle bases: every class extends its base,
 * the connection implements the one factory and the stream opener, and the type map closes the
 * loop inside this one module. The RPC tables record calls and answer from a script, so tests
 * can watch what a generated method sends and what it makes of the reply.
 */
import type {
  AdminMethods,
  AdminNonnullClient,
  AdminNonnullServer,
} from '../../../src/generated/admin.js';
import {
  AdminClientBase,
  AdminConnectionBase,
  type AdminHandleFactory,
  AdminServerBase,
  ConnectionBase,
  DomainBase,
  DomainCheckpointBase,
  DomainSnapshotBase,
  type HandleFactory,
  InterfaceBase,
  NetworkBase,
  NetworkPortBase,
  NodeDeviceBase,
  NWFilterBase,
  NWFilterBindingBase,
  type OpenStreamOptions,
  SecretBase,
  StoragePoolBase,
  StorageVolBase,
} from '../../../src/generated/handles.js';
import type { LxcMethods } from '../../../src/generated/lxc.js';
import type { QemuMethods } from '../../../src/generated/qemu.js';
import type {
  RemoteMethods,
  RemoteNonnullDomain,
  RemoteNonnullDomainCheckpoint,
  RemoteNonnullDomainSnapshot,
  RemoteNonnullInterface,
  RemoteNonnullNetwork,
  RemoteNonnullNetworkPort,
  RemoteNonnullNodeDevice,
  RemoteNonnullNwfilter,
  RemoteNonnullNwfilterBinding,
  RemoteNonnullSecret,
  RemoteNonnullStoragePool,
  RemoteNonnullStorageVol,
} from '../../../src/generated/remote.js';
import type { CallOptions } from '../../../src/rpc/client.js';
import type { MethodsOf } from '../../../src/rpc/methods.js';
import type { VirStream } from '../../../src/rpc/stream.js';
import type { ProgramInfo } from '../../../src/xdr/program.js';

export interface Call {
  readonly method: string;
  readonly args: unknown;
  readonly opts: CallOptions | undefined;
}

/** Replies by method name: a value, or a function of the arguments. */
export type Script = Record<string, unknown>;

/** An RPC method table that records each call and answers from `script`. */
function recorder<M>(calls: Call[], script: Script): MethodsOf<M> {
  return new Proxy(
    {},
    {
      get: (_t, method) => (args: unknown, opts?: CallOptions) => {
        if (typeof method !== 'string') throw new TypeError('symbol method');
        calls.push({ method, args, opts });
        if (!(method in script)) throw new Error(`no scripted reply for ${method}`);
        const reply = script[method];
        return Promise.resolve(typeof reply === 'function' ? reply(args) : reply);
      },
    },
  ) as MethodsOf<M>;
}

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

export interface StreamOpen {
  readonly program: string;
  readonly procedure: string;
  readonly args: unknown;
  readonly opts: OpenStreamOptions | undefined;
}

export class Connection extends ConnectionBase<Handles> {
  readonly calls: Call[] = [];
  readonly streams: StreamOpen[] = [];
  readonly remote: MethodsOf<RemoteMethods>;
  readonly qemu: MethodsOf<QemuMethods>;
  readonly lxc: MethodsOf<LxcMethods>;
  readonly handles: HandleFactory<Handles> = {
    Domain: (w) => new Domain(this, w),
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

  constructor(
    script: Script,
    private readonly stream: VirStream | null = null,
    /** The VIR_DRV_FEATURE_* numbers the scripted daemon supports. */
    private readonly features: readonly number[] = [],
  ) {
    super();
    this.remote = recorder<RemoteMethods>(this.calls, script);
    this.qemu = recorder<QemuMethods>(this.calls, script);
    this.lxc = recorder<LxcMethods>(this.calls, script);
  }

  async supportsFeature(feature: number): Promise<boolean> {
    return this.features.includes(feature);
  }

  async openStream<R = unknown>(
    program: ProgramInfo,
    procedure: string,
    args: unknown,
    opts?: OpenStreamOptions,
  ): Promise<{ stream: VirStream; result: R }> {
    this.streams.push({ program: program.name, procedure, args, opts });
    if (!this.stream) throw new Error('no stream scripted');
    return { stream: this.stream, result: { mime: 'image/png' } as R };
  }
}

export class Domain extends DomainBase<Handles> {
  constructor(
    readonly conn: Connection,
    readonly wire: RemoteNonnullDomain,
  ) {
    super();
  }
}
export class DomainSnapshot extends DomainSnapshotBase<Handles> {
  constructor(
    readonly conn: Connection,
    readonly wire: RemoteNonnullDomainSnapshot,
  ) {
    super();
  }
}
export class DomainCheckpoint extends DomainCheckpointBase<Handles> {
  constructor(
    readonly conn: Connection,
    readonly wire: RemoteNonnullDomainCheckpoint,
  ) {
    super();
  }
}
export class Network extends NetworkBase<Handles> {
  constructor(
    readonly conn: Connection,
    readonly wire: RemoteNonnullNetwork,
  ) {
    super();
  }
}
export class NetworkPort extends NetworkPortBase<Handles> {
  constructor(
    readonly conn: Connection,
    readonly wire: RemoteNonnullNetworkPort,
  ) {
    super();
  }
}
export class StoragePool extends StoragePoolBase<Handles> {
  constructor(
    readonly conn: Connection,
    readonly wire: RemoteNonnullStoragePool,
  ) {
    super();
  }
}
export class StorageVol extends StorageVolBase<Handles> {
  constructor(
    readonly conn: Connection,
    readonly wire: RemoteNonnullStorageVol,
  ) {
    super();
  }
}
export class NodeDevice extends NodeDeviceBase<Handles> {
  constructor(
    readonly conn: Connection,
    readonly wire: RemoteNonnullNodeDevice,
  ) {
    super();
  }
}
export class Secret extends SecretBase<Handles> {
  constructor(
    readonly conn: Connection,
    readonly wire: RemoteNonnullSecret,
  ) {
    super();
  }
}
export class NWFilter extends NWFilterBase<Handles> {
  constructor(
    readonly conn: Connection,
    readonly wire: RemoteNonnullNwfilter,
  ) {
    super();
  }
}
export class NWFilterBinding extends NWFilterBindingBase<Handles> {
  constructor(
    readonly conn: Connection,
    readonly wire: RemoteNonnullNwfilterBinding,
  ) {
    super();
  }
}
export class Interface extends InterfaceBase<Handles> {
  constructor(
    readonly conn: Connection,
    readonly wire: RemoteNonnullInterface,
  ) {
    super();
  }
}

export interface AdminHandles {
  readonly AdminServer: AdminServer;
  readonly AdminClient: AdminClient;
}

export class AdminConnection extends AdminConnectionBase<AdminHandles> {
  readonly calls: Call[] = [];
  readonly admin: MethodsOf<AdminMethods>;
  readonly handles: AdminHandleFactory<AdminHandles> = {
    AdminServer: (w) => new AdminServer(this, w),
    AdminClient: (w) => new AdminClient(this, w),
  };

  constructor(script: Script) {
    super();
    this.admin = recorder<AdminMethods>(this.calls, script);
  }
}

export class AdminServer extends AdminServerBase<AdminHandles> {
  constructor(
    readonly conn: AdminConnection,
    readonly wire: AdminNonnullServer,
  ) {
    super();
  }
}
export class AdminClient extends AdminClientBase<AdminHandles> {
  constructor(
    readonly conn: AdminConnection,
    readonly wire: AdminNonnullClient,
  ) {
    super();
  }
}
