// docs/simulator.md: testing your own orchestration code against two
// simulated hosts, with node:test (any test runner does).
// runs on: simulator
import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { type Connection, connect } from 'virtwire';
import { Simulator } from 'virtwire/testing';

// the code under test: drain a host by live-migrating every running guest
async function evacuate(from: Connection, to: Connection) {
  const moved = [];
  for (const dom of await from.listAllDomains(1 /* ACTIVE */)) {
    const m = dom.migrate(to, {
      live: true,
      persistent: true,
      undefineSource: true,
      postcopy: true,
      postcopyPolicy: 'after-precopy',
    });
    const { stats } = await m.done;
    moved.push({ name: dom.name, postcopy: (stats?.memoryPostcopyRequests ?? 0) > 0 });
  }
  return moved;
}

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
      { name: 'spare' }, // defined, shut off
    ],
  });
  target = await Simulator.start({ hostname: 'rack1-node2', tcp: true });
});
afterEach(async () => {
  await source.close();
  await target.close();
});

test('moves every running guest, busy ones by post-copy', async () => {
  await using from = await connect(source.uri, { transport: source.transport() }); // in memory
  await using to = await connect(target.uri); // real TCP: qemu+tcp://127.0.0.1:PORT/system

  assert.deepEqual(await evacuate(from, to), [
    { name: 'db', postcopy: true },
    { name: 'web', postcopy: false },
  ]);
  assert.equal(target.domain('db')?.state, 'running');
  assert.equal(target.domain('db')?.reason, 'migrated');
  assert.equal(source.domain('db'), undefined);
  assert.ok(target.calls.includes('DOMAIN_MIGRATE_FINISH3_PARAMS'));
});
