import { describe, expect, it } from 'vitest';
import { XdrError, XdrReader } from '../../../src/xdr/index.js';
import { dissect, loadFixtures } from '../../helpers/packets.js';
import { Rng } from '../../helpers/random.js';

const MUTATIONS = 100_000;

/** Decodable fixtures: the payload codec and the payload bytes. */
const corpus = loadFixtures()
  .map((fx) => ({ fx, d: dissect(fx.bytes) }))
  .filter(({ d }) => d.codec !== null && d.payloadOffset < d.length)
  .map(({ fx, d }) => ({
    name: fx.file,
    codec: d.codec!,
    payload: fx.bytes.slice(d.payloadOffset),
  }));

function mutate(src: Uint8Array, rng: Rng): Uint8Array {
  let b: Uint8Array = src.slice();
  const n = 1 + rng.below(4);
  for (let k = 0; k < n; k++) {
    switch (rng.below(7)) {
      case 0: // flip one bit
        if (b.length) b[rng.below(b.length)]! ^= 1 << rng.below(8);
        break;
      case 1: // random byte
        if (b.length) b[rng.below(b.length)] = rng.below(256);
        break;
      case 2: // truncate
        b = b.slice(0, rng.below(b.length + 1));
        break;
      case 3: // a huge or boundary value in an aligned word (lengths, counts, discriminants)
        if (b.length >= 4) {
          const at = rng.below(b.length >>> 2) * 4;
          const v = [0xffffffff, 0x7fffffff, 0x80000000, 0x01000000, 0x00400001, 0, 1, 2, 64, 65][
            rng.below(10)
          ]!;
          new DataView(b.buffer, b.byteOffset).setUint32(at, v);
        }
        break;
      case 4: {
        // insert random bytes
        const at = rng.below(b.length + 1);
        const extra = Uint8Array.from({ length: 1 + rng.below(8) }, () => rng.below(256));
        const out = new Uint8Array(b.length + extra.length);
        out.set(b.subarray(0, at));
        out.set(extra, at);
        out.set(b.subarray(at), at + extra.length);
        b = out;
        break;
      }
      case 5: {
        // delete a run
        const at = rng.below(b.length + 1);
        const len = Math.min(rng.below(9), b.length - at);
        const out = new Uint8Array(b.length - len);
        out.set(b.subarray(0, at));
        out.set(b.subarray(at + len), at);
        b = out;
        break;
      }
      default: // duplicate a 4-byte word (shifts everything after it)
        if (b.length >= 4) {
          const at = rng.below(b.length >>> 2) * 4;
          const out = new Uint8Array(b.length + 4);
          out.set(b.subarray(0, at + 4));
          out.set(b.subarray(at), at + 4);
          b = out;
        }
    }
  }
  return b;
}

describe('decoder fuzzing', () => {
  it(`${MUTATIONS} mutated real payloads: every outcome is a value or an XdrError`, () => {
    expect(corpus.length).toBeGreaterThan(100);
    const rng = new Rng(0x5eed);
    const reader = new XdrReader();
    const heapBefore = process.memoryUsage().heapUsed;
    let rejected = 0;
    let accepted = 0;
    const start = performance.now();
    for (let i = 0; i < MUTATIONS; i++) {
      const c = corpus[i % corpus.length]!;
      const input = mutate(c.payload, rng);
      try {
        c.codec.decode(reader.reset(input));
        reader.done();
        accepted++;
      } catch (err) {
        if (!(err instanceof XdrError)) {
          throw new Error(
            `${c.name} mutation ${i} threw ${String(err)}; input ${Buffer.from(input).toString('hex')}`,
          );
        }
        rejected++;
      }
    }
    const ms = performance.now() - start;
    expect(accepted + rejected).toBe(MUTATIONS);
    // most mutations break something; some (e.g. a flipped bit in an int) stay valid
    expect(rejected).toBeGreaterThan(MUTATIONS / 2);
    expect(accepted).toBeGreaterThan(0);
    // No length word may make the decoder allocate far beyond its input: the
    // whole run stays within a modest heap budget even with 0x7fffffff counts.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(512 * 1024 * 1024);
    console.log(
      `fuzz: ${MUTATIONS} mutations, ${rejected} rejected with XdrError, ${accepted} decoded, ${ms.toFixed(0)} ms`,
    );
  });

  it('refuses a count that cannot fit the remaining bytes before allocating', () => {
    const job = corpus.find((c) => c.codec.name === 'remote_domain_get_job_stats_ret')!;
    const b = job.payload.slice();
    new DataView(b.buffer).setUint32(4, 64); // params count at its bound, far more than the bytes hold
    const t = performance.now();
    expect(() => job.codec.decode(new XdrReader(b))).toThrow(/params: length 64 needs at least/);
    new DataView(b.buffer).setUint32(4, 0xffffffff);
    expect(() => job.codec.decode(new XdrReader(b))).toThrow(/exceeds bound 64/);
    expect(performance.now() - t).toBeLessThan(50);
  });
});
