import { toChannel } from '../channel.js';
import { connectionOpenChannel } from '../diagnostics.js';
import { type AdminMethods, adminProgram } from '../generated/admin.js';
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

/**
 * A connection to a daemon's administration interface (the program virt-admin
 * speaks): server and client lists, thread pools, logging settings. It runs
 * over the daemon's admin unix socket; access is controlled by the socket's
 * permissions, so there is no authentication step.
 */
export class AdminConnection implements AsyncDisposable {
  readonly admin: MethodsOf<AdminMethods>;

  constructor(readonly rpc: RpcClient) {
    this.admin = bindProgram<AdminMethods>(rpc, adminProgram);
  }

  get closed(): Promise<CloseInfo> {
    return this.rpc.closed;
  }

  async close(): Promise<void> {
    if (this.rpc.isOpen)
      await this.admin.connectClose(undefined, { timeoutMs: 2000 }).catch(() => {});
    await this.rpc.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Opens the admin interface of a daemon through its admin socket, e.g.
 * `/run/libvirt/libvirt-admin-sock` (libvirtd) or `/run/libvirt/virtqemud-admin-sock`.
 *
 * ```ts
 * await using adm = await connectAdmin('/run/libvirt/libvirt-admin-sock');
 * const { servers } = await adm.admin.connectListServers({ needResults: 1, flags: 0 });
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
  const conn = new AdminConnection(rpc);
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
