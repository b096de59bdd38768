/**
 * Protocol tracing for the CLI (`--debug` or NODE_DEBUG=virtwire): every RPC
 * message in either direction, one line each on stderr, with the program and
 * procedure by name. It taps the transport's byte stream (the same framer and
 * header codec as the RPC client), so the library itself needs no hook.
 */
import type { Duplex } from 'node:stream';
import { adminProgram } from '../generated/admin.js';
import { keepaliveProgram } from '../generated/keepalive.js';
import { lxcProgram } from '../generated/lxc.js';
import { qemuProgram } from '../generated/qemu.js';
import { remoteProgram } from '../generated/remote.js';
import {
  decodeVirNetMessageError,
  decodeVirNetMessageHeader,
  type VirNetMessageHeader,
} from '../generated/virnet.js';
import { RemoteError } from '../rpc/errors.js';
import { Framer, LENGTH_WORD } from '../rpc/framer.js';
import { RAW_DATA, type RawDataSource } from '../rpc/raw.js';
import type { Transport } from '../transport/types.js';
import { XdrReader } from '../xdr/reader.js';

const TYPES = [
  'CALL',
  'REPLY',
  'MESSAGE',
  'STREAM',
  'CALL_WITH_FDS',
  'REPLY_WITH_FDS',
  'STREAM_HOLE',
];
const STATUS = ['OK', 'ERROR', 'CONTINUE'];

const programs = new Map<number, { name: string; procs: Map<number, string> }>(
  [remoteProgram, qemuProgram, lxcProgram, adminProgram, keepaliveProgram].map((p) => [
    p.program,
    { name: p.name, procs: new Map(p.procedures.map((x) => [x.number, x.name])) },
  ]),
);

/** True when NODE_DEBUG names virtwire (comma or space separated, `*` wildcards as Node allows). */
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
 * One trace line: direction, type, `program.PROCEDURE(number)`, serial,
 * status, size; for an error reply also libvirt's error name.
 */
export function describeMessage(
  direction: 'send' | 'recv',
  h: VirNetMessageHeader,
  size: number,
  errorName?: string,
): string {
  const prog = programs.get(h.prog);
  const procName = prog?.procs.get(h.proc);
  const where = prog
    ? `${prog.name}.${procName ?? '?'}(${h.proc})`
    : `0x${h.prog.toString(16)}.${h.proc}`;
  const type = TYPES[h.type] ?? `type${h.type}`;
  const status = STATUS[h.status] ?? `status${h.status}`;
  const arrow = direction === 'send' ? '->' : '<-';
  const err = errorName ? ` ${errorName}` : '';
  return `virtwire: ${arrow} ${type} ${where} serial=${h.serial} ${status}${err} ${size} bytes`;
}

/** Decodes one whole message (length word included) into a trace line. */
export function traceLine(direction: 'send' | 'recv', msg: Uint8Array): string {
  const r = new XdrReader(msg, LENGTH_WORD, msg.length);
  const h = decodeVirNetMessageHeader(r);
  let errorName: string | undefined;
  if (h.status === 1 && (h.type === 1 || h.type === 3)) {
    try {
      errorName = new RemoteError(decodeVirNetMessageError(r), '').codeName;
    } catch {
      errorName = '(undecodable error)';
    }
  }
  return describeMessage(direction, h, msg.length, errorName);
}

/**
 * Watches both directions of `stream` and reports every message to `sink`.
 * Outgoing bytes are seen by wrapping `write`; incoming ones through the RPC
 * client's raw-data hook (tcp reads with `onread`) or 'data' events. When
 * authentication installs a SASL security layer, the bytes become ciphertext
 * and the trace stops, saying so.
 */
export function tapStream(stream: Duplex, sink: (line: string) => void): void {
  let stopped = false;
  const stop = (why: string): void => {
    if (stopped) return;
    stopped = true;
    sink(`virtwire: (trace stopped: ${why})`);
  };
  const framer = (direction: 'send' | 'recv'): Framer =>
    new Framer((msg) => {
      if (!stopped) sink(traceLine(direction, msg));
    });
  const out = framer('send');
  const incoming = framer('recv');
  const feed = (f: Framer, chunk: unknown): void => {
    if (stopped || !(chunk instanceof Uint8Array)) return;
    try {
      f.push(chunk);
    } catch (err) {
      stop((err as Error).message);
    }
  };

  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  (stream as unknown as { write: (...args: unknown[]) => boolean }).write = (...args) => {
    feed(out, args[0]);
    return write(...args);
  };

  // The RPC client sets RAW_DATA once when it starts; a second assignment is
  // its upgrade to a SASL security layer, after which the bytes are ciphertext.
  const src = stream as Duplex & RawDataSource;
  const own = Object.getOwnPropertyDescriptor(src, RAW_DATA);
  let current: ((chunk: Uint8Array) => void) | undefined = own?.get ? own.get() : own?.value;
  let sets = 0;
  let rawSeen = false;
  Object.defineProperty(src, RAW_DATA, {
    configurable: true,
    get: () => current,
    set: (fn: ((chunk: Uint8Array) => void) | undefined) => {
      sets++;
      if (sets > 1) stop('a SASL security layer encrypts the rest of the session');
      current = fn
        ? (chunk: Uint8Array) => {
            rawSeen = true;
            feed(incoming, chunk);
            fn(chunk);
          }
        : undefined;
      own?.set?.(current);
    },
  });
  stream.on('data', (chunk: unknown) => {
    if (!rawSeen) feed(incoming, chunk);
  });
}

/** A transport that opens `inner` and taps the resulting stream. */
export function tracingTransport(inner: Transport, sink: (line: string) => void): Transport {
  return async (uri, opts) => {
    const stream = await inner(uri, opts);
    tapStream(stream, sink);
    return stream;
  };
}
