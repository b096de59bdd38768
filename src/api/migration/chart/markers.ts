/**
 * The chart's markers across all panels: pass boundaries, the switch to
 * post-copy with its latency, the downtime, aborts, failures and the point
 * where the client stopped following.
 */
import { formatDuration, formatLatency } from '../../../format.js';
import type { TimelineRecord } from '../records.js';
import type { MigrationSummary } from '../summary.js';
import { COLORS, LEFT, PLOT_W } from './layout.js';
import { el, type SvgNode } from './svg.js';

function vline(
  cls: string,
  t: number,
  x: (t: number) => number,
  top: number,
  bottom: number,
  color: string,
  label: string | null,
  opts: { dash?: string; width?: number; labelY?: number; anchor?: 'start' | 'end' } = {},
): SvgNode {
  const px = x(t);
  return el(
    'g',
    { class: `marker marker-${cls}`, 'data-t': Math.round(t) },
    el('line', {
      x1: px,
      y1: top,
      x2: px,
      y2: bottom,
      stroke: color,
      'stroke-width': opts.width ?? 1.5,
      'stroke-dasharray': opts.dash,
    }),
    label !== null &&
      el(
        'text',
        {
          x: opts.anchor === 'end' ? px - 4 : px + 4,
          y: opts.labelY ?? top + 12,
          'font-size': 11,
          'text-anchor': opts.anchor ?? 'start',
          fill: color,
        },
        label,
      ),
  );
}

export function markers(
  records: readonly TimelineRecord[],
  s: MigrationSummary,
  x: (t: number) => number,
  top: number,
  bottom: number,
): SvgNode {
  const parts: SvgNode[] = [];
  // pass boundaries: label them only where there is room
  let lastLabel = Number.NEGATIVE_INFINITY;
  for (const r of records) {
    if (r.type !== 'event' || r.event !== 'migration_iteration') continue;
    const px = x(r.t);
    const room = px - lastLabel > 46;
    if (room) lastLabel = px;
    parts.push(
      vline(
        'iteration',
        r.t,
        x,
        top,
        bottom,
        COLORS.iteration,
        room ? `pass ${r.details.iteration}` : null,
        {
          dash: '3 3',
          width: 1,
          labelY: top + 26,
        },
      ),
    );
  }
  const xEnd = x(s.durationMs);
  const anchorFor = (t: number): 'start' | 'end' => (x(t) > xEnd - 260 ? 'end' : 'start');
  for (const r of records) {
    if (r.type === 'switch') {
      const at = r.requestedT ?? r.t;
      const label = r.ok
        ? `post-copy switch at ${formatDuration(at)}${r.latencyMs === null ? '' : ` (latency ${formatLatency(r.latencyMs)})`}`
        : `switch refused: ${short(r.error ?? '')}`;
      parts.push(
        vline(
          r.ok ? 'switch' : 'switch-refused',
          at,
          x,
          top,
          bottom,
          r.ok ? COLORS.switch : COLORS.note,
          label,
          {
            width: r.ok ? 2.5 : 1,
            labelY: top + 40,
            anchor: anchorFor(at),
          },
        ),
      );
    } else if (r.type === 'abort') {
      const label = r.error
        ? `abort refused: ${short(r.error)}`
        : `abort requested${r.postcopy ? ' (post-copy)' : ''}`;
      parts.push(
        vline('abort', r.t, x, top, bottom, COLORS.abort, label, {
          dash: '6 3',
          labelY: top + 82,
          anchor: anchorFor(r.t),
        }),
      );
    } else if (r.type === 'note') {
      parts.push(
        el(
          'g',
          { class: 'marker marker-note', 'data-t': Math.round(r.t) },
          el('path', {
            d: `M${x(r.t) - 4} ${top - 2} L${x(r.t) + 4} ${top - 2} L${x(r.t)} ${top + 5} Z`,
            fill: COLORS.note,
          }),
          el('title', {}, r.message),
        ),
      );
    } else if (r.type === 'end') {
      if (r.outcome === 'failed' || r.outcome === 'aborted') {
        const what = r.outcome === 'aborted' ? 'aborted' : `failed in ${r.step}`;
        parts.push(
          vline(
            r.outcome,
            r.t,
            x,
            top,
            bottom,
            COLORS.failure,
            `${what}: ${short(r.error?.message ?? '')}`,
            {
              width: 2.5,
              labelY: top + 68,
              anchor: 'end',
            },
          ),
        );
      } else if (r.outcome === 'detached') {
        parts.push(
          vline(
            'detached',
            r.t,
            x,
            top,
            bottom,
            COLORS.detached,
            'stopped following (the migration goes on)',
            {
              dash: '6 3',
              width: 2,
              labelY: top + 68,
              anchor: 'end',
            },
          ),
        );
      }
    }
  }
  const dt = downtimeMarker(records, s, x, top, bottom);
  if (dt) parts.push(dt);
  return el('g', { class: 'markers' }, ...parts);
}

/**
 * Downtime happens when the source stops: at the switch for post-copy, at
 * the final stop-and-copy (the source's suspended/migrated event) for
 * pre-copy. A few milliseconds on a scale of seconds: drawn at least 3 px wide.
 */
export function downtimeMarker(
  records: readonly TimelineRecord[],
  s: MigrationSummary,
  x: (t: number) => number,
  top: number,
  bottom: number,
): SvgNode | undefined {
  if (s.downtimeMs === null) return undefined;
  let at: number | null = s.switch?.atMs ?? null;
  if (at === null) {
    for (const r of records) {
      if (
        r.type === 'event' &&
        r.side === 'source' &&
        r.event === 'lifecycle' &&
        r.details.event === 'suspended'
      )
        at = r.t;
    }
  }
  at ??= s.durationMs;
  const x0 = x(at);
  const w = Math.max(3, x(at + s.downtimeMs) - x0);
  const label = `downtime ${formatDuration(s.downtimeMs)}`;
  const left = x0 > LEFT + PLOT_W - 260;
  return el(
    'g',
    { class: 'marker marker-downtime', 'data-t': Math.round(at), 'data-ms': s.downtimeMs },
    el('rect', {
      x: x0,
      y: top,
      width: w,
      height: bottom - top,
      fill: COLORS.downtime,
      opacity: 0.35,
    }),
    el(
      'text',
      {
        x: left ? x0 - 4 : x0 + w + 4,
        y: top + 54,
        'font-size': 11,
        'text-anchor': left ? 'end' : 'start',
        fill: COLORS.downtime,
      },
      label,
    ),
  );
}

const short = (s: string): string => (s.length > 70 ? `${s.slice(0, 67)}...` : s);
