import { XdrError } from './errors.js';

const utf8 = new TextEncoder();

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'bigint') return `${v}n`;
  if (v instanceof Uint8Array) return `Uint8Array(${v.length})`;
  if (Array.isArray(v)) return `array(${v.length})`;
  if (typeof v === 'object' && v !== null) return 'an object';
  return typeof v === 'symbol' ? v.toString() : String(v);
}

/**
 * Writes XDR into one growable buffer, reused between messages: `reset()`
 * rewinds it, `finish()` hands out a copy of what was written. Every value is
 * checked against its XDR type and declared bound before it is written.
 */
export class XdrWriter {
  buf: Uint8Array;
  view: DataView;
  pos = 0;

  constructor(initialSize = 65536) {
    this.buf = new Uint8Array(initialSize);
    this.view = new DataView(this.buf.buffer);
  }

  reset(): this {
    this.pos = 0;
    return this;
  }

  /** Makes room for `n` more bytes, doubling the buffer as needed. */
  ensure(n: number): void {
    const want = this.pos + n;
    if (want <= this.buf.length) return;
    let size = this.buf.length * 2 || 64;
    while (size < want) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** A copy of the bytes written so far. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  /** A view of the bytes written so far, valid only until the next write or reset. */
  peek(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  /** Skips `n` bytes to be filled in later with a `patch*` call; returns their offset. */
  reserve(n: number): number {
    this.ensure(n);
    const p = this.pos;
    this.pos += n;
    return p;
  }

  patchUint(offset: number, v: number): void {
    this.view.setUint32(offset, v);
  }

  writeInt(v: number): void {
    if (typeof v !== 'number' || (v | 0) !== v)
      throw new XdrError(`int out of range: ${describe(v)}`, this.pos);
    this.ensure(4);
    this.view.setInt32(this.pos, v);
    this.pos += 4;
  }

  writeUint(v: number): void {
    if (typeof v !== 'number' || v >>> 0 !== v)
      throw new XdrError(`unsigned int out of range: ${describe(v)}`, this.pos);
    this.ensure(4);
    this.view.setUint32(this.pos, v);
    this.pos += 4;
  }

  writeHyper(v: bigint): void {
    if (typeof v !== 'bigint' || BigInt.asIntN(64, v) !== v) {
      throw new XdrError(`hyper must be a bigint in 64-bit signed range: ${describe(v)}`, this.pos);
    }
    this.ensure(8);
    this.view.setBigInt64(this.pos, v);
    this.pos += 8;
  }

  writeUhyper(v: bigint): void {
    if (typeof v !== 'bigint' || BigInt.asUintN(64, v) !== v) {
      throw new XdrError(
        `unsigned hyper must be a bigint in 64-bit unsigned range: ${describe(v)}`,
        this.pos,
      );
    }
    this.ensure(8);
    this.view.setBigUint64(this.pos, v);
    this.pos += 8;
  }

  writeFloat(v: number): void {
    if (typeof v !== 'number')
      throw new XdrError(`float must be a number: ${describe(v)}`, this.pos);
    this.ensure(4);
    this.view.setFloat32(this.pos, v);
    this.pos += 4;
  }

  writeDouble(v: number): void {
    if (typeof v !== 'number')
      throw new XdrError(`double must be a number: ${describe(v)}`, this.pos);
    this.ensure(8);
    this.view.setFloat64(this.pos, v);
    this.pos += 8;
  }

  writeBool(v: boolean): void {
    if (typeof v !== 'boolean')
      throw new XdrError(`bool must be a boolean: ${describe(v)}`, this.pos);
    this.ensure(4);
    this.view.setInt32(this.pos, v ? 1 : 0);
    this.pos += 4;
  }

  /** The presence word of optional data (`T *x`); returns whether `v` is present. */
  writePresent<T>(v: T | null | undefined): v is T {
    const present = v !== null && v !== undefined;
    this.ensure(4);
    this.view.setInt32(this.pos, present ? 1 : 0);
    this.pos += 4;
    return present;
  }

  /** Writes the count of a variable-length array after checking it against `max`. */
  writeLength(n: number, max: number): void {
    if (!Number.isInteger(n) || n < 0)
      throw new XdrError(`length must be a non-negative integer, got ${n}`, this.pos);
    if (n > max) throw new XdrError(`length ${n} exceeds bound ${max}`, this.pos);
    this.ensure(4);
    this.view.setUint32(this.pos, n);
    this.pos += 4;
  }

  /** Checks a fixed-length array's length. */
  checkFixed(n: number, want: number): void {
    if (n !== want) throw new XdrError(`fixed array needs ${want} elements, got ${n}`, this.pos);
  }

  private pad(n: number): void {
    const pad = (4 - (n & 3)) & 3;
    if (pad === 0) return;
    this.ensure(pad);
    const b = this.buf;
    for (let i = 0; i < pad; i++) b[this.pos++] = 0;
  }

  writeFixedOpaque(v: Uint8Array, n: number): void {
    if (!(v instanceof Uint8Array)) {
      throw new XdrError(`opaque must be a Uint8Array: ${describe(v)}`, this.pos);
    }
    if (v.length !== n)
      throw new XdrError(`fixed opaque needs ${n} bytes, got ${v.length}`, this.pos);
    this.ensure(n);
    this.buf.set(v, this.pos);
    this.pos += n;
    this.pad(n);
  }

  writeOpaque(v: Uint8Array, max: number): void {
    if (!(v instanceof Uint8Array)) {
      throw new XdrError(`opaque must be a Uint8Array: ${describe(v)}`, this.pos);
    }
    this.writeLength(v.length, max);
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
    this.pad(v.length);
  }

  writeString(v: string, max: number): void {
    if (typeof v !== 'string') throw new XdrError(`string expected: ${describe(v)}`, this.pos);
    const len = v.length;
    // UTF-8 never takes fewer bytes than UTF-16 units: refuse before growing the buffer.
    if (len > max)
      throw new XdrError(`string of at least ${len} bytes exceeds bound ${max}`, this.pos);
    // Worst case 3 bytes per UTF-16 unit; ASCII (the common case) is written inline.
    this.ensure(4 + len * 3 + 3);
    const start = this.pos;
    const b = this.buf;
    let p = start + 4;
    let i = 0;
    for (; i < len; i++) {
      const c = v.charCodeAt(i);
      if (c > 0x7f) break;
      b[p++] = c;
    }
    if (i < len) {
      // A lone surrogate would be replaced by U+FFFD and read back as something else.
      if (!v.isWellFormed())
        throw new XdrError('string contains a lone surrogate (not valid Unicode)', start);
      p += utf8.encodeInto(v.slice(i), b.subarray(p)).written;
    }
    const n = p - start - 4;
    if (n > max) throw new XdrError(`string of ${n} bytes exceeds bound ${max}`, start);
    this.view.setUint32(start, n);
    this.pos = p;
    this.pad(n);
  }
}
