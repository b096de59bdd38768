import { connectChannel } from './socket.js';
import type { ChannelTransport } from './types.js';

/**
 * Plain TCP, port 16509 unless the URI says otherwise. The socket reads with
 * `onread` into the RPC layer's own buffers (see connectChannel): a bulk
 * transfer allocates nothing per read and copies nothing between the socket
 * and the stream's consumer.
 */
export const tcpTransport: ChannelTransport = async (uri, opts) => {
  const host = uri.host ?? 'localhost';
  const port = uri.port ?? 16509;
  const { socket, channel } = await connectChannel({ host, port }, `${host}:${port}`, opts.signal);
  socket.setNoDelay(true);
  return channel;
};
