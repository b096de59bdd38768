import { connect, type NetConnectOpts, type Socket } from 'node:net';
import { AbortError } from '../errors.js';
import { TransportError } from './errors.js';

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
