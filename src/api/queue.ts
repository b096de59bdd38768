import { AbortError, VirtwireError } from '../errors.js';

/** What a subscription does when its consumer falls behind and the queue is full. */
export type OverflowPolicy = 'drop-oldest' | 'error';

/** The consumer fell `queueSize` events behind under the `error` overflow policy. */
export class EventOverflowError extends VirtwireError {
  override name = 'EventOverflowError';
}

/**
 * A bounded single-consumer queue behind an async iterator. Never grows past
 * `size`: under `drop-oldest` the oldest item goes and `dropped` counts it;
 * under `error` the iterator fails with EventOverflowError.
 */
export class BoundedQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private head = 0;
  private waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: Error) => void } | null =
    null;
  private ended = false;
  private failure: Error | null = null;
  dropped = 0;

  constructor(
    private readonly size: number,
    private readonly policy: OverflowPolicy,
    private readonly onReturn: () => void,
  ) {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError(`queueSize must be a positive integer, got ${size}`);
  }

  get length(): number {
    return this.items.length - this.head;
  }

  push(v: T): void {
    if (this.ended) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w.resolve({ value: v, done: false });
      return;
    }
    if (this.length >= this.size) {
      if (this.policy === 'error') {
        this.end(
          new EventOverflowError(
            `event queue overflow: the consumer fell ${this.size} events behind`,
          ),
        );
        return;
      }
      // the dropped item's slot lets go of it now, not at the next compaction
      this.items[this.head++] = undefined as T;
      this.dropped++;
    }
    this.items.push(v);
    // Compact now and then so the backing array does not grow with the total count.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Ends the iterator: after the queued items, with `err` if given, else done. */
  end(err?: Error): void {
    if (this.ended) return;
    this.ended = true;
    if (err) this.failure = err;
    if (this.waiter && this.length === 0) {
      const w = this.waiter;
      this.waiter = null;
      if (this.failure) w.reject(this.failure);
      else w.resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.length > 0) {
      const v = this.items[this.head]!;
      this.items[this.head++] = undefined as T;
      if (this.head === this.items.length) {
        this.items.length = 0;
        this.head = 0;
      }
      return Promise.resolve({ value: v, done: false });
    }
    if (this.ended) {
      if (this.failure) {
        const f = this.failure;
        this.failure = null;
        return Promise.reject(f);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    if (this.waiter)
      return Promise.reject(new VirtwireError('an event subscription has only one consumer'));
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** Waits for the next item, giving up when `signal` fires. */
  nextWithSignal(signal: AbortSignal): Promise<IteratorResult<T>> {
    if (signal.aborted)
      return Promise.reject(
        new AbortError('waiting for an event aborted', { cause: signal.reason }),
      );
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        if (this.waiter) this.waiter = null;
        reject(new AbortError('waiting for an event aborted', { cause: signal.reason }));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.next().then(
        (r) => {
          signal.removeEventListener('abort', onAbort);
          resolve(r);
        },
        (e: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      );
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.items.length = 0;
    this.head = 0;
    this.end();
    this.onReturn();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
