import { toChannel } from '../channel.js';
import { connectionOpenChannel } from '../diagnostics.js';
import {
  type AdminMethods,
  type AdminNonnullClient,
  type AdminNonnullServer,
  adminProgram,
} from '../generated/admin.js';
import {
  AdminClientBase,
  AdminConnectionBase,
  type AdminHandleFactory,
  AdminServerBase,
} from '../generated/handles.js';
import { type CloseInfo, RpcClient } from '../rpc/client.js';
import { bindProgram, type MethodsOf } from '../rpc/methods.js';
import { openTransport } from '../transport/index.js';
import type { Transport } from '../transport/types.js';
import { parseUri, redactUri } from '../uri/index.js';

export interface AdminConnectOptions {
  readonly signal?: AbortSignal;
  /** Keepalive interval and count in seconds (default 5 and 5; interval 0 disables). */
  readonly keepalive?: { readonly interval?: number; readonly count?: number };
  /**
   * Uses this transport instead of connecting to the socket (tunnels, tests):
   * it receives `libvirtd+unix:///system?socket=PATH` and resolves with a
   * Channel or a Node Duplex.
   */
  readonly transport?: Transport;
}

/** The class of each admin object type: what the generated admin methods take and return. */
export interface AdminHandles {
  readonly AdminServer: AdminServer;
  readonly AdminClient: AdminClient;
}

/**
 * A connection to a daemon's administration interface (the program virt-admin
 * speaks): server and client lists, thread pools, logging settings. It runs
 * over the daemon's admin unix socket; access is controlled by the socket's
 * permissions, so there is no authentication step. Its methods are libvirt-admin's
 * (`adm.listServers()`, `adm.getLoggingOutputs()`); `admin` has every procedure as wire structs.
 */
export class AdminConnection extends AdminConnectionBase<AdminHandles> implements AsyncDisposable {
  readonly admin: MethodsOf<AdminMethods>;
  /** Makes every admin handle of this connection from the identity the daemon sent. */
  readonly handles: AdminHandleFactory<AdminHandles> = {
    AdminServer: (w) => new AdminServer(this, w),
    AdminClient: (w) => new AdminClient(this, w),
  };

  constructor(
    readonly rpc: RpcClient,
    /** virAdmConnectGetURI: the URI of the admin socket this connection uses. */
    readonly uri = '',
  ) {
    super();
    this.admin = bindProgram<AdminMethods>(rpc, adminProgram);
  }

  get closed(): Promise<CloseInfo> {
    return this.rpc.closed;
  }

  /** Whether the connection is still open (virAdmConnectIsAlive). */
  get isOpen(): boolean {
    return this.rpc.isOpen;
  }

  /** Closes the admin connection; calls still waiting reject with ConnectionClosedError. */
  async close(): Promise<void> {
    if (this.rpc.isOpen)
      await this.admin.connectClose(undefined, { timeoutMs: 2000 }).catch(() => {});
    await this.rpc.close();
  }

  /** Closes the connection at the end of an `await using` block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** A server of the daemon (`libvirtd`, `admin`...): `adm.listServers()`, `adm.lookupServer(name)`. */
export class AdminServer extends AdminServerBase<AdminHandles> {
  constructor(
    readonly conn: AdminConnection,
    readonly wire: AdminNonnullServer,
  ) {
    super();
  }

  /** virAdmServerGetName. */
  get name(): string {
    return this.wire.name;
  }
}

/** A client connected to a server: `srv.listClients()`, `srv.lookupClient(id)`. */
export class AdminClient extends AdminClientBase<AdminHandles> {
  /** The server the client is connected to. */
  readonly server: AdminServer;

  constructor(
    readonly conn: AdminConnection,
    readonly wire: AdminNonnullClient,
  ) {
    super();
    this.server = conn.handles.AdminServer(wire.srv);
  }

  /** virAdmClientGetID. */
  get id(): bigint {
    return this.wire.id;
  }

  /** virAdmClientGetTimestamp: when the client connected, in seconds since the epoch. */
  get timestamp(): bigint {
    return this.wire.timestamp;
  }

  /** virAdmClientGetTransport: a VIR_CLIENT_TRANS_* value (unix, tcp, tls). */
  get transport(): number {
    return this.wire.transport;
  }
}

/**
 * Opens the admin interface of a daemon through its admin socket, e.g.
 * `/run/libvirt/libvirt-admin-sock` (libvirtd) or `/run/libvirt/virtqemud-admin-sock`.
 *
 * ```ts
 * await using adm = await connectAdmin('/run/libvirt/libvirt-admin-sock');
 * for (const srv of await adm.listServers()) console.log(srv.name, await srv.getThreadPoolParameters());
 * ```
 */
export async function connectAdmin(
  socketPath: string,
  opts: AdminConnectOptions = {},
): Promise<AdminConnection> {
  if (socketPath === '') throw new TypeError('connectAdmin needs the path of an admin socket');
  const started = performance.now();
  const text = `libvirtd+unix:///system?socket=${encodeURIComponent(socketPath)}`;
  const uri = parseUri(text);
  const channel = toChannel(
    await (opts.transport ?? openTransport)(uri, { readonly: false, signal: opts.signal }),
  );
  const rpc = new RpcClient(channel);
  const conn = new AdminConnection(rpc, text);
  try {
    await conn.admin.connectOpen({ flags: 0 }, { signal: opts.signal });
    rpc.startKeepalive(opts.keepalive?.interval ?? 5, opts.keepalive?.count ?? 5);
    if (connectionOpenChannel.hasSubscribers) {
      connectionOpenChannel.publish({
        connectionId: rpc.id,
        uri: redactUri(text),
        transport: opts.transport ? 'custom' : 'unix',
        auth: 'none',
        durationMs: performance.now() - started,
      });
    }
    return conn;
  } catch (err) {
    await rpc.close();
    throw err;
  }
}
