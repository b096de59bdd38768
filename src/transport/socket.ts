import { connect, type NetConnectOpts, type Socket } from 'node:net';
import { DuplexChannel } from '../channel.js';
import { AbortError } from '../errors.js';
import { TransportError } from './errors.js';

/** The socket's own read buffer, for reads the channel's sink does not place (and before it opens). */
const READ_BUFFER = 64 * 1024;

/** Opens a net.Socket and resolves once connected; honours an AbortSignal. */
export function connectSocket(
  opts: NetConnectOpts,
  what: string,
  signal?: AbortSignal,
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AbortError(`connecting to ${what} aborted`, { cause: signal.reason }));
      return;
    }
    const sock = connect(opts);
    const onAbort = (): void => {
      sock.destroy();
      reject(new AbortError(`connecting to ${what} aborted`, { cause: signal?.reason }));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    sock.once('connect', () => {
      signal?.removeEventListener('abort', onAbort);
      sock.off('error', onError);
      resolve(sock);
    });
    const onError = (err: Error): void => {
      signal?.removeEventListener('abort', onAbort);
      reject(new TransportError(`cannot connect to ${what}: ${err.message}`, { cause: err }));
    };
    sock.once('error', onError);
  });
}

/**
 * Connects a net.Socket (tcp or unix) as a Channel that reads with `onread`:
 * each read goes into the memory the channel's sink asks for (the RPC
 * framer's buffers, so a stream packet lands where it is consumed, with no
 * copy in between) or else one reused buffer of the socket's own, and no
 * Readable stream or per-read allocation is involved. Bytes that arrive
 * before the channel exists are copied and handed to it first.
 */
export async function connectChannel(
  opts: NetConnectOpts,
  what: string,
  signal?: AbortSignal,
): Promise<{ socket: Socket; channel: DuplexChannel }> {
  const own = Buffer.allocUnsafe(READ_BUFFER);
  let channel: DuplexChannel | null = null;
  const early: Buffer[] = [];
  const onread = {
    buffer: (): Uint8Array => (channel ? channel.readTarget(own) : own),
    callback: (n: number, buf: Uint8Array): boolean => {
      if (channel) channel.receive(buf.subarray(0, n));
      else early.push(Buffer.from(buf.subarray(0, n)));
      return true;
    },
  };
  const socket = await connectSocket({ ...opts, onread }, what, signal);
  const ch = new DuplexChannel(socket, { external: true });
  for (const chunk of early.splice(0)) ch.receive(chunk);
  channel = ch;
  return { socket, channel: ch };
}
