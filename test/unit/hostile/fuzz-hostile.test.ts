/**
 * Issue 19's fuzzers in CI: 100,000 mutations in all (replies to pending
 * calls, events, stream packets, simulator calls). `npx tsx
 * scripts/fuzz-hostile.ts` runs 1,000,000 per target. The stream fuzzer also
 * checks that every read settles (it found a read left pending when a stream
 * failed during its finish handshake). The time each target took is printed
 * (a budget to watch, not asserted: speed claims come from benches).
 */
import { describe, expect, it } from 'vitest';
import { describeReport } from '../../helpers/fuzz-hostile.js';
import { TARGETS } from '../../helpers/fuzz-targets.js';

const RUNS = { replies: 25_000, events: 25_000, streams: 25_000, simulator: 25_000 } as const;
const SEED = 0x19;

describe('hostile fuzzing (100,000 mutations)', () => {
  for (const [name, runs] of Object.entries(RUNS) as Array<[keyof typeof RUNS, number]>) {
    it(`${name}: ${runs} mutations, every outcome a value or a VirtwireError, memory flat`, async () => {
      const r = await TARGETS[name](runs, SEED);
      console.log(`fuzz ${describeReport(r)}`);
      expect(r.bugs).toEqual([]);
      expect(r.runs).toBe(runs);
      // The mutations reach both sides of the oracle: some inputs are refused, some pass.
      const kinds = Object.keys(r.outcomes).filter((k) => k !== 'connections');
      expect(kinds.length).toBeGreaterThan(1);
      expect(r.retainedMiB).toBeLessThan(32);
    }, 600_000);
  }
});
