/**
 * Eight concurrent live migrations of real QEMU guests from host A to host B,
 * all from this one process on one connection per host, each followed through
 * its progress (bench/migrations.ts --hosts runs the same fleet and prints its
 * figures). Every guest must end running on B (its memory counter moving) and
 * gone from A.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateFleet, REAL_FLEET_MIGRATION } from '../../bench/lib/fleet.js';
import { type Connection, connect, type Domain } from '../../src/index.js';
import { guestCounter, guestXml, removeDomains } from '../helpers/guest.js';
import { generations, hostOf } from '../helpers/hosts.js';

const PREFIX = 'vw-fleet-';
const GUESTS = 8;

describe.each(
  generations({
    only: ['bookworm'],
    because: 'eight guests at once load one pair of hosts fully; hosts A and B prove the fleet',
  }),
)('many migrations from one process: $label', (gen) => {
  let a: Connection;
  let b: Connection;
  beforeAll(async () => {
    a = await connect(hostOf(gen, 0, 'TCP'));
    b = await connect(hostOf(gen, 1, 'TCP'));
    await removeDomains([a, b], PREFIX);
  });
  afterAll(async () => {
    await removeDomains([a, b], PREFIX);
    await a.close();
    await b.close();
  });

  it('8 concurrent live migrations A -> B all land on B, each with progress', async () => {
    const doms: Domain[] = [];
    for (let i = 0; i < GUESTS; i++) doms.push(await a.domainCreateXML(guestXml(`${PREFIX}${i}`)));
    await new Promise((r) => setTimeout(r, 500)); // let the guests dirty their memory
    const r = await migrateFleet(a, b, doms, {
      progressIntervalMs: 250,
      migrate: REAL_FLEET_MIGRATION,
    });
    expect(r.migrations.filter((m) => m.error !== null).map((m) => m.error?.message)).toEqual([]);
    expect(r.misplaced).toEqual([]);
    expect(r.migrations).toHaveLength(GUESTS);
    for (const m of r.migrations) {
      expect(m.onDestination, m.name).toBe('running/migrated');
      expect(m.onSource, m.name).toBeNull();
      expect(m.samples, m.name).toBeGreaterThan(0);
    }
    // every guest runs on B: its memory counter moves there
    for (const m of r.migrations) {
      const d = await b.lookupDomain(m.name);
      const c1 = await guestCounter(b, d.wire);
      await new Promise((res) => setTimeout(res, 200));
      expect(await guestCounter(b, d.wire), m.name).not.toBe(c1);
    }
    expect(r.rssPeak).toBeGreaterThanOrEqual(r.rssBefore);
  }, 240_000);
});
