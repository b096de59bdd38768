import type { AuthOption } from '../auth/credentials.js';
import { saslCredentials } from '../auth/credentials.js';
import { AuthError, CredentialsError } from '../auth/errors.js';
import { SaslError } from '../auth/sasl/errors.js';
import { SecurityLayerChannel } from '../auth/sasl/layer.js';
import { runSasl } from '../auth/sasl/session.js';
import { type Channel, toChannel } from '../channel.js';
import { connectionOpenChannel } from '../diagnostics.js';
import { AbortError, TimeoutError, VirtwireError } from '../errors.js';
import { RemoteAuthType, type RemoteMethods, remoteProgram } from '../generated/remote.js';
import { type CallOptions, RpcClient } from '../rpc/client.js';
import { ConnectionClosedError, isNoSupport } from '../rpc/errors.js';
import { bindProgram, type MethodsOf } from '../rpc/methods.js';
import { openTransport, TransportError } from '../transport/index.js';
import type { Transport } from '../transport/types.js';
import { type LibvirtUri, parseUri, redactUri } from '../uri/index.js';
import type { EventGap } from './events.js';
import { Feature } from './features.js';
import { Connection, type SupervisedConnection } from './handles.js';
import { type Link, type ReconnectOptions, reconnectPolicy } from './supervise.js';

/** Options of {@link connect}. */
export interface ConnectOptions {
  /** Open read-only (VIR_CONNECT_RO): the read-only socket locally, the RO flag in CONNECT_OPEN. */
  readonly readonly?: boolean;
  /**
   * Keepalive as libvirt's client does it: a PING after `interval` seconds of
   * silence, the peer declared dead after `count` unanswered PINGs. Defaults
   * 5 and 5; interval 0 disables it. Only started when the daemon supports it.
   */
  readonly keepalive?: { readonly interval?: number; readonly count?: number };
  /** Abandons the connection attempt. */
  readonly signal?: AbortSignal;
  /**
   * Gives up the whole open sequence (transport, TLS verdict, authentication,
   * CONNECT_OPEN, probes) after this many milliseconds, with a TimeoutError.
   * Default DEFAULT_OPEN_TIMEOUT_MS (30 s), so a server that accepts and then
   * says nothing cannot hold `connect()` forever; 0 waits without a limit
   * (an AbortSignal can still end it).
   */
  readonly timeoutMs?: number;
  /** Bounds on what the peer may make this connection hold (see docs/connections.md, Limits). */
  readonly limits?: ConnectionLimits;
  /** Uses this byte stream factory instead of the URI's transport (tests, simulators, tunnels). */
  readonly transport?: Transport;
  /** Environment for socket, key and certificate lookup (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Credentials for SASL and for the libssh/libssh2 transports' password,
   * keyboard-interactive and key-passphrase steps: a user name and password, or a callback answering
   * libvirt's credential requests (as virConnectOpenAuth's). Without it, or
   * for what it leaves open, libvirt's auth.conf is consulted (`authfile=`,
   * `$LIBVIRT_AUTH_FILE`, `~/.config/libvirt/auth.conf`, `/etc/libvirt/auth.conf`).
   */
  readonly auth?: AuthOption;
  /**
   * Supervise the connection: when it ends other than by `close()`, open it
   * again with exponential backoff (see ReconnectOptions), re-register its
   * event subscriptions and keep its handles working. `true` takes the defaults.
   */
  readonly reconnect?: boolean | ReconnectOptions;
}

/** Bounds of one connection; each has a default that suits a real daemon. */
export interface ConnectionLimits {
  /**
   * Largest message accepted or sent, after its length word (default
   * 32 MiB, libvirt's VIR_NET_MESSAGE_MAX). A larger incoming one closes the
   * connection with a ProtocolError naming `maxMessage`.
   */
  readonly maxMessage?: number;
  /**
   * Calls given up by their caller (timeout, abort) whose serials are
   * remembered, so that their late replies are dropped quietly (default
   * 4096). Past it the oldest is forgotten; a late reply to a forgotten
   * call is dropped too.
   */
  readonly maxAbandoned?: number;
}

/** How long `connect()` waits for the whole open sequence unless told otherwise. */
export const DEFAULT_OPEN_TIMEOUT_MS = 30_000;

/**
 * Opens a connection to a libvirt daemon, as libvirt's own client does:
 * transport, AUTH_LIST and authentication, keepalive probe, CONNECT_OPEN,
 * CONNECT_GET_URI when no name was given, then feature probes.
 *
 * ```ts
 * await using conn = await connect('qemu+tcp://127.0.0.1/system');
 * const dom = await conn.lookupDomain('vm1');
 * console.log(await dom.state());
 * ```
 *
 * With `reconnect` the connection is supervised (see the README's
 * "Supervised connections"): the first open must succeed, and every later
 * end other than `close()` starts reconnecting.
 */
export function connect(
  uri: string,
  options: ConnectOptions & { readonly reconnect: true | ReconnectOptions },
): Promise<SupervisedConnection>;
export function connect(uri: string, options?: ConnectOptions): Promise<Connection>;
export async function connect(
  uri: string,
  options: ConnectOptions = {},
): Promise<Connection | SupervisedConnection> {
  const target = parseUri(uri);
  const policy =
    options.reconnect === undefined || options.reconnect === false
      ? null
      : reconnectPolicy(options.reconnect);
  const link = await openLink(
    uri,
    target,
    options,
    options.signal,
    options.timeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS,
  );
  if (policy === null) return new Connection(link, target);
  // Later attempts: the same sequence, bounded by the supervisor's signal (close, attempt timeout).
  const open = (signal: AbortSignal): Promise<Link> =>
    openLink(uri, target, options, signal, undefined);
  return new Connection<EventGap>(link, target, { uri, policy, open });
}

/** One run of the open sequence: a new link, authenticated and opened. */
async function openLink(
  uri: string,
  target: LibvirtUri,
  options: ConnectOptions,
  callerSignal: AbortSignal | undefined,
  timeoutMs: number | undefined,
): Promise<Link> {
  const started = performance.now();
  // The deadline is a signal of its own, so that running out of time is told apart from an abort.
  const deadline =
    timeoutMs !== undefined && timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined;
  // Error messages show the URI with its password replaced.
  const shown = redactUri(uri);
  const signal =
    deadline && callerSignal
      ? AbortSignal.any([callerSignal, deadline])
      : (deadline ?? callerSignal);
  const timedOut = (err: unknown): unknown =>
    deadline?.aborted && !callerSignal?.aborted
      ? new TimeoutError(
          `connecting to ${shown} timed out after ${timeoutMs} ms (timeoutMs${options.timeoutMs === undefined ? ', the default' : ''})`,
          { cause: err },
        )
      : err;
  const opts: CallOptions = { signal };
  const transport = options.transport ?? openTransport;
  let channel: Channel;
  try {
    channel = toChannel(
      await transport(target, {
        readonly: options.readonly ?? false,
        signal,
        env: options.env,
        auth: options.auth,
      }),
    );
  } catch (err) {
    if (deadline?.aborted && !callerSignal?.aborted) throw timedOut(err);
    throw signal?.aborted && !(err instanceof VirtwireError)
      ? new AbortError(`connecting to ${shown} aborted`, { cause: err })
      : err;
  }
  const rpc = new RpcClient(channel, options.limits);
  // A table of its own for the open sequence: the connection's routes through a supervisor.
  const remote = bindProgram<RemoteMethods>(rpc, remoteProgram);
  try {
    const auth = await authenticate(rpc, remote, target, opts, options);
    const keepalive = await probe(remote, Feature.PROGRAM_KEEPALIVE, opts);
    await remote.connectOpen({ name: target.openName, flags: options.readonly ? 1 : 0 }, opts);
    // An empty name (remote:///) lets the daemon choose: ask which URI it opened.
    const opened = target.openName || (await remote.connectGetUri(undefined, opts)).uri;
    if (keepalive) {
      rpc.startKeepalive(options.keepalive?.interval ?? 5, options.keepalive?.count ?? 5);
    }
    const features = {
      keepalive,
      eventCallback: await probe(remote, Feature.REMOTE_EVENT_CALLBACK, opts),
      closeCallback: await probe(remote, Feature.REMOTE_CLOSE_CALLBACK, opts),
    };
    if (connectionOpenChannel.hasSubscribers) {
      connectionOpenChannel.publish({
        connectionId: rpc.id,
        uri: shown,
        transport: options.transport ? 'custom' : target.transport,
        auth,
        durationMs: performance.now() - started,
      });
    }
    return { rpc, uri: opened, auth, features };
  } catch (err) {
    await rpc.close();
    // A helper-process transport (ssh, ext) can only fail once the first call
    // goes through it: report the transport's own error, not the closed connection.
    if (err instanceof ConnectionClosedError && err.cause instanceof TransportError)
      throw err.cause;
    throw timedOut(err);
  }
}

/** CONNECT_SUPPORTS_FEATURE, treating "unsupported procedure" from an old daemon as no. */
async function probe(
  remote: MethodsOf<RemoteMethods>,
  feature: number,
  opts: CallOptions,
): Promise<boolean> {
  try {
    return (await remote.connectSupportsFeature({ feature }, opts)).supported !== 0;
  } catch (err) {
    if (isNoSupport(err)) return false;
    throw err;
  }
}

const AUTH_NAMES: Record<number, string> = {
  [RemoteAuthType.REMOTE_AUTH_NONE]: 'none',
  [RemoteAuthType.REMOTE_AUTH_SASL]: 'sasl',
  [RemoteAuthType.REMOTE_AUTH_POLKIT]: 'polkit',
};

/** AUTH_LIST, then the method the URI asks for (auth=) or the daemon's first choice. */
async function authenticate(
  rpc: RpcClient,
  remote: MethodsOf<RemoteMethods>,
  uri: LibvirtUri,
  opts: CallOptions,
  options: ConnectOptions = {},
): Promise<string> {
  let types: number[];
  try {
    types = (await remote.authList(undefined, opts)).types;
  } catch (err) {
    if (isNoSupport(err)) return 'none'; // a daemon too old to know AUTH_LIST needs no auth
    throw err;
  }
  if (types.length === 0) return 'none';
  let chosen = types[0]!;
  const wanted = uri.params.auth;
  if (wanted !== undefined) {
    const kind = wanted.split('.')[0]!.toLowerCase();
    const match = types.find((t) => AUTH_NAMES[t] === kind);
    if (match === undefined) {
      throw new AuthError(
        `the URI asks for auth=${wanted}, but the daemon offers ${types.map((t) => AUTH_NAMES[t] ?? t).join(', ')}`,
      );
    }
    chosen = match;
  }
  switch (chosen) {
    case RemoteAuthType.REMOTE_AUTH_NONE:
      return 'none';
    case RemoteAuthType.REMOTE_AUTH_POLKIT: {
      const r = await remote.authPolkit(undefined, opts);
      if (r.complete === 0) throw new AuthError('polkit authentication did not complete');
      return 'polkit';
    }
    case RemoteAuthType.REMOTE_AUTH_SASL: {
      // As libvirt: TLS, unix and ssh channels are secure already; plain TCP
      // and ext need a SASL security layer of SSF >= 56.
      const secure = uri.transport !== 'tcp' && uri.transport !== 'ext';
      const dot = wanted?.indexOf('.') ?? -1;
      let mech: Awaited<ReturnType<typeof runSasl>>;
      try {
        mech = await runSasl(
          {
            init: () => remote.authSaslInit(undefined, opts),
            start: (a) => remote.authSaslStart(a, opts),
            step: (a) => remote.authSaslStep(a, opts),
          },
          {
            wanted: wanted !== undefined && dot >= 0 ? wanted.slice(dot + 1) : undefined,
            secure,
            host: uri.host ?? 'localhost',
            credentials: (mechanism) =>
              saslCredentials({
                auth: options.auth,
                host: uri.host,
                user: uri.user,
                authfile: uri.params.authfile,
                env: options.env ?? process.env,
                mechanism,
              }),
          },
        );
      } catch (err) {
        if (err instanceof SaslError || err instanceof CredentialsError)
          throw new AuthError(err.message, { cause: err });
        throw err;
      }
      const layer = mech.layer;
      if (layer) rpc.upgrade((inner) => new SecurityLayerChannel(inner, layer));
      return `sasl.${mech.name}`;
    }
    default:
      throw new AuthError(`the daemon asks for unknown authentication type ${chosen}`);
  }
}
