import { connectSharedRead } from './shared-read.js';
import type { ChannelTransport } from './types.js';

/** Plain TCP, port 16509 unless the URI says otherwise; reads into the shared buffer. */
export const tcpTransport: ChannelTransport = async (uri, opts) => {
  const host = uri.host ?? 'localhost';
  const port = uri.port ?? 16509;
  const { channel, socket } = await connectSharedRead(
    { host, port },
    `${host}:${port}`,
    opts.signal,
  );
  socket.setNoDelay(true);
  return channel;
};
