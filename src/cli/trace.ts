/**
 * Protocol tracing for the CLI (`--debug` or NODE_DEBUG=virtwire): every RPC
 * message in either direction, one line each on stderr, with the program and
 * procedure by name, in the RPC client's own trace format. With --debug it taps
 * the transport's byte stream (the same framer and header codec as the RPC
 * client); with NODE_DEBUG=virtwire the RPC client prints the lines itself.
 */
import type { Duplex } from 'node:stream';
import { adminProgram } from '../generated/admin.js';
import { keepaliveProgram } from '../generated/keepalive.js';
import { lxcProgram } from '../generated/lxc.js';
import { qemuProgram } from '../generated/qemu.js';
import { remoteProgram } from '../generated/remote.js';
import { decodeVirNetMessageError, decodeVirNetMessageHeader } from '../generated/virnet.js';
import { RemoteError } from '../rpc/errors.js';
import { Framer, LENGTH_WORD } from '../rpc/framer.js';
import { RAW_DATA, type RawDataSource } from '../rpc/raw.js';
import { describeMessage, nodeDebugEnabled, registerProgramNames } from '../rpc/trace.js';
import type { Transport } from '../transport/types.js';
import { XdrReader } from '../xdr/reader.js';

for (const p of [remoteProgram, qemuProgram, lxcProgram, adminProgram, keepaliveProgram]) {
  registerProgramNames(p);
}

export { describeMessage, nodeDebugEnabled };

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
