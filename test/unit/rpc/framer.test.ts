import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../../src/rpc/errors.js';
import { Framer, MIN_MESSAGE } from '../../../src/rpc/framer.js';
import { loadFixtures } from '../../helpers/packets.js';

const messages = loadFixtures().map((f) => f.bytes);
const stream = Buffer.concat(messages);

function collect(chunks: Uint8Array[]): Buffer[] {
  const out: Buffer[] = [];
  // copy: the framer's views are only valid during the callback
  const f = new Framer((m) => out.push(Buffer.from(m)));
  for (const c of chunks) f.push(c);
  expect(f.pending).toBe(false);
  return out;
}

describe('Framer', () => {
  it('splits the whole fixture stream fed at once', () => {
    const got = collect([stream]);
    expect(got.length).toBe(messages.length);
    for (const [i, m] of got.entries()) expect(m.equals(messages[i]!)).toBe(true);
  });

  it('reassembles every fixture split at every offset', () => {
    for (const msg of messages) {
      for (let cut = 0; cut <= msg.length; cut++) {
        const got = collect([msg.subarray(0, cut), msg.subarray(cut)]);
        expect(got.length).toBe(1);
        expect(got[0]!.equals(msg)).toBe(true);
      }
    }
  });

  it('reassembles byte by byte', () => {
    const slice = stream.subarray(0, 4000);
    const whole = collect([slice.subarray(0, 0)]);
    expect(whole).toEqual([]);
    const got: Buffer[] = [];
    const f = new Framer((m) => got.push(Buffer.from(m)));
    for (const b of slice) f.push(Uint8Array.of(b));
    expect(Buffer.concat(got).equals(slice.subarray(0, Buffer.concat(got).length))).toBe(true);
    expect(got.length).toBeGreaterThan(5);
  });

  it('gives the same messages for any chunking (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 3000 }), { maxLength: 200 }), (sizes) => {
        const chunks: Uint8Array[] = [];
        let p = 0;
        for (const s of sizes) {
          if (p >= stream.length) break;
          chunks.push(stream.subarray(p, p + s));
          p += s;
        }
        chunks.push(stream.subarray(p));
        const got = collect(chunks);
        expect(got.length).toBe(messages.length);
        expect(Buffer.concat(got).equals(stream)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('refuses a length that cannot hold a header, before allocating', () => {
    for (const len of [0, 4, MIN_MESSAGE - 1]) {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(len);
      expect(() => new Framer(() => {}).push(b)).toThrow(ProtocolError);
      expect(() => new Framer(() => {}).push(b)).toThrow(/cannot hold a 28-byte header/);
    }
  });

  it('refuses a length over 32 MiB + 4 from the length word alone, even split', () => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(33554432 + 4 + 1);
    expect(() => new Framer(() => {}).push(b)).toThrow(/exceeds the maximum of 33554436/);
    const f = new Framer(() => {});
    f.push(b.subarray(0, 2));
    expect(() => f.push(b.subarray(2))).toThrow(/exceeds the maximum/);
    b.writeUInt32BE(0xffffffff);
    expect(() => new Framer(() => {}).push(b)).toThrow(ProtocolError);
    // exactly the maximum is accepted (and waits for its bytes)
    b.writeUInt32BE(33554432 + 4);
    const ok = new Framer(() => {});
    ok.push(b);
    expect(ok.pending).toBe(true);
  });
});

/** A message of `payload` random bytes after a zeroed header. */
function message(payload: number, seed: number): Buffer {
  const b = Buffer.alloc(MIN_MESSAGE + payload);
  b.writeUInt32BE(b.length, 0);
  let x = seed * 2654435761;
  for (let i = MIN_MESSAGE; i < b.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

/**
 * Feeds `bytes` the way a socket reading with `onread` does: each read goes to
 * readTarget() (at most `sizes[k]` bytes of it) and comes back as a view of its
 * start, except reads marked `copy`, which arrive in foreign memory.
 */
function feedInPlace(f: Framer, bytes: Uint8Array, sizes: number[], copyEvery = 0): void {
  let p = 0;
  let k = 0;
  while (p < bytes.length) {
    const want = sizes[k % sizes.length]!;
    k++;
    if (copyEvery > 0 && k % copyEvery === 0) {
      f.push(bytes.slice(p, p + want));
      p += Math.min(want, bytes.length - p);
      continue;
    }
    const t = f.readTarget();
    expect(t.length).toBeGreaterThan(0);
    const n = Math.min(want, t.length, bytes.length - p);
    t.set(bytes.subarray(p, p + n));
    f.push(t.subarray(0, n));
    p += n;
  }
}

describe('Framer reading in place (readTarget)', () => {
  // stream-packet sized, small, just over the large threshold, and one bigger than a pool buffer
  const sizes = [262120, 40, 262120, 16 * 1024, 100, 262120, 300000, 0, 262120, 5000];
  const msgs = sizes.map((s, i) => message(s, i + 1));
  const all = Buffer.concat([...msgs, ...messages]);

  it('gives the same messages for any read sizes, in place or copied (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 70000 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: 4 }),
        (reads, copyEvery) => {
          const got: Buffer[] = [];
          const f = new Framer((m) => got.push(Buffer.from(m)));
          feedInPlace(f, all, reads, copyEvery);
          expect(f.pending).toBe(false);
          expect(got.length).toBe(msgs.length + messages.length);
          for (const [i, m] of got.entries()) {
            expect(m.equals(i < msgs.length ? msgs[i]! : messages[i - msgs.length]!)).toBe(true);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('reads the rest of a large message straight into its own buffer, which a consumer may keep', () => {
    const kept: Uint8Array[] = [];
    let ownedCount = 0;
    const f = new Framer((m, owned) => {
      if (!owned) return false;
      ownedCount++;
      kept.push(m); // no copy: the framer must never write into it again
      return true;
    });
    feedInPlace(f, all, [65536]);
    // every message over the threshold that spanned reads came in a buffer of its own
    expect(ownedCount).toBe(sizes.filter((s) => MIN_MESSAGE + s > 16 * 1024).length);
    const large = msgs.filter((m) => m.length > 16 * 1024);
    expect(kept.length).toBe(large.length);
    for (const [i, m] of kept.entries()) expect(Buffer.from(m).equals(large[i]!)).toBe(true);
  });

  it('after a large message, offers a header-sized read so the next packet lands in place', () => {
    const f = new Framer(() => false);
    const two = Buffer.concat([message(262120, 7), message(262120, 8)]);
    let p = 0;
    const targets: number[] = [];
    while (p < two.length) {
      const t = f.readTarget();
      targets.push(t.length);
      const n = Math.min(t.length, two.length - p);
      t.set(two.subarray(p, p + n));
      f.push(t.subarray(0, n));
      p += n;
    }
    // first read fills the small buffer; then the rest of packet 1; then its successor's header alone
    expect(targets).toEqual([65536, MIN_MESSAGE + 262120 - 65536, MIN_MESSAGE, 262120]);
  });
});
