import type { NetConnectOpts, Socket } from 'node:net';
import { DuplexChannel } from '../channel.js';
import { connectSocket } from './socket.js';

/**
 * Bytes read per `onread` call. A stream packet is 262,148 bytes with its
 * length word and header; with room for one only, nearly every packet of a
 * download straddled two reads and was first assembled by the framer, then
 * copied again into the stream's queue. With four, most packets lie whole in
 * one read and are handed on as views: a 256 MiB download to /dev/null spent
 * about 12% less CPU and 8% less time (bench/stream.ts, host A's libvirt 9.0).
 */
export const READ_BUFFER = 1024 * 1024;

/**
 * The one buffer every socket connection of the process (tcp, unix, tls)
 * reads into. Safe to share: libuv (or the TLS layer, for decrypted bytes)
 * fills it and calls `onread` synchronously for one socket at a time, and the
 * channel only lends the bytes to its sink for the duration of that call (the
 * framer copies what it keeps). One per connection would reserve a megabyte
 * each: 10 GiB for 10,000 idle connections.
 */
let shared: Buffer | null = null;

/**
 * Hands a socket's reads from the shared buffer to a channel: pass `onread`
 * to the socket's connect options, then `attach` the connected socket. Bytes
 * read before that are kept (copied) and delivered first. With `first`, the
 * first byte read goes to it instead, once (the TLS server's verdict).
 */
export class SharedReader {
  private channel: DuplexChannel | null = null;
  private early: Buffer[] | null = [];
  readonly onread: { readonly buffer: Buffer; callback(n: number, buf: Buffer): boolean };

  constructor(private first: ((byte: number) => void) | null = null) {
    shared ??= Buffer.allocUnsafe(READ_BUFFER);
    this.onread = { buffer: shared, callback: (n, buf) => this.read(n, buf) };
  }

  private read(n: number, buf: Buffer): boolean {
    let at = 0;
    if (this.first !== null && n > 0) {
      const first = this.first;
      this.first = null;
      at = 1;
      first(buf[0]!);
    }
    if (at >= n) return true;
    if (this.channel) this.channel.receive(buf.subarray(at, n));
    else this.early?.push(Buffer.from(buf.subarray(at, n)));
    return true;
  }

  /** The channel over the connected socket, with what was read before it. */
  attach(socket: Socket): DuplexChannel {
    const ch = new DuplexChannel(socket, { external: true });
    for (const chunk of this.early ?? []) ch.receive(chunk);
    this.early = null;
    this.channel = ch;
    return ch;
  }
}

/**
 * Connects a net.Socket that reads into the shared buffer (`onread`) and
 * wraps it in a channel that lends those bytes to its sink: a bulk transfer
 * allocates nothing per read (with the Readable stream, every read is a fresh
 * 64 KiB buffer and large downloads churn the GC).
 */
export async function connectSharedRead(
  opts: NetConnectOpts,
  what: string,
  signal?: AbortSignal,
): Promise<{ channel: DuplexChannel; socket: Socket }> {
  const reader = new SharedReader();
  const socket = await connectSocket({ ...opts, onread: reader.onread }, what, signal);
  return { channel: reader.attach(socket), socket };
}
