import {
  VIR_NET_MESSAGE_HEADER_MAX,
  VIR_NET_MESSAGE_LEN_MAX,
  VIR_NET_MESSAGE_MAX,
} from '../generated/virnet.js';
import { NotLibvirtError, ProtocolError } from './errors.js';

/** Bytes of the length word that starts every message (it counts itself). */
export const LENGTH_WORD = VIR_NET_MESSAGE_LEN_MAX;
/** Bytes of the header after the length word (virNetMessageHeader: six 4-byte fields). */
export const HEADER = VIR_NET_MESSAGE_HEADER_MAX;
/** The smallest legal message: length word plus header. */
export const MIN_MESSAGE = LENGTH_WORD + HEADER;
/** The largest spanning message whose assembly buffer is kept for reuse (stream packets are 256 KiB). */
const ASSEMBLY_KEEP = 1024 * 1024;
/**
 * A message over ASSEMBLY_KEEP starts in a buffer this large (or as large as
 * its first bytes), which doubles as bytes arrive: memory follows what the
 * peer sent, not what its length word announced.
 */
const GROW_FROM = 64 * 1024;

/**
 * Splits a byte stream into whole libvirt messages.
 *
 * A message that arrives whole inside one chunk is handed out as a view of
 * that chunk (no copy); one that spans chunks is assembled into a reused
 * buffer once its length word is known (one over ASSEMBLY_KEEP goes into a
 * buffer of its own that grows with the bytes that arrive, so a peer that
 * announces 32 MiB and sends nothing costs 64 KiB, not 32 MiB). Either way the view passed to `onMessage` is only
 * valid during the call; `owned` says the bytes are in a buffer nothing else
 * will reuse, so a consumer may keep them without copying. A length word
 * that cannot hold a header, or whose rest exceeds VIR_NET_MESSAGE_MAX, is
 * refused before anything is allocated.
 */
export class Framer {
  private partial: Uint8Array | null = null;
  /** Length of the message being assembled in `partial` (which may still be shorter). */
  private partialLen = 0;
  /**
   * Reused for messages that span chunks, so a long transfer of large
   * messages (stream data) does not allocate a fresh buffer per message.
   * Grows to the largest message seen, up to ASSEMBLY_KEEP bytes.
   */
  private assembly: Uint8Array = new Uint8Array(0);
  private filled = 0;
  private readonly lenBytes = new Uint8Array(LENGTH_WORD);
  private lenFilled = 0;
  /** Until the first message is whole, a bad length word most likely means another protocol answered. */
  private seenMessage = false;

  constructor(
    private readonly onMessage: (msg: Uint8Array, owned: boolean) => void,
    private readonly maxMessage = VIR_NET_MESSAGE_MAX,
  ) {}

  /**
   * Starts assembling a message of `len` bytes, `have` of which are at hand:
   * in the reusable buffer when it fits (or may grow to fit), otherwise in
   * one of its own sized by what arrived (rare giants are not kept).
   */
  private begin(len: number, have: number): Uint8Array {
    this.partialLen = len;
    if (len <= this.assembly.length) return this.assembly.subarray(0, len);
    if (len > ASSEMBLY_KEEP) return new Uint8Array(Math.min(len, Math.max(GROW_FROM, have)));
    this.assembly = new Uint8Array(len);
    return this.assembly;
  }

  /** Makes room in `partial` for `need` bytes: at least doubling, never past the message. */
  private grow(partial: Uint8Array, need: number): Uint8Array {
    const next = new Uint8Array(Math.min(this.partialLen, Math.max(need, partial.length * 2)));
    next.set(partial.subarray(0, this.filled));
    this.partial = next;
    return next;
  }

  /** True when bytes of an unfinished message are held. */
  get pending(): boolean {
    return this.partial !== null || this.lenFilled > 0;
  }

  /**
   * `head`: the peer's first bytes when nothing valid came yet; a refused
   * length then most likely means a different server answered (sshd's banner
   * reads as a 1.3 GB message), which is the error worth reporting.
   */
  private checkLength(len: number, head: () => Uint8Array): void {
    if (len >= MIN_MESSAGE && len - LENGTH_WORD <= this.maxMessage) return;
    // A libvirt length word starts with a zero byte (messages stay under 32 MiB);
    // a printable one is the start of some other protocol's greeting.
    if (!this.seenMessage && len >>> 24 >= 0x20 && len >>> 24 < 0x7f)
      throw new NotLibvirtError(head());
    if (len < MIN_MESSAGE) {
      throw new ProtocolError(`message length ${len} cannot hold a ${MIN_MESSAGE}-byte header`);
    }
    if (len - LENGTH_WORD > this.maxMessage) {
      throw new ProtocolError(
        `message length ${len} exceeds the maximum of ${this.maxMessage + LENGTH_WORD} (maxMessage ${this.maxMessage} + the length word)`,
      );
    }
  }

  push(chunk: Uint8Array): void {
    let pos = 0;
    const end = chunk.length;
    while (pos < end) {
      if (this.partial) {
        const take = Math.min(this.partialLen - this.filled, end - pos);
        let buf = this.partial;
        if (this.filled + take > buf.length) buf = this.grow(buf, this.filled + take);
        buf.set(chunk.subarray(pos, pos + take), this.filled);
        this.filled += take;
        pos += take;
        if (this.filled < this.partialLen) return;
        const msg = buf;
        this.partial = null;
        this.seenMessage = true;
        this.onMessage(msg, msg.buffer !== this.assembly.buffer);
        continue;
      }
      if (this.lenFilled > 0) {
        while (this.lenFilled < LENGTH_WORD && pos < end)
          this.lenBytes[this.lenFilled++] = chunk[pos++]!;
        if (this.lenFilled < LENGTH_WORD) return;
        const b = this.lenBytes;
        const len = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
        this.checkLength(len, () => {
          const h = new Uint8Array(LENGTH_WORD + Math.min(end - pos, NotLibvirtError.SHOWN));
          h.set(b);
          h.set(chunk.subarray(pos, pos + h.length - LENGTH_WORD), LENGTH_WORD);
          return h;
        });
        this.lenFilled = 0;
        this.partial = this.begin(len, LENGTH_WORD);
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
      this.checkLength(len, () => chunk.slice(pos, pos + NotLibvirtError.SHOWN));
      if (avail >= len) {
        this.seenMessage = true;
        this.onMessage(chunk.subarray(pos, pos + len), false);
        pos += len;
        continue;
      }
      this.partial = this.begin(len, avail);
      this.partial.set(chunk.subarray(pos, end));
      this.filled = avail;
      return;
    }
  }
}
