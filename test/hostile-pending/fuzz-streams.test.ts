/**
 * The stream-packet fuzzer of issue 19, 25,000 mutations. It waits for the
 * same fix as the scenario it found (FIX.streamFinishSettles: a stream that
 * fails while its finish handshake waits leaves the read pending forever);
 * once that is fixed, move it into test/unit/fuzz-hostile.test.ts.
 */
import { expect, it } from 'vitest';
import { describeReport } from '../helpers/fuzz-hostile.js';
import { fuzzStreams } from '../helpers/fuzz-targets.js';

it('streams: 25,000 mutated stream packets, every read settles', async () => {
  const r = await fuzzStreams(25_000, 0x19);
  console.log(`fuzz ${describeReport(r)}`);
  expect(r.bugs).toEqual([]);
  expect(r.retainedMiB).toBeLessThan(32);
}, 600_000);
