/**
 * The final report of a migration as the CLI prints it: the library's
 * summary of the timeline (summarize/summaryRows), as aligned text on stdout
 * or as one --json object. Nothing here computes a figure; the error itself
 * is printed once, on stderr, by the command's error path.
 */
import {
  type MigrationSummary,
  sideText,
  summaryHead,
  summaryRows,
} from '../api/migration/index.js';

export type { MigrationSummary } from '../api/migration/index.js';

/** The summary as aligned `label  value` lines under a one-line verdict. */
export function renderSummary(s: MigrationSummary): string {
  const rows = summaryRows(s);
  const w = Math.max(...rows.map(([k]) => k.length));
  return [summaryHead(s), ...rows.map(([k, v]) => `  ${`${k}:`.padEnd(w + 2)}${v}`)].join('\n');
}

const ms = (v: number | null): number | null => (v === null ? null : Math.round(v));

/** The --json form: one object, `type: 'summary'`, null for what is not known. */
export function summaryJson(s: MigrationSummary): Record<string, unknown> {
  return {
    type: 'summary',
    domain: s.domain,
    result: s.outcome,
    step: s.step,
    error: s.error,
    postcopy: s.postcopy,
    postcopySwitch: s.switch
      ? {
          trigger: s.switch.trigger,
          atMs: Math.round(s.switch.atMs),
          latencyMs:
            s.switch.latencyMs === null ? null : Math.round(s.switch.latencyMs * 1000) / 1000,
        }
      : null,
    downtimeMs: s.downtimeMs,
    postcopyRequests: s.postcopyRequests,
    iterations: s.iterations,
    /** On the migration's clock, as every time in the summary. */
    totalTimeMs: ms(s.durationMs),
    dataTransferred: s.dataTransferred,
    memoryTotal: s.memoryTotal,
    averageBps: ms(s.averageBps),
    figuresAtMs: ms(s.figuresAtMs),
    lastPercent: s.lastPercent,
    sourceState: sideText(s, 'source'),
    destinationState: sideText(s, 'destination'),
    source: s.source,
    destination: s.destination,
    advice: s.advice,
    thinned: s.thinned,
  };
}
