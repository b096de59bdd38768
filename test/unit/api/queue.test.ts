import { describe, expect, it } from 'vitest';
import { BoundedQueue, EventOverflowError } from '../../../src/api/queue.js';
import { VirtwireError } from '../../../src/errors.js';

async function drain<T>(q: AsyncIterator<T>): Promise<T[]> {
  const out: T[] = [];
  for (let r = await q.next(); !r.done; r = await q.next()) out.push(r.value);
  return out;
}

describe('BoundedQueue', () => {
  it('refuses a size that is not a positive integer, naming it', () => {
    for (const bad of [0, -1, 1.5, Number.NaN])
      expect(() => new BoundedQueue(bad, 'error', () => {})).toThrow(
        `queueSize must be a positive integer, got ${bad}`,
      );
  });

  it('drop-oldest keeps the newest `size` items in order and counts the others', async () => {
    const q = new BoundedQueue<number>(4, 'drop-oldest', () => {});
    for (let i = 0; i < 3000; i++) q.push(i);
    expect(q.length).toBe(4);
    expect(q.dropped).toBe(2996);
    q.end();
    expect(await drain(q)).toEqual([2996, 2997, 2998, 2999]);
  });

  it('drop-oldest lets go of a dropped item at once, not at the next compaction', () => {
    const q = new BoundedQueue<{ n: number }>(4, 'drop-oldest', () => {});
    for (let i = 0; i < 100; i++) q.push({ n: i });
    // what the queue still references: exactly the four it will deliver
    const held = (q as unknown as { items: ({ n: number } | undefined)[] }).items.filter(
      (x) => x !== undefined,
    );
    expect(held.map((x) => x.n)).toEqual([96, 97, 98, 99]);
  });

  it('error: the consumer gets the queued items, then EventOverflowError naming the size', async () => {
    const q = new BoundedQueue<number>(3, 'error', () => {});
    for (let i = 0; i < 5; i++) q.push(i);
    expect(await q.next()).toEqual({ value: 0, done: false });
    expect(await q.next()).toEqual({ value: 1, done: false });
    expect(await q.next()).toEqual({ value: 2, done: false });
    const err = await q.next().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(EventOverflowError);
    expect((err as Error).message).toBe('event queue overflow: the consumer fell 3 events behind');
    expect(await q.next()).toEqual({ value: undefined, done: true });
  });

  it('hands a pushed item straight to a waiting consumer, and has only one consumer', async () => {
    const q = new BoundedQueue<string>(2, 'error', () => {});
    const waiting = q.next();
    await expect(q.next()).rejects.toBeInstanceOf(VirtwireError);
    q.push('a');
    expect(await waiting).toEqual({ value: 'a', done: false });
    expect(q.length).toBe(0);
  });

  it('return() drops what is queued, ends the iterator and tells its owner once', async () => {
    let returned = 0;
    const q = new BoundedQueue<number>(8, 'drop-oldest', () => returned++);
    q.push(1);
    q.push(2);
    expect(await q.return()).toEqual({ value: undefined, done: true });
    expect(returned).toBe(1);
    expect(q.length).toBe(0);
    q.push(3);
    expect(await q.next()).toEqual({ value: undefined, done: true });
  });
});
