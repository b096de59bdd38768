/**
 * The read-only getters of every handle type, each as virtwire's call and libvirt-python's, for
 * the differential tests (see differential.ts). Where the binding returns a C struct as a list,
 * or a per-CPU bit map as booleans, the map onto its shape is written here once.
 */
import type {
  AnyConnection,
  Connection,
  Domain,
  DomainCheckpoint,
  DomainSnapshot,
  Interface,
  Network,
  NetworkPort,
  NodeDevice,
  NWFilter,
  NWFilterBinding,
  Secret,
  StoragePool,
  StorageVol,
} from '../../src/api/handles.js';
import { cpuBits, type Getter, getter as g, type PyArg, targetOf } from './differential.js';

/** The number of host CPUs, as libvirt-python sizes its CPU maps (virNodeGetCPUMap). */
async function hostCpus(conn: AnyConnection): Promise<number> {
  return (await conn.nodeGetCPUMap()).cpus;
}

/** The domain's maximum vcpu count, as the binding sizes its per-vcpu maps (virDomainGetInfo). */
async function vcpuMaps(d: Domain): Promise<{ vcpus: number; cpus: number; maplen: number }> {
  const cpus = await hostCpus(d.conn);
  return { vcpus: (await d.getInfo()).nrVirtCpu, cpus, maplen: Math.ceil(cpus / 8) };
}

const MEMORY_STAT_NAMES = [
  'swap_in',
  'swap_out',
  'major_fault',
  'minor_fault',
  'unused',
  'available',
  'actual',
  'rss',
  'usable',
  'last_update',
  'disk_caches',
  'hugetlb_pgalloc',
  'hugetlb_pgfail',
];

/** Objects of the connection that its lookups are asked for. */
export interface ConnectionNames {
  readonly domain?: Domain;
  readonly network?: Network;
  readonly pool?: StoragePool;
  readonly volume?: StorageVol;
  readonly iface?: Interface;
  readonly device?: NodeDevice;
  readonly secret?: Secret;
  readonly filter?: NWFilter;
  readonly binding?: NWFilterBinding;
  /** Values that change on a real host between two calls (free memory, CPU times). */
  readonly liveHost?: boolean;
}

const target = (h: Parameters<typeof targetOf>[0]): PyArg => ({ $target: targetOf(h) });

export function connectionGetters(n: ConnectionNames): Getter<Connection>[] {
  const live = n.liveHost ? [''] : [];
  const cpuXml = [
    '<cpu><arch>x86_64</arch><model>Haswell</model></cpu>',
    '<cpu><arch>x86_64</arch><model>Nehalem</model></cpu>',
  ];
  const list: Getter<Connection>[] = [
    g('getURI', (c) => c.getURI(), ['getURI']),
    g('isOpen', (c) => (c.isOpen ? 1 : 0), ['isAlive']),
    g('getType', (c) => c.getType(), ['getType']),
    g('getVersion', (c) => c.getVersion(), ['getVersion']),
    g('getLibVersion', (c) => c.getLibVersion(), ['getLibVersion']),
    g('getHostname', (c) => c.getHostname(), ['getHostname']),
    g('getCapabilities', (c) => c.getCapabilities(), ['getCapabilities']),
    g('getSysinfo', (c) => c.getSysinfo(), ['getSysinfo', 0]),
    g('getMaxVcpus', (c) => c.getMaxVcpus(null), ['getMaxVcpus', null]),
    g('isSecure', (c) => c.isSecure(), ['isSecure']),
    g('isEncrypted', (c) => c.isEncrypted(), ['isEncrypted']),
    g('getCPUModelNames', (c) => c.getCPUModelNames('x86_64'), ['getCPUModelNames', 'x86_64', 0]),
    g('baselineCPU', (c) => c.baselineCPU(cpuXml), ['baselineCPU', cpuXml, 0]),
    g('compareCPU', (c) => c.compareCPU(cpuXml[0]!), ['compareCPU', cpuXml[0]!, 0]),
    g('getDomainCapabilities', (c) => c.getDomainCapabilities(null, null, null, null), [
      'getDomainCapabilities',
      null,
      null,
      null,
      null,
      0,
    ]),
    g('getStoragePoolCapabilities', (c) => c.getStoragePoolCapabilities(), [
      'getStoragePoolCapabilities',
      0,
    ]),
    g('findStoragePoolSources', (c) => c.findStoragePoolSources('logical', null), [
      'findStoragePoolSources',
      'logical',
      null,
      0,
    ]),
    g(
      'nodeGetInfo',
      (c) => c.nodeGetInfo(),
      ['getInfo'],
      // the binding gives memory in MiB
      {
        shape: (r) => [
          r.model,
          r.memory >> 10n,
          r.cpus,
          r.mhz,
          r.nodes,
          r.sockets,
          r.cores,
          r.threads,
        ],
      },
    ),
    g('nodeGetCPUMap', (c) => c.nodeGetCPUMap(), ['getCPUMap', 0], {
      shape: (r) => [r.cpus, cpuBits(r.cpumap, r.cpus), r.online],
    }),
    g(
      'nodeGetCellsFreeMemory',
      (c) => c.nodeGetCellsFreeMemory(0, 8),
      ['getCellsFreeMemory', 0, 8],
      { volatile: live.length ? ['*'] : [] },
    ),
    g('nodeGetFreeMemory', (c) => c.nodeGetFreeMemory(), ['getFreeMemory'], { volatile: live }),
    g('nodeGetCPUStats', (c) => c.nodeGetCPUStats(-1), ['getCPUStats', -1, 0], {
      shape: (r) => Object.fromEntries(r.map((p) => [p.field, p.value])),
      volatile: ['*'],
    }),
    g('nodeGetMemoryStats', (c) => c.nodeGetMemoryStats(-1), ['getMemoryStats', -1, 0], {
      shape: (r) => Object.fromEntries(r.map((p) => [p.field, p.value])),
      volatile: ['*'],
    }),
    g('nodeGetMemoryParameters', (c) => c.nodeGetMemoryParameters(), ['getMemoryParameters', 0]),
    g('nodeGetSecurityModel', (c) => c.nodeGetSecurityModel(), ['getSecurityModel'], {
      shape: (r) => [r.model, r.doi],
    }),
    g('nodeGetSEVInfo', (c) => c.nodeGetSEVInfo(), ['getSEVInfo', 0]),
    g('nodeGetFreePages', (c) => c.nodeGetFreePages([4], 0, 1), ['getFreePages', [4], 0, 1, 0], {
      shape: (r) => ({ '0': { '4': r[0] } }),
      volatile: live.length ? ['0/4'] : [],
    }),
    g('nodeListDevices', (c) => c.nodeListDevices(null), ['listDevices', null, 0]),
    g('nodeNumOfDevices', (c) => c.nodeNumOfDevices(null), ['numOfDevices', null, 0]),
    g('numOfDomains', (c) => c.numOfDomains(), ['numOfDomains']),
    g('listDomains', (c) => c.listDomains(), ['listDomainsID']),
    g('numOfDefinedDomains', (c) => c.numOfDefinedDomains(), ['numOfDefinedDomains']),
    g('listDefinedDomains', (c) => c.listDefinedDomains(), ['listDefinedDomains']),
    g('numOfNetworks', (c) => c.numOfNetworks(), ['numOfNetworks']),
    g('listNetworks', (c) => c.listNetworks(), ['listNetworks']),
    g('numOfDefinedNetworks', (c) => c.numOfDefinedNetworks(), ['numOfDefinedNetworks']),
    g('listDefinedNetworks', (c) => c.listDefinedNetworks(), ['listDefinedNetworks']),
    g('numOfStoragePools', (c) => c.numOfStoragePools(), ['numOfStoragePools']),
    g('listStoragePools', (c) => c.listStoragePools(), ['listStoragePools']),
    g('numOfDefinedStoragePools', (c) => c.numOfDefinedStoragePools(), [
      'numOfDefinedStoragePools',
    ]),
    g('listDefinedStoragePools', (c) => c.listDefinedStoragePools(), ['listDefinedStoragePools']),
    g('numOfInterfaces', (c) => c.numOfInterfaces(), ['numOfInterfaces']),
    g('listInterfaces', (c) => c.listInterfaces(), ['listInterfaces']),
    g('numOfDefinedInterfaces', (c) => c.numOfDefinedInterfaces(), ['numOfDefinedInterfaces']),
    g('listDefinedInterfaces', (c) => c.listDefinedInterfaces(), ['listDefinedInterfaces']),
    g('numOfSecrets', (c) => c.numOfSecrets(), ['numOfSecrets']),
    g('listSecrets', (c) => c.listSecrets(), ['listSecrets']),
    g('numOfNWFilters', (c) => c.numOfNWFilters(), ['numOfNWFilters']),
    g('listNWFilters', (c) => c.listNWFilters(), ['listNWFilters']),
    g('listAllDomains', (c) => c.listAllDomains(), ['listAllDomains', 0]),
    g('listAllNetworks', (c) => c.listAllNetworks(), ['listAllNetworks', 0]),
    g('listAllStoragePools', (c) => c.listAllStoragePools(), ['listAllStoragePools', 0]),
    g('listAllInterfaces', (c) => c.listAllInterfaces(), ['listAllInterfaces', 0]),
    g('listAllNodeDevices', (c) => c.listAllNodeDevices(), ['listAllDevices', 0]),
    g('listAllSecrets', (c) => c.listAllSecrets(), ['listAllSecrets', 0]),
    g('listAllNWFilters', (c) => c.listAllNWFilters(), ['listAllNWFilters', 0]),
    g('listAllNWFilterBindings', (c) => c.listAllNWFilterBindings(), [
      'listAllNWFilterBindings',
      0,
    ]),
    g('getAllDomainStats', (c) => c.getAllDomainStats(), ['getAllDomainStats', 0, 0], {
      shape: (r) => r.map((x) => [x.domain, x.stats]),
      volatile: STATS_VOLATILE,
    }),
  ];
  const { domain, network, pool, volume, iface, device, secret, filter, binding } = n;
  if (domain) {
    list.push(
      g(
        'domainListGetStats',
        (c) => c.domainListGetStats([domain], 0),
        ['domainListGetStats', [target(domain)], 0, 0],
        { shape: (r) => r.map((x) => [x.domain, x.stats]), volatile: STATS_VOLATILE },
      ),
      g('domainLookupByName', (c) => c.domainLookupByName(domain.name), [
        'lookupByName',
        domain.name,
      ]),
      g('domainLookupByUUIDString', (c) => c.domainLookupByUUIDString(domain.uuid), [
        'lookupByUUIDString',
        domain.uuid,
      ]),
      g('domainLookupByUUID', (c) => c.domainLookupByUUID(domain.wire.uuid), [
        'lookupByUUID',
        { $bytes: Buffer.from(domain.wire.uuid).toString('hex') },
      ]),
    );
    if (domain.id > 0) {
      list.push(
        g('domainLookupByID', (c) => c.domainLookupByID(domain.id), ['lookupByID', domain.id]),
      );
    }
  }
  if (network) {
    list.push(
      g('networkLookupByName', (c) => c.networkLookupByName(network.name), [
        'networkLookupByName',
        network.name,
      ]),
      g('networkLookupByUUIDString', (c) => c.networkLookupByUUIDString(network.uuid), [
        'networkLookupByUUIDString',
        network.uuid,
      ]),
    );
  }
  if (pool) {
    list.push(
      g('storagePoolLookupByName', (c) => c.storagePoolLookupByName(pool.name), [
        'storagePoolLookupByName',
        pool.name,
      ]),
      g('storagePoolLookupByUUIDString', (c) => c.storagePoolLookupByUUIDString(pool.uuid), [
        'storagePoolLookupByUUIDString',
        pool.uuid,
      ]),
    );
  }
  if (volume) {
    list.push(
      g('storageVolLookupByKey', (c) => c.storageVolLookupByKey(volume.key), [
        'storageVolLookupByKey',
        volume.key,
      ]),
      g('storageVolLookupByPath', (c) => c.storageVolLookupByPath(volume.key), [
        'storageVolLookupByPath',
        volume.key,
      ]),
    );
  }
  if (iface) {
    list.push(
      g('interfaceLookupByName', (c) => c.interfaceLookupByName(iface.name), [
        'interfaceLookupByName',
        iface.name,
      ]),
      g('interfaceLookupByMACString', (c) => c.interfaceLookupByMACString(iface.mac), [
        'interfaceLookupByMACString',
        iface.mac,
      ]),
    );
  }
  if (device) {
    list.push(
      g('nodeDeviceLookupByName', (c) => c.nodeDeviceLookupByName(device.name), [
        'nodeDeviceLookupByName',
        device.name,
      ]),
    );
  }
  if (secret) {
    list.push(
      g('secretLookupByUUIDString', (c) => c.secretLookupByUUIDString(secret.uuid), [
        'secretLookupByUUIDString',
        secret.uuid,
      ]),
      g('secretLookupByUsage', (c) => c.secretLookupByUsage(secret.usageType, secret.usageID), [
        'secretLookupByUsage',
        secret.usageType,
        secret.usageID,
      ]),
    );
  }
  if (filter) {
    list.push(
      g('nwFilterLookupByName', (c) => c.nwFilterLookupByName(filter.name), [
        'nwfilterLookupByName',
        filter.name,
      ]),
      g('nwFilterLookupByUUIDString', (c) => c.nwFilterLookupByUUIDString(filter.uuid), [
        'nwfilterLookupByUUIDString',
        filter.uuid,
      ]),
    );
  }
  if (binding) {
    list.push(
      g(
        'nwFilterBindingLookupByPortDev',
        (c) => c.nwFilterBindingLookupByPortDev(binding.portDev),
        ['nwfilterBindingLookupByPortDev', binding.portDev],
      ),
    );
  }
  return list;
}

/** Statistics that move while a domain exists: every counter of every record. */
const STATS_VOLATILE = ['*/1/*'];

/** A domain's disk and network device, for the getters that take one. */
export interface DomainDevices {
  readonly disk: string;
  readonly iface: string | null;
  /** The guest runs for real (QEMU): its counters move between two calls. */
  readonly live?: boolean;
}

export function domainGetters(dev: DomainDevices): Getter<Domain>[] {
  const { disk } = dev;
  const iface = dev.iface ?? 'none';
  const list: Getter<Domain>[] = [
    g('id', (d) => d.id, ['ID']),
    g('name', (d) => d.name, ['name']),
    g('uuid', (d) => d.uuid, ['UUIDString']),
    g('wire.uuid', (d) => d.wire.uuid, ['UUID']),
    g('getInfo', (d) => d.getInfo(), ['info'], {
      shape: (r) => [r.state, r.maxMem, r.memory, r.nrVirtCpu, r.cpuTime],
      volatile: ['4'],
    }),
    g('getState', (d) => d.getState(), ['state', 0], { shape: (r) => [r.state, r.reason] }),
    g('getControlInfo', (d) => d.getControlInfo(), ['controlInfo', 0], {
      shape: (r) => [r.state, r.details, r.stateTime],
      volatile: ['2'],
    }),
    g('getXMLDesc', (d) => d.getXMLDesc(), ['XMLDesc', 0]),
    g('getXMLDesc(INACTIVE)', (d) => d.getXMLDesc(2), ['XMLDesc', 2]),
    g('getOSType', (d) => d.getOSType(), ['OSType']),
    g('getMaxMemory', (d) => d.getMaxMemory(), ['maxMemory']),
    g('getMaxVcpus', (d) => d.getMaxVcpus(), ['maxVcpus']),
    g('getVcpusFlags', (d) => d.getVcpusFlags(), ['vcpusFlags', 0]),
    g(
      'getVcpus',
      async (d) => {
        const m = await vcpuMaps(d);
        const r = await d.getVcpus(m.vcpus, m.maplen);
        return [
          r.info.map((i) => [i.number, i.state, i.cpuTime, i.cpu]),
          r.info.map((_, v) => cpuBits(r.cpumaps, m.cpus, v * m.maplen)),
        ];
      },
      ['vcpus'],
      { volatile: ['0/*/2', '0/*/3'] },
    ),
    g(
      'getVcpuPinInfo',
      async (d) => {
        const m = await vcpuMaps(d);
        const r = await d.getVcpuPinInfo(m.vcpus, m.maplen);
        return Array.from({ length: m.vcpus }, (_, v) => cpuBits(r.cpumaps, m.cpus, v * m.maplen));
      },
      ['vcpuPinInfo', 0],
    ),
    g(
      'getEmulatorPinInfo',
      async (d) => {
        const cpus = await hostCpus(d.conn);
        return cpuBits(await d.getEmulatorPinInfo(Math.ceil(cpus / 8)), cpus);
      },
      ['emulatorPinInfo', 0],
    ),
    g(
      'getIOThreadInfo',
      async (d) => {
        const cpus = await hostCpus(d.conn);
        return (await d.getIOThreadInfo()).map((t) => [t.iothreadId, cpuBits(t.cpumap, cpus)]);
      },
      ['ioThreadInfo', 0],
    ),
    g('getSchedulerType', (d) => d.getSchedulerType(), ['schedulerType'], {
      shape: (r) => [r.type, r.nparams],
    }),
    g('getSchedulerParameters', (d) => d.getSchedulerParameters(), ['schedulerParameters']),
    g('getSchedulerParametersFlags', (d) => d.getSchedulerParametersFlags(), [
      'schedulerParametersFlags',
      0,
    ]),
    g('blockStats', (d) => d.blockStats(disk), ['blockStats', disk], {
      shape: (r) => [r.rdReq, r.rdBytes, r.wrReq, r.wrBytes, r.errs],
      volatile: ['*'],
    }),
    g('blockStatsFlags', (d) => d.blockStatsFlags(disk), ['blockStatsFlags', disk, 0], {
      volatile: ['*'],
    }),
    g('interfaceStats', (d) => d.interfaceStats(iface), ['interfaceStats', iface], {
      shape: (r) => [
        r.rxBytes,
        r.rxPackets,
        r.rxErrs,
        r.rxDrop,
        r.txBytes,
        r.txPackets,
        r.txErrs,
        r.txDrop,
      ],
      volatile: ['*'],
    }),
    g('memoryStats', (d) => d.memoryStats(MEMORY_STAT_NAMES.length), ['memoryStats'], {
      shape: (r) =>
        Object.fromEntries(
          r.flatMap((s) => {
            const name = MEMORY_STAT_NAMES[s.tag];
            return name === undefined ? [] : [[name, s.val]];
          }),
        ),
      volatile: ['*'],
    }),
    g('getBlockInfo', (d) => d.getBlockInfo(disk), ['blockInfo', disk, 0], {
      shape: (r) => [r.capacity, r.allocation, r.physical],
    }),
    g('getAutostart', (d) => d.getAutostart(), ['autostart']),
    g('isActive', (d) => d.isActive(), ['isActive']),
    g('isPersistent', (d) => d.isPersistent(), ['isPersistent']),
    g('isUpdated', (d) => d.isUpdated(), ['isUpdated']),
    g('hasManagedSaveImage', (d) => d.hasManagedSaveImage(), ['hasManagedSaveImage', 0]),
    g('hasCurrentSnapshot', (d) => d.hasCurrentSnapshot(), ['hasCurrentSnapshot', 0]),
    g('snapshotNum', (d) => d.snapshotNum(), ['snapshotNum', 0]),
    g('snapshotListNames', (d) => d.snapshotListNames(), ['snapshotListNames', 0]),
    g('listAllSnapshots', (d) => d.listAllSnapshots(), ['listAllSnapshots', 0]),
    g('snapshotCurrent', (d) => d.snapshotCurrent(), ['snapshotCurrent', 0]),
    g('listAllCheckpoints', (d) => d.listAllCheckpoints(), ['listAllCheckpoints', 0]),
    g('getMetadata', (d) => d.getMetadata(0, null), ['metadata', 0, null, 0]),
    g('getBlkioParameters', (d) => d.getBlkioParameters(), ['blkioParameters', 0]),
    g('getMemoryParameters', (d) => d.getMemoryParameters(), ['memoryParameters', 0]),
    g('getNumaParameters', (d) => d.getNumaParameters(), ['numaParameters', 0]),
    g('getInterfaceParameters', (d) => d.getInterfaceParameters(iface), [
      'interfaceParameters',
      iface,
      0,
    ]),
    g('getBlockIoTune', (d) => d.getBlockIoTune(disk), ['blockIoTune', disk, 0]),
    g('getDiskErrors', (d) => d.getDiskErrors(), ['diskErrors', 0], {
      shape: (r) => Object.fromEntries(r.map((e) => [e.disk, e.error])),
    }),
    g('getHostname', (d) => d.getHostname(), ['hostname', 0]),
    g('getTime', (d) => d.getTime(), ['getTime', 0], { volatile: ['*'] }),
    g('getFSInfo', (d) => d.getFSInfo(), ['fsInfo', 0], {
      shape: (r) => r.map((f) => [f.mountpoint, f.name, f.fstype, f.devAliases]),
    }),
    g('getGuestVcpus', (d) => d.getGuestVcpus(), ['guestVcpus', 0], { bindingNullOnError: true }),
    g('getGuestInfo', (d) => d.getGuestInfo(0), ['guestInfo', 0, 0]),
    g('getJobInfo', (d) => d.getJobInfo(), ['jobInfo'], {
      shape: (r) => [
        r.type,
        r.timeElapsed,
        r.timeRemaining,
        r.dataTotal,
        r.dataProcessed,
        r.dataRemaining,
        r.memTotal,
        r.memProcessed,
        r.memRemaining,
        r.fileTotal,
        r.fileProcessed,
        r.fileRemaining,
      ],
    }),
    g('getJobStats', (d) => d.getJobStats(), ['jobStats', 0], {
      shape: (r) => ({ type: r.type, ...r.params }),
    }),
    g('getCPUStats(total)', (d) => d.getCPUStats(-1, 1), ['getCPUStats', true, 0], {
      volatile: ['0/*'],
    }),
    g(
      'getCPUStats(per CPU)',
      async (d) => d.getCPUStats(0, await hostCpus(d.conn)),
      ['getCPUStats', false, 0],
      { volatile: ['*/*'] },
    ),
    // the binding gives `enforcing` as a boolean
    g('getSecurityLabel', (d) => d.getSecurityLabel(), ['securityLabel'], {
      shape: (r) => [r.label, r.enforcing !== 0],
    }),
    g('getSecurityLabelList', (d) => d.getSecurityLabelList(), ['securityLabelList'], {
      shape: (r) => r.map((l) => [l.label, l.enforcing !== 0]),
      bindingFailsOnEmpty: true,
    }),
    g('getPerfEvents', (d) => d.getPerfEvents(), ['perfEvents', 0]),
    g('getLaunchSecurityInfo', (d) => d.getLaunchSecurityInfo(), ['launchSecurityInfo', 0]),
    g('migrateGetMaxSpeed', (d) => d.migrateGetMaxSpeed(), ['migrateGetMaxSpeed', 0]),
    g('migrateGetMaxDowntime', (d) => d.migrateGetMaxDowntime(), ['migrateGetMaxDowntime', 0], {
      bindingNullOnError: true,
    }),
    g(
      'migrateGetCompressionCache',
      (d) => d.migrateGetCompressionCache(),
      ['migrateGetCompressionCache', 0],
      { bindingNullOnError: true },
    ),
    g('getMessages', (d) => d.getMessages(), ['messages', 0]),
    g('managedSaveGetXMLDesc', (d) => d.managedSaveGetXMLDesc(), ['managedSaveGetXMLDesc', 0]),
    g('getBlockJobInfo', (d) => d.getBlockJobInfo(disk), ['blockJobInfo', disk, 0], {
      shape: (r) =>
        r.found ? { type: r.type, bandwidth: r.bandwidth, cur: r.cur, end: r.end } : {},
    }),
    g('interfaceAddresses', (d) => d.interfaceAddresses(0), ['interfaceAddresses', 0, 0], {
      shape: (r) =>
        Object.fromEntries(
          r.map((i) => [
            i.name,
            {
              hwaddr: i.hwaddr,
              addrs: i.addrs.map((a) => ({ type: a.type, addr: a.addr, prefix: a.prefix })),
            },
          ]),
        ),
    }),
    g('blockPeek', (d) => d.blockPeek(disk, 0, 512), ['blockPeek', disk, 0, 512, 0]),
    g('memoryPeek', (d) => d.memoryPeek(0, 64, 2), ['memoryPeek', 0, 64, 2], {
      volatile: dev.live ? [''] : [],
    }),
    g('authorizedSSHKeysGet', (d) => d.authorizedSSHKeysGet('root'), [
      'authorizedSSHKeysGet',
      'root',
      0,
    ]),
    g('backupGetXMLDesc', (d) => d.backupGetXMLDesc(), ['backupGetXMLDesc', 0]),
  ];
  return list;
}

export const snapshotGetters: Getter<DomainSnapshot>[] = [
  g('name', (s) => s.name, ['getName']),
  g('domain', (s) => s.domain, ['getDomain']),
  g('getXMLDesc', (s) => s.getXMLDesc(), ['getXMLDesc', 0]),
  g('getParent', (s) => s.getParent(), ['getParent', 0]),
  g('isCurrent', (s) => s.isCurrent(), ['isCurrent', 0]),
  g('hasMetadata', (s) => s.hasMetadata(), ['hasMetadata', 0]),
  g('numChildren', (s) => s.numChildren(), ['numChildren', 0]),
  g('listChildrenNames', (s) => s.listChildrenNames(), ['listChildrenNames', 0]),
  g('listAllChildren', (s) => s.listAllChildren(), ['listAllChildren', 0]),
];

export const checkpointGetters: Getter<DomainCheckpoint>[] = [
  g('name', (s) => s.name, ['getName']),
  g('domain', (s) => s.domain, ['getDomain']),
  g('getXMLDesc', (s) => s.getXMLDesc(), ['getXMLDesc', 0]),
  g('getParent', (s) => s.getParent(), ['getParent', 0]),
  g('listAllChildren', (s) => s.listAllChildren(), ['listAllChildren', 0]),
];

export const networkGetters: Getter<Network>[] = [
  g('name', (n) => n.name, ['name']),
  g('uuid', (n) => n.uuid, ['UUIDString']),
  g('getXMLDesc', (n) => n.getXMLDesc(), ['XMLDesc', 0]),
  g('getBridgeName', (n) => n.getBridgeName(), ['bridgeName']),
  g('getAutostart', (n) => n.getAutostart(), ['autostart']),
  g('isActive', (n) => n.isActive(), ['isActive']),
  g('isPersistent', (n) => n.isPersistent(), ['isPersistent']),
  g('getDHCPLeases', (n) => n.getDHCPLeases(null), ['DHCPLeases', null, 0]),
  g('listAllPorts', (n) => n.listAllPorts(), ['listAllPorts', 0]),
];

export const networkPortGetters: Getter<NetworkPort>[] = [
  g('uuid', (p) => p.uuid, ['UUIDString']),
  g('network', (p) => p.network, ['network']),
  g('getXMLDesc', (p) => p.getXMLDesc(), ['XMLDesc', 0]),
  g('getParameters', (p) => p.getParameters(), ['parameters', 0]),
];

export const poolGetters: Getter<StoragePool>[] = [
  g('name', (p) => p.name, ['name']),
  g('uuid', (p) => p.uuid, ['UUIDString']),
  g('getInfo', (p) => p.getInfo(), ['info'], {
    shape: (r) => [r.state, r.capacity, r.allocation, r.available],
  }),
  g('getXMLDesc', (p) => p.getXMLDesc(), ['XMLDesc', 0]),
  g('getAutostart', (p) => p.getAutostart(), ['autostart']),
  g('isActive', (p) => p.isActive(), ['isActive']),
  g('isPersistent', (p) => p.isPersistent(), ['isPersistent']),
  g('numOfVolumes', (p) => p.numOfVolumes(), ['numOfVolumes']),
  g('listVolumes', (p) => p.listVolumes(), ['listVolumes']),
  g('listAllVolumes', (p) => p.listAllVolumes(), ['listAllVolumes', 0]),
];

export const volumeGetters: Getter<StorageVol>[] = [
  g('name', (v) => v.name, ['name']),
  g('key', (v) => v.key, ['key']),
  g('getInfo', (v) => v.getInfo(), ['info'], {
    shape: (r) => [r.type, r.capacity, r.allocation],
  }),
  g('getInfoFlags', (v) => v.getInfoFlags(), ['infoFlags', 0], {
    shape: (r) => [r.type, r.capacity, r.allocation],
  }),
  g('getPath', (v) => v.getPath(), ['path']),
  g('getXMLDesc', (v) => v.getXMLDesc(), ['XMLDesc', 0]),
  g('storagePoolLookupByVolume', (v) => v.storagePoolLookupByVolume(), [
    'storagePoolLookupByVolume',
  ]),
];

export const nodeDeviceGetters: Getter<NodeDevice>[] = [
  g('name', (d) => d.name, ['name']),
  g('getXMLDesc', (d) => d.getXMLDesc(), ['XMLDesc', 0]),
  g('getParent', (d) => d.getParent(), ['parent']),
  g('numOfCaps', (d) => d.numOfCaps(), ['numOfCaps']),
  g('listCaps', (d) => d.listCaps(), ['listCaps']),
  g('isActive', (d) => d.isActive(), ['isActive']),
  g('isPersistent', (d) => d.isPersistent(), ['isPersistent']),
  g('getAutostart', (d) => d.getAutostart(), ['autostart']),
];

export const interfaceGetters: Getter<Interface>[] = [
  g('name', (i) => i.name, ['name']),
  g('mac', (i) => i.mac, ['MACString']),
  g('getXMLDesc', (i) => i.getXMLDesc(), ['XMLDesc', 0]),
  g('isActive', (i) => i.isActive(), ['isActive']),
];

export const secretGetters: Getter<Secret>[] = [
  g('uuid', (s) => s.uuid, ['UUIDString']),
  g('usageType', (s) => s.usageType, ['usageType']),
  g('usageID', (s) => s.usageID, ['usageID']),
  g('getXMLDesc', (s) => s.getXMLDesc(), ['XMLDesc', 0]),
  g('getValue', (s) => s.getValue(), ['value', 0]),
];

export const nwFilterGetters: Getter<NWFilter>[] = [
  g('name', (f) => f.name, ['name']),
  g('uuid', (f) => f.uuid, ['UUIDString']),
  g('getXMLDesc', (f) => f.getXMLDesc(), ['XMLDesc', 0]),
];

export const nwFilterBindingGetters: Getter<NWFilterBinding>[] = [
  g('portDev', (b) => b.portDev, ['portDev']),
  g('filterName', (b) => b.filterName, ['filterName']),
  g('getXMLDesc', (b) => b.getXMLDesc(), ['XMLDesc', 0]),
];
