/**
 * Fifty concurrent managed migrations from one process between two simulators
 * whose link they share (bench/migrations.ts runs the same fleet and prints
 * its figures): every migration reports progress, every guest ends running on
 * the destination and gone from the source, and the shared link makes the
 * fleet take at least what its bytes need at the link's bandwidth.
 */
import { describe, expect, it } from 'vitest';
import { migrateFleet } from '../../../bench/lib/fleet.js';
import { SimNetwork, Simulator } from '../../../src/testing/index.js';

const GUESTS = 50;
const MIB = 64;
const LINK = 200;
const SCALE = 4;

describe('many migrations from one process', () => {
  it('50 concurrent migrations between two simulators share the link and all land', async () => {
    const network = new SimNetwork();
    const specs = Array.from({ length: GUESTS }, (_, i) => ({
      name: `g${i}`,
      state: 'running' as const,
      persistent: false,
      memoryMiB: MIB,
    }));
    const opts = { network, timeScale: SCALE, bandwidthMiBps: LINK };
    await using a = await Simulator.start({ ...opts, hostname: 'fa', domains: specs });
    await using b = await Simulator.start({ ...opts, hostname: 'fb' });
    await using src = await a.connect();
    await using dst = await b.connect();
    const doms = await Promise.all(specs.map((s) => src.lookupDomain(s.name)));
    const r = await migrateFleet(src, dst, doms, {
      progressIntervalMs: 50,
      migrate: { live: true },
    });

    expect(r.migrations).toHaveLength(GUESTS);
    expect(r.migrations.filter((m) => m.error !== null)).toEqual([]);
    expect(r.misplaced).toEqual([]);
    for (const m of r.migrations) {
      expect(m.onDestination, m.name).toMatch(/^running\//);
      expect(m.onSource, m.name).toBeNull();
      expect(m.samples, m.name).toBeGreaterThan(0);
      expect(b.domain(m.name)?.state, m.name).toBe('running');
      expect(a.domain(m.name), m.name).toBeUndefined();
    }
    // 50 x 64 MiB over a shared 200 MiB/s link: 16 simulated s, 4 real s at x4 (long enough
    // for every migration to be sampled on a loaded machine)
    const floorMs = ((GUESTS * MIB) / LINK / SCALE) * 1000;
    expect(r.ms).toBeGreaterThanOrEqual(floorMs * 0.9);
    expect(r.rssPeak).toBeGreaterThanOrEqual(r.rssBefore);
  });
});
