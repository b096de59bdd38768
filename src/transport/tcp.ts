import type { Socket } from 'node:net';
import { RAW_DATA, type RawDataSource } from '../rpc/raw.js';
import { connectSocket } from './socket.js';
import type { Transport } from './types.js';

/** Bytes read per `onread` call: large enough for a 256 KiB stream packet in four reads. */
const READ_BUFFER = 64 * 1024;

/**
 * Plain TCP, port 16509 unless the URI says otherwise. The socket reads into
 * one reused buffer (`onread`) and hands the bytes to the RPC client's hook:
 * a bulk transfer then allocates nothing per read (with the Readable stream,
 * every read is a fresh 64 KiB buffer and large downloads churn the GC).
 */
export const tcpTransport: Transport = async (uri, opts) => {
  const host = uri.host ?? 'localhost';
  const port = uri.port ?? 16509;
  let sock: (Socket & RawDataSource) | null = null;
  // Bytes that arrive before the client attaches its hook are kept (copied) and replayed.
  const early: Buffer[] = [];
  const onread = {
    buffer: Buffer.allocUnsafe(READ_BUFFER),
    callback: (n: number, buf: Buffer): boolean => {
      const hook = sock?.[RAW_DATA];
      if (hook) {
        while (early.length) hook(early.shift()!);
        hook(buf.subarray(0, n));
      } else {
        early.push(Buffer.from(buf.subarray(0, n)));
      }
      return true;
    },
  };
  sock = await connectSocket({ host, port, onread }, `${host}:${port}`, opts.signal);
  sock.setNoDelay(true);
  const s = sock;
  // When the client attaches, replay anything that came first.
  let hook: ((chunk: Uint8Array) => void) | undefined;
  Object.defineProperty(s, RAW_DATA, {
    configurable: true,
    get: () => hook,
    set: (fn: ((chunk: Uint8Array) => void) | undefined) => {
      hook = fn;
      if (fn) while (early.length) fn(early.shift()!);
    },
  });
  return s;
};
