/** What a parsed libvirt URI holds, and the error for one that cannot be used. */

import { VirtwireError } from '../errors.js';
import { displayUri, redactUri } from './redact.js';

/** How the remote driver reaches the daemon. */
export type TransportName = 'unix' | 'tcp' | 'tls' | 'ssh' | 'libssh' | 'libssh2' | 'ext';

export const TRANSPORTS: readonly TransportName[] = [
  'unix',
  'tcp',
  'tls',
  'ssh',
  'libssh',
  'libssh2',
  'ext',
];

/** Port of the plain TCP listener (`listen_tcp`). */
export const LIBVIRTD_TCP_PORT = 16509;
/** Port of the TLS listener (`listen_tls`). */
export const LIBVIRTD_TLS_PORT = 16514;
/** Port the in-process SSH transports (libssh, libssh2) use when none is given. */
export const LIBSSH_DEFAULT_PORT = 22;
/** User the in-process SSH transports (libssh, libssh2) log in as when none is given. */
export const LIBSSH_DEFAULT_USER = 'root';

export type RemoteMode = 'auto' | 'legacy' | 'direct';
export type ProxyMode = 'auto' | 'netcat' | 'native';
export type KnownHostsVerify = 'normal' | 'auto' | 'ignore';

/**
 * Query parameters consumed by the remote driver. Names match
 * case-insensitively and the last occurrence wins, except `authfile`, which
 * is taken from the first parameter spelled exactly `authfile` (that is how
 * libvirt's auth-file lookup reads it).
 */
export interface RemoteParams {
  /** Name to send in CONNECT_OPEN instead of the one derived from the URI. */
  name?: string;
  /** ext: program to run; ssh: the ssh binary (default `ssh`). */
  command?: string;
  /** Unix socket path; for ssh transports the socket `nc` connects to remotely. */
  socket?: string;
  /** `sasl`, `sasl.<MECH>` or `polkit`: the auth type to insist on. */
  auth?: string;
  /** libssh/libssh2: comma-separated auth methods. */
  sshauth?: string;
  /** ssh transports: the netcat binary on the remote host. */
  netcat?: string;
  keyfile?: string;
  pkipath?: string;
  known_hosts?: string;
  /** libssh/libssh2 only; checked (case-insensitively) only for those transports. */
  known_hosts_verify?: KnownHostsVerify;
  tls_priority?: string;
  mode?: RemoteMode;
  proxy?: ProxyMode;
  /** Any integer is accepted; non-zero means true. */
  no_sanity?: boolean;
  no_verify?: boolean;
  no_tty?: boolean;
  authfile?: string;
}

/** A libvirt connection URI, parsed: driver, transport, host, path and the remote parameters. */
export interface LibvirtUri {
  /** The string given to {@link parseUri}. */
  original: string;
  /** Scheme before `+transport`, case preserved (libvirt does not fold it). */
  driver: string;
  transport: TransportName;
  /** Whether the scheme named the transport (`qemu+tcp`) rather than it being implied. */
  transportExplicit: boolean;
  /**
   * Decoded user name: the user info up to its first `:`; null when absent
   * or empty. libvirt keeps `:password` in its user field (and so hands
   * `alice:pw` to `ssh -l`); virtwire splits it off, so that a password
   * never reaches a command line, a log-in name or a message.
   */
  user: string | null;
  /**
   * Decoded password: the user info after its first `:`, null when there is
   * none. No transport of virtwire uses it (ssh asks through its own prompt;
   * credentials go in `connect`'s `auth` option); it is kept only so that a
   * caller can tell one was given.
   */
  password: string | null;
  /** Decoded host, IPv6 brackets removed; null when absent. */
  host: string | null;
  /**
   * Host the transport connects to: `host`, or `localhost` when the URI has
   * none (libvirt's default for tcp, tls and the ssh transports).
   */
  connectHost: string;
  /**
   * The explicit port, else the transport's default: tcp 16509, tls 16514,
   * libssh/libssh2 22; null for ssh (left to ssh) and for unix and ext.
   * An explicit `:0` counts as absent, as in libvirt.
   */
  port: number | null;
  /** Decoded path; '' when the URI has none. */
  path: string;
  /** Decoded fragment; null when there is no `#`. */
  fragment: string | null;
  /** Parameters consumed by the remote driver, validated. */
  params: RemoteParams;
  /** All other parameters, in order, decoded; these travel on to the daemon. */
  passthrough: ReadonlyArray<readonly [string, string]>;
  /**
   * The name the C client sends in CONNECT_OPEN: the `name=` parameter if
   * given; '' for the `remote` driver (the daemon then picks its default);
   * otherwise `driver://` + path + the pass-through parameters + fragment, with
   * user, host, port and the transport dropped. The C client always sends a
   * string for a URI, so this is never null.
   */
  openName: string;
  /**
   * The URI the ssh transports hand to `virt-ssh-helper` on the remote host:
   * like {@link openName} but keeping the `mode` and `socket` parameters.
   */
  sshHelperUri: string;
}

export interface ParseOptions {
  /**
   * URI aliases, as `uri_aliases` in libvirt.conf (`name -> URI`). A string
   * equal to a name is replaced by its URI before parsing. Names may contain
   * only `A-Z a-z 0-9 _ -`.
   */
  aliases?: Readonly<Record<string, string>>;
}

/**
 * A libvirt URI that cannot be used, with what is wrong and, when known,
 * where. Neither the message nor `uri` holds the URI's password (see
 * `redactUri`); the message cuts a very long URI short.
 */
export class UriError extends VirtwireError {
  override readonly name = 'UriError';
  /** The URI as given, with its password replaced by `***`. */
  readonly uri: string;
  /** What is wrong, without the URI. */
  readonly reason: string;
  /** 0-based offset of the offending text in the URI as given (not in `uri`, if it was redacted), or -1. */
  readonly offset: number;

  constructor(uri: string, reason: string, offset = -1, options?: ErrorOptions) {
    super(`invalid libvirt URI ${JSON.stringify(displayUri(uri))}: ${reason}`, options);
    this.uri = redactUri(uri);
    this.reason = reason;
    this.offset = offset;
  }
}
