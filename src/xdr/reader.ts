import { XdrError } from './errors.js';

// ignoreBOM: a leading U+FEFF is data, not a marker to strip (round trips must be exact).
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
/** Below this length a JS loop beats TextDecoder's call overhead for ASCII. */
const SHORT_STRING = 48;
const STRING_CACHE_SIZE = 4096;
/** Shared by all readers: strings are immutable, so handing out the same one twice is safe. */
const stringCache: Array<string | undefined> = new Array(STRING_CACHE_SIZE);

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
    checkRange(buf, start, end);
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = start;
    this.end = end;
  }

  /** Points the reader at another range; reuses the DataView when the buffer is the same. */
  reset(buf: Uint8Array, start = 0, end = buf.length): this {
    checkRange(buf, start, end);
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
    const s = n <= SHORT_STRING ? this.shortString(p, n) : this.decodeUtf8(p, n);
    this.skipPadding(n);
    return s;
  }

  /**
   * Short strings repeat a lot on the wire (typed-parameter field names, domain
   * names, XML-less identifiers): an ASCII string is looked up in a small cache
   * keyed by a hash of its bytes before a new string is made.
   */
  private shortString(p: number, n: number): string {
    const b = this.buf;
    let h = n;
    for (let i = p; i < p + n; i++) {
      const c = b[i]!;
      if (c > 0x7f) return this.decodeUtf8(p, n);
      h = Math.imul(h ^ c, 0x01000193);
    }
    const slot = (h >>> 20) & (STRING_CACHE_SIZE - 1);
    const hit = stringCache[slot];
    if (hit !== undefined && hit.length === n) {
      let same = true;
      for (let i = 0; i < n; i++) {
        if (hit.charCodeAt(i) !== b[p + i]) {
          same = false;
          break;
        }
      }
      if (same) return hit;
    }
    let s = '';
    let i = p;
    const end = p + n;
    // Four characters per call: far fewer intermediate strings than one per byte.
    for (; i + 4 <= end; i += 4) s += String.fromCharCode(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!);
    for (; i < end; i++) s += String.fromCharCode(b[i]!);
    stringCache[slot] = s;
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

function checkRange(buf: Uint8Array, start: number, end: number): void {
  if (
    !(
      Number.isInteger(start) &&
      Number.isInteger(end) &&
      start >= 0 &&
      start <= end &&
      end <= buf.length
    )
  ) {
    throw new XdrError(`range ${start}..${end} is not within a buffer of ${buf.length} bytes`);
  }
}
