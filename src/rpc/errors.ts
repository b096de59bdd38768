import { VirtwireError } from '../errors.js';
import { VirErrorDomain, VirErrorLevel, VirErrorNumber } from '../generated/api.js';
import type { VirNetMessageError } from '../generated/virnet.js';

/** The peer broke the protocol: a bad length word, an unexpected message, a reply that does not decode. */
export class ProtocolError extends VirtwireError {
  override name = 'ProtocolError';
}

/**
 * The first bytes the peer sent are not a libvirt message: another server
 * (sshd, a web server) listens where the daemon was expected. `sent` holds
 * those bytes; the message shows them as text.
 */
export class NotLibvirtError extends ProtocolError {
  override name = 'NotLibvirtError';
  /** How many of the peer's first bytes are kept and shown. */
  static readonly SHOWN = 64;
  constructor(readonly sent: Uint8Array) {
    super(`this is not a libvirt daemon (it sent ${showBytes(sent)})`);
  }
}

/** Bytes as a quoted string: printable ASCII as is, everything else escaped. */
function showBytes(b: Uint8Array): string {
  let s = '';
  for (const c of b) {
    if (c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c) s += String.fromCharCode(c);
    else if (c === 0x0a) s += '\\n';
    else if (c === 0x0d) s += '\\r';
    else s += `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return `"${s}"`;
}

/** Why a connection ended; the names follow libvirt's virConnectCloseReason. */
export type CloseReason = 'error' | 'eof' | 'keepalive' | 'client';

/** The connection ended before the call completed (or a call was made after it ended). */
export class ConnectionClosedError extends VirtwireError {
  override name = 'ConnectionClosedError';
  constructor(
    readonly reason: CloseReason,
    message?: string,
    options?: ErrorOptions,
  ) {
    super(message ?? `connection closed (${reason})`, options);
  }
}

type Reverse = ReadonlyMap<number, string>;
const reverse = (o: Readonly<Record<string, number>>): Reverse => {
  const m = new Map<number, string>();
  // First name wins: later aliases (deprecated spellings) do not replace it.
  for (const [k, v] of Object.entries(o)) if (!m.has(v)) m.set(v, k);
  return m;
};
let names: { code: Reverse; domain: Reverse; level: Reverse } | undefined;
const errorNames = () => {
  names ??= {
    code: reverse(VirErrorNumber),
    domain: reverse(VirErrorDomain),
    level: reverse(VirErrorLevel),
  };
  return names;
};

/** libvirt's error code names (`VIR_ERR_*`), for {@link hasErrorCode}. */
export type ErrorCodeName = keyof typeof VirErrorNumber;

/** libvirt's name of an error code (`VIR_ERR_NO_DOMAIN`), or `VIR_ERR_<n>` for one it does not define. */
export function errorCodeName(code: number): string {
  return errorNames().code.get(code) ?? `VIR_ERR_${code}`;
}
export type ErrorDomainName = keyof typeof VirErrorDomain;

/**
 * An error reported by the daemon (a REPLY with status ERROR). Every field of
 * libvirt's remote_error is kept; `codeName` and `domainName` are the names of
 * `code` and `domain` in virErrorNumber / virErrorDomain.
 */
export class RemoteError extends VirtwireError {
  override name = 'RemoteError';
  readonly code: number;
  readonly domain: number;
  readonly level: number;
  readonly codeName: string;
  readonly domainName: string;
  readonly levelName: string;
  /** The daemon's message, or null when it sent none. */
  readonly remoteMessage: string | null;
  readonly dom: { name: string; uuid: Uint8Array; id: number } | null;
  readonly str1: string | null;
  readonly str2: string | null;
  readonly str3: string | null;
  readonly int1: number;
  readonly int2: number;
  readonly net: { name: string; uuid: Uint8Array } | null;
  /** `program.PROCEDURE` of the call that failed, e.g. `remote.DOMAIN_LOOKUP_BY_NAME`. */
  readonly procedure: string;

  constructor(e: VirNetMessageError, procedure: string) {
    const n = errorNames();
    const codeName = errorCodeName(e.code);
    super(e.message ?? `${codeName} (no message)`);
    this.code = e.code;
    this.domain = e.domain;
    this.level = e.level;
    this.codeName = codeName;
    this.domainName = n.domain.get(e.domain) ?? `VIR_FROM_${e.domain}`;
    this.levelName = n.level.get(e.level) ?? `VIR_ERR_LEVEL_${e.level}`;
    this.remoteMessage = e.message;
    this.dom = e.dom;
    this.str1 = e.str1;
    this.str2 = e.str2;
    this.str3 = e.str3;
    this.int1 = e.int1;
    this.int2 = e.int2;
    this.net = e.net;
    this.procedure = procedure;
  }
}

/** True when `err` is a RemoteError with this virErrorNumber name. */
export function hasErrorCode(err: unknown, code: ErrorCodeName): err is RemoteError {
  return err instanceof RemoteError && err.code === VirErrorNumber[code];
}

/** The daemon has no such domain (VIR_ERR_NO_DOMAIN). */
export const isNoDomain = (err: unknown): err is RemoteError =>
  hasErrorCode(err, 'VIR_ERR_NO_DOMAIN');
/** The driver does not implement the call (VIR_ERR_NO_SUPPORT). */
export const isNoSupport = (err: unknown): err is RemoteError =>
  hasErrorCode(err, 'VIR_ERR_NO_SUPPORT');
/** The call does not fit the object's state, e.g. resuming a running guest (VIR_ERR_OPERATION_INVALID). */
export const isOperationInvalid = (err: unknown): err is RemoteError =>
  hasErrorCode(err, 'VIR_ERR_OPERATION_INVALID');
/** The daemon tried and failed (VIR_ERR_OPERATION_FAILED). */
export const isOperationFailed = (err: unknown): err is RemoteError =>
  hasErrorCode(err, 'VIR_ERR_OPERATION_FAILED');
/** A job was aborted, e.g. a migration by `abortJob` (VIR_ERR_OPERATION_ABORTED). */
export const isOperationAborted = (err: unknown): err is RemoteError =>
  hasErrorCode(err, 'VIR_ERR_OPERATION_ABORTED');
/** Authentication was refused (VIR_ERR_AUTH_FAILED). */
export const isAuthFailed = (err: unknown): err is RemoteError =>
  hasErrorCode(err, 'VIR_ERR_AUTH_FAILED');
/** The daemon has no such network (VIR_ERR_NO_NETWORK). */
export const isNoNetwork = (err: unknown): err is RemoteError =>
  hasErrorCode(err, 'VIR_ERR_NO_NETWORK');
/** The daemon has no such storage pool (VIR_ERR_NO_STORAGE_POOL). */
export const isNoStoragePool = (err: unknown): err is RemoteError =>
  hasErrorCode(err, 'VIR_ERR_NO_STORAGE_POOL');
/** The daemon has no such storage volume (VIR_ERR_NO_STORAGE_VOL). */
export const isNoStorageVol = (err: unknown): err is RemoteError =>
  hasErrorCode(err, 'VIR_ERR_NO_STORAGE_VOL');
/** A flag or argument value the driver does not support (VIR_ERR_ARGUMENT_UNSUPPORTED). */
export const isArgumentUnsupported = (err: unknown): err is RemoteError =>
  hasErrorCode(err, 'VIR_ERR_ARGUMENT_UNSUPPORTED');
/** An argument the daemon refuses (VIR_ERR_INVALID_ARG). */
export const isInvalidArg = (err: unknown): err is RemoteError =>
  hasErrorCode(err, 'VIR_ERR_INVALID_ARG');
/** libvirt judged the migration unsafe, e.g. disk caching (VIR_ERR_MIGRATE_UNSAFE); `unsafe: true` overrides. */
export const isMigrateUnsafe = (err: unknown): err is RemoteError =>
  hasErrorCode(err, 'VIR_ERR_MIGRATE_UNSAFE');
