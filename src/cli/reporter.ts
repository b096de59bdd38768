/**
 * Where a migration's timeline is shown while it runs: a live line redrawn
 * in place on a terminal, plain lines for logs, or one JSON object per
 * record with --json. As virsh does, progress and notes go to stderr and the
 * result (the summary) to stdout; --json puts everything on stdout.
 * Every reporter is a view of the same timeline records.
 */
import type {
  MigrationSummary,
  ProgressRecord,
  TimelineMeta,
  TimelineRecord,
} from '../api/migration/index.js';
import { switchText } from '../api/migration/index.js';
import type { Output } from './context.js';
import { formatDuration } from './format.js';
import { jsonLine } from './json.js';
import { renderPlainProgress, renderProgress } from './progress.js';
import { renderSummary, summaryJson } from './summary.js';
import { CLEAR_LINE, hideCursor, isLiveTerminal, showCursor } from './terminal.js';

export { CLEAR_LINE, HIDE_CURSOR, SHOW_CURSOR } from './terminal.js';

export interface MigrationStart {
  readonly domain: string;
  readonly source: string;
  readonly destination: string;
  readonly mode: 'managed' | 'p2p' | 'direct';
  /** Human description of the options, e.g. `live, post-copy after the first pass`. */
  readonly description: string;
  readonly options: Record<string, unknown>;
  /** The timeline's meta (its uuid, start time, flags): a saved --json run can be charted. */
  readonly meta: TimelineMeta;
}

export interface Reporter {
  start(info: MigrationStart): void;
  /** A record of the migration's timeline, as it is appended. */
  record(r: TimelineRecord): void;
  /** A line of the CLI's own after the timeline ended (a chart written, the states after leaving). */
  say(text: string, json: Record<string, unknown>): void;
  finish(summary: MigrationSummary): void;
  /** Restores the terminal if the run ends abnormally; safe to call twice. */
  close(): void;
}

const describeStart = (i: MigrationStart): string =>
  `Migrating ${i.domain}: ${i.source} -> ${i.destination} (${i.description})`;

/**
 * The text line for a record other than a sample, or null when it is not
 * shown: switches, refusals and notes always; post-copy lifecycle events
 * always (they are the switch seen from each side); the rest with --verbose.
 */
export function recordText(r: TimelineRecord, verbose: boolean): string | null {
  switch (r.type) {
    case 'switch':
      if (!r.ok) return `could not switch to post-copy: ${r.error ?? 'refused'}`;
      return r.trigger === 'external'
        ? `switched to post-copy at ${formatDuration(r.t)} (by another client)`
        : switchText({ trigger: r.trigger, atMs: r.requestedT ?? r.t, latencyMs: r.latencyMs });
    case 'note':
      return r.message;
    case 'abort':
      if (r.error) return `could not abort: ${r.error}`;
      return verbose ? `abort requested${r.postcopy ? ' (post-copy)' : ''}` : null;
    case 'event': {
      if (r.event === 'lifecycle') {
        const text = `${r.side}: ${r.details.event} (${r.details.detail})`;
        return verbose || r.details.detail.startsWith('postcopy') ? text : null;
      }
      if (!verbose) return null;
      return r.event === 'migration_iteration'
        ? `${r.side}: iteration ${r.details.iteration}`
        : `${r.side}: job completed`;
    }
    case 'step':
      return verbose ? `step: ${r.step}` : null;
    default:
      return null;
  }
}

/** The live progress line on a terminal (stderr), the summary on stdout. */
export class TtyReporter implements Reporter {
  private line = '';

  constructor(
    private readonly err: Output,
    private readonly out: Output,
    private readonly verbose: boolean,
  ) {}

  private get width(): number {
    return this.err.columns && this.err.columns > 0 ? this.err.columns : 80;
  }

  start(info: MigrationStart): void {
    this.err.write(`${describeStart(info)}\n`);
    hideCursor(this.err);
  }

  record(r: TimelineRecord): void {
    if (r.type === 'progress') {
      this.progress(r);
      return;
    }
    const text = recordText(r, this.verbose);
    // the line drawn before the switch is pre-copy's: do not draw it again below the switch
    if (r.type === 'switch' && r.ok) this.line = '';
    if (text !== null) this.above(text);
  }

  private progress(s: ProgressRecord): void {
    this.line = renderProgress(s, this.width);
    this.err.write(CLEAR_LINE + this.line);
  }

  private above(text: string): void {
    // print above the live line, then draw the line again below it
    this.err.write(`${CLEAR_LINE}${text}\n${this.line}`);
  }

  say(text: string): void {
    this.above(text);
  }

  finish(summary: MigrationSummary): void {
    // the live line gives way to the summary, which has the final numbers
    if (this.line) this.err.write(CLEAR_LINE);
    this.line = '';
    this.close();
    this.out.write(`${renderSummary(summary)}\n`);
  }

  close(): void {
    showCursor(this.err);
  }
}

/** One JSON object per line on stdout: start, every timeline record, summary. */
export class JsonReporter implements Reporter {
  constructor(private readonly out: Output) {}

  private emit(o: Record<string, unknown>): void {
    this.out.write(`${jsonLine(o)}\n`);
  }

  start(info: MigrationStart): void {
    const { meta, ...rest } = info;
    this.emit({
      type: 'start',
      ...rest,
      uuid: meta.uuid,
      startedAt: meta.startedAt,
      flags: meta.flags,
    });
  }

  record(r: TimelineRecord): void {
    this.emit(r as unknown as Record<string, unknown>);
  }

  say(text: string, json: Record<string, unknown>): void {
    // not a timeline record (it comes after the end, on no clock of the migration's): a type of its own
    this.emit({ type: 'cli', message: text, ...json });
  }

  finish(summary: MigrationSummary): void {
    this.emit(summaryJson(summary));
  }

  close(): void {}
}

/** Plain lines for logs and pipes: no escape codes, one line per update on stderr; the summary on stdout. */
export class PlainReporter implements Reporter {
  constructor(
    private readonly err: Output,
    private readonly out: Output,
    private readonly verbose: boolean,
  ) {}

  start(info: MigrationStart): void {
    this.err.write(`${describeStart(info)}\n`);
  }

  record(r: TimelineRecord): void {
    const text = r.type === 'progress' ? renderPlainProgress(r) : recordText(r, this.verbose);
    if (text !== null) this.err.write(`${text}\n`);
  }

  say(text: string): void {
    this.err.write(`${text}\n`);
  }

  finish(summary: MigrationSummary): void {
    this.out.write(`${renderSummary(summary)}\n`);
  }

  close(): void {}
}

export interface ReporterIo {
  readonly stdout: Output;
  readonly stderr: Output;
  readonly env: NodeJS.ProcessEnv;
}

/** JSON when asked; the live line when stderr is a terminal that can take it; plain lines otherwise. */
export function chooseReporter(
  io: ReporterIo,
  opts: { json?: boolean | undefined; verbose?: boolean | undefined },
): Reporter {
  if (opts.json) return new JsonReporter(io.stdout);
  if (isLiveTerminal(io.stderr, io.env))
    return new TtyReporter(io.stderr, io.stdout, opts.verbose ?? false);
  return new PlainReporter(io.stderr, io.stdout, opts.verbose ?? false);
}

/** How often the job statistics are sampled for each kind of output. */
export function progressInterval(io: ReporterIo, opts: { json?: boolean | undefined }): number {
  if (opts.json) return 500;
  return isLiveTerminal(io.stderr, io.env) ? 250 : 1000;
}
