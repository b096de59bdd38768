/**
 * The CLI's pure renderers: sizes and durations, the progress line at every
 * terminal width, the plain and JSON progress forms, and the summary.
 */
import { describe, expect, it } from 'vitest';
import {
  MigrationTimeline,
  type ProgressRecord,
  summarize,
  type TimelineRecord,
} from '../../../src/api/migration/index.js';
import {
  formatBytes,
  formatClock,
  formatDuration,
  formatLatency,
  formatRate,
  table,
  tree,
} from '../../../src/cli/format.js';
import {
  bar,
  barWidth,
  etaText,
  renderPlainProgress,
  renderProgress,
} from '../../../src/cli/progress.js';
import { renderSummary, summaryJson } from '../../../src/cli/summary.js';

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
    expect(formatLatency(1.84)).toBe('1.8 ms');
    expect(formatLatency(0.421)).toBe('0.42 ms');
    expect(formatLatency(12.4)).toBe('12 ms');
  });

  it("draws virsh's snapshot tree: roots, branches, the closing lines; nodes in a loop too", () => {
    const n = (name: string, parent: string | null = null) => ({ name, parent });
    // the layout virsh 9.0 prints for this tree (test/integration/cli-virsh.test.ts compares the two)
    expect(
      tree([n('r'), n('a'), n('b', 'a'), n('c', 'b'), n('d', 'c'), n('e', 'a'), n('f', 'e')]),
    ).toBe(
      [
        'r',
        '',
        'a',
        '  |',
        '  +- b',
        '  |   |',
        '  |   +- c',
        '  |       |',
        '  |       +- d',
        '  |         ',
        '  +- e',
        '      |',
        '      +- f',
        '        ',
      ].join('\n'),
    );
    // a parent that is not listed makes a root; parents in a loop are still drawn, not dropped
    expect(tree([n('x', 'gone'), n('p', 'q'), n('q', 'p')])).toBe(
      ['x', '', 'p', '  |', '  +- q', '    '].join('\n'),
    );
    expect(tree([])).toBe('');
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
        '--------------------------------',
        ' 1    vm1             running',
        ' -    a-longer-name   shut off',
      ].join('\n'),
    );
  });
});

/** A sample as the library records it (figures included). */
const snap = (over: Partial<ProgressRecord> = {}): ProgressRecord => ({
  type: 'progress',
  t: 5_300,
  phase: 'precopy',
  iteration: 3,
  memoryTotal: 128 * MiB,
  memoryProcessed: 54 * MiB,
  memoryRemaining: 80 * MiB,
  memoryBps: 1 * MiB,
  memoryDirtyRate: 11520, // pages/s: 45 MiB/s of 4 KiB pages
  memoryPageSize: 4096,
  jobElapsedMs: 5_300,
  dataTotal: 130 * MiB,
  dataProcessed: 54 * MiB,
  dataRemaining: 80 * MiB,
  postcopyRequests: null,
  percent: 37.5,
  rateBps: 1 * MiB,
  dirtyBps: 45 * MiB,
  converging: false,
  etaMs: null,
  ...over,
});

describe('progress line', () => {
  it('shows every field on a wide terminal', () => {
    const line = renderProgress(snap(), 160);
    expect(line).toMatch(/^\[#+\.+\] /);
    for (const part of [
      '37.5%',
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

  it('shows unknown figures as unknown: the dirty rate and the ETA of the first pass', () => {
    const first = snap({ iteration: 1, dirtyBps: null, converging: null, etaMs: null });
    const line = renderProgress(first, 160);
    expect(line).toContain('dirty ?');
    expect(line).toContain('ETA ?');
    expect(line).not.toContain('dirty 0');
    expect(renderPlainProgress(first)).toContain('dirty unknown (first pass)');
    expect(renderPlainProgress(first)).toContain('ETA unknown');
    expect(etaText(first)).toBe('?');
    expect(etaText(snap())).toBe('--');
    expect(etaText(snap({ etaMs: 61_000, converging: true }))).toBe('1:01');
  });

  it('never reaches the last column, at any width, and drops the least important fields first', () => {
    const s = snap();
    for (let w = 1; w <= 200; w++) {
      const line = renderProgress(s, w);
      expect(line.length, `width ${w}`).toBeLessThanOrEqual(Math.max(1, w - 1));
      expect(line).not.toContain('\n');
    }
    const mid = renderProgress(s, 80);
    expect(mid).toContain('37.5%');
    expect(mid).toContain('80.0 MiB left');
    expect(mid).not.toContain('dirty'); // the first to go
    const narrow = renderProgress(s, 24);
    expect(narrow).toContain('37.5%');
    expect(narrow).toContain('pre-copy');
    expect(narrow).not.toContain('[');
  });

  it('keeps every field and the bar at the same column whatever the figures', () => {
    const a = renderProgress(snap({ percent: 2.5, memoryRemaining: 512, rateBps: 3 }), 120);
    const b = renderProgress(
      snap({ percent: 100, memoryRemaining: 900 * MiB, rateBps: 999 * MiB, etaMs: 3_723_000 }),
      120,
    );
    expect(a.indexOf('pre-copy')).toBe(b.indexOf('pre-copy'));
    expect(a.indexOf('iter')).toBe(b.indexOf('iter'));
    expect(a.indexOf('dirty')).toBe(b.indexOf('dirty'));
    expect(a.indexOf('ETA')).toBe(b.indexOf('ETA'));
    expect(a.indexOf(']')).toBe(barWidth(120) - 1);
    expect(b.indexOf(']')).toBe(barWidth(120) - 1);
  });

  it('fills the bar in proportion', () => {
    expect(bar(0, 12)).toBe('[..........]');
    expect(bar(50, 12)).toBe('[#####.....]');
    expect(bar(100, 12)).toBe('[##########]');
    expect(bar(null, 6)).toBe('[....]');
  });

  it('shows post-copy with its own rate, its page requests and no dirty rate', () => {
    const post = snap({
      phase: 'postcopy',
      rateBps: 40 * MiB,
      memoryRemaining: 20 * MiB,
      dirtyBps: null,
      converging: null,
      etaMs: 500,
      postcopyRequests: 17,
    });
    const line = renderProgress(post, 160);
    expect(line).toContain('post-copy');
    expect(line).toContain('reqs 17');
    expect(line).toContain('40.0 MiB/s');
    expect(line).toContain('ETA 0:00');
    expect(line).not.toContain('dirty');
    expect(
      renderProgress(
        snap({ phase: 'postcopy', rateBps: null, etaMs: null, converging: null }),
        160,
      ),
    ).toContain('? B/s');
  });

  it('prints plain lines without escape codes, naming each field', () => {
    const line = renderPlainProgress(
      snap({
        phase: 'postcopy',
        postcopyRequests: 17,
        dirtyBps: null,
        etaMs: 80_000,
        converging: null,
      }),
    );
    expect(line).not.toContain('\x1b');
    expect(line).toBe(
      'migration: 37.5% post-copy, remaining 80.0 MiB of 128 MiB, rate 1.0 MiB/s, ' +
        'post-copy requests 17, elapsed 0:05, ETA 1:20',
    );
    expect(renderPlainProgress(snap())).toBe(
      'migration: 37.5% pre-copy, iteration 3, remaining 80.0 MiB of 128 MiB, rate 1.0 MiB/s, ' +
        'dirty 45.0 MiB/s, elapsed 0:05, not converging (dirtied faster than sent)',
    );
  });
});

/** A finished timeline made of these records (t in ms on the migration's clock). */
function timelineOf(records: TimelineRecord[]): MigrationTimeline {
  const tl = new MigrationTimeline({
    domain: 'vm1',
    uuid: '6695eb01-f6a4-8304-79aa-97f2502e193f',
    startedAt: '2026-01-01T00:00:00.000Z',
    mode: 'managed',
    flags: 0,
  });
  for (const r of records) tl.append(r);
  return tl;
}

const completedRecords = (): TimelineRecord[] => [
  { type: 'step', t: 0, step: 'begin' },
  snap({ t: 1000, iteration: 1, dirtyBps: null, converging: null }),
  {
    type: 'switch',
    t: 1521.6,
    trigger: 'iteration',
    requestedT: 1520,
    latencyMs: 1.6,
    ok: true,
    error: null,
  },
  snap({ t: 2000, phase: 'postcopy', postcopyRequests: 100 }),
  {
    type: 'end',
    t: 5400,
    outcome: 'completed',
    step: 'done',
    postcopy: true,
    error: null,
    stats: {
      jobType: 3,
      timeElapsedMs: 5210,
      downtimeMs: 8,
      dataTotal: 128 * MiB,
      dataProcessed: 130 * MiB,
      memoryTotal: 128 * MiB,
      memoryProcessed: 130 * MiB,
      memoryRemaining: 0,
      memoryBps: MiB,
      memoryIteration: 2,
      memoryPostcopyRequests: 213,
    },
    source: { kind: 'absent' },
    destination: {
      kind: 'domain',
      state: 'running',
      reason: 'migrated',
      stateCode: 1,
      reasonCode: 2,
    },
  },
];

describe('summary', () => {
  it('renders the verdict and aligned rows, every time on the migration clock', () => {
    const text = renderSummary(summarize(timelineOf(completedRecords())));
    expect(text.split('\n')[0]).toBe('Migration of vm1 completed (post-copy) in 5.4 s');
    expect(text).toContain('  result:             completed');
    expect(text).toContain(
      '  mode:               post-copy, switched after the first pre-copy pass at 1.5 s (latency 1.6 ms)',
    );
    expect(text).toContain('  downtime:           8 ms');
    expect(text).toContain('  post-copy requests: 213');
    expect(text).toContain('  iterations:         2');
    expect(text).toContain('  data transferred:   130 MiB (guest memory 128 MiB)');
    expect(text).toContain('  source:             gone (transient domain moved)');
    expect(text).toContain('  destination:        running (migrated)');
    // the daemon's own job time is another clock: not in the summary
    expect(text).not.toContain('total time');
    expect(text).not.toContain('5.2 s');
    expect(text).not.toContain('\x1b');
  });

  it('renders a failure without repeating the error, with the states as queried', () => {
    const text = renderSummary(
      summarize(
        timelineOf([
          { type: 'step', t: 0, step: 'begin' },
          {
            type: 'end',
            t: 900,
            outcome: 'failed',
            step: 'prepare',
            postcopy: false,
            error: {
              name: 'MigrationError',
              message: 'Attempt to migrate guest to the same host',
              code: 'VIR_ERR_INTERNAL_ERROR',
            },
            stats: null,
            source: {
              kind: 'domain',
              state: 'running',
              reason: 'booted',
              stateCode: 1,
              reasonCode: 1,
            },
            destination: { kind: 'absent' },
          },
        ]),
      ),
    );
    expect(text.split('\n')[0]).toBe('Migration of vm1 failed in prepare after 900 ms');
    expect(text).not.toContain('same host'); // printed once, on stderr, by the command
    expect(text).toContain('source:      running (booted)');
    expect(text).toContain('destination: absent (no such domain)');
    expect(text).not.toContain('advice'); // running on the source: nothing to do
    expect(text).not.toContain('post-copy requests');
  });

  it('says when the CLI stopped following a migration that goes on, with the last figures', () => {
    const text = renderSummary(
      summarize(
        timelineOf([
          snap({ t: 2000, phase: 'postcopy', postcopyRequests: 120, percent: 64.5 }),
          {
            type: 'end',
            t: 2500,
            outcome: 'detached',
            step: 'perform',
            postcopy: true,
            error: null,
            stats: null,
            source: {
              kind: 'domain',
              state: 'paused',
              reason: 'postcopy_failed',
              stateCode: 3,
              reasonCode: 13,
            },
            destination: {
              kind: 'domain',
              state: 'running',
              reason: 'postcopy',
              stateCode: 1,
              reasonCode: 10,
            },
          },
        ]),
      ),
    );
    expect(text.split('\n')[0]).toBe('Left the migration of vm1 after 2.5 s (post-copy)');
    expect(text).toContain('post-copy requests: 120\n');
    expect(text).not.toContain('?');
    expect(text).toContain(
      'figures:            from the last sample, at 2.0 s: 64.5% of memory copied',
    );
    expect(text).toContain('source:             paused (postcopy failed)');
    // the source failed, the destination still in post-copy: QEMU is still copying (libvirt 9.0)
    expect(text).toMatch(/advice: +QEMU is still copying memory to the destination/);
    expect(text).toContain(
      'virtwire domjobabort --postcopy DOMAIN on the source, then virtwire migrate',
    );
  });

  it('gives one --json object with the same figures', () => {
    const o = summaryJson(summarize(timelineOf(completedRecords())));
    expect(o).toMatchObject({
      type: 'summary',
      result: 'completed',
      postcopy: true,
      postcopySwitch: { trigger: 'iteration', atMs: 1520, latencyMs: 1.6 },
      downtimeMs: 8,
      postcopyRequests: 213,
      iterations: 2,
      totalTimeMs: 5400,
      error: null,
      sourceState: 'gone (transient domain moved)',
      destinationState: 'running (migrated)',
    });
    expect(JSON.parse(JSON.stringify(o))).toEqual(o);
  });
});
