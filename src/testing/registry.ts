import type { Transport } from '../transport/types.js';
import { parseUri } from '../uri/index.js';
import type { SimHost } from './host.js';

/** A started simulator, as the others in this process can reach it (peer-to-peer migration). */
export interface RegisteredHost {
  /** Every URI it answers to (tcp, unix, in-memory name). */
  readonly uris: readonly string[];
  readonly host: SimHost;
  /** An in-memory connection to it. */
  transport(): Transport;
}

const hosts = new Set<RegisteredHost>();

export function register(h: RegisteredHost): void {
  hosts.add(h);
}

export function unregister(h: RegisteredHost): void {
  hosts.delete(h);
}

/** Host, port, socket and path: what tells two URIs of one daemon apart. */
function key(uri: string): string | null {
  try {
    const u = parseUri(uri);
    return `${u.host ?? ''}|${u.port ?? ''}|${u.params.socket ?? ''}|${u.path}`;
  } catch {
    return null;
  }
}

/** The simulator a URI names: an exact match first, then the same host, port, socket and path. */
export function findByUri(uri: string): RegisteredHost | undefined {
  for (const h of hosts) if (h.uris.includes(uri)) return h;
  const k = key(uri);
  if (k === null) return undefined;
  for (const h of hosts) if (h.uris.some((u) => key(u) === k)) return h;
  return undefined;
}
