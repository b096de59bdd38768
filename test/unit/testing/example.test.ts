/**
 * The README's example: testing your own orchestration code against two
 * simulated libvirt hosts instead of real hypervisors. Written as a user of
 * the package would write it (`virtwire` and `virtwire/testing`).
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type Connection, connect } from '../../../src/index.js';
import { Simulator } from '../../../src/testing/index.js';

// ---- the code under test: drain a host by live-migrating every running guest ----

interface Moved {
  name: string;
  postcopy: boolean;
  downtimeMs: number | undefined;
}

async function evacuate(from: Connection, to: Connection): Promise<Moved[]> {
  const moved: Moved[] = [];
  for (const dom of await from.listAllDomains(1 /* ACTIVE */)) {
    const m = dom.migrate(to, {
      live: true,
      persistent: true,
      undefineSource: true,
      postcopy: true,
      postcopyPolicy: 'after-precopy', // busy guests switch to post-copy after one pass
    });
    const { stats } = await m.done;
    moved.push({
      name: dom.name,
      postcopy: (stats?.memoryPostcopyRequests ?? 0) > 0,
      downtimeMs: stats?.downtimeMs,
    });
  }
  return moved;
}

// ---- the test ----

let source: Simulator;
let target: Simulator;

beforeEach(async () => {
  source = await Simulator.start({
    hostname: 'rack1-node1',
    bandwidthMiBps: 1000, // the migration link
    timeScale: 50, // 50 simulated seconds per real second
    domains: [
      { name: 'db', state: 'running', memoryMiB: 8192, dirtyRateMiBps: 2500 }, // too busy for pre-copy
      { name: 'web', state: 'running', memoryMiB: 2048, dirtyRateMiBps: 50 },
      { name: 'spare' }, // defined, shut off: stays where it is
    ],
  });
  target = await Simulator.start({ hostname: 'rack1-node2', tcp: true });
});
afterEach(async () => {
  await source.close();
  await target.close();
});

it('moves every running guest, busy ones by post-copy', async () => {
  // in-memory for one host, real TCP for the other: the same client code either way
  await using from = await connect(source.uri, { transport: source.transport() });
  await using to = await connect(target.uri);

  const moved = await evacuate(from, to);

  expect(moved.map((m) => [m.name, m.postcopy])).toEqual([
    ['db', true],
    ['web', false],
  ]);
  for (const name of ['db', 'web']) {
    expect(target.domain(name)).toMatchObject({
      state: 'running',
      reason: 'migrated',
      persistent: true,
    });
    expect(source.domain(name)).toBeUndefined();
  }
  expect(source.domain('spare')).toMatchObject({ state: 'shutoff' });
  expect(target.calls.filter((c) => c === 'DOMAIN_MIGRATE_FINISH3_PARAMS')).toHaveLength(2);
});

it('reports the failure when the destination already has a guest of that name', async () => {
  target.addDomain({ name: 'web' }); // another guest called "web", another UUID
  await using from = await source.connect();
  await using to = await target.connect();
  await expect(evacuate(from, to)).rejects.toThrow(/web.*already exists/);
  expect(source.domain('web')).toMatchObject({ state: 'running' }); // still on the source
});
