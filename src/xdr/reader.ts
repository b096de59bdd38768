import { XdrError } from './errors.js';

// ignoreBOM: a leading U+FEFF is data, not a marker to strip (round trips must be exact).
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
/** Strings up to this many bytes go through the cache below; longer ones through TextDecoder. */
const SHORT_STRING = 64;
/** Int32 words per cache slot: a longest short string, zero-padded to whole words. */
const SLOT_WORDS = SHORT_STRING / 4;
/** Cache slots (a power of two); slot pairs (2k, 2k+1) form one two-way set. */
const STRING_CACHE_SIZE = 4096;
/**
 * Shared by all readers: strings are immutable, so handing out the same one
 * twice is safe. Each slot keeps the string, its byte length and the bytes it
 * was made from (as big-endian words, zero-padded like on the wire), so a hit
 * is proven by comparing a few 32-bit words instead of characters.
 */
const cacheStrings: Array<string | undefined> = new Array(STRING_CACHE_SIZE);
const cacheLengths = new Int32Array(STRING_CACHE_SIZE).fill(-1);
const cacheWords = new Int32Array(STRING_CACHE_SIZE * SLOT_WORDS);

/** A message's first private copy for opaque values to be views of: up to this many bytes. */
const OPAQUE_CHUNK = 4096;
/** Its later copies, when a run of close opaques outlasts the first: up to this many bytes. */
const OPAQUE_CHUNK_MAX = 65536;
/** An opaque at most this many bytes after the previous one counts as part of a dense run. */
const OPAQUE_GAP = 256;
const NO_CHUNK = new ArrayBuffer(0);
/** By `n & 3` of a string's length: the padding bytes of its last big-endian word. */
const PAD_MASK = [0, 0x00ffffff, 0x0000ffff, 0x000000ff];

/**
 * Reads XDR (RFC 4506) values from a byte range. Every read checks bounds;
 * lengths are checked against their declared maximum and against the bytes
 * left before anything is allocated.
 *
 * Opaque values never alias the input buffer, so they stay valid after it is
 * reused. Where opaques come close together (the UUID in each of 1,000
 * listed domains) they are views into private copies of the input: instead of
 * one fresh array per value, the reader copies up to 4 KiB once and hands out
 * `Uint8Array` views of it, which costs a third as much; when the run goes on
 * past that copy, the next one takes the rest of the message, up to 64 KiB
 * (allocating an ArrayBuffer costs about a microsecond whatever its size, so
 * 4 KiB copies cost a domain list a sixth of its decoding time). Several
 * opaques of one message may therefore share an `ArrayBuffer`: `value.buffer`
 * can hold other bytes of the same message, and keeping a 16-byte UUID keeps
 * its copy alive (up to 4 KiB, or 64 KiB for one from a long run). Use
 * `value.slice()` for a stand-alone copy. A lone opaque, and one over 2 KiB,
 * gets a copy of exactly its own bytes.
 */
export class XdrReader {
  buf: Uint8Array;
  view: DataView;
  pos: number;
  end: number;
  /** Private copy of input bytes `[chunkStart, chunkEnd)` that opaque values are views of. */
  private chunk: ArrayBuffer = NO_CHUNK;
  private chunkStart = 0;
  private chunkEnd = -1;
  /** Size of the next private copy: OPAQUE_CHUNK for a message's first, then OPAQUE_CHUNK_MAX. */
  private chunkSize = OPAQUE_CHUNK;
  /** End of the last opaque that was not a view of `chunk`: tells dense opaques from lone ones. */
  private lastOpaqueEnd = -OPAQUE_GAP - 1;

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
    this.chunk = NO_CHUNK;
    this.chunkEnd = -1;
    this.chunkSize = OPAQUE_CHUNK;
    this.lastOpaqueEnd = -OPAQUE_GAP - 1;
    return this;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  // The hot paths below are kept small so that V8 inlines them into the
  // generated codecs; building error messages lives out of line in fail*().

  private need(n: number, what: string): number {
    const p = this.pos;
    if (p + n > this.end) this.failTruncated(what, n);
    this.pos = p + n;
    return p;
  }

  private failTruncated(what: string, n: number): never {
    throw new XdrError(`truncated ${what}: need ${n} bytes, ${this.end - this.pos} left`, this.pos);
  }

  /** Throws unless every byte of the range was consumed. */
  done(): void {
    if (this.pos !== this.end) {
      throw new XdrError(`${this.end - this.pos} unexpected trailing bytes`, this.pos);
    }
  }

  /** A signed 32-bit integer. */
  readInt(): number {
    return this.view.getInt32(this.need(4, 'int'));
  }

  /** An unsigned 32-bit integer. */
  readUint(): number {
    return this.view.getUint32(this.need(4, 'unsigned int'));
  }

  /** A signed 64-bit integer. */
  readHyper(): bigint {
    return this.view.getBigInt64(this.need(8, 'hyper'));
  }

  /** An unsigned 64-bit integer. */
  readUhyper(): bigint {
    return this.view.getBigUint64(this.need(8, 'unsigned hyper'));
  }

  /** A 32-bit IEEE float. */
  readFloat(): number {
    return this.view.getFloat32(this.need(4, 'float'));
  }

  /** A 64-bit IEEE float. */
  readDouble(): number {
    return this.view.getFloat64(this.need(8, 'double'));
  }

  /** A bool: 0 or 1, anything else is an XdrError. */
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
    if (n > max || n * minElementSize > this.end - this.pos)
      this.failLength(p, n, max, minElementSize);
    return n;
  }

  private failLength(p: number, n: number, max: number, minElementSize: number): never {
    if (n > max) throw new XdrError(`length ${n} exceeds bound ${max}`, p);
    throw new XdrError(
      `length ${n} needs at least ${n * minElementSize} bytes, ${this.end - this.pos} left`,
      p,
    );
  }

  /** Skips the zero padding after `n` bytes of opaque data or string, which must end at `pos`. */
  private skipPadding(n: number): void {
    if ((n & 3) === 0) return;
    const pad = 4 - (n & 3);
    const p = this.need(pad, 'padding');
    this.checkPadding(p, p + pad);
  }

  /** `n` opaque bytes and their padding. */
  readFixedOpaque(n: number): Uint8Array {
    const p = this.need(n, 'opaque');
    const out =
      p >= this.chunkStart && p + n <= this.chunkEnd
        ? new Uint8Array(this.chunk, p - this.chunkStart, n)
        : this.opaqueSlow(p, n);
    this.skipPadding(n);
    return out;
  }

  /**
   * An opaque outside the current private copy. When opaques come close
   * together (the UUIDs of a domain list) a new shared copy starts here;
   * a lone one (a UUID between long stats records) gets an exact copy, which
   * is cheaper than copying 4 KiB it would not use.
   */
  private opaqueSlow(p: number, n: number): Uint8Array {
    const dense = p - this.lastOpaqueEnd <= OPAQUE_GAP;
    this.lastOpaqueEnd = p + n;
    if (!dense || n > OPAQUE_CHUNK / 2) {
      const out = new Uint8Array(n);
      const b = this.buf;
      for (let i = 0; i < n; i++) out[i] = b[p + i]!;
      return out;
    }
    const len = Math.min(this.chunkSize, this.end - p);
    this.chunkSize = OPAQUE_CHUNK_MAX;
    // Not buf.slice(): on a Node Buffer that is a view of the same memory, not a copy.
    const copy = new Uint8Array(len);
    copy.set(this.buf.subarray(p, p + len));
    this.chunk = copy.buffer;
    this.chunkStart = p;
    this.chunkEnd = p + len;
    // The run goes on to the end of this copy: an opaque close after it starts the next copy.
    this.lastOpaqueEnd = this.chunkEnd;
    return new Uint8Array(this.chunk, 0, n);
  }

  /** Variable-length opaque data of at most `max` bytes. */
  readOpaque(max: number): Uint8Array {
    const n = this.readLength(max, 1);
    return this.readFixedOpaque(n);
  }

  /** A UTF-8 string of at most `max` bytes. */
  readString(max: number): string {
    const v = this.view;
    const at = this.pos;
    if (at + 4 > this.end) this.failTruncated('length', 4);
    const n = v.getUint32(at);
    const p = at + 4;
    if (n > max || n > this.end - p) {
      this.pos = p;
      this.failLength(at, n, max, 1);
    }
    const stop = p + ((n + 3) & ~3);
    if (stop > this.end) {
      this.pos = p + n;
      this.failTruncated('padding', stop - p - n);
    }
    this.pos = stop;
    if (n > SHORT_STRING) {
      this.checkPadding(p + n, stop);
      return this.decodeUtf8(p, n);
    }
    // Short strings repeat a lot on the wire (typed-parameter field names,
    // domain names, device names): an ASCII one is looked up in a small
    // two-way cache keyed by a hash of its bytes before a new string is made.
    // Hashing, the padding check and the hit check read four bytes at a time.
    let h = n;
    let high = 0;
    let w = 0;
    for (let i = p; i < stop; i += 4) {
      w = v.getInt32(i);
      high |= w;
      h = Math.imul(h ^ w, 0x9e3779b1);
      h ^= h >>> 16;
    }
    // The last word holds the padding in its low-order bytes: all must be zero.
    if ((n & 3) !== 0 && (w & PAD_MASK[n & 3]!) !== 0) this.checkPadding(p + n, stop);
    if ((high & 0x80808080) !== 0) return this.decodeUtf8(p, n);
    const set = h & (STRING_CACHE_SIZE - 2);
    // Either slot of the set may hold it; a hit compares the cached words.
    for (let slot = set; slot <= set + 1; slot++) {
      if (cacheLengths[slot] !== n) continue;
      let k = slot * SLOT_WORDS;
      let i = p;
      while (i < stop && cacheWords[k] === v.getInt32(i)) {
        k++;
        i += 4;
      }
      if (i === stop) return cacheStrings[slot]!;
    }
    return this.newShortString(p, n, stop, set);
  }

  /** Throws on the first non-zero byte of `[from, stop)`, the padding after a string. */
  private checkPadding(from: number, stop: number): void {
    const b = this.buf;
    for (let i = from; i < stop; i++) {
      if (b[i] !== 0) throw new XdrError('non-zero padding byte', i);
    }
  }

  /** A cache miss: makes the string and caches it in the first slot of its set. */
  private newShortString(p: number, n: number, stop: number, set: number): string {
    const b = this.buf;
    const v = this.view;
    let s = '';
    let i = p;
    const end = p + n;
    // Four characters per call: far fewer intermediate strings than one per byte.
    for (; i + 4 <= end; i += 4) s += String.fromCharCode(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!);
    for (; i < end; i++) s += String.fromCharCode(b[i]!);
    // The string it displaces moves to the set's second slot, evicting the older one.
    const other = set + 1;
    if (cacheLengths[set] !== -1) {
      cacheStrings[other] = cacheStrings[set];
      cacheLengths[other] = cacheLengths[set]!;
      cacheWords.copyWithin(other * SLOT_WORDS, set * SLOT_WORDS, (set + 1) * SLOT_WORDS);
    }
    cacheStrings[set] = s;
    cacheLengths[set] = n;
    let k = set * SLOT_WORDS;
    for (let j = p; j < stop; j += 4) cacheWords[k++] = v.getInt32(j);
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
