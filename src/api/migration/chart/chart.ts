/**
 * A migration's timeline as a self-contained SVG chart: the orchestration's
 * steps; memory remaining and processed; the measured transfer rate against
 * the dirty rate; post-copy page requests; and across all of them the pass
 * boundaries, the switch to post-copy with its latency, the downtime, aborts,
 * failures and the point where the client stopped following. Only what the
 * timeline holds is drawn: nothing is interpolated or guessed.
 */
import { formatBytes, formatDuration, formatLatency, formatRate } from '../../../format.js';
import type { ProgressRecord, TimelineMeta, TimelineRecord } from '../records.js';
import { type MigrationSummary, summarize, summaryHead } from '../summary.js';
import { COLORS, FONT, LEFT, PLOT_W, W } from './layout.js';
import { markers } from './markers.js';
import { el, pathOf, type SvgNode } from './svg.js';

export { COLORS } from './layout.js';

/** What a chart is drawn from: a MigrationTimeline, or one read back from JSON. */
export interface ChartSource {
  readonly meta: TimelineMeta;
  readonly records: readonly TimelineRecord[];
  readonly thinned: { readonly samples: number; readonly events: number };
}

interface Panel {
  readonly id: string;
  readonly title: string;
  readonly top: number;
  readonly height: number;
}

/** The chart as a tree of elements (`render()` it, or inspect it). */
export function timelineChart(src: ChartSource): SvgNode {
  const summary = summarize(src);
  const samples = src.records.filter((r): r is ProgressRecord => r.type === 'progress');
  const end = Math.max(1, summary.durationMs, ...src.records.map((r) => r.t));
  const x = (t: number): number => LEFT + (Math.max(0, Math.min(end, t)) / end) * PLOT_W;
  const hasRequests = summary.postcopy || samples.some((s) => (s.postcopyRequests ?? 0) > 0);

  const panels: Panel[] = [];
  let top = 122;
  const add = (id: string, title: string, height: number): Panel => {
    const p = { id, title, top, height };
    panels.push(p);
    top += height + 34;
    return p;
  };
  const memory = add('memory', 'Memory', 230);
  const rates = add('rates', 'Transfer and dirty rate (per second of the guest)', 150);
  const requests = hasRequests ? add('requests', 'Post-copy page requests', 90) : null;
  const bottom = top - 34;
  const height = bottom + 40;

  const children: Array<SvgNode | undefined> = [
    el('title', {}, `${summaryHead(summary)}`),
    el('desc', {}, describe(summary, samples.length)),
    el('rect', { x: 0, y: 0, width: W, height, fill: '#ffffff' }),
    el(
      'text',
      { x: LEFT, y: 24, 'font-size': 17, 'font-weight': 600, fill: COLORS.axis },
      summaryHead(summary),
    ),
    el('text', { x: LEFT, y: 44, 'font-size': 12, fill: COLORS.note }, subtitle(src.meta, summary)),
    legend(samples, hasRequests, 60),
    stepsBand(src.records, x, 74),
    postcopyBand(summary, x, panels[0]!.top, bottom, end),
  ];
  children.push(memoryPanel(memory, samples, x));
  children.push(ratePanel(rates, samples, x));
  if (requests) children.push(requestPanel(requests, samples, x, summary));
  children.push(timeAxis(end, x, bottom));
  children.push(markers(src.records, summary, x, panels[0]!.top, bottom));
  if (samples.length === 0) {
    children.push(
      el(
        'text',
        {
          class: 'no-samples',
          x: LEFT + PLOT_W / 2,
          y: memory.top + memory.height / 2,
          'text-anchor': 'middle',
          'font-size': 13,
          fill: COLORS.note,
        },
        'no progress samples: the migration ended before the source reported any transfer',
      ),
    );
  }
  return el(
    'svg',
    {
      xmlns: 'http://www.w3.org/2000/svg',
      width: W,
      height,
      viewBox: `0 0 ${W} ${height}`,
      'font-family': FONT,
      role: 'img',
      class: 'virtwire-migration-chart',
    },
    ...children,
  );
}

function describe(s: MigrationSummary, n: number): string {
  return `Timeline of the migration of ${s.domain}: ${n} samples of the source's job statistics over ${formatDuration(s.durationMs)}.`;
}

function subtitle(meta: TimelineMeta, s: MigrationSummary): string {
  const parts = [`${meta.mode} migration`, `started ${meta.startedAt}`];
  if (s.switch) {
    const lat =
      s.switch.latencyMs === null ? '' : ` (latency ${formatLatency(s.switch.latencyMs)})`;
    parts.push(`post-copy from ${formatDuration(s.switch.atMs)}${lat}`);
  }
  if (s.downtimeMs !== null) parts.push(`downtime ${formatDuration(s.downtimeMs)}`);
  if (s.postcopyRequests !== null && s.postcopy) parts.push(`${s.postcopyRequests} page requests`);
  return parts.join(' · ');
}

function legend(samples: readonly ProgressRecord[], requests: boolean, y: number): SvgNode {
  const items: Array<[string, string, boolean]> = [
    ['remaining', 'memory remaining', false],
    ['processed', 'memory processed', false],
    ['rate', 'transfer rate', false],
    ['dirty', 'dirty rate', true],
  ];
  if (requests) items.push(['requests', 'page requests', false]);
  items.push(['switch', 'post-copy switch', false], ['iteration', 'pass boundary', true]);
  let cx = LEFT;
  const parts: SvgNode[] = [];
  for (const [key, label, dashed] of items) {
    const color = COLORS[key as keyof typeof COLORS];
    parts.push(
      el('line', {
        x1: cx,
        y1: y - 4,
        x2: cx + 18,
        y2: y - 4,
        stroke: color,
        'stroke-width': 3,
        'stroke-dasharray': dashed ? '4 3' : undefined,
      }),
      el('text', { x: cx + 23, y: y, 'font-size': 11.5, fill: COLORS.axis }, label),
    );
    cx += 30 + label.length * 6.6;
  }
  return el('g', { class: 'legend', 'data-samples': samples.length }, ...parts);
}

/** The orchestration's steps as a band: perform is where the memory moves. */
function stepsBand(
  records: readonly TimelineRecord[],
  x: (t: number) => number,
  y: number,
): SvgNode {
  const steps = records.filter((r) => r.type === 'step');
  const endT = records.find((r) => r.type === 'end')?.t ?? records.at(-1)?.t ?? 0;
  const parts: SvgNode[] = [];
  steps.forEach((s, i) => {
    if (s.step === 'done') return;
    const t1 = steps[i + 1]?.t ?? endT;
    const x0 = x(s.t);
    const w = Math.max(1, x(t1) - x0);
    parts.push(
      el(
        'g',
        { class: `step step-${s.step}`, 'data-t': Math.round(s.t) },
        el('rect', {
          x: x0,
          y,
          width: w,
          height: 12,
          fill: s.step === 'perform' ? '#cbd5e1' : '#e2e8f0',
          stroke: '#ffffff',
        }),
        w > 44 &&
          el('text', { x: x0 + 4, y: y + 9.5, 'font-size': 9.5, fill: COLORS.axis }, s.step),
      ),
    );
  });
  return el('g', { class: 'steps' }, ...parts);
}

function postcopyBand(
  s: MigrationSummary,
  x: (t: number) => number,
  top: number,
  bottom: number,
  end: number,
): SvgNode | undefined {
  if (!s.switch) return undefined;
  const x0 = x(s.switch.atMs);
  return el('rect', {
    class: 'postcopy-band',
    x: x0,
    y: top,
    width: Math.max(1, x(end) - x0),
    height: bottom - top,
    fill: COLORS.postcopy,
    opacity: 0.6,
  });
}

/** A nice step for about `count` ticks over `span` (1, 2, 5 times a power of `base`). */
export function niceStep(span: number, count: number, base = 10): number {
  const raw = span / Math.max(1, count);
  if (raw <= 0 || !Number.isFinite(raw)) return 1;
  const p = base ** Math.floor(Math.log(raw) / Math.log(base));
  const binary = [1, 2, 4, 5, 8, 10, 16, 20, 25, 32, 50, 64, 100, 128, 200, 256, 500, 512, 1024];
  for (const m of base === 1024 ? binary : [1, 2, 5, 10]) {
    if (p * m >= raw) return p * m;
  }
  return p * base;
}

function panelFrame(
  p: Panel,
  maxY: number,
  unit: (v: number) => string,
  base: 10 | 1024 = 1024,
): SvgNode[] {
  const step = niceStep(maxY, 4, base);
  const parts: SvgNode[] = [
    el(
      'text',
      { x: LEFT, y: p.top - 8, 'font-size': 12, 'font-weight': 600, fill: COLORS.axis },
      p.title,
    ),
    el('rect', {
      x: LEFT,
      y: p.top,
      width: PLOT_W,
      height: p.height,
      fill: 'none',
      stroke: COLORS.grid,
    }),
  ];
  for (let v = 0; v <= maxY + step / 1000; v += step) {
    const y = p.top + p.height - (v / maxY) * p.height;
    parts.push(
      el('line', { x1: LEFT, y1: y, x2: LEFT + PLOT_W, y2: y, stroke: COLORS.grid }),
      el(
        'text',
        { x: LEFT - 6, y: y + 4, 'font-size': 10.5, 'text-anchor': 'end', fill: COLORS.note },
        unit(v),
      ),
    );
  }
  return parts;
}

/** A y scale topped at a whole number of nice steps above `max`. */
function scaleMax(max: number): number {
  if (!(max > 0)) return 1;
  const step = niceStep(max, 4, 1024);
  return Math.ceil(max / step) * step;
}

/** Lines through the points where `value` is known; a null breaks the line. */
function series(
  samples: readonly ProgressRecord[],
  value: (s: ProgressRecord) => number | null,
  x: (t: number) => number,
  y: (v: number) => number,
): Array<Array<[number, number]>> {
  const runs: Array<Array<[number, number]>> = [];
  let run: Array<[number, number]> = [];
  let phase: string | null = null;
  for (const s of samples) {
    const v = value(s);
    // a new phase starts a new line: post-copy's figures do not continue pre-copy's
    if (v === null || s.phase !== phase) {
      if (run.length) runs.push(run);
      run = [];
    }
    phase = s.phase;
    if (v !== null) run.push([x(s.t), y(v)]);
  }
  if (run.length) runs.push(run);
  return runs;
}

function seriesPaths(
  cls: string,
  runs: Array<Array<[number, number]>>,
  color: string,
  extra: Record<string, string | number> = {},
): SvgNode {
  const points = runs.reduce((n, r) => n + r.length, 0);
  return el(
    'g',
    { class: `series series-${cls}`, 'data-points': points },
    ...runs.map((r) =>
      r.length === 1
        ? el('circle', { cx: r[0]![0], cy: r[0]![1], r: 2.5, fill: color })
        : el('path', {
            d: pathOf(r),
            fill: 'none',
            stroke: color,
            'stroke-width': 2,
            'stroke-linejoin': 'round',
            ...extra,
          }),
    ),
  );
}

function memoryPanel(
  p: Panel,
  samples: readonly ProgressRecord[],
  x: (t: number) => number,
): SvgNode {
  const max = scaleMax(
    Math.max(
      0,
      ...samples.map((s) =>
        Math.max(s.memoryTotal ?? 0, s.memoryProcessed ?? 0, s.memoryRemaining ?? 0),
      ),
    ),
  );
  const y = (v: number): number => p.top + p.height - (v / max) * p.height;
  const total = samples.find((s) => s.memoryTotal !== null)?.memoryTotal ?? null;
  return el(
    'g',
    { class: 'panel panel-memory' },
    ...panelFrame(p, max, formatBytes),
    total !== null &&
      el(
        'g',
        { class: 'series series-total' },
        el('line', {
          x1: LEFT,
          y1: y(total),
          x2: LEFT + PLOT_W,
          y2: y(total),
          stroke: COLORS.total,
          'stroke-dasharray': '2 4',
        }),
        el(
          'text',
          {
            x: LEFT + PLOT_W - 4,
            y: y(total) - 4,
            'font-size': 10.5,
            'text-anchor': 'end',
            fill: COLORS.total,
          },
          `guest memory ${formatBytes(total)}`,
        ),
      ),
    seriesPaths(
      'remaining',
      series(samples, (s) => s.memoryRemaining, x, y),
      COLORS.remaining,
    ),
    seriesPaths(
      'processed',
      series(samples, (s) => s.memoryProcessed, x, y),
      COLORS.processed,
    ),
  );
}

function ratePanel(
  p: Panel,
  samples: readonly ProgressRecord[],
  x: (t: number) => number,
): SvgNode {
  const max = scaleMax(
    Math.max(0, ...samples.map((s) => Math.max(s.rateBps ?? 0, s.dirtyBps ?? 0))),
  );
  const y = (v: number): number => p.top + p.height - (v / max) * p.height;
  const unknownDirty = samples.filter((s) => s.phase === 'precopy' && s.dirtyBps === null);
  return el(
    'g',
    { class: 'panel panel-rates' },
    ...panelFrame(p, max, formatRate),
    seriesPaths(
      'rate',
      series(samples, (s) => s.rateBps, x, y),
      COLORS.rate,
    ),
    seriesPaths(
      'dirty',
      series(samples, (s) => s.dirtyBps, x, y),
      COLORS.dirty,
      {
        'stroke-dasharray': '5 3',
      },
    ),
    unknownDirty.length > 0 &&
      el(
        'text',
        {
          class: 'dirty-unknown',
          x: x(unknownDirty[0]!.t) + 4,
          y: p.top + 14,
          'font-size': 10.5,
          fill: COLORS.dirty,
        },
        'dirty rate unknown during the first pass',
      ),
  );
}

function requestPanel(
  p: Panel,
  samples: readonly ProgressRecord[],
  x: (t: number) => number,
  summary: MigrationSummary,
): SvgNode {
  const switchT = summary.switch?.atMs ?? null;
  // requests between two samples, as a bar over that interval; none come before the switch
  const bars: Array<{ t0: number; t1: number; n: number }> = [];
  let prev: ProgressRecord | null = null;
  for (const s of samples) {
    if (s.postcopyRequests !== null && prev?.postcopyRequests != null) {
      const n = s.postcopyRequests - prev.postcopyRequests;
      const t0 = switchT !== null && prev.t < switchT && s.t > switchT ? switchT : prev.t;
      if (n > 0) bars.push({ t0, t1: s.t, n });
    }
    if (s.postcopyRequests !== null) prev = s;
  }
  // The final statistics count the requests after the last sample too: the summary's figure,
  // with those as a last bar, so that the chart and the summary agree.
  const sampled = samples.reduce((m, s) => Math.max(m, s.postcopyRequests ?? 0), 0);
  const total = Math.max(sampled, summary.postcopyRequests ?? 0);
  const final = summary.figuresAtMs === null && summary.postcopyRequests !== null;
  if (total > sampled && prev)
    bars.push({ t0: prev.t, t1: summary.durationMs, n: total - sampled });
  const max = Math.max(1, ...bars.map((b) => b.n));
  const step = niceStep(max, 3);
  const top = Math.ceil(max / step) * step;
  const y = (v: number): number => p.top + p.height - (v / top) * p.height;
  return el(
    'g',
    { class: 'panel panel-requests', 'data-total': total },
    ...panelFrame(p, top, (v) => String(Math.round(v)), 10),
    el(
      'g',
      { class: 'series series-requests', 'data-points': bars.length },
      ...bars.map((b) =>
        el(
          'rect',
          {
            x: x(b.t0),
            y: y(b.n),
            width: Math.max(1.5, x(b.t1) - x(b.t0) - 1),
            height: p.top + p.height - y(b.n),
            fill: COLORS.requests,
            opacity: 0.75,
          },
          el('title', {}, `${b.n} pages requested`),
        ),
      ),
    ),
    el(
      'text',
      {
        x: LEFT + PLOT_W - 4,
        y: p.top + 14,
        'font-size': 11,
        'text-anchor': 'end',
        fill: COLORS.requests,
      },
      final ? `${total} requests in all` : `${total} requests (as of the last sample)`,
    ),
  );
}

function timeAxis(end: number, x: (t: number) => number, bottom: number): SvgNode {
  const step = niceStep(end, 10);
  const parts: SvgNode[] = [];
  for (let t = 0; t <= end + step / 1000; t += step) {
    parts.push(
      el('line', { x1: x(t), y1: bottom, x2: x(t), y2: bottom + 5, stroke: COLORS.axis }),
      el(
        'text',
        { x: x(t), y: bottom + 18, 'font-size': 10.5, 'text-anchor': 'middle', fill: COLORS.note },
        formatDuration(t),
      ),
    );
  }
  return el(
    'g',
    { class: 'axis axis-time' },
    el('line', { x1: LEFT, y1: bottom, x2: LEFT + PLOT_W, y2: bottom, stroke: COLORS.axis }),
    ...parts,
    el(
      'text',
      {
        x: LEFT + PLOT_W,
        y: bottom + 34,
        'font-size': 11,
        'text-anchor': 'end',
        fill: COLORS.note,
      },
      'time since the migration started (real time)',
    ),
  );
}
