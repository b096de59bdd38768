/** libvirt connection URIs: parsing, the name sent to the daemon, local socket choice. */
export { inProcessDriver, parseUri } from './parse.js';
export { displayUri, REDACTED, redactUri, URI_DISPLAY_MAX } from './redact.js';
export {
  inferFallbackMode,
  isSessionConnection,
  localSocketPath,
  type SocketChoice,
  type SocketEnv,
  type SocketOptions,
  sshProxyMode,
  userRuntimeDirectory,
} from './sockets.js';
export {
  type KnownHostsVerify,
  LIBSSH_DEFAULT_PORT,
  LIBSSH_DEFAULT_USER,
  LIBVIRTD_TCP_PORT,
  LIBVIRTD_TLS_PORT,
  type LibvirtUri,
  type ParseOptions,
  type ProxyMode,
  type RemoteMode,
  type RemoteParams,
  TRANSPORTS,
  type TransportName,
  UriError,
} from './types.js';
