/**
 * The virsh-like domain commands: list, dominfo, domstate, domjobinfo,
 * domjobabort, migrate-postcopy. Each renders with a pure function (tested
 * on its own) and has a --json form where output is data.
 */
import type { Connection, Domain } from '../api/handles.js';
import type { JobStats } from '../api/migration/index.js';
import { type DomainState, enumName } from '../api/names.js';
import {
  VirDomainAbortJobFlagsValues,
  VirDomainJobOperation,
  VirDomainJobType,
} from '../generated/api.js';
import { isNoDomain } from '../rpc/errors.js';
import type { CliContext } from './context.js';
import { formatBytes, table } from './format.js';
import { jsonPretty } from './json.js';
import { listFlags } from './virsh-commands.js';

/** virsh's words for domain states. */
const VIRSH_STATE: Record<string, string> = {
  nostate: 'no state',
  running: 'running',
  blocked: 'idle',
  paused: 'paused',
  shutdown: 'in shutdown',
  shutoff: 'shut off',
  crashed: 'crashed',
  pmsuspended: 'pmsuspended',
};

export const stateWords = (state: string): string => VIRSH_STATE[state] ?? state;
/** `postcopy_failed` -> `postcopy failed`. */
export const reasonWords = (reason: string): string => reason.replace(/_/g, ' ');

export function renderState(s: DomainState, withReason: boolean): string {
  return withReason ? `${stateWords(s.state)} (${reasonWords(s.reason)})` : stateWords(s.state);
}

export interface ListRow {
  readonly id: number;
  readonly name: string;
  readonly uuid: string;
  readonly state: DomainState;
}

export function renderList(rows: readonly ListRow[]): string {
  return table(
    ['Id', 'Name', 'State'],
    rows.map((r) => [r.id >= 0 ? String(r.id) : '-', r.name, stateWords(r.state.state)]),
  );
}

/** Running domains first by id, then inactive ones by name, as virsh orders them. */
function byVirshOrder(a: ListRow, b: ListRow): number {
  const ai = a.id >= 0 ? a.id : Number.POSITIVE_INFINITY;
  const bi = b.id >= 0 ? b.id : Number.POSITIVE_INFINITY;
  return ai - bi || a.name.localeCompare(b.name);
}

async function withConnection<T>(ctx: CliContext, fn: (c: Connection) => Promise<T>): Promise<T> {
  const conn = await ctx.open();
  try {
    return await fn(conn);
  } finally {
    await conn.close();
  }
}

export async function listCommand(
  ctx: CliContext,
  opts: Readonly<Record<string, boolean | undefined>>,
): Promise<void> {
  await withConnection(ctx, async (conn) => {
    const domains = await conn.listAllDomains(listFlags(opts));
    // A domain may vanish between the listing and its state call (a transient one stopping): skip it.
    const found = await Promise.all(
      domains.map(async (d): Promise<ListRow | null> => {
        try {
          return { id: d.id, name: d.name, uuid: d.uuid, state: await d.state() };
        } catch (err) {
          if (isNoDomain(err)) return null;
          throw err;
        }
      }),
    );
    const rows = found.filter((r): r is ListRow => r !== null);
    rows.sort(byVirshOrder);
    if (opts.json) {
      ctx.out(
        jsonPretty(
          rows.map((r) => ({
            id: r.id >= 0 ? r.id : null,
            name: r.name,
            uuid: r.uuid,
            state: r.state.state,
            reason: r.state.reason,
          })),
        ),
      );
    } else if (opts.name || opts.uuid) {
      for (const r of rows) ctx.out(opts.uuid && !opts.name ? r.uuid : r.name);
    } else {
      ctx.out(renderList(rows));
    }
  });
}

export interface DomInfo {
  readonly id: number;
  readonly name: string;
  readonly uuid: string;
  readonly osType: string | undefined;
  readonly state: DomainState;
  readonly vcpus: number;
  readonly cpuTimeNs: bigint;
  readonly maxMemKiB: bigint;
  readonly memoryKiB: bigint;
  readonly persistent: boolean | undefined;
  readonly autostart: boolean | undefined;
  readonly managedSave: boolean | undefined;
}

export function renderDomInfo(i: DomInfo): string {
  const rows: Array<[string, string]> = [
    ['Id', i.id >= 0 ? String(i.id) : '-'],
    ['Name', i.name],
    ['UUID', i.uuid],
  ];
  if (i.osType !== undefined) rows.push(['OS Type', i.osType]);
  rows.push(['State', stateWords(i.state.state)], ['CPU(s)', String(i.vcpus)]);
  if (i.state.state === 'running' || i.cpuTimeNs > 0n)
    rows.push(['CPU time', `${(Number(i.cpuTimeNs) / 1e9).toFixed(1)}s`]);
  rows.push(['Max memory', `${i.maxMemKiB} KiB`], ['Used memory', `${i.memoryKiB} KiB`]);
  const yn = (b: boolean | undefined): string => (b === undefined ? 'unknown' : b ? 'yes' : 'no');
  rows.push(['Persistent', yn(i.persistent)]);
  if (i.autostart !== undefined) rows.push(['Autostart', i.autostart ? 'enable' : 'disable']);
  if (i.managedSave !== undefined) rows.push(['Managed save', yn(i.managedSave)]);
  return rows.map(([k, v]) => `${`${k}:`.padEnd(16)}${v}`).join('\n');
}

/** Optional facts: a daemon (or the simulator) may not implement every call. */
const optional = <T>(p: Promise<T>): Promise<T | undefined> => p.catch(() => undefined);

export async function domInfo(d: Domain): Promise<DomInfo> {
  const [info, state, osType, persistent, autostart, managedSave] = await Promise.all([
    d.getInfo(),
    d.state(),
    optional(d.getOSType()),
    optional(d.isPersistent().then((r) => r !== 0)),
    optional(d.getAutostart().then((r) => r !== 0)),
    optional(d.hasManagedSaveImage().then((r) => r !== 0)),
  ]);
  return {
    id: d.id,
    name: d.name,
    uuid: d.uuid,
    osType,
    state,
    vcpus: info.nrVirtCpu,
    cpuTimeNs: info.cpuTime,
    maxMemKiB: info.maxMem,
    memoryKiB: info.memory,
    persistent,
    autostart,
    managedSave,
  };
}

export async function dominfoCommand(
  ctx: CliContext,
  name: string,
  opts: { json?: boolean },
): Promise<void> {
  await withConnection(ctx, async (conn) => {
    const i = await domInfo(await conn.lookupDomain(name));
    ctx.out(opts.json ? jsonPretty({ ...i, id: i.id >= 0 ? i.id : null }) : renderDomInfo(i));
  });
}

export async function domstateCommand(
  ctx: CliContext,
  name: string,
  opts: { reason?: boolean; json?: boolean },
): Promise<void> {
  await withConnection(ctx, async (conn) => {
    const s = await (await conn.lookupDomain(name)).state();
    ctx.out(opts.json ? jsonPretty(s) : renderState(s, opts.reason ?? false));
  });
}

const JOB_TYPES: Record<number, string> = {
  [VirDomainJobType.VIR_DOMAIN_JOB_NONE]: 'None',
  [VirDomainJobType.VIR_DOMAIN_JOB_BOUNDED]: 'Bounded',
  [VirDomainJobType.VIR_DOMAIN_JOB_UNBOUNDED]: 'Unbounded',
  [VirDomainJobType.VIR_DOMAIN_JOB_COMPLETED]: 'Completed',
  [VirDomainJobType.VIR_DOMAIN_JOB_FAILED]: 'Failed',
  [VirDomainJobType.VIR_DOMAIN_JOB_CANCELLED]: 'Cancelled',
};

/** Job statistics as `Label:  value` lines: the well-known fields by name, then every other field. */
export function renderJobInfo(s: JobStats): string {
  const rows: Array<[string, string]> = [['Job type', JOB_TYPES[s.type] ?? `unknown(${s.type})`]];
  if (s.type === VirDomainJobType.VIR_DOMAIN_JOB_NONE) return `${'Job type:'.padEnd(22)}None`;
  if (s.operation !== undefined)
    rows.push([
      'Operation',
      enumName(VirDomainJobOperation, 'VIR_DOMAIN_JOB_OPERATION_', s.operation).replace(/_/g, ' '),
    ]);
  const ms = (n: number | undefined): string | undefined =>
    n === undefined ? undefined : `${n} ms`;
  const bytes = (n: number | undefined): string | undefined =>
    n === undefined ? undefined : formatBytes(n);
  const known: Array<[string, string | undefined, string]> = [
    ['Time elapsed', ms(s.timeElapsedMs), 'time_elapsed'],
    ['Downtime', ms(s.downtimeMs), 'downtime'],
    ['Setup time', ms(s.setupTimeMs), 'setup_time'],
    ['Data processed', bytes(s.dataProcessed), 'data_processed'],
    ['Data remaining', bytes(s.dataRemaining), 'data_remaining'],
    ['Data total', bytes(s.dataTotal), 'data_total'],
    ['Memory processed', bytes(s.memoryProcessed), 'memory_processed'],
    ['Memory remaining', bytes(s.memoryRemaining), 'memory_remaining'],
    ['Memory total', bytes(s.memoryTotal), 'memory_total'],
    [
      'Memory bandwidth',
      s.memoryBps === undefined ? undefined : `${formatBytes(s.memoryBps)}/s`,
      'memory_bps',
    ],
    [
      'Dirty rate',
      s.memoryDirtyRate === undefined ? undefined : `${s.memoryDirtyRate} pages/s`,
      'memory_dirty_rate',
    ],
    [
      'Page size',
      s.memoryPageSize === undefined ? undefined : `${s.memoryPageSize} bytes`,
      'memory_page_size',
    ],
    ['Iteration', s.memoryIteration?.toString(), 'memory_iteration'],
    ['Postcopy requests', s.memoryPostcopyRequests?.toString(), 'memory_postcopy_requests'],
  ];
  const shown = new Set(['operation']);
  for (const [label, v, field] of known) {
    shown.add(field);
    if (v !== undefined) rows.push([label, v]);
  }
  for (const [k, v] of Object.entries(s.raw)) {
    if (!shown.has(k)) rows.push([k, String(v)]);
  }
  return rows.map(([k, v]) => `${`${k}:`.padEnd(22)}${k.length >= 21 ? ' ' : ''}${v}`).join('\n');
}

export async function domjobinfoCommand(
  ctx: CliContext,
  name: string,
  opts: { completed?: boolean; keepCompleted?: boolean; json?: boolean },
): Promise<void> {
  await withConnection(ctx, async (conn) => {
    const d = await conn.lookupDomain(name);
    const s = await d.jobStats({
      ...(opts.completed ? { completed: true } : {}),
      ...(opts.keepCompleted ? { keepCompleted: true } : {}),
    });
    if (opts.json) {
      ctx.out(
        jsonPretty({
          type: JOB_TYPES[s.type] ?? s.type,
          typeCode: s.type,
          stats: s.raw,
        }),
      );
    } else ctx.out(renderJobInfo(s));
  });
}

export async function domjobabortCommand(
  ctx: CliContext,
  name: string,
  opts: { postcopy?: boolean },
): Promise<void> {
  await withConnection(ctx, async (conn) => {
    const d = await conn.lookupDomain(name);
    if (opts.postcopy)
      await d.abortJobFlags(VirDomainAbortJobFlagsValues.VIR_DOMAIN_ABORT_JOB_POSTCOPY);
    else await d.abortJob();
  });
}

export async function migratePostcopyCommand(ctx: CliContext, name: string): Promise<void> {
  await withConnection(ctx, async (conn) => {
    await (await conn.lookupDomain(name)).migrateStartPostCopy();
  });
}
