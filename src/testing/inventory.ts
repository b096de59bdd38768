import { formatUuid } from '../api/names.js';
import type { RemoteMethods } from '../generated/remote.js';
import { libvirtError, type SimError } from './errors.js';
import type { SimDomain } from './host.js';
import type { Fn, SimConnection } from './server.js';

// The objects a simulated host has none of: networks, storage pools and
// volumes, node devices, secrets, host interfaces, network filters, and
// domain snapshots and checkpoints. Listing them gives nothing and looking
// one up fails, as on a libvirtd whose drivers for them run with nothing
// configured, each error in its own driver's error domain with libvirt's
// words. Everything else about them answers "not supported".

/** How procedures.ts registers a handler (with its read-only check). */
export type Register = <K extends keyof RemoteMethods>(name: K, fn: Fn<K>) => void;

const uuid = (u: Uint8Array): string => formatUuid(u);

const net = (detail: string): SimError =>
  libvirtError('VIR_ERR_NO_NETWORK', 'VIR_FROM_NETWORK', detail);
const pool = (detail: string): SimError =>
  libvirtError('VIR_ERR_NO_STORAGE_POOL', 'VIR_FROM_STORAGE', detail);
const vol = (detail: string): SimError =>
  libvirtError('VIR_ERR_NO_STORAGE_VOL', 'VIR_FROM_STORAGE', detail);
const dev = (detail: string): SimError =>
  libvirtError('VIR_ERR_NO_NODE_DEVICE', 'VIR_FROM_NODEDEV', detail);
const secret = (detail: string): SimError =>
  libvirtError('VIR_ERR_NO_SECRET', 'VIR_FROM_SECRET', detail);
const iface = (detail: string): SimError =>
  libvirtError('VIR_ERR_NO_INTERFACE', 'VIR_FROM_INTERFACE', detail);
const filter = (detail: string): SimError =>
  libvirtError('VIR_ERR_NO_NWFILTER', 'VIR_FROM_NWFILTER', detail);
// Snapshots and checkpoints are the QEMU driver's own: its error domain.
const snapshot = (detail: string): SimError =>
  libvirtError('VIR_ERR_NO_DOMAIN_SNAPSHOT', 'VIR_FROM_QEMU', detail);
const checkpoint = (detail: string): SimError =>
  libvirtError('VIR_ERR_NO_DOMAIN_CHECKPOINT', 'VIR_FROM_QEMU', detail);

/** Registers the empty inventories; `dom` resolves a call's domain as every domain call does. */
export function registerInventory(
  on: Register,
  dom: (c: SimConnection, d: { name: string; uuid: Uint8Array; id: number }) => SimDomain,
): void {
  const none = { num: 0 };
  const noNames = { names: [] };

  on('connectNumOfNetworks', () => none);
  on('connectListNetworks', () => noNames);
  on('connectNumOfDefinedNetworks', () => none);
  on('connectListDefinedNetworks', () => noNames);
  on('connectListAllNetworks', () => ({ nets: [], ret: 0 }));
  on('networkLookupByName', ({ name }) => {
    throw net(`no network with matching name '${name}'`);
  });
  on('networkLookupByUuid', ({ uuid: u }) => {
    throw net(`no network with matching uuid '${uuid(u)}'`);
  });

  on('connectNumOfStoragePools', () => none);
  on('connectListStoragePools', () => noNames);
  on('connectNumOfDefinedStoragePools', () => none);
  on('connectListDefinedStoragePools', () => noNames);
  on('connectListAllStoragePools', () => ({ pools: [], ret: 0 }));
  on('storagePoolLookupByName', ({ name }) => {
    throw pool(`no storage pool with matching name '${name}'`);
  });
  on('storagePoolLookupByUuid', ({ uuid: u }) => {
    throw pool(`no storage pool with matching uuid '${uuid(u)}'`);
  });
  on('storageVolLookupByPath', ({ path }) => {
    throw vol(`no storage vol with matching path '${path}'`);
  });
  on('storageVolLookupByKey', ({ key }) => {
    throw vol(`no storage vol with matching key ${key}`);
  });

  on('nodeNumOfDevices', () => none);
  on('nodeListDevices', () => noNames);
  on('connectListAllNodeDevices', () => ({ devices: [], ret: 0 }));
  on('nodeDeviceLookupByName', ({ name }) => {
    throw dev(`no node device with matching name '${name}'`);
  });

  on('connectNumOfSecrets', () => none);
  on('connectListSecrets', () => ({ uuids: [] }));
  on('connectListAllSecrets', () => ({ secrets: [], ret: 0 }));
  on('secretLookupByUuid', ({ uuid: u }) => {
    throw secret(`no secret with matching uuid '${uuid(u)}'`);
  });
  on('secretLookupByUsage', ({ usageID }) => {
    throw secret(`no secret with matching usage '${usageID}'`);
  });

  on('connectNumOfInterfaces', () => none);
  on('connectListInterfaces', () => noNames);
  on('connectNumOfDefinedInterfaces', () => none);
  on('connectListDefinedInterfaces', () => noNames);
  on('connectListAllInterfaces', () => ({ ifaces: [], ret: 0 }));
  on('interfaceLookupByName', ({ name }) => {
    throw iface(`couldn't find interface named '${name}'`);
  });
  on('interfaceLookupByMacString', ({ mac }) => {
    throw iface(`couldn't find interface with MAC address '${mac}'`);
  });

  on('connectNumOfNwfilters', () => none);
  on('connectListNwfilters', () => noNames);
  on('connectListAllNwfilters', () => ({ filters: [], ret: 0 }));
  on('nwfilterLookupByName', ({ name }) => {
    throw filter(`no nwfilter with matching name '${name}'`);
  });
  on('nwfilterLookupByUuid', ({ uuid: u }) => {
    throw filter(`no nwfilter with matching uuid '${uuid(u)}'`);
  });
  on('connectListAllNwfilterBindings', () => ({ bindings: [], ret: 0 }));
  on('nwfilterBindingLookupByPortDev', ({ name }) => {
    throw libvirtError(
      'VIR_ERR_NO_NWFILTER_BINDING',
      'VIR_FROM_NWFILTER',
      `no nwfilter binding for port dev '${name}'`,
    );
  });

  // The QEMU driver finds the domain first, then its (absent) snapshots and checkpoints.
  on('domainSnapshotNum', ({ dom: d }, c) => {
    dom(c, d);
    return none;
  });
  on('domainSnapshotListNames', ({ dom: d }, c) => {
    dom(c, d);
    return noNames;
  });
  on('domainListAllSnapshots', ({ dom: d }, c) => {
    dom(c, d);
    return { snapshots: [], ret: 0 };
  });
  on('domainSnapshotLookupByName', ({ dom: d, name }, c) => {
    dom(c, d);
    throw snapshot(`no domain snapshot with matching name '${name}'`);
  });
  on('domainHasCurrentSnapshot', ({ dom: d }, c) => {
    dom(c, d);
    return { result: 0 };
  });
  on('domainSnapshotCurrent', ({ dom: d }, c) => {
    dom(c, d);
    throw snapshot('the domain does not have a current snapshot');
  });
  on('domainListAllCheckpoints', ({ dom: d }, c) => {
    dom(c, d);
    return { checkpoints: [], ret: 0 };
  });
  on('domainCheckpointLookupByName', ({ dom: d, name }, c) => {
    dom(c, d);
    throw checkpoint(`no domain checkpoint with matching name '${name}'`);
  });
}
