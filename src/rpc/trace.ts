/**
 * Protocol trace lines, one per RPC message, with programs and procedures by
 * name: `virtwire: -> CALL remote.DOMAIN_LOOKUP_BY_NAME(23) serial=7 OK 36 bytes`.
 *
 * The RPC client publishes every message on `virtwire:rpc:message`; the
 * lines come from one subscriber of that channel (`subscribeDebugLog`),
 * which NODE_DEBUG=virtwire installs writing to stderr and the CLI's
 * --debug installs writing to its own error stream.
 */
import {
  type ConnectionCloseMessage,
  connectionCloseChannel,
  messageChannel,
  type RpcWireMessage,
} from '../diagnostics.js';
import { adminProgram } from '../generated/admin.js';
import { keepaliveProgram } from '../generated/keepalive.js';
import { lxcProgram } from '../generated/lxc.js';
import { qemuProgram } from '../generated/qemu.js';
import { remoteProgram } from '../generated/remote.js';
import {
  decodeVirNetMessageError,
  decodeVirNetMessageHeader,
  VIR_NET_MESSAGE_HEADER_MAX,
  VIR_NET_MESSAGE_LEN_MAX,
  VirNetMessageStatus,
  VirNetMessageType,
} from '../generated/virnet.js';
import { XdrReader } from '../xdr/reader.js';
import { errorCodeName } from './errors.js';

/** libvirt's enum member names without the `VIR_NET_` prefix, by value. */
function names(e: Readonly<Record<string, number>>): Map<number, string> {
  return new Map(Object.entries(e).map(([k, v]) => [v, k.replace(/^VIR_NET_/, '')]));
}
const TYPES = names(VirNetMessageType);
const STATUS = names(VirNetMessageStatus);

/** `CALL`, `REPLY`, ... for a message type; undefined for one libvirt does not define. */
export const messageTypeName = (type: number): string | undefined => TYPES.get(type);
/** `OK`, `ERROR` or `CONTINUE`; undefined for a status libvirt does not define. */
export const messageStatusName = (status: number): string | undefined => STATUS.get(status);

interface ProgramNames {
  readonly name: string;
  readonly procs: ReadonlyMap<number, string>;
}
let programs: ReadonlyMap<number, ProgramNames> | null = null;

/** Every generated program's procedure names by number, built on the first line that needs them. */
function programNames(): ReadonlyMap<number, ProgramNames> {
  programs ??= new Map(
    [remoteProgram, qemuProgram, lxcProgram, adminProgram, keepaliveProgram].map((p) => [
      p.program,
      { name: p.name, procs: new Map(p.procedures.map((x) => [x.number, x.name])) },
    ]),
  );
  return programs;
}

/** The header fields a trace line shows. */
export interface TracedHeader {
  readonly prog: number;
  readonly vers?: number;
  readonly proc: number;
  readonly type: number;
  readonly serial: number;
  readonly status: number;
}

/**
 * One trace line: direction, type, `program.PROCEDURE(number)`, serial,
 * status, size; for an error reply also libvirt's error name.
 */
export function describeMessage(
  direction: 'send' | 'recv',
  h: TracedHeader,
  size: number,
  errorName?: string,
): string {
  const p = programNames().get(h.prog);
  const where = p
    ? `${p.name}.${p.procs.get(h.proc) ?? '?'}(${h.proc})`
    : `0x${h.prog.toString(16)}.${h.proc}`;
  const type = TYPES.get(h.type) ?? `type${h.type}`;
  const status = STATUS.get(h.status) ?? `status${h.status}`;
  const arrow = direction === 'send' ? '->' : '<-';
  const err = errorName ? ` ${errorName}` : '';
  return `virtwire: ${arrow} ${type} ${where} serial=${h.serial} ${status}${err} ${size} bytes`;
}

/** True when a message of this type and status carries a virNetMessageError. */
export function carriesError(type: number, status: number): boolean {
  return (
    status === VirNetMessageStatus.VIR_NET_ERROR &&
    (type === VirNetMessageType.VIR_NET_REPLY || type === VirNetMessageType.VIR_NET_STREAM)
  );
}

/** libvirt's error name in a whole message (length word included) that carries an error. */
export function errorCodeOf(msg: Uint8Array): string {
  try {
    const r = new XdrReader(msg, VIR_NET_MESSAGE_LEN_MAX + VIR_NET_MESSAGE_HEADER_MAX, msg.length);
    return errorCodeName(decodeVirNetMessageError(r).code);
  } catch {
    return '(undecodable error)';
  }
}

/** Decodes one whole message (length word included) into a trace line. */
export function traceLine(direction: 'send' | 'recv', msg: Uint8Array): string {
  const h = decodeVirNetMessageHeader(new XdrReader(msg, VIR_NET_MESSAGE_LEN_MAX, msg.length));
  const err = carriesError(h.type, h.status) ? errorCodeOf(msg) : undefined;
  return describeMessage(direction, h, msg.length, err);
}

/** True when NODE_DEBUG names virtwire (comma or space separated, `*` wildcards, as Node matches). */
export function nodeDebugEnabled(env: NodeJS.ProcessEnv): boolean {
  const v = env.NODE_DEBUG;
  if (!v) return false;
  return v
    .split(/[\s,]+/)
    .filter(Boolean)
    .some((pat) =>
      new RegExp(`^${pat.replace(/[|\\{}()[\]^$+?.]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i').test(
        'virtwire',
      ),
    );
}

/**
 * Writes a trace line for every message on every connection, and a line
 * for a connection that ends with an error, until the returned function is
 * called.
 */
export function subscribeDebugLog(write: (line: string) => void): () => void {
  const onMessage = (m: unknown): void => {
    const w = m as RpcWireMessage;
    write(describeMessage(w.direction, w, w.size, w.errorCode));
  };
  const onClose = (m: unknown): void => {
    const c = m as ConnectionCloseMessage;
    if (c.error) write(`virtwire: (connection closed: ${c.reason}: ${c.error.message})`);
  };
  messageChannel.subscribe(onMessage);
  connectionCloseChannel.subscribe(onClose);
  return () => {
    messageChannel.unsubscribe(onMessage);
    connectionCloseChannel.unsubscribe(onClose);
  };
}

let nodeDebug: boolean | undefined;

/**
 * Whether NODE_DEBUG=virtwire traces to stderr. Read once, when the first
 * connection starts (as Node's debuglog reads it once), which also installs
 * the subscriber.
 */
export function nodeDebugLogging(): boolean {
  if (nodeDebug === undefined) {
    nodeDebug = nodeDebugEnabled(process.env);
    if (nodeDebug) subscribeDebugLog((line) => process.stderr.write(`${line}\n`));
  }
  return nodeDebug;
}
