/**
 * The Migration handle between two simulated hosts: the phases it publishes
 * on `virtwire:migration:phase`, its post-copy triggers, the single calls it
 * leaves to the Domain, and the destination domain made by the destination
 * connection.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CHANNELS, type MigrationPhaseMessage } from '../../../../src/diagnostics.js';
import {
  type Connection,
  type Migration,
  MigrationError,
  MigrationPlan,
} from '../../../../src/index.js';
import { type SimDomainSpec, Simulator } from '../../../../src/testing/index.js';

const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const x of opened.splice(0).reverse()) await x.close();
});

async function hosts(
  domains: SimDomainSpec[],
): Promise<{ a: Simulator; b: Simulator; ca: Connection; cb: Connection }> {
  const a = await Simulator.start({ hostname: 'host-a', timeScale: 50, domains });
  const b = await Simulator.start({ hostname: 'host-b', timeScale: 50, domains: [] });
  opened.push(a, b);
  const ca = await a.connect();
  const cb = await b.connect();
  opened.push(ca, cb);
  return { a, b, ca, cb };
}

/** Every phase message published while `run` runs, for the migration it returns. */
async function phasesOf(
  run: () => Migration,
): Promise<{ m: Migration; messages: MigrationPhaseMessage[] }> {
  const all: MigrationPhaseMessage[] = [];
  const listener = (msg: unknown): void => {
    all.push(msg as MigrationPhaseMessage);
  };
  subscribe(CHANNELS.migrationPhase, listener);
  try {
    const m = run();
    await m.done.catch(() => {});
    return { m, messages: all.filter((x) => x.migrationId === m.id) };
  } finally {
    unsubscribe(CHANNELS.migrationPhase, listener);
  }
}

describe('virtwire:migration:phase', () => {
  it('a managed migration publishes each phase once, in order, then done', async () => {
    const { ca, cb } = await hosts([{ name: 'vm', state: 'running', dirtyRateMiBps: 10 }]);
    const dom = await ca.lookupDomain('vm');
    const { m, messages } = await phasesOf(() => dom.migrate(cb, { live: true }));
    expect(messages.map((x) => x.phase)).toEqual([
      'setup',
      'begin',
      'prepare',
      'perform',
      'finish',
      'confirm',
      'done',
    ]);
    for (const x of messages) {
      expect(x).toMatchObject({ migrationId: m.id, domain: 'vm', uuid: dom.uuid });
      expect(x.error).toBeUndefined();
    }
    const times = messages.map((x) => x.elapsedMs);
    expect(times).toEqual([...times].sort((p, q) => p - q));
    expect(times[0]).toBeGreaterThanOrEqual(0);
  });

  it('a failure publishes `failed` with the error `done` rejects with', async () => {
    const { b, ca, cb } = await hosts([{ name: 'vm', state: 'running' }]);
    b.addDomain({ name: 'vm', uuid: '00000000-1111-4222-8333-444444444444' });
    const dom = await ca.lookupDomain('vm');
    const { m, messages } = await phasesOf(() => dom.migrate(cb, { live: true }));
    const err = await m.done.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationError);
    // change protection: the job Begin started is cancelled through Confirm
    expect(messages.map((x) => x.phase)).toEqual([
      'setup',
      'begin',
      'prepare',
      'confirm',
      'failed',
    ]);
    expect(messages.at(-1)?.error).toBe(err);
  });

  it('peer-to-peer has one phase of its own', async () => {
    const { b, ca } = await hosts([{ name: 'vm', state: 'running', dirtyRateMiBps: 10 }]);
    const dom = await ca.lookupDomain('vm');
    const { messages } = await phasesOf(() =>
      dom.migrateToURI(b.uri, { live: true, peer2peer: true }),
    );
    expect(messages.map((x) => x.phase)).toEqual(['setup', 'perform', 'done']);
  });
});

describe('post-copy triggers', () => {
  const busy: SimDomainSpec = {
    name: 'busy',
    state: 'running',
    memoryMiB: 1024,
    dirtyRateMiBps: 3000,
    persistent: false,
  };

  it('afterIterations and afterMs together: the timeout, when it comes first', async () => {
    const { ca, cb } = await hosts([busy]);
    const dom = await ca.lookupDomain('busy');
    const m = dom.migrate(cb, {
      live: true,
      postcopy: true,
      bandwidth: 500,
      postcopyPolicy: { afterIterations: 50, afterMs: 150 },
    });
    const { stats } = await m.done;
    expect(m.postcopySwitch?.trigger).toBe('timeout');
    expect(m.postcopyStarted).toBe(true);
    expect(stats?.memoryPostcopyRequests).toBeGreaterThan(0);
  });

  it('afterIterations and afterMs together: the iteration, when it comes first', async () => {
    const { ca, cb } = await hosts([busy]);
    const dom = await ca.lookupDomain('busy');
    const m = dom.migrate(cb, {
      live: true,
      postcopy: true,
      bandwidth: 500,
      postcopyPolicy: { afterIterations: 1, afterMs: 60_000 },
    });
    await m.done;
    expect(m.postcopySwitch?.trigger).toBe('iteration');
  });
});

describe('one plan for every kind of migration', () => {
  it("migrateToURI keeps protocol: 'v3' (peer-to-peer through the v3 procedures)", async () => {
    const { a, b, ca } = await hosts([{ name: 'vm', state: 'running', dirtyRateMiBps: 10 }]);
    const dom = await ca.lookupDomain('vm');
    await dom.migrateToURI(b.uri, { live: true, peer2peer: true, protocol: 'v3', bandwidth: 800 })
      .done;
    expect(a.calls.filter((c) => c.startsWith('DOMAIN_MIGRATE'))).toEqual([
      'DOMAIN_MIGRATE_PERFORM3',
    ]);
    expect(b.domain('vm')?.reason).toBe('migrated');
  });

  it('a plan made once runs a migration like the options it came from', async () => {
    const { b, ca, cb } = await hosts([{ name: 'vm', state: 'running', dirtyRateMiBps: 10 }]);
    const plan = MigrationPlan.from({ live: true, persistent: true, protocol: 'v3' });
    const m = (await ca.lookupDomain('vm')).migrate(cb, plan);
    expect(m.plan).toBe(plan);
    expect(m.flags).toBe(plan.flags);
    await m.done;
    expect(b.calls).toContain('DOMAIN_MIGRATE_PREPARE3');
    expect(b.domain('vm')).toMatchObject({ persistent: true, reason: 'migrated' });
  });
});

describe('the handle delegates to the Domain and the Connection', () => {
  it('single calls go through the source Domain; the result comes from the destination connection', async () => {
    const { ca, cb } = await hosts([
      { name: 'vm', state: 'running', memoryMiB: 2048, dirtyRateMiBps: 8 },
    ]);
    const dom = await ca.lookupDomain('vm');
    const speed = vi.spyOn(dom, 'migrateSetMaxSpeed');
    const downtime = vi.spyOn(dom, 'migrateSetMaxDowntime');
    const stats = vi.spyOn(dom, 'jobStats');
    const fromWire = vi.spyOn(cb.handles, 'Domain');
    const m = dom.migrate(cb, { live: true, bandwidth: 100 });
    for await (const p of m.progress({ intervalMs: 10 })) if ((p.memoryProcessed ?? 0) > 0) break;
    expect(stats).toHaveBeenCalled();
    await m.setMaxDowntime(500);
    expect(downtime).toHaveBeenCalledWith(500, 0, undefined);
    await m.setMaxSpeed(100_000);
    expect(speed).toHaveBeenCalledWith(100_000, 0, {});
    const { domain } = await m.done;
    expect(fromWire).toHaveBeenCalledTimes(1);
    expect(domain).toBe(fromWire.mock.results[0]?.value);
    expect(domain?.conn).toBe(cb);
    expect(await dom.migrateGetMaxDowntime()).toBe(500n);
  });

  it('abort goes through Domain.abortJob', async () => {
    const { ca, cb } = await hosts([{ name: 'vm', state: 'running', dirtyRateMiBps: 3000 }]);
    const dom = await ca.lookupDomain('vm');
    const abort = vi.spyOn(dom, 'abortJob');
    const m = dom.migrate(cb, { live: true, bandwidth: 100 });
    for await (const p of m.progress({ intervalMs: 10 })) if ((p.memoryProcessed ?? 0) > 0) break;
    await m.abort();
    expect(abort).toHaveBeenCalledWith({});
    await expect(m.done).rejects.toBeInstanceOf(MigrationError);
  });
});
