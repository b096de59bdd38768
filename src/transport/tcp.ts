import { connectSocket } from './socket.js';
import type { Transport } from './types.js';

/** Plain TCP, port 16509 unless the URI says otherwise. */
export const tcpTransport: Transport = async (uri, opts) => {
  const host = uri.host ?? 'localhost';
  const port = uri.port ?? 16509;
  const sock = await connectSocket({ host, port }, `${host}:${port}`, opts.signal);
  sock.setNoDelay(true);
  return sock;
};
