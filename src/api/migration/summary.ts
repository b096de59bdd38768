/**
 * The summary of a migration, read off its timeline: the outcome, how
 * post-copy came about, the final statistics (or, when there are none, the
 * last figures seen), both sides' states as queried, and advice that follows
 * from those states. One clock: every time is on the migration's clock (real
 * time since it started); rates and downtime are the daemon's, per second of
 * the guest's clock (the same on real hosts; simulated time in a simulator).
 * The CLI's summary and the chart's table are renderings of `summaryRows`.
 */
import { formatBytes, formatDuration, formatLatency, formatRate } from '../../format.js';
import type { MigrationPhase } from './errors.js';
import { sideIs, sideStateText } from './outcome.js';
import type {
  EndRecord,
  MigrationOutcome,
  ProgressRecord,
  SideState,
  SwitchRecord,
  SwitchTrigger,
  TimelineRecord,
} from './records.js';

/** A finished migration's figures, from its timeline (see summarize). */
export interface MigrationSummary {
  readonly domain: string;
  /** `running` while the timeline has no end yet. */
  readonly outcome: MigrationOutcome | 'running';
  /** The orchestration step it ended in (`done` on success); null while running. */
  readonly step: MigrationPhase | null;
  readonly postcopy: boolean;
  /** The switch that took effect; `atMs` is when it was requested (or seen). */
  readonly switch: {
    readonly trigger: SwitchTrigger;
    readonly atMs: number;
    readonly latencyMs: number | null;
  } | null;
  /** From the start to the end (or to the latest record while running). */
  readonly durationMs: number;
  readonly error: EndRecord['error'];
  readonly downtimeMs: number | null;
  readonly postcopyRequests: number | null;
  readonly iterations: number | null;
  readonly dataTransferred: number | null;
  readonly memoryTotal: number | null;
  /** Data transferred over the job's time, per second of the guest's clock. */
  readonly averageBps: number | null;
  /**
   * Null when the figures are the source's final statistics; otherwise the
   * time of the last sample they were taken from (a migration left running,
   * or one whose statistics libvirt did not keep).
   */
  readonly figuresAtMs: number | null;
  /** Percent on the destination at the last sample, for a migration that did not complete. */
  readonly lastPercent: number | null;
  readonly source: SideState;
  readonly destination: SideState;
  /** What to do next, derived from both sides' states; empty when nothing needs doing. */
  readonly advice: readonly string[];
  readonly thinned: { readonly samples: number; readonly events: number };
}

const UNKNOWN: SideState = { kind: 'unknown', why: 'not queried yet' };

/** The summary of a timeline (a live one gives the summary so far). */
export function summarize(tl: {
  readonly meta: { readonly domain: string };
  readonly records: readonly TimelineRecord[];
  readonly thinned: { readonly samples: number; readonly events: number };
}): MigrationSummary {
  let end: EndRecord | null = null;
  let sw: SwitchRecord | null = null;
  let last: ProgressRecord | null = null;
  let lastT = 0;
  let iterationEvents = 0;
  for (const r of tl.records) {
    lastT = Math.max(lastT, r.t);
    if (r.type === 'end') end = r;
    else if (r.type === 'switch' && r.ok && !sw) sw = r;
    else if (r.type === 'progress') last = r;
    else if (r.type === 'event' && r.event === 'migration_iteration')
      iterationEvents = Math.max(iterationEvents, r.details.iteration);
  }
  const postcopy = end?.postcopy ?? (sw !== null || last?.phase === 'postcopy');
  const st = end?.stats ?? null;
  const complete = st !== null && end?.outcome === 'completed';
  const pick = (fromStats: number | null | undefined, fromSample: number | null | undefined) =>
    (complete ? fromStats : (fromStats ?? fromSample)) ?? null;
  const transferred = pick(st?.dataProcessed ?? st?.memoryProcessed, last?.memoryProcessed);
  const jobMs = pick(st?.timeElapsedMs, last?.jobElapsedMs);
  const source = end?.source ?? UNKNOWN;
  const destination = end?.destination ?? UNKNOWN;
  const outcome = end?.outcome ?? 'running';
  return {
    domain: tl.meta.domain,
    outcome,
    step: end?.step ?? null,
    postcopy,
    switch: sw
      ? { trigger: sw.trigger, atMs: sw.requestedT ?? sw.t, latencyMs: sw.latencyMs }
      : null,
    durationMs: end?.t ?? lastT,
    error: end?.error ?? null,
    downtimeMs: st?.downtimeMs ?? null,
    postcopyRequests: pick(st?.memoryPostcopyRequests, last?.postcopyRequests),
    iterations: pick(st?.memoryIteration, last?.iteration ?? (iterationEvents || null)),
    dataTransferred: transferred,
    memoryTotal: pick(st?.memoryTotal, last?.memoryTotal),
    averageBps:
      transferred !== null && jobMs !== null && jobMs > 0 ? (transferred * 1000) / jobMs : null,
    figuresAtMs: complete || !last ? null : last.t,
    lastPercent: complete ? null : (last?.percent ?? null),
    source,
    destination,
    advice: adviceFor(outcome, postcopy, source, destination),
    thinned: tl.thinned,
  };
}

const RESUME = 'virtwire migrate --live --postcopy --postcopy-resume DOMAIN DESTURI';

/**
 * Advice only where the states call for it. Post-copy facts as libvirt 9.0
 * shows them: with both sides in a failed post-copy state the transfer is
 * stopped and a post-copy resume finishes it; with the source failed but the
 * destination still in post-copy, QEMU is still copying (the client that
 * drove the migration left) and libvirt completes it once the copy is done.
 */
function adviceFor(
  outcome: MigrationSummary['outcome'],
  postcopy: boolean,
  source: SideState,
  destination: SideState,
): string[] {
  if (outcome === 'running' || outcome === 'completed') return [];
  const failedHere = (s: SideState) => s.kind === 'domain' && s.reason === 'postcopy_failed';
  if (failedHere(source) && failedHere(destination)) {
    return [
      `post-copy cannot be rolled back and its transfer has stopped: finish the migration with a post-copy resume (${RESUME}; in the library: postcopyResume: true)`,
    ];
  }
  if (failedHere(source) && sideIs(destination, 'running', 'postcopy')) {
    return [
      'QEMU is still copying memory to the destination, where the guest runs: libvirt completes the migration once the copy is done (see: virtwire domstate --reason DOMAIN on the destination); ' +
        `to take it over before that: virtwire domjobabort --postcopy DOMAIN on the source, then ${RESUME}`,
    ];
  }
  if (failedHere(source) || failedHere(destination)) {
    return [
      `post-copy cannot be rolled back: finish the migration with a post-copy resume (${RESUME})`,
    ];
  }
  if (outcome === 'detached' && postcopy && source.kind === 'domain') {
    return [
      'once this client has disconnected, libvirt marks the source paused (post-copy failed) and completes the migration when QEMU is done copying',
    ];
  }
  if (outcome === 'detached') return [];
  if (sideIs(source, 'paused') && destination.kind !== 'domain') {
    return ['the guest is paused on the source: resume it there (e.g. virsh resume DOMAIN)'];
  }
  if (source.kind === 'absent' && destination.kind === 'absent') {
    return ['the domain is on neither host any more: check both hosts before anything else'];
  }
  if (sideIs(source, 'running') && sideIs(destination, 'running')) {
    return ['the domain runs on both hosts: stop one of them before it writes to shared storage'];
  }
  return [];
}

const TRIGGERS: Record<SwitchTrigger, string> = {
  iteration: 'after the first pre-copy pass',
  timeout: 'on timeout',
  manual: 'on request',
  external: 'by another client',
};

/** A side's state for people; a source the transient domain left is `gone`. */
export function sideText(s: MigrationSummary, side: 'source' | 'destination'): string {
  const st = s[side];
  if (st.kind === 'absent') {
    return side === 'source' && s.outcome === 'completed'
      ? 'gone (transient domain moved)'
      : 'absent (no such domain)';
  }
  return sideStateText(st);
}

/** `switched to post-copy at 10.1 s (latency 1.8 ms)`; `how` adds the trigger. */
export function switchText(
  sw: NonNullable<MigrationSummary['switch']>,
  how: { readonly trigger?: boolean; readonly postcopy?: boolean } = {},
): string {
  const latency = sw.latencyMs === null ? '' : ` (latency ${formatLatency(sw.latencyMs)})`;
  const what = how.postcopy === false ? 'switched' : 'switched to post-copy';
  const why = how.trigger ? ` ${TRIGGERS[sw.trigger]}` : '';
  return `${what}${why} at ${formatDuration(sw.atMs)}${latency}`;
}

/** The one-line verdict: `Migration of vm1 completed (post-copy) in 5.4 s`. */
export function summaryHead(s: MigrationSummary): string {
  const mode = s.postcopy ? 'post-copy' : 'pre-copy';
  const took = formatDuration(s.durationMs);
  switch (s.outcome) {
    case 'completed':
      return `Migration of ${s.domain} completed (${mode}) in ${took}`;
    case 'detached':
      // what became of it is in the states, queried after leaving: no verdict here
      return `Left the migration of ${s.domain} after ${took} (${mode})`;
    case 'running':
      return `Migration of ${s.domain} running (${mode}) for ${took}`;
    default:
      return `Migration of ${s.domain} ${s.outcome}${s.step && s.step !== 'done' ? ` in ${s.step}` : ''} after ${took}`;
  }
}

/** The summary as `label, value` rows (the CLI aligns them; the chart's page makes a table). */
export function summaryRows(s: MigrationSummary): Array<readonly [string, string]> {
  const rows: Array<readonly [string, string]> = [];
  rows.push(['result', s.outcome]);
  rows.push([
    'mode',
    s.switch
      ? `post-copy, ${switchText(s.switch, { trigger: true, postcopy: false })}`
      : s.postcopy
        ? 'post-copy'
        : 'pre-copy',
  ]);
  if (s.downtimeMs !== null) rows.push(['downtime', formatDuration(s.downtimeMs)]);
  if (s.figuresAtMs !== null) {
    const pct = s.lastPercent === null ? '' : `: ${s.lastPercent.toFixed(1)}% of memory copied`;
    rows.push(['figures', `from the last sample, at ${formatDuration(s.figuresAtMs)}${pct}`]);
  }
  if (s.postcopyRequests !== null && (s.postcopy || s.postcopyRequests > 0))
    rows.push(['post-copy requests', String(s.postcopyRequests)]);
  if (s.iterations !== null) rows.push(['iterations', String(s.iterations)]);
  if (s.dataTransferred !== null) {
    let t = formatBytes(s.dataTransferred);
    if (s.memoryTotal !== null) t += ` (guest memory ${formatBytes(s.memoryTotal)})`;
    rows.push(['data transferred', t]);
  }
  if (s.averageBps !== null) rows.push(['average rate', formatRate(s.averageBps)]);
  rows.push(['source', sideText(s, 'source')]);
  rows.push(['destination', sideText(s, 'destination')]);
  for (const a of s.advice) rows.push(['advice', a]);
  if (s.thinned.samples > 0 || s.thinned.events > 0)
    rows.push([
      'timeline',
      `downsampled: ${s.thinned.samples} samples and ${s.thinned.events} events dropped`,
    ]);
  return rows;
}
