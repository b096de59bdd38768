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
