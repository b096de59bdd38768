import { operationFailed } from '../errors.js';
import type { SimDomain, SimHost } from '../host.js';
import { attr, child, parseXml, textOf } from '../xml.js';

// Migration cookies are opaque to clients; like libvirt's they are a small XML document.

/** What one side of a migration tells the other through the client. */
export interface Cookie {
  /** The host that wrote the cookie. */
  readonly hostname: string;
  readonly hostUuid: string;
  /** The guest being migrated. */
  readonly name: string;
  readonly uuid: string;
  /** The destination's incoming migration, by its id on the network both hosts are on. */
  readonly incoming?: string;
}

export function encodeCookie(c: Cookie): Uint8Array {
  const inc = c.incoming ? `  <virtwire-incoming id='${c.incoming}'/>\n` : '';
  const xml =
    `<qemu-migration>\n  <name>${c.name.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</name>\n` +
    `  <uuid>${c.uuid}</uuid>\n  <hostname>${c.hostname}</hostname>\n  <hostuuid>${c.hostUuid}</hostuuid>\n${inc}</qemu-migration>\n`;
  return new TextEncoder().encode(xml);
}

export function decodeCookie(b: Uint8Array): Cookie | null {
  if (b.length === 0) return null;
  let root: ReturnType<typeof parseXml>;
  try {
    root = parseXml(new TextDecoder().decode(b).replace(/\0+$/, ''));
  } catch {
    throw operationFailed('the migration cookie is not one this host understands');
  }
  const text = (n: string) => {
    const e = child(root, n);
    return e ? textOf(e).trim() : '';
  };
  const inc = child(root, 'virtwire-incoming');
  const id = inc ? attr(inc, 'id') : undefined;
  return {
    hostname: text('hostname'),
    hostUuid: text('hostuuid'),
    name: text('name'),
    uuid: text('uuid'),
    ...(id ? { incoming: id } : {}),
  };
}

/** The cookie `host` writes about `d` (naming the incoming migration when there is one). */
export function cookieFor(host: SimHost, d: SimDomain, incomingId?: string): Uint8Array {
  return encodeCookie({
    hostname: host.hostname,
    hostUuid: host.hostUuid,
    name: d.name,
    uuid: d.uuid,
    ...(incomingId ? { incoming: incomingId } : {}),
  });
}
