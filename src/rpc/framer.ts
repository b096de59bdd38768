import {
  VIR_NET_MESSAGE_HEADER_MAX,
  VIR_NET_MESSAGE_LEN_MAX,
  VIR_NET_MESSAGE_MAX,
} from '../generated/virnet.js';
import { ProtocolError } from './errors.js';
import { PACKET_BYTES, PacketPool } from './packet-pool.js';

/** Bytes of the length word that starts every message (it counts itself). */
export const LENGTH_WORD = VIR_NET_MESSAGE_LEN_MAX;
/** Bytes of the header after the length word (virNetMessageHeader: six 4-byte fields). */
export const HEADER = VIR_NET_MESSAGE_HEADER_MAX;
/** The smallest legal message: length word plus header. */
export const MIN_MESSAGE = LENGTH_WORD + HEADER;
/** Size of the buffer small messages are read into. */
const SMALL_BUFFER = 64 * 1024;
/**
 * A message longer than this that spans reads gets a buffer of its own (a
 * pool buffer up to PACKET_BYTES, one of exactly its size beyond), where the
 * rest of it is read without a copy; shorter ones are completed in the small
 * buffer. At most a quarter of it, so that moving a partial message to its
 * start always leaves room for the whole message.
 */
const LARGE = SMALL_BUFFER / 4;

/**
 * What the framer calls with each message: a view that is only valid during
 * the call, unless `owned` (the bytes are in a buffer of their own). Returning
 * true keeps an owned buffer: the framer then never touches it again, and the
 * consumer may give it to `pool.release` when done with it.
 */
export type OnMessage = (msg: Uint8Array, owned: boolean) => unknown;

/**
 * Splits a byte stream into whole libvirt messages, copying as little as it can.
 *
 * Bytes come either from a channel that reads into memory the framer chooses
 * (`readTarget()`: the socket reads in place, nothing is copied) or as chunks
 * of someone else's memory (`push`), of which only the unfinished tail is
 * copied. Small messages are read into one reused 64 KiB buffer and handed out
 * as views of it, several per read. A message that spans reads and is longer
 * than LARGE gets its own buffer and the rest of it is read straight into
 * that buffer, in reads that end at its last byte; after such a message the
 * next read takes a header alone, so that the next stream packet's 262 KiB
 * land in place too (a download then costs no copy between socket and
 * consumer). A length word that cannot hold a header, or whose rest exceeds
 * the maximum, is refused before anything is allocated.
 */
export class Framer {
  /** Reused buffer for small messages: unparsed bytes are small[start, end). */
  private readonly small = new Uint8Array(SMALL_BUFFER);
  private start = 0;
  private end = 0;
  /** The large message being filled, its length, and bytes filled. */
  private large: Uint8Array | null = null;
  private largeLen = 0;
  private filled = 0;
  /** A pool buffer the last consumer gave back, for the next large message. */
  private spare: Uint8Array | null = null;
  /** The last message was large: read the next header alone. */
  private expectLarge = false;
  /** The memory last returned by readTarget(), which an in-place read fills. */
  private target: Uint8Array | null = null;

  constructor(
    private readonly onMessage: OnMessage,
    private readonly maxMessage = VIR_NET_MESSAGE_MAX,
    /** Where large-message buffers come from, and where consumers give them back. */
    readonly pool: PacketPool = new PacketPool(),
  ) {}

  /** True when bytes of an unfinished message are held. */
  get pending(): boolean {
    return this.large !== null || this.end > this.start;
  }

  private checkLength(len: number): void {
    if (len < MIN_MESSAGE) {
      throw new ProtocolError(`message length ${len} cannot hold a ${MIN_MESSAGE}-byte header`);
    }
    if (len - LENGTH_WORD > this.maxMessage) {
      throw new ProtocolError(
        `message length ${len} exceeds the maximum of ${this.maxMessage + LENGTH_WORD}`,
      );
    }
  }

  /**
   * Where the next bytes read should go, for a channel that reads into
   * caller memory (never empty). Handing `push` a view of its start (the
   * bytes read) is an in-place read: nothing is copied.
   */
  readTarget(): Uint8Array {
    let t: Uint8Array;
    if (this.large) {
      t = this.large.subarray(this.filled, this.largeLen);
    } else {
      if (this.start === this.end) this.start = this.end = 0;
      else if (SMALL_BUFFER - this.end < LARGE) this.compact();
      const have = this.end - this.start;
      const stop = this.expectLarge && have < MIN_MESSAGE ? this.start + MIN_MESSAGE : SMALL_BUFFER;
      t = this.small.subarray(this.end, stop);
    }
    this.target = t;
    return t;
  }

  /** Moves the unparsed bytes of the small buffer to its start. */
  private compact(): void {
    this.small.copyWithin(0, this.start, this.end);
    this.end -= this.start;
    this.start = 0;
  }

  push(chunk: Uint8Array): void {
    const t = this.target;
    this.target = null;
    if (
      t !== null &&
      chunk.buffer === t.buffer &&
      chunk.byteOffset === t.byteOffset &&
      chunk.length <= t.length
    ) {
      if (this.large) {
        this.filled += chunk.length;
        if (this.filled === this.largeLen) this.finishLarge();
      } else {
        this.end += chunk.length;
        this.parseSmall();
      }
      return;
    }
    this.pushCopy(chunk);
  }

  /** Bytes in someone else's memory: whole messages are views of it, unfinished ones copied. */
  private pushCopy(chunk: Uint8Array): void {
    let pos = 0;
    const end = chunk.length;
    while (pos < end) {
      if (this.large) {
        const take = Math.min(this.largeLen - this.filled, end - pos);
        this.large.set(chunk.subarray(pos, pos + take), this.filled);
        this.filled += take;
        pos += take;
        if (this.filled === this.largeLen) this.finishLarge();
        continue;
      }
      const have = this.end - this.start;
      if (have > 0) {
        // complete the length word, then (for a short message) the message, in the small buffer
        const need = have < LENGTH_WORD ? LENGTH_WORD - have : this.lengthAt(this.start) - have;
        if (this.start + have + need > SMALL_BUFFER) this.compact();
        const take = Math.min(need, end - pos);
        this.small.set(chunk.subarray(pos, pos + take), this.end);
        this.end += take;
        pos += take;
        this.parseSmall();
        continue;
      }
      const avail = end - pos;
      if (avail < LENGTH_WORD) {
        this.small.set(chunk.subarray(pos, end), 0);
        this.start = 0;
        this.end = avail;
        return;
      }
      const len = this.lengthOf(chunk, pos);
      if (avail >= len) {
        this.expectLarge = false;
        this.onMessage(chunk.subarray(pos, pos + len), false);
        pos += len;
        continue;
      }
      if (len > LARGE) {
        this.beginLarge(len, chunk.subarray(pos, end));
      } else {
        this.small.set(chunk.subarray(pos, end), 0);
        this.start = 0;
        this.end = avail;
      }
      return;
    }
  }

  /** Hands out the whole messages of the small buffer; a long unfinished one moves to its own buffer. */
  private parseSmall(): void {
    const b = this.small;
    while (this.end - this.start >= LENGTH_WORD) {
      const len = this.lengthOf(b, this.start);
      const have = this.end - this.start;
      if (have >= len) {
        this.expectLarge = false;
        const at = this.start;
        this.start += len;
        this.onMessage(b.subarray(at, at + len), false);
        continue;
      }
      if (len > LARGE) {
        this.beginLarge(len, b.subarray(this.start, this.end));
        this.start = this.end = 0;
      }
      break;
    }
    if (this.start === this.end) this.start = this.end = 0;
  }

  /** The length word at `at` (checked; it has already been once, if read before). */
  private lengthAt(at: number): number {
    return this.lengthOf(this.small, at);
  }

  private lengthOf(b: Uint8Array, at: number): number {
    const len = ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
    this.checkLength(len);
    return len;
  }

  /** Starts a message of `len` bytes in a buffer of its own, with its first bytes `head`. */
  private beginLarge(len: number, head: Uint8Array): void {
    let buf: Uint8Array;
    if (len > PACKET_BYTES)
      buf = new Uint8Array(len); // rare giants get exactly their size
    else {
      buf = this.spare ?? this.pool.acquire();
      this.spare = null;
    }
    buf.set(head, 0);
    this.large = buf;
    this.largeLen = len;
    this.filled = head.length;
  }

  private finishLarge(): void {
    const buf = this.large!;
    const len = this.largeLen;
    this.large = null;
    this.expectLarge = true;
    const kept = this.onMessage(buf.subarray(0, len), true) === true;
    if (!kept && buf.length === PACKET_BYTES) this.spare = buf;
  }
}
