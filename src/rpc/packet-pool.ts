import {
  VIR_NET_MESSAGE_HEADER_MAX,
  VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX,
  VIR_NET_MESSAGE_LEN_MAX,
} from '../generated/virnet.js';

/** Bytes of the largest stream packet: length word, header, 262120 bytes of data. */
export const PACKET_BYTES =
  VIR_NET_MESSAGE_LEN_MAX + VIR_NET_MESSAGE_HEADER_MAX + VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX;

/**
 * Buffers of PACKET_BYTES shared by one connection's framer (which reads
 * large messages straight into them) and its streams (which queue and lend
 * them to readers, and give them back once read). Reusing them is the point:
 * on this kind of VM a fresh 256 KiB buffer costs a page fault per 4 KiB on
 * first touch and an munmap when collected, more than the copy it holds.
 * The free list is bounded; buffers beyond it are left to the GC, and a
 * buffer that is never given back is simply replaced.
 */
export class PacketPool {
  private readonly free: ArrayBuffer[] = [];

  constructor(private readonly maxFree = 16) {}

  /** A buffer of PACKET_BYTES; its content is whatever it held last. */
  acquire(): Uint8Array {
    const ab = this.free.pop();
    return ab ? new Uint8Array(ab) : new Uint8Array(PACKET_BYTES);
  }

  /** Gives back the memory under `bytes` (any view of a pool buffer); others are ignored. */
  release(bytes: Uint8Array): void {
    const ab = bytes.buffer;
    // never twice on the list: two owners of one buffer would corrupt each other's data
    if (
      ab.byteLength === PACKET_BYTES &&
      this.free.length < this.maxFree &&
      !this.free.includes(ab as ArrayBuffer)
    ) {
      this.free.push(ab as ArrayBuffer);
    }
  }

  /** Drops the free buffers (nothing is streaming on the connection any more). */
  trim(): void {
    this.free.length = 0;
  }

  /** Buffers on the free list. */
  get size(): number {
    return this.free.length;
  }
}
