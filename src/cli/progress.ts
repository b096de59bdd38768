/**
 * Migration progress as the CLI shows it: a snapshot built from the library's
 * MigrationProgress, and pure renderers from a snapshot to text (one line for
 * a terminal of a given width, a plain line for logs, an object for --json).
 */
import type { MigrationProgress } from '../api/migration/index.js';
import { formatBytes, formatClock, formatRate } from './format.js';

export type MigrationPhaseName = 'precopy' | 'postcopy';

/** What one progress update shows; byte counts in bytes, rates per second. */
export interface ProgressSnapshot {
  readonly phase: MigrationPhaseName;
  /** 0-100, when the total is known. */
  readonly percent: number | undefined;
  readonly memoryTotal: number | undefined;
  readonly memoryProcessed: number | undefined;
  readonly memoryRemaining: number | undefined;
  /** Transfer rate, bytes/s. */
  readonly memoryBps: number | undefined;
  /** Pages dirtied per second, as libvirt reports it. */
  readonly memoryDirtyRate: number | undefined;
  readonly memoryPageSize: number | undefined;
  readonly memoryIteration: number | undefined;
  readonly postcopyRequests: number | undefined;
  readonly dataTotal: number | undefined;
  readonly dataProcessed: number | undefined;
  readonly dataRemaining: number | undefined;
  /** Time since the migration job started (the daemon's count when it gives one). */
  readonly elapsedMs: number;
}

/** The library's progress record as a snapshot; `wallElapsedMs` stands in when the daemon gives no time. */
export function snapshotFromProgress(
  p: MigrationProgress,
  wallElapsedMs: number,
): ProgressSnapshot {
  return {
    phase: p.phase,
    // remaining can exceed the total while pages are dirtied faster than sent: no negative percent
    percent: p.percent === undefined ? undefined : Math.max(0, Math.min(100, p.percent)),
    memoryTotal: p.memoryTotal,
    memoryProcessed: p.memoryProcessed,
    memoryRemaining: p.memoryRemaining,
    memoryBps: p.memoryBps,
    memoryDirtyRate: p.memoryDirtyRate,
    memoryPageSize: p.memoryPageSize,
    memoryIteration: p.memoryIteration,
    postcopyRequests: p.memoryPostcopyRequests,
    dataTotal: p.dataTotal,
    dataProcessed: p.dataProcessed,
    dataRemaining: p.dataRemaining,
    elapsedMs: p.timeElapsedMs ?? wallElapsedMs,
  };
}

/** The dirty rate in bytes/s, when the page size is known. */
export function dirtyBytesPerSecond(s: ProgressSnapshot): number | undefined {
  if (s.memoryDirtyRate === undefined || s.memoryPageSize === undefined) return undefined;
  return s.memoryDirtyRate * s.memoryPageSize;
}

/**
 * Time left, in ms: remaining memory over the net rate. Pre-copy only gains
 * what the transfer rate outruns the dirty rate, so a guest that dirties
 * faster than the link never converges: `Infinity` (post-copy or auto-converge
 * will have to end it). `undefined` when the rates are not known yet.
 */
export function estimateEtaMs(s: ProgressSnapshot): number | undefined {
  const left = s.memoryRemaining;
  const bps = s.memoryBps;
  if (left === undefined || bps === undefined) return undefined;
  if (left === 0) return 0;
  if (bps <= 0) return undefined;
  if (s.phase === 'postcopy') return (1000 * left) / bps;
  const dirty = dirtyBytesPerSecond(s) ?? 0;
  const net = bps - dirty;
  return net > 0 ? (1000 * left) / net : Number.POSITIVE_INFINITY;
}

export const phaseLabel = (p: MigrationPhaseName): string =>
  p === 'postcopy' ? 'post-copy' : 'pre-copy';

const pct = (p: number | undefined): string => (p === undefined ? '  ?.?%' : `${p.toFixed(1)}%`);

function etaText(eta: number | undefined): string | undefined {
  if (eta === undefined) return undefined;
  return Number.isFinite(eta) ? formatClock(eta) : '--';
}

function dirtyText(s: ProgressSnapshot): string | undefined {
  const b = dirtyBytesPerSecond(s);
  if (b !== undefined) return formatRate(b);
  return s.memoryDirtyRate === undefined ? undefined : `${s.memoryDirtyRate} pages/s`;
}

interface Field {
  readonly text: string;
  /** Higher is kept longer when the line does not fit. */
  readonly keep: number;
}

const BAR_MIN = 10;
const BAR_MAX = 32;

/** `[#########.........]` for `percent` in `width` characters (brackets included). */
export function bar(percent: number | undefined, width: number): string {
  const inner = Math.max(1, width - 2);
  const full = percent === undefined ? 0 : Math.round((inner * Math.min(100, percent)) / 100);
  return `[${'#'.repeat(full)}${'.'.repeat(inner - full)}]`;
}

/**
 * One line for a terminal `width` columns wide, never longer than width - 1
 * (writing the last column makes some terminals wrap, which breaks redrawing
 * in place). Fields that do not fit are dropped, least important first: dirty
 * rate, iteration, rate, ETA, elapsed time, remaining memory; the bar shrinks
 * before any of them goes and disappears last.
 */
export function renderProgress(s: ProgressSnapshot, width: number): string {
  const room = Math.max(1, Math.floor(width) - 1);
  const fields: Field[] = [
    { text: pct(s.percent).padStart(6), keep: 10 },
    { text: phaseLabel(s.phase).padEnd(9), keep: 9 },
  ];
  if (s.memoryIteration !== undefined) fields.push({ text: `iter ${s.memoryIteration}`, keep: 4 });
  if (s.memoryRemaining !== undefined)
    fields.push({ text: `${formatBytes(s.memoryRemaining)} left`, keep: 8 });
  if (s.memoryBps !== undefined) fields.push({ text: formatRate(s.memoryBps), keep: 5 });
  const dirty = dirtyText(s);
  if (dirty !== undefined && s.phase === 'precopy')
    fields.push({ text: `dirty ${dirty}`, keep: 3 });
  fields.push({ text: formatClock(s.elapsedMs), keep: 7 });
  const eta = etaText(estimateEtaMs(s));
  if (eta !== undefined) fields.push({ text: `ETA ${eta}`, keep: 6 });

  const joined = (fs: readonly Field[]): string => fs.map((f) => f.text).join('  ');
  let kept = fields;
  for (;;) {
    const text = joined(kept);
    const barRoom = room - text.length - 1;
    if (barRoom >= BAR_MIN) return `${bar(s.percent, Math.min(BAR_MAX, barRoom))} ${text}`;
    if (kept.length <= 2) return text.length <= room ? text : text.slice(0, room);
    // drop the least important field left (the percent and the phase always stay)
    let drop = 2;
    for (let i = 3; i < kept.length; i++) if (kept[i]!.keep < kept[drop]!.keep) drop = i;
    kept = kept.filter((_, i) => i !== drop);
  }
}

/** A self-contained line for logs (no terminal): every known field, named. */
export function renderPlainProgress(s: ProgressSnapshot): string {
  const parts = [`migration: ${pct(s.percent).trim()} ${phaseLabel(s.phase)}`];
  if (s.memoryIteration !== undefined) parts.push(`iteration ${s.memoryIteration}`);
  if (s.memoryRemaining !== undefined) {
    const of = s.memoryTotal !== undefined ? ` of ${formatBytes(s.memoryTotal)}` : '';
    parts.push(`remaining ${formatBytes(s.memoryRemaining)}${of}`);
  }
  if (s.memoryBps !== undefined) parts.push(`rate ${formatRate(s.memoryBps)}`);
  const dirty = dirtyText(s);
  if (dirty !== undefined) parts.push(`dirty ${dirty}`);
  if (s.phase === 'postcopy' && s.postcopyRequests !== undefined)
    parts.push(`post-copy requests ${s.postcopyRequests}`);
  parts.push(`elapsed ${formatClock(s.elapsedMs)}`);
  const eta = etaText(estimateEtaMs(s));
  if (eta !== undefined) parts.push(`ETA ${eta}`);
  return parts.join(', ');
}

/** The --json form of one update: stable field names, numbers, null when unknown. */
export function progressJson(s: ProgressSnapshot): Record<string, unknown> {
  const eta = estimateEtaMs(s);
  return {
    type: 'progress',
    phase: s.phase,
    percent: s.percent === undefined ? null : Math.round(s.percent * 10) / 10,
    elapsedMs: s.elapsedMs,
    etaMs: eta === undefined || !Number.isFinite(eta) ? null : Math.round(eta),
    converging: eta === undefined ? null : Number.isFinite(eta),
    iteration: s.memoryIteration ?? null,
    memoryTotal: s.memoryTotal ?? null,
    memoryProcessed: s.memoryProcessed ?? null,
    memoryRemaining: s.memoryRemaining ?? null,
    memoryBps: s.memoryBps ?? null,
    memoryDirtyRate: s.memoryDirtyRate ?? null,
    memoryPageSize: s.memoryPageSize ?? null,
    dataTotal: s.dataTotal ?? null,
    dataProcessed: s.dataProcessed ?? null,
    dataRemaining: s.dataRemaining ?? null,
    postcopyRequests: s.postcopyRequests ?? null,
  };
}
