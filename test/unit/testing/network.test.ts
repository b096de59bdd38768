/**
 * Simulator networks: which simulators reach each other. Two networks in one
 * process share nothing, not even when each has hosts answering the same
 * URIs, so groups of simulators can run side by side and in parallel tests.
 * The tests of this file run concurrently, on purpose.
 */
import { describe, it } from 'vitest';
import { VirErrorNumber } from '../../../src/generated/api.js';
import { MigrationError, RemoteError } from '../../../src/index.js';
import { type SimDomainSpec, SimNetwork, Simulator } from '../../../src/testing/index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Hosts `host-a` (with the guest) and `host-b` on a network; 1 GiB at 200 MiB/s takes ~5 simulated s. */
async function pair(network: SimNetwork, vm: SimDomainSpec) {
  const a = await Simulator.start({
    network,
    hostname: 'host-a',
    timeScale: 50,
    bandwidthMiBps: 200,
    domains: [vm],
  });
  const b = await Simulator.start({ network, hostname: 'host-b', timeScale: 50 });
  return { a, b };
}

/** The error a migration's `done` rejected with, and the daemon's error behind it. */
async function failure(done: Promise<unknown>): Promise<{ err: MigrationError; code: number }> {
  const err = await done.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(err instanceof MigrationError)) throw new Error(`expected a MigrationError, got ${err}`);
  if (!(err.cause instanceof RemoteError)) throw new Error(`expected a RemoteError cause`);
  return { err, code: err.cause.code };
}

describe.concurrent('networks', () => {
  it('two networks with hosts answering the same URIs: a peer-to-peer migration in each at once, no cross-talk', async ({
    expect,
  }) => {
    const one = new SimNetwork();
    const two = new SimNetwork();
    const p1 = await pair(one, { name: 'vm', state: 'running', memoryMiB: 1024 });
    await using a1 = p1.a;
    await using b1 = p1.b;
    const p2 = await pair(two, { name: 'vm', state: 'running', memoryMiB: 1536 });
    await using a2 = p2.a;
    await using b2 = p2.b;
    expect(a1.uri).toBe('qemu://host-a/system');
    expect(a2.uri).toBe(a1.uri);
    expect(b2.uri).toBe(b1.uri);
    const uuid1 = a1.domain('vm')?.uuid;
    const uuid2 = a2.domain('vm')?.uuid;
    expect(uuid1).not.toBe(uuid2);

    await using c1 = await a1.connect();
    await using c2 = await a2.connect();
    const opts = { live: true, peer2peer: true, persistent: true, undefineSource: true };
    const m1 = (await c1.lookupDomain('vm')).migrateToURI('qemu://host-b/system', opts);
    const m2 = (await c2.lookupDomain('vm')).migrateToURI('qemu://host-b/system', opts);
    // both transfers run at the same moment, each into its own network's host-b
    const deadline = Date.now() + 5000;
    while (!(b1.domain('vm')?.job && b2.domain('vm')?.job) && Date.now() < deadline) await sleep(2);
    expect(b1.domain('vm')).toMatchObject({
      uuid: uuid1,
      memoryMiB: 1024,
      job: { direction: 'in' },
    });
    expect(b2.domain('vm')).toMatchObject({
      uuid: uuid2,
      memoryMiB: 1536,
      job: { direction: 'in' },
    });
    await Promise.all([m1.done, m2.done]);

    for (const [a, b, uuid, mib] of [
      [a1, b1, uuid1, 1024],
      [a2, b2, uuid2, 1536],
    ] as const) {
      expect(a.domains()).toEqual([]);
      expect(b.domains()).toHaveLength(1);
      expect(b.domain('vm')).toMatchObject({
        uuid,
        memoryMiB: mib,
        state: 'running',
        reason: 'migrated',
        persistent: true,
      });
      expect(b.calls.filter((c) => c.startsWith('DOMAIN_MIGRATE'))).toEqual([
        'DOMAIN_MIGRATE_PREPARE3_PARAMS',
        'DOMAIN_MIGRATE_FINISH3_PARAMS',
      ]);
      expect(b.opened).toEqual(['qemu:///system']);
    }
  });

  it('a host on another network is out of reach: peer-to-peer cannot connect, managed finds nothing prepared', async ({
    expect,
  }) => {
    const one = new SimNetwork();
    const two = new SimNetwork();
    await using a = await Simulator.start({
      network: one,
      hostname: 'host-a',
      timeScale: 50,
      domains: [{ name: 'vm', state: 'running' }],
    });
    await using far = await Simulator.start({ network: two, hostname: 'host-far', timeScale: 50 });
    await using ca = await a.connect();
    await using cfar = await far.connect();
    const dom = await ca.lookupDomain('vm');

    const p2p = await failure(dom.migrateToURI(far.uri, { live: true, peer2peer: true }).done);
    expect(p2p.code).toBe(VirErrorNumber.VIR_ERR_SYSTEM_ERROR);
    expect(p2p.err.message).toMatch(/unable to connect to server at 'qemu:\/\/host-far\/system'/);
    expect(far.calls.filter((c) => c.startsWith('DOMAIN_MIGRATE'))).toEqual([]);

    // The client reaches both, so Prepare runs on the far host; the source cannot find what it prepared.
    const managed = await failure(dom.migrate(cfar, { live: true }).done);
    expect(managed.err.phase).toBe('perform');
    expect(managed.err.message).toMatch(/no destination has prepared this migration/);
    expect(far.calls.filter((c) => c.startsWith('DOMAIN_MIGRATE'))).toEqual([
      'DOMAIN_MIGRATE_PREPARE3_PARAMS',
      'DOMAIN_MIGRATE_FINISH3_PARAMS',
    ]);
    expect(far.domains()).toEqual([]);
    expect(a.domain('vm')).toMatchObject({ state: 'running', job: null });
  });

  it('a closed simulator leaves its network', async ({ expect }) => {
    const net = new SimNetwork();
    await using a = await Simulator.start({
      network: net,
      hostname: 'host-a',
      timeScale: 50,
      domains: [{ name: 'vm', state: 'running' }],
    });
    const b = await Simulator.start({ network: net, hostname: 'host-b', timeScale: 50 });
    const uri = b.uri;
    await b.close();
    await using ca = await a.connect();
    const gone = await failure(
      (await ca.lookupDomain('vm')).migrateToURI(uri, { live: true, peer2peer: true }).done,
    );
    expect(gone.code).toBe(VirErrorNumber.VIR_ERR_SYSTEM_ERROR);
    // a new host answering the same URI is reached
    await using b2 = await Simulator.start({ network: net, hostname: 'host-b', timeScale: 50 });
    await (await ca.lookupDomain('vm')).migrateToURI(uri, { live: true, peer2peer: true }).done;
    expect(b2.domain('vm')).toMatchObject({ state: 'running', reason: 'migrated' });
  });

  it('simulators started without a network share the default one', async ({ expect }) => {
    await using a = await Simulator.start({
      timeScale: 50,
      domains: [{ name: 'vm', state: 'running' }],
    });
    await using b = await Simulator.start({ network: SimNetwork.default, timeScale: 50 });
    expect(a.network).toBe(SimNetwork.default);
    expect(b.network).toBe(SimNetwork.default);
    await using ca = await a.connect();
    await (await ca.lookupDomain('vm')).migrateToURI(b.uri, { live: true, peer2peer: true }).done;
    expect(b.domain('vm')).toMatchObject({ state: 'running', reason: 'migrated' });
  });

  it('numbers unnamed simulators per network', async ({ expect }) => {
    const one = new SimNetwork();
    const two = new SimNetwork();
    await using x1 = await Simulator.start({ network: one });
    await using y1 = await Simulator.start({ network: one });
    await using x2 = await Simulator.start({ network: two });
    expect([x1.hostname, y1.hostname, x2.hostname]).toEqual(['sim-1', 'sim-2', 'sim-1']);
    expect(x1.network).toBe(one);
    expect(x2.uri).toBe(x1.uri);
  });

  it('refuses a network that is not a SimNetwork', async ({ expect }) => {
    await expect(Simulator.start({ network: {} as unknown as SimNetwork })).rejects.toThrow(
      /network must be a SimNetwork/,
    );
  });
});
