/**
 * The rest of virsh's everyday commands, over the handles: domstats,
 * domblkinfo, the snapshot commands, net-start/-destroy, pool-refresh,
 * vol-info and the volume transfers (with progress on stderr). Each returns
 * its data (--json) and virsh's text, as virsh-commands.ts's do.
 */
import { stat } from 'node:fs/promises';
import type { Connection, Domain, DomainSnapshot, StorageVol } from '../api/handles.js';
import { volumeDownloadFile, volumeUploadFile } from '../api/streams.js';
import {
  VirDomainSnapshotCreateFlags as CF,
  VirDomainSnapshotDeleteFlags as DF,
  VirDomainSnapshotListFlags as LF,
  VirDomainSnapshotRevertFlags as RF,
  VirConnectGetAllDomainStatsFlags as SF,
  VirDomainStatsTypes,
  VirStorageVolInfoFlags,
  VirStorageVolType,
} from '../generated/api.js';
import { isNoStorageVol } from '../rpc/errors.js';
import { InterruptedError, type TerminationSignal, UsageError } from './errors.js';
import { formatBytes, table, tree } from './format.js';
import { transferProgress } from './transfer-progress.js';
import {
  arg,
  attr,
  elements,
  fields,
  type Impl,
  lower,
  network,
  type Opts,
  pool,
  virshHuman,
  virshSize,
} from './virsh-util.js';

/**
 * Flags from options: each option that is set adds its bit. commander reads `--no-x` as x ===
 * false, so a key `!x` stands for `--no-x`.
 */
const flagsOf = (o: Opts, bits: Readonly<Record<string, number>>): number =>
  Object.entries(bits).reduce((f, [k, bit]) => {
    const on = k.startsWith('!') ? o[k.slice(1)] === false : o[k] === true;
    return on ? f | bit : f;
  }, 0);

/** domstats' group options and the stats bit each asks for. */
const STAT_GROUPS: Readonly<Record<string, number>> = {
  state: VirDomainStatsTypes.VIR_DOMAIN_STATS_STATE,
  cpuTotal: VirDomainStatsTypes.VIR_DOMAIN_STATS_CPU_TOTAL,
  balloon: VirDomainStatsTypes.VIR_DOMAIN_STATS_BALLOON,
  vcpu: VirDomainStatsTypes.VIR_DOMAIN_STATS_VCPU,
  interface: VirDomainStatsTypes.VIR_DOMAIN_STATS_INTERFACE,
  block: VirDomainStatsTypes.VIR_DOMAIN_STATS_BLOCK,
  perf: VirDomainStatsTypes.VIR_DOMAIN_STATS_PERF,
  iothread: VirDomainStatsTypes.VIR_DOMAIN_STATS_IOTHREAD,
  memory: VirDomainStatsTypes.VIR_DOMAIN_STATS_MEMORY,
  dirtyrate: VirDomainStatsTypes.VIR_DOMAIN_STATS_DIRTYRATE,
  vm: VirDomainStatsTypes.VIR_DOMAIN_STATS_VM,
};
const STAT_LISTS: Readonly<Record<string, number>> = {
  listActive: SF.VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE,
  listInactive: SF.VIR_CONNECT_GET_ALL_DOMAINS_STATS_INACTIVE,
  listPersistent: SF.VIR_CONNECT_GET_ALL_DOMAINS_STATS_PERSISTENT,
  listTransient: SF.VIR_CONNECT_GET_ALL_DOMAINS_STATS_TRANSIENT,
  listRunning: SF.VIR_CONNECT_GET_ALL_DOMAINS_STATS_RUNNING,
  listPaused: SF.VIR_CONNECT_GET_ALL_DOMAINS_STATS_PAUSED,
  listShutoff: SF.VIR_CONNECT_GET_ALL_DOMAINS_STATS_SHUTOFF,
  listOther: SF.VIR_CONNECT_GET_ALL_DOMAINS_STATS_OTHER,
  nowait: SF.VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT,
  backing: SF.VIR_CONNECT_GET_ALL_DOMAINS_STATS_BACKING,
  enforce: SF.VIR_CONNECT_GET_ALL_DOMAINS_STATS_ENFORCE_STATS,
};

/** A typed parameter's value as virsh prints it after `=`. */
const statText = (v: unknown): string => (Array.isArray(v) ? v.join(',') : String(v));

const escapeXml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;');
const tagText = (xml: string, path: string): string | undefined =>
  new RegExp(`<${path}>([^<]*)</${path}>`).exec(xml)?.[1];

/** `2026-12-06 08:13:33 +0000`: virsh's snapshot creation time, in this machine's zone. */
export function virshTime(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const zone = `${off < 0 ? '-' : '+'}${p(Math.floor(Math.abs(off) / 60))}${p(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${zone}`;
}

/** The snapshot an argument names, or the current one with --current (as virsh picks it). */
async function snapshotOf(d: Domain, name: string, o: Opts, cmd: string): Promise<DomainSnapshot> {
  if (name !== '') return d.snapshotLookupByName(name);
  if (o.current) return d.snapshotCurrent();
  throw new UsageError(`${cmd}: name a snapshot or give --current`);
}

/** snapshot-list's options that cannot go together, refused before anything is asked. */
function snapshotListUsage(o: Opts): void {
  const no = (why: string): never => {
    throw new UsageError(`snapshot-list: ${why}`);
  };
  if (typeof o.from === 'string' && o.current) no('--from and --current are mutually exclusive');
  if (o.descendants && typeof o.from !== 'string' && !o.current)
    no('--descendants needs --from or --current');
  if (o.roots && (typeof o.from === 'string' || o.current))
    no(`--roots and ${o.current ? '--current' : '--from'} are mutually exclusive`);
  if (!o.tree) return;
  // a tree shows every snapshot under its parent: filters that drop parents, or another layout, break it
  const clash: ReadonlyArray<[boolean, string]> = [
    [o.roots === true, '--roots'],
    [o.leaves === true, '--leaves'],
    [o.leaves === false, '--no-leaves'],
    [o.inactive === true, '--inactive'],
    [o.active === true, '--active'],
    [o.diskOnly === true, '--disk-only'],
    [o.internal === true, '--internal'],
    [o.external === true, '--external'],
    [o.name === true, '--name'],
    [o.parent === true, '--parent'],
  ];
  for (const [set, opt] of clash) if (set) no(`${opt} and --tree are mutually exclusive`);
}

/** A volume by name in --pool, else by key or path, as virsh looks it up. */
async function volume(conn: Connection, name: string, o: Opts): Promise<StorageVol> {
  if (typeof o.pool === 'string') return (await pool(conn, o.pool)).storageVolLookupByName(name);
  try {
    return await conn.storageVolLookupByKey(name);
  } catch (err) {
    if (!isNoStorageVol(err)) throw err;
    return conn.storageVolLookupByPath(name);
  }
}

/** A non-negative byte count from an option, or 0 when it is not given. */
function bytesOption(o: Opts, key: string, flag: string): bigint {
  const v = o[key];
  if (v === undefined) return 0n;
  if (typeof v !== 'string' || !/^\d+$/.test(v))
    throw new UsageError(`${flag}: expected a whole number of bytes, got '${String(v)}'`);
  return BigInt(v);
}

type Direction = 'upload' | 'download';

/** vol-upload / vol-download: the library's file transfer, Ctrl-C aborting it, progress on stderr. */
function transfer(dir: Direction): Impl {
  return async (conn, args, o, ctx) => {
    const vol = await volume(conn, arg(args, 0), o);
    const file = arg(args, 1);
    const offset = bytesOption(o, 'offset', '--offset');
    const length = bytesOption(o, 'length', '--length');
    let total = length;
    if (total === 0n) {
      total =
        dir === 'download'
          ? (await vol.getInfo()).capacity - offset
          : BigInt(
              (
                await stat(file).catch((err: NodeJS.ErrnoException) => {
                  throw new UsageError(`cannot read ${file}: ${err.code ?? err.message}`, {
                    cause: err,
                  });
                })
              ).size,
            );
    }
    const verb = dir === 'upload' ? 'vol-upload' : 'vol-download';
    const progress = transferProgress(ctx.io.stderr, ctx.io.env, verb, total);
    const abort = new AbortController();
    let signal: TerminationSignal | undefined;
    const off = ctx.io.interrupt.on((s) => {
      signal = s;
      abort.abort();
    });
    const opts = {
      offset,
      length,
      sparse: o.sparse === true,
      signal: abort.signal,
      onProgress: (b: bigint) => progress.update(b),
    };
    let bytes: bigint;
    try {
      bytes = await (dir === 'upload'
        ? volumeUploadFile(conn, vol, file, opts)
        : volumeDownloadFile(conn, vol, file, opts));
    } catch (err) {
      if (signal !== undefined)
        throw new InterruptedError(`${verb} interrupted; the transfer was aborted`, signal, {
          cause: err,
        });
      throw err;
    } finally {
      off();
      progress.done();
    }
    const text =
      dir === 'upload'
        ? `Uploaded ${formatBytes(Number(bytes))} from ${file} to volume '${vol.name}'`
        : `Downloaded ${formatBytes(Number(bytes))} from volume '${vol.name}' to ${file}`;
    return { json: { volume: vol.name, key: vol.key, file, direction: dir, bytes }, text };
  };
}

export const MORE_IMPLS: Readonly<Record<string, Impl>> = {
  domstats: async (conn, args, o) => {
    const stats = flagsOf(o, STAT_GROUPS);
    const flags = flagsOf(o, STAT_LISTS);
    if (args.length > 0 && (flags & ~0xe0000000) !== 0)
      throw new UsageError('domstats: --list-* filters and named domains exclude each other');
    const recs =
      args.length > 0
        ? await conn.domainListGetStats(
            await Promise.all(args.map((n) => conn.lookupDomain(n))),
            stats,
            flags,
          )
        : await conn.getAllDomainStats(stats, flags);
    const json = recs.map((r) => ({ domain: r.domain.name, stats: r.stats }));
    const text = json
      .map(
        (r) =>
          `Domain: '${r.domain}'\n${Object.entries(r.stats)
            .map(([k, v]) => `  ${k}=${statText(v)}`)
            .join('\n')}\n`,
      )
      .join('\n');
    return { json, text };
  },
  domblkinfo: async (conn, args, o) => {
    const d = await conn.lookupDomain(arg(args, 0));
    const size = (n: bigint): string => (o.human ? virshHuman(n) : String(n));
    if (o.all) {
      const xml = await d.getXMLDesc();
      const rows = await Promise.all(
        elements(xml, 'disk').map(async (el) => {
          const target = attr(el, 'target', 'dev') ?? '';
          const i = await d.getBlockInfo(target);
          return { target, capacity: i.capacity, allocation: i.allocation, physical: i.physical };
        }),
      );
      return {
        json: rows,
        text: table(
          ['Target', 'Capacity', 'Allocation', 'Physical'],
          rows.map((r) => [r.target, size(r.capacity), size(r.allocation), size(r.physical)]),
        ),
      };
    }
    const target = arg(args, 1);
    if (target === '')
      throw new UsageError('domblkinfo: name a DEVICE (vda, a path) or give --all');
    const i = await d.getBlockInfo(target);
    return {
      json: { target, capacity: i.capacity, allocation: i.allocation, physical: i.physical },
      text: fields([
        ['Capacity', size(i.capacity)],
        ['Allocation', size(i.allocation)],
        ['Physical', size(i.physical)],
      ]),
    };
  },
  'snapshot-create-as': async (conn, args, o) => {
    const d = await conn.lookupDomain(arg(args, 0));
    const name = arg(args, 1) || (typeof o.name === 'string' ? o.name : '');
    const description = arg(args, 2) || (typeof o.description === 'string' ? o.description : '');
    const xml = `<domainsnapshot>${name ? `<name>${escapeXml(name)}</name>` : ''}${
      description ? `<description>${escapeXml(description)}</description>` : ''
    }</domainsnapshot>`;
    if (o.printXml) return { json: { xml }, text: xml };
    const snap = await d.snapshotCreateXML(
      xml,
      flagsOf(o, {
        '!metadata': CF.VIR_DOMAIN_SNAPSHOT_CREATE_NO_METADATA,
        halt: CF.VIR_DOMAIN_SNAPSHOT_CREATE_HALT,
        diskOnly: CF.VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY,
        reuseExternal: CF.VIR_DOMAIN_SNAPSHOT_CREATE_REUSE_EXT,
        quiesce: CF.VIR_DOMAIN_SNAPSHOT_CREATE_QUIESCE,
        atomic: CF.VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC,
        live: CF.VIR_DOMAIN_SNAPSHOT_CREATE_LIVE,
        validate: CF.VIR_DOMAIN_SNAPSHOT_CREATE_VALIDATE,
      }),
    );
    return {
      json: { domain: d.name, snapshot: snap.name, action: 'created' },
      text: `Domain snapshot ${snap.name} created`,
    };
  },
  'snapshot-list': async (conn, args, o) => {
    snapshotListUsage(o);
    const d = await conn.lookupDomain(arg(args, 0));
    const filters = flagsOf(o, {
      roots: LF.VIR_DOMAIN_SNAPSHOT_LIST_ROOTS,
      leaves: LF.VIR_DOMAIN_SNAPSHOT_LIST_LEAVES,
      '!leaves': LF.VIR_DOMAIN_SNAPSHOT_LIST_NO_LEAVES,
      metadata: LF.VIR_DOMAIN_SNAPSHOT_LIST_METADATA,
      '!metadata': LF.VIR_DOMAIN_SNAPSHOT_LIST_NO_METADATA,
      inactive: LF.VIR_DOMAIN_SNAPSHOT_LIST_INACTIVE,
      active: LF.VIR_DOMAIN_SNAPSHOT_LIST_ACTIVE,
      diskOnly: LF.VIR_DOMAIN_SNAPSHOT_LIST_DISK_ONLY,
      internal: LF.VIR_DOMAIN_SNAPSHOT_LIST_INTERNAL,
      external: LF.VIR_DOMAIN_SNAPSHOT_LIST_EXTERNAL,
      topological: LF.VIR_DOMAIN_SNAPSHOT_LIST_TOPOLOGICAL,
    });
    // --from/--current: the children of that snapshot (all its descendants with --descendants);
    // with --tree it is listed too, as the tree's root
    const from =
      typeof o.from === 'string'
        ? await d.snapshotLookupByName(o.from)
        : o.current
          ? await d.snapshotCurrent()
          : null;
    const snaps =
      from === null
        ? await d.listAllSnapshots(filters)
        : [
            ...(o.tree ? [from] : []),
            ...(await from.listAllChildren(
              filters | (o.descendants ? LF.VIR_DOMAIN_SNAPSHOT_LIST_DESCENDANTS : 0),
            )),
          ];
    const rows = await Promise.all(
      snaps.map(async (s) => {
        const [xml, current] = await Promise.all([s.getXMLDesc(), s.isCurrent()]);
        const created = Number(tagText(xml, 'creationTime') ?? 0);
        return {
          name: s.name,
          creationTime: created,
          state: tagText(xml, 'state') ?? '',
          parent: /<parent>\s*<name>([^<]*)<\/name>/.exec(xml)?.[1] ?? null,
          current: current !== 0,
        };
      }),
    );
    // by name, as virsh prints them, unless the daemon was asked for parents first
    if (!o.topological) rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    if (o.tree) {
      // with --from/--current, that snapshot is the root whatever its own parent
      const nodes = rows.map((r) => ({
        name: r.name,
        parent: r.name === from?.name ? null : r.parent,
      }));
      return { json: rows, text: tree(nodes) };
    }
    if (o.name) return { json: rows, text: rows.map((r) => r.name).join('\n') };
    const head = ['Name', 'Creation Time', 'State', ...(o.parent ? ['Parent'] : [])];
    const text = table(
      head,
      rows.map((r) => [
        r.name,
        virshTime(r.creationTime),
        r.state,
        ...(o.parent ? [r.parent ?? ''] : []),
      ]),
    );
    return { json: rows, text };
  },
  'snapshot-revert': async (conn, args, o) => {
    const d = await conn.lookupDomain(arg(args, 0));
    const snap = await snapshotOf(d, arg(args, 1), o, 'snapshot-revert');
    await snap.domainRevertToSnapshot(
      flagsOf(o, {
        running: RF.VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING,
        paused: RF.VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED,
        force: RF.VIR_DOMAIN_SNAPSHOT_REVERT_FORCE,
        resetNvram: RF.VIR_DOMAIN_SNAPSHOT_REVERT_RESET_NVRAM,
      }),
    );
    return {
      json: { domain: d.name, snapshot: snap.name, action: 'reverted' },
      text: `Domain snapshot ${snap.name} reverted`,
    };
  },
  'snapshot-delete': async (conn, args, o) => {
    const d = await conn.lookupDomain(arg(args, 0));
    const snap = await snapshotOf(d, arg(args, 1), o, 'snapshot-delete');
    await snap.delete(
      flagsOf(o, {
        children: DF.VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN,
        childrenOnly: DF.VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN_ONLY,
        metadata: DF.VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY,
      }),
    );
    const what = o.childrenOnly
      ? 'children deleted'
      : o.children
        ? 'and children deleted'
        : 'deleted';
    return {
      json: { domain: d.name, snapshot: snap.name, action: what },
      text: `Domain snapshot ${snap.name} ${what}`,
    };
  },
  'net-start': async (conn, args) => {
    const n = await network(conn, arg(args, 0));
    await n.create();
    return { json: { network: n.name, action: 'started' }, text: `Network ${n.name} started` };
  },
  'net-destroy': async (conn, args) => {
    const n = await network(conn, arg(args, 0));
    await n.destroy();
    return { json: { network: n.name, action: 'destroyed' }, text: `Network ${n.name} destroyed` };
  },
  'pool-refresh': async (conn, args) => {
    const p = await pool(conn, arg(args, 0));
    await p.refresh();
    return { json: { pool: p.name, action: 'refreshed' }, text: `Pool ${p.name} refreshed` };
  },
  'vol-info': async (conn, args, o) => {
    const v = await volume(conn, arg(args, 0), o);
    const info = o.physical
      ? await v.getInfoFlags(VirStorageVolInfoFlags.VIR_STORAGE_VOL_GET_PHYSICAL)
      : await v.getInfo();
    const type = lower(VirStorageVolType, 'VIR_STORAGE_VOL_', info.type);
    const size = (n: bigint): string => (o.bytes ? `${n} bytes` : virshSize(n));
    const last = o.physical ? 'Physical' : 'Allocation';
    return {
      json: {
        name: v.name,
        pool: v.poolName,
        key: v.key,
        type,
        capacity: info.capacity,
        [o.physical ? 'physical' : 'allocation']: info.allocation,
      },
      text: fields([
        ['Name', v.name],
        ['Type', type],
        ['Capacity', size(info.capacity)],
        [last, size(info.allocation)],
      ]),
    };
  },
  'vol-upload': transfer('upload'),
  'vol-download': transfer('download'),
};
