/**
 * Progress of a volume transfer (vol-upload, vol-download) on stderr: on a
 * terminal one line redrawn in place, at most ten times a second; elsewhere a
 * plain line a second, so a log shows the transfer moving without escape codes.
 */
import type { Output } from './context.js';
import { formatBytes, formatRate } from './format.js';
import { bar } from './progress.js';
import { CLEAR_LINE, hideCursor, isLiveTerminal, showCursor } from './terminal.js';

export interface TransferProgress {
  /** The bytes covered so far. */
  update(bytes: bigint): void;
  /** The last figures, then the terminal as it was. */
  done(): void;
}

/** `[####....]  45.2%  3.6 MiB of 8.0 MiB  12.3 MiB/s` (the total may be unknown: 0). */
export function transferLine(
  verb: string,
  bytes: bigint,
  total: bigint,
  elapsedMs: number,
  width: number | undefined,
): string {
  const n = Number(bytes);
  const pct = total > 0n ? Math.min(100, (n / Number(total)) * 100) : null;
  const rate = elapsedMs > 0 ? formatRate((n * 1000) / elapsedMs) : '?';
  const of = total > 0n ? ` of ${formatBytes(Number(total))}` : '';
  const figures = `${pct === null ? '' : `${pct.toFixed(1).padStart(5)}%  `}${formatBytes(n)}${of}  ${rate}`;
  if (width === undefined) return `${verb}: ${figures}`;
  // the bar's width follows the terminal's alone, so the line does not jump between redraws
  const barWidth = width >= 80 ? 22 : width >= 60 ? 12 : 0;
  const line =
    barWidth > 0 && pct !== null
      ? `${verb} ${bar(pct, barWidth)} ${figures}`
      : `${verb}: ${figures}`;
  if (line.length <= width) return line;
  // too narrow: the rate goes first, then whatever does not fit
  return line.slice(0, line.lastIndexOf('  ')).slice(0, width);
}

export function transferProgress(
  out: Output,
  env: NodeJS.ProcessEnv,
  verb: string,
  total: bigint,
  now: () => number = Date.now,
): TransferProgress {
  const live = isLiveTerminal(out, env);
  const start = now();
  const every = live ? 100 : 1000;
  let last = Number.NEGATIVE_INFINITY;
  let bytes = 0n;
  const draw = (): void => {
    const width = live ? Math.max(40, (out.columns ?? 80) - 1) : undefined;
    const line = transferLine(verb, bytes, total, now() - start, width);
    out.write(live ? `${CLEAR_LINE}${line}` : `${line}\n`);
  };
  if (live) hideCursor(out);
  return {
    update(b) {
      bytes = b;
      const t = now();
      if (t - last < every) return;
      last = t;
      draw();
    },
    done() {
      draw();
      if (live) {
        out.write('\n');
        showCursor(out);
      }
    },
  };
}
