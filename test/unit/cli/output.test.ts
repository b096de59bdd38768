/**
 * What the reporters write for each output kind (terminal, --json, plain),
 * and the virsh-like renderings of list, dominfo, domstate, domjobinfo and
 * events.
 */
import { describe, expect, it } from 'vitest';
import type { DomainEvent } from '../../../src/api/events.js';
import { jobStats } from '../../../src/api/migration/index.js';
import {
  type DomInfo,
  renderDomInfo,
  renderJobInfo,
  renderList,
  renderState,
} from '../../../src/cli/domain-commands.js';
import {
  domainEventJson,
  domainEventText,
  migrationEventJson,
  migrationEventText,
} from '../../../src/cli/event-format.js';
import { selectEvents } from '../../../src/cli/events-command.js';
import type { ProgressSnapshot } from '../../../src/cli/progress.js';
import {
  CLEAR_LINE,
  chooseReporter,
  HIDE_CURSOR,
  JsonReporter,
  PlainReporter,
  SHOW_CURSOR,
  TtyReporter,
} from '../../../src/cli/reporter.js';
import type { MigrationSummary } from '../../../src/cli/summary.js';

const MiB = 1024 * 1024;
const snap = (percent: number, phase: 'precopy' | 'postcopy' = 'precopy'): ProgressSnapshot => ({
  phase,
  percent,
  memoryTotal: 128 * MiB,
  memoryProcessed: (128 * MiB * percent) / 100,
  memoryRemaining: (128 * MiB * (100 - percent)) / 100,
  memoryBps: 10 * MiB,
  memoryDirtyRate: 100,
  memoryPageSize: 4096,
  memoryIteration: 1,
  postcopyRequests: undefined,
  dataTotal: undefined,
  dataProcessed: undefined,
  dataRemaining: undefined,
  elapsedMs: 1000,
});
const summary: MigrationSummary = {
  domain: 'vm1',
  result: 'completed',
  postcopy: true,
  downtimeMs: 5,
  postcopyRequests: 12,
  wallTimeMs: 3000,
};
const start = {
  domain: 'vm1',
  source: 'sim://a',
  destination: 'sim://b',
  mode: 'managed' as const,
  description: 'live',
  options: { live: true },
};

function capture(isTTY: boolean, columns = 100) {
  let text = '';
  return {
    out: { write: (s: string) => (text += s), isTTY, columns },
    text: () => text,
  };
}

describe('reporters', () => {
  it('picks JSON when asked, the live line on a terminal, plain lines otherwise', () => {
    expect(chooseReporter(capture(true).out, { json: true })).toBeInstanceOf(JsonReporter);
    expect(chooseReporter(capture(true).out, {})).toBeInstanceOf(TtyReporter);
    expect(chooseReporter(capture(false).out, {})).toBeInstanceOf(PlainReporter);
  });

  it('redraws one line in place on a terminal and restores the cursor', () => {
    const c = capture(true, 90);
    const r = new TtyReporter(c.out, false);
    r.start(start);
    r.progress(snap(10));
    r.progress(snap(20));
    r.event('source: suspended (postcopy)', {}, true);
    r.event('source: iteration 2', {}, false); // not shown without --verbose
    r.progress(snap(60, 'postcopy'));
    r.finish(summary);
    const t = c.text();
    expect(t.startsWith('Migrating vm1: sim://a -> sim://b (live)\n')).toBe(true);
    expect(t).toContain(HIDE_CURSOR);
    expect(t.endsWith(`${SHOW_CURSOR}`)).toBe(true);
    expect(t.split(CLEAR_LINE).length - 1).toBe(5); // 3 redraws, 1 above-line event, 1 final
    expect(t).toContain(`${CLEAR_LINE}source: suspended (postcopy)\n`);
    expect(t).not.toContain('iteration 2');
    // every redraw fits the terminal
    for (const seg of t.split(CLEAR_LINE).slice(1))
      expect(seg.split('\n')[0]!.length).toBeLessThan(90);
    expect(t).toContain('Migration of vm1 completed (post-copy)');
    r.close(); // twice is harmless
    expect(c.text()).toBe(t);
  });

  it('writes one parseable JSON object per line', () => {
    const c = capture(true);
    const r = new JsonReporter(c.out);
    r.start(start);
    r.progress(snap(50));
    r.event('x', { type: 'event', event: 'lifecycle', side: 'source' }, false);
    r.note('interrupt: aborting', { action: 'abort' });
    r.finish(summary);
    const objs = c
      .text()
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(objs.map((o) => o.type)).toEqual(['start', 'progress', 'event', 'note', 'summary']);
    expect(objs[1]).toMatchObject({ phase: 'precopy', percent: 50 });
    expect(objs[3]).toMatchObject({ message: 'interrupt: aborting', action: 'abort' });
    expect(objs[4]).toMatchObject({ result: 'completed', postcopyRequests: 12 });
    for (const o of objs) expect(typeof o.time).toBe('string');
    expect(c.text()).not.toContain('\x1b');
  });

  it('writes plain lines without escape codes; events only with --verbose', () => {
    const quiet = capture(false);
    const r = new PlainReporter(quiet.out, false);
    r.start(start);
    r.progress(snap(50));
    r.event('source: iteration 2', {}, false);
    r.event('source: suspended (postcopy)', {}, true);
    r.finish(summary);
    const lines = quiet.text().trimEnd().split('\n');
    expect(lines[1]).toMatch(/^migration: 50\.0% pre-copy, iteration 1, remaining 64\.0 MiB/);
    expect(lines[2]).toBe('source: suspended (postcopy)');
    expect(quiet.text()).not.toContain('\x1b');
    const loud = capture(false);
    new PlainReporter(loud.out, true).event('source: iteration 2', {}, false);
    expect(loud.text()).toBe('source: iteration 2\n');
  });
});

const uuid = '6695eb01-f6a4-8304-79aa-97f2502e193f';
const ref = {
  name: 'vm1',
  uuid,
  id: 4,
  wire: { name: 'vm1', uuid: new Uint8Array(16), id: 4 },
};

describe('domain renderings', () => {
  it('lists like virsh', () => {
    const st = (state: 'running' | 'shutoff' | 'paused') => ({
      state,
      reason: 'x',
      stateCode: 0,
      reasonCode: 0,
    });
    expect(
      renderList([
        { id: 1, name: 'web', uuid, state: st('running') },
        { id: -1, name: 'db', uuid, state: st('shutoff') },
      ]),
    ).toBe(
      [
        ' Id   Name   State',
        '-------------------',
        ' 1    web    running',
        ' -    db     shut off',
      ].join('\n'),
    );
    expect(
      renderState(
        { state: 'paused', reason: 'postcopy_failed', stateCode: 3, reasonCode: 13 },
        true,
      ),
    ).toBe('paused (postcopy failed)');
    expect(
      renderState({ state: 'blocked', reason: 'unknown', stateCode: 2, reasonCode: 0 }, false),
    ).toBe('idle');
  });

  it('renders dominfo', () => {
    const i: DomInfo = {
      id: 4,
      name: 'vm1',
      uuid,
      osType: 'hvm',
      state: { state: 'running', reason: 'booted', stateCode: 1, reasonCode: 1 },
      vcpus: 1,
      cpuTimeNs: 2_500_000_000n,
      maxMemKiB: 131072n,
      memoryKiB: 131072n,
      persistent: false,
      autostart: undefined,
      managedSave: false,
    };
    expect(renderDomInfo(i)).toBe(
      [
        'Id:             4',
        'Name:           vm1',
        `UUID:           ${uuid}`,
        'OS Type:        hvm',
        'State:          running',
        'CPU(s):         1',
        'CPU time:       2.5s',
        'Max memory:     131072 KiB',
        'Used memory:    131072 KiB',
        'Persistent:     no',
        'Managed save:   no',
      ].join('\n'),
    );
  });

  it('renders job statistics with the known fields by name and the rest raw', () => {
    const ul = (field: string, v: bigint) => ({ field, value: { type: 4 as const, ul: v } });
    const s = jobStats(2, [
      { field: 'operation', value: { type: 1, i: 5 } },
      ul('time_elapsed', 5210n),
      ul('memory_total', BigInt(128 * MiB)),
      ul('memory_remaining', BigInt(64 * MiB)),
      ul('memory_bps', BigInt(MiB)),
      ul('memory_dirty_rate', 11520n),
      ul('memory_iteration', 2n),
      { field: 'auto_converge_throttle', value: { type: 1, i: 20 } },
    ]);
    expect(renderJobInfo(s)).toBe(
      [
        'Job type:             Unbounded',
        'Operation:            migration out',
        'Time elapsed:         5210 ms',
        'Memory remaining:     64.0 MiB',
        'Memory total:         128 MiB',
        'Memory bandwidth:     1.0 MiB/s',
        'Dirty rate:           11520 pages/s',
        'Iteration:            2',
        'auto_converge_throttle: 20',
      ].join('\n'),
    );
    expect(renderJobInfo(jobStats(0, []))).toBe('Job type:             None');
  });
});

describe('event renderings', () => {
  const lifecycle = {
    type: 'lifecycle',
    domain: ref,
    event: 'suspended',
    detail: 'postcopy',
    eventCode: 3,
    detailCode: 7,
  } as unknown as DomainEvent<'lifecycle'>;

  it('prints events as virsh does and as JSON', () => {
    expect(domainEventText(lifecycle)).toBe(
      "event 'lifecycle' for domain 'vm1': suspended (postcopy)",
    );
    expect(domainEventJson(lifecycle)).toEqual({
      type: 'event',
      event: 'lifecycle',
      domain: { name: 'vm1', uuid, id: 4 },
      details: { event: 'suspended', detail: 'postcopy', eventCode: 3, detailCode: 7 },
    });
    const rtc = { type: 'rtc_change', domain: ref, offset: 3600n } as unknown as DomainEvent;
    expect(domainEventText(rtc)).toBe("event 'rtc_change' for domain 'vm1': offset=3600");
    expect(migrationEventText({ side: 'destination', event: lifecycle })).toBe(
      'destination: suspended (postcopy)',
    );
    expect(migrationEventJson({ side: 'source', event: lifecycle })).toMatchObject({
      side: 'source',
      event: 'lifecycle',
      details: { event: 'suspended' },
    });
  });

  it('selects event types by name, refusing unknown ones', () => {
    expect(selectEvents('lifecycle, migration-iteration')).toEqual([
      'lifecycle',
      'migration_iteration',
    ]);
    expect(selectEvents(undefined)).toContain('job_completed');
    expect(() => selectEvents('nope')).toThrow('unknown event "nope"');
  });
});
