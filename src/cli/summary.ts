/**
 * The final report of a migration: built from the library's result (the
 * source's completed-job statistics, the post-copy switch timing) and
 * rendered as text or as one --json object.
 */
import type { JobStats, PostcopySwitchTiming } from '../api/migration/index.js';
import { formatBytes, formatDuration, formatRate } from './format.js';

/** `interrupted`: the CLI stopped waiting (Ctrl-C twice in post-copy); the migration goes on. */
export type MigrationOutcome = 'completed' | 'failed' | 'aborted' | 'interrupted';

export interface MigrationSummary {
  readonly domain: string;
  readonly result: MigrationOutcome;
  /** Error name and message when it did not complete. */
  readonly error?: string | undefined;
  /** True when the migration switched to post-copy. */
  readonly postcopy: boolean;
  /** How the switch came about and how long the daemon took to acknowledge it. */
  readonly postcopySwitch?:
    | {
        readonly trigger: PostcopySwitchTiming['trigger'];
        /** From the start of the migration to the switch request. */
        readonly atMs: number;
        /** From the request to the daemon's reply; undefined if it never replied. */
        readonly latencyMs: number | undefined;
      }
    | undefined;
  readonly downtimeMs?: number | undefined;
  readonly postcopyRequests?: number | undefined;
  readonly iterations?: number | undefined;
  /** The daemon's time for the job. */
  readonly totalTimeMs?: number | undefined;
  /** What the CLI measured from start to end. */
  readonly wallTimeMs: number;
  readonly dataTransferred?: number | undefined;
  readonly memoryTotal?: number | undefined;
  readonly averageBps?: number | undefined;
  /** e.g. `running (migrated)`, when known. */
  readonly destinationState?: string | undefined;
  readonly sourceState?: string | undefined;
}

/** Fills the statistics fields of a summary from the source's completed-job statistics. */
export function statsFields(
  stats: JobStats | null,
): Pick<
  MigrationSummary,
  | 'downtimeMs'
  | 'postcopyRequests'
  | 'iterations'
  | 'totalTimeMs'
  | 'dataTransferred'
  | 'memoryTotal'
  | 'averageBps'
> {
  if (!stats) return {};
  const transferred = stats.dataProcessed ?? stats.memoryProcessed;
  const time = stats.timeElapsedMs;
  return {
    downtimeMs: stats.downtimeMs,
    postcopyRequests: stats.memoryPostcopyRequests,
    iterations: stats.memoryIteration,
    totalTimeMs: time,
    dataTransferred: transferred,
    memoryTotal: stats.memoryTotal,
    averageBps:
      transferred !== undefined && time !== undefined && time > 0
        ? (transferred * 1000) / time
        : undefined,
  };
}

const TRIGGERS: Record<PostcopySwitchTiming['trigger'], string> = {
  iteration: 'after the first pre-copy pass',
  timeout: 'on timeout',
  manual: 'on request',
};

/** The summary as aligned `label  value` lines under a one-line verdict. */
export function renderSummary(s: MigrationSummary): string {
  const mode = s.postcopy ? 'post-copy' : 'pre-copy';
  const took = formatDuration(s.wallTimeMs);
  const head =
    s.result === 'completed'
      ? `Migration of ${s.domain} completed (${mode}) in ${took}`
      : s.result === 'interrupted'
        ? `Migration of ${s.domain} still running (${mode}); stopped watching after ${took}`
        : `Migration of ${s.domain} ${s.result} after ${took}`;
  const rows: Array<[string, string]> = [];
  rows.push(['result', s.result]);
  if (s.error) rows.push(['error', s.error]);
  let modeText = mode;
  if (s.postcopySwitch) {
    const sw = s.postcopySwitch;
    modeText += `, switched ${TRIGGERS[sw.trigger]} at ${formatDuration(sw.atMs)}`;
    if (sw.latencyMs !== undefined)
      modeText += ` (acknowledged in ${formatDuration(sw.latencyMs)})`;
  }
  rows.push(['mode', modeText]);
  if (s.downtimeMs !== undefined) rows.push(['downtime', formatDuration(s.downtimeMs)]);
  if (s.postcopy || s.postcopyRequests !== undefined)
    rows.push([
      'post-copy requests',
      s.postcopyRequests === undefined ? '?' : String(s.postcopyRequests),
    ]);
  if (s.iterations !== undefined) rows.push(['iterations', String(s.iterations)]);
  if (s.totalTimeMs !== undefined) rows.push(['total time', formatDuration(s.totalTimeMs)]);
  if (s.dataTransferred !== undefined) {
    let t = formatBytes(s.dataTransferred);
    if (s.memoryTotal !== undefined) t += ` (guest memory ${formatBytes(s.memoryTotal)})`;
    rows.push(['data transferred', t]);
  }
  if (s.averageBps !== undefined) rows.push(['average rate', formatRate(s.averageBps)]);
  if (s.sourceState) rows.push(['source', s.sourceState]);
  if (s.destinationState) rows.push(['destination', s.destinationState]);
  const w = Math.max(...rows.map(([k]) => k.length));
  return [head, ...rows.map(([k, v]) => `  ${`${k}:`.padEnd(w + 2)}${v}`)].join('\n');
}

/** The --json form: one object, `type: 'summary'`, null for what is not known. */
export function summaryJson(s: MigrationSummary): Record<string, unknown> {
  return {
    type: 'summary',
    domain: s.domain,
    result: s.result,
    error: s.error ?? null,
    postcopy: s.postcopy,
    postcopySwitch: s.postcopySwitch
      ? {
          trigger: s.postcopySwitch.trigger,
          atMs: Math.round(s.postcopySwitch.atMs),
          latencyMs:
            s.postcopySwitch.latencyMs === undefined
              ? null
              : Math.round(s.postcopySwitch.latencyMs * 1000) / 1000,
        }
      : null,
    downtimeMs: s.downtimeMs ?? null,
    postcopyRequests: s.postcopyRequests ?? null,
    iterations: s.iterations ?? null,
    totalTimeMs: s.totalTimeMs ?? null,
    wallTimeMs: Math.round(s.wallTimeMs),
    dataTransferred: s.dataTransferred ?? null,
    memoryTotal: s.memoryTotal ?? null,
    averageBps: s.averageBps === undefined ? null : Math.round(s.averageBps),
    sourceState: s.sourceState ?? null,
    destinationState: s.destinationState ?? null,
  };
}
