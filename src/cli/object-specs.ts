/**
 * The objects of `virtwire <object> <method> [args]`: each CLI word, the handle
 * class whose generated methods it reaches, and what names one object (read
 * before the method's own arguments). Data only, so that --help loads no
 * library code; object-command.ts does the rest.
 */

export interface ObjectSpec {
  /** The CLI word: `domain`, `pool`... */
  readonly name: string;
  /** The handle class: `Domain`, `StoragePool`... */
  readonly cls: string;
  /** The arguments naming the object, e.g. ['DOMAIN', 'SNAPSHOT']; none for the connection. */
  readonly identity: readonly string[];
  /** Methods of the class under this word only, and the prefix the word stands for (`node`). */
  readonly prefix?: string;
  readonly description: string;
  /** Reached through a daemon's admin socket (--admin-socket), not the connection's URI. */
  readonly admin?: true;
}

export const OBJECT_SPECS: readonly ObjectSpec[] = [
  {
    name: 'connection',
    cls: 'Connection',
    identity: [],
    description: "the connection's methods (getHostname, listAllDomains, getCapabilities...)",
  },
  {
    name: 'node',
    cls: 'Connection',
    identity: [],
    prefix: 'node',
    description: "the host's methods: node getInfo is the connection's nodeGetInfo",
  },
  { name: 'domain', cls: 'Domain', identity: ['DOMAIN'], description: "a domain's methods" },
  {
    name: 'snapshot',
    cls: 'DomainSnapshot',
    identity: ['DOMAIN', 'SNAPSHOT'],
    description: "a domain snapshot's methods",
  },
  {
    name: 'checkpoint',
    cls: 'DomainCheckpoint',
    identity: ['DOMAIN', 'CHECKPOINT'],
    description: "a domain checkpoint's methods",
  },
  { name: 'network', cls: 'Network', identity: ['NETWORK'], description: "a network's methods" },
  {
    name: 'network-port',
    cls: 'NetworkPort',
    identity: ['NETWORK', 'PORT-UUID'],
    description: "a network port's methods",
  },
  { name: 'pool', cls: 'StoragePool', identity: ['POOL'], description: "a storage pool's methods" },
  {
    name: 'vol',
    cls: 'StorageVol',
    identity: ['VOL'],
    description: "a storage volume's methods (VOL: POOL/NAME, a path or a key)",
  },
  {
    name: 'nodedev',
    cls: 'NodeDevice',
    identity: ['DEVICE'],
    description: "a host device's methods",
  },
  { name: 'secret', cls: 'Secret', identity: ['SECRET-UUID'], description: "a secret's methods" },
  {
    name: 'nwfilter',
    cls: 'NWFilter',
    identity: ['NWFILTER'],
    description: "a network filter's methods",
  },
  {
    name: 'nwfilter-binding',
    cls: 'NWFilterBinding',
    identity: ['PORT-DEV'],
    description: "a network filter binding's methods",
  },
  {
    name: 'interface',
    cls: 'Interface',
    identity: ['INTERFACE'],
    description: "a host interface's methods (by name or MAC)",
  },
  {
    name: 'admin',
    cls: 'AdminConnection',
    identity: [],
    admin: true,
    description: "a daemon's admin interface (servers, logging), over its admin socket",
  },
  {
    name: 'server',
    cls: 'AdminServer',
    identity: ['SERVER'],
    admin: true,
    description: "a daemon server's methods (libvirtd, admin...), over the admin socket",
  },
  {
    name: 'client',
    cls: 'AdminClient',
    identity: ['SERVER', 'CLIENT-ID'],
    admin: true,
    description: "a connected client's methods (by its server and id), over the admin socket",
  },
];

/** Edit distance, for "did you mean". */
export function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** The names closest to `name` (case aside), nearest first. */
export function nearest(name: string, names: readonly string[], max = 3): string[] {
  const n = name.toLowerCase();
  return names
    .map((x) => ({ x, d: x.toLowerCase().includes(n) ? 1 : distance(n, x.toLowerCase()) }))
    .filter((c) => c.d <= Math.max(2, Math.floor(n.length / 3)))
    .sort((a, b) => a.d - b.d || (a.x < b.x ? -1 : 1))
    .slice(0, max)
    .map((c) => c.x);
}

/** The commands nearest an unknown one, for "did you mean". */
export const nearestCommands = (name: string, commands: readonly string[]): string[] =>
  nearest(name, commands);
