/**
 * ReceiveQueue's slots: data that waits is copied into reusable receive
 * slots, also while a borrowing reader still holds the previous batch.
 */
import { describe, expect, it } from 'vitest';
import { ReceiveQueue } from '../../../src/rpc/stream-queue.js';

const PACKET = 262_120;
const SLOT = 256 * 1024;
const packet = (seed: number) => new Uint8Array(PACKET).fill(seed);

describe('ReceiveQueue slots', () => {
  it('keeps a queue worth of packets in slots while a borrowing reader holds the previous batch', () => {
    const hwm = 4 * 1024 * 1024;
    const q = new ReceiveQueue(hwm);
    q.borrowing = true;
    const perQueue = Math.ceil(hwm / PACKET);
    for (let i = 0; i < perQueue; i++) q.pushData(packet(i), false, false);
    // the reader borrows all of it and writes it out; meanwhile the next queue's worth arrives
    const first = Array.from({ length: perQueue }, () => q.shift(true)!.data!);
    for (let i = 0; i < perQueue; i++) q.pushData(packet(100 + i), false, false);
    const second = Array.from({ length: perQueue }, () => q.shift(true)!.data!);
    for (const [i, d] of [...first, ...second].entries()) {
      // a view of a slot, not an array of its own made for the packet
      expect(d.buffer.byteLength).toBe(SLOT);
      expect(d[0]).toBe(i < perQueue ? i : 100 + i - perQueue);
    }
    // 2 × 16 views over distinct slots (nothing lent was overwritten)
    expect(new Set([...first, ...second].map((d) => d.buffer)).size).toBe(2 * perQueue);
    q.returnLent();
    // returned slots are reused, not grown
    q.pushData(packet(7), false, false);
    const again = q.shift(true)!.data!;
    expect([...first, ...second].some((d) => d.buffer === again.buffer)).toBe(true);
  });
});
