/**
 * The timeline model on its own: the figures derived from a sample (what is
 * known when), bounding by thinning, JSON and saved --json runs read back,
 * following it live.
 */
import { describe, expect, it } from 'vitest';
import {
  MigrationTimeline,
  type ProgressRecord,
  type RawSample,
  sampleFigures,
  TimelineFormatError,
  type TimelineRecord,
  timelineFromJson,
  timelineFromRecords,
} from '../../../../src/api/migration/index.js';
import { timelineViolations } from '../../../helpers/timeline-invariants.js';

const MiB = 1024 * 1024;
const meta = {
  domain: 'vm',
  uuid: '07070707-0707-0707-0707-070707070707',
  startedAt: '2026-01-01T00:00:00.000Z',
  mode: 'managed' as const,
  flags: 1,
};

const raw = (over: Partial<RawSample> = {}): RawSample => ({
  t: 1000,
  phase: 'precopy',
  iteration: 1,
  memoryTotal: 128 * MiB,
  memoryProcessed: 10 * MiB,
  memoryRemaining: 118 * MiB,
  memoryBps: 20 * MiB,
  memoryDirtyRate: 0,
  memoryPageSize: 4096,
  jobElapsedMs: 1000,
  ...over,
});

describe('figures of a sample', () => {
  it('knows no dirty rate, convergence or ETA during the first pass (QEMU reports 0 then)', () => {
    const f = sampleFigures([], raw());
    expect(f.percent).toBeCloseTo((100 * 10) / 128, 6);
    expect(f.rateBps).toBe(20 * MiB); // QEMU's own figure for the first sample
    expect(f.dirtyBps).toBeNull();
    expect(f.converging).toBeNull();
    expect(f.etaMs).toBeNull();
  });

  it('measures the transfer rate from the memory processed, and judges convergence from it', () => {
    const a = raw({ t: 1000, jobElapsedMs: 1000, iteration: 2, memoryProcessed: 100 * MiB });
    const b = raw({
      t: 2000,
      jobElapsedMs: 2000,
      iteration: 2,
      memoryProcessed: 130 * MiB,
      memoryRemaining: 40 * MiB,
      memoryBps: 99 * MiB, // QEMU's instant figure is ignored once there is a measurement
      memoryDirtyRate: 2560, // 10 MiB/s
    });
    const f = sampleFigures([a], b);
    expect(f.rateBps).toBe(30 * MiB);
    expect(f.dirtyBps).toBe(10 * MiB);
    expect(f.converging).toBe(true);
    expect(f.etaMs).toBeCloseTo(2000, 6); // 40 MiB at 30 - 10 MiB/s
    const never = sampleFigures([a], { ...b, memoryDirtyRate: 12800 }); // 50 MiB/s
    expect(never.converging).toBe(false);
    expect(never.etaMs).toBeNull();
  });

  it('takes post-copy rate and ETA from post-copy samples only', () => {
    const pre = raw({ t: 1000, memoryProcessed: 100 * MiB });
    const first = raw({ t: 1500, phase: 'postcopy', iteration: 3, memoryProcessed: 110 * MiB });
    expect(sampleFigures([pre], first)).toMatchObject({
      rateBps: null,
      etaMs: null,
      dirtyBps: null,
      converging: null,
    });
    const second = raw({
      t: 2000,
      jobElapsedMs: 2000,
      phase: 'postcopy',
      iteration: 3,
      memoryProcessed: 210 * MiB,
      memoryRemaining: 50 * MiB,
    });
    const f = sampleFigures([{ ...first, jobElapsedMs: 1500 }], second);
    expect(f.rateBps).toBe(200 * MiB);
    expect(f.etaMs).toBeCloseTo(250, 6);
  });

  it('gives an ETA in real time when the guest clock runs faster (a simulator)', () => {
    // 4 guest seconds per real second
    const a = raw({ t: 0, jobElapsedMs: 0, phase: 'postcopy', memoryProcessed: 0 });
    const b = raw({
      t: 250,
      jobElapsedMs: 1000,
      phase: 'postcopy',
      memoryProcessed: 100 * MiB,
      memoryRemaining: 100 * MiB,
    });
    const f = sampleFigures([a], b);
    expect(f.rateBps).toBe(100 * MiB); // per guest second, as the daemon's own rates
    expect(f.etaMs).toBeCloseTo(250, 6); // one guest second is a quarter of a real one
  });

  it('is done when nothing is left, whatever the rates', () => {
    expect(sampleFigures([], raw({ memoryRemaining: 0 }))).toMatchObject({
      etaMs: 0,
      percent: 100,
    });
  });
});

const sample = (t: number, iteration: number, percent: number): ProgressRecord => ({
  type: 'progress',
  ...raw({ t, iteration, memoryRemaining: ((100 - percent) / 100) * 128 * MiB }),
  dataTotal: null,
  dataProcessed: null,
  dataRemaining: null,
  postcopyRequests: null,
  percent,
  rateBps: 20 * MiB,
  dirtyBps: null,
  converging: null,
  etaMs: null,
});

describe('a bounded timeline', () => {
  it('never grows without limit: every other sample goes, passes and the latest stay', () => {
    const tl = new MigrationTimeline(meta, { maxSamples: 100, maxEvents: 40 });
    tl.append({ type: 'step', t: 0, step: 'perform' });
    let max = 0;
    for (let i = 0; i < 20_000; i++) {
      const iteration = 1 + Math.floor(i / 2000);
      if (i % 2000 === 0)
        tl.append({
          type: 'event',
          t: i,
          side: 'source',
          event: 'migration_iteration',
          details: { iteration },
        });
      tl.append(sample(i, iteration, (i % 2000) / 20));
      max = Math.max(max, tl.records.length);
    }
    tl.append({
      type: 'switch',
      t: 20_000,
      trigger: 'manual',
      requestedT: 20_000,
      latencyMs: 1,
      ok: true,
      error: null,
    });
    const samples = tl.records.filter((r) => r.type === 'progress');
    expect(samples.length).toBeLessThanOrEqual(100);
    expect(max).toBeLessThanOrEqual(100 + 10 + 2);
    expect(tl.thinned.samples).toBe(20_000 - samples.length);
    // the first sample of every pass, and the latest, are kept
    const passes = new Set(samples.map((s) => s.iteration));
    expect([...passes].sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    ]);
    expect(samples.at(-1)!.t).toBe(19_999);
    expect(tl.latest!.t).toBe(19_999);
    // the steps and the switch are never dropped, the order is kept, the invariants hold
    expect(tl.records[0]).toMatchObject({ type: 'step' });
    expect(tl.records.at(-1)).toMatchObject({ type: 'switch' });
    expect(timelineViolations(tl.records)).toEqual([]);
  });

  it('thins iteration events but keeps lifecycle events', () => {
    const tl = new MigrationTimeline(meta, { maxSamples: 10, maxEvents: 20 });
    tl.append({
      type: 'event',
      t: 0,
      side: 'source',
      event: 'lifecycle',
      details: { event: 'suspended', detail: 'migrated', eventCode: 3, detailCode: 1 },
    });
    for (let i = 1; i <= 1000; i++)
      tl.append({
        type: 'event',
        t: i,
        side: 'source',
        event: 'migration_iteration',
        details: { iteration: i },
      });
    const events = tl.records.filter((r) => r.type === 'event');
    expect(events.length).toBeLessThanOrEqual(20);
    expect(events[0]).toMatchObject({ event: 'lifecycle' });
    expect(events.at(-1)).toMatchObject({ details: { iteration: 1000 } });
    expect(tl.thinned.events).toBe(1001 - events.length);
  });
});

describe('following and reading back', () => {
  it('follow() yields what is there, then each new record, and ends with the end', async () => {
    const tl = new MigrationTimeline(meta);
    tl.append({ type: 'step', t: 0, step: 'begin' });
    const seen: string[] = [];
    const done = (async () => {
      for await (const r of tl.follow()) seen.push(r.type);
    })();
    tl.append(sample(10, 1, 5));
    await new Promise((r) => setTimeout(r, 5));
    expect(tl.note('hello', 'none')).toMatchObject({ type: 'note', message: 'hello' });
    tl.append({
      type: 'end',
      t: 20,
      outcome: 'completed',
      step: 'done',
      postcopy: false,
      error: null,
      stats: null,
      source: { kind: 'absent' },
      destination: { kind: 'unknown', why: 'x' },
    });
    await done;
    expect(seen).toEqual(['step', 'progress', 'note', 'end']);
    // nothing after the end
    expect(tl.note('late')).toBeNull();
    tl.append(sample(30, 1, 6));
    expect(tl.records.at(-1)).toMatchObject({ type: 'end' });
  });

  it('round-trips through JSON, and reads a saved --json run', () => {
    const tl = new MigrationTimeline(meta);
    const records: TimelineRecord[] = [
      { type: 'step', t: 0, step: 'begin' },
      sample(10, 1, 5),
      { type: 'note', t: 11, message: 'x', action: null },
    ];
    for (const r of records) tl.append(r);
    const back = timelineFromJson(JSON.parse(JSON.stringify(tl)));
    expect(back.meta).toEqual(meta);
    expect(back.records).toEqual(records);
    // a --json run: the CLI's own lines are skipped, absent fields of older lines are null
    const { percent: _p, ...older } = sample(20, 1, 6);
    const fromRun = timelineFromRecords(meta, [
      { type: 'start', domain: 'vm' },
      ...records,
      older,
      { type: 'summary', result: 'completed' },
    ]);
    expect(fromRun.records.map((r) => r.type)).toEqual(['step', 'progress', 'note', 'progress']);
    expect((fromRun.records[3] as ProgressRecord).percent).toBeNull();
  });

  it('names what is wrong in a saved timeline', () => {
    expect(() => timelineFromJson({ version: 2 })).toThrow(TimelineFormatError);
    expect(() => timelineFromJson({ version: 1, meta, records: [{ type: 'progress' }] })).toThrow(
      'timeline record 1: progress without a time t',
    );
    expect(() =>
      timelineFromRecords(meta, [{ type: 'progress', t: 1, phase: 'sideways' }]),
    ).toThrow('timeline record 1: progress without a phase');
    expect(() =>
      timelineFromRecords(meta, [{ type: 'progress', t: 1, phase: 'precopy', percent: '5' }]),
    ).toThrow('timeline record 1: progress: percent is not a number');
    expect(() =>
      timelineFromJson({ version: 1, meta: { ...meta, mode: 'x' }, records: [] }),
    ).toThrow('timeline meta: unknown mode "x"');
  });
});
