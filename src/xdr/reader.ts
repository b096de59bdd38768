import { XdrError } from './errors.js';

// ignoreBOM: a leading U+FEFF is data, not a marker to strip (round trips must be exact).
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
/** Below this length a JS loop beats TextDecoder's call overhead for ASCII. */
const SHORT_STRING = 32;

/**
 * Reads XDR (RFC 4506) values from a byte range. Every read checks bounds;
 * lengths are checked against their declared maximum and against the bytes
 * left before anything is allocated. Returned byte arrays are copies, so they
 * stay valid after the underlying buffer is reused.
 */
export class XdrReader {
  buf: Uint8Array;
  view: DataView;
  pos: number;
  end: number;

  constructor(buf: Uint8Array = new Uint8Array(0), start = 0, end = buf.length) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = start;
    this.end = end;
  }

  /** Points the reader at another range; reuses the DataView when the buffer is the same. */
  reset(buf: Uint8Array, start = 0, end = buf.length): this {
    if (buf !== this.buf) {
      this.buf = buf;
      this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    this.pos = start;
    this.end = end;
    return this;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string): number {
    const p = this.pos;
    if (p + n > this.end) {
      throw new XdrError(`truncated ${what}: need ${n} bytes, ${this.end - p} left`, p);
    }
    this.pos = p + n;
    return p;
  }

  /** Throws unless every byte of the range was consumed. */
  done(): void {
    if (this.pos !== this.end) {
      throw new XdrError(`${this.end - this.pos} unexpected trailing bytes`, this.pos);
    }
  }

  readInt(): number {
    return this.view.getInt32(this.need(4, 'int'));
  }

  readUint(): number {
    return this.view.getUint32(this.need(4, 'unsigned int'));
  }

  readHyper(): bigint {
    return this.view.getBigInt64(this.need(8, 'hyper'));
  }

  readUhyper(): bigint {
    return this.view.getBigUint64(this.need(8, 'unsigned hyper'));
  }

  readFloat(): number {
    return this.view.getFloat32(this.need(4, 'float'));
  }

  readDouble(): number {
    return this.view.getFloat64(this.need(8, 'double'));
  }

  readBool(): boolean {
    const p = this.need(4, 'bool');
    const v = this.view.getInt32(p);
    if (v === 0) return false;
    if (v === 1) return true;
    throw new XdrError(`bool must be 0 or 1, got ${v}`, p);
  }

  /** The presence word of optional data (`T *x`). */
  readPresent(): boolean {
    const p = this.need(4, 'optional flag');
    const v = this.view.getInt32(p);
    if (v === 0) return false;
    if (v === 1) return true;
    throw new XdrError(`optional-data flag must be 0 or 1, got ${v}`, p);
  }

  /**
   * A variable-length count bounded by `max`. `minElementSize` is the least
   * number of bytes each element takes on the wire, so a count that could not
   * possibly fit in what is left is refused before the caller allocates.
   */
  readLength(max: number, minElementSize = 4): number {
    const p = this.need(4, 'length');
    const n = this.view.getUint32(p);
    if (n > max) throw new XdrError(`length ${n} exceeds bound ${max}`, p);
    if (n * minElementSize > this.end - this.pos) {
      throw new XdrError(
        `length ${n} needs at least ${n * minElementSize} bytes, ${this.end - this.pos} left`,
        p,
      );
    }
    return n;
  }

  private skipPadding(n: number): void {
    const pad = (4 - (n & 3)) & 3;
    if (pad === 0) return;
    const p = this.need(pad, 'padding');
    const b = this.buf;
    for (let i = 0; i < pad; i++) {
      if (b[p + i] !== 0) throw new XdrError('non-zero padding byte', p + i);
    }
  }

  private copyBytes(p: number, n: number): Uint8Array {
    const out = new Uint8Array(n);
    if (n <= 32) {
      const b = this.buf;
      for (let i = 0; i < n; i++) out[i] = b[p + i]!;
    } else {
      out.set(this.buf.subarray(p, p + n));
    }
    return out;
  }

  readFixedOpaque(n: number): Uint8Array {
    const p = this.need(n, 'opaque');
    const out = this.copyBytes(p, n);
    this.skipPadding(n);
    return out;
  }

  readOpaque(max: number): Uint8Array {
    const n = this.readLength(max, 1);
    return this.readFixedOpaque(n);
  }

  readString(max: number): string {
    const n = this.readLength(max, 1);
    const p = this.need(n, 'string');
    let s = '';
    if (n <= SHORT_STRING) {
      const b = this.buf;
      let ascii = true;
      for (let i = p; i < p + n; i++) {
        const c = b[i]!;
        if (c > 0x7f) {
          ascii = false;
          break;
        }
        s += String.fromCharCode(c);
      }
      if (!ascii) s = this.decodeUtf8(p, n);
    } else {
      s = this.decodeUtf8(p, n);
    }
    this.skipPadding(n);
    return s;
  }

  private decodeUtf8(p: number, n: number): string {
    try {
      return utf8.decode(this.buf.subarray(p, p + n));
    } catch (err) {
      throw new XdrError('string is not valid UTF-8', p, { cause: err });
    }
  }
}
