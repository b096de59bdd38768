import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { XdrError, XdrReader, XdrWriter, xdrAt } from '../../../src/xdr/index.js';
import { arrayLength } from '../../../src/xdr/program.js';

// Property tests for the XDR runtime (RFC 4506). Every expected byte string is
// built independently here with Buffer's big-endian writers, not with DataView
// calls shaped like the code under test.

const RUNS = { numRuns: 100 };
const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;
const UINT_MAX = 2 ** 32 - 1;
const HYPER_MIN = -(1n << 63n);
const HYPER_MAX = (1n << 63n) - 1n;
const UHYPER_MAX = (1n << 64n) - 1n;

/** Strict UTF-8 that keeps a leading U+FEFF: the reference decoder for XDR strings. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// ---------------------------------------------------------------------------
// One XDR item: what is written, how it is read back, and its reference bytes.

type Op =
  | { t: 'int'; v: number }
  | { t: 'uint'; v: number }
  | { t: 'hyper'; v: bigint }
  | { t: 'uhyper'; v: bigint }
  | { t: 'bool'; v: boolean }
  | { t: 'float'; v: number }
  | { t: 'double'; v: number }
  | { t: 'fopaque'; v: Uint8Array }
  | { t: 'opaque'; v: Uint8Array; max: number }
  | { t: 'string'; v: string; max: number }
  | { t: 'length'; v: number; max: number }
  | { t: 'present'; v: boolean };

const pad4 = (n: number) => (4 - (n % 4)) % 4;

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function refVarBytes(bytes: Uint8Array): Buffer {
  return Buffer.concat([u32(bytes.length), bytes, Buffer.alloc(pad4(bytes.length))]);
}

/** The XDR encoding of one item, computed independently of XdrWriter. */
function ref(op: Op): Buffer {
  switch (op.t) {
    case 'int': {
      const b = Buffer.alloc(4);
      b.writeInt32BE(op.v);
      return b;
    }
    case 'uint':
    case 'length':
      return u32(op.v);
    case 'hyper': {
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(op.v);
      return b;
    }
    case 'uhyper': {
      const b = Buffer.alloc(8);
      b.writeBigUInt64BE(op.v);
      return b;
    }
    case 'bool':
    case 'present':
      return u32(op.v ? 1 : 0);
    case 'float': {
      const b = Buffer.alloc(4);
      b.writeFloatBE(op.v);
      return b;
    }
    case 'double': {
      const b = Buffer.alloc(8);
      b.writeDoubleBE(op.v);
      return b;
    }
    case 'fopaque':
      return Buffer.concat([op.v, Buffer.alloc(pad4(op.v.length))]);
    case 'opaque':
      return refVarBytes(op.v);
    case 'string':
      return refVarBytes(Buffer.from(op.v, 'utf8'));
  }
}

function writeOp(w: XdrWriter, op: Op): void {
  switch (op.t) {
    case 'int':
      w.writeInt(op.v);
      break;
    case 'uint':
      w.writeUint(op.v);
      break;
    case 'hyper':
      w.writeHyper(op.v);
      break;
    case 'uhyper':
      w.writeUhyper(op.v);
      break;
    case 'bool':
      w.writeBool(op.v);
      break;
    case 'float':
      w.writeFloat(op.v);
      break;
    case 'double':
      w.writeDouble(op.v);
      break;
    case 'fopaque':
      w.writeFixedOpaque(op.v, op.v.length);
      break;
    case 'opaque':
      w.writeOpaque(op.v, op.max);
      break;
    case 'string':
      w.writeString(op.v, op.max);
      break;
    case 'length':
      w.writeLength(op.v, op.max);
      break;
    case 'present':
      expect(w.writePresent(op.v ? { x: 1 } : null)).toBe(op.v);
      break;
  }
}

function readOp(r: XdrReader, op: Op): unknown {
  switch (op.t) {
    case 'int':
      return r.readInt();
    case 'uint':
      return r.readUint();
    case 'hyper':
      return r.readHyper();
    case 'uhyper':
      return r.readUhyper();
    case 'bool':
      return r.readBool();
    case 'float':
      return r.readFloat();
    case 'double':
      return r.readDouble();
    case 'fopaque':
      return r.readFixedOpaque(op.v.length);
    case 'opaque':
      return r.readOpaque(op.max);
    case 'string':
      return r.readString(op.max);
    case 'length':
      // Elements of size 0 so the count is never refused for lack of bytes here.
      return r.readLength(op.max, 0);
    case 'present':
      return r.readPresent();
  }
}

/** What reading an item back must give: the value itself, floats rounded to binary32. */
function expectRead(op: Op, got: unknown): void {
  switch (op.t) {
    case 'float':
      expect(Object.is(got, Math.fround(op.v)), `float ${String(got)} vs ${op.v}`).toBe(true);
      return;
    case 'double':
      expect(Object.is(got, op.v), `double ${String(got)} vs ${op.v}`).toBe(true);
      return;
    case 'fopaque':
    case 'opaque':
      expect(got).toBeInstanceOf(Uint8Array);
      expect(Buffer.from(got as Uint8Array).equals(Buffer.from(op.v))).toBe(true);
      return;
    default:
      expect(got).toStrictEqual(op.v);
  }
}

function writeAll(ops: readonly Op[], w = new XdrWriter(1)): Uint8Array {
  for (const op of ops) writeOp(w, op);
  return w.finish();
}

function refAll(ops: readonly Op[]): Buffer {
  return Buffer.concat(ops.map(ref));
}

function readAll(r: XdrReader, ops: readonly Op[]): void {
  for (const op of ops) expectRead(op, readOp(r, op));
}

/** Reads without checking values: for inputs that must fail anyway. */
function readRaw(r: XdrReader, ops: readonly Op[]): void {
  for (const op of ops) readOp(r, op);
}

/** Runs `fn`, which must throw an XdrError (not a TypeError, RangeError, ...); returns it. */
function xdrThrows(fn: () => unknown): XdrError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  if (!(thrown instanceof XdrError)) {
    const what =
      thrown === undefined
        ? 'nothing was thrown'
        : `${(thrown as Error)?.constructor?.name}: ${(thrown as Error)?.message}`;
    throw new Error(`expected an XdrError, got ${what}`);
  }
  return thrown;
}

// ---------------------------------------------------------------------------
// Arbitraries

const intArb = fc.oneof(
  fc.integer({ min: INT_MIN, max: INT_MAX }),
  fc.constantFrom(INT_MIN, INT_MAX, -1, 0, 1),
);
const uintArb = fc.oneof(
  fc.integer({ min: 0, max: UINT_MAX }),
  fc.constantFrom(0, 1, INT_MAX, 2 ** 31, UINT_MAX),
);
const hyperArb = fc.oneof(
  fc.bigInt({ min: HYPER_MIN, max: HYPER_MAX }),
  fc.constantFrom(HYPER_MIN, HYPER_MAX, -1n, 0n, 1n, 1n << 53n),
);
const uhyperArb = fc.oneof(
  fc.bigInt({ min: 0n, max: UHYPER_MAX }),
  fc.constantFrom(0n, 1n, HYPER_MAX, 1n << 63n, UHYPER_MAX),
);
const floatArb = fc.oneof(
  fc.double(),
  fc.float(),
  fc.constantFrom(
    Number.NaN,
    -0,
    0,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    3.4028234663852886e38, // largest binary32
    1e39, // rounds to Infinity
    1e-46, // rounds to 0
    Number.MIN_VALUE,
  ),
);
const doubleArb = fc.oneof(
  fc.double(),
  fc.constantFrom(Number.NaN, -0, 0, Number.MAX_VALUE, Number.MIN_VALUE, Number.EPSILON),
);
// size 'max': fast-check's default size would keep arrays to about 10 elements, and
// XdrReader takes other code paths for longer opaque data and strings.
const bytesArb = fc.uint8Array({ maxLength: 70, size: 'max' });
/** Code points from the whole Unicode range, biased towards multi-byte and awkward ones. */
const charArb = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('\0', 'é', '€', '\u{1F600}', '\uFEFF', '\uFFFF', '\u{10FFFF}'),
  },
);
const stringArb = fc.oneof(
  fc.string({ unit: charArb, maxLength: 70, size: 'max' }),
  fc.string({ unit: 'binary-ascii', maxLength: 70, size: 'max' }),
);
/** How much larger than the value a declared bound is: often exactly equal. */
const slackArb = fc.oneof(fc.constant(0), fc.nat(20), fc.constant(UINT_MAX));
const withSlack = (n: number, slack: number) => Math.min(n + slack, UINT_MAX);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  intArb.map((v): Op => ({ t: 'int', v })),
  uintArb.map((v): Op => ({ t: 'uint', v })),
  hyperArb.map((v): Op => ({ t: 'hyper', v })),
  uhyperArb.map((v): Op => ({ t: 'uhyper', v })),
  fc.boolean().map((v): Op => ({ t: 'bool', v })),
  floatArb.map((v): Op => ({ t: 'float', v })),
  doubleArb.map((v): Op => ({ t: 'double', v })),
  bytesArb.map((v): Op => ({ t: 'fopaque', v })),
  fc
    .tuple(bytesArb, slackArb)
    .map(([v, s]): Op => ({ t: 'opaque', v, max: withSlack(v.length, s) })),
  fc
    .tuple(stringArb, slackArb)
    .map(([v, s]): Op => ({ t: 'string', v, max: withSlack(Buffer.byteLength(v, 'utf8'), s) })),
  fc.tuple(uintArb, slackArb).map(([v, s]): Op => ({ t: 'length', v, max: withSlack(v, s) })),
  fc.boolean().map((v): Op => ({ t: 'present', v })),
);
const opsArb = fc.array(opArb, { maxLength: 10 });

/** Values of every JS kind, including ones String() and Number() throw on. */
const junkArb = fc.anything({
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withTypedArray: true,
  withSparseArray: true,
});

// ---------------------------------------------------------------------------

describe('XDR primitives: round trip, size and wire bytes', () => {
  const primitives: [string, fc.Arbitrary<Op>][] = [
    ['int', intArb.map((v): Op => ({ t: 'int', v }))],
    ['unsigned int', uintArb.map((v): Op => ({ t: 'uint', v }))],
    ['hyper', hyperArb.map((v): Op => ({ t: 'hyper', v }))],
    ['unsigned hyper', uhyperArb.map((v): Op => ({ t: 'uhyper', v }))],
    ['bool', fc.boolean().map((v): Op => ({ t: 'bool', v }))],
    ['float', floatArb.map((v): Op => ({ t: 'float', v }))],
    ['double', doubleArb.map((v): Op => ({ t: 'double', v }))],
    ['fixed opaque', bytesArb.map((v): Op => ({ t: 'fopaque', v }))],
    [
      'variable opaque',
      fc
        .tuple(bytesArb, slackArb)
        .map(([v, s]): Op => ({ t: 'opaque', v, max: withSlack(v.length, s) })),
    ],
    [
      'string',
      fc
        .tuple(stringArb, slackArb)
        .map(([v, s]): Op => ({ t: 'string', v, max: withSlack(Buffer.byteLength(v, 'utf8'), s) })),
    ],
    [
      'variable-length count',
      fc.tuple(uintArb, slackArb).map(([v, s]): Op => ({ t: 'length', v, max: withSlack(v, s) })),
    ],
    ['optional flag', fc.boolean().map((v): Op => ({ t: 'present', v }))],
  ];

  it.each(primitives)('%s: read(write(v)) = v, exact size, reference bytes', (_, arb) => {
    fc.assert(
      fc.property(arb, (op) => {
        const w = new XdrWriter(1);
        writeOp(w, op);
        const bytes = w.finish();
        const expected = ref(op);
        // Size: 4 or 8 for scalars, 4 + padded length for opaque/string.
        expect(bytes.length % 4).toBe(0);
        expect(bytes.length).toBe(expected.length);
        expect(w.pos).toBe(bytes.length);
        expect(Buffer.from(bytes).toString('hex')).toBe(expected.toString('hex'));
        const r = new XdrReader(bytes);
        expectRead(op, readOp(r, op));
        expect(r.remaining).toBe(0);
        r.done();
      }),
      { numRuns: 150 },
    );
  });

  it('sizes follow RFC 4506: scalars 4 or 8 bytes, opaque/string padded to 4', () => {
    fc.assert(
      fc.property(bytesArb, stringArb, (v, s) => {
        const sizes: [Op, number][] = [
          [{ t: 'int', v: 0 }, 4],
          [{ t: 'uint', v: 0 }, 4],
          [{ t: 'bool', v: true }, 4],
          [{ t: 'float', v: 1 }, 4],
          [{ t: 'present', v: false }, 4],
          [{ t: 'length', v: 0, max: 0 }, 4],
          [{ t: 'hyper', v: 0n }, 8],
          [{ t: 'uhyper', v: 0n }, 8],
          [{ t: 'double', v: 1 }, 8],
          [{ t: 'fopaque', v }, Math.ceil(v.length / 4) * 4],
          [{ t: 'opaque', v, max: v.length }, 4 + Math.ceil(v.length / 4) * 4],
          [
            { t: 'string', v: s, max: UINT_MAX },
            4 + Math.ceil(Buffer.byteLength(s, 'utf8') / 4) * 4,
          ],
        ];
        for (const [op, size] of sizes) expect(writeAll([op]).length).toBe(size);
      }),
      { numRuns: 100 },
    );
  });

  it('a sequence of items round-trips and matches the concatenated reference', () => {
    fc.assert(
      fc.property(opsArb, (ops) => {
        const bytes = writeAll(ops);
        expect(Buffer.from(bytes).equals(refAll(ops))).toBe(true);
        const r = new XdrReader(bytes);
        readAll(r, ops);
        r.done();
      }),
      RUNS,
    );
  });

  it('decoders agree with Buffer on arbitrary words', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8, maxLength: 8 }), (bytes) => {
        const b = Buffer.from(bytes);
        const r = new XdrReader(bytes);
        expect(r.readInt()).toBe(b.readInt32BE(0));
        expect(r.reset(bytes).readUint()).toBe(b.readUInt32BE(0));
        expect(Object.is(r.reset(bytes).readFloat(), b.readFloatBE(0))).toBe(true);
        expect(r.reset(bytes).readHyper()).toBe(b.readBigInt64BE(0));
        expect(r.reset(bytes).readUhyper()).toBe(b.readBigUInt64BE(0));
        expect(Object.is(r.reset(bytes).readDouble(), b.readDoubleBE(0))).toBe(true);
        r.done();
      }),
      { numRuns: 150 },
    );
  });

  it('readString decodes exactly the valid UTF-8 byte strings, rejecting the rest', () => {
    // Short (ASCII fast path) and long strings, mostly invalid UTF-8.
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 80, size: 'max' }),
          fc.uint8Array({ maxLength: 80, max: 0x7f, size: 'max' }),
          stringArb.map((s) => new Uint8Array(Buffer.from(s, 'utf8'))),
        ),
        (bytes) => {
          let want: string | null = null;
          try {
            want = strictUtf8.decode(bytes);
          } catch {}
          const r = new XdrReader(refVarBytes(bytes));
          if (want === null) {
            const e = xdrThrows(() => r.readString(UINT_MAX));
            expect(e.offset).toBe(4);
            expect(e.cause).toBeDefined();
          } else {
            expect(r.readString(UINT_MAX)).toBe(want);
            r.done();
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a string starting with U+FEFF (byte order mark) round-trips unchanged', () => {
    for (const s of ['\uFEFF', '\uFEFFabc', '\uFEFF'.repeat(3), `\uFEFF${'x'.repeat(40)}`]) {
      const bytes = writeAll([{ t: 'string', v: s, max: 100 }]);
      expect(Buffer.from(bytes).toString('hex')).toBe(refVarBytes(Buffer.from(s)).toString('hex'));
      expect(new XdrReader(bytes).readString(100)).toBe(s);
    }
  });

  it('many distinct same-length ASCII strings, read twice, all decode to themselves', () => {
    // More distinct strings of one length than any small cache of decoded strings has
    // slots, so entries must collide and be told apart by content.
    const w = new XdrWriter(1);
    const strings: string[] = [];
    for (const len of [3, 32, 48, 64, 65]) {
      for (let i = 0; i < 4200; i++) {
        const s = i.toString(36).padStart(len, 'a').slice(-len);
        strings.push(s);
        w.writeString(s, 100);
      }
    }
    const bytes = w.finish();
    const r = new XdrReader();
    for (let round = 0; round < 2; round++) {
      r.reset(bytes);
      for (const s of strings) {
        const got = r.readString(100);
        if (got !== s) expect(got).toBe(s);
      }
      r.done();
    }
  });

  it('many strings written again and again give the same bytes every time', () => {
    const strings: string[] = ['', 'a', 'time_elapsed', 'é', 'x'.repeat(64), 'y'.repeat(65)];
    for (let i = 0; i < 5000; i++) strings.push(`n${i}`.padEnd((i % 40) + 2, '_'));
    const expected = Buffer.concat(strings.map((s) => refVarBytes(Buffer.from(s))));
    const w = new XdrWriter(16);
    for (let round = 0; round < 3; round++) {
      w.reset();
      for (const s of strings) w.writeString(s, 100);
      expect(Buffer.from(w.finish()).equals(expected)).toBe(true);
    }
    // The bound applies to a string written before.
    w.reset();
    expect(xdrThrows(() => w.writeString('time_elapsed', 5)).message).toMatch(/exceeds bound 5/);
  });

  it('interleaved repeated short strings decode correctly', () => {
    const small = fc.string({ unit: fc.constantFrom('a', 'b', '\0', '~'), maxLength: 70 });
    fc.assert(
      fc.property(
        fc.array(small, { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 60 }),
        (pool, picks) => {
          const seq = picks.map((i) => pool[i % pool.length]!);
          const bytes = writeAll(seq.map((v): Op => ({ t: 'string', v, max: 100 })));
          const r = new XdrReader(bytes);
          for (const s of seq) expect(r.readString(100)).toBe(s);
          r.done();
        },
      ),
      { numRuns: 150 },
    );
  });

  it('returned opaque data is a copy, unaffected by later changes to the buffer', () => {
    fc.assert(
      fc.property(bytesArb, (v) => {
        const buf = new Uint8Array(refVarBytes(v));
        const fixed = buf.slice(4);
        const a = new XdrReader(buf).readOpaque(v.length);
        const b = new XdrReader(fixed).readFixedOpaque(v.length);
        const keep = Buffer.from(v);
        buf.fill(0xaa);
        fixed.fill(0xaa);
        expect(Buffer.from(a).equals(keep)).toBe(true);
        expect(Buffer.from(b).equals(keep)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('opaque data read from a Node Buffer at an offset is a copy of exactly its bytes', () => {
    fc.assert(
      fc.property(bytesArb, fc.nat(7), (v, offset) => {
        // A Buffer view into a larger ArrayBuffer: Buffer.prototype.slice would alias it.
        const whole = refVarBytes(v);
        const ab = new ArrayBuffer(offset + whole.length + 8);
        const buf = Buffer.from(ab, offset, whole.length);
        whole.copy(buf);
        const a = new XdrReader(buf).readOpaque(v.length);
        const b = new XdrReader(buf, 4).readFixedOpaque(v.length);
        const keep = Buffer.from(v);
        new Uint8Array(ab).fill(0xaa);
        for (const got of [a, b]) {
          expect(got.length).toBe(v.length);
          expect(got.buffer).not.toBe(ab);
          expect(Buffer.from(got).equals(keep)).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('many opaques of one message (views of private copies) keep their own bytes', () => {
    // 700 UUIDs (11 KiB with their lengths) span several private copies, plus one opaque
    // larger than a copy; every value must keep its bytes when the input is overwritten.
    const uuids = Array.from({ length: 700 }, (_, i) =>
      Uint8Array.from({ length: 16 }, (_, j) => (i * 31 + j * 7) & 0xff),
    );
    const big = Uint8Array.from({ length: 9000 }, (_, i) => i % 251);
    const w = new XdrWriter(1);
    for (const u of uuids.slice(0, 350)) w.writeFixedOpaque(u, 16);
    w.writeOpaque(big, 10000);
    for (const u of uuids.slice(350)) w.writeOpaque(u, 16);
    const bytes = w.finish();
    const r = new XdrReader(bytes);
    const got: Uint8Array[] = [];
    for (let i = 0; i < 350; i++) got.push(r.readFixedOpaque(16));
    const gotBig = r.readOpaque(10000);
    for (let i = 350; i < 700; i++) got.push(r.readOpaque(16));
    r.done();
    bytes.fill(0xaa);
    for (let i = 0; i < 700; i++) expect(Buffer.from(got[i]!).equals(uuids[i]!)).toBe(true);
    expect(Buffer.from(gotBig).equals(big)).toBe(true);
    expect(new Set(got.map((u) => u.buffer)).size).toBeGreaterThan(1);
    for (const u of [...got, gotBig]) expect(u.buffer).not.toBe(bytes.buffer);
  });

  it('a long run of close opaques shares a few private copies, each value its own bytes', () => {
    // 2,000 domains' worth of UUIDs (40 KiB with a 4-byte id after each): the first is a
    // lone copy, the next 4 KiB one copy, the rest of the message one more.
    const uuids = Array.from({ length: 2000 }, (_, i) =>
      Uint8Array.from({ length: 16 }, (_, j) => (i * 13 + j * 29) & 0xff),
    );
    const w = new XdrWriter(1);
    uuids.forEach((u, i) => {
      w.writeFixedOpaque(u, 16);
      w.writeInt(i);
    });
    const bytes = w.finish();
    const r = new XdrReader(bytes);
    const got = uuids.map((_, i) => {
      const u = r.readFixedOpaque(16);
      expect(r.readInt()).toBe(i);
      return u;
    });
    r.done();
    bytes.fill(0xaa);
    got.forEach((u, i) => {
      expect(Buffer.from(u).equals(uuids[i]!)).toBe(true);
    });
    const buffers = new Set(got.map((u) => u.buffer));
    expect(buffers.size).toBe(3);
    // The 4 KiB copy starts at the second UUID (byte 20) and ends after the one at byte 4100;
    // the last copy holds the rest of the message from the UUID at byte 4120.
    expect([...buffers].map((b) => b.byteLength).sort((x, y) => x - y)).toEqual([
      16,
      4096,
      bytes.length - 4120,
    ]);
    for (const b of buffers) expect(b).not.toBe(bytes.buffer);
  });

  it('opaques dense or far apart (shared copies or exact ones) keep their bytes', () => {
    const item = fc.record({ v: fc.uint8Array({ maxLength: 3000 }), gap: fc.nat(700) });
    fc.assert(
      fc.property(fc.array(item, { minLength: 1, maxLength: 40 }), (items) => {
        const w = new XdrWriter(1);
        for (const { v, gap } of items) {
          w.writeFixedOpaque(new Uint8Array(gap * 4).fill(0x5a), gap * 4); // filler between opaques
          w.writeOpaque(v, 4000);
        }
        const bytes = w.finish();
        const r = new XdrReader(bytes);
        const got = items.map(({ gap }) => {
          r.readFixedOpaque(gap * 4);
          return r.readOpaque(4000);
        });
        r.done();
        bytes.fill(0xaa);
        items.forEach(({ v }, i) => {
          expect(Buffer.from(got[i]!).equals(Buffer.from(v))).toBe(true);
        });
      }),
      { numRuns: 100 },
    );
  });

  it('writePresent: present for anything but null and undefined, including falsy values', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.constantFrom(0, '', false, Number.NaN, 0n)), (v) => {
        const w = new XdrWriter(1);
        const present = v !== null && v !== undefined;
        expect(w.writePresent(v)).toBe(present);
        expect(Buffer.from(w.finish()).equals(u32(present ? 1 : 0))).toBe(true);
      }),
      { numRuns: 150 },
    );
    const w = new XdrWriter(1);
    expect(w.writePresent(null)).toBe(false);
    expect(w.writePresent(undefined)).toBe(false);
    expect(Buffer.from(w.finish()).toString('hex')).toBe('0000000000000000');
  });
});

// ---------------------------------------------------------------------------

describe('XdrWriter rejects invalid values with XdrError', () => {
  const nonIntegers = fc.oneof(
    fc.double().filter((d) => !Number.isInteger(d)),
    fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0.5, -1e-300),
  );
  const notNumbers = fc.oneof(
    fc.string(),
    fc.constantFrom('0', '1', '', ' 7', null, undefined, true, false, {}, [], [1], new Date(0)),
  );

  type Case = [string, (w: XdrWriter, v: never) => void, fc.Arbitrary<unknown>];
  const cases: Case[] = [
    [
      'int',
      (w, v) => w.writeInt(v),
      fc.oneof(
        fc.integer({ min: INT_MAX + 1, max: Number.MAX_SAFE_INTEGER }),
        fc.integer({ min: Number.MIN_SAFE_INTEGER, max: INT_MIN - 1 }),
        fc.constantFrom(2 ** 31, INT_MIN - 1, 2 ** 32, 2 ** 53, -(2 ** 53)),
        nonIntegers,
        notNumbers,
      ),
    ],
    [
      'unsigned int',
      (w, v) => w.writeUint(v),
      fc.oneof(
        fc.integer({ min: Number.MIN_SAFE_INTEGER, max: -1 }),
        fc.integer({ min: UINT_MAX + 1, max: Number.MAX_SAFE_INTEGER }),
        fc.constantFrom(-1, 2 ** 32, 2 ** 53),
        nonIntegers,
        notNumbers,
      ),
    ],
    [
      'hyper',
      (w, v) => w.writeHyper(v),
      fc.oneof(
        fc.bigInt({ min: HYPER_MAX + 1n, max: 1n << 80n }),
        fc.bigInt({ min: -(1n << 80n), max: HYPER_MIN - 1n }),
        fc.constantFrom(HYPER_MAX + 1n, HYPER_MIN - 1n, 1n << 64n),
        fc.integer(),
        fc.double(),
        notNumbers,
        fc.constantFrom('1n', '9223372036854775807'),
      ),
    ],
    [
      'unsigned hyper',
      (w, v) => w.writeUhyper(v),
      fc.oneof(
        fc.bigInt({ min: -(1n << 80n), max: -1n }),
        fc.bigInt({ min: UHYPER_MAX + 1n, max: 1n << 80n }),
        fc.constantFrom(-1n, UHYPER_MAX + 1n),
        fc.nat(),
        notNumbers,
      ),
    ],
    [
      'bool',
      (w, v) => w.writeBool(v),
      fc.oneof(
        fc.constantFrom(0, 1, 'true', 'false', '', null, undefined, 0n, 1n),
        fc.anything({ withNullPrototype: true }).filter((v) => typeof v !== 'boolean'),
      ),
    ],
    ['float', (w, v) => w.writeFloat(v), fc.oneof(notNumbers, fc.constantFrom(1n, 0n))],
    ['double', (w, v) => w.writeDouble(v), fc.oneof(notNumbers, fc.constantFrom(1n, 0n))],
    [
      'fixed opaque (not bytes)',
      (w, v) => w.writeFixedOpaque(v, 4),
      fc.oneof(
        fc.constantFrom(
          [1, 2, 3, 4],
          'abcd',
          new Uint16Array(4),
          new Int8Array(4),
          new ArrayBuffer(4),
          new DataView(new ArrayBuffer(4)),
          null,
          undefined,
          4,
        ),
        fc.array(fc.nat(255), { minLength: 4, maxLength: 4 }),
      ),
    ],
    [
      'variable opaque (not bytes)',
      (w, v) => w.writeOpaque(v, 100),
      fc.oneof(
        fc.constantFrom(
          [1, 2, 3],
          'abc',
          new Uint16Array(3),
          new Uint8ClampedArray(3),
          new ArrayBuffer(3),
          null,
          undefined,
          { length: 3 },
        ),
        fc.array(fc.nat(255)),
        fc.string(),
      ),
    ],
    [
      'string (not a string)',
      (w, v) => w.writeString(v, 100),
      fc.oneof(
        fc.anything({ withNullPrototype: true }).filter((v) => typeof v !== 'string'),
        fc.constantFrom(
          new Uint8Array([0x61]),
          ['a'],
          null,
          undefined,
          1,
          Object('boxed') as unknown,
        ),
      ),
    ],
  ];

  it.each(cases)('%s', (_, write, bad) => {
    fc.assert(
      fc.property(opsArb, bad, (prefix, v) => {
        const w = new XdrWriter(1);
        for (const op of prefix) writeOp(w, op);
        const before = Buffer.from(w.finish());
        const e = xdrThrows(() => write(w, v as never));
        // The error points at where the value would have gone, and nothing was written.
        expect(e.offset).toBe(before.length);
        expect(w.pos).toBe(before.length);
        expect(Buffer.from(w.finish()).equals(before)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('int and unsigned int reject bigint and symbol values with XdrError (not TypeError)', () => {
    for (const v of [0n, 1n, -1n, 1n << 40n, Object(1n), Symbol('x')]) {
      xdrThrows(() => new XdrWriter(1).writeInt(v as unknown as number));
      xdrThrows(() => new XdrWriter(1).writeUint(v as unknown as number));
    }
  });

  it('every writer rejects objects with no primitive value with XdrError (not TypeError)', () => {
    const values = [
      Object.create(null),
      { toString: undefined },
      { toString: undefined, valueOf: undefined },
      [Object.create(null)],
    ];
    for (const o of values as never[]) {
      const w = new XdrWriter(1);
      xdrThrows(() => w.writeInt(o));
      xdrThrows(() => w.writeUint(o));
      xdrThrows(() => w.writeHyper(o));
      xdrThrows(() => w.writeUhyper(o));
      xdrThrows(() => w.writeBool(o));
      xdrThrows(() => w.writeFloat(o));
      xdrThrows(() => w.writeDouble(o));
      xdrThrows(() => w.writeFixedOpaque(o, 4));
      xdrThrows(() => w.writeOpaque(o, 4));
      xdrThrows(() => w.writeString(o, 4));
    }
  });

  it('every writer rejects any value of the wrong JS type with XdrError, never another error', () => {
    const writers: [string, (w: XdrWriter, v: never) => void, (v: unknown) => boolean][] = [
      [
        'int',
        (w, v) => w.writeInt(v),
        (v) => Number.isInteger(v) && (v as number) >= INT_MIN && (v as number) <= INT_MAX,
      ],
      [
        'uint',
        (w, v) => w.writeUint(v),
        (v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= UINT_MAX,
      ],
      [
        'hyper',
        (w, v) => w.writeHyper(v),
        (v) => typeof v === 'bigint' && BigInt.asIntN(64, v) === v,
      ],
      [
        'uhyper',
        (w, v) => w.writeUhyper(v),
        (v) => typeof v === 'bigint' && BigInt.asUintN(64, v) === v,
      ],
      ['bool', (w, v) => w.writeBool(v), (v) => typeof v === 'boolean'],
      ['float', (w, v) => w.writeFloat(v), (v) => typeof v === 'number'],
      ['double', (w, v) => w.writeDouble(v), (v) => typeof v === 'number'],
      [
        'fopaque',
        (w, v) => w.writeFixedOpaque(v, 0),
        (v) => v instanceof Uint8Array && v.length === 0,
      ],
      ['opaque', (w, v) => w.writeOpaque(v, UINT_MAX), (v) => v instanceof Uint8Array],
      ['string', (w, v) => w.writeString(v, UINT_MAX), (v) => typeof v === 'string'],
    ];
    fc.assert(
      fc.property(fc.constantFrom(...writers), junkArb, ([name, write, valid], v) => {
        fc.pre(!valid(v));
        let err: unknown;
        try {
          write(new XdrWriter(1), v as never);
        } catch (e) {
          err = e;
        }
        expect(err, `write ${name}`).toBeInstanceOf(XdrError);
      }),
      { numRuns: 300 },
    );
  });

  it('fixed opaque of the wrong length', () => {
    fc.assert(
      fc.property(bytesArb, fc.nat(80), (v, n) => {
        fc.pre(n !== v.length);
        const w = new XdrWriter(1);
        xdrThrows(() => w.writeFixedOpaque(v, n));
        expect(w.pos).toBe(0);
      }),
      RUNS,
    );
  });

  it('variable opaque longer than its bound', () => {
    fc.assert(
      fc.property(bytesArb, fc.nat(80), (v, max) => {
        const w = new XdrWriter(1);
        if (v.length > max) {
          xdrThrows(() => w.writeOpaque(v, max));
          expect(w.pos).toBe(0);
        } else {
          w.writeOpaque(v, max);
          expect(w.pos).toBe(4 + v.length + pad4(v.length));
        }
      }),
      RUNS,
    );
  });

  it('string longer than its bound, counted in UTF-8 bytes', () => {
    fc.assert(
      fc.property(stringArb, fc.nat(120), (s, max) => {
        const bytes = Buffer.byteLength(s, 'utf8');
        const w = new XdrWriter(1);
        if (bytes > max) {
          xdrThrows(() => w.writeString(s, max));
          expect(w.pos).toBe(0);
        } else {
          w.writeString(s, max);
          expect(w.pos).toBe(4 + bytes + pad4(bytes));
        }
      }),
      { numRuns: 150 },
    );
    // 'é' is one UTF-16 unit but two UTF-8 bytes.
    xdrThrows(() => new XdrWriter(1).writeString('é', 1));
    xdrThrows(() => new XdrWriter(1).writeString('ééé', 5));
    xdrThrows(() => new XdrWriter(1).writeString('\u{1F600}', 3));
    expect(writeAll([{ t: 'string', v: 'ééé', max: 6 }]).length).toBe(12);
    expect(writeAll([{ t: 'string', v: '\u{1F600}', max: 4 }]).length).toBe(8);
  });

  it('writeLength over its bound', () => {
    fc.assert(
      fc.property(fc.nat(1000), fc.nat(1000), (n, max) => {
        const w = new XdrWriter(1);
        if (n > max) {
          xdrThrows(() => w.writeLength(n, max));
          expect(w.pos).toBe(0);
        } else {
          w.writeLength(n, max);
          expect(Buffer.from(w.finish()).equals(u32(n))).toBe(true);
        }
      }),
      RUNS,
    );
  });

  it('checkFixed accepts exactly the declared element count', () => {
    fc.assert(
      fc.property(fc.nat(50), fc.nat(50), (n, want) => {
        const w = new XdrWriter(1);
        if (n === want) w.checkFixed(n, want);
        else expect(xdrThrows(() => w.checkFixed(n, want)).offset).toBe(0);
        expect(w.pos).toBe(0);
      }),
      RUNS,
    );
  });

  it('arrayLength gives the length of arrays and XdrError for anything else', () => {
    fc.assert(
      fc.property(fc.array(fc.anything({ maxDepth: 1 }), { maxLength: 20 }), (a) => {
        expect(arrayLength(a)).toBe(a.length);
      }),
      { numRuns: 50 },
    );
    fc.assert(
      fc.property(junkArb, (v) => {
        fc.pre(!Array.isArray(v));
        xdrThrows(() => arrayLength(v));
      }),
      { numRuns: 150 },
    );
    for (const v of [null, undefined, 'abc', new Uint8Array(3), { length: 3 }, new Set([1])]) {
      xdrThrows(() => arrayLength(v));
    }
  });
});

// ---------------------------------------------------------------------------

describe('XdrReader enforces the decoding rules', () => {
  it('non-zero padding bytes are rejected (opaque, fixed opaque, string)', () => {
    const arb = fc
      .tuple(
        fc.uint8Array({ minLength: 1, maxLength: 40, max: 0x7f, size: 'max' }),
        fc.nat(3),
        fc.integer({ min: 1, max: 255 }),
      )
      .filter(([v]) => v.length % 4 !== 0);
    fc.assert(
      fc.property(arb, ([v, i, bad]) => {
        const at = i % pad4(v.length);
        const varBuf = refVarBytes(v);
        varBuf[4 + v.length + at] = bad;
        const fixedBuf = varBuf.subarray(4);
        expect(xdrThrows(() => new XdrReader(varBuf).readOpaque(100)).offset).toBe(
          4 + v.length + at,
        );
        expect(xdrThrows(() => new XdrReader(varBuf).readString(100)).offset).toBe(
          4 + v.length + at,
        );
        expect(xdrThrows(() => new XdrReader(fixedBuf).readFixedOpaque(v.length)).offset).toBe(
          v.length + at,
        );
      }),
      RUNS,
    );
  });

  it('bool and optional flag accept only 0 and 1', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: 2, max: UINT_MAX }),
          fc.constantFrom(2, 0xffffffff, 0x80000000, 0x100),
        ),
        fc.nat(5),
        (v, words) => {
          const buf = Buffer.concat([Buffer.alloc(4 * words), u32(v)]);
          const r = new XdrReader(buf, 4 * words);
          expect(xdrThrows(() => r.readBool()).offset).toBe(4 * words);
          expect(xdrThrows(() => r.reset(buf, 4 * words).readPresent()).offset).toBe(4 * words);
        },
      ),
      RUNS,
    );
    for (const [v, want] of [
      [0, false],
      [1, true],
    ] as const) {
      expect(new XdrReader(u32(v)).readBool()).toBe(want);
      expect(new XdrReader(u32(v)).readPresent()).toBe(want);
    }
  });

  it('readLength: refused over its bound or when n * minElementSize exceeds the bytes left', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.nat(40), fc.integer({ min: 0, max: UINT_MAX }), fc.constant(UINT_MAX)),
        fc.oneof(fc.nat(40), fc.constant(UINT_MAX)),
        fc.nat(16),
        fc.nat(64),
        (n, max, minSize, left) => {
          const buf = Buffer.concat([u32(n), Buffer.alloc(left)]);
          const r = new XdrReader(buf);
          if (n > max || n * minSize > left) {
            expect(xdrThrows(() => r.readLength(max, minSize)).offset).toBe(0);
          } else {
            expect(r.readLength(max, minSize)).toBe(n);
            expect(r.pos).toBe(4);
          }
        },
      ),
      { numRuns: 500 },
    );
    // The default minimum element size is 4 bytes.
    expect(
      xdrThrows(() => new XdrReader(Buffer.concat([u32(3), Buffer.alloc(11)])).readLength(10))
        .offset,
    ).toBe(0);
    expect(new XdrReader(Buffer.concat([u32(3), Buffer.alloc(12)])).readLength(10)).toBe(3);
  });

  it('opaque and string lengths over their bound are rejected', () => {
    fc.assert(
      fc.property(fc.nat(40), fc.integer({ min: 1, max: 40 }), (max, over) => {
        const n = max + over;
        // Enough bytes follow, so only the bound can be at fault.
        const buf = refVarBytes(new Uint8Array(n).fill(0x61));
        expect(xdrThrows(() => new XdrReader(buf).readOpaque(max)).offset).toBe(0);
        expect(xdrThrows(() => new XdrReader(buf).readString(max)).offset).toBe(0);
        expect(xdrThrows(() => new XdrReader(buf).readLength(max, 1)).offset).toBe(0);
        expect(new XdrReader(buf).readOpaque(n).length).toBe(n);
      }),
      RUNS,
    );
  });

  it('a huge length is refused from the length word, before anything is allocated', () => {
    const buf = Buffer.concat([u32(0x7fffffff), Buffer.alloc(8)]);
    // memory outside the heap (where a Uint8Array of that length would go), not the clock: a
    // wall-clock bound flakes on a busy machine. Node counts it; Bun and Deno report 0 here, so on
    // them the offsets above are the proof.
    const before = process.memoryUsage().arrayBuffers;
    expect(xdrThrows(() => new XdrReader(buf).readOpaque(2 ** 31)).offset).toBe(0);
    expect(xdrThrows(() => new XdrReader(buf).readString(2 ** 31)).offset).toBe(0);
    expect(xdrThrows(() => new XdrReader(buf).readLength(2 ** 31, 1)).offset).toBe(0);
    const max = Buffer.concat([u32(UINT_MAX), Buffer.alloc(8)]);
    expect(xdrThrows(() => new XdrReader(max).readOpaque(UINT_MAX)).offset).toBe(0);
    expect(xdrThrows(() => new XdrReader(max).readLength(UINT_MAX, 1)).offset).toBe(0);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1 << 20);
  });

  it('input cut at every offset of a valid encoding throws XdrError, never another error', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 4 }), (ops) => {
        const bytes = writeAll(ops);
        const r = new XdrReader();
        for (let cut = 0; cut < bytes.length; cut++) {
          // Cut by the reader's end offset, and by a shorter buffer.
          xdrThrows(() => readRaw(r.reset(bytes, 0, cut), ops));
          xdrThrows(() => readRaw(new XdrReader(bytes.subarray(0, cut)), ops));
        }
        readAll(r.reset(bytes), ops);
        r.done();
      }),
      { numRuns: 60 },
    );
  });

  it('done() throws on trailing bytes', () => {
    fc.assert(
      fc.property(opsArb, fc.uint8Array({ minLength: 1, maxLength: 9 }), (ops, extra) => {
        const bytes = Buffer.concat([writeAll(ops), extra]);
        const r = new XdrReader(bytes);
        readAll(r, ops);
        expect(r.remaining).toBe(extra.length);
        expect(xdrThrows(() => r.done()).offset).toBe(bytes.length - extra.length);
      }),
      RUNS,
    );
  });

  it('invalid UTF-8 in a string is rejected with XdrError', () => {
    const invalid = fc.constantFrom(
      [0xff],
      [0xfe],
      [0x80], // lone continuation byte
      [0xc0, 0x80], // overlong NUL
      [0xe0, 0x80, 0x80], // overlong
      [0xed, 0xa0, 0x80], // UTF-16 surrogate
      [0xe2, 0x82], // truncated sequence
      [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
      [0xc3, 0x28],
    );
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary-ascii', maxLength: 40, size: 'max' }),
        invalid,
        fc.string({ unit: 'grapheme', maxLength: 20 }),
        (pre, bad, post) => {
          const bytes = Buffer.concat([Buffer.from(pre), Buffer.from(bad), Buffer.from(post)]);
          const e = xdrThrows(() => new XdrReader(refVarBytes(bytes)).readString(1000));
          expect(e.offset).toBe(4);
          expect(e.cause).toBeDefined();
        },
      ),
      RUNS,
    );
  });
});

// ---------------------------------------------------------------------------

describe('XdrReader buffers and ranges', () => {
  it('reads a subrange of a larger buffer with byteOffset != 0', () => {
    fc.assert(
      fc.property(
        opsArb,
        fc.uint8Array({ maxLength: 13 }),
        fc.uint8Array({ maxLength: 13 }),
        fc.integer({ min: 1, max: 17 }),
        (ops, before, after, offset) => {
          const body = writeAll(ops);
          const whole = Buffer.concat([before, body, after]);
          const start = before.length;
          const end = start + body.length;

          const ab = new ArrayBuffer(offset + whole.length + 5);
          const u8 = new Uint8Array(ab, offset, whole.length);
          u8.set(whole);
          const buffer = Buffer.from(ab, offset, whole.length);
          // Small Buffer.from() copies live in Node's shared pool, at some offset.
          const pooled = Buffer.from(whole);
          const sliced = Buffer.from(whole).subarray(start, end);
          expect(u8.byteOffset).toBe(offset);
          expect(buffer.byteOffset).toBe(offset);

          for (const [buf, s, e] of [
            [u8, start, end],
            [buffer, start, end],
            [pooled, start, end],
            [sliced, 0, sliced.length],
          ] as const) {
            const r = new XdrReader(buf, s, e);
            readAll(r, ops);
            r.done();
            expect(r.pos).toBe(e);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('reset() reuses one reader across buffers and ranges', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(opsArb, fc.nat(9)), { minLength: 1, maxLength: 5 }), (msgs) => {
        const bodies = msgs.map(([ops]) => writeAll(ops));
        // All messages back to back in one pooled buffer, each also alone at an offset.
        const all = Buffer.concat(bodies);
        const r = new XdrReader();
        let at = 0;
        msgs.forEach(([ops, shift], i) => {
          const body = bodies[i]!;
          r.reset(all, at, at + body.length);
          readAll(r, ops);
          r.done();
          at += body.length;

          const alone = Buffer.concat([Buffer.alloc(shift, 0xee), body]).subarray(shift);
          r.reset(alone);
          readAll(r, ops);
          r.done();
        });
        // Back to the same buffer object: position and range come from reset().
        const [firstOps] = msgs[0]!;
        r.reset(all, 0, bodies[0]!.length);
        readAll(r, firstOps);
        r.done();
      }),
      { numRuns: 60 },
    );
  });
});

// ---------------------------------------------------------------------------

describe('XdrWriter buffer management', () => {
  it('grows from any tiny initial size', () => {
    fc.assert(
      fc.property(fc.nat(8), opsArb, (initial, ops) => {
        const w = new XdrWriter(initial);
        const bytes = writeAll(ops, w);
        expect(Buffer.from(bytes).equals(refAll(ops))).toBe(true);
        expect(w.pos).toBe(bytes.length);
      }),
      RUNS,
    );
  });

  it('reset() reuses a dirty buffer and still writes zero padding', () => {
    fc.assert(
      fc.property(opsArb, opsArb, (first, second) => {
        const w = new XdrWriter(1);
        writeAll(first, w);
        w.writeFixedOpaque(new Uint8Array(300).fill(0xff), 300);
        w.reset();
        expect(w.pos).toBe(0);
        expect(Buffer.from(writeAll(second, w)).equals(refAll(second))).toBe(true);
      }),
      RUNS,
    );
  });

  it('finish() returns bytes unaffected by later writes; peek() is the same bytes', () => {
    fc.assert(
      fc.property(opsArb, opsArb, (ops, later) => {
        const w = new XdrWriter(4);
        for (const op of ops) writeOp(w, op);
        const done = w.finish();
        expect(Buffer.from(w.peek()).equals(Buffer.from(done))).toBe(true);
        const want = refAll(ops);
        w.reset();
        w.writeFixedOpaque(new Uint8Array(done.length + 64).fill(0xab), done.length + 64);
        for (const op of later) writeOp(w, op);
        expect(Buffer.from(done).equals(want)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('finish() results of consecutive messages keep their bytes (one buffer, no copies)', () => {
    fc.assert(
      fc.property(
        fc.array(opsArb, { minLength: 1, maxLength: 30 }),
        fc.nat(200),
        (msgs, initial) => {
          const w = new XdrWriter(initial);
          const done: Uint8Array[] = [];
          for (const ops of msgs) {
            w.reset();
            expect(w.pos).toBe(0);
            for (const op of ops) writeOp(w, op);
            const bytes = w.finish();
            expect(bytes.length).toBe(w.pos);
            expect(w.buf.length).toBeGreaterThanOrEqual(w.pos);
            expect(Buffer.from(w.buf.subarray(0, w.pos)).equals(Buffer.from(bytes))).toBe(true);
            done.push(bytes);
          }
          // A last message written over whatever room is left must not reach earlier results.
          w.reset();
          w.writeFixedOpaque(new Uint8Array(500).fill(0xee), 500);
          msgs.forEach((ops, i) => {
            expect(Buffer.from(done[i]!).equals(refAll(ops))).toBe(true);
          });
        },
      ),
      { numRuns: 100 },
    );
  });

  it('strings written again and again, short and long, ASCII or not, give the reference bytes', () => {
    const pool = fc.array(
      fc.oneof(
        fc.string({ unit: fc.constantFrom('a', 'b', '.', '_', '0', '\0'), maxLength: 70 }),
        fc.string({ unit: 'grapheme', maxLength: 20 }),
      ),
      { minLength: 1, maxLength: 20 },
    );
    fc.assert(
      fc.property(pool, fc.array(fc.nat(), { minLength: 1, maxLength: 80 }), (strings, picks) => {
        const seq = picks.map((i) => strings[i % strings.length]!);
        const w = new XdrWriter(8);
        for (const s of seq) w.writeString(s, 1000);
        const want = Buffer.concat(seq.map((s) => refVarBytes(Buffer.from(s, 'utf8'))));
        expect(Buffer.from(w.finish()).toString('hex')).toBe(want.toString('hex'));
      }),
      { numRuns: 200 },
    );
  });

  it('thousands of distinct strings around the inline/TextEncoder boundary round-trip', () => {
    // Lengths 8..64: both sides of the 32-unit switch to TextEncoder, each string twice in a row.
    const w = new XdrWriter(1);
    const strings = Array.from({ length: 9000 }, (_, i) => `field.${i}.${'x'.repeat(i % 57)}`);
    for (const s of strings) {
      w.writeString(s, 100);
      w.writeString(s, 100);
    }
    const r = new XdrReader(w.finish());
    for (const s of strings) {
      expect(r.readString(100)).toBe(s);
      expect(r.readString(100)).toBe(s);
    }
    r.done();
    // A string written before is still checked against a smaller bound.
    expect(() => new XdrWriter().writeString(strings[5]!, 3)).toThrow(XdrError);
  });

  it('reserve() + patchUint() fill in a length word, across buffer growth', () => {
    fc.assert(
      fc.property(opsArb, opsArb, fc.nat(3), (head, body, initial) => {
        const w = new XdrWriter(initial);
        for (const op of head) writeOp(w, op);
        const outer = w.reserve(4);
        w.writeInt(7);
        const inner = w.reserve(4);
        for (const op of body) writeOp(w, op);
        w.patchUint(inner, w.pos - inner - 4);
        w.patchUint(outer, w.pos - outer - 4);

        const bodyBytes = refAll(body);
        const want = Buffer.concat([
          refAll(head),
          u32(8 + bodyBytes.length),
          ref({ t: 'int', v: 7 }),
          u32(bodyBytes.length),
          bodyBytes,
        ]);
        const bytes = w.finish();
        expect(Buffer.from(bytes).toString('hex')).toBe(want.toString('hex'));

        const r = new XdrReader(bytes);
        readAll(r, head);
        expect(r.readUint()).toBe(r.remaining);
        expect(r.readInt()).toBe(7);
        expect(r.readUint()).toBe(r.remaining);
        readAll(r, body);
        r.done();
      }),
      { numRuns: 100 },
    );
  });
});

// ---------------------------------------------------------------------------

describe('XdrError', () => {
  it('carries the byte offset of a decode failure', () => {
    fc.assert(
      fc.property(opsArb, (ops) => {
        const bytes = writeAll(ops);
        const r = new XdrReader(bytes);
        readAll(r, ops);
        const e = xdrThrows(() => r.readInt());
        expect(e.offset).toBe(bytes.length);
        expect(e).toBeInstanceOf(Error);
        expect(e.name).toBe('XdrError');
      }),
      { numRuns: 100 },
    );
  });

  it('within() builds the path outermost type first, and the message holds path and reason', () => {
    const ident = fc.stringMatching(/^[a-z][a-z0-9_]{0,11}$/);
    const level = fc.record({
      type: ident,
      field: fc.oneof(ident, fc.constant('')),
      index: fc.oneof(fc.constant(-1), fc.nat(10_000)),
    });
    fc.assert(
      fc.property(
        fc.array(level, { minLength: 1, maxLength: 6 }),
        fc.string({ minLength: 1, maxLength: 30 }),
        fc.integer({ min: -1, max: 100_000 }),
        (levels, reason, offset) => {
          const e = new XdrError(reason, offset);
          // Unwinds innermost first, as generated codecs do.
          for (let i = levels.length - 1; i >= 0; i--) {
            const { type, field, index } = levels[i]!;
            expect(e.within(type, field, index)).toBe(e);
          }
          let want = levels[0]!.type;
          for (const { field, index } of levels) {
            if (field !== '') want += index >= 0 ? `.${field}[${index}]` : `.${field}`;
            else if (index >= 0) want += `[${index}]`; // an element of a top-level array typedef
          }
          expect(e.path).toBe(want);
          expect(e.reason).toBe(reason);
          expect(e.offset).toBe(offset);
          expect(e.message).toContain(want);
          expect(e.message).toContain(reason);
          if (offset >= 0) expect(e.message).toContain(String(offset));
        },
      ),
      { numRuns: 100 },
    );

    const e = new XdrError('bad thing', 12).within('inner', 'inner').within('outer', 'field', 3);
    expect(e.path).toBe('outer.field[3].inner');
    expect(e.message).toContain('outer.field[3].inner');
    expect(e.message).toContain('bad thing');
    expect(e.message).toContain('12');
  });

  it('xdrAt adds the location to an XdrError and wraps anything else with cause', () => {
    const original = new XdrError('length 5 exceeds bound 4', 8);
    const same = xdrAt(original, 'remote_foo', 'names', 2);
    expect(same).toBe(original);
    expect(same.path).toBe('remote_foo.names[2]');
    expect(same.offset).toBe(8);

    const te = new TypeError("Cannot read properties of undefined (reading 'x')");
    const wrapped = xdrAt(te, 'remote_bar', 'x', -1);
    expect(wrapped).toBeInstanceOf(XdrError);
    expect(wrapped.cause).toBe(te);
    expect(wrapped.offset).toBe(-1);
    expect(wrapped.path).toBe('remote_bar.x');
    expect(wrapped.message).toContain('remote_bar.x');
    expect(wrapped.message).toContain(te.message);

    const thrown = xdrAt('just a string', 't', 'f', 0);
    expect(thrown).toBeInstanceOf(XdrError);
    expect(thrown.cause).toBe('just a string');
    expect(thrown.message).toContain('just a string');
    expect(thrown.path).toBe('t.f[0]');
  });

  it('xdrAt through nested codecs names the failing element', () => {
    // Hand-written in the shape of generated code: outer { inner field<> }, inner { int x }.
    interface Inner {
      x: number;
    }
    const encodeInner = (w: XdrWriter, v: Inner) => {
      try {
        w.writeInt(v.x);
      } catch (e) {
        throw xdrAt(e, 'inner_t', 'x', -1);
      }
    };
    const encodeOuter = (w: XdrWriter, v: { field: Inner[] }) => {
      let ix = -1;
      try {
        w.writeLength(arrayLength(v.field), 10);
        for (ix = 0; ix < v.field.length; ix++) encodeInner(w, v.field[ix]!);
      } catch (e) {
        throw xdrAt(e, 'outer_t', 'field', ix);
      }
    };
    fc.assert(
      fc.property(fc.array(intArb, { maxLength: 9 }), fc.nat(9), (xs, bad) => {
        const field: Inner[] = xs.map((x) => ({ x }));
        fc.pre(bad < field.length);
        field[bad] = { x: 0.5 };
        const e = xdrThrows(() => encodeOuter(new XdrWriter(1), { field }));
        expect(e.path).toBe(`outer_t.field[${bad}].x`);
        expect(e.offset).toBe(4 + 4 * bad);
        expect(e.message).toContain(`outer_t.field[${bad}].x`);
      }),
      RUNS,
    );
    // A TypeError from a missing element is wrapped, keeping its cause.
    const e = xdrThrows(() =>
      encodeOuter(new XdrWriter(1), { field: [{ x: 1 }, undefined as unknown as Inner] }),
    );
    expect(e.path).toBe('outer_t.field[1].x');
    expect(e.cause).toBeInstanceOf(TypeError);
  });
});

describe('writer and reader guards', () => {
  it('refuses an over-bound string before growing the buffer', () => {
    const w = new XdrWriter(16);
    expect(() => w.writeString('x'.repeat(1_000_000), 10)).toThrow(
      /at least 1000000 bytes exceeds bound 10/,
    );
    expect(w.buf.length).toBe(16);
  });

  it('refuses a lone surrogate instead of writing U+FFFD', () => {
    const w = new XdrWriter();
    expect(() => w.writeString('a\uD800b', 100)).toThrow(XdrError);
    expect(() => w.writeString('a\uD800b', 100)).toThrow(/lone surrogate/);
    expect(() => w.writeString(`${'x'.repeat(40)}\uDC00`, 100)).toThrow(/lone surrogate/);
    w.writeString('a\uD83D\uDE42', 100); // a proper pair is fine
    expect(new XdrReader(w.finish()).readString(100)).toBe('a\uD83D\uDE42');
  });

  it('refuses a negative or fractional length and a reader range outside its buffer', () => {
    const w = new XdrWriter();
    for (const n of [-1, 1.5, Number.NaN])
      expect(() => w.writeLength(n, 2 ** 33)).toThrow(XdrError);
    expect(() => new XdrReader(new Uint8Array(4), 0, 8)).toThrow(
      /range 0..8 is not within a buffer of 4 bytes/,
    );
    expect(() => new XdrReader().reset(new Uint8Array(4), 3, 2)).toThrow(XdrError);
  });
});
