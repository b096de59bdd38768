import { DuplexChannel } from '../channel.js';
import { connectSocket } from './socket.js';
import type { ChannelTransport } from './types.js';

/** Bytes read per `onread` call: a whole 256 KiB stream packet (with its header) in one read. */
const READ_BUFFER = 256 * 1024 + 1024;

/**
 * The one buffer every TCP connection of the process reads into. Safe to
 * share: libuv fills it and calls `onread` synchronously for one socket at
 * a time, and the channel only lends the bytes to its sink for the duration
 * of that call (the framer copies what it keeps). One per connection would
 * reserve 64 KiB each: 640 MiB for 10,000 idle connections.
 */
let shared: Buffer | null = null;

/**
 * Plain TCP, port 16509 unless the URI says otherwise. The socket reads into
 * the shared buffer (`onread`) and the channel lends those bytes to its sink:
 * a bulk transfer then allocates nothing per read (with the Readable stream,
 * every read is a fresh 64 KiB buffer and large downloads churn the GC).
 */
export const tcpTransport: ChannelTransport = async (uri, opts) => {
  const host = uri.host ?? 'localhost';
  const port = uri.port ?? 16509;
  let channel: DuplexChannel | null = null;
  // Bytes that arrive before the channel exists are kept (copied) and handed to it first.
  const early: Buffer[] = [];
  shared ??= Buffer.allocUnsafe(READ_BUFFER);
  const onread = {
    buffer: shared,
    callback: (n: number, buf: Buffer): boolean => {
      if (channel) channel.receive(buf.subarray(0, n));
      else early.push(Buffer.from(buf.subarray(0, n)));
      return true;
    },
  };
  const sock = await connectSocket({ host, port, onread }, `${host}:${port}`, opts.signal);
  sock.setNoDelay(true);
  const ch = new DuplexChannel(sock, { external: true });
  for (const chunk of early.splice(0)) ch.receive(chunk);
  channel = ch;
  return ch;
};
