/**
 * The chart as files: a standalone SVG, or an HTML page with the SVG inline,
 * a legend and the summary table. Nothing is loaded from anywhere: both open
 * offline, in any browser.
 */
import { summarize, summaryHead, summaryRows } from '../summary.js';
import { type ChartSource, COLORS, timelineChart } from './chart.js';
import { el, render, type SvgNode } from './svg.js';

/** The chart as an SVG document. */
export function timelineSvg(src: ChartSource): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${render(timelineChart(src))}\n`;
}

const LEGEND: ReadonlyArray<readonly [keyof typeof COLORS, string, string]> = [
  ['remaining', 'memory remaining', "what the source still has to send (QEMU's dirty pages)"],
  [
    'processed',
    'memory processed',
    'bytes sent so far; above the guest memory once pages are resent',
  ],
  ['rate', 'transfer rate', 'measured from the memory processed between samples of the same phase'],
  [
    'dirty',
    'dirty rate',
    'how fast the guest dirties memory; QEMU knows it from the second pass on',
  ],
  [
    'requests',
    'page requests',
    'pages the destination asked for in post-copy, between two samples',
  ],
  [
    'switch',
    'post-copy switch',
    'when the switch was requested, and how long the daemon took to answer',
  ],
  ['iteration', 'pass boundary', 'QEMU started another pass over the dirty memory'],
  ['downtime', 'downtime', 'the guest was paused on both sides (drawn at least 3 px wide)'],
  ['failure', 'failure or abort', 'where the migration failed, or an abort was requested'],
  ['detached', 'stopped following', 'the client left; the migration went on without it'],
];

const CSS = `
body { font: 14px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #0f172a; margin: 24px; background: #ffffff; }
h1 { font-size: 20px; margin: 0 0 12px; }
.chart svg { max-width: 100%; height: auto; border: 1px solid #e2e8f0; }
.columns { display: flex; flex-wrap: wrap; gap: 32px; margin-top: 16px; }
table { border-collapse: collapse; }
th { text-align: left; padding: 3px 16px 3px 0; color: #475569; font-weight: 500; vertical-align: top; }
td { padding: 3px 0; }
ul.legend { list-style: none; padding: 0; margin: 0; max-width: 520px; }
ul.legend li { margin: 4px 0; }
.swatch { display: inline-block; width: 18px; height: 4px; vertical-align: middle; margin-right: 8px; }
.note { color: #475569; font-size: 12px; }
`;

/** An HTML page: the chart, its legend, and the summary table. */
export function timelineHtml(src: ChartSource): string {
  const s = summarize(src);
  const page: SvgNode = el(
    'html',
    { lang: 'en' },
    el(
      'head',
      {},
      el('meta', { charset: 'utf-8' }),
      el('title', {}, summaryHead(s)),
      el('style', {}, CSS),
    ),
    el(
      'body',
      {},
      el('div', { class: 'chart' }, timelineChart(src)),
      el(
        'div',
        { class: 'columns' },
        el(
          'section',
          {},
          el('h2', { style: 'font-size:16px' }, 'Summary'),
          el(
            'table',
            { class: 'summary' },
            ...summaryRows(s).map(([k, v]) => el('tr', {}, el('th', {}, k), el('td', {}, v))),
          ),
          el(
            'p',
            { class: 'note' },
            'Times are on the migration’s clock (real time since it started); rates and downtime are the daemon’s, per second of the guest’s clock.',
          ),
        ),
        el(
          'section',
          {},
          el('h2', { style: 'font-size:16px' }, 'Legend'),
          el(
            'ul',
            { class: 'legend' },
            ...LEGEND.map(([key, name, what]) =>
              el(
                'li',
                {},
                el('span', { class: 'swatch', style: `background:${COLORS[key]}` }, ''),
                el('b', {}, name),
                `: ${what}`,
              ),
            ),
          ),
        ),
      ),
    ),
  );
  return `<!DOCTYPE html>\n${render(page)}\n`;
}
