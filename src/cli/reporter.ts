/**
 * Where a migration's progress goes: a live line redrawn in place on a
 * terminal, one JSON object per line with --json, or plain periodic lines
 * for logs. The migrate code path is the same for all three; only the
 * reporter differs.
 */
import { SHOW_CURSOR } from './constants.js';
import type { Output } from './context.js';
import { jsonLine } from './json.js';
import {
  type ProgressSnapshot,
  progressJson,
  renderPlainProgress,
  renderProgress,
} from './progress.js';
import { type MigrationSummary, renderSummary, summaryJson } from './summary.js';

export interface MigrationStart {
  readonly domain: string;
  readonly source: string;
  readonly destination: string;
  readonly mode: 'managed' | 'p2p' | 'direct';
  /** Human description of the options, e.g. `live, post-copy after the first pass`. */
  readonly description: string;
  readonly options: Record<string, unknown>;
}

export interface Reporter {
  start(info: MigrationStart): void;
  progress(s: ProgressSnapshot): void;
  /** A migration event; `important` ones (the post-copy switch) show even without --verbose. */
  event(text: string, json: Record<string, unknown>, important: boolean): void;
  /** Something the CLI did or decided (abort requested, timeout action...). */
  note(text: string, json: Record<string, unknown>): void;
  finish(summary: MigrationSummary): void;
  /** Restores the terminal if the run ends abnormally; safe to call twice. */
  close(): void;
}

/** Carriage return + erase line: redraw in place. */
export const CLEAR_LINE = '\r\x1b[2K';
export const HIDE_CURSOR = '\x1b[?25l';
// kept with the exit statuses: main.ts shows the cursor on Ctrl-C without loading this file
export { SHOW_CURSOR };

const describeStart = (i: MigrationStart): string =>
  `Migrating ${i.domain}: ${i.source} -> ${i.destination} (${i.description})`;

/** The live progress line on a terminal. */
export class TtyReporter implements Reporter {
  private line = '';
  private cursorHidden = false;

  constructor(
    private readonly out: Output,
    private readonly verbose: boolean,
  ) {}

  private get width(): number {
    return this.out.columns && this.out.columns > 0 ? this.out.columns : 80;
  }

  start(info: MigrationStart): void {
    this.out.write(`${describeStart(info)}\n${HIDE_CURSOR}`);
    this.cursorHidden = true;
  }

  progress(s: ProgressSnapshot): void {
    this.line = renderProgress(s, this.width);
    this.out.write(CLEAR_LINE + this.line);
  }

  private above(text: string): void {
    // print above the live line, then draw the line again below it
    this.out.write(`${CLEAR_LINE}${text}\n${this.line}`);
  }

  event(text: string, _json: Record<string, unknown>, important: boolean): void {
    if (this.verbose || important) this.above(text);
  }

  note(text: string, _json: Record<string, unknown>): void {
    this.above(text);
  }

  finish(summary: MigrationSummary): void {
    // the live line gives way to the summary, which has the final numbers
    this.out.write(`${this.line ? CLEAR_LINE : ''}${renderSummary(summary)}\n`);
    this.line = '';
    this.close();
  }

  close(): void {
    if (!this.cursorHidden) return;
    this.cursorHidden = false;
    this.out.write(SHOW_CURSOR);
  }
}

/** One JSON object per line: start, progress, event, note, summary. */
export class JsonReporter implements Reporter {
  constructor(private readonly out: Output) {}

  private emit(o: Record<string, unknown>): void {
    this.out.write(`${jsonLine({ ...o, time: new Date().toISOString() })}\n`);
  }

  start(info: MigrationStart): void {
    this.emit({ type: 'start', ...info });
  }

  progress(s: ProgressSnapshot): void {
    this.emit(progressJson(s));
  }

  event(_text: string, json: Record<string, unknown>, _important: boolean): void {
    this.emit(json);
  }

  note(text: string, json: Record<string, unknown>): void {
    this.emit({ type: 'note', message: text, ...json });
  }

  finish(summary: MigrationSummary): void {
    this.emit(summaryJson(summary));
  }

  close(): void {}
}

/** Plain lines for logs and pipes: no escape codes, one line per update. */
export class PlainReporter implements Reporter {
  constructor(
    private readonly out: Output,
    private readonly verbose: boolean,
  ) {}

  start(info: MigrationStart): void {
    this.out.write(`${describeStart(info)}\n`);
  }

  progress(s: ProgressSnapshot): void {
    this.out.write(`${renderPlainProgress(s)}\n`);
  }

  event(text: string, _json: Record<string, unknown>, important: boolean): void {
    if (this.verbose || important) this.out.write(`${text}\n`);
  }

  note(text: string, _json: Record<string, unknown>): void {
    this.out.write(`${text}\n`);
  }

  finish(summary: MigrationSummary): void {
    this.out.write(`${renderSummary(summary)}\n`);
  }

  close(): void {}
}

/** The reporter for an output: JSON when asked, the live line on a terminal, plain lines otherwise. */
export function chooseReporter(out: Output, opts: { json?: boolean; verbose?: boolean }): Reporter {
  if (opts.json) return new JsonReporter(out);
  if (out.isTTY) return new TtyReporter(out, opts.verbose ?? false);
  return new PlainReporter(out, opts.verbose ?? false);
}

/** How often each reporter polls the job statistics. */
export function progressInterval(out: Output, opts: { json?: boolean }): number {
  if (opts.json) return 500;
  return out.isTTY ? 250 : 1000;
}
