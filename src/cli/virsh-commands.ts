/**
 * What the everyday virsh commands of virsh-specs.ts do, over the handles:
 * each returns its data (the --json form) and the text virsh would print.
 * runVirshCommand opens the connection, runs one and prints the chosen form.
 */
import { readFile } from 'node:fs/promises';
import type { Connection, Domain } from '../api/handles.js';
import {
  VirConnectListAllDomainsFlags as L,
  VirConnectListAllNetworksFlags,
  VirConnectListAllStoragePoolsFlags,
  VirDomainCreateFlags,
  VirDomainDestroyFlagsValues,
  VirDomainMemoryStatTags,
  VirDomainUndefineFlagsValues,
  VirDomainXMLFlags,
  VirNetworkXMLFlags,
  VirStoragePoolState,
  VirStorageVolType,
  VirVcpuState,
} from '../generated/api.js';
import { RemoteError } from '../rpc/errors.js';
import type { CliContext } from './context.js';
import { UsageError } from './errors.js';
import { table } from './format.js';
import { jsonPretty } from './json.js';
import { MORE_IMPLS } from './virsh-more.js';
import {
  arg,
  attr,
  elements,
  fields,
  type Impl,
  lower,
  network,
  type Opts,
  type Output,
  pool,
  virshSize,
  yesNo,
} from './virsh-util.js';

export { elements, virshSize } from './virsh-util.js';

async function hostCpuCount(conn: Connection): Promise<number> {
  try {
    return (await conn.nodeGetCPUMap()).cpus;
  } catch (err) {
    if (!(err instanceof RemoteError)) throw err;
    const n = await conn.nodeGetInfo();
    return n.nodes * n.sockets * n.cores * n.threads || n.cpus;
  }
}

/** A domain action: virsh's sentence for it, and {domain, action} as JSON. */
function action(verb: string, run: (d: Domain, opts: Opts) => Promise<unknown>): Impl {
  return async (conn, args, opts) => {
    const d = await conn.lookupDomain(arg(args, 0));
    await run(d, opts);
    return {
      json: { domain: d.name, uuid: d.uuid, action: verb },
      text: `Domain '${d.name}' ${verb}`,
    };
  };
}

async function fromFile(
  conn: Connection,
  file: string,
  make: (xml: string) => Promise<Domain>,
  verb: string,
): Promise<Output> {
  const xml = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${file}: ${err.code ?? err.message}`, { cause: err });
  });
  const d = await make(xml);
  void conn;
  return {
    json: { domain: d.name, uuid: d.uuid, action: verb },
    text: `Domain '${d.name}' ${verb} from ${file}`,
  };
}

const MEMSTAT_NAMES: Record<number, string> = {
  [VirDomainMemoryStatTags.VIR_DOMAIN_MEMORY_STAT_SWAP_IN]: 'swap_in',
  [VirDomainMemoryStatTags.VIR_DOMAIN_MEMORY_STAT_SWAP_OUT]: 'swap_out',
  [VirDomainMemoryStatTags.VIR_DOMAIN_MEMORY_STAT_MAJOR_FAULT]: 'major_fault',
  [VirDomainMemoryStatTags.VIR_DOMAIN_MEMORY_STAT_MINOR_FAULT]: 'minor_fault',
  [VirDomainMemoryStatTags.VIR_DOMAIN_MEMORY_STAT_UNUSED]: 'unused',
  [VirDomainMemoryStatTags.VIR_DOMAIN_MEMORY_STAT_AVAILABLE]: 'available',
  [VirDomainMemoryStatTags.VIR_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON]: 'actual',
  [VirDomainMemoryStatTags.VIR_DOMAIN_MEMORY_STAT_RSS]: 'rss',
  [VirDomainMemoryStatTags.VIR_DOMAIN_MEMORY_STAT_USABLE]: 'usable',
  [VirDomainMemoryStatTags.VIR_DOMAIN_MEMORY_STAT_LAST_UPDATE]: 'last_update',
  [VirDomainMemoryStatTags.VIR_DOMAIN_MEMORY_STAT_DISK_CACHES]: 'disk_caches',
  [VirDomainMemoryStatTags.VIR_DOMAIN_MEMORY_STAT_HUGETLB_PGALLOC]: 'hugetlb_pgalloc',
  [VirDomainMemoryStatTags.VIR_DOMAIN_MEMORY_STAT_HUGETLB_PGFAIL]: 'hugetlb_pgfail',
};

const BASE_IMPLS: Readonly<Record<string, Impl>> = {
  start: action('started', (d, o) =>
    d.createWithFlags(o.paused ? VirDomainCreateFlags.VIR_DOMAIN_START_PAUSED : 0),
  ),
  shutdown: action('is being shutdown', (d) => d.shutdown()),
  reboot: action('is being rebooted', (d) => d.reboot()),
  reset: action('was reset', (d) => d.reset()),
  destroy: action('destroyed', (d, o) =>
    o.graceful
      ? d.destroyFlags(VirDomainDestroyFlagsValues.VIR_DOMAIN_DESTROY_GRACEFUL)
      : d.destroy(),
  ),
  suspend: action('suspended', (d) => d.suspend()),
  resume: action('resumed', (d) => d.resume()),
  undefine: action('has been undefined', (d, o) =>
    d.undefineFlags(
      (o.managedSave ? VirDomainUndefineFlagsValues.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE : 0) |
        (o.snapshotsMetadata
          ? VirDomainUndefineFlagsValues.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
          : 0) |
        (o.nvram ? VirDomainUndefineFlagsValues.VIR_DOMAIN_UNDEFINE_NVRAM : 0),
    ),
  ),
  define: (conn, args) => fromFile(conn, arg(args, 0), (x) => conn.domainDefineXML(x), 'defined'),
  create: (conn, args, o) =>
    fromFile(
      conn,
      arg(args, 0),
      (x) => conn.domainCreateXML(x, o.paused ? VirDomainCreateFlags.VIR_DOMAIN_START_PAUSED : 0),
      'created',
    ),
  autostart: async (conn, args, o) => {
    const d = await conn.lookupDomain(arg(args, 0));
    await d.setAutostart(o.disable ? 0 : 1);
    return {
      json: { domain: d.name, uuid: d.uuid, autostart: !o.disable },
      text: o.disable
        ? `Domain '${d.name}' unmarked as autostarted`
        : `Domain '${d.name}' marked as autostarted`,
    };
  },
  dumpxml: async (conn, args, o) => {
    const d = await conn.lookupDomain(arg(args, 0));
    const xml = await d.getXMLDesc(
      (o.inactive ? VirDomainXMLFlags.VIR_DOMAIN_XML_INACTIVE : 0) |
        (o.securityInfo ? VirDomainXMLFlags.VIR_DOMAIN_XML_SECURE : 0),
    );
    return { json: { domain: d.name, xml }, text: xml };
  },
  domblklist: async (conn, args, o) => {
    const xml = await (await conn.lookupDomain(arg(args, 0))).getXMLDesc();
    const disks = elements(xml, 'disk').map((el) => ({
      type: /<disk\b[^>]*\btype=(["'])(.*?)\1/.exec(el)?.[2] ?? null,
      device: /<disk\b[^>]*\bdevice=(["'])(.*?)\1/.exec(el)?.[2] ?? null,
      target: attr(el, 'target', 'dev') ?? null,
      source:
        attr(el, 'source', 'file') ??
        attr(el, 'source', 'dev') ??
        attr(el, 'source', 'name') ??
        null,
    }));
    const head = o.details ? ['Type', 'Device', 'Target', 'Source'] : ['Target', 'Source'];
    const rows = disks.map((x) => {
      const base = [x.target ?? '-', x.source ?? '-'];
      return o.details ? [x.type ?? '-', x.device ?? '-', ...base] : base;
    });
    return { json: disks, text: table(head, rows) };
  },
  domiflist: async (conn, args) => {
    const xml = await (await conn.lookupDomain(arg(args, 0))).getXMLDesc();
    const ifs = elements(xml, 'interface').map((el) => ({
      interface: attr(el, 'target', 'dev') ?? null,
      type: /<interface\b[^>]*\btype=(["'])(.*?)\1/.exec(el)?.[2] ?? null,
      source:
        attr(el, 'source', 'network') ??
        attr(el, 'source', 'bridge') ??
        attr(el, 'source', 'dev') ??
        null,
      model: attr(el, 'model', 'type') ?? null,
      mac: attr(el, 'mac', 'address') ?? null,
    }));
    return {
      json: ifs,
      text: table(
        ['Interface', 'Type', 'Source', 'Model', 'MAC'],
        ifs.map((i) => [
          i.interface ?? '-',
          i.type ?? '-',
          i.source ?? '-',
          i.model ?? '-',
          i.mac ?? '-',
        ]),
      ),
    };
  },
  vcpuinfo: async (conn, args) => {
    const d = await conn.lookupDomain(arg(args, 0));
    // virsh sizes the affinity by the host's CPU map (what the daemon can pin to), not nodeinfo's
    // topology, which the test driver, for one, describes larger than its map
    const [info, cpus] = await Promise.all([d.getInfo(), hostCpuCount(conn)]);
    const maplen = Math.ceil(cpus / 8);
    const r = await d.getVcpus(info.nrVirtCpu, maplen);
    const vcpus = r.info.map((v, i) => {
      let affinity = '';
      for (let c = 0; c < cpus; c++)
        affinity += (r.cpumaps[i * maplen + (c >> 3)]! >> (c & 7)) & 1 ? 'y' : '-';
      return {
        vcpu: v.number,
        cpu: v.cpu,
        state: lower(VirVcpuState, 'VIR_VCPU_', v.state),
        cpuTimeNs: v.cpuTime,
        affinity,
      };
    });
    const text = vcpus
      .map((v) =>
        fields([
          ['VCPU', String(v.vcpu)],
          ['CPU', String(v.cpu)],
          ['State', v.state],
          ['CPU time', `${(Number(v.cpuTimeNs) / 1e9).toFixed(1)}s`],
          ['CPU Affinity', v.affinity],
        ]),
      )
      .join('\n\n');
    return { json: vcpus, text };
  },
  dommemstat: async (conn, args) => {
    const d = await conn.lookupDomain(arg(args, 0));
    const stats = await d.memoryStats(VirDomainMemoryStatTags.VIR_DOMAIN_MEMORY_STAT_NR);
    const out: Record<string, bigint> = {};
    for (const s of stats) out[MEMSTAT_NAMES[s.tag] ?? `tag${s.tag}`] = s.val;
    return {
      json: out,
      text: Object.entries(out)
        .map(([k, v]) => `${k} ${v}`)
        .join('\n'),
    };
  },
  'net-list': async (conn, _args, o) => {
    const F = VirConnectListAllNetworksFlags;
    const flags = o.inactive
      ? F.VIR_CONNECT_LIST_NETWORKS_INACTIVE
      : o.all
        ? 0
        : F.VIR_CONNECT_LIST_NETWORKS_ACTIVE;
    const nets = await conn.listAllNetworks(flags);
    const rows = await Promise.all(
      nets.map(async (n) => ({
        name: n.name,
        uuid: n.uuid,
        active: (await n.isActive()) !== 0,
        autostart: (await n.getAutostart()) !== 0,
        persistent: (await n.isPersistent()) !== 0,
      })),
    );
    rows.sort((a, b) => a.name.localeCompare(b.name));
    const text = o.name
      ? rows.map((r) => r.name).join('\n')
      : table(
          ['Name', 'State', 'Autostart', 'Persistent'],
          rows.map((r) => [
            r.name,
            r.active ? 'active' : 'inactive',
            yesNo(+r.autostart),
            yesNo(+r.persistent),
          ]),
        );
    return { json: rows, text };
  },
  'net-info': async (conn, args) => {
    const n = await network(conn, arg(args, 0));
    const [active, persistent, autostart, bridge] = await Promise.all([
      n.isActive(),
      n.isPersistent(),
      n.getAutostart(),
      n.getBridgeName().catch(() => undefined),
    ]);
    const json = {
      name: n.name,
      uuid: n.uuid,
      active: active !== 0,
      persistent: persistent !== 0,
      autostart: autostart !== 0,
      bridge: bridge ?? null,
    };
    const rows: Array<[string, string]> = [
      ['Name', n.name],
      ['UUID', n.uuid],
      ['Active', yesNo(active)],
      ['Persistent', yesNo(persistent)],
      ['Autostart', yesNo(autostart)],
    ];
    if (bridge !== undefined) rows.push(['Bridge', bridge]);
    return { json, text: fields(rows) };
  },
  'net-dumpxml': async (conn, args, o) => {
    const n = await network(conn, arg(args, 0));
    const xml = await n.getXMLDesc(o.inactive ? VirNetworkXMLFlags.VIR_NETWORK_XML_INACTIVE : 0);
    return { json: { network: n.name, xml }, text: xml };
  },
  'pool-list': async (conn, _args, o) => {
    const F = VirConnectListAllStoragePoolsFlags;
    const flags = o.inactive
      ? F.VIR_CONNECT_LIST_STORAGE_POOLS_INACTIVE
      : o.all
        ? 0
        : F.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE;
    const pools = await conn.listAllStoragePools(flags);
    const rows = await Promise.all(
      pools.map(async (p) => ({
        name: p.name,
        uuid: p.uuid,
        active: (await p.isActive()) !== 0,
        autostart: (await p.getAutostart()) !== 0,
      })),
    );
    rows.sort((a, b) => a.name.localeCompare(b.name));
    const text = o.name
      ? rows.map((r) => r.name).join('\n')
      : table(
          ['Name', 'State', 'Autostart'],
          rows.map((r) => [r.name, r.active ? 'active' : 'inactive', yesNo(+r.autostart)]),
        );
    return { json: rows, text };
  },
  'pool-info': async (conn, args) => {
    const p = await pool(conn, arg(args, 0));
    const [info, persistent, autostart] = await Promise.all([
      p.getInfo(),
      p.isPersistent(),
      p.getAutostart(),
    ]);
    const state = lower(VirStoragePoolState, 'VIR_STORAGE_POOL_', info.state);
    const json = {
      name: p.name,
      uuid: p.uuid,
      state,
      persistent: persistent !== 0,
      autostart: autostart !== 0,
      capacity: info.capacity,
      allocation: info.allocation,
      available: info.available,
    };
    const rows: Array<[string, string]> = [
      ['Name', p.name],
      ['UUID', p.uuid],
      ['State', state],
      ['Persistent', yesNo(persistent)],
      ['Autostart', yesNo(autostart)],
    ];
    if (info.state === VirStoragePoolState.VIR_STORAGE_POOL_RUNNING)
      rows.push(
        ['Capacity', virshSize(info.capacity)],
        ['Allocation', virshSize(info.allocation)],
        ['Available', virshSize(info.available)],
      );
    return { json, text: fields(rows) };
  },
  'vol-list': async (conn, args, o) => {
    const vols = await (await pool(conn, arg(args, 0))).listAllVolumes();
    const rows = await Promise.all(
      vols.map(async (v) => {
        const [path, info] = await Promise.all([v.getPath(), v.getInfo()]);
        return {
          name: v.name,
          path,
          type: lower(VirStorageVolType, 'VIR_STORAGE_VOL_', info.type),
          capacity: info.capacity,
          allocation: info.allocation,
        };
      }),
    );
    rows.sort((a, b) => a.name.localeCompare(b.name));
    const text = o.details
      ? table(
          ['Name', 'Path', 'Type', 'Capacity', 'Allocation'],
          rows.map((r) => [r.name, r.path, r.type, virshSize(r.capacity), virshSize(r.allocation)]),
        )
      : table(
          ['Name', 'Path'],
          rows.map((r) => [r.name, r.path]),
        );
    return { json: rows, text };
  },
  nodeinfo: async (conn) => {
    const n = await conn.nodeGetInfo();
    const json = {
      cpuModel: n.model,
      cpus: n.cpus,
      mhz: n.mhz,
      sockets: n.sockets,
      coresPerSocket: n.cores,
      threadsPerCore: n.threads,
      numaCells: n.nodes,
      memoryKiB: n.memory,
    };
    const text = fields(
      [
        ['CPU model', n.model],
        ['CPU(s)', String(n.cpus)],
        ['CPU frequency', `${n.mhz} MHz`],
        ['CPU socket(s)', String(n.sockets)],
        ['Core(s) per socket', String(n.cores)],
        ['Thread(s) per core', String(n.threads)],
        ['NUMA cell(s)', String(n.nodes)],
        ['Memory size', `${n.memory} KiB`],
      ],
      21,
    );
    return { json, text };
  },
  capabilities: async (conn) => {
    const xml = await conn.getCapabilities();
    return { json: { xml }, text: xml };
  },
  hostname: async (conn) => {
    const hostname = await conn.getHostname();
    return { json: { hostname }, text: hostname };
  },
  version: async (conn) => {
    const [type, hv, lib] = await Promise.all([
      conn.getType(),
      conn.getVersion(),
      conn.getLibVersion(),
    ]);
    const v = (n: bigint): string => `${n / 1_000_000n}.${(n / 1000n) % 1000n}.${n % 1000n}`;
    const json = { daemon: v(lib), hypervisorType: type, hypervisor: v(hv) };
    const text = fields(
      [
        ['Running against daemon', json.daemon],
        ['Running hypervisor', `${type} ${json.hypervisor}`],
      ],
      24,
    );
    return { json, text };
  },
};

export const VIRSH_IMPLS: Readonly<Record<string, Impl>> = { ...BASE_IMPLS, ...MORE_IMPLS };

/** Runs one command of VIRSH_SPECS: connects, runs it, prints its text or (--json) its data. */
export async function runVirshCommand(
  ctx: CliContext,
  name: string,
  args: readonly string[],
  opts: Opts,
): Promise<void> {
  const impl = VIRSH_IMPLS[name];
  if (!impl) throw new UsageError(`no such command: ${name}`);
  const conn = await ctx.open();
  try {
    const r = await impl(conn, args, opts, ctx);
    ctx.out(opts.json ? jsonPretty(r.json) : r.text);
  } finally {
    await conn.close();
  }
}

/** List flags for virsh's `list` filters. */
export function listFlags(o: Opts): number {
  let f = 0;
  if (o.inactive) f |= L.VIR_CONNECT_LIST_DOMAINS_INACTIVE;
  else if (!o.all) f |= L.VIR_CONNECT_LIST_DOMAINS_ACTIVE;
  if (o.stateRunning) f |= L.VIR_CONNECT_LIST_DOMAINS_RUNNING;
  if (o.statePaused) f |= L.VIR_CONNECT_LIST_DOMAINS_PAUSED;
  if (o.stateShutoff) f |= L.VIR_CONNECT_LIST_DOMAINS_SHUTOFF;
  if (o.stateOther) f |= L.VIR_CONNECT_LIST_DOMAINS_OTHER;
  // virsh: a state filter lists every domain in that state, active or not
  if (o.stateRunning || o.statePaused || o.stateShutoff || o.stateOther)
    f &= ~(L.VIR_CONNECT_LIST_DOMAINS_ACTIVE | L.VIR_CONNECT_LIST_DOMAINS_INACTIVE);
  if (o.persistent) f |= L.VIR_CONNECT_LIST_DOMAINS_PERSISTENT;
  if (o.transient) f |= L.VIR_CONNECT_LIST_DOMAINS_TRANSIENT;
  // commander reads --no-autostart as autostart === false
  if (o.autostart === true) f |= L.VIR_CONNECT_LIST_DOMAINS_AUTOSTART;
  if (o.autostart === false) f |= L.VIR_CONNECT_LIST_DOMAINS_NO_AUTOSTART;
  if (o.withSnapshot) f |= L.VIR_CONNECT_LIST_DOMAINS_HAS_SNAPSHOT;
  if (o.withoutSnapshot) f |= L.VIR_CONNECT_LIST_DOMAINS_NO_SNAPSHOT;
  if (o.managedSave) f |= L.VIR_CONNECT_LIST_DOMAINS_MANAGEDSAVE;
  return f;
}
