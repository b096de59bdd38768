/**
 * What the reporters write for each output kind (terminal, --json, plain),
 * where (progress and notes on stderr, results on stdout), and the
 * virsh-like renderings of list, dominfo, domstate, domjobinfo and events.
 */
import { describe, expect, it } from 'vitest';
import type { DomainEvent } from '../../../src/api/events.js';
import {
  jobStats,
  MigrationTimeline,
  type ProgressRecord,
  summarize,
  type TimelineRecord,
} from '../../../src/api/migration/index.js';
import {
  type DomInfo,
  renderDomInfo,
  renderJobInfo,
  renderList,
  renderState,
} from '../../../src/cli/domain-commands.js';
import { domainEventJson, domainEventText } from '../../../src/cli/event-format.js';
import { selectEvents } from '../../../src/cli/events-command.js';
import { jsonLine } from '../../../src/cli/json.js';
import {
  CLEAR_LINE,
  chooseReporter,
  HIDE_CURSOR,
  JsonReporter,
  type MigrationStart,
  PlainReporter,
  recordText,
  SHOW_CURSOR,
  TtyReporter,
} from '../../../src/cli/reporter.js';

const MiB = 1024 * 1024;
const snap = (percent: number, phase: 'precopy' | 'postcopy' = 'precopy'): ProgressRecord => ({
  type: 'progress',
  t: 1000,
  phase,
  iteration: 1,
  memoryTotal: 128 * MiB,
  memoryProcessed: (128 * MiB * percent) / 100,
  memoryRemaining: (128 * MiB * (100 - percent)) / 100,
  memoryBps: 10 * MiB,
  memoryDirtyRate: 0,
  memoryPageSize: 4096,
  jobElapsedMs: 1000,
  dataTotal: null,
  dataProcessed: null,
  dataRemaining: null,
  postcopyRequests: phase === 'postcopy' ? 12 : 0,
  percent,
  rateBps: 10 * MiB,
  dirtyBps: null,
  converging: null,
  etaMs: null,
});
const meta = {
  domain: 'vm1',
  uuid: '6695eb01-f6a4-8304-79aa-97f2502e193f',
  startedAt: '2026-01-01T00:00:00.000Z',
  mode: 'managed' as const,
  flags: 1,
};
const start: MigrationStart = {
  domain: 'vm1',
  source: 'sim://a',
  destination: 'sim://b',
  mode: 'managed',
  description: 'live',
  options: { live: true },
  meta,
};
const switched: TimelineRecord = {
  type: 'switch',
  t: 1201.8,
  trigger: 'iteration',
  requestedT: 1200,
  latencyMs: 1.8,
  ok: true,
  error: null,
};
const iteration2: TimelineRecord = {
  type: 'event',
  t: 1100,
  side: 'source',
  event: 'migration_iteration',
  details: { iteration: 2 },
};
const suspendedPostcopy: TimelineRecord = {
  type: 'event',
  t: 1202,
  side: 'source',
  event: 'lifecycle',
  details: { event: 'suspended', detail: 'postcopy', eventCode: 3, detailCode: 7 },
};
const summary = (() => {
  const tl = new MigrationTimeline(meta);
  tl.append({
    type: 'end',
    t: 3000,
    outcome: 'completed',
    step: 'done',
    postcopy: true,
    error: null,
    stats: {
      jobType: 3,
      timeElapsedMs: 2900,
      downtimeMs: 5,
      dataTotal: null,
      dataProcessed: null,
      memoryTotal: null,
      memoryProcessed: null,
      memoryRemaining: 0,
      memoryBps: null,
      memoryIteration: 2,
      memoryPostcopyRequests: 12,
    },
    source: { kind: 'absent' },
    destination: {
      kind: 'domain',
      state: 'running',
      reason: 'migrated',
      stateCode: 1,
      reasonCode: 2,
    },
  });
  return summarize(tl);
})();

function capture(isTTY: boolean, columns = 100) {
  let text = '';
  return {
    out: { write: (s: string) => (text += s), isTTY, columns },
    text: () => text,
  };
}

describe('reporters', () => {
  it('picks JSON when asked, the live line on a terminal stderr, plain lines otherwise', () => {
    const io = (tty: boolean, env: NodeJS.ProcessEnv = { TERM: 'xterm' }) => ({
      stdout: capture(tty).out,
      stderr: capture(tty).out,
      env,
    });
    expect(chooseReporter(io(true), { json: true })).toBeInstanceOf(JsonReporter);
    expect(chooseReporter(io(true), {})).toBeInstanceOf(TtyReporter);
    expect(chooseReporter(io(false), {})).toBeInstanceOf(PlainReporter);
    // a terminal that says it cannot take escape codes gets plain lines
    expect(chooseReporter(io(true, { TERM: 'dumb' }), {})).toBeInstanceOf(PlainReporter);
    // stdout piped, stderr a terminal (virtwire migrate ... > result.txt): the live line on stderr
    expect(
      chooseReporter({ stdout: capture(false).out, stderr: capture(true).out, env: {} }, {}),
    ).toBeInstanceOf(TtyReporter);
  });

  it('redraws one line in place on stderr, restores the cursor, and prints the summary on stdout', () => {
    const err = capture(true, 90);
    const out = capture(true, 90);
    const r = new TtyReporter(err.out, out.out, false);
    r.start(start);
    r.record(snap(10));
    r.record(snap(20));
    r.record(iteration2); // not shown without --verbose
    r.record(suspendedPostcopy);
    r.record(switched);
    r.record(snap(60, 'postcopy'));
    r.finish(summary);
    const t = err.text();
    expect(t.startsWith('Migrating vm1: sim://a -> sim://b (live)\n')).toBe(true);
    expect(t).toContain(HIDE_CURSOR);
    expect(t.endsWith(SHOW_CURSOR)).toBe(true);
    expect(t.split(CLEAR_LINE).length - 1).toBe(6); // 3 redraws, 2 lines above, 1 final clear
    expect(t).toContain(`${CLEAR_LINE}source: suspended (postcopy)\n`);
    expect(t).toContain(`${CLEAR_LINE}switched to post-copy at 1.2 s (latency 1.8 ms)\n`);
    expect(t).not.toContain('iteration 2');
    // every redraw fits the terminal
    for (const seg of t.split(CLEAR_LINE).slice(1))
      expect(seg.split('\n')[0]!.length).toBeLessThan(90);
    expect(t).not.toContain('Migration of vm1');
    expect(out.text()).toMatch(/^Migration of vm1 completed \(post-copy\)/);
    expect(out.text()).not.toContain('\x1b');
    r.close(); // twice is harmless
    expect(err.text()).toBe(t);
  });

  it('writes one parseable JSON object per line: start, the records, the summary', () => {
    const c = capture(true);
    const r = new JsonReporter(c.out);
    r.start(start);
    r.record(snap(50));
    r.record(iteration2);
    r.record({ type: 'note', t: 1150, message: 'interrupt: aborting', action: 'abort' });
    r.record(switched);
    r.finish(summary);
    const objs = c
      .text()
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(objs.map((o) => o.type)).toEqual([
      'start',
      'progress',
      'event',
      'note',
      'switch',
      'summary',
    ]);
    expect(objs[0]).toMatchObject({ uuid: meta.uuid, startedAt: meta.startedAt, flags: 1 });
    expect(objs[1]).toMatchObject({ phase: 'precopy', percent: 50, t: 1000 });
    expect(objs[3]).toMatchObject({ message: 'interrupt: aborting', action: 'abort' });
    expect(objs[4]).toMatchObject({ trigger: 'iteration', latencyMs: 1.8 });
    expect(objs[5]).toMatchObject({ result: 'completed', postcopyRequests: 12 });
    for (const o of objs)
      if (o.type !== 'start' && o.type !== 'summary') expect(typeof o.t).toBe('number');
    expect(c.text()).not.toContain('\x1b');
  });

  it('writes plain lines on stderr without escape codes (events only with --verbose), the summary on stdout', () => {
    const err = capture(false);
    const out = capture(false);
    const r = new PlainReporter(err.out, out.out, false);
    r.start(start);
    r.record(snap(50));
    r.record(iteration2);
    r.record(suspendedPostcopy);
    r.record(switched);
    r.finish(summary);
    const lines = err.text().trimEnd().split('\n');
    expect(lines[1]).toMatch(/^migration: 50\.0% pre-copy, iteration 1, remaining 64\.0 MiB/);
    expect(lines[2]).toBe('source: suspended (postcopy)');
    expect(lines[3]).toBe('switched to post-copy at 1.2 s (latency 1.8 ms)');
    expect(err.text()).not.toContain('\x1b');
    expect(err.text()).not.toContain('Migration of');
    expect(out.text()).toMatch(/^Migration of vm1 completed/);
    const loud = capture(false);
    new PlainReporter(loud.out, capture(false).out, true).record(iteration2);
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
        '-----------------------',
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

  it("renders job statistics with virsh's labels, order and units", () => {
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
        'Job type:         Unbounded',
        'Operation:        Outgoing migration',
        'Time elapsed:     5210 ms',
        'Memory remaining: 64.000 MiB',
        'Memory total:     128.000 MiB',
        'Memory bandwidth: 1.000 MiB/s',
        'Dirty rate:       11520 pages/s',
        'Iteration:        2',
        'Auto converge throttle: 20',
      ].join('\n'),
    );
    expect(renderJobInfo(jobStats(0, []))).toBe('Job type:         None');
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
    // a migration's event as its timeline records it, and as the reporters print it
    const rec: TimelineRecord = {
      type: 'event',
      t: 10,
      side: 'destination',
      event: 'lifecycle',
      details: { event: 'suspended', detail: 'postcopy', eventCode: 3, detailCode: 7 },
    };
    expect(recordText(rec, false)).toBe('destination: suspended (postcopy)');
    expect(JSON.parse(jsonLine(rec))).toMatchObject({
      side: 'destination',
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
