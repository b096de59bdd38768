/**
 * The everyday virsh commands as data: name, arguments and options exactly as
 * virsh spells them. program.ts registers each one from this table (so
 * --help loads no library code); virsh-commands.ts holds what each one does.
 * Also the virsh commands virtwire answers differently, for the hint an
 * unknown command gets.
 */

export interface VirshSpec {
  readonly name: string;
  readonly description: string;
  /** `<domain>`, `[file]`... in commander's syntax, with their help. */
  readonly args: ReadonlyArray<readonly [string, string]>;
  /** `--flag` or `--opt <value>`, with their help; --json is added to every command. */
  readonly options: ReadonlyArray<readonly [string, string]>;
}

const DOMAIN = ['<domain>', 'domain name or UUID'] as const;
const dom = (name: string, description: string, ...options: Array<readonly [string, string]>) => ({
  name,
  description,
  args: [DOMAIN],
  options,
});
const VOL = ['<vol>', 'volume name (with --pool), key or path'] as const;
const POOL_OPTION = ['--pool <pool>', 'the pool holding the volume (name or UUID)'] as const;
const TRANSFER_OPTIONS = [
  POOL_OPTION,
  ['--offset <bytes>', 'where in the volume to start'],
  ['--length <bytes>', 'how many bytes (default: to the end)'],
  ['--sparse', 'keep holes: zero runs travel as holes'],
] as const;
const noArgs = (name: string, description: string) => ({
  name,
  description,
  args: [],
  options: [],
});

export const VIRSH_SPECS: readonly VirshSpec[] = [
  dom('start', 'start an inactive (defined) domain', ['--paused', 'leave the guest paused']),
  dom('shutdown', 'ask a domain to shut down (ACPI or guest agent)'),
  dom('reboot', 'ask a domain to reboot'),
  dom('reset', 'reset a domain at once, as a power-cycle button would'),
  dom('destroy', 'stop a domain at once (pulls the plug)', [
    '--graceful',
    'fail rather than kill the process',
  ]),
  dom('suspend', 'pause a running domain'),
  dom('resume', 'resume a paused domain'),
  dom(
    'undefine',
    "remove a domain's definition (a running one keeps running, transient)",
    ['--managed-save', 'also remove its managed save image'],
    ['--snapshots-metadata', 'also remove its snapshot metadata'],
    ['--nvram', 'also remove its NVRAM file'],
  ),
  {
    name: 'define',
    description: 'define (but do not start) a domain from an XML file',
    args: [['<file>', 'file with the domain XML']],
    options: [],
  },
  {
    name: 'create',
    description: 'create and start a transient domain from an XML file',
    args: [['<file>', 'file with the domain XML']],
    options: [['--paused', 'leave the guest paused']],
  },
  dom('autostart', 'start a domain when the host boots', ['--disable', 'turn autostart off']),
  dom(
    'dumpxml',
    "a domain's XML description",
    ['--inactive', 'the persistent definition rather than the live one'],
    ['--security-info', 'include security-sensitive data'],
  ),
  dom('domblklist', "a domain's disks: target and source", ['--details', 'also type and device']),
  dom('domiflist', "a domain's network interfaces"),
  dom('vcpuinfo', "a domain's virtual CPUs: physical CPU, state, CPU time"),
  dom('dommemstat', "a domain's memory statistics"),
  {
    name: 'net-list',
    description: 'list networks (active ones unless --all)',
    args: [],
    options: [
      ['--all', 'include inactive networks'],
      ['--inactive', 'only inactive networks'],
      ['--name', 'print names only'],
    ],
  },
  {
    name: 'net-info',
    description: 'basic information about a network',
    args: [['<network>', 'network name or UUID']],
    options: [],
  },
  {
    name: 'net-dumpxml',
    description: "a network's XML description",
    args: [['<network>', 'network name or UUID']],
    options: [['--inactive', 'the persistent definition rather than the live one']],
  },
  {
    name: 'pool-list',
    description: 'list storage pools (active ones unless --all)',
    args: [],
    options: [
      ['--all', 'include inactive pools'],
      ['--inactive', 'only inactive pools'],
      ['--name', 'print names only'],
    ],
  },
  {
    name: 'pool-info',
    description: 'basic information about a storage pool',
    args: [['<pool>', 'pool name or UUID']],
    options: [],
  },
  {
    name: 'vol-list',
    description: 'list the volumes of a storage pool',
    args: [['<pool>', 'pool name or UUID']],
    options: [['--details', 'also type, capacity and allocation']],
  },
  {
    name: 'domstats',
    description: 'statistics of domains (every domain unless named), by stats group',
    args: [['[domain...]', 'domain names or UUIDs']],
    options: [
      ['--state', 'the state group'],
      ['--cpu-total', 'the cpu-total group'],
      ['--balloon', 'the balloon group'],
      ['--vcpu', 'the vcpu group'],
      ['--interface', 'the interface group'],
      ['--block', 'the block group'],
      ['--perf', 'the perf group'],
      ['--iothread', 'the iothread group'],
      ['--memory', 'the memory group'],
      ['--dirtyrate', 'the dirtyrate group'],
      ['--vm', 'the vm group'],
      ['--list-active', 'only active domains'],
      ['--list-inactive', 'only inactive domains'],
      ['--list-persistent', 'only persistent domains'],
      ['--list-transient', 'only transient domains'],
      ['--list-running', 'only running domains'],
      ['--list-paused', 'only paused domains'],
      ['--list-shutoff', 'only shut off domains'],
      ['--list-other', 'only domains in another state'],
      ['--nowait', 'do not wait for a running job to report its stats'],
      ['--backing', 'also the backing chain of block devices'],
      ['--enforce', 'fail if a requested group is not supported'],
    ],
  },
  {
    name: 'domblkinfo',
    description: "a domain's block device sizes: capacity, allocation, physical",
    args: [DOMAIN, ['[device]', 'disk target (vda) or source path']],
    options: [
      ['--human', 'sizes in binary units'],
      ['--all', 'every disk of the domain, as a table'],
    ],
  },
  {
    name: 'snapshot-create-as',
    description: 'create a snapshot of a domain from a name and description',
    args: [DOMAIN, ['[name]', 'snapshot name'], ['[description]', 'snapshot description']],
    options: [
      ['--name <name>', 'snapshot name (as the argument)'],
      ['--description <text>', 'snapshot description (as the argument)'],
      ['--print-xml', 'print the snapshot XML instead of creating it'],
      ['--no-metadata', 'take the snapshot but keep no metadata'],
      ['--halt', 'halt the domain after the snapshot'],
      ['--disk-only', 'disk state only'],
      ['--reuse-external', 'reuse existing external files'],
      ['--quiesce', 'quiesce the guest file systems (guest agent)'],
      ['--atomic', 'all disks or none'],
      ['--live', 'take the snapshot while the guest runs'],
      ['--validate', 'validate the XML against the schema'],
    ],
  },
  {
    name: 'snapshot-list',
    description: "list a domain's snapshots: name, creation time, state",
    args: [DOMAIN],
    options: [
      ['--parent', 'add a column with the parent'],
      ['--roots', 'only snapshots without a parent'],
      ['--leaves', 'only snapshots without children'],
      ['--no-leaves', 'only snapshots with children'],
      ['--metadata', 'only snapshots with libvirt metadata'],
      ['--no-metadata', 'only snapshots without libvirt metadata'],
      ['--inactive', 'only snapshots of a shut off domain'],
      ['--active', 'only snapshots of a running domain'],
      ['--disk-only', 'only disk-only snapshots'],
      ['--internal', 'only internal snapshots'],
      ['--external', 'only external snapshots'],
      ['--name', 'print names only'],
      ['--tree', 'draw the snapshots as a tree of parents and children'],
      ['--from <snapshot>', "only this snapshot's children (with --tree: under it)"],
      ['--current', "only the current snapshot's children (with --tree: under it)"],
      ['--descendants', 'with --from or --current: all descendants, not only the children'],
      ['--topological', 'parents before their children, instead of by name'],
    ],
  },
  {
    name: 'snapshot-revert',
    description: 'revert a domain to a snapshot',
    args: [DOMAIN, ['[snapshotname]', 'snapshot name']],
    options: [
      ['--current', 'the current snapshot'],
      ['--running', 'leave the domain running afterwards'],
      ['--paused', 'leave the domain paused afterwards'],
      ['--force', 'revert even when it is risky'],
      ['--reset-nvram', 're-create the NVRAM from its template'],
    ],
  },
  {
    name: 'snapshot-delete',
    description: 'delete a snapshot of a domain',
    args: [DOMAIN, ['[snapshotname]', 'snapshot name']],
    options: [
      ['--current', 'the current snapshot'],
      ['--children', 'also its children'],
      ['--children-only', 'its children but not the snapshot'],
      ['--metadata', "only libvirt's metadata, not the snapshot data"],
    ],
  },
  {
    name: 'net-start',
    description: 'start an inactive (defined) network',
    args: [['<network>', 'network name or UUID']],
    options: [],
  },
  {
    name: 'net-destroy',
    description: 'stop a network',
    args: [['<network>', 'network name or UUID']],
    options: [],
  },
  {
    name: 'pool-refresh',
    description: "rescan a storage pool's volumes",
    args: [['<pool>', 'pool name or UUID']],
    options: [],
  },
  {
    name: 'vol-info',
    description: 'basic information about a storage volume',
    args: [VOL],
    options: [
      POOL_OPTION,
      ['--bytes', 'sizes in bytes'],
      ['--physical', 'the physical size on disk instead of the allocation'],
    ],
  },
  {
    name: 'vol-upload',
    description: 'upload a file into a storage volume, with progress on stderr',
    args: [VOL, ['<file>', 'the file to read']],
    options: TRANSFER_OPTIONS,
  },
  {
    name: 'vol-download',
    description: 'download a storage volume into a file, with progress on stderr',
    args: [VOL, ['<file>', 'the file to write']],
    options: TRANSFER_OPTIONS,
  },
  noArgs('nodeinfo', "the host's CPUs and memory"),
  noArgs('capabilities', "the hypervisor's capabilities XML"),
  noArgs('hostname', "the host's name"),
  {
    name: 'version',
    description: "the daemon's libvirt version and the hypervisor's",
    args: [],
    options: [['--daemon', "accepted as virsh's flag: the daemon's version is always shown"]],
  },
];

/**
 * virsh commands with no command of the same name here, and what does their
 * job: another virtwire command or the generic `virtwire <object> <method>`
 * (a unit test holds every such method to the generated metadata).
 */
export const VIRSH_INSTEAD: Readonly<Record<string, string>> = {
  domid: 'virtwire dominfo DOMAIN (its Id line)',
  domuuid: 'virtwire dominfo DOMAIN (its UUID line)',
  domname: 'virtwire list --all',
  uri: 'virtwire call remote.connectGetUri',
  sysinfo: 'virtwire connection getSysinfo',
  freecell: 'virtwire node getCellsFreeMemory 0 8',
  maxvcpus: 'virtwire connection getMaxVcpus kvm',
  nodememstats: 'virtwire node getMemoryStats -1',
  nodecpustats: 'virtwire node getCPUStats -1',
  'cpu-models': 'virtwire connection getCPUModelNames x86_64',
  domcapabilities: 'virtwire connection getDomainCapabilities null null null null',
  managedsave: 'virtwire domain managedSave DOMAIN',
  'managedsave-remove': 'virtwire domain managedSaveRemove DOMAIN',
  save: 'virtwire domain save DOMAIN FILE',
  restore: 'virtwire connection domainRestore FILE',
  setmem: 'virtwire domain setMemory DOMAIN KIB',
  setmaxmem: 'virtwire domain setMaxMemory DOMAIN KIB',
  setvcpus: 'virtwire domain setVcpus DOMAIN COUNT',
  domifaddr: 'virtwire domain interfaceAddresses DOMAIN 0',
  domifstat: 'virtwire domain interfaceStats DOMAIN IFACE',
  domblkstat: 'virtwire domain blockStatsFlags DOMAIN DISK',
  domblkerror: 'virtwire domain getDiskErrors DOMAIN',
  domhostname: 'virtwire domain getHostname DOMAIN',
  domtime: 'virtwire domain getTime DOMAIN',
  domfsinfo: 'virtwire domain getFSInfo DOMAIN',
  domfsfreeze: 'virtwire domain fsFreeze DOMAIN',
  domfsthaw: 'virtwire domain fsThaw DOMAIN',
  'cpu-stats': 'virtwire domain getCPUStats DOMAIN -1 1',
  memtune: 'virtwire domain getMemoryParameters DOMAIN',
  blkiotune: 'virtwire domain getBlkioParameters DOMAIN',
  schedinfo: 'virtwire domain getSchedulerParameters DOMAIN',
  vcpupin: 'virtwire domain pinVcpu DOMAIN VCPU CPUMAP-HEX',
  'send-key': 'virtwire domain sendKey DOMAIN 0 0 KEYCODES',
  dompmsuspend: 'virtwire domain pmSuspendForDuration DOMAIN 0 0',
  dompmwakeup: 'virtwire domain pmWakeup DOMAIN',
  'inject-nmi': 'virtwire domain injectNMI DOMAIN',
  domrename: 'virtwire domain rename DOMAIN NEWNAME',
  'snapshot-current': 'virtwire domain snapshotCurrent DOMAIN',
  'snapshot-dumpxml': 'virtwire snapshot getXMLDesc DOMAIN SNAPSHOT',
  'snapshot-parent': 'virtwire snapshot getParent DOMAIN SNAPSHOT',
  'net-define': 'virtwire connection networkDefineXML "$(cat FILE)"',
  'net-undefine': 'virtwire network undefine NETWORK',
  'net-autostart': 'virtwire network setAutostart NETWORK 1',
  'net-dhcp-leases': 'virtwire network getDHCPLeases NETWORK null',
  'pool-start': 'virtwire pool create POOL',
  'pool-destroy': 'virtwire pool destroy POOL',
  'pool-undefine': 'virtwire pool undefine POOL',
  'pool-autostart': 'virtwire pool setAutostart POOL 1',
  'pool-dumpxml': 'virtwire pool getXMLDesc POOL',
  'pool-build': 'virtwire pool build POOL',
  'pool-define': 'virtwire connection storagePoolDefineXML "$(cat FILE)"',
  'vol-create': 'virtwire pool storageVolCreateXML POOL "$(cat FILE)"',
  'vol-delete': 'virtwire vol delete POOL/VOL',
  'vol-dumpxml': 'virtwire vol getXMLDesc POOL/VOL',
  'vol-path': 'virtwire vol getPath POOL/VOL',
  'vol-resize': 'virtwire vol resize POOL/VOL BYTES',
  'vol-wipe': 'virtwire vol wipe POOL/VOL',
  'secret-list': 'virtwire connection listAllSecrets',
  'nwfilter-list': 'virtwire connection listAllNWFilters',
  'iface-list': 'virtwire connection listAllInterfaces',
  'nodedev-list': 'virtwire connection listAllNodeDevices',
  'nodedev-dumpxml': 'virtwire nodedev getXMLDesc DEVICE',
  console: 'virsh console (an interactive terminal is outside virtwire)',
  edit: 'virtwire dumpxml DOMAIN > f.xml, edit it, virtwire define f.xml',
};
