/**
 * Live migration between the two real libvirt hosts of each generation (A:
 * 127.0.0.1 and B: 127.0.0.2 for libvirt 9.0; C/D, E/F for the newer ones)
 * of a real QEMU guest whose memory counter proves where it runs. The guest
 * dirties 46 MiB continuously, so pre-copy at a few MiB/s never converges.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type Connection,
  connect,
  type Domain,
  MigrationError,
  PostcopyFailedError,
  TypedParamError,
} from '../../src/index.js';
import { guestCounter, guestXml, removeDomains } from '../helpers/guest.js';
import { type Generation, generations, hostOf } from '../helpers/hosts.js';
import { eventTrail } from '../helpers/migration.js';

let a: Connection;
let b: Connection;
const NAME = 'vw-mig';
/**
 * Post-copy's background push, in MiB/s, where a test proves post-copy served page requests: slow
 * enough that the guest, running on the destination, faults on pages not there yet. At 100-200
 * MiB/s the push of the guest's 46 MiB dirty set can win that race on a loaded machine (seen on
 * QEMU 10 and 11, whose switch-over is quicker), and post-copy then serves no request at all.
 */
const POSTCOPY_MIBS = 20;

/** Each describe below runs on every generation: a and b are its two hosts meanwhile. */
async function connectPair(gen: Generation): Promise<void> {
  a = await connect(hostOf(gen, 0, 'TCP'));
  b = await connect(hostOf(gen, 1, 'TCP'));
}

const cleanup = (): Promise<void> => removeDomains([a, b], NAME);
afterEach(cleanup);
async function closePair(): Promise<void> {
  await cleanup();
  await a.close();
  await b.close();
}

async function startGuest(name = NAME): Promise<Domain> {
  const d = await a.domainCreateXML(guestXml(name));
  await new Promise((r) => setTimeout(r, 300)); // let the guest dirty its memory
  return d;
}

/** The guest's counter moves on `conn` (it runs there). */
async function expectRunningOn(conn: Connection, name = NAME): Promise<void> {
  const d = await conn.lookupDomain(name);
  const c1 = await guestCounter(conn, d.wire);
  await new Promise((r) => setTimeout(r, 300));
  const c2 = await guestCounter(conn, d.wire);
  expect(c2, `guest counter on ${conn.uri}`).not.toBe(c1);
}

async function stateOn(conn: Connection, name = NAME): Promise<string> {
  const s = await (await conn.lookupDomain(name)).state();
  return `${s.state}/${s.reason}`;
}

async function absentOn(conn: Connection, name = NAME): Promise<boolean> {
  return (await conn.listAllDomains()).every((d) => d.name !== name);
}

describe.each(generations())('live migration between two real libvirt hosts: $label', (gen) => {
  beforeAll(() => connectPair(gen));
  afterAll(closePair);

  it('(a) managed live pre-copy of a persistent domain', async () => {
    const d = await a.domainDefineXML(guestXml(NAME));
    await d.createWithFlags();
    await new Promise((r) => setTimeout(r, 300));
    const m = d.migrate(b, { live: true, persistent: true, undefineSource: true });
    const events = eventTrail(m);
    const { domain, stats } = await m.done;
    expect(domain?.name).toBe(NAME);
    expect(domain?.uuid).toBe(d.uuid);
    expect(await stateOn(b)).toBe('running/migrated');
    expect(await absentOn(a)).toBe(true); // undefined on the source
    await expectRunningOn(b);
    expect(stats?.memoryPostcopyRequests ?? 0).toBe(0);
    expect(stats?.timeElapsedMs).toBeGreaterThan(0);
    const seen = await events;
    expect(seen).toContain('source:suspended/migrated');
    expect(seen).toContain('destination:resumed/migrated');
    expect(seen).toContain('source:stopped/migrated');
    expect(m.phase).toBe('done');
  });

  it('(b, h) managed post-copy switched by hand mid-run, with progress snapshots', async () => {
    const d = await startGuest();
    const m = d.migrate(b, {
      live: true,
      postcopy: true,
      bandwidth: 1,
      postcopyBandwidth: POSTCOPY_MIBS,
    });
    const events = eventTrail(m);
    const snapshots: Array<{ phase: string; processed: number }> = [];
    const progress = (async () => {
      for await (const p of m.progress({ intervalMs: 200 })) {
        if ((p.memoryProcessed ?? 0) === 0) continue; // the job is still setting up
        snapshots.push({ phase: p.phase, processed: p.memoryProcessed ?? 0 });
        if (snapshots.length === 4 && p.phase === 'precopy') await m.startPostCopy();
      }
    })();
    const { domain, stats } = await m.done;
    await progress;
    expect(m.postcopyStarted).toBe(true);
    expect(snapshots.some((x) => x.phase === 'postcopy')).toBe(true);
    expect(await stateOn(b)).toBe('running/migrated');
    expect(await absentOn(a)).toBe(true);
    await expectRunningOn(b);
    expect(domain?.uuid).toBe(d.uuid);
    expect(stats?.memoryPostcopyRequests).toBeGreaterThan(0);
    // (h) at least 3 snapshots with growing memory processed
    expect(snapshots.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < 3; i++)
      expect(snapshots[i]!.processed).toBeGreaterThan(snapshots[i - 1]!.processed);
    const seen = await events;
    expect(seen).toContain('source:suspended/postcopy');
    expect(seen).toContain('destination:resumed/postcopy');
    expect(seen.indexOf('destination:resumed/postcopy')).toBeLessThan(
      seen.indexOf('destination:resumed/migrated'),
    );
  });

  it('(c) post-copy policy after the first iteration, triggered by the iteration event', async () => {
    const d = await startGuest();
    const m = d.migrate(b, {
      live: true,
      postcopy: true,
      bandwidth: 20,
      postcopyBandwidth: POSTCOPY_MIBS,
      postcopyPolicy: 'after-precopy',
    });
    const events = eventTrail(m);
    const { stats } = await m.done;
    expect(m.postcopySwitch?.trigger).toBe('iteration');
    expect(m.postcopySwitch!.repliedAt).toBeGreaterThan(m.postcopySwitch!.requestedAt);
    expect(stats?.memoryPostcopyRequests).toBeGreaterThan(0);
    expect(await stateOn(b)).toBe('running/migrated');
    await expectRunningOn(b);
    const seen = await events;
    expect(seen).toContain('source:iteration 2');
    expect(seen.indexOf('source:iteration 2')).toBeLessThan(
      seen.indexOf('source:suspended/postcopy'),
    );
  });

  it('(d) peer-to-peer post-copy: the source daemon drives the destination', async () => {
    const d = await startGuest();
    // the URI as host A's daemon reaches host B
    const m = d.migrateToURI(hostOf(gen, 1, 'TCP'), {
      live: true,
      peer2peer: true,
      postcopy: true,
      bandwidth: 20,
      postcopyBandwidth: POSTCOPY_MIBS,
      postcopyPolicy: 'after-precopy',
    });
    const events = eventTrail(m);
    const { domain, stats } = await m.done;
    expect(domain).toBeNull(); // no destination connection of ours in peer-to-peer
    expect(m.postcopySwitch?.trigger).toBe('iteration');
    expect(stats?.memoryPostcopyRequests).toBeGreaterThan(0);
    expect(await stateOn(b)).toBe('running/migrated');
    expect(await absentOn(a)).toBe(true);
    await expectRunningOn(b);
    expect(await events).toContain('source:suspended/postcopy');
  });

  it('(e) the destination refuses: the guest keeps running on the source and the error names the cause', async () => {
    const d = await startGuest();
    // same name, another UUID, already defined on B
    const clash = await b.domainDefineXML(
      guestXml(NAME).replace('<name>', '<uuid>00000000-1111-4222-8333-444444444444</uuid><name>'),
    );
    const m = d.migrate(b, { live: true });
    const err = await m.done.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MigrationError);
    const me = err as MigrationError;
    expect(me.phase).toBe('prepare');
    expect(me.message).toMatch(/already exists/);
    expect(me.message).toContain('00000000-1111-4222-8333-444444444444');
    expect(await stateOn(a)).toBe('running/booted');
    await expectRunningOn(a);
    expect(await stateOn(b)).toBe('shutoff/unknown');
    await clash.undefine();
  });

  it('(f) abort during pre-copy: the guest keeps running on the source', async () => {
    const d = await startGuest();
    const m = d.migrate(b, { live: true, bandwidth: 1 });
    for await (const p of m.progress({ intervalMs: 200 })) {
      if ((p.memoryProcessed ?? 0) > 0) break;
    }
    await m.abort();
    const err = await m.done.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MigrationError);
    expect((err as MigrationError).phase).toBe('perform');
    expect(err).not.toBeInstanceOf(PostcopyFailedError);
    expect(await stateOn(a)).toMatch(/^running\//);
    await expectRunningOn(a);
    expect(await absentOn(b)).toBe(true);
  });

  const recoveryKillsDestination = gen.libVer >= 11_003_000n && gen.libVer < 11_004_000n;
  it('(g) post-copy failure by aborting after the switch, then recovery with postcopyResume', async () => {
    const d = await startGuest();
    const m = d.migrate(b, { live: true, postcopy: true, bandwidth: 1, postcopyBandwidth: 1 });
    for await (const p of m.progress({ intervalMs: 200 })) {
      if ((p.memoryProcessed ?? 0) > 0 && !m.postcopyStarted) await m.startPostCopy();
      if (m.postcopyStarted) break;
    }
    await new Promise((r) => setTimeout(r, 500));
    await m.abort({ postcopy: true });
    const err = await m.done.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PostcopyFailedError);
    const pf = err as PostcopyFailedError;
    expect(pf.sourceState?.reason).toBe('postcopy_failed');
    expect(pf.destinationState?.reason).toBe('postcopy_failed');
    expect(pf.message).toMatch(/postcopyResume/);
    expect(await stateOn(a)).toBe('paused/postcopy_failed');
    expect(await stateOn(b)).toMatch(/\/postcopy_failed$/);

    // libvirt 11.3's destination daemon dies (a NULL dereference in libvirt_driver_qemu.so, in
    // the kernel log as "rpc-libvirtd: segfault at 0") when the Prepare of a post-copy recovery
    // arrives; libvirt's own virsh migrate --postcopy-resume does the same to it. 9.0 and 12.9
    // recover, and the recovery below runs on them; on 11.3 the failure above is what applies.
    if (recoveryKillsDestination) return;

    // recovery: the same migration again with POSTCOPY_RESUME, made at once (on 12.9 the source
    // refuses it for a moment, "QEMU reports migration is still running": the library waits that out)
    const result = await (await a.lookupDomain(NAME)).migrate(b, {
      live: true,
      postcopy: true,
      postcopyResume: true,
      postcopyBandwidth: 200,
    }).done;
    const { domain } = result;
    expect(domain?.uuid).toBe(d.uuid);
    expect(await stateOn(b)).toBe('running/migrated');
    await expectRunningOn(b);
  });
});

describe.each(generations())('migration options: $label', (gen) => {
  beforeAll(() => connectPair(gen));
  afterAll(closePair);

  it('are checked before any RPC, naming the parameter', async () => {
    const d = await startGuest(`${NAME}-opts`);
    const calls = a.rpc.inFlight;
    expect(() => d.migrate(b, { params: { nope: 1 } })).toThrow(TypedParamError);
    expect(() => d.migrate(b, { params: { nope: 1 } })).toThrow(
      /unknown migration parameter "nope"/,
    );
    expect(() => d.migrate(b, { params: { bandwidth: 'fast' } })).toThrow(
      /bandwidth must be an unsigned 64-bit integer/,
    );
    expect(() => d.migrate(b, { params: { migrate_uri: ['a', 'b'] } })).toThrow(/takes one value/);
    expect(() => d.migrate(b, { tunnelled: true })).toThrow(/requires peer2peer/);
    expect(() => d.migrate(b, { postcopyPolicy: 'after-precopy' })).toThrow(/requires postcopy/);
    expect(() => d.migrate(b, { postcopy: true, postcopyPolicy: { afterIterations: 0 } })).toThrow(
      /positive integer/,
    );
    expect(() => d.migrate(b, { flags: 1 << 30 })).toThrow(/not VIR_MIGRATE_\* flags/);
    expect(() => d.migrate(b, { peer2peer: true })).toThrow(/migrateToURI/);
    expect(() => d.migrate(b, { bandwidth: 5, params: { bandwidth: 6 } })).toThrow(
      /both as an option and in params/,
    );
    expect(a.rpc.inFlight).toBe(calls);
    await d.destroy();
  });
});

describe.each(generations())('migration procedures one by one: $label', (gen) => {
  beforeAll(() => connectPair(gen));
  afterAll(closePair);

  it('(a2) managed pre-copy through the v3 procedures without parameters', async () => {
    const d = await a.domainDefineXML(guestXml(NAME));
    await d.createWithFlags();
    await new Promise((r) => setTimeout(r, 300));
    const m = d.migrate(b, { live: true, protocol: 'v3', bandwidth: 1000 });
    const { domain, stats } = await m.done;
    expect(domain?.uuid).toBe(d.uuid);
    expect(await stateOn(b)).toBe('running/migrated');
    expect(await stateOn(a)).toBe('shutoff/migrated'); // still defined on the source
    await expectRunningOn(b);
    expect(stats?.timeElapsedMs).toBeGreaterThan(0);
    // the completed job's statistics stay with the source's definition
    const completed = await d.jobStats({ completed: true });
    expect(completed.type).toBe(3); // VIR_DOMAIN_JOB_COMPLETED
    expect(completed.memoryTotal).toBeGreaterThan(100 * 1024 * 1024);
    // options the v3 procedures cannot carry are refused, naming them
    const back = await b.lookupDomain(NAME);
    await expect(
      back.migrate(a, { live: true, protocol: 'v3', postcopyBandwidth: 5 }).done,
    ).rejects.toThrow(/cannot carry bandwidth.postcopy/);
  });

  it('max downtime, max speed (pre- and post-copy), compression cache, job info and stats, abort', async () => {
    const d = await startGuest();
    await d.migrateSetMaxDowntime(123);
    expect(await d.migrateGetMaxDowntime()).toBe(123n);
    await d.migrateSetMaxSpeed(42);
    expect(await d.migrateGetMaxSpeed()).toBe(42n);
    await d.migrateSetMaxSpeed(77, 1 /* POSTCOPY */);
    expect(await d.migrateGetMaxSpeed(1 /* POSTCOPY */)).toBe(77n);
    expect(await d.migrateGetMaxSpeed()).toBe(42n);
    await d.migrateSetCompressionCache(64n * 1024n * 1024n);
    expect(await d.migrateGetCompressionCache()).toBe(64n * 1024n * 1024n);
    // no job yet: job info says none, aborting is refused
    const idle = await a.remote.domainGetJobInfo({ dom: d.wire });
    expect(idle.type).toBe(0);
    await expect(d.abortJob()).rejects.toThrow();
    // during a slow migration: job info and stats describe it; then abort
    const m = d.migrate(b, { live: true, bandwidth: 1 });
    let stats = await d.jobStats();
    for (let i = 0; i < 50 && (stats.memoryProcessed ?? 0) === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      stats = await d.jobStats();
    }
    expect(stats.memoryTotal).toBeGreaterThan(100 * 1024 * 1024);
    const info = await a.remote.domainGetJobInfo({ dom: d.wire });
    expect(info.type).toBe(2); // VIR_DOMAIN_JOB_UNBOUNDED
    expect(info.memTotal).toBeGreaterThan(0n);
    await d.abortJob();
    await expect(m.done).rejects.toBeInstanceOf(MigrationError);
    expect(await stateOn(a)).toMatch(/^running\//);
  });
});

describe.each(generations())('tunnelling: $label', (gen) => {
  beforeAll(() => connectPair(gen));
  afterAll(closePair);

  it("(d2) tunnelled peer-to-peer: the data travels inside the daemons' own RPC connection", async () => {
    const d = await startGuest();
    // a paused guest dirties nothing, so the tunnelled pre-copy converges at once;
    // libvirt then keeps it paused on the destination (the paused flag is added by state)
    await d.suspend();
    const m = d.migrateToURI(hostOf(gen, 1, 'TCP'), {
      live: true,
      peer2peer: true,
      tunnelled: true,
    });
    const { domain, stats } = await m.done;
    expect(domain).toBeNull();
    expect(stats?.memoryTotal).toBeGreaterThan(0);
    expect(await stateOn(b)).toMatch(/^paused\//);
    expect(await absentOn(a)).toBe(true);
    await (await b.lookupDomain(NAME)).resume();
    await expectRunningOn(b);
  });
});
