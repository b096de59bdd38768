import { XdrError } from './errors.js';

const utf8 = new TextEncoder();

/** Up to this many UTF-16 units a charCodeAt() loop beats TextEncoder's fixed call cost. */
const SHORT_STRING = 32;
/** Up to this many bytes an opaque is copied a word at a time rather than with TypedArray#set. */
const SHORT_OPAQUE = 64;

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'bigint') return `${v}n`;
  if (v instanceof Uint8Array) return `Uint8Array(${v.length})`;
  if (Array.isArray(v)) return `array(${v.length})`;
  if (typeof v === 'object' && v !== null) return 'an object';
  return typeof v === 'symbol' ? v.toString() : String(v);
}

/**
 * Why moveTo() refuses `p` (the current message starts at `start` of a buffer
 * of `end` bytes); outside the class, so the writer's declared shape stays as it was.
 */
function moveRefused(p: unknown, start: number, end: number, pos: number): never {
  const what =
    typeof p !== 'number' || !Number.isInteger(p)
      ? 'is not a whole number'
      : p < start
        ? `is before the current message, which starts at ${start}`
        : `is past the end of the buffer (${end} bytes)`;
  throw new XdrError(`moveTo: cursor ${describe(p)} ${what}`, pos);
}

/**
 * Writes XDR into one growable buffer, reused between messages. `finish()`
 * hands out the bytes written, `reset()` starts the next message. Every value
 * is checked against its XDR type and declared bound before it is written.
 *
 * `finish()` does not copy: it returns a view of the bytes written, and the
 * next `reset()` moves the writer on to the unused rest of its buffer (or to a
 * fresh buffer once the rest is smaller than the message just finished), so
 * later messages never touch bytes already handed out. Allocating an
 * `ArrayBuffer` per message cost more than encoding a small one. Results of
 * one writer may therefore share an `ArrayBuffer` (`result.buffer` can hold
 * other messages of the same writer, and keeping a small result keeps its
 * buffer alive); use `result.slice()` for a stand-alone copy. `patchUint()`
 * belongs before `finish()`.
 */
export class XdrWriter {
  /** The whole current buffer; the message being written starts at `base`. */
  private bytes: Uint8Array;
  private dv: DataView;
  private base = 0;
  /** Absolute write offset in `bytes`; `pos` is `at - base`. */
  private at = 0;
  /** finish() handed out `bytes[base, at)`: the next reset() starts after them. */
  private handedOut = false;
  private readonly initialSize: number;

  constructor(initialSize = 65536) {
    this.initialSize = initialSize;
    this.bytes = new Uint8Array(initialSize);
    this.dv = new DataView(this.bytes.buffer);
  }

  /** Bytes written to the current message; also where the next value goes. */
  get pos(): number {
    return this.at - this.base;
  }

  set pos(p: number) {
    this.at = this.base + p;
  }

  /** The current message's region of the buffer (written bytes and the room after them). */
  get buf(): Uint8Array {
    return this.bytes.subarray(this.base);
  }

  /** A DataView of `buf`. */
  get view(): DataView {
    return new DataView(
      this.bytes.buffer,
      this.bytes.byteOffset + this.base,
      this.bytes.length - this.base,
    );
  }

  /** Empties the writer to encode another message in the same buffer. */
  reset(): this {
    if (this.handedOut) this.moveOn();
    this.at = this.base;
    return this;
  }

  /** Starts the next message after the bytes finish() handed out, 8-byte aligned. */
  private moveOn(): void {
    this.handedOut = false;
    const size = this.at - this.base;
    const next = (this.at + 7) & ~7;
    // The next message is probably about as large as this one: when it would not fit,
    // take a fresh buffer now rather than copy it over half written.
    if (this.bytes.length - next >= Math.max(size, 64)) {
      this.base = next;
    } else {
      this.bytes = new Uint8Array(Math.max(this.initialSize, 2 * size, 64));
      this.dv = new DataView(this.bytes.buffer);
      this.base = 0;
    }
  }

  /** Makes room for `n` more bytes, doubling the buffer as needed. */
  ensure(n: number): void {
    if (this.at + n > this.bytes.length) this.grow(n);
  }

  private grow(n: number): void {
    const used = this.at - this.base;
    const want = used + n;
    let size = (this.bytes.length - this.base) * 2 || 64;
    while (size < want) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.bytes.subarray(this.base, this.at));
    this.bytes = next;
    this.dv = new DataView(next.buffer);
    this.base = 0;
    this.at = used;
  }

  /**
   * The bytes written so far, without a copy: writes after the next `reset()`
   * never change them (see the class comment).
   */
  finish(): Uint8Array {
    this.handedOut = true;
    return new Uint8Array(
      this.bytes.buffer,
      this.bytes.byteOffset + this.base,
      this.at - this.base,
    );
  }

  /** A view of the bytes written so far, valid only until the next write or reset. */
  peek(): Uint8Array {
    return this.bytes.subarray(this.base, this.at);
  }

  /** Skips `n` bytes to be filled in later with a `patch*` call; returns their offset. */
  reserve(n: number): number {
    this.ensure(n);
    const p = this.at - this.base;
    this.at += n;
    return p;
  }

  /** Overwrites a 32-bit word already written, e.g. a length known only at the end. */
  patchUint(offset: number, v: number): void {
    this.dv.setUint32(this.base + offset, v);
  }

  // The hot paths below stay small so that V8 inlines them into the generated
  // codecs; error messages are built out of line in fail().

  private fail(what: string, v: unknown): never {
    throw new XdrError(`${what}: ${describe(v)}`, this.pos);
  }

  /** A signed 32-bit integer. */
  writeInt(v: number): void {
    if (typeof v !== 'number' || (v | 0) !== v) this.fail('int out of range', v);
    if (this.at + 4 > this.bytes.length) this.grow(4);
    this.dv.setInt32(this.at, v);
    this.at += 4;
  }

  /** An unsigned 32-bit integer. */
  writeUint(v: number): void {
    if (typeof v !== 'number' || v >>> 0 !== v) this.fail('unsigned int out of range', v);
    if (this.at + 4 > this.bytes.length) this.grow(4);
    this.dv.setUint32(this.at, v);
    this.at += 4;
  }

  /** A signed 64-bit integer. */
  writeHyper(v: bigint): void {
    if (typeof v !== 'bigint' || BigInt.asIntN(64, v) !== v) {
      this.fail('hyper must be a bigint in 64-bit signed range', v);
    }
    if (this.at + 8 > this.bytes.length) this.grow(8);
    this.dv.setBigInt64(this.at, v);
    this.at += 8;
  }

  /** An unsigned 64-bit integer. */
  writeUhyper(v: bigint): void {
    if (typeof v !== 'bigint' || BigInt.asUintN(64, v) !== v) {
      this.fail('unsigned hyper must be a bigint in 64-bit unsigned range', v);
    }
    if (this.at + 8 > this.bytes.length) this.grow(8);
    this.dv.setBigUint64(this.at, v);
    this.at += 8;
  }

  /** A 32-bit IEEE float. */
  writeFloat(v: number): void {
    if (typeof v !== 'number') this.fail('float must be a number', v);
    if (this.at + 4 > this.bytes.length) this.grow(4);
    this.dv.setFloat32(this.at, v);
    this.at += 4;
  }

  /** A 64-bit IEEE float. */
  writeDouble(v: number): void {
    if (typeof v !== 'number') this.fail('double must be a number', v);
    if (this.at + 8 > this.bytes.length) this.grow(8);
    this.dv.setFloat64(this.at, v);
    this.at += 8;
  }

  /** A bool, as 0 or 1. */
  writeBool(v: boolean): void {
    if (typeof v !== 'boolean') this.fail('bool must be a boolean', v);
    if (this.at + 4 > this.bytes.length) this.grow(4);
    this.dv.setInt32(this.at, v ? 1 : 0);
    this.at += 4;
  }

  // Runs of fixed-size fields: generated encoders claim the whole run at once
  // and write each field at its offset, so the room check and the cursor
  // update happen once per run instead of once per field. The `*At` writes
  // take the view (`data`, read once per run) as an argument. The checks on
  // each value stay; an error names the field's own offset.

  /** Room for `n` bytes at the cursor, which moves past them; returns their offset for the `*At` writes. */
  claim(n: number): number {
    if (this.at + n > this.bytes.length) this.grow(n);
    const p = this.at;
    this.at = p + n;
    return p;
  }

  /**
   * The cursor as an offset in `raw` and `data`, for an encoder that writes
   * through a cursor of its own, checks for room against `raw.length` itself
   * and hands the cursor back with moveTo(). Bytes it writes past the cursor it
   * hands back are never part of the message.
   */
  get cursor(): number {
    return this.at;
  }

  /**
   * Moves the cursor to `p`, an offset in `raw` at or after what `cursor` or
   * claim() gave. An offset that is not a whole number between the start of
   * the current message and the end of the buffer throws an XdrError: any
   * later write would land outside the message or the buffer.
   */
  moveTo(p: number): void {
    // Written so that NaN fails too; the message is built out of line to keep this inlinable.
    if (!(p >= this.base && p <= this.bytes.length && (p | 0) === p))
      moveRefused(p, this.base, this.bytes.length, this.pos);
    this.at = p;
  }

  /**
   * A DataView of the whole buffer, at the offsets claim() returns: what the
   * `*At` writes take. Valid until the next claim or write, which may grow the
   * buffer. Generated encoders read it once per run and pass it on: a view in a
   * local costs less than one read from the writer per field.
   */
  get data(): DataView {
    return this.dv;
  }

  /** The whole buffer as bytes, at the offsets claim() returns; valid as long as `data`. */
  get raw(): Uint8Array {
    return this.bytes;
  }

  private failAt(what: string, v: unknown, p: number): never {
    throw new XdrError(`${what}: ${describe(v)}`, p - this.base);
  }

  /** Writes a signed 32-bit int at byte offset `p` of space already claimed. */
  intAt(dv: DataView, p: number, v: number): void {
    if (typeof v !== 'number' || (v | 0) !== v) this.failAt('int out of range', v, p);
    dv.setInt32(p, v);
  }

  /** Writes an unsigned 32-bit int at byte offset `p` of space already claimed. */
  uintAt(dv: DataView, p: number, v: number): void {
    if (typeof v !== 'number' || v >>> 0 !== v) this.failAt('unsigned int out of range', v, p);
    dv.setUint32(p, v);
  }

  /** Writes a signed 64-bit hyper at byte offset `p` of space already claimed. */
  hyperAt(dv: DataView, p: number, v: bigint): void {
    if (typeof v !== 'bigint' || BigInt.asIntN(64, v) !== v) {
      this.failAt('hyper must be a bigint in 64-bit signed range', v, p);
    }
    dv.setBigInt64(p, v);
  }

  /** Writes an unsigned 64-bit hyper at byte offset `p` of space already claimed. */
  uhyperAt(dv: DataView, p: number, v: bigint): void {
    if (typeof v !== 'bigint' || BigInt.asUintN(64, v) !== v) {
      this.failAt('unsigned hyper must be a bigint in 64-bit unsigned range', v, p);
    }
    dv.setBigUint64(p, v);
  }

  /** Writes a 32-bit float at byte offset `p` of space already claimed. */
  floatAt(dv: DataView, p: number, v: number): void {
    if (typeof v !== 'number') this.failAt('float must be a number', v, p);
    dv.setFloat32(p, v);
  }

  /** Writes a 64-bit double at byte offset `p` of space already claimed. */
  doubleAt(dv: DataView, p: number, v: number): void {
    if (typeof v !== 'number') this.failAt('double must be a number', v, p);
    dv.setFloat64(p, v);
  }

  /** Writes a bool (as an int) at byte offset `p` of space already claimed. */
  boolAt(dv: DataView, p: number, v: boolean): void {
    if (typeof v !== 'boolean') this.failAt('bool must be a boolean', v, p);
    dv.setInt32(p, v ? 1 : 0);
  }

  /** A fixed opaque of `n` bytes (a multiple of four, as the generator ensures) at `p`. */
  fixedOpaqueAt(dv: DataView, p: number, v: Uint8Array, n: number): void {
    if (!(v instanceof Uint8Array)) this.failAt('opaque must be a Uint8Array', v, p);
    if (v.length !== n)
      throw new XdrError(`fixed opaque needs ${n} bytes, got ${v.length}`, p - this.base);
    if (n === 16) {
      // A UUID, the common case: after inlining `n` is a constant and this is straight-line code.
      dv.setInt32(p, (v[0]! << 24) | (v[1]! << 16) | (v[2]! << 8) | v[3]!);
      dv.setInt32(p + 4, (v[4]! << 24) | (v[5]! << 16) | (v[6]! << 8) | v[7]!);
      dv.setInt32(p + 8, (v[8]! << 24) | (v[9]! << 16) | (v[10]! << 8) | v[11]!);
      dv.setInt32(p + 12, (v[12]! << 24) | (v[13]! << 16) | (v[14]! << 8) | v[15]!);
      return;
    }
    for (let i = 0; i < n; i += 4) {
      dv.setInt32(p + i, (v[i]! << 24) | (v[i + 1]! << 16) | (v[i + 2]! << 8) | v[i + 3]!);
    }
  }

  /** The presence word of optional data (`T *x`); returns whether `v` is present. */
  writePresent<T>(v: T | null | undefined): v is T {
    const present = v !== null && v !== undefined;
    if (this.at + 4 > this.bytes.length) this.grow(4);
    this.dv.setInt32(this.at, present ? 1 : 0);
    this.at += 4;
    return present;
  }

  /** Writes the count of a variable-length array after checking it against `max`. */
  writeLength(n: number, max: number): void {
    if (!Number.isInteger(n) || n < 0 || n > max) this.failLength(n, max);
    if (this.at + 4 > this.bytes.length) this.grow(4);
    this.dv.setUint32(this.at, n);
    this.at += 4;
  }

  private failLength(n: number, max: number): never {
    if (!Number.isInteger(n) || n < 0)
      throw new XdrError(`length must be a non-negative integer, got ${n}`, this.pos);
    throw new XdrError(`length ${n} exceeds bound ${max}`, this.pos);
  }

  /** Checks a fixed-length array's length. */
  checkFixed(n: number, want: number): void {
    if (n !== want) throw new XdrError(`fixed array needs ${want} elements, got ${n}`, this.pos);
  }

  /** `n` bytes of `v` at the cursor, then zero padding; room for both is ensured. */
  private putBytes(v: Uint8Array, n: number): void {
    const padded = (n + 3) & ~3;
    if (this.at + padded > this.bytes.length) this.grow(padded);
    const p = this.at;
    this.at = p + padded;
    if (n > SHORT_OPAQUE || (n & 3) !== 0) {
      this.putOther(v, n, p, padded);
      return;
    }
    // Short opaques of whole words (UUIDs) go four bytes per store: TypedArray#set
    // is a builtin call that costs more than the copy itself at this size.
    const dv = this.dv;
    for (let i = 0; i < n; i += 4) {
      dv.setInt32(p + i, (v[i]! << 24) | (v[i + 1]! << 16) | (v[i + 2]! << 8) | v[i + 3]!);
    }
  }

  /** The rest of putBytes, kept out of line so that its short path stays small enough to inline. */
  private putOther(v: Uint8Array, n: number, p: number, padded: number): void {
    const b = this.bytes;
    if (n > SHORT_OPAQUE) b.set(v, p);
    else for (let i = 0; i < n; i++) b[p + i] = v[i]!;
    for (let i = n; i < padded; i++) b[p + i] = 0;
  }

  /** Exactly `n` opaque bytes and their padding. */
  writeFixedOpaque(v: Uint8Array, n: number): void {
    if (!(v instanceof Uint8Array)) this.fail('opaque must be a Uint8Array', v);
    if (v.length !== n)
      throw new XdrError(`fixed opaque needs ${n} bytes, got ${v.length}`, this.pos);
    this.putBytes(v, n);
  }

  /** Variable-length opaque data of at most `max` bytes. */
  writeOpaque(v: Uint8Array, max: number): void {
    if (!(v instanceof Uint8Array)) this.fail('opaque must be a Uint8Array', v);
    this.writeLength(v.length, max);
    this.putBytes(v, v.length);
  }

  /** A UTF-8 string of at most `max` bytes. */
  writeString(v: string, max: number): void {
    if (typeof v !== 'string') this.fail('string expected', v);
    const len = v.length;
    // UTF-8 never takes fewer bytes than UTF-16 units: refuse before growing the buffer.
    if (len > max)
      throw new XdrError(`string of at least ${len} bytes exceeds bound ${max}`, this.pos);
    // Worst case 3 bytes per UTF-16 unit plus padding.
    if (this.at + 4 + len * 3 + 3 > this.bytes.length) this.grow(4 + len * 3 + 3);
    const start = this.at;
    const b = this.bytes;
    let p = start + 4;
    let i = 0;
    if (len <= SHORT_STRING) {
      // Short ASCII (names, field names: the common case) is written inline.
      for (; i < len; i++) {
        const c = v.charCodeAt(i);
        if (c > 0x7f) break;
        b[p++] = c;
      }
    }
    if (i < len) p = this.putUtf8(v, i, p, max);
    const n = p - start - 4;
    this.dv.setUint32(start, n);
    while ((p & 3) !== (start & 3)) b[p++] = 0;
    this.at = p;
  }

  /**
   * `v` from UTF-16 unit `i` on as UTF-8 at `p` (a long string whole, a short
   * one from its first non-ASCII unit); returns the end offset.
   */
  private putUtf8(v: string, i: number, p: number, max: number): number {
    const start = this.at;
    // A lone surrogate would be replaced by U+FFFD and read back as something else.
    if (!v.isWellFormed())
      throw new XdrError('string contains a lone surrogate (not valid Unicode)', start - this.base);
    const rest = i === 0 ? v : v.slice(i);
    const end = p + utf8.encodeInto(rest, this.bytes.subarray(p)).written;
    const n = end - start - 4;
    if (n > max) throw new XdrError(`string of ${n} bytes exceeds bound ${max}`, start - this.base);
    return end;
  }
}
