/**
 * `virtwire domjobinfo`: a domain's job statistics with virsh's labels,
 * order, units and conditions (what virsh 9.0 prints for each typed
 * parameter of virDomainGetJobStats), and the same statistics as typed JSON.
 */
import type { Connection } from '../api/handles.js';
import type { JobStats } from '../api/migration/index.js';
import type { TypedValue } from '../api/typed-params.js';
import type { CliContext } from './context.js';
import { jsonPretty } from './json.js';

/** virsh's words for virDomainJobType, by value. */
export const JOB_TYPE_NAMES: readonly string[] = [
  'None',
  'Bounded',
  'Unbounded',
  'Completed',
  'Failed',
  'Cancelled',
];

/** virsh's words for virDomainJobOperation, by value. */
export const JOB_OPERATION_NAMES: readonly string[] = [
  'Unknown',
  'Start',
  'Save',
  'Restore',
  'Incoming migration',
  'Outgoing migration',
  'Snapshot',
  'Snapshot revert',
  'Dump',
  'Backup',
  'Snapshot delete',
];

const COMPLETED = 3;

export const jobTypeName = (t: number): string => JOB_TYPE_NAMES[t] ?? `unknown (${t})`;
export const jobOperationName = (op: number): string =>
  JOB_OPERATION_NAMES[op] ?? `unknown (${op})`;

/**
 * How virsh shows a value: `ms` and `pages/s` and `bytes` follow the number,
 * `size` is a binary-prefixed capacity with three decimals (`34.063 MiB`),
 * `rate` the same per second, `count` the bare number, `text` the string.
 */
type Kind = 'ms' | 'size' | 'rate' | 'pages/s' | 'bytes' | 'count' | 'text';

interface Field {
  readonly key: string;
  /** virsh's label; a function when it depends on the job (downtime). */
  readonly label: string | ((jobType: number) => string);
  readonly kind: Kind;
  /** virsh leaves the line out when the value is 0 (the disk figures of a memory-only migration). */
  readonly nonZero?: boolean;
}

/** In virsh's order. */
const FIELDS: readonly Field[] = [
  { key: 'time_elapsed', label: 'Time elapsed', kind: 'ms' },
  { key: 'time_elapsed_net', label: 'Time elapsed w/o network', kind: 'ms' },
  { key: 'time_remaining', label: 'Time remaining', kind: 'ms' },
  { key: 'data_processed', label: 'Data processed', kind: 'size' },
  { key: 'data_remaining', label: 'Data remaining', kind: 'size' },
  { key: 'data_total', label: 'Data total', kind: 'size' },
  { key: 'memory_processed', label: 'Memory processed', kind: 'size' },
  { key: 'memory_remaining', label: 'Memory remaining', kind: 'size' },
  { key: 'memory_total', label: 'Memory total', kind: 'size' },
  { key: 'memory_bps', label: 'Memory bandwidth', kind: 'rate', nonZero: true },
  { key: 'memory_dirty_rate', label: 'Dirty rate', kind: 'pages/s' },
  { key: 'memory_page_size', label: 'Page size', kind: 'bytes' },
  { key: 'memory_iteration', label: 'Iteration', kind: 'count' },
  { key: 'memory_postcopy_requests', label: 'Postcopy requests', kind: 'count' },
  { key: 'disk_processed', label: 'File processed', kind: 'size', nonZero: true },
  { key: 'disk_remaining', label: 'File remaining', kind: 'size', nonZero: true },
  { key: 'disk_total', label: 'File total', kind: 'size', nonZero: true },
  { key: 'disk_bps', label: 'File bandwidth', kind: 'rate', nonZero: true },
  { key: 'memory_constant', label: 'Constant pages', kind: 'count' },
  { key: 'memory_normal', label: 'Normal pages', kind: 'count' },
  { key: 'memory_normal_bytes', label: 'Normal data', kind: 'size' },
  {
    key: 'downtime',
    // a completed job's downtime was measured; a running one's is what QEMU expects
    label: (t) => (t === COMPLETED ? 'Total downtime' : 'Expected downtime'),
    kind: 'ms',
  },
  { key: 'downtime_net', label: 'Downtime w/o network', kind: 'ms' },
  { key: 'setup_time', label: 'Setup time', kind: 'ms' },
  { key: 'compression_cache', label: 'Compression cache', kind: 'size' },
  { key: 'compression_bytes', label: 'Compressed data', kind: 'size' },
  { key: 'compression_pages', label: 'Compressed pages', kind: 'count' },
  { key: 'compression_cache_misses', label: 'Compression cache misses', kind: 'count' },
  { key: 'compression_overflow', label: 'Compression overflows', kind: 'count' },
  { key: 'auto_converge_throttle', label: 'Auto converge throttle', kind: 'count' },
  { key: 'disk_temp_used', label: 'Temporary disk space use', kind: 'size' },
  { key: 'disk_temp_total', label: 'Temporary disk space total', kind: 'size' },
  { key: 'errmsg', label: 'Error message', kind: 'text' },
];

/** The job-stats keys virsh has a label for (operation is shown on its own line). */
export const LABELLED_JOB_KEYS: ReadonlySet<string> = new Set([
  'operation',
  ...FIELDS.map((f) => f.key),
]);

const SIZE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

/** virsh's capacity: `0.000 B`, `34.063 MiB` (binary prefixes, three decimals). */
export function virshCapacity(n: number): string {
  let v = n;
  let u = 0;
  while (v >= 1024 && u < SIZE_UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(3)} ${SIZE_UNITS[u]}`;
}

const asNumber = (v: TypedValue): number =>
  typeof v === 'bigint' ? Number(v) : typeof v === 'boolean' ? Number(v) : Number(v);

function show(kind: Kind, v: TypedValue): string {
  if (kind === 'text' || typeof v === 'string') return String(v);
  const n = asNumber(v);
  switch (kind) {
    case 'ms':
      return `${v} ms`;
    case 'size':
      return virshCapacity(n);
    case 'rate':
      return `${virshCapacity(n)}/s`;
    case 'pages/s':
      return `${v} pages/s`;
    case 'bytes':
      return `${v} bytes`;
    default:
      return String(v);
  }
}

/** One line of domjobinfo: virsh's label (or libvirt's key for a field virsh has none for) and the value. */
export interface JobInfoLine {
  readonly key: string;
  readonly label: string;
  readonly text: string;
}

/** The lines virsh prints for these statistics, in its order; fields virsh 9.0 does not know last, by key. */
export function jobInfoLines(s: JobStats): JobInfoLine[] {
  const lines: JobInfoLine[] = [{ key: 'type', label: 'Job type', text: jobTypeName(s.type) }];
  if (s.type === 0) return lines;
  const raw = s.raw;
  const op = raw.operation;
  if (op !== undefined)
    lines.push({ key: 'operation', label: 'Operation', text: jobOperationName(asNumber(op)) });
  for (const f of FIELDS) {
    const v = raw[f.key];
    if (v === undefined) continue;
    if (f.nonZero && typeof v !== 'string' && asNumber(v) === 0) continue;
    const label = typeof f.label === 'function' ? f.label(s.type) : f.label;
    lines.push({ key: f.key, label, text: show(f.kind, v) });
  }
  for (const [k, v] of Object.entries(raw)) {
    if (!LABELLED_JOB_KEYS.has(k)) lines.push({ key: k, label: k, text: String(v) });
  }
  return lines;
}

/** `Label:` in virsh's 17-column field, then the value (a longer label gets one space). */
export const virshLine = (label: string, text: string, width = 17): string =>
  `${`${label}:`.padEnd(width)} ${text}`;

/** domjobinfo's text: one `Label: value` line per field, as virsh prints them. */
export function renderJobInfo(s: JobStats): string {
  return jobInfoLines(s)
    .map((l) => virshLine(l.label, l.text))
    .join('\n');
}

/** virsh's --rawstats: every typed parameter by libvirt's name. */
export function renderRawJobStats(s: JobStats): string {
  return [
    virshLine('Job type', jobTypeName(s.type)),
    '',
    ...Object.entries(s.raw).map(([k, v]) => `${k}: ${String(v)}`),
  ].join('\n');
}

/**
 * A typed value as JSON: numbers stay numbers (a 64-bit value beyond 2^53 - 1,
 * which job statistics do not reach, is a decimal string rather than a rounded number).
 */
export function jsonTypedValue(v: TypedValue): number | string | boolean {
  if (typeof v !== 'bigint') return v;
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER)
    ? Number(v)
    : v.toString();
}

/** domjobinfo --json: the job type and operation by name and number, every statistic typed. */
export function jobInfoJson(s: JobStats): Record<string, unknown> {
  const stats: Record<string, number | string | boolean> = {};
  for (const [k, v] of Object.entries(s.raw)) stats[k] = jsonTypedValue(v);
  const op = s.raw.operation;
  return {
    type: jobTypeName(s.type),
    typeCode: s.type,
    ...(op !== undefined
      ? { operation: jobOperationName(asNumber(op)), operationCode: asNumber(op) }
      : {}),
    stats,
  };
}

export interface DomjobinfoOptions {
  readonly completed?: boolean;
  readonly keepCompleted?: boolean;
  readonly rawstats?: boolean;
  readonly json?: boolean;
}

export async function domjobinfoCommand(
  ctx: CliContext,
  name: string,
  opts: DomjobinfoOptions,
): Promise<void> {
  const conn: Connection = await ctx.open();
  try {
    const d = await conn.lookupDomain(name);
    // The destination of a migration answers with libvirt's own refusal
    // (VIR_ERR_OPERATION_UNSUPPORTED: statistics only on the source), printed as virsh prints it.
    const s = await d.jobStats({
      ...(opts.completed ? { completed: true } : {}),
      ...(opts.keepCompleted ? { keepCompleted: true } : {}),
    });
    if (opts.json) ctx.out(jsonPretty(jobInfoJson(s)));
    else ctx.out(opts.rawstats ? renderRawJobStats(s) : renderJobInfo(s));
  } finally {
    await conn.close();
  }
}
