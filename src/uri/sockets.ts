/**
 * Which unix socket the C client connects to for a URI (libvirt's
 * remote_sockets.c), and the ssh proxy mode it picks (remote_driver.c).
 *
 * System sockets live under `$LOCALSTATEDIR/run/libvirt` = `/var/run/libvirt`
 * (a symlink to `/run/libvirt` on current systems): the client deliberately
 * does not use `/run`, since the same path is used on remote hosts over ssh.
 * Session sockets live in `$XDG_RUNTIME_DIR/libvirt`, falling back to
 * `$XDG_CACHE_HOME/libvirt`, then `$HOME/.cache/libvirt` (GLib's
 * g_get_user_runtime_dir), and have no read-only variant.
 */

import {
  type LibvirtUri,
  type ProxyMode,
  type RemoteMode,
  type TransportName,
  UriError,
} from './types.js';

export {
  LIBSSH_DEFAULT_PORT,
  LIBSSH_DEFAULT_USER,
  LIBVIRTD_TCP_PORT,
  LIBVIRTD_TLS_PORT,
} from './types.js';

/** The parts of the process environment the socket choice depends on. */
export interface SocketEnv {
  /** Effective uid: 0 never uses session sockets. */
  uid: number;
  XDG_RUNTIME_DIR?: string | undefined;
  XDG_CACHE_HOME?: string | undefined;
  HOME?: string | undefined;
  /** `0` stops the C client from starting a session daemon. */
  LIBVIRT_AUTOSTART?: string | undefined;
}

export interface SocketOptions {
  /** Opening read-only (VIR_CONNECT_RO): system sockets use their `-ro` variant. */
  readonly: boolean;
  /**
   * `remote_mode` from libvirt.conf, used when the URI has no `mode=`.
   * virtwire does not read libvirt.conf; pass it here to honour it.
   */
  configMode?: RemoteMode | undefined;
  /**
   * Where mode `auto` goes when neither the driver's socket nor the legacy
   * one exists: libvirt's build option `remote_default_mode`. Upstream's
   * default is `direct`; Debian 12 builds with `legacy` (virsh 9.0 there
   * picks `libvirt-sock`). Left out, it is inferred from the installed
   * daemons ({@link inferFallbackMode}).
   */
  fallbackMode?: 'direct' | 'legacy' | undefined;
  /** libvirt's LOCALSTATEDIR; default `/var`. */
  localStateDir?: string | undefined;
  /** libvirt's SBINDIR, where the daemons are installed; default `/usr/sbin`. */
  sbinDir?: string | undefined;
}

export interface SocketChoice {
  /** The socket to connect to (for ssh transports: on the remote host, via nc). */
  path: string;
  /**
   * Daemon behind the socket: `libvirtd` (legacy, which is virtproxyd on a
   * modular host) or `virt<driver>d`; null when `socket=` chose the path.
   */
  daemon: string | null;
  /** How the path was chosen. */
  mode: 'legacy' | 'direct' | 'explicit';
  /** Whether a per-user (session) socket was chosen. */
  session: boolean;
  /**
   * Whether the C client would start `daemon` itself (with `--timeout=120`)
   * if connecting fails: session sockets over the unix transport only.
   */
  autostart: boolean;
}

/**
 * Whether the C client treats this as a per-user connection (its
 * REMOTE_DRIVER_OPEN_USER flag): a `/session` path or a `test+<transport>`
 * scheme, when not running as root.
 */
export function isSessionConnection(uri: LibvirtUri, uid: number): boolean {
  if (uid === 0) return false;
  return uri.path === '/session' || (uri.driver === 'test' && uri.transportExplicit);
}

/** g_build_filename for two parts: one separator between them. */
function joinPath(dir: string, name: string): string {
  return `${dir.replace(/\/+$/, '')}/${name}`;
}

/** The C client's per-user runtime directory (virGetUserRuntimeDirectory). */
export function userRuntimeDirectory(env: SocketEnv): string {
  const nonEmpty = (v: string | undefined) => (v !== undefined && v !== '' ? v : undefined);
  let base = nonEmpty(env.XDG_RUNTIME_DIR) ?? nonEmpty(env.XDG_CACHE_HOME);
  if (base === undefined) {
    const home = nonEmpty(env.HOME);
    if (home === undefined) {
      throw new Error(
        'cannot choose a session socket: none of XDG_RUNTIME_DIR, XDG_CACHE_HOME or HOME is set',
      );
    }
    base = joinPath(home, '.cache');
  }
  return joinPath(base, 'libvirt');
}

const SOCKET_TRANSPORTS: readonly TransportName[] = ['unix', 'ssh', 'libssh', 'libssh2'];

/**
 * libvirt's build option cannot be read from outside the library, so it is
 * inferred from what is installed: a host with `libvirtd` but without the
 * driver's own daemon (`virtqemud`) can only ever serve the legacy socket,
 * which is what its libvirt build falls back to (Debian 12's 9.0 does);
 * anywhere else upstream's `direct` holds.
 */
export function inferFallbackMode(
  driver: string,
  exists: (path: string) => boolean,
  sbinDir = '/usr/sbin',
): 'direct' | 'legacy' {
  const legacy = exists(joinPath(sbinDir, 'libvirtd'));
  const direct = exists(joinPath(sbinDir, `virt${driver}d`));
  return legacy && !direct ? 'legacy' : 'direct';
}

/**
 * Chooses the unix socket as the C client does (remoteGetUNIXSocket):
 *
 * 1. `socket=` wins.
 * 2. The mode is `mode=`, else `configMode`, else `auto`.
 * 3. `legacy` is libvirtd's socket `libvirt-sock`; `direct` is the driver's
 *    own daemon `virt<driver>d-sock` (the name is built from the URI's driver
 *    as it is, so `test` gives `virttestd`, which no package ships).
 * 4. `auto` over unix takes the driver's socket if `exists` says it is there,
 *    else the legacy one if it is there, else `fallbackMode` (or what
 *    {@link inferFallbackMode} makes of the installed daemons). Over the ssh
 *    transports it is always legacy (the remote host is not probed; the
 *    remote `virt-ssh-helper` makes its own choice), and `direct` is an error.
 * 5. System sockets: `/var/run/libvirt/<name>-sock`, `-sock-ro` when read-only.
 *    Session sockets ({@link isSessionConnection}): `<runtime dir>/<name>-sock`.
 *
 * For the ssh transports the result is the path given to `nc` on the remote
 * host; like the C client, a session path is computed from the local
 * environment. tcp, tls and ext use no socket: UriError.
 */
export function localSocketPath(
  uri: LibvirtUri,
  env: SocketEnv,
  exists: (path: string) => boolean,
  opts: SocketOptions,
): SocketChoice {
  const session = isSessionConnection(uri, env.uid);
  if (uri.params.socket !== undefined) {
    return { path: uri.params.socket, daemon: null, mode: 'explicit', session, autostart: false };
  }
  if (!SOCKET_TRANSPORTS.includes(uri.transport)) {
    throw new UriError(uri.original, `the ${uri.transport} transport does not use a unix socket`);
  }

  const socketFor = (prefix: string): string => {
    if (session) return `${userRuntimeDirectory(env)}/${prefix}-sock`;
    const dir = joinPath(opts.localStateDir ?? '/var', 'run/libvirt');
    return `${dir}/${prefix}-${opts.readonly ? 'sock-ro' : 'sock'}`;
  };
  const directDaemon = `virt${uri.driver}d`;
  const direct = socketFor(directDaemon);
  const legacy = socketFor('libvirt');

  let mode: RemoteMode = uri.params.mode ?? opts.configMode ?? 'auto';
  if (mode === 'auto') {
    if (uri.transport !== 'unix') mode = 'legacy';
    else if (exists(direct)) mode = 'direct';
    else if (exists(legacy)) mode = 'legacy';
    else mode = opts.fallbackMode ?? inferFallbackMode(uri.driver, exists, opts.sbinDir);
  }
  if (mode === 'direct' && uri.transport !== 'unix') {
    throw new UriError(
      uri.original,
      `mode=direct needs a local unix socket; it cannot be used with the ${uri.transport} transport`,
    );
  }

  const autostart =
    session && uri.host === null && uri.transport === 'unix' && env.LIBVIRT_AUTOSTART !== '0';
  return mode === 'direct'
    ? { path: direct, daemon: directDaemon, mode, session, autostart }
    : { path: legacy, daemon: 'libvirtd', mode, session, autostart };
}

/**
 * How the ssh transports reach the daemon on the remote host:
 * `native` runs `virt-ssh-helper`, `netcat` runs `nc -U <socket>`, `auto`
 * tries the helper and falls back to nc.
 *
 * The default is `netcat` when `socket=` is given (the helper cannot take a
 * socket path), `native` for session connections, else `auto`; `remote_proxy`
 * in libvirt.conf (`configProxy`) overrides the default, `proxy=` overrides
 * both. A `netcat=` path turns `auto` into `netcat` and is an error with
 * `native`.
 */
export function sshProxyMode(
  uri: LibvirtUri,
  env: Pick<SocketEnv, 'uid'>,
  opts: { configProxy?: ProxyMode | undefined } = {},
): 'auto' | 'netcat' | 'native' {
  let proxy: ProxyMode =
    uri.params.proxy ??
    opts.configProxy ??
    (uri.params.socket !== undefined
      ? 'netcat'
      : isSessionConnection(uri, env.uid)
        ? 'native'
        : 'auto');
  if (uri.params.netcat !== undefined) {
    if (proxy === 'native') {
      throw new UriError(
        uri.original,
        'netcat= cannot be combined with the native proxy (the default for session URIs); drop netcat= or add proxy=netcat',
      );
    }
    if (proxy === 'auto') proxy = 'netcat';
  }
  return proxy;
}
