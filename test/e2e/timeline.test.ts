/**
 * Timelines of real migrations between the two real libvirt hosts (A:
 * 127.0.0.1, B: 127.0.0.2) of the guest that dirties 46 MiB continuously:
 * post-copy after the first pass, a pre-copy that converges, an aborted one
 * and a post-copy that fails after the switch. Each timeline keeps the
 * invariants every timeline must keep; each chart is drawn from it, its
 * structure checked, and the post-copy one is opened in headless Chromium,
 * whose screenshot must show the chart. With VIRTWIRE_SAVE_TIMELINES=DIR the
 * timelines are written there (fixtures/timelines holds a committed set,
 * for the unit property tests).
 */
// generations: 9.0 only, because the timeline and its chart are the client's own views, which no daemon generation changes; migrations on 11.3 and 12.9 are proven by e2e/migration and e2e/cross-version
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { render, type SvgNode, walk } from '../../src/api/migration/chart/svg.js';
import { timelineChart } from '../../src/api/migration/index.js';
import {
  type Connection,
  connect,
  type Domain,
  MigrationError,
  type MigrationTimeline,
  PostcopyFailedError,
  summarize,
  timelineHtml,
  timelineSvg,
} from '../../src/index.js';
import { screenshot } from '../helpers/chromium.js';
import { guestXml, removeDomains } from '../helpers/guest.js';
import { host } from '../helpers/hosts.js';
import { countColor, decodePng, inkedPixels } from '../helpers/png.js';
import { timelineViolations } from '../helpers/timeline-invariants.js';

const NAME = 'vw-tl';
let a: Connection;
let b: Connection;
let out: string;

beforeAll(async () => {
  a = await connect(host('VIRTWIRE_HOST_A_TCP'));
  b = await connect(host('VIRTWIRE_HOST_B_TCP'));
  out = mkdtempSync(join(tmpdir(), 'vw-timeline-'));
});
const cleanup = (): Promise<void> => removeDomains([a, b], NAME);
afterEach(cleanup);
afterAll(async () => {
  await cleanup();
  await a.close();
  await b.close();
  rmSync(out, { recursive: true, force: true });
});

async function startGuest(): Promise<Domain> {
  const d = await a.domainCreateXML(guestXml(NAME));
  await new Promise((r) => setTimeout(r, 300)); // let the guest dirty its memory
  return d;
}

/** Checks the invariants, writes the timeline (and, if asked, a fixture), returns the chart tree. */
function keep(tl: MigrationTimeline, name: string): SvgNode {
  expect(timelineViolations(tl.records)).toEqual([]);
  const json = `${JSON.stringify(tl, null, 1)}\n`;
  writeFileSync(join(out, `${name}.json`), json);
  const save = process.env.VIRTWIRE_SAVE_TIMELINES;
  if (save) {
    mkdirSync(save, { recursive: true });
    writeFileSync(join(save, `real-${name}.json`), json);
  }
  const svg = timelineSvg(tl);
  expect(svg).not.toMatch(/NaN|Infinity|undefined/);
  writeFileSync(join(out, `${name}.svg`), svg);
  writeFileSync(join(out, `${name}.html`), timelineHtml(tl));
  return timelineChart(tl);
}

const byClass = (root: SvgNode, cls: string): SvgNode[] =>
  [...walk(root)].filter((n) =>
    String(n.attrs.class ?? '')
      .split(' ')
      .includes(cls),
  );

describe('timelines of real migrations', () => {
  it('post-copy after the first pass: both phases, the switch and the page requests, on the chart and in Chromium', async () => {
    const d = await startGuest();
    const m = d
      .migrate(b, {
        live: true,
        postcopy: true,
        bandwidth: 20,
        postcopyBandwidth: 40,
        postcopyPolicy: 'after-precopy',
      })
      .sampleEvery(200);
    const { stats, sourceState, destinationState } = await m.done;
    const tl = m.timeline;
    const samples = tl.records.filter((r) => r.type === 'progress');
    const pre = samples.filter((s) => s.phase === 'precopy');
    const post = samples.filter((s) => s.phase === 'postcopy');
    expect(pre.length).toBeGreaterThanOrEqual(3);
    // QEMU reports no dirty rate during the first pass: neither does the timeline, nor an ETA
    for (const s of pre.filter((x) => x.iteration === 1)) {
      expect(s.dirtyBps).toBeNull();
      expect(s.etaMs).toBeNull();
    }
    // the first pass runs at the 20 MiB/s asked for, as measured
    const mid = pre[Math.floor(pre.length / 2)]!;
    expect(mid.rateBps! / 2 ** 20).toBeGreaterThan(14);
    expect(mid.rateBps! / 2 ** 20).toBeLessThan(26);
    const sw = tl.switched!;
    expect(sw).toMatchObject({ trigger: 'iteration', ok: true });
    expect(sw.latencyMs!).toBeGreaterThan(0);
    expect(sw.latencyMs!).toBeLessThan(1000);
    expect(post.length).toBeGreaterThanOrEqual(1);
    expect(post[0]!.rateBps).toBeNull(); // nothing measured of post-copy yet
    expect(tl.end).toMatchObject({
      outcome: 'completed',
      postcopy: true,
      source: { kind: 'absent' },
      destination: { kind: 'domain', state: 'running', reason: 'migrated' },
    });
    expect(sourceState).toEqual(tl.end!.source);
    expect(destinationState).toEqual(tl.end!.destination);
    expect(stats?.memoryPostcopyRequests).toBeGreaterThan(0);

    const chart = keep(tl, 'postcopy');
    expect(byClass(chart, 'marker-switch')).toHaveLength(1);
    expect(render(byClass(chart, 'marker-switch')[0]!)).toMatch(/latency \d/);
    expect(byClass(chart, 'marker-downtime')).toHaveLength(1);
    expect(byClass(chart, 'panel-requests')).toHaveLength(1);
    expect(byClass(chart, 'marker-iteration').length).toBeGreaterThanOrEqual(2);
    const s = summarize(tl);
    expect(s.postcopyRequests).toBe(stats!.memoryPostcopyRequests);
    expect(s.downtimeMs).toBe(stats!.downtimeMs);

    // the page as a browser draws it: not blank, the series and the switch in their colours
    const img = decodePng(screenshot(join(out, 'postcopy.html'), 1200, 900));
    expect(img.width).toBe(1200);
    expect(inkedPixels(img)).toBeGreaterThan(20_000);
    expect(countColor(img, '#2563eb')).toBeGreaterThan(200); // memory remaining
    expect(countColor(img, '#7c3aed')).toBeGreaterThan(200); // the switch and the page requests
    const svgShot = decodePng(screenshot(join(out, 'postcopy.svg'), 1000, 800));
    expect(inkedPixels(svgShot)).toBeGreaterThan(20_000);
  });

  it('pre-copy that converges: no switch, the downtime where the source stopped', async () => {
    const d = await startGuest();
    const m = d.migrate(b, { live: true }).sampleEvery(100);
    const { stats } = await m.done;
    const tl = m.timeline;
    expect(tl.switched).toBeNull();
    expect(tl.end).toMatchObject({ outcome: 'completed', postcopy: false });
    const chart = keep(tl, 'precopy');
    expect(byClass(chart, 'marker-switch')).toHaveLength(0);
    expect(byClass(chart, 'panel-requests')).toHaveLength(0);
    expect(Number(byClass(chart, 'marker-downtime')[0]!.attrs['data-ms'])).toBe(stats!.downtimeMs);
  });

  it('aborted in pre-copy: the abort where it was asked, the guest running on the source', async () => {
    const d = await startGuest();
    const m = d.migrate(b, { live: true, bandwidth: 2 }).sampleEvery(200);
    let n = 0;
    for await (const p of m.progress()) if ((p.memoryProcessed ?? 0) > 0 && ++n >= 4) break;
    await m.abort();
    await m.done.catch(() => {});
    const tl = m.timeline;
    expect(tl.end).toMatchObject({
      outcome: 'aborted',
      source: { kind: 'domain', state: 'running' },
      destination: { kind: 'absent' },
    });
    // libvirt's "canceled by client", or QEMU's write failing first on the socket the cancel shut
    const { code, message } = tl.end!.error!;
    if (code !== 'VIR_ERR_OPERATION_ABORTED') {
      expect(code).toBe('VIR_ERR_OPERATION_FAILED');
      expect(message).toContain('Unable to write to socket: Broken pipe');
    }
    expect(summarize(tl).advice).toEqual([]);
    const chart = keep(tl, 'aborted');
    expect(byClass(chart, 'marker-abort')).toHaveLength(1);
    expect(byClass(chart, 'marker-aborted')).toHaveLength(1);
  });

  it('post-copy failed after the switch: both sides failed, resume advised, the failure on the chart', async () => {
    const d = await startGuest();
    const m = d
      .migrate(b, { live: true, postcopy: true, bandwidth: 2, postcopyBandwidth: 1 })
      .sampleEvery(200);
    for await (const p of m.progress()) {
      if ((p.memoryProcessed ?? 0) > 0 && !m.postcopyStarted) await m.startPostCopy();
      if (p.phase === 'postcopy') break;
    }
    await new Promise((r) => setTimeout(r, 1500));
    await m.abort({ postcopy: true });
    const err = await m.done.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PostcopyFailedError);
    const tl = m.timeline;
    expect(tl.switched).toMatchObject({ trigger: 'manual', ok: true });
    expect(tl.end).toMatchObject({
      outcome: 'failed',
      postcopy: true,
      source: { kind: 'domain', state: 'paused', reason: 'postcopy_failed' },
      destination: { kind: 'domain', reason: 'postcopy_failed' },
    });
    expect(summarize(tl).advice.join(' ')).toMatch(/post-copy resume/);
    const chart = keep(tl, 'postcopy-failed');
    expect(byClass(chart, 'marker-switch')).toHaveLength(1);
    expect(byClass(chart, 'marker-abort')).toHaveLength(1);
    // where it failed: the step of the first error, which the PostcopyFailedError wraps
    const first = (err as PostcopyFailedError).cause;
    if (first instanceof MigrationError) expect(tl.end!.step).toBe(first.phase);
    expect(render(byClass(chart, 'marker-failed')[0]!)).toContain(`failed in ${tl.end!.step}`);
  });
});
