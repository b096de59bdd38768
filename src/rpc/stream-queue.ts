import type { PacketPool } from './packet-pool.js';

/** Accounting weight of a queued packet besides its bytes, so tiny packets still count. */
const ITEM_OVERHEAD = 64;
/** Payloads below this are copied into their own small arrays rather than a pool buffer. */
const SLOT_MIN = 16 * 1024;

/** One piece of a sparse stream: bytes, or a run of `hole` bytes that read as zeros. */
export type StreamChunk =
  | { readonly data: Uint8Array; readonly hole?: undefined }
  | { readonly hole: bigint; readonly data?: undefined };

/** Queued bytes that live in a buffer of the connection's packet pool. */
class Pooled {
  constructor(readonly data: Uint8Array) {}
}

type QueueItem = Uint8Array | Pooled | bigint;

/**
 * What a stream received and nobody has read yet: data and holes in order,
 * with their weight (`weight`) for the stream's high-water mark.
 *
 * Data lives in the connection's packet buffers wherever it can: a large
 * packet the framer read into a buffer of its own is queued as it is (no
 * copy), and data that arrived in the framer's shared buffer is copied into
 * one. A borrowing reader gets views of them, and the buffers go back to the
 * pool at its next read; a copying reader gets to keep them. So a download
 * cycles through a fixed set of buffers instead of promoting a stream of
 * fresh ones to the old generation, or faulting in fresh pages per packet.
 */
export class ReceiveQueue {
  private readonly items: QueueItem[] = [];
  private head = 0;
  /** Buffers handed out by a borrowing read, given back at the next read. */
  private readonly lent: Uint8Array[] = [];
  /** Queued bytes plus a fixed overhead per item. */
  weight = 0;
  /** The last read borrowed: pool buffers are better than fresh copies for it. */
  borrowing = false;

  constructor(private readonly pool: PacketPool) {}

  get empty(): boolean {
    return this.head >= this.items.length;
  }

  /** Data bytes queued (holes not counted). */
  get bytes(): number {
    let n = 0;
    for (let i = this.head; i < this.items.length; i++) {
      const it = this.items[i]!;
      if (typeof it === 'bigint') continue;
      n += it instanceof Pooled ? it.data.length : it.length;
    }
    return n;
  }

  /**
   * Queues received data and says whether it kept `view`'s buffer. `view` is
   * only valid during the call unless `owned`: then it lies in a buffer of its
   * own, which the queue keeps (true) instead of copying. With `direct`, a
   * reader waits to take the data at once: a copying reader then gets a
   * plain copy, a borrowing one a pool buffer.
   */
  pushData(view: Uint8Array, owned: boolean, direct: boolean): boolean {
    if (owned) {
      this.add(new Pooled(view));
      return true;
    }
    const n = view.length;
    if (n >= SLOT_MIN && !(direct && this.empty && !this.borrowing)) {
      const slot = this.pool.acquire();
      if (n <= slot.length) {
        slot.set(view);
        this.add(new Pooled(slot.subarray(0, n)));
        return false;
      }
      this.pool.release(slot);
    }
    this.add(new Uint8Array(view));
    return false;
  }

  pushHole(length: bigint): void {
    this.add(length);
  }

  private add(item: QueueItem): void {
    this.items.push(item);
    this.weight += ITEM_OVERHEAD + weightOf(item);
  }

  /** The next piece: pooled bytes are kept by a copying reader, lent to a borrowing one. */
  shift(borrow: boolean): StreamChunk | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head]!;
    this.items[this.head++] = 0n; // drop the reference early
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
    this.weight -= ITEM_OVERHEAD + weightOf(item);
    if (typeof item === 'bigint') return { hole: item };
    if (!(item instanceof Pooled)) return { data: item };
    const data = item.data;
    if (borrow) this.lent.push(data);
    else if (data.length * 2 < data.buffer.byteLength) {
      // a short piece is not worth a whole buffer to a reader who keeps it
      const copy = data.slice();
      this.pool.release(data);
      return { data: copy };
    }
    // else a copying reader keeps the buffer itself: the pool replaces it, cheaper than a copy
    return { data };
  }

  /** The buffers lent by the last borrowing read are free again. */
  returnLent(): void {
    for (const b of this.lent) this.pool.release(b);
    this.lent.length = 0;
  }

  /** Drops every queued item (nothing more will be read); pool buffers go back. */
  clear(): void {
    for (let i = this.head; i < this.items.length; i++) {
      const it = this.items[i]!;
      if (it instanceof Pooled) this.pool.release(it.data);
    }
    this.items.length = 0;
    this.head = 0;
    this.weight = 0;
    this.returnLent();
  }
}

const weightOf = (item: QueueItem): number =>
  typeof item === 'bigint' ? 0 : item instanceof Pooled ? item.data.length : item.length;
