/**
 * The chart drawn from simulated timelines (completed post-copy and
 * pre-copy, aborted, failed after the switch, left running): well-formed,
 * each series with a point per sample, the markers where their records put
 * them, and the HTML page with the legend and the summary's rows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { render, type SvgNode, walk } from '../../../../src/api/migration/chart/svg.js';
import {
  type MigrationTimeline,
  summarize,
  summaryRows,
  timelineChart,
  timelineHtml,
  timelineSvg,
} from '../../../../src/api/migration/index.js';
import { type Connection, MigrationError } from '../../../../src/index.js';
import { Simulator } from '../../../../src/testing/index.js';
import { parseXml } from '../../../../src/testing/xml.js';

const opened: Array<{ close(): Promise<void> }> = [];
afterAll(async () => {
  for (const x of opened.splice(0).reverse()) await x.close();
});

async function pair(
  dirtyRateMiBps: number,
): Promise<{ a: Simulator; ca: Connection; cb: Connection }> {
  const a = await Simulator.start({
    timeScale: 20,
    bandwidthMiBps: 1000,
    domains: [
      {
        name: 'vm',
        state: 'running',
        persistent: false,
        memoryMiB: 1024,
        dirtyRateMiBps,
        dirtySetMiB: 256,
      },
    ],
  });
  const b = await Simulator.start({ timeScale: 20, bandwidthMiBps: 1000 });
  const ca = await a.connect();
  const cb = await b.connect();
  opened.push(a, b, ca, cb);
  return { a, ca, cb };
}

const runs: Record<string, MigrationTimeline> = {};
/** The step the failed run's first error came from. */
let failedIn = '';

beforeAll(async () => {
  {
    const { ca, cb } = await pair(300);
    const m = (await ca.lookupDomain('vm'))
      .migrate(cb, {
        live: true,
        postcopy: true,
        bandwidth: 100,
        postcopyBandwidth: 200,
        postcopyPolicy: 'after-precopy',
      })
      .sampleEvery(20);
    m.timeline.note('a note with <markup> & "quotes"', 'none');
    await m.done;
    runs.postcopy = m.timeline;
  }
  {
    const { ca, cb } = await pair(5);
    const m = (await ca.lookupDomain('vm'))
      .migrate(cb, { live: true, bandwidth: 400 })
      .sampleEvery(20);
    await m.done;
    runs.precopy = m.timeline;
  }
  {
    const { ca, cb } = await pair(3000);
    const m = (await ca.lookupDomain('vm'))
      .migrate(cb, { live: true, bandwidth: 100 })
      .sampleEvery(20);
    for await (const p of m.progress()) if ((p.memoryProcessed ?? 0) > 200 * 1024 * 1024) break;
    await m.abort();
    await m.done.catch(() => {});
    runs.aborted = m.timeline;
  }
  {
    const { a, ca, cb } = await pair(300);
    a.failPostcopy('vm', { afterMs: 300 });
    const m = (await ca.lookupDomain('vm'))
      .migrate(cb, {
        live: true,
        postcopy: true,
        bandwidth: 100,
        postcopyBandwidth: 100,
        postcopyPolicy: 'after-precopy',
      })
      .sampleEvery(20);
    const err = await m.done.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationError);
    // a failure after the switch comes as a PostcopyFailedError around the step's own error
    const first = (err as MigrationError).cause;
    failedIn = (first instanceof MigrationError ? first : (err as MigrationError)).phase;
    runs.failed = m.timeline;
  }
  {
    const { ca, cb } = await pair(300);
    const m = (await ca.lookupDomain('vm'))
      .migrate(cb, { live: true, postcopy: true, bandwidth: 100, postcopyBandwidth: 1 })
      .sampleEvery(20);
    for await (const p of m.progress()) if ((p.memoryProcessed ?? 0) > 0) break;
    await m.startPostCopy();
    await new Promise((r) => setTimeout(r, 100));
    await m.detach();
    runs.detached = m.timeline;
  }
}, 120_000);

const byClass = (root: SvgNode, cls: string): SvgNode[] =>
  [...walk(root)].filter((n) =>
    String(n.attrs.class ?? '')
      .split(' ')
      .includes(cls),
  );
const one = (root: SvgNode, cls: string): SvgNode => {
  const found = byClass(root, cls);
  expect(found, cls).toHaveLength(1);
  return found[0]!;
};
/** The x of each point of a series' paths and dots, in order. */
const xs = (series: SvgNode): number[] =>
  [...walk(series)].flatMap((n) =>
    n.tag === 'circle'
      ? [Number(n.attrs.cx)]
      : n.tag === 'path'
        ? [...String(n.attrs.d).matchAll(/[ML](-?[\d.]+) /g)].map((m) => Number(m[1]))
        : [],
  );

describe('the chart of a timeline', () => {
  it('is well-formed SVG, with one point per sample in each series and no NaN', () => {
    for (const [name, tl] of Object.entries(runs)) {
      const svg = timelineSvg(tl);
      expect(svg, name).toMatch(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n<svg /);
      expect(svg, name).not.toMatch(/NaN|Infinity|undefined/);
      const doc = parseXml(svg.replace(/^<\?xml[^>]*\?>\n/, ''));
      expect(doc.name).toBe('svg');
      const root = timelineChart(tl);
      const samples = tl.records.filter((r) => r.type === 'progress');
      for (const [cls, field] of [
        ['series-remaining', 'memoryRemaining'],
        ['series-processed', 'memoryProcessed'],
        ['series-rate', 'rateBps'],
        ['series-dirty', 'dirtyBps'],
      ] as const) {
        const known = samples.filter((s) => s[field] !== null).length;
        expect(Number(one(root, cls).attrs['data-points']), `${name} ${cls}`).toBe(known);
      }
    }
  });

  it('draws the switch between the last pre-copy and the first post-copy point, with its latency', () => {
    const tl = runs.postcopy!;
    const root = timelineChart(tl);
    const sw = one(root, 'marker-switch');
    expect(Number(sw.attrs['data-t'])).toBe(Math.round(tl.switched!.requestedT!));
    const line = sw.children.find((c): c is SvgNode => typeof c !== 'string' && c.tag === 'line')!;
    const x = Number(line.attrs.x1);
    const samples = tl.records.filter((r) => r.type === 'progress');
    const remaining = xs(one(root, 'series-remaining'));
    const lastPre = remaining[samples.filter((s) => s.phase === 'precopy').length - 1]!;
    const firstPost = remaining[samples.filter((s) => s.phase === 'precopy').length]!;
    expect(x).toBeGreaterThanOrEqual(lastPre);
    expect(x).toBeLessThanOrEqual(firstPost);
    expect(render(sw)).toMatch(/post-copy switch at \d+ ms \(latency \d+(\.\d+)? ms\)/);
    // pass boundaries, downtime, page requests
    const iterations = tl.records.filter(
      (r) => r.type === 'event' && r.event === 'migration_iteration',
    );
    expect(byClass(root, 'marker-iteration')).toHaveLength(iterations.length);
    const downtime = one(root, 'marker-downtime');
    expect(Number(downtime.attrs['data-ms'])).toBe(tl.end!.stats!.downtimeMs);
    expect(Number(downtime.attrs['data-t'])).toBe(Math.round(tl.switched!.requestedT!));
    // the requests: the final statistics' count, as the summary has it, and the bars add up to it
    const requests = one(root, 'panel-requests');
    const total = tl.end!.stats!.memoryPostcopyRequests!;
    expect(total).toBeGreaterThan(0);
    expect(Number(requests.attrs['data-total'])).toBe(total);
    expect(summarize(tl).postcopyRequests).toBe(total);
    const bars = [...walk(one(root, 'series-requests'))].filter((n) => n.tag === 'rect');
    expect(bars.length).toBeGreaterThan(0);
    const perBar = bars.map((b) => Number(/(\d+) pages requested/.exec(render(b))?.[1]));
    expect(perBar.reduce((sum, n) => sum + n, 0)).toBe(total);
    expect(render(requests)).toContain(`${total} requests in all`);
    // the note's text is escaped, and kept
    expect(timelineSvg(tl)).toContain('a note with &lt;markup&gt; &amp; &quot;quotes&quot;');
  });

  it('a pre-copy run has no switch and no page requests; its downtime is where the source stopped', () => {
    const root = timelineChart(runs.precopy!);
    expect(byClass(root, 'marker-switch')).toHaveLength(0);
    expect(byClass(root, 'panel-requests')).toHaveLength(0);
    const stop = runs.precopy!.records.find(
      (r) =>
        r.type === 'event' &&
        r.event === 'lifecycle' &&
        r.side === 'source' &&
        r.details.event === 'suspended',
    )!;
    expect(Number(one(root, 'marker-downtime').attrs['data-t'])).toBe(Math.round(stop.t));
  });

  it('marks an abort where it was asked for, and the failure or departure where the run ended', () => {
    const aborted = timelineChart(runs.aborted!);
    const abort = runs.aborted!.records.find((r) => r.type === 'abort')!;
    expect(Number(one(aborted, 'marker-abort').attrs['data-t'])).toBe(Math.round(abort.t));
    expect(Number(one(aborted, 'marker-aborted').attrs['data-t'])).toBe(
      Math.round(runs.aborted!.end!.t),
    );
    const failed = timelineChart(runs.failed!);
    expect(runs.failed!.end!.step).toBe(failedIn);
    expect(render(one(failed, 'marker-failed'))).toContain(`failed in ${failedIn}`);
    expect(byClass(failed, 'marker-switch')).toHaveLength(1);
    const detached = timelineChart(runs.detached!);
    expect(render(one(detached, 'marker-detached'))).toContain('stopped following');
    expect(byClass(detached, 'marker-switch')).toHaveLength(1);
  });

  it('draws a timeline without samples (a migration refused before any transfer)', () => {
    const tl = runs.precopy!;
    const bare = {
      meta: tl.meta,
      thinned: { samples: 0, events: 0 },
      records: tl.records.filter((r) => r.type === 'step' || r.type === 'end'),
    };
    const root = timelineChart(bare);
    expect(byClass(root, 'no-samples')).toHaveLength(1);
    expect(timelineSvg(bare)).not.toMatch(/NaN|Infinity/);
  });

  it('makes an HTML page: the chart inline, a legend, the summary rows, nothing fetched', () => {
    const tl = runs.postcopy!;
    const html = timelineHtml(tl);
    expect(html.startsWith('<!DOCTYPE html>\n<html lang="en">')).toBe(true);
    expect(html).toContain('<svg xmlns="http://www.w3.org/2000/svg"');
    for (const [k] of summaryRows(summarize(tl))) expect(html).toContain(`<th>${k}</th>`);
    expect(html).toContain('<ul class="legend">');
    // self-contained: the only URL is the SVG namespace
    expect(html.match(/https?:\/\/[^"\s<]+/g)).toEqual(['http://www.w3.org/2000/svg']);
    expect(html).not.toMatch(/<(script|link|img|iframe)\b/);
  });
});
