/**
 * A subscription: an async iterable over a bounded queue of events, and,
 * on a supervised connection, the markers of the gaps in it.
 */
import { type CloseReason, ConnectionClosedError } from '../rpc/errors.js';
import type { BoundedQueue, OverflowPolicy } from './queue.js';

/** Options of every subscription. */
export interface SubscribeOptions {
  /** Events kept for a slow consumer before the overflow policy applies (default 1024). */
  readonly queueSize?: number;
  /** `drop-oldest` (default; `dropped` counts what was lost) or `error` (the loop throws EventOverflowError). */
  readonly overflow?: OverflowPolicy;
  /** Ends the subscription (and deregisters it) when the signal fires. */
  readonly signal?: AbortSignal;
}

/**
 * A marker in a subscription of a supervised connection: its link ended and
 * events sent meanwhile may be lost. Exactly one comes per gap, in order,
 * once the subscription is registered again on the new link: every event
 * before it is from before `since`, every event after it from after
 * `until`. Resynchronise what you track (list the domains again, ask for
 * their state) when you see one.
 *
 * ```ts
 * for await (const ev of conn.events.domain('lifecycle')) {
 *   if (isEventGap(ev)) { await resync(); continue; }
 *   console.log(ev.domain.name, ev.event);
 * }
 * ```
 */
export interface EventGap {
  readonly type: 'gap';
  /** The last moment the old link was known to be alive: when it last received anything. */
  readonly since: Date;
  /** When this subscription was registered again: events from then on are delivered. */
  readonly until: Date;
  /** `until - since` in milliseconds: how long events may have been missed. */
  readonly durationMs: number;
  /** Why the old link ended (`eof`, `error`, `keepalive`). */
  readonly reason: CloseReason;
  /** What ended it, when there was an error. */
  readonly error?: Error;
}

/** True for the gap marker of a supervised connection's subscription. */
export function isEventGap(x: unknown): x is EventGap {
  return (
    typeof x === 'object' &&
    x !== null &&
    (x as { type?: unknown }).type === 'gap' &&
    (x as { since?: unknown }).since instanceof Date
  );
}

/** A live event subscription: an async iterable over a bounded queue. Leaving the loop deregisters it. */
export class Subscription<T> implements AsyncIterable<T>, AsyncDisposable {
  /** Resolves once the daemon has registered the callback (events before that cannot be missed after it). */
  readonly ready: Promise<void>;

  /** Untyped inside, so that a subscription of T is one of any wider type too (covariant in T). */
  private readonly queue: BoundedQueue<unknown>;

  constructor(
    queue: BoundedQueue<T>,
    ready: Promise<void>,
    private readonly stop: () => Promise<void>,
  ) {
    this.queue = queue as BoundedQueue<unknown>;
    this.ready = ready;
    // A failed registration surfaces from the loop; avoid an unhandled rejection meanwhile.
    ready.catch(() => {});
  }

  /** Events lost to the drop-oldest policy. */
  get dropped(): number {
    return this.queue.dropped;
  }

  /** Events waiting to be consumed. */
  get pending(): number {
    return this.queue.length;
  }

  /** Yields the events in order; ending the loop early ends the subscription. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this.queue as AsyncIterator<T>;
  }

  /** The next event; rejects with AbortError when `signal` fires first. */
  async next(opts?: { signal?: AbortSignal }): Promise<T> {
    const r = await (opts?.signal ? this.queue.nextWithSignal(opts.signal) : this.queue.next());
    if (r.done) throw new ConnectionClosedError('client', 'the subscription has ended');
    return r.value as T;
  }

  /** Deregisters the callback on the daemon and ends the loop. */
  close(): Promise<void> {
    this.queue.return();
    return this.stop();
  }

  /** Ends the subscription (and deregisters it) at the end of an `await using` block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
