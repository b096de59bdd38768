/**
 * The CLI's pure renderers: sizes and durations, the progress line at every
 * terminal width, the plain and JSON progress forms, and the summary.
 */
import { describe, expect, it } from 'vitest';
import type { MigrationProgress } from '../../../src/api/migration/index.js';
import {
  formatBytes,
  formatClock,
  formatDuration,
  formatRate,
  table,
} from '../../../src/cli/format.js';
import {
  bar,
  estimateEtaMs,
  type ProgressSnapshot,
  progressJson,
  renderPlainProgress,
  renderProgress,
  snapshotFromProgress,
} from '../../../src/cli/progress.js';
import {
  type MigrationSummary,
  renderSummary,
  statsFields,
  summaryJson,
} from '../../../src/cli/summary.js';

const MiB = 1024 * 1024;

describe('formatters', () => {
  it('formats sizes in binary units with sensible precision', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(128 * MiB)).toBe('128 MiB');
    expect(formatBytes(45.25 * MiB)).toBe('45.3 MiB');
    expect(formatBytes(1023.99 * MiB)).toBe('1024 MiB');
    expect(formatBytes(3 * 1024 * MiB)).toBe('3.0 GiB');
    expect(formatBytes(Number.NaN)).toBe('?');
    expect(formatRate(MiB)).toBe('1.0 MiB/s');
  });

  it('formats durations for people and clocks for progress lines', () => {
    expect(formatDuration(3.4)).toBe('3 ms');
    expect(formatDuration(999)).toBe('999 ms');
    expect(formatDuration(4210)).toBe('4.2 s');
    expect(formatDuration(65_000)).toBe('1:05');
    expect(formatDuration(3_723_000)).toBe('1:02:03');
    expect(formatDuration(-1)).toBe('?');
    expect(formatClock(0)).toBe('0:00');
    expect(formatClock(5_999)).toBe('0:05');
    expect(formatClock(3_600_000)).toBe('1:00:00');
    expect(formatClock(Number.POSITIVE_INFINITY)).toBe('-:--');
  });

  it('draws a virsh-like table', () => {
    expect(
      table(
        ['Id', 'Name', 'State'],
        [
          ['1', 'vm1', 'running'],
          ['-', 'a-longer-name', 'shut off'],
        ],
      ),
    ).toBe(
      [
        ' Id   Name            State',
        '----------------------------',
        ' 1    vm1             running',
        ' -    a-longer-name   shut off',
      ].join('\n'),
    );
  });
});

const snap = (over: Partial<ProgressSnapshot> = {}): ProgressSnapshot => ({
  phase: 'precopy',
  percent: 42,
  memoryTotal: 128 * MiB,
  memoryProcessed: 54 * MiB,
  memoryRemaining: 80 * MiB,
  memoryBps: 1 * MiB,
  memoryDirtyRate: 11520, // pages/s: 45 MiB/s of 4 KiB pages
  memoryPageSize: 4096,
  memoryIteration: 3,
  postcopyRequests: undefined,
  dataTotal: 130 * MiB,
  dataProcessed: 54 * MiB,
  dataRemaining: 80 * MiB,
  elapsedMs: 5_300,
  ...over,
});

describe('progress line', () => {
  it('shows every field on a wide terminal', () => {
    const line = renderProgress(snap(), 160);
    expect(line).toMatch(/^\[#+\.+\] /);
    for (const part of [
      '42.0%',
      'pre-copy',
      'iter 3',
      '80.0 MiB left',
      '1.0 MiB/s',
      'dirty 45.0 MiB/s',
      '0:05',
      'ETA --', // dirtying faster than the link: pre-copy alone never ends
    ]) {
      expect(line).toContain(part);
    }
  });

  it('never reaches the last column, at any width, and drops the least important fields first', () => {
    const s = snap();
    for (let w = 1; w <= 200; w++) {
      const line = renderProgress(s, w);
      expect(line.length, `width ${w}`).toBeLessThanOrEqual(Math.max(1, w - 1));
      expect(line).not.toContain('\n');
    }
    const mid = renderProgress(s, 70);
    expect(mid).toContain('42.0%');
    expect(mid).toContain('80.0 MiB left');
    expect(mid).not.toContain('dirty'); // the first to go
    const narrow = renderProgress(s, 24);
    expect(narrow).toContain('42.0%');
    expect(narrow).toContain('pre-copy');
    expect(narrow).not.toContain('[');
  });

  it('fills the bar in proportion', () => {
    expect(bar(0, 12)).toBe('[..........]');
    expect(bar(50, 12)).toBe('[#####.....]');
    expect(bar(100, 12)).toBe('[##########]');
    expect(bar(undefined, 6)).toBe('[....]');
  });

  it('estimates the time left from the net rate, and post-copy from the rate alone', () => {
    expect(estimateEtaMs(snap())).toBe(Number.POSITIVE_INFINITY);
    const fast = snap({ memoryBps: 100 * MiB, memoryRemaining: 90 * MiB, memoryDirtyRate: 2560 });
    expect(estimateEtaMs(fast)).toBeCloseTo(1000, 5); // 90 MiB at 100 - 10 MiB/s
    const post = snap({ phase: 'postcopy', memoryBps: 40 * MiB, memoryRemaining: 20 * MiB });
    expect(estimateEtaMs(post)).toBeCloseTo(500, 5);
    expect(renderProgress(post, 160)).toContain('post-copy');
    expect(renderProgress(post, 160)).toContain('ETA 0:00');
    expect(renderProgress(post, 160)).not.toContain('dirty');
    expect(estimateEtaMs(snap({ memoryBps: undefined }))).toBeUndefined();
    expect(estimateEtaMs(snap({ memoryRemaining: 0 }))).toBe(0);
  });

  it('prints plain lines without escape codes, naming each field', () => {
    const line = renderPlainProgress(snap({ phase: 'postcopy', postcopyRequests: 17 }));
    expect(line).not.toContain('\x1b');
    expect(line).toBe(
      'migration: 42.0% post-copy, iteration 3, remaining 80.0 MiB of 128 MiB, rate 1.0 MiB/s, ' +
        'dirty 45.0 MiB/s, post-copy requests 17, elapsed 0:05, ETA 1:20',
    );
  });

  it('gives --json objects with stable fields and null for what is unknown', () => {
    const o = progressJson(snap({ percent: 42.04, memoryDirtyRate: undefined }));
    expect(o).toMatchObject({
      type: 'progress',
      phase: 'precopy',
      percent: 42,
      iteration: 3,
      memoryRemaining: 80 * MiB,
      memoryDirtyRate: null,
      elapsedMs: 5300,
      etaMs: 80_000, // without a dirty rate, the link rate alone
      converging: true,
    });
    expect(JSON.parse(JSON.stringify(o))).toEqual(o);
  });

  it('builds a snapshot from the library progress, preferring the daemon elapsed time', () => {
    const p = {
      raw: {},
      type: 2,
      operation: 5,
      timeElapsedMs: 1234,
      downtimeMs: undefined,
      setupTimeMs: undefined,
      dataTotal: 10,
      dataProcessed: 5,
      dataRemaining: 5,
      memoryTotal: 10,
      memoryProcessed: 5,
      memoryRemaining: 5,
      memoryBps: 1,
      memoryDirtyRate: 0,
      memoryIteration: 1,
      memoryPostcopyRequests: undefined,
      memoryPageSize: 4096,
      phase: 'precopy',
      percent: 50,
      at: new Date(),
    } satisfies MigrationProgress;
    expect(snapshotFromProgress(p, 999).elapsedMs).toBe(1234);
    expect(snapshotFromProgress({ ...p, timeElapsedMs: undefined }, 999).elapsedMs).toBe(999);
  });
});

describe('summary', () => {
  const completed: MigrationSummary = {
    domain: 'vm1',
    result: 'completed',
    postcopy: true,
    postcopySwitch: { trigger: 'iteration', atMs: 1520, latencyMs: 1.6 },
    downtimeMs: 8,
    postcopyRequests: 213,
    iterations: 2,
    totalTimeMs: 5210,
    wallTimeMs: 5400,
    dataTransferred: 130 * MiB,
    memoryTotal: 128 * MiB,
    averageBps: 25 * MiB,
    sourceState: 'shut off (migrated)',
    destinationState: 'running (migrated)',
  };

  it('renders the verdict and aligned rows', () => {
    const text = renderSummary(completed);
    expect(text.split('\n')[0]).toBe('Migration of vm1 completed (post-copy) in 5.4 s');
    expect(text).toContain('  result:             completed');
    expect(text).toContain(
      '  mode:               post-copy, switched after the first pre-copy pass at 1.5 s (acknowledged in 2 ms)',
    );
    expect(text).toContain('  downtime:           8 ms');
    expect(text).toContain('  post-copy requests: 213');
    expect(text).toContain('  iterations:         2');
    expect(text).toContain('  total time:         5.2 s');
    expect(text).toContain('  data transferred:   130 MiB (guest memory 128 MiB)');
    expect(text).toContain('  destination:        running (migrated)');
    expect(text).not.toContain('\x1b');
  });

  it('renders a failure with its error', () => {
    const text = renderSummary({
      domain: 'vm1',
      result: 'aborted',
      error: 'VIR_ERR_OPERATION_ABORTED: operation aborted',
      postcopy: false,
      wallTimeMs: 900,
    });
    expect(text).toContain('Migration of vm1 aborted after 900 ms');
    expect(text).toContain('error:  VIR_ERR_OPERATION_ABORTED: operation aborted');
    expect(text).toContain('mode:   pre-copy');
    expect(text).not.toContain('post-copy requests');
  });

  it('says when the CLI stopped watching a migration that goes on', () => {
    const text = renderSummary({
      domain: 'vm1',
      result: 'interrupted',
      error: 'interrupted: the migration goes on without the CLI',
      postcopy: true,
      wallTimeMs: 2500,
    });
    expect(text.split('\n')[0]).toBe(
      'Migration of vm1 still running (post-copy); stopped watching after 2.5 s',
    );
    expect(text).toContain('post-copy requests: ?');
  });

  it('takes its numbers from the completed-job statistics', () => {
    const f = statsFields({
      raw: {},
      type: 3,
      operation: 5,
      timeElapsedMs: 2000,
      downtimeMs: 7,
      setupTimeMs: 1,
      dataTotal: 100,
      dataProcessed: 300,
      dataRemaining: 0,
      memoryTotal: 100,
      memoryProcessed: 250,
      memoryRemaining: 0,
      memoryBps: 10,
      memoryDirtyRate: 0,
      memoryIteration: 4,
      memoryPostcopyRequests: 9,
      memoryPageSize: 4096,
    });
    expect(f).toEqual({
      downtimeMs: 7,
      postcopyRequests: 9,
      iterations: 4,
      totalTimeMs: 2000,
      dataTransferred: 300,
      memoryTotal: 100,
      averageBps: 150,
    });
    expect(statsFields(null)).toEqual({});
  });

  it('gives one --json object', () => {
    const o = summaryJson(completed);
    expect(o).toMatchObject({
      type: 'summary',
      result: 'completed',
      postcopy: true,
      postcopySwitch: { trigger: 'iteration', atMs: 1520, latencyMs: 1.6 },
      downtimeMs: 8,
      postcopyRequests: 213,
      iterations: 2,
      error: null,
    });
  });
});
