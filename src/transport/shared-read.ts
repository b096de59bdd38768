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
 * The one buffer every socket connection of the process (tcp and unix) reads
 * into. Safe to share: libuv fills it and calls `onread` synchronously for one
 * socket at a time, and the channel only lends the bytes to its sink for the
 * duration of that call (the framer copies what it keeps). One per connection
 * would reserve a megabyte each: 10 GiB for 10,000 idle connections.
 */
let shared: Buffer | null = null;

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
  const socket = await connectSocket({ ...opts, onread }, what, signal);
  const ch = new DuplexChannel(socket, { external: true });
  for (const chunk of early.splice(0)) ch.receive(chunk);
  channel = ch;
  return { channel: ch, socket };
}
