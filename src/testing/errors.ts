import { VirErrorDomain, VirErrorLevel, VirErrorNumber } from '../generated/api.js';
import type { RemoteNonnullDomain } from '../generated/remote.js';
import { VIR_NET_MESSAGE_STRING_MAX, type VirNetMessageError } from '../generated/virnet.js';

type Code = keyof typeof VirErrorNumber;
type From = keyof typeof VirErrorDomain;

/**
 * The text libvirt puts before an error's detail, per error number (what
 * virErrorMsg gives), as the daemon sends it in `message` and, with a `%s`
 * for the detail, in `str1`.
 */
const PREFIX: Partial<Record<Code, string>> = {
  VIR_ERR_INTERNAL_ERROR: 'internal error: ',
  VIR_ERR_NO_SUPPORT: 'this function is not supported by the connection driver: ',
  VIR_ERR_INVALID_ARG: 'invalid argument: ',
  VIR_ERR_OPERATION_FAILED: 'operation failed: ',
  VIR_ERR_XML_ERROR: 'XML error: ',
  VIR_ERR_OPERATION_DENIED: 'operation forbidden: ',
  VIR_ERR_NO_DOMAIN: 'Domain not found: ',
  VIR_ERR_NO_NETWORK: 'Network not found: ',
  VIR_ERR_NO_STORAGE_POOL: 'Storage pool not found: ',
  VIR_ERR_NO_STORAGE_VOL: 'Storage volume not found: ',
  VIR_ERR_NO_NODE_DEVICE: 'Node device not found: ',
  VIR_ERR_NO_SECRET: 'Secret not found: ',
  VIR_ERR_NO_INTERFACE: 'Interface not found: ',
  VIR_ERR_NO_NWFILTER: 'Network filter not found: ',
  VIR_ERR_NO_NWFILTER_BINDING: 'Network filter binding not found: ',
  VIR_ERR_NO_DOMAIN_SNAPSHOT: 'Domain snapshot not found: ',
  VIR_ERR_NO_DOMAIN_CHECKPOINT: 'Domain checkpoint not found: ',
  VIR_ERR_OPERATION_INVALID: 'Requested operation is not valid: ',
  VIR_ERR_ARGUMENT_UNSUPPORTED: 'argument unsupported: ',
  VIR_ERR_OPERATION_ABORTED: 'operation aborted: ',
  VIR_ERR_OPERATION_UNSUPPORTED: 'Operation not supported: ',
  VIR_ERR_SYSTEM_ERROR: '',
  VIR_ERR_XML_DETAIL: '',
  VIR_ERR_RPC: '',
};

/**
 * An error the simulated daemon reports to its client: every field of
 * libvirt's remote_error, filled the way libvirtd fills them (level ERROR,
 * `str1` the format, `str2` the detail, `int1`/`int2` -1).
 */
export class SimError extends Error {
  override name = 'SimError';
  constructor(
    readonly code: number,
    readonly domain: number,
    message: string,
    readonly str1: string | null,
    readonly str2: string | null,
    readonly dom: RemoteNonnullDomain | null = null,
  ) {
    super(message);
  }

  /**
   * The remote_error a REPLY with status ERROR carries. Every string is cut
   * to the protocol's string bound: a detail quoting a client's 4 MiB
   * argument must still make an error that encodes (libvirtd, whose messages
   * are unbounded, fails to send such an error and drops the client).
   */
  toWire(): VirNetMessageError {
    return {
      code: this.code,
      domain: this.domain,
      message: boundString(this.message),
      level: VirErrorLevel.VIR_ERR_ERROR,
      dom: this.dom && { ...this.dom, name: boundString(this.dom.name) },
      str1: this.str1 === null ? null : boundString(this.str1),
      str2: this.str2 === null ? null : boundString(this.str2),
      str3: null,
      int1: -1,
      int2: -1,
      net: null,
    };
  }
}

/** What ends a string that was cut short. */
export const TRUNCATED = '… (truncated)';

/**
 * `s` if its UTF-8 form fits `maxBytes` (default: the protocol's string
 * bound), else its longest prefix that fits together with TRUNCATED, cut
 * between two characters.
 */
export function boundString(s: string, maxBytes: number = VIR_NET_MESSAGE_STRING_MAX): string {
  // Each UTF-16 unit is at most 3 UTF-8 bytes: short strings need no measuring.
  if (s.length * 3 <= maxBytes || Buffer.byteLength(s, 'utf8') <= maxBytes) return s;
  const room = maxBytes - Buffer.byteLength(TRUNCATED, 'utf8');
  const bytes = Buffer.from(s, 'utf8');
  let end = Math.max(0, room);
  // Back up to the start of a character (continuation bytes are 10xxxxxx).
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8') + TRUNCATED;
}

/** A libvirt error with the usual "<prefix><detail>" message. */
export function libvirtError(code: Code, from: From, detail: string): SimError {
  const prefix = PREFIX[code] ?? '';
  return new SimError(
    VirErrorNumber[code],
    VirErrorDomain[from],
    prefix + detail,
    `${prefix}%s`,
    detail,
  );
}

// The error domain of each check follows what libvirtd 9.0 with QEMU answered
// in the cross-check: state checks shared by drivers come from VIR_FROM_DOMAIN,
// the QEMU driver's own checks from VIR_FROM_QEMU.

export const notRunning = (): SimError =>
  libvirtError('VIR_ERR_OPERATION_INVALID', 'VIR_FROM_DOMAIN', 'domain is not running');
export const alreadyRunning = (): SimError =>
  libvirtError('VIR_ERR_OPERATION_INVALID', 'VIR_FROM_QEMU', 'domain is already running');
export const invalidOperation = (detail: string): SimError =>
  libvirtError('VIR_ERR_OPERATION_INVALID', 'VIR_FROM_QEMU', detail);
export const operationFailed = (detail: string, from: From = 'VIR_FROM_QEMU'): SimError =>
  libvirtError('VIR_ERR_OPERATION_FAILED', from, detail);
export const internalError = (detail: string, from: From = 'VIR_FROM_QEMU'): SimError =>
  libvirtError('VIR_ERR_INTERNAL_ERROR', from, detail);
export const invalidArg = (detail: string): SimError =>
  libvirtError('VIR_ERR_INVALID_ARG', 'VIR_FROM_QEMU', detail);
export const noDomain = (detail: string): SimError =>
  libvirtError('VIR_ERR_NO_DOMAIN', 'VIR_FROM_QEMU', detail);
/** A call's domain argument names no domain of this host (libvirt looks it up by UUID). */
export const noDomainForArg = (uuid: string, name: string): SimError =>
  noDomain(`no domain with matching uuid '${uuid}' (${name})`);
export const rpcError = (message: string): SimError =>
  libvirtError('VIR_ERR_RPC', 'VIR_FROM_RPC', message);

/** virCheckFlags' error: the flags outside `allowed`, named in hex, and the driver function. */
export function checkFlags(flags: number | bigint, allowed: number, fn: string): void {
  const f = BigInt(flags);
  const extra = f & ~BigInt(allowed);
  if (extra === 0n) return;
  throw new SimError(
    VirErrorNumber.VIR_ERR_INVALID_ARG,
    VirErrorDomain.VIR_FROM_QEMU,
    `unsupported flags (0x${extra.toString(16)}) in function ${fn}`,
    fn,
    'flags',
  );
}
