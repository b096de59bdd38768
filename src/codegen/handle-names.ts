/**
 * The naming rule of the generated handle API: which class a public C function belongs to and
 * what its method is called. One pure function over the whole table (see handleMethodName).
 */

/** An object type of libvirt's API and the handle class that stands for it. */
export interface HandleClass {
  /** The class name, e.g. `Domain`; the generated base is `${name}Base`. */
  readonly name: string;
  /** The C pointer type of the handle, e.g. `virDomainPtr`. */
  readonly cType: string;
  /** What the C names of its functions start with after `vir`, e.g. `Domain`, `AdmServer`. */
  readonly own: string;
  /** The wire identity struct, or null when the handle has none (connections, streams). */
  readonly wire: string | null;
  readonly program: 'remote' | 'admin';
}

const h = (
  name: string,
  own: string,
  wire: string | null,
  program: 'remote' | 'admin' = 'remote',
): HandleClass => ({ name, cType: `vir${own}Ptr`, own, wire, program });

/** Every handle class, by its C type. Order is the order of the generated file. */
export const HANDLE_CLASSES: readonly HandleClass[] = [
  h('Connection', 'Connect', null),
  h('Domain', 'Domain', 'remote_nonnull_domain'),
  h('DomainSnapshot', 'DomainSnapshot', 'remote_nonnull_domain_snapshot'),
  h('DomainCheckpoint', 'DomainCheckpoint', 'remote_nonnull_domain_checkpoint'),
  h('Network', 'Network', 'remote_nonnull_network'),
  h('NetworkPort', 'NetworkPort', 'remote_nonnull_network_port'),
  h('StoragePool', 'StoragePool', 'remote_nonnull_storage_pool'),
  h('StorageVol', 'StorageVol', 'remote_nonnull_storage_vol'),
  h('NodeDevice', 'NodeDevice', 'remote_nonnull_node_device'),
  h('Secret', 'Secret', 'remote_nonnull_secret'),
  h('NWFilter', 'NWFilter', 'remote_nonnull_nwfilter'),
  h('NWFilterBinding', 'NWFilterBinding', 'remote_nonnull_nwfilter_binding'),
  h('Interface', 'Interface', 'remote_nonnull_interface'),
  h('Stream', 'Stream', null),
  h('AdminConnection', 'AdmConnect', null, 'admin'),
  h('AdminServer', 'AdmServer', 'admin_nonnull_server', 'admin'),
  h('AdminClient', 'AdmClient', 'admin_nonnull_client', 'admin'),
];

const BY_CTYPE = new Map(HANDLE_CLASSES.map((c) => [c.cType, c]));

/**
 * Members a handle class has besides its generated methods (identity properties, the RPC
 * tables, lifecycle, JavaScript's own): a generated method may not take these names.
 */
const RESERVED_ALL = [
  // identity libvirt gives without a call
  'conn',
  'wire',
  'name',
  'uuid',
  'id',
  'key',
  'path',
  'usageID',
  'usageType',
  'mac',
  'domain',
  'network',
  'pool',
  'server',
  // JavaScript
  'constructor',
  'toString',
  'toJSON',
  'valueOf',
  'then',
];

/** A connection's own plumbing and lifecycle (hand-written side). */
const RESERVED_CONNECTION = [
  'remote',
  'qemu',
  'lxc',
  'admin',
  'rpc',
  'handles',
  'openStream',
  'events',
  'closed',
  'isOpen',
  'close',
];

/** The names a generated method of `cls` may not take. */
export function reservedMembers(cls: HandleClass): ReadonlySet<string> {
  const connection = cls.name === 'Connection' || cls.name === 'AdminConnection';
  return new Set(connection ? [...RESERVED_ALL, ...RESERVED_CONNECTION] : RESERVED_ALL);
}

/**
 * Lower-cases the leading run of capitals the camelCase way: a run followed by a lower-case
 * letter leaves its last capital to the next word (`FSFreeze` -> `fsFreeze`,
 * `GetBlockInfo` -> `getBlockInfo`, `NWFilterLookup` -> `nwFilterLookup`, `XML` -> `xml`).
 */
export function lowerLeadingCaps(s: string): string {
  const run = /^[A-Z0-9]*/.exec(s)?.[0] ?? '';
  if (run.length === 0) return s;
  if (run.length === s.length) return s.toLowerCase();
  const keep = run.length > 1 && /[a-z]/.test(s.charAt(run.length)) ? run.length - 1 : run.length;
  return s.slice(0, keep).toLowerCase() + s.slice(keep);
}

export interface HandleMethodName {
  readonly cls: HandleClass;
  readonly method: string;
}

/**
 * The class and method name of a public C function, or null when it belongs to no handle.
 *
 * - The class is the one of the first argument's type (virDomainPtr -> Domain). A first
 *   argument that is an array of handles (`virDomainPtr *doms`) makes it a function of the
 *   handles' connection (Connection; AdminConnection for admin handles).
 * - The method name is the C name minus `vir`, minus the class's own name when that is
 *   followed by an upper-case letter (the connection's own name is `Connect`), with the leading
 *   capitals lower-cased: virDomainGetBlockInfo -> Domain.getBlockInfo,
 *   virDomainSnapshotCreateXML -> Domain.snapshotCreateXML,
 *   virStorageVolCreateXML(pool, ...) -> StoragePool.storageVolCreateXML,
 *   virNetworkLookupByName(conn, ...) -> Connection.networkLookupByName.
 * - Collision rule: when that name is a reserved member of its class (reservedMembers), the
 *   class's own name is kept (virConnectClose -> Connection.connectClose), so the method still
 *   says which C function it is and never shadows the identity or lifecycle member.
 */
export function handleMethodName(fn: {
  readonly name: string;
  readonly args: readonly { readonly type: string }[];
}): HandleMethodName | null {
  const first = fn.args[0]?.type.trim();
  if (first === undefined || !fn.name.startsWith('vir')) return null;
  let cls = BY_CTYPE.get(first);
  if (!cls) {
    const array = /^(vir[A-Za-z]+Ptr)\s*\*$/.exec(first);
    const of = array ? BY_CTYPE.get(array[1]!) : undefined;
    if (!of || of.wire === null) return null;
    cls = of.program === 'admin' ? BY_CTYPE.get('virAdmConnectPtr') : BY_CTYPE.get('virConnectPtr');
    if (!cls) return null;
  }
  const rest = fn.name.slice('vir'.length);
  const own = cls.own;
  const dropped =
    rest.startsWith(own) && /^[A-Z]/.test(rest.slice(own.length)) ? rest.slice(own.length) : rest;
  let method = lowerLeadingCaps(dropped);
  if (reservedMembers(cls).has(method)) method = lowerLeadingCaps(rest);
  return { cls, method };
}
