/**
 * Property tests (fast-check) over recorded timelines: migrations the
 * simulator runs with arbitrary guests, links and post-copy policies, and
 * timelines recorded between the real libvirt hosts (fixtures/timelines,
 * written by test/e2e/timeline.test.ts). At every moment of a migration
 * (every prefix of its timeline) and at every bound, the invariants of
 * test/helpers/timeline-invariants.ts hold, and the views show the record's
 * figures and nothing else.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MigrationTimeline,
  type ProgressRecord,
  summarize,
  type TimelineRecord,
  timelineFromJson,
} from '../../../../src/api/migration/index.js';
import { formatClock } from '../../../../src/cli/format.js';
import { renderPlainProgress, renderProgress } from '../../../../src/cli/progress.js';
import { Simulator } from '../../../../src/testing/index.js';
import { timelineViolations } from '../../../helpers/timeline-invariants.js';

const FIXTURES = join(import.meta.dirname, '../../../../fixtures/timelines');

/** The views of one sample show its figures: its percent, and an ETA only when it has one. */
function viewViolations(s: ProgressRecord, width: number): string[] {
  const bad: string[] = [];
  const plain = renderPlainProgress(s);
  const line = renderProgress(s, width);
  if (line.length > Math.max(1, width - 1)) bad.push(`line wider than ${width - 1}: ${line}`);
  const pct = s.percent === null ? '?.?%' : `${s.percent.toFixed(1)}%`;
  if (!plain.startsWith(`migration: ${pct} `)) bad.push(`plain line without ${pct}: ${plain}`);
  if (s.etaMs === null && /ETA \d/.test(plain)) bad.push(`an ETA shown without one: ${plain}`);
  if (s.etaMs !== null && !plain.includes(`ETA ${formatClock(s.etaMs)}`))
    bad.push(`ETA ${s.etaMs} not shown: ${plain}`);
  if (s.phase === 'precopy' && s.dirtyBps === null && !plain.includes('dirty unknown'))
    bad.push(`an unknown dirty rate not shown as unknown: ${plain}`);
  return bad;
}

/** Everything that must hold of `records` seen up to `upTo`, thinned to `bound` samples. */
function check(
  records: readonly TimelineRecord[],
  meta: MigrationTimeline['meta'],
  upTo: number,
  bound: number,
  width: number,
): string[] {
  const prefix = records.slice(0, upTo);
  const tl = new MigrationTimeline(meta, { maxSamples: bound, maxEvents: bound });
  for (const r of prefix) tl.append(r);
  const bad = [...timelineViolations(prefix), ...timelineViolations(tl.records)];
  for (const r of tl.records) if (r.type === 'progress') bad.push(...viewViolations(r, width));
  const s = summarize(tl);
  if (!(s.durationMs >= 0)) bad.push(`summary duration ${s.durationMs}`);
  const end = prefix.find((r) => r.type === 'end');
  if (end?.stats && end.outcome === 'completed') {
    if (s.downtimeMs !== end.stats.downtimeMs) bad.push('summary downtime differs from the end');
    if (s.postcopyRequests !== end.stats.memoryPostcopyRequests)
      bad.push('summary post-copy requests differ from the end');
  }
  return bad;
}

const simulated = fc.record({
  memoryMiB: fc.integer({ min: 128, max: 2048 }),
  dirtyRateMiBps: fc.integer({ min: 0, max: 800 }),
  dirtySetMiB: fc.option(fc.integer({ min: 8, max: 512 }), { nil: undefined }),
  bandwidth: fc.integer({ min: 40, max: 900 }),
  postcopyBandwidth: fc.integer({ min: 40, max: 1000 }),
  policy: fc.constantFrom('none', 'after-precopy', 'timeout', 'by hand') as fc.Arbitrary<
    'none' | 'after-precopy' | 'timeout' | 'by hand'
  >,
  autoConverge: fc.boolean(),
  intervalMs: fc.integer({ min: 5, max: 60 }),
});

describe('simulated timelines', () => {
  it('keep the invariants at every moment and every bound', async () => {
    await fc.assert(
      fc.asyncProperty(
        simulated,
        fc.integer({ min: 4, max: 64 }),
        fc.integer({ min: 30, max: 200 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        async (p, bound, width, cut) => {
          const a = await Simulator.start({
            timeScale: 40,
            bandwidthMiBps: 1000,
            domains: [
              {
                name: 'vm',
                state: 'running',
                persistent: false,
                memoryMiB: p.memoryMiB,
                dirtyRateMiBps: p.dirtyRateMiBps,
                ...(p.dirtySetMiB === undefined ? {} : { dirtySetMiB: p.dirtySetMiB }),
              },
            ],
          });
          const b = await Simulator.start({ timeScale: 40, bandwidthMiBps: 1000 });
          const ca = await a.connect();
          const cb = await b.connect();
          try {
            const postcopy = p.policy !== 'none';
            const m = (await ca.lookupDomain('vm'))
              .migrate(cb, {
                live: true,
                bandwidth: p.bandwidth,
                autoConverge: p.autoConverge,
                ...(postcopy ? { postcopy, postcopyBandwidth: p.postcopyBandwidth } : {}),
                ...(p.policy === 'after-precopy' ? { postcopyPolicy: 'after-precopy' } : {}),
                ...(p.policy === 'timeout' ? { postcopyPolicy: { afterMs: 150 } } : {}),
              })
              .sampleEvery(p.intervalMs);
            // a guest that never converges without post-copy is aborted; by hand, switched
            const stop = setTimeout(() => {
              if (p.policy === 'by hand') m.startPostCopy().catch(() => {});
              else m.abort().catch(() => {});
            }, 400);
            await m.done.catch(() => {});
            clearTimeout(stop);
            const records = m.timeline.records;
            expect(m.timeline.end).not.toBeNull();
            const upTo = Math.max(1, Math.round(cut * records.length));
            expect(check(records, m.timeline.meta, records.length, bound, width)).toEqual([]);
            expect(check(records, m.timeline.meta, upTo, bound, width)).toEqual([]);
          } finally {
            await Promise.all([ca.close(), cb.close()]);
            await Promise.all([a.close(), b.close()]);
          }
        },
      ),
      { numRuns: 20 },
    );
  }, 240_000);
});

describe('timelines recorded between the real hosts', () => {
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.json'));

  it('are there: a post-copy, a pre-copy, an aborted and a failed post-copy migration', () => {
    const outcomes = files.map((f) => {
      const tl = timelineFromJson(JSON.parse(readFileSync(join(FIXTURES, f), 'utf8')));
      return `${tl.end?.outcome}/${tl.end?.postcopy ? 'postcopy' : 'precopy'}`;
    });
    expect(outcomes).toEqual(
      expect.arrayContaining([
        'completed/postcopy',
        'completed/precopy',
        'aborted/precopy',
        'failed/postcopy',
      ]),
    );
  });

  for (const f of files) {
    it(`${f}: keeps the invariants at every moment and every bound`, () => {
      const tl = timelineFromJson(JSON.parse(readFileSync(join(FIXTURES, f), 'utf8')));
      const records = tl.records;
      expect(timelineViolations(records)).toEqual([]);
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: records.length }),
          fc.integer({ min: 4, max: 64 }),
          fc.integer({ min: 30, max: 200 }),
          (upTo, bound, width) => {
            expect(check(records, tl.meta, upTo, bound, width)).toEqual([]);
          },
        ),
        { numRuns: 60 },
      );
    });
  }
});
