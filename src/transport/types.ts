import type { Duplex } from 'node:stream';
import type { AuthOption } from '../auth/credentials.js';
import type { Channel } from '../channel.js';
import type { LibvirtUri } from '../uri/index.js';

/** What a transport needs besides the URI. */
export interface TransportOptions {
  /** Open the read-only socket / ask the helper for read-only access. */
  readonly readonly: boolean;
  readonly signal?: AbortSignal | undefined;
  /** Environment used to find sockets, keys and certificates (default: process.env). */
  readonly env?: NodeJS.ProcessEnv | undefined;
  /** Credentials for the in-process SSH transports' password, keyboard-interactive and key passphrase. */
  readonly auth?: AuthOption | undefined;
}

/**
 * A transport turns a parsed URI into a connected channel; the RPC layer
 * never knows which. One written for tests or tunnels may resolve with a
 * Node Duplex instead, which is adapted (see `duplexChannel`).
 */
export type Transport = (uri: LibvirtUri, opts: TransportOptions) => Promise<Channel | Duplex>;

/** What the built-in transports are: they resolve with a Channel. */
export type ChannelTransport = (uri: LibvirtUri, opts: TransportOptions) => Promise<Channel>;
