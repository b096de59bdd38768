/**
 * The contract between a transport and the RPC client: a channel carries
 * bytes both ways, says when it cannot take more, can be paused, and ends
 * once. Transports implement it (or hand over a Node Duplex, adapted by
 * `duplexChannel`); the RPC client is its only consumer, and a SASL security
 * layer is a channel over a channel. Nothing here knows about libvirt.
 *
 * Bytes are handed over, never shared:
 * - incoming: `sink.data(chunk)` lends the view for the duration of the
 *   call only; the channel may reuse that memory afterwards (tcp reads into
 *   one buffer), so a consumer copies whatever it keeps.
 * - outgoing: `write(bytes)` gives the bytes to the channel, which may keep
 *   the view until they are sent; the caller does not modify them afterwards.
 *   `writev(chunks, done)` (optional) says when the channel has let go of
 *   them, so the caller can lend memory it will reuse instead of copying it.
 */
import type { Duplex } from 'node:stream';

/** Where a channel delivers what happens on it. */
export interface ChannelSink {
  /** Bytes received, in order. The view is only valid during the call. */
  data(chunk: Uint8Array): void;
  /** The channel can take more after a `write` that returned false. */
  drain(): void;
  /**
   * The channel ended: without an error when the peer closed it, with one
   * when it failed. Called exactly once, also when `close()` ended it.
   */
  end(error?: Error): void;
}

/** A connected byte channel to a libvirt daemon (or anything speaking its protocol). */
export interface Channel {
  /**
   * Starts delivering to `sink`; called once. Bytes and an end that came
   * before are delivered first, in order.
   */
  open(sink: ChannelSink): void;
  /** Sends bytes (see above for ownership). False: wait for `sink.drain()` before writing more. */
  write(bytes: Uint8Array): boolean;
  /**
   * Optional: sends `chunks` in order, back to back, holding on to their
   * memory (no copy) until it calls `done` once: when the bytes are handed to
   * the operating system, or with an error when the channel failed or closed
   * first. The caller must not modify them until then. Returns like `write`.
   */
  writev?(chunks: readonly Uint8Array[], done: (error?: Error) => void): boolean;
  /** True between a `write` that returned false and the `drain` that follows it. */
  readonly needsDrain: boolean;
  /** Stops delivering data until `resume`, so the peer is held back (TCP backpressure). */
  pause(): void;
  /** Delivers data again after `pause`. */
  resume(): void;
  /** Ends the channel from this side and releases what it holds; idempotent. */
  close(error?: Error): void;
}

/** True for a Channel, as opposed to a Node stream handed in its place. */
export function isChannel(x: unknown): x is Channel {
  if (typeof x !== 'object' || x === null) return false;
  const c = x as Partial<Channel>;
  return typeof c.open === 'function' && typeof c.close === 'function' && 'needsDrain' in c;
}

/** Where a stream's listeners find their channel: one set of functions serves every stream. */
const OWNER = Symbol('virtwire.channel');
type Owned = Duplex & { [OWNER]: DuplexChannel };

function onStreamData(this: Owned, chunk: Uint8Array): void {
  this[OWNER].receive(chunk);
}
function onStreamDrain(this: Owned): void {
  this[OWNER].drained();
}
function onStreamError(this: Owned, err: Error): void {
  this[OWNER].ended(err);
}
function onStreamEnd(this: Owned): void {
  this[OWNER].ended();
}

/**
 * A Node Duplex (socket, child process pipes, SSH channel, in-memory pair)
 * as a Channel: 'data' becomes `sink.data`, 'drain' `sink.drain`, and the
 * first of 'end', 'close' and 'error' `sink.end`; `close()` destroys it.
 *
 * With `external: true` the stream's 'data' events are ignored and bytes come
 * through `receive()` instead, for a socket that reads with `onread` into one
 * reused buffer (no Readable stream, no allocation per read).
 */
export class DuplexChannel implements Channel {
  private sink: ChannelSink | null = null;
  /** Own copies of the bytes that arrived before `open`. */
  private early: Uint8Array[] | null = null;
  /** How the stream ended, when it did before `open`. */
  private endedEarly: { error?: Error } | null = null;
  private done = false;

  constructor(
    private readonly stream: Duplex,
    opts: { readonly external?: boolean } = {},
  ) {
    // Shared listeners rather than closures: an idle connection should cost as little as possible.
    (stream as Owned)[OWNER] = this;
    if (!opts.external) stream.on('data', onStreamData);
    stream.on('drain', onStreamDrain);
    stream.on('error', onStreamError);
    stream.on('end', onStreamEnd);
    stream.on('close', onStreamEnd);
  }

  /** Delivers bytes read outside the stream's 'data' events; the view may be reused after the call. */
  receive(chunk: Uint8Array): void {
    if (this.done) return;
    if (this.sink) {
      this.sink.data(chunk);
      return;
    }
    this.early ??= [];
    this.early.push(Uint8Array.prototype.slice.call(chunk));
  }

  /** @internal The stream can take more. */
  drained(): void {
    this.sink?.drain();
  }

  /** @internal The stream ended (with an error when it failed); only the first end counts. */
  ended(error?: Error): void {
    if (this.done) return;
    this.done = true;
    if (!this.sink) {
      this.endedEarly = error ? { error } : {};
      return;
    }
    if (error) this.sink.end(error);
    else this.sink.end();
  }

  open(sink: ChannelSink): void {
    if (this.sink) throw new TypeError('the channel is already open');
    this.sink = sink;
    const early = this.early ?? [];
    this.early = null;
    for (const chunk of early) sink.data(chunk);
    const e = this.endedEarly;
    if (e) {
      this.endedEarly = null;
      if (e.error) sink.end(e.error);
      else sink.end();
    }
  }

  write(bytes: Uint8Array): boolean {
    return this.stream.write(bytes);
  }

  writev(chunks: readonly Uint8Array[], done: (error?: Error) => void): boolean {
    const s = this.stream;
    const last = chunks.length - 1;
    // corked, the chunks leave in one writev() (no copy, one TCP push)
    s.cork();
    for (let i = 0; i < last; i++) s.write(chunks[i]);
    const ok = s.write(chunks[last], (err) => done(err ?? undefined));
    s.uncork();
    return ok;
  }

  get needsDrain(): boolean {
    return this.stream.writableNeedDrain;
  }

  pause(): void {
    this.stream.pause();
  }

  /** Delivers data again after `pause`. */
  resume(): void {
    this.stream.resume();
  }

  close(error?: Error): void {
    this.stream.destroy();
    this.ended(error);
  }
}

/** A Node Duplex as a Channel (see DuplexChannel). */
export function duplexChannel(stream: Duplex): Channel {
  return new DuplexChannel(stream);
}

/**
 * What a user transport may return: a Channel as is, a Node Duplex adapted.
 * Anything else is refused with a TypeError naming what it got.
 */
export function toChannel(x: Channel | Duplex): Channel {
  if (isChannel(x)) return x;
  const d = x as Partial<Duplex> | null;
  if (
    typeof d === 'object' &&
    d !== null &&
    typeof d.on === 'function' &&
    typeof d.write === 'function' &&
    typeof d.destroy === 'function'
  ) {
    return duplexChannel(x as Duplex);
  }
  throw new TypeError(
    `a transport must resolve with a Channel or a Node Duplex, got ${x === null ? 'null' : typeof x}`,
  );
}
