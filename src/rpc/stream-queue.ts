/** Accounting weight of a queued packet besides its bytes, so tiny packets still count. */
const ITEM_OVERHEAD = 64;
/** Size of a receive slot: holds any data packet the daemon sends (at most 262120 bytes). */
const SLOT_SIZE = 256 * 1024;
/** Payloads below this are copied into their own small arrays rather than a slot. */
const SLOT_MIN = 16 * 1024;

/** One piece of a sparse stream: bytes, or a run of `hole` bytes that read as zeros. */
export type StreamChunk =
  | { readonly data: Uint8Array; readonly hole?: undefined }
  | { readonly hole: bigint; readonly data?: undefined };

/** Queued bytes that live in one of the queue's reusable receive slots. */
class Slotted {
  constructor(
    readonly slot: Uint8Array,
    readonly length: number,
  ) {}
}

type QueueItem = Uint8Array | Slotted | bigint;

/**
 * What a stream received and nobody has read yet: data and holes in order,
 * with their weight (`weight`) for the stream's high-water mark.
 *
 * Data that has to wait is copied into receive slots, allocated lazily up to
 * what the high-water mark needs and then reused: the message buffers die
 * young and the long-lived memory is a fixed set of arrays instead of a
 * stream of buffers promoted to the old generation (which costs one full GC
 * every few MiB with a slow consumer).
 */
export class ReceiveQueue {
  private readonly items: QueueItem[] = [];
  private head = 0;
  private readonly freeSlots: Uint8Array[] = [];
  private slotCount = 0;
  private readonly maxSlots: number;
  /** Slots handed out by a borrowing read, returned at the next read. */
  private readonly lent: Uint8Array[] = [];
  /** Queued bytes plus a fixed overhead per item. */
  weight = 0;
  /** The last read borrowed: slots are better than fresh copies for it. */
  borrowing = false;

  constructor(highWaterMark: number) {
    // A borrowing reader holds up to a queue's worth of lent slots while it
    // writes them out, and the connection keeps being read meanwhile: with
    // slots for only one queue's worth, a sixth to a third of a download's
    // packets fell back to fresh 256 KiB arrays (zero-filled, then garbage).
    this.maxSlots = Math.ceil((2 * highWaterMark) / SLOT_SIZE) + 2;
  }

  get empty(): boolean {
    return this.head >= this.items.length;
  }

  /** Data bytes queued (holes not counted). */
  get bytes(): number {
    let n = 0;
    for (let i = this.head; i < this.items.length; i++) {
      const it = this.items[i]!;
      if (typeof it !== 'bigint') n += it.length;
    }
    return n;
  }

  /**
   * Queues received data. `view` is only valid during the call unless
   * `owned` (a buffer nothing reuses). With `direct`, a reader waits to take
   * it at once: a message assembled in its own buffer is handed over as is,
   * a view of the connection's buffers becomes a copy for a copying reader
   * and a slot for a borrowing one (no allocation at all).
   */
  pushData(view: Uint8Array, owned: boolean, direct: boolean): void {
    const n = view.length;
    if (direct && this.empty && (owned || !this.borrowing)) {
      this.add(owned ? view : new Uint8Array(view));
      return;
    }
    if (n >= SLOT_MIN && n <= SLOT_SIZE) {
      const slot = this.takeSlot();
      if (slot) {
        slot.set(view);
        this.add(new Slotted(slot, n));
        return;
      }
    }
    this.add(owned ? view : new Uint8Array(view));
  }

  pushHole(length: bigint): void {
    this.add(length);
  }

  private add(item: QueueItem): void {
    this.items.push(item);
    this.weight += (typeof item === 'bigint' ? 0 : item.length) + ITEM_OVERHEAD;
  }

  /** The next piece: slotted bytes are copied out (and the slot reused), or lent with `borrow`. */
  shift(borrow: boolean): StreamChunk | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head]!;
    this.items[this.head++] = 0n; // drop the reference early
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
    this.weight -= (typeof item === 'bigint' ? 0 : item.length) + ITEM_OVERHEAD;
    if (typeof item === 'bigint') return { hole: item };
    if (!(item instanceof Slotted)) return { data: item };
    if (borrow) {
      this.lent.push(item.slot);
      return { data: item.slot.subarray(0, item.length) };
    }
    const data = item.slot.slice(0, item.length);
    this.freeSlots.push(item.slot);
    return { data };
  }

  private takeSlot(): Uint8Array | undefined {
    const s = this.freeSlots.pop();
    if (s || this.slotCount >= this.maxSlots) return s;
    this.slotCount++;
    return new Uint8Array(SLOT_SIZE);
  }

  /** The slots lent by the last borrowing read are free again. */
  returnLent(): void {
    for (const s of this.lent) this.freeSlots.push(s);
    this.lent.length = 0;
  }

  /** Drops every queued item and slot (nothing more will be read). */
  clear(): void {
    this.items.length = 0;
    this.head = 0;
    this.weight = 0;
    this.freeSlots.length = 0;
    this.lent.length = 0;
  }

  /** Drops the free slots only: what is queued is still delivered, nothing new will be. */
  dropFreeSlots(): void {
    this.freeSlots.length = 0;
  }
}
