/**
 * Supervision of one connection: when its link (an RpcClient over a channel)
 * ends other than by `close()`, open a new one with exponential backoff and
 * jitter, redoing the whole open sequence, and hand it to the owner (the
 * Connection re-registers its event subscriptions and refreshes its handles).
 * Calls made meanwhile wait for the new link, bounded by their own timeout or
 * signal, or fail at once. Calls in flight when the link ended are rejected
 * by the link itself with ConnectionClosedError and never retried: libvirt
 * calls are not idempotent.
 */
import { type ConnectionStateMessage, connectionStateChannel, nextId } from '../diagnostics.js';
import { AbortError, TimeoutError } from '../errors.js';
import type { CallOptions, CloseInfo, RpcClient } from '../rpc/client.js';
import { type CloseReason, ConnectionClosedError } from '../rpc/errors.js';
import type { Caller } from '../rpc/methods.js';
import { redactUri } from '../uri/index.js';
import type { CallDescriptor } from '../xdr/program.js';

/** Where a connection is: see `Connection.state`. */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** How a supervised connection reconnects (`connect(uri, { reconnect })`). */
export interface ReconnectOptions {
  /** Wait before the first attempt, in ms (default 200); each later wait doubles it. */
  readonly initialDelayMs?: number;
  /** The longest wait between attempts, in ms (default 30,000). */
  readonly maxDelayMs?: number;
  /** Attempts before giving up and closing with the last error (default: never give up). */
  readonly maxAttempts?: number;
  /**
   * Randomness of each wait, 0-1 (default 0.3): a wait is drawn from
   * [(1 - jitter) x delay, delay], so clients that lost the same daemon do
   * not all come back in the same millisecond.
   */
  readonly jitter?: number;
  /** Gives up one attempt's whole open sequence after this long, in ms (default 15,000). */
  readonly attemptTimeoutMs?: number;
  /**
   * Calls made while reconnecting: `wait` (default) for the new link, bounded
   * by the call's `timeoutMs` and `signal`; `fail` at once with ConnectionClosedError.
   */
  readonly whileReconnecting?: 'wait' | 'fail';
}

/** The checked reconnect options, defaults filled in. */
export interface ReconnectPolicy {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly maxAttempts: number;
  readonly jitter: number;
  readonly attemptTimeoutMs: number;
  readonly whileReconnecting: 'wait' | 'fail';
}

/** A change of `Connection.state`, as `onStateChange` listeners and the diagnostics channel see it. */
export interface StateChange {
  readonly from: ConnectionState;
  readonly to: ConnectionState;
  /** Why the link ended (towards `reconnecting`, or `closed` after giving up). */
  readonly reason?: CloseReason;
  readonly error?: Error;
  /** The attempt about to be made (`reconnecting`) or that succeeded (`open`). */
  readonly attempt?: number;
  /** How long until the next attempt (`reconnecting`). */
  readonly delayMs?: number;
  /** Back to `open`: ms since the old link last received anything. */
  readonly gapMs?: number;
}

/** One open link: what the open sequence produced. */
export interface Link {
  readonly rpc: RpcClient;
  readonly uri: string;
  readonly auth: string;
  readonly features: {
    readonly keepalive: boolean;
    readonly eventCallback: boolean;
    readonly closeCallback: boolean;
  };
}

/** What the supervisor tells its owner. */
export interface SupervisorOwner {
  /** A new link is open (the old one is gone); `since` is when the old one last heard anything. */
  relinked(link: Link, since: number): void;
  /** The link ended and reconnecting begins (nothing is open until `relinked`). */
  linkLost(info: CloseInfo, since: number): void;
  /** Supervision is over: closed by the user (`info.reason` client) or given up. */
  ended(info: CloseInfo): void;
}

const positive = (what: string, v: unknown, integer = false): number => {
  if (typeof v !== 'number' || !(v > 0) || (integer && !Number.isInteger(v) && v !== Infinity)) {
    throw new TypeError(
      `reconnect.${what} must be a positive ${integer ? 'whole number' : 'number'}, got ${String(v)}`,
    );
  }
  return v;
};

/** `true` or an options object as a policy; a TypeError naming the bad field otherwise. */
export function reconnectPolicy(x: true | ReconnectOptions): ReconnectPolicy {
  const o: ReconnectOptions = x === true ? {} : x;
  if (typeof o !== 'object' || o === null) {
    throw new TypeError(`reconnect must be true or an options object, got ${String(x)}`);
  }
  const policy: ReconnectPolicy = {
    initialDelayMs: positive('initialDelayMs', o.initialDelayMs ?? 200),
    maxDelayMs: positive('maxDelayMs', o.maxDelayMs ?? 30_000),
    maxAttempts: positive('maxAttempts', o.maxAttempts ?? Infinity, true),
    jitter: o.jitter ?? 0.3,
    attemptTimeoutMs: positive('attemptTimeoutMs', o.attemptTimeoutMs ?? 15_000),
    whileReconnecting: o.whileReconnecting ?? 'wait',
  };
  if (typeof policy.jitter !== 'number' || !(policy.jitter >= 0 && policy.jitter <= 1)) {
    throw new TypeError(`reconnect.jitter must be a number from 0 to 1, got ${String(o.jitter)}`);
  }
  if (policy.maxDelayMs < policy.initialDelayMs) {
    throw new TypeError(
      `reconnect.maxDelayMs (${policy.maxDelayMs}) is below initialDelayMs (${policy.initialDelayMs})`,
    );
  }
  if (policy.whileReconnecting !== 'wait' && policy.whileReconnecting !== 'fail') {
    throw new TypeError(
      `reconnect.whileReconnecting must be 'wait' or 'fail', got ${String(o.whileReconnecting)}`,
    );
  }
  return policy;
}

/** The wait before attempt `attempt` (1-based): exponential, capped, with jitter. */
export function backoffDelay(
  policy: ReconnectPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const full = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (attempt - 1));
  return full * (1 - policy.jitter * random());
}

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
}

/**
 * Keeps one connection's link alive (see the module comment). It is the
 * Caller its connection's method tables are bound to.
 */
export class Supervisor implements Caller {
  /** The supervised connection's number in diagnostics: it outlives its links. */
  readonly id = nextId();
  state: ConnectionState = 'connecting';
  private readonly waiters = new Set<Waiter>();
  private readonly listeners = new Set<(c: StateChange) => void>();
  private readonly stop = new AbortController();
  private lastClose: CloseInfo | null = null;
  private endInfo: CloseInfo | null = null;
  private offClose: () => void;

  constructor(
    public link: Link,
    private readonly uri: string,
    private readonly policy: ReconnectPolicy,
    /** Runs the whole open sequence once; rejects when it fails or the signal fires. */
    private readonly open: (signal: AbortSignal) => Promise<Link>,
    private readonly owner: SupervisorOwner,
  ) {
    this.offClose = this.watch(link);
    this.change('open'); // the first link is open: the connection leaves `connecting`
  }

  /** Follows state changes; returns the function that stops following. */
  onStateChange(listener: (c: StateChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private watch(link: Link): () => void {
    return link.rpc.onClose((info) => {
      if (this.link !== link || this.state !== 'open') return;
      if (info.reason === 'client') return; // close() ends supervision itself
      void this.reconnect(info, link.rpc.lastReceivedAt);
    });
  }

  private change(to: ConnectionState, extra: Omit<StateChange, 'from' | 'to'> = {}): void {
    const from = this.state;
    this.state = to;
    const c: StateChange = { from, to, ...extra };
    for (const l of this.listeners) {
      try {
        l(c);
      } catch {
        // a listener's failure is its own; the others still hear of the change
      }
    }
    if (connectionStateChannel.hasSubscribers) {
      connectionStateChannel.publish({
        connectionId: this.id,
        linkId: to === 'open' ? this.link.rpc.id : 0,
        uri: redactUri(this.uri),
        ...c,
      } satisfies ConnectionStateMessage);
    }
  }

  private async reconnect(info: CloseInfo, since: number): Promise<void> {
    this.lastClose = info;
    this.owner.linkLost(info, since);
    let lastError: Error | undefined = info.error;
    for (let attempt = 1; attempt <= this.policy.maxAttempts; attempt++) {
      const delayMs = backoffDelay(this.policy, attempt);
      this.change('reconnecting', {
        reason: info.reason,
        ...(lastError ? { error: lastError } : {}),
        attempt,
        delayMs,
      });
      if (!(await this.sleep(delayMs))) return; // closed meanwhile
      const signal = AbortSignal.any([
        this.stop.signal,
        AbortSignal.timeout(this.policy.attemptTimeoutMs),
      ]);
      let link: Link;
      try {
        link = await this.open(signal);
      } catch (err) {
        if (this.stop.signal.aborted) return;
        lastError = err instanceof Error ? err : new Error(String(err));
        continue;
      }
      if (this.stop.signal.aborted) {
        await link.rpc.close();
        return;
      }
      this.offClose();
      this.link = link;
      this.offClose = this.watch(link);
      this.change('open', { attempt, gapMs: Date.now() - since });
      for (const w of this.waiters) w.resolve();
      this.waiters.clear();
      this.owner.relinked(link, since);
      if (!link.rpc.isOpen && this.state === 'open') {
        // ended before we watched it: start over
        void this.reconnect(await link.rpc.closed, link.rpc.lastReceivedAt);
      }
      return;
    }
    const error = new ConnectionClosedError(
      info.reason,
      `gave up reconnecting to ${redactUri(this.uri)} after ${this.policy.maxAttempts} attempts${lastError ? `: ${lastError.message}` : ''}`,
      { cause: lastError },
    );
    this.finish({ reason: info.reason, error });
  }

  /** Resolves true after `ms`, false at once when supervision stops first. */
  private sleep(ms: number): Promise<boolean> {
    const signal = this.stop.signal;
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(t);
        signal.removeEventListener('abort', onAbort);
        resolve(ok);
      };
      const onAbort = (): void => done(false);
      const t = setTimeout(() => done(true), ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private finish(info: CloseInfo): void {
    if (this.endInfo) return;
    this.endInfo = info;
    this.stop.abort();
    this.offClose();
    const err = this.closedError('call', info);
    for (const w of this.waiters) w.reject(err);
    this.waiters.clear();
    this.change('closed', {
      reason: info.reason,
      ...(info.error ? { error: info.error } : {}),
    });
    this.owner.ended(info);
  }

  /** Ends supervision and the current link (the caller sends CONNECT_CLOSE first if it wants). */
  async close(): Promise<void> {
    this.finish({ reason: 'client' });
    await this.link.rpc.close();
  }

  /** How supervision ended, once it has. */
  get ended(): CloseInfo | null {
    return this.endInfo;
  }

  private closedError(what: string, info: CloseInfo): ConnectionClosedError {
    return new ConnectionClosedError(
      info.reason,
      `${what}: the connection is closed (${info.reason})${info.error ? `: ${info.error.message}` : ''}`,
      { cause: info.error },
    );
  }

  /** Sends a call on the current link; while reconnecting, waits for the next (or fails, by policy). */
  call(d: CallDescriptor, args: unknown, opts?: CallOptions): Promise<unknown> {
    if (this.state === 'open') return this.link.rpc.call(d, args, opts);
    if (this.endInfo) return Promise.reject(this.closedError(d.label, this.endInfo));
    const reason = this.lastClose?.reason ?? 'eof';
    if (this.policy.whileReconnecting === 'fail') {
      return Promise.reject(
        new ConnectionClosedError(
          reason,
          `${d.label}: the connection is reconnecting (it ended: ${reason})`,
          { cause: this.lastClose?.error },
        ),
      );
    }
    const started = performance.now();
    return this.whenOpen(d.label, opts).then(() => {
      const timeoutMs =
        opts?.timeoutMs === undefined
          ? undefined
          : Math.max(0, opts.timeoutMs - (performance.now() - started));
      return this.link.rpc.call(d, args, { signal: opts?.signal, timeoutMs });
    });
  }

  /** Resolves once a link is open, bounded by `opts`; rejects when supervision ends first. */
  whenOpen(label: string, opts?: CallOptions): Promise<void> {
    if (this.state === 'open') return Promise.resolve();
    if (this.endInfo) return Promise.reject(this.closedError(label, this.endInfo));
    const signal = opts?.signal;
    if (signal?.aborted) {
      return Promise.reject(
        new AbortError(`${label} aborted while reconnecting`, { cause: signal.reason }),
      );
    }
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | null = null;
      const cleanup = (): void => {
        this.waiters.delete(w);
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const w: Waiter = {
        resolve: () => {
          cleanup();
          resolve();
        },
        reject: (e) => {
          cleanup();
          reject(e);
        },
      };
      const onAbort = (): void =>
        w.reject(new AbortError(`${label} aborted while reconnecting`, { cause: signal?.reason }));
      if (opts?.timeoutMs !== undefined) {
        const ms = opts.timeoutMs;
        timer = setTimeout(
          () =>
            w.reject(
              new TimeoutError(
                `${label} timed out after ${ms} ms waiting for the connection to reconnect`,
              ),
            ),
          ms,
        );
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(w);
    });
  }
}
