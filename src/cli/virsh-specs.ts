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
 * job: another virtwire command or a `call`.
 */
export const VIRSH_INSTEAD: Readonly<Record<string, string>> = {
  domid: 'virtwire dominfo DOMAIN (its Id line)',
  domuuid: 'virtwire dominfo DOMAIN (its UUID line)',
  domname: 'virtwire list --all',
  uri: 'virtwire call remote.connectGetUri',
  sysinfo: 'virtwire call remote.connectGetSysinfo \'{"flags":0}\'',
  freecell: 'virtwire call remote.nodeGetFreeMemory',
  'net-start': 'virtwire call remote.networkCreate \'{"net":…}\'',
  'net-destroy': 'virtwire call remote.networkDestroy \'{"net":…}\'',
  'pool-refresh': 'virtwire call remote.storagePoolRefresh \'{"pool":…,"flags":0}\'',
  'vol-info': 'virtwire vol-list --details POOL',
  domblkinfo: 'virtwire call remote.domainGetBlockInfo \'{"dom":…,"path":"vda","flags":0}\'',
  domstats: 'virtwire call remote.connectGetAllDomainStats \'{"doms":[],"stats":0,"flags":0}\'',
  'snapshot-list':
    'virtwire call remote.domainListAllSnapshots \'{"dom":…,"needResults":1,"flags":0}\'',
  managedsave: 'virtwire call remote.domainManagedSave \'{"dom":…,"flags":0}\'',
  setmem: 'virtwire call remote.domainSetMemory \'{"dom":…,"memory":1048576}\'',
  setvcpus: 'virtwire call remote.domainSetVcpus \'{"dom":…,"nvcpus":2}\'',
  console: 'virsh console (an interactive terminal is outside virtwire)',
  edit: 'virtwire dumpxml DOMAIN > f.xml, edit it, virtwire define f.xml',
};
