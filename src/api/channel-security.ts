/**
 * What libvirt's client knows of its own channel when it answers virConnectIsSecure and
 * virConnectIsEncrypted: the daemon's CONNECT_IS_SECURE reply only says whether the driver
 * behind it is secure; the client adds what it knows of the path to the daemon.
 */
import type { TransportName } from '../uri/index.js';

export interface ChannelSecurity {
  /** TLS, a local socket, SSH, or a SASL security layer: nobody on the way can read or alter. */
  readonly secure: boolean;
  /** TLS or a SASL security layer: the bytes on the wire are encrypted by virtwire itself. */
  readonly encrypted: boolean;
}

const SECURE_TRANSPORTS: ReadonlySet<TransportName> = new Set([
  'tls',
  'unix',
  'ssh',
  'libssh',
  'libssh2',
]);

/**
 * The channel's security, as libvirt's remote driver judges it: an ext command proves nothing,
 * plain TCP is open unless SASL put a security layer on it (`auth` is `sasl.<MECHANISM>` and
 * the transport is not secure by itself, which is exactly when connect() asks SASL for one).
 */
export function channelSecurity(transport: TransportName, auth: string): ChannelSecurity {
  const byTransport = SECURE_TRANSPORTS.has(transport);
  const saslLayer = auth.startsWith('sasl.') && !byTransport;
  return { secure: byTransport || saslLayer, encrypted: transport === 'tls' || saslLayer };
}
