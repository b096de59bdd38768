/**
 * The Migration's timeline between two simulated hosts: what it records for
 * a post-copy run, and how every way of ending (completed, failed in
 * Prepare, aborted, failed after the switch, left running) ends it, with
 * both sides' states as queried, never guessed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Connection,
  type Domain,
  MigrationError,
  PostcopyFailedError,
  type ProgressRecord,
  summarize,
} from '../../../../src/index.js';
import { type SimDomainSpec, Simulator } from '../../../../src/testing/index.js';
import { timelineViolations } from '../../../helpers/timeline-invariants.js';

const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const x of opened.splice(0).reverse()) await x.close();
});

async function hosts(
  spec: Partial<SimDomainSpec> = {},
): Promise<{ a: Simulator; b: Simulator; ca: Connection; cb: Connection; dom: Domain }> {
  const a = await Simulator.start({
    hostname: 'host-a',
    timeScale: 20,
    bandwidthMiBps: 1000,
    domains: [
      {
        name: 'vm',
        state: 'running',
        persistent: false,
        memoryMiB: 1024,
        dirtyRateMiBps: 300,
        dirtySetMiB: 256,
        ...spec,
      },
    ],
  });
  const b = await Simulator.start({ hostname: 'host-b', timeScale: 20, bandwidthMiBps: 1000 });
  opened.push(a, b);
  const ca = await a.connect();
  const cb = await b.connect();
  opened.push(ca, cb);
  return { a, b, ca, cb, dom: await ca.lookupDomain('vm') };
}

const samplesOf = (records: readonly { type: string }[]) =>
  records.filter((r): r is ProgressRecord => r.type === 'progress');

describe('the timeline of a migration', () => {
  it('a migration to the same host: the domain found twice is one, not a guest running on both hosts', async () => {
    const { a, dom } = await hosts();
    const again = await a.connect(); // a second connection to the source's host
    opened.push(again);
    const m = dom.migrate(again, { live: true });
    const err = await m.done.catch((e: unknown) => e);
    expect((err as MigrationError).phase).toBe('prepare');
    expect(m.timeline.end).toMatchObject({
      outcome: 'failed',
      step: 'prepare',
      source: { kind: 'domain', state: 'running' },
      destination: { kind: 'unknown', why: 'the destination is the source host itself' },
    });
    expect(summarize(m.timeline).advice).toEqual([]);
    // two hosts with the domain on each: both are reported as found
    const { dom: other, cb, b } = await hosts();
    b.addDomain({ name: 'vm', uuid: other.uuid, state: 'running', persistent: false });
    const clash = other.migrate(cb, { live: true });
    await clash.done.catch(() => {});
    expect(clash.timeline.end).toMatchObject({
      step: 'prepare',
      source: { kind: 'domain', state: 'running' },
      destination: { kind: 'domain', state: 'running' },
    });
  });

  it('records a post-copy run: steps, samples of both phases, the switch, the end with both states', async () => {
    // Post-copy moves what is left at this rate: slow enough that its phase lasts about 250 ms
    // (the simulator runs 20x fast), ten samples' worth, so that two are taken on a busy machine
    // too (CI runs this beside real daemons); at 200 MiB/s it lasted two and a half samples.
    const postcopyMiBps = 50;
    const { dom, cb } = await hosts();
    const m = dom
      .migrate(cb, {
        live: true,
        postcopy: true,
        bandwidth: 100,
        postcopyBandwidth: postcopyMiBps,
        postcopyPolicy: 'after-precopy',
      })
      .sampleEvery(25);
    const { sourceState, destinationState, stats } = await m.done;
    const records = m.timeline.records;
    expect(records.filter((r) => r.type === 'step').map((r) => r.step)).toEqual([
      'begin',
      'prepare',
      'perform',
      'finish',
      'confirm',
      'done',
    ]);
    const samples = samplesOf(records);
    expect(samples.some((s) => s.phase === 'precopy')).toBe(true);
    expect(samples.filter((s) => s.phase === 'postcopy').length).toBeGreaterThanOrEqual(2);
    const sw = m.timeline.switched!;
    expect(sw).toMatchObject({ trigger: 'iteration', ok: true });
    expect(sw.latencyMs).toBeGreaterThan(0);
    expect(sw.requestedT).toBeLessThanOrEqual(sw.t);
    // the policy fired on the iteration-2 event, which comes before the switch
    const it2 = records.findIndex(
      (r) => r.type === 'event' && r.event === 'migration_iteration' && r.details.iteration === 2,
    );
    expect(it2).toBeGreaterThan(-1);
    expect(it2).toBeLessThan(records.indexOf(sw));
    // QEMU-like: the first pass has no dirty rate; post-copy's rate is measured from post-copy traffic
    for (const s of samples.filter((x) => x.phase === 'precopy' && x.iteration === 1))
      expect(s.dirtyBps).toBeNull();
    const post = samples.filter((s) => s.phase === 'postcopy');
    expect(post[0]!.rateBps).toBeNull();
    expect(post.at(-1)!.rateBps!).toBeGreaterThan(0.75 * postcopyMiBps * 1024 * 1024);
    expect(post.at(-1)!.rateBps!).toBeLessThan(1.25 * postcopyMiBps * 1024 * 1024);
    // the end: queried states, the final statistics, and the same in the result
    const end = m.timeline.end!;
    expect(records.at(-1)).toBe(end);
    expect(end).toMatchObject({
      outcome: 'completed',
      step: 'done',
      postcopy: true,
      error: null,
      source: { kind: 'absent' },
      destination: { kind: 'domain', state: 'running', reason: 'migrated' },
    });
    expect(end.stats?.memoryPostcopyRequests).toBe(stats?.memoryPostcopyRequests);
    expect(sourceState).toEqual(end.source);
    expect(destinationState).toEqual(end.destination);
    expect(timelineViolations(records)).toEqual([]);
    // what progress() yields is what the timeline holds
    expect(JSON.parse(JSON.stringify(m.timeline)).records).toHaveLength(records.length);
  });

  it('a refused Prepare: failed in prepare, the guest still running on the source, no advice', async () => {
    const { b, dom, cb } = await hosts();
    b.addDomain({ name: 'vm', uuid: '00000000-1111-4222-8333-444444444444' });
    const m = dom.migrate(cb, { live: true });
    const err = (await m.done.catch((e: unknown) => e)) as MigrationError;
    expect(err).toBeInstanceOf(MigrationError);
    expect(err.sides?.source).toMatchObject({ kind: 'domain', state: 'running' });
    const end = m.timeline.end!;
    expect(end).toMatchObject({
      outcome: 'failed',
      step: 'prepare',
      source: { kind: 'domain', state: 'running' },
      // B's domain of that name is another one (another UUID): this one is not there
      destination: { kind: 'absent' },
      error: { name: 'MigrationError', code: expect.stringMatching(/^VIR_ERR_/) },
    });
    expect(summarize(m.timeline).advice).toEqual([]);
  });

  it('an abort in pre-copy: aborted, with the abort where it was asked for', async () => {
    const { dom, cb } = await hosts({ dirtyRateMiBps: 3000 });
    const m = dom.migrate(cb, { live: true, bandwidth: 100 }).sampleEvery(20);
    for await (const p of m.progress()) if ((p.memoryProcessed ?? 0) > 0) break;
    await m.abort();
    await expect(m.done).rejects.toBeInstanceOf(MigrationError);
    const records = m.timeline.records;
    const abort = records.find((r) => r.type === 'abort')!;
    expect(abort).toMatchObject({ postcopy: false, error: null });
    expect(m.timeline.end).toMatchObject({
      outcome: 'aborted',
      error: { code: 'VIR_ERR_OPERATION_ABORTED' },
      source: { kind: 'domain', state: 'running' },
      destination: { kind: 'absent' },
    });
    expect(records.indexOf(abort)).toBeLessThan(records.length - 1);
    expect(timelineViolations(records)).toEqual([]);
  });

  it('a broken post-copy stream: failed after the switch, both sides as libvirt leaves them, resume advised', async () => {
    const { a, dom, cb } = await hosts();
    a.failPostcopy('vm', { afterMs: 200 });
    const m = dom.migrate(cb, {
      live: true,
      postcopy: true,
      bandwidth: 100,
      postcopyBandwidth: 50,
      postcopyPolicy: 'after-precopy',
    });
    const err = await m.done.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PostcopyFailedError);
    const end = m.timeline.end!;
    expect(end).toMatchObject({
      outcome: 'failed',
      postcopy: true,
      source: { kind: 'domain', state: 'paused', reason: 'postcopy_failed' },
      destination: { kind: 'domain', reason: 'postcopy_failed' },
    });
    expect((err as PostcopyFailedError).sides).toEqual({
      source: end.source,
      destination: end.destination,
    });
    expect(summarize(m.timeline).advice.join(' ')).toMatch(/post-copy resume/);
  });

  it('detach(): the timeline ends as left, with the states queried then, and nothing after', async () => {
    const { dom, cb } = await hosts();
    const m = dom.migrate(cb, { live: true, postcopy: true, bandwidth: 100, postcopyBandwidth: 1 });
    for await (const p of m.progress({ intervalMs: 20 })) if ((p.memoryProcessed ?? 0) > 0) break;
    await m.startPostCopy();
    const end = await m.detach();
    expect(end).toMatchObject({
      outcome: 'detached',
      postcopy: true,
      source: { kind: 'domain', state: 'paused', reason: 'postcopy' },
      destination: { kind: 'domain', state: 'running', reason: 'postcopy' },
    });
    expect(m.timeline.switched).toMatchObject({ trigger: 'manual', ok: true });
    const n = m.timeline.records.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(m.timeline.records.length).toBe(n);
    expect(await m.detach()).toBe(end);
    await m.abort({ postcopy: true }).catch(() => {});
    await m.done.catch(() => {});
    expect(m.timeline.end).toBe(end);
  });
});
