/**
 * Charts of a migration's timeline as files: `--chart FILE.svg|FILE.html`
 * on `migrate` and `demo`, and `virtwire chart RUN.jsonl -o FILE` for a run
 * saved with --json (or a timeline saved as JSON).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import {
  type ChartSource,
  checkTimelineMeta,
  timelineFromJson,
  timelineFromRecords,
  timelineHtml,
  timelineSvg,
} from '../api/migration/index.js';
import type { CliContext } from './context.js';
import { UsageError } from './errors.js';

export type ChartFormat = 'svg' | 'html';

/** The chart format a file name asks for; anything else is a usage error naming the file. */
export function chartFormat(path: string, option = '--chart'): ChartFormat {
  const m = /\.(svg|html?)$/i.exec(path);
  if (!m) throw new UsageError(`${option} ${path}: the file name must end in .svg or .html`);
  return m[1]!.toLowerCase() === 'svg' ? 'svg' : 'html';
}

/** The chart of `src` as the file `path` asks for (.svg or .html). */
export function chartText(src: ChartSource, path: string): string {
  return chartFormat(path) === 'svg' ? timelineSvg(src) : timelineHtml(src);
}

export function writeChart(src: ChartSource, path: string): void {
  writeFileSync(path, chartText(src, path));
}

/**
 * A timeline from a saved run: the lines of `virtwire migrate --json` (its
 * `start` line names the migration), or one JSON document as
 * `JSON.stringify(migration.timeline)` gives it.
 */
export function readTimeline(text: string, file: string): ChartSource {
  const trimmed = text.trim();
  if (trimmed === '') throw new UsageError(`${file} is empty`);
  // one document, perhaps pretty-printed: a saved `migration.timeline`
  const whole = parseOrNull(trimmed);
  if (whole !== null && typeof whole === 'object' && 'version' in whole)
    return timelineFromJson(whole);
  const lines = trimmed.split('\n').filter((l) => l.trim() !== '');
  const parsed = lines.map((l, i) => {
    try {
      return JSON.parse(l) as unknown;
    } catch {
      if (lines.length === 1) throw new UsageError(`${file} is not JSON`);
      throw new UsageError(`${file}:${i + 1}: not a JSON line`);
    }
  });
  const start = parsed.find((o) => (o as { type?: unknown }).type === 'start');
  if (!start)
    throw new UsageError(`${file}: no "start" line: not the output of virtwire migrate --json`);
  return timelineFromRecords(checkTimelineMeta(start), parsed);
}

function parseOrNull(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

export interface ChartOptions {
  readonly output?: string;
}

/** `virtwire chart RUN.jsonl [-o FILE.svg|FILE.html]`: the SVG on stdout without -o. */
export function chartCommand(ctx: CliContext, file: string, opts: ChartOptions): void {
  if (opts.output !== undefined) chartFormat(opts.output, '-o');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  const tl = readTimeline(text, file);
  if (opts.output === undefined) {
    ctx.io.stdout.write(timelineSvg(tl));
    return;
  }
  writeChart(tl, opts.output);
  ctx.err(`chart written to ${opts.output}`);
}
