import { existsSync } from 'node:fs';
import { localSocketPath } from '../uri/index.js';
import { TransportError } from './errors.js';
import { extTransport } from './ext.js';
import { libsshTransport } from './libssh.js';
import { connectSharedRead } from './shared-read.js';
import { sshTransport } from './ssh.js';
import { tcpTransport } from './tcp.js';
import { tlsTransport } from './tls.js';
import type { ChannelTransport } from './types.js';

export {
  ChildExitError,
  SshAuthError,
  SshHostKeyError,
  type TlsFailure,
  TlsVerificationError,
  TransportError,
} from './errors.js';
export type { ChannelTransport, Transport, TransportOptions } from './types.js';

/** Local unix socket, chosen as libvirt's client chooses it (socket=, mode=, read-only, session). */
export const unixTransport: ChannelTransport = async (uri, opts) => {
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
  return (await connectSharedRead({ path }, path, opts.signal)).channel;
};

const transports: Partial<Record<string, ChannelTransport>> = {
  unix: unixTransport,
  tcp: tcpTransport,
  tls: tlsTransport,
  ssh: sshTransport,
  libssh: libsshTransport,
  libssh2: libsshTransport,
  ext: extTransport,
};

/** Opens the transport the URI names. */
export const openTransport: ChannelTransport = (uri, opts) => {
  const t = transports[uri.transport];
  if (!t) {
    return Promise.reject(
      new TransportError(`transport ${uri.transport} is not available in this build`),
    );
  }
  return t(uri, opts);
};
