import { VIR_NET_MESSAGE_HEADER_MAX, VIR_NET_MESSAGE_MAX } from '../generated/virnet.js';
import { ProtocolError } from './errors.js';

/** Bytes of the length word that starts every message (it counts itself). */
export const LENGTH_WORD = 4;
/** The smallest legal message: length word plus header. */
export const MIN_MESSAGE = LENGTH_WORD + VIR_NET_MESSAGE_HEADER_MAX;

/**
 * Splits a byte stream into whole libvirt messages.
 *
 * A message that arrives whole inside one chunk is handed out as a view of
 * that chunk (no copy); one that spans chunks is assembled into a buffer of
 * exactly its size, allocated once its length word is known. Either way the
 * view passed to `onMessage` is only valid during the call. A length word
 * that cannot hold a header, or whose rest exceeds VIR_NET_MESSAGE_MAX, is
 * refused before anything is allocated.
 */
export class Framer {
  private partial: Uint8Array | null = null;
  private filled = 0;
  private readonly lenBytes = new Uint8Array(LENGTH_WORD);
  private lenFilled = 0;

  constructor(
    private readonly onMessage: (msg: Uint8Array) => void,
    private readonly maxMessage = VIR_NET_MESSAGE_MAX,
  ) {}

  /** True when bytes of an unfinished message are held. */
  get pending(): boolean {
    return this.partial !== null || this.lenFilled > 0;
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

  push(chunk: Uint8Array): void {
    let pos = 0;
    const end = chunk.length;
    while (pos < end) {
      if (this.partial) {
        const take = Math.min(this.partial.length - this.filled, end - pos);
        this.partial.set(chunk.subarray(pos, pos + take), this.filled);
        this.filled += take;
        pos += take;
        if (this.filled < this.partial.length) return;
        const msg = this.partial;
        this.partial = null;
        this.onMessage(msg);
        continue;
      }
      if (this.lenFilled > 0) {
        while (this.lenFilled < LENGTH_WORD && pos < end)
          this.lenBytes[this.lenFilled++] = chunk[pos++]!;
        if (this.lenFilled < LENGTH_WORD) return;
        const b = this.lenBytes;
        const len = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
        this.checkLength(len);
        this.lenFilled = 0;
        this.partial = new Uint8Array(len);
        this.partial.set(b);
        this.filled = LENGTH_WORD;
        continue;
      }
      const avail = end - pos;
      if (avail < LENGTH_WORD) {
        for (; pos < end; pos++) this.lenBytes[this.lenFilled++] = chunk[pos]!;
        return;
      }
      const len =
        ((chunk[pos]! << 24) |
          (chunk[pos + 1]! << 16) |
          (chunk[pos + 2]! << 8) |
          chunk[pos + 3]!) >>>
        0;
      this.checkLength(len);
      if (avail >= len) {
        this.onMessage(chunk.subarray(pos, pos + len));
        pos += len;
        continue;
      }
      this.partial = new Uint8Array(len);
      this.partial.set(chunk.subarray(pos, end));
      this.filled = avail;
      return;
    }
  }
}
