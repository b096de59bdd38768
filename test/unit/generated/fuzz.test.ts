import { describe, expect, it } from 'vitest';
import { XdrError, XdrReader, xdrAt } from '../../../src/xdr/index.js';
import { dissect, loadFixtures } from '../../helpers/packets.js';
import { Rng } from '../../helpers/random.js';

/** 100,000 in CI; `scripts/fuzz.sh` runs more through VIRTWIRE_FUZZ_MUTATIONS. */
const MUTATIONS = Number(process.env.VIRTWIRE_FUZZ_MUTATIONS ?? 100_000);
if (!Number.isSafeInteger(MUTATIONS) || MUTATIONS < 1000)
  throw new Error(`VIRTWIRE_FUZZ_MUTATIONS must be a whole number >= 1000, not ${MUTATIONS}`);
/** The seed, so that a failure can be replayed (its message names the input too). */
const SEED = Number(process.env.VIRTWIRE_FUZZ_SEED ?? 0x5eed);
if (!Number.isSafeInteger(SEED) || SEED <= 0)
  throw new Error(`VIRTWIRE_FUZZ_SEED must be a whole number > 0, not ${SEED}`);

/**
 * Why a rejection is not a clean one, or null when it is. Generated decoders
 * wrap whatever they catch in an XdrError, so a decoder that crashes (a
 * TypeError reading past an array, a RangeError from a DataView) would still
 * come out as one: the oracle looks down the cause chain. The one intended
 * TypeError is TextDecoder's verdict on invalid UTF-8. Runtimes shape it
 * differently (Node gives it the code ERR_ENCODING_INVALID_ENCODED_DATA, Deno
 * and Bun no code), so the oracle does not trust its shape: it accepts it only
 * when the XdrError points (its offset) at a string in `input` whose bytes are
 * not valid UTF-8, by a check of its own.
 */
function unclean(err: unknown, input: Uint8Array): string | null {
  if (!(err instanceof XdrError)) return `threw ${String(err)}, not an XdrError`;
  for (let c: unknown = err.cause, depth = 0; c !== undefined && depth < 16; depth++) {
    const utf8 = c instanceof TypeError && c === err.cause && pointsAtInvalidUtf8(err, input);
    if ((c instanceof TypeError || c instanceof RangeError) && !utf8)
      return `an XdrError caused by ${(c as Error).name}: ${(c as Error).message}`;
    c = c instanceof Error ? c.cause : undefined;
  }
  return null;
}

/** The string at `err.offset` (its length word just before) is not valid UTF-8. */
function pointsAtInvalidUtf8(err: XdrError, input: Uint8Array): boolean {
  const p = err.offset;
  if (p < 4 || p > input.length) return false;
  const n = new DataView(input.buffer, input.byteOffset).getUint32(p - 4);
  if (p + n > input.length) return false;
  const bytes = input.subarray(p, p + n);
  // A lenient decode replaces what is invalid; re-encoding then differs from the bytes.
  const back = new TextEncoder().encode(
    new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes),
  );
  return !Buffer.from(back).equals(bytes);
}

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
  it(
    `${MUTATIONS} mutated real payloads: every outcome is a value or a clean XdrError`,
    () => {
      expect(corpus.length).toBeGreaterThan(100);
      const rng = new Rng(SEED);
      const reader = new XdrReader();
      const heapBefore = process.memoryUsage().heapUsed;
      let rejected = 0;
      let accepted = 0;
      let utf8 = 0;
      const start = performance.now();
      for (let i = 0; i < MUTATIONS; i++) {
        const c = corpus[i % corpus.length]!;
        const input = mutate(c.payload, rng);
        try {
          c.codec.decode(reader.reset(input));
          reader.done();
          accepted++;
        } catch (err) {
          const why = unclean(err, input);
          if (why !== null) {
            throw new Error(
              `${c.name} mutation ${i}: ${why}; input ${Buffer.from(input).toString('hex')}`,
              { cause: err },
            );
          }
          if (err instanceof XdrError && err.cause !== undefined) utf8++;
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
      // the UTF-8 path is reached, so the oracle's one exception is exercised
      expect(utf8).toBeGreaterThan(0);
      console.log(
        `fuzz: ${MUTATIONS} mutations (seed ${SEED}), ${rejected} rejected with XdrError (${utf8} invalid UTF-8), ${accepted} decoded, ${ms.toFixed(0)} ms`,
      );
    },
    Math.max(60_000, MUTATIONS / 10),
  );

  it('the oracle refuses an XdrError that wraps a crash, and accepts the UTF-8 verdict', () => {
    const reader = new XdrReader();
    // what a generated decoder's catch makes of a crash inside it
    const crash = xdrAt(
      new TypeError("Cannot read properties of undefined (reading 'x')"),
      't',
      'f',
      -1,
    );
    const none = new Uint8Array(0);
    expect(unclean(crash, none)).toMatch(/caused by TypeError/);
    expect(
      unclean(xdrAt(new RangeError('Offset is outside the bounds'), 't', 'f', 2), none),
    ).toMatch(/caused by RangeError/);
    expect(unclean(new TypeError('x'), none)).toMatch(/not an XdrError/);
    expect(unclean(new XdrError('length 9 exceeds bound 4'), none)).toBeNull();
    // a real invalid-UTF-8 string (length 1, byte 0xff, padding)
    const bad = Uint8Array.of(0, 0, 0, 1, 0xff, 0, 0, 0);
    let utf8: unknown;
    try {
      reader.reset(bad).readString(0xffffffff);
    } catch (e) {
      utf8 = e;
    }
    expect(utf8).toBeInstanceOf(XdrError);
    expect(unclean(utf8, bad)).toBeNull();
    // the same error over bytes that are valid UTF-8 is a crash dressed up as the verdict
    expect(unclean(utf8, Uint8Array.of(0, 0, 0, 1, 0x41, 0, 0, 0))).toMatch(/caused by TypeError/);
    // and a TypeError deeper down the chain is never the decoder's verdict
    const deep = new XdrError('outer', 4, {
      cause: new XdrError('inner', 4, { cause: new TypeError('x') }),
    });
    expect(unclean(deep, bad)).toMatch(/caused by TypeError/);
  });

  it('refuses a count that cannot fit the remaining bytes before allocating', () => {
    const job = corpus.find((c) => c.codec.name === 'remote_domain_get_job_stats_ret')!;
    const b = job.payload.slice();
    new DataView(b.buffer).setUint32(4, 64); // params count at its bound, far more than the bytes hold
    // refused at the count itself: the reader stops right after it, no element read (or made)
    // first. (A wall-clock bound here failed on a busy CI machine at 51 ms against 50.)
    const r1 = new XdrReader(b);
    expect(() => job.codec.decode(r1)).toThrow(/params: length 64 needs at least/);
    expect(r1.pos).toBe(8);
    new DataView(b.buffer).setUint32(4, 0xffffffff);
    const r2 = new XdrReader(b);
    expect(() => job.codec.decode(r2)).toThrow(/exceeds bound 64/);
    expect(r2.pos).toBe(8);
  });
});
