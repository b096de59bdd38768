/**
 * Migration progress as the CLI shows it: renderers from one timeline sample
 * (a ProgressRecord, whose figures the library derived) to text. One line for
 * a terminal of a given width, a plain line for logs; --json writes the
 * record itself. No figure is computed here.
 */
import type { ProgressRecord } from '../api/migration/index.js';
import { formatBytes, formatClock, formatRate } from './format.js';

export type MigrationPhaseName = ProgressRecord['phase'];

export const phaseLabel = (p: MigrationPhaseName): string =>
  p === 'postcopy' ? 'post-copy' : 'pre-copy';

const pct = (p: number | null): string => (p === null ? '?.?%' : `${p.toFixed(1)}%`);

/** `0:12`, `?` while unknown, `--` when pre-copy cannot converge at the measured rates. */
export function etaText(s: ProgressRecord): string {
  if (s.etaMs !== null) return formatClock(s.etaMs);
  return s.converging === false ? '--' : '?';
}

/** The dirty rate, `?` while unknown (first pass). */
function dirtyText(s: ProgressRecord): string {
  return s.dirtyBps === null ? '?' : formatRate(s.dirtyBps);
}

interface Field {
  readonly text: string;
  /** The width it always takes, so that the line does not jump as figures change. */
  readonly width: number;
  /** Higher is kept longer when the line does not fit. */
  readonly keep: number;
  readonly align: 'left' | 'right';
}

/** `[#########.........]` for `percent` in `width` characters (brackets included). */
export function bar(percent: number | null, width: number): string {
  const inner = Math.max(1, width - 2);
  const full = percent === null ? 0 : Math.round((inner * Math.min(100, percent)) / 100);
  return `[${'#'.repeat(full)}${'.'.repeat(inner - full)}]`;
}

/** The bar's width for a terminal: a function of the width alone, so it never changes mid-run. */
export function barWidth(columns: number): number {
  if (columns >= 118) return 20;
  if (columns >= 40) return 10;
  return 0;
}

/**
 * One line for a terminal `width` columns wide, never longer than width - 1
 * (writing the last column makes some terminals wrap, which breaks redrawing
 * in place). Every field has a fixed width and which fields are shown
 * depends only on the terminal's width, so nothing jumps from one redraw to
 * the next. Dropped first when it does not fit: dirty rate, pass, rate, ETA,
 * elapsed time, remaining memory; the percent and the phase always stay.
 */
export function renderProgress(s: ProgressRecord, width: number): string {
  const room = Math.max(1, Math.floor(width) - 1);
  const post = s.phase === 'postcopy';
  const fields: Field[] = [
    { text: pct(s.percent), width: 6, keep: 10, align: 'right' },
    { text: phaseLabel(s.phase), width: 9, keep: 9, align: 'left' },
    {
      text: post ? `reqs ${s.postcopyRequests ?? '?'}` : `iter ${s.iteration ?? '?'}`,
      width: 9,
      keep: 4,
      align: 'left',
    },
    {
      text: s.memoryRemaining === null ? '? left' : `${formatBytes(s.memoryRemaining)} left`,
      width: 13,
      keep: 8,
      align: 'right',
    },
    {
      text: s.rateBps === null ? '? B/s' : formatRate(s.rateBps),
      width: 10,
      keep: 5,
      align: 'right',
    },
    // post-copy has no dirty rate: the guest runs on the destination (blank, so columns stay put)
    { text: post ? '' : `dirty ${dirtyText(s)}`, width: 16, keep: 3, align: 'left' },
    // clocks past an hour take two more columns: the line moves then, once
    { text: formatClock(s.t), width: 5, keep: 7, align: 'right' },
    { text: `ETA ${etaText(s)}`, width: 9, keep: 6, align: 'left' },
  ];
  const b = barWidth(width);
  const budget = b > 0 ? room - b - 1 : room;
  const lineOf = (fs: readonly Field[]): string =>
    fs
      .map((f) => (f.align === 'right' ? f.text.padStart(f.width) : f.text.padEnd(f.width)))
      .join('  ')
      .trimEnd();
  const size = (fs: readonly Field[]): number =>
    fs.reduce((n, f) => n + f.width, 0) + 2 * (fs.length - 1);
  let kept = fields;
  while (kept.length > 2 && size(kept) > budget) {
    // drop the least important field left (the percent and the phase always stay)
    let drop = 2;
    for (let i = 3; i < kept.length; i++) if (kept[i]!.keep < kept[drop]!.keep) drop = i;
    kept = kept.filter((_, i) => i !== drop);
  }
  const text = lineOf(kept);
  const line = b > 0 && size(kept) <= budget ? `${bar(s.percent, b)} ${text}` : text;
  return line.length <= room ? line : line.slice(0, room);
}

/** A self-contained line for logs (no terminal): every known figure, named. */
export function renderPlainProgress(s: ProgressRecord): string {
  const parts = [`migration: ${pct(s.percent)} ${phaseLabel(s.phase)}`];
  if (s.phase === 'precopy' && s.iteration !== null) parts.push(`iteration ${s.iteration}`);
  if (s.memoryRemaining !== null) {
    const of = s.memoryTotal !== null ? ` of ${formatBytes(s.memoryTotal)}` : '';
    parts.push(`remaining ${formatBytes(s.memoryRemaining)}${of}`);
  }
  parts.push(`rate ${s.rateBps === null ? 'unknown' : formatRate(s.rateBps)}`);
  if (s.phase === 'precopy')
    parts.push(`dirty ${s.dirtyBps === null ? 'unknown (first pass)' : formatRate(s.dirtyBps)}`);
  if (s.phase === 'postcopy' && s.postcopyRequests !== null)
    parts.push(`post-copy requests ${s.postcopyRequests}`);
  parts.push(`elapsed ${formatClock(s.t)}`);
  parts.push(
    s.etaMs !== null
      ? `ETA ${formatClock(s.etaMs)}`
      : s.converging === false
        ? 'not converging (dirtied faster than sent)'
        : 'ETA unknown',
  );
  return parts.join(', ');
}
