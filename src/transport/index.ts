import { localSocketPath } from '../uri/index.js';
import { extTransport } from './ext.js';
import { libsshTransport } from './libssh.js';
import { connectSocket, TransportError } from './socket.js';
import { sshTransport } from './ssh.js';
import { tcpTransport } from './tcp.js';
import { tlsTransport } from './tls.js';
import type { Transport } from './types.js';

export { TransportError } from './socket.js';
export type { Transport, TransportOptions } from './types.js';

/** Local unix socket, chosen as libvirt's client chooses it (socket=, mode=, read-only, session). */
export const unixTransport: Transport = async (uri, opts) => {
  const env = opts.env ?? process.env;
  const { path } = localSocketPath(
    uri,
    {
      uid: process.getuid?.() ?? 0,
      XDG_RUNTIME_DIR: env.XDG_RUNTIME_DIR,
      XDG_CACHE_HOME: env.XDG_CACHE_HOME,
      HOME: env.HOME,
    },
    (p) => existsSync(p),
    { readonly: opts.readonly },
  );
  return connectSocket({ path }, path, opts.signal);
};

const transports: Partial<Record<string, Transport>> = {
  unix: unixTransport,
  tcp: tcpTransport,
  tls: tlsTransport,
  ssh: sshTransport,
  libssh: libsshTransport,
  libssh2: libsshTransport,
  ext: extTransport,
};

/** Opens the transport the URI names. */
export const openTransport: Transport = (uri, opts) => {
  const t = transports[uri.transport];
  if (!t) {
    return Promise.reject(
      new TransportError(`transport ${uri.transport} is not available in this build`),
    );
  }
  return t(uri, opts);
};

import { existsSync } from 'node:fs';
