// One state machine (opening, open, closing, finished/aborted/failed) shared by readers and
// writers: kept in one file, past ~700 lines, so that every transition stays in view.
import { Readable, Writable } from 'node:stream';
import {
  type StreamCloseMessage,
  type StreamOpenMessage,
  streamCloseChannel,
  streamOpenChannel,
} from '../diagnostics.js';
import { AbortError, VirtwireError } from '../errors.js';
import {
  decodeVirNetMessageError,
  decodeVirNetStreamHole,
  encodeVirNetStreamHole,
  VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX,
  VirNetMessageStatus,
  VirNetMessageType,
  type VirNetStreamHole,
} from '../generated/virnet.js';
import type { CallDescriptor } from '../xdr/program.js';
import type { XdrReader } from '../xdr/reader.js';
import type { MessageHeader, RpcClient, StreamSink } from './client.js';
import { ConnectionClosedError, ProtocolError, RemoteError } from './errors.js';
import type { BodyEncoder } from './outbox.js';
import { ReceiveQueue, type StreamChunk } from './stream-queue.js';

export type { StreamChunk } from './stream-queue.js';

const { VIR_NET_STREAM: STREAM, VIR_NET_STREAM_HOLE: STREAM_HOLE } = VirNetMessageType;
const { VIR_NET_OK: OK, VIR_NET_ERROR: ERROR, VIR_NET_CONTINUE: CONTINUE } = VirNetMessageStatus;
const HOLE: BodyEncoder<VirNetStreamHole> = { encode: encodeVirNetStreamHole };

/** Largest data payload of one stream packet (VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX). */
export const STREAM_CHUNK_MAX = VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX;
/**
 * Default number of queued incoming bytes above which the connection stops
 * being read (the read queue's high-water mark). 2 MiB, not 4: the queue's
 * receive slots (twice the mark) are fresh memory in a fresh process, and
 * 8.5 MiB of them cost ~24 ms of page faults here; a 256 MiB sparse
 * download to a file, 5 fresh processes each, took 95 ms of CPU instead of
 * 119, and a 1 GiB dense one went no slower (906 ms against 924).
 */
export const DEFAULT_HIGH_WATER_MARK = 2 * 1024 * 1024;
/** Lent bytes a write stream lets wait in the socket's queue before it waits for the socket. */
const SEND_WINDOW = 4 * 1024 * 1024;
/** Zero-filled chunks standing in for a hole are at most this long. */
const ZERO_CHUNK = 256 * 1024;
const HYPER_MAX = (1n << 63n) - 1n;

/** What the plain (non-sparse) readers do with a hole: yield zeros, or throw StreamHoleError. */
export type HolePolicy = 'zero' | 'throw';

/** The stream is in a state that does not allow the operation (finished, aborted, wrong direction). */
export class StreamStateError extends VirtwireError {
  override name = 'StreamStateError';
}

/** A plain reader with `holes: 'throw'` met a hole; `length` is its size in bytes. */
export class StreamHoleError extends VirtwireError {
  override name = 'StreamHoleError';
  constructor(readonly length: bigint) {
    super(`the stream has a hole of ${length} bytes; read it with sparse() to see holes`);
  }
}

/** Options of a single read or write: `signal` gives up waiting. */
export interface StreamReadOptions {
  /** Cancels the wait; since part of a transfer cannot be cancelled, the whole stream is aborted. */
  readonly signal?: AbortSignal | undefined;
}

/** Options of the plain readers (`data()`, iteration, `toReadable()`). */
export interface StreamDataOptions extends StreamReadOptions {
  /** Holes in a sparse stream: `zero` (default) yields zero bytes, `throw` raises StreamHoleError. */
  readonly holes?: HolePolicy | undefined;
}

/** Options of a stream, fixed when it opens. */
export interface VirStreamOptions {
  /**
   * Incoming bytes queued before the connection stops being read (default
   * 2 MiB). Reading resumes when the consumer has taken the queue below half.
   */
  readonly highWaterMark?: number | undefined;
  /** Default hole policy of the plain readers (`data()`, iteration, `toReadable()`). */
  readonly holes?: HolePolicy | undefined;
}

/** What a stream is: the procedure that opened it, and whether the call asked for holes. */
export interface StreamTarget {
  /**
   * The opening procedure: every packet carries its program and number, its
   * label names the stream in errors, its direction says who sends data
   * (`read` streams, consoles, also accept writes).
   */
  readonly procedure: CallDescriptor;
  /** The call asked for a sparse stream: holes may travel both ways. */
  readonly sparse: boolean;
}

type Phase = 'opening' | 'open' | 'closing' | 'finished' | 'aborted' | 'failed';

interface Closing {
  readonly kind: 'finish' | 'abort';
  readonly promise: Promise<void>;
  resolve(): void;
  reject(err: Error): void;
}

export interface StreamBatchOptions extends StreamReadOptions {
  /**
   * Hand out data as views of the stream's receive buffers instead of copies:
   * valid only until the next read of any kind (or finish/abort), after which
   * the memory is reused. For consumers that are done with each batch before
   * asking for the next one (writing it to a file, hashing it).
   */
  readonly borrow?: boolean | undefined;
  /**
   * Wait until at least this many bytes are in the batch (capped at the
   * high-water mark), unless the stream ends or fails first: fewer, larger
   * batches for consumers with a cost per call (one writev per batch).
   */
  readonly minBytes?: number | undefined;
}

/**
 * A libvirt data stream (virStream) carried on an RPC connection: volume
 * upload/download, screenshots, consoles, channels, tunnelled migration.
 * Open one with the functions of `virtwire`'s streams API (`volumeDownload`,
 * `openStream`...), not with the constructor.
 *
 * Reading: `for await (const chunk of stream)` yields `Uint8Array`s until the
 * daemon's end of stream, after which the finish handshake is done for you:
 * the loop ends only once the daemon has confirmed the transfer (a failure it
 * reports there is thrown from the loop). `sparse()` yields holes too;
 * `toReadable()` gives a Node Readable. Leaving a loop early aborts the stream.
 * Chunks are the caller's to keep (never a view of a reused buffer).
 *
 * Memory is bounded: at most `highWaterMark` bytes are queued, plus what
 * one read of the socket brought (up to 1 MiB on tcp, unix and tls) and one
 * packet; beyond that the whole connection stops being read until the
 * consumer catches up, so the daemon is held back by TCP. While that lasts,
 * no reply, event or other stream on the same connection gets through: do
 * not await another call on this connection from inside a loop that is not
 * reading this stream, or use a second connection.
 *
 * Writing: `write()` splits into packets of at most 262120 bytes, lends them
 * to the socket where it can (up to 4 MiB may wait in its queue) and waits
 * when the socket pushes back beyond that; `sendHole()` (sparse streams only);
 * `finish()` ends the upload and resolves when the daemon confirms.
 *
 * `abort()` (and `await using`) ends an unfinished stream on both sides. An
 * error the daemon reports for the stream is a RemoteError, thrown by the
 * next read (after any data that arrived before it), write or finish.
 */
export class VirStream implements AsyncIterable<Uint8Array>, AsyncDisposable {
  /** Serial of the call that opened the stream: every packet of the stream carries it. */
  serial = 0;
  private phase: Phase = 'opening';
  private readonly queue: ReceiveQueue;
  private eof = false;
  /** Terminal error for writers and finish(); readers get it after the queued data. */
  private failure: Error | null = null;
  private paused = false;
  private waiter: (() => void) | null = null;
  /**
   * Data bytes the queue must hold before new data wakes the waiter: a batch
   * read waiting for `minBytes` is woken once they are there, not by every
   * packet on the way (libvirtd sends a GiB as 8,192 of them).
   */
  private wakeBytes = 0;
  private closing: Closing | null = null;
  private finishing: Promise<void> | null = null;
  private tail: Promise<unknown> = Promise.resolve();
  private detachSink: (() => void) | null = null;
  private readonly hwm: number;
  private readonly holePolicy: HolePolicy;
  /** Settles (never rejects) when the stream has reached a terminal state. */
  private readonly settled: Promise<void>;
  private settle!: () => void;
  /** Bytes lent to the channel by `write` and not released yet. */
  private lentBytes = 0;
  /** Wakes `untilReleased` when the channel lets go of a lent packet. */
  private onRelease: (() => void) | null = null;
  /** Data bytes carried either way, for `virtwire:stream:close`. */
  private carried = 0;
  /** `virtwire:stream:open` went out for this stream, so `:close` must follow. */
  private announced = false;
  /** `program.PROCEDURE` of the opening call, naming the stream in errors. */
  readonly label: string;

  constructor(
    private readonly rpc: RpcClient,
    readonly target: StreamTarget,
    opts: VirStreamOptions = {},
  ) {
    this.label = target.procedure.label;
    this.hwm = Math.max(1, opts.highWaterMark ?? DEFAULT_HIGH_WATER_MARK);
    this.queue = new ReceiveQueue(this.hwm);
    this.holePolicy = opts.holes ?? 'zero';
    this.settled = new Promise((resolve) => {
      this.settle = resolve;
    });
  }

  /** True when the stream was opened sparse: holes may arrive, and `sendHole` is allowed. */
  get isSparse(): boolean {
    return this.target.sparse;
  }

  /** True once the stream is finished, aborted or failed. */
  get isClosed(): boolean {
    return this.phase === 'finished' || this.phase === 'aborted' || this.phase === 'failed';
  }

  /** Bytes received and not yet read. */
  get bufferedBytes(): number {
    return this.queue.bytes;
  }

  // ---------------------------------------------------------------------------
  // Opening (used by openStreamCall)

  /** Registers for the stream's packets; called with the CALL's serial as soon as it is sent. */
  attach(serial: number): void {
    this.serial = serial;
    const sink: StreamSink = {
      onPacket: (h, r, owned) => this.onPacket(h, r, owned),
      onClose: (err) => this.onConnectionClosed(err),
    };
    this.detachSink = this.rpc.addStream(serial, sink);
  }

  /** The opening call succeeded: the stream is live. */
  opened(): void {
    if (this.phase !== 'opening') return;
    this.phase = 'open';
    if (streamOpenChannel.hasSubscribers) {
      this.announced = true;
      const d = this.target.procedure;
      streamOpenChannel.publish({
        connectionId: this.rpc.id,
        program: d.program.name,
        procedure: d.name,
        serial: this.serial,
        direction: d.stream ?? 'read',
      } satisfies StreamOpenMessage);
    }
    this.updatePause();
  }

  /** The opening call failed: there is no stream on the daemon's side. */
  openFailed(err: Error): void {
    if (this.isClosed) return;
    this.failure = err;
    this.terminate('failed');
  }

  // ---------------------------------------------------------------------------
  // Incoming packets

  private onPacket(h: MessageHeader, r: XdrReader, owned: boolean): void {
    if (this.isClosed) return;
    const id = this.target.procedure.program;
    if (h.prog !== id.program || h.vers !== id.version) {
      this.fail(
        new ProtocolError(
          `stream packet for serial ${h.serial} names program 0x${h.prog.toString(16)} v${h.vers}, the stream uses 0x${id.program.toString(16)} v${id.version}`,
        ),
      );
      return;
    }
    try {
      if (h.type === STREAM_HOLE) this.onHole(h, r);
      else if (h.status === CONTINUE) this.onData(r, owned);
      else if (h.status === OK) this.onConfirm();
      else this.onRemoteError(r);
    } catch (err) {
      this.fail(
        new ProtocolError(
          `stream packet of ${this.label} does not decode: ${(err as Error).message}`,
          { cause: err },
        ),
      );
    }
  }

  private onData(r: XdrReader, owned: boolean): void {
    if (r.remaining === 0) {
      // An empty CONTINUE packet is the daemon's end of stream.
      this.eof = true;
      this.wake();
      return;
    }
    if (this.phase === 'closing') return; // data still in flight after our finish/abort
    const view = r.buf.subarray(r.pos, r.end);
    this.carried += view.length;
    this.queue.pushData(view, owned, this.waiter !== null);
    this.queued();
  }

  private onHole(h: MessageHeader, r: XdrReader): void {
    if (!this.target.sparse) {
      throw new ProtocolError(`${this.label}: the daemon sent a hole on a non-sparse stream`);
    }
    if (h.status !== CONTINUE) {
      throw new ProtocolError(`${this.label}: stream hole with status ${h.status}`);
    }
    const hole = decodeVirNetStreamHole(r);
    r.done();
    if (hole.length <= 0n) {
      throw new ProtocolError(`${this.label}: stream hole of length ${hole.length}`);
    }
    if (this.phase === 'closing') return;
    this.queue.pushHole(hole.length);
    this.queued();
  }

  private onConfirm(): void {
    const c = this.closing;
    if (!c) {
      this.fail(
        new ProtocolError(
          `${this.label}: the daemon confirmed a finish or abort that was never sent`,
        ),
      );
      return;
    }
    this.terminate(c.kind === 'finish' ? 'finished' : 'aborted');
    c.resolve();
  }

  private onRemoteError(r: XdrReader): void {
    const e = decodeVirNetMessageError(r);
    r.done();
    const err = new RemoteError(e, this.label);
    const c = this.closing;
    if (c) {
      // the answer to our finish (a failure) or abort (it is over either way)
      this.failure = c.kind === 'finish' ? err : this.failure;
      this.terminate(c.kind === 'finish' ? 'failed' : 'aborted');
      if (c.kind === 'finish') c.reject(err);
      else c.resolve();
      return;
    }
    this.fail(err);
  }

  private onConnectionClosed(err: ConnectionClosedError): void {
    this.detachSink = null;
    if (this.isClosed) return;
    const c = this.closing;
    this.failure ??= err;
    this.terminate(c?.kind === 'abort' ? 'aborted' : 'failed');
    if (c?.kind === 'abort') c.resolve();
    else c?.reject(err);
  }

  /**
   * The stream failed for a reason the daemon may not know (our protocol
   * check) or reported itself: end it here, and send an abort so the daemon
   * frees its side too (libvirt's C client leaves that to the disconnect).
   */
  private fail(err: Error): void {
    if (this.isClosed) return;
    const live = this.phase === 'open';
    const c = this.closing;
    this.failure = err;
    this.terminate('failed');
    if (live) this.sendStatus(ERROR);
    // A finish or abort waiting for the daemon's confirmation will not get one now.
    if (c?.kind === 'finish') c.reject(err);
    else c?.resolve();
  }

  /** Something was queued: it may fill the queue past the high-water mark, and a reader waits. */
  private queued(): void {
    this.updatePause();
    // the weight counts a little per item on top of the bytes: at worst an early wake
    if (this.queue.weight >= this.wakeBytes) this.wake();
  }

  /**
   * Pauses the connection when the queue is over the high-water mark, resumes
   * below half of it. Not while the opening call is unanswered: its reply may
   * be queued behind the data, and it must get through.
   */
  private updatePause(): void {
    const want = this.phase === 'open' && this.queue.weight >= this.hwm;
    if (want && !this.paused) {
      this.paused = true;
      this.rpc.pauseReading(this);
    } else if (
      this.paused &&
      (this.phase !== 'open' || this.queue.weight <= this.hwm / 2 || this.queue.empty)
    ) {
      this.paused = false;
      this.rpc.resumeReading(this);
    }
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  private terminate(phase: 'finished' | 'aborted' | 'failed'): void {
    this.phase = phase;
    // Finished or aborted: nothing queued will be read. Failed: the data before
    // the error is still delivered; the free slots go either way.
    if (phase !== 'failed') this.queue.clear();
    else this.queue.dropFreeSlots();
    this.detachSink?.();
    this.detachSink = null;
    this.updatePause();
    this.wake();
    this.settle();
    if (this.announced && streamCloseChannel.hasSubscribers) {
      const m: StreamCloseMessage = {
        connectionId: this.rpc.id,
        serial: this.serial,
        outcome: phase === 'failed' ? 'error' : phase,
        bytes: this.carried,
      };
      streamCloseChannel.publish(
        this.failure && phase === 'failed' ? { ...m, error: this.failure } : m,
      );
    }
  }

  private sendStatus(status: number): boolean {
    try {
      return this.rpc.sendRaw(this.target.procedure, STREAM, this.serial, status, null);
    } catch {
      return true; // the connection is gone: its close path settles the stream
    }
  }

  // ---------------------------------------------------------------------------
  // Reading

  /**
   * The next piece of the stream: `{ data }`, `{ hole }` (sparse streams), or
   * null at the end, once the daemon has confirmed the finish handshake.
   */
  read(opts: StreamReadOptions = {}): Promise<StreamChunk | null> {
    return this.next(opts, false);
  }

  private async next(
    opts: StreamReadOptions,
    borrow: boolean,
    returnLent = true,
  ): Promise<StreamChunk | null> {
    this.queue.borrowing = borrow;
    if (returnLent) this.queue.returnLent();
    if (this.target.procedure.stream === 'write') {
      throw new StreamStateError(
        `${this.label} is an upload stream: the daemon sends no data on it`,
      );
    }
    const { signal } = opts;
    for (;;) {
      if (signal?.aborted) throw this.abortFor(signal);
      const item = this.queue.shift(borrow);
      if (item !== undefined) {
        this.updatePause();
        return item;
      }
      if (this.phase === 'failed') throw this.failure!;
      if (this.phase === 'aborted' || this.closing?.kind === 'abort') {
        throw new AbortError(`${this.label}: stream aborted`, { cause: this.failure });
      }
      if (this.phase === 'finished') return null;
      if (this.closing?.kind === 'finish') {
        await this.closing.promise;
        return null;
      }
      if (this.eof && this.phase === 'open') {
        await this.finish({ signal });
        return null;
      }
      await this.waitChange(signal);
    }
  }

  /**
   * Like `read`, but returns everything queued at once (at least one piece),
   * or null at the end, so that a consumer able to take many chunks in one
   * call (writev) empties the queue sooner. With `borrow`, data comes as
   * views of the stream's receive buffers, valid until the next read.
   */
  async readBatch(opts: StreamBatchOptions = {}): Promise<StreamChunk[] | null> {
    const borrow = opts.borrow ?? false;
    // never wait for more than the queue may hold, or the paused connection would stall us
    const min = Math.min(opts.minBytes ?? 0, this.hwm);
    this.queue.returnLent();
    const first = await this.next(opts, borrow, false);
    if (first === null) return null;
    const out: StreamChunk[] = [first];
    let bytes = first.data?.length ?? 0;
    for (;;) {
      for (let c = this.queue.shift(borrow); c !== undefined; c = this.queue.shift(borrow)) {
        out.push(c);
        bytes += c.data?.length ?? 0;
      }
      this.updatePause();
      if (bytes >= min || this.eof || this.phase !== 'open') return out;
      await this.waitChange(opts.signal, min - bytes);
    }
  }

  /**
   * Waits for the next change: anything queued (or, with `bytes`, that many
   * data bytes queued), the end, an error, or the signal.
   */
  private waitChange(signal: AbortSignal | undefined, bytes = 0): Promise<void> {
    if (this.waiter) {
      return Promise.reject(new StreamStateError(`${this.label}: another read is already waiting`));
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.waiter = null;
        this.wakeBytes = 0;
        reject(this.abortFor(signal!));
      };
      this.wakeBytes = bytes;
      this.waiter = () => {
        this.wakeBytes = 0;
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** A signal fired: abort the stream (in the background) and return the error to throw. */
  private abortFor(signal: AbortSignal): AbortError {
    void this.abort(signal.reason);
    return new AbortError(`${this.label}: stream aborted by its signal`, {
      cause: signal.reason,
    });
  }

  /** Yields data and holes until the end of the stream. Leaving the loop early aborts the stream. */
  async *sparse(opts: StreamReadOptions = {}): AsyncGenerator<StreamChunk, void, undefined> {
    let done = false;
    try {
      for (;;) {
        const c = await this.read(opts);
        if (c === null) break;
        yield c;
      }
      done = true;
    } finally {
      if (!done && !this.isClosed) await this.abort();
    }
  }

  /**
   * Yields the stream's bytes until its end. A hole of a sparse stream is
   * yielded as zero bytes (as virStreamRecv does), or throws StreamHoleError
   * with `holes: 'throw'`. Leaving the loop early aborts the stream.
   */
  async *data(opts: StreamDataOptions = {}): AsyncGenerator<Uint8Array, void, undefined> {
    const policy = opts.holes ?? this.holePolicy;
    let done = false;
    try {
      for (;;) {
        const c = await this.read(opts);
        if (c === null) break;
        if (c.data) {
          yield c.data;
          continue;
        }
        if (policy === 'throw') throw new StreamHoleError(c.hole);
        for (let left = c.hole; left > 0n; ) {
          const n = left > BigInt(ZERO_CHUNK) ? ZERO_CHUNK : Number(left);
          left -= BigInt(n);
          yield new Uint8Array(n);
        }
      }
      done = true;
    } finally {
      if (!done && !this.isClosed) await this.abort();
    }
  }

  /** The stream's bytes, as `data()` yields them. */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this.data();
  }

  /** Reads the whole stream into one array (holes as zeros). For small streams such as screenshots. */
  async readAll(
    opts: StreamDataOptions & { readonly maxBytes?: number } = {},
  ): Promise<Uint8Array> {
    const max = opts.maxBytes ?? Number.MAX_SAFE_INTEGER;
    const parts: Uint8Array[] = [];
    let total = 0;
    for await (const c of this.data(opts)) {
      total += c.length;
      if (total > max) {
        await this.abort();
        throw new StreamStateError(`${this.label}: stream longer than ${max} bytes`);
      }
      parts.push(c);
    }
    if (parts.length === 1) return parts[0]!;
    const out = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  /**
   * A Node Readable of the stream's bytes (holes per `holes`, zeros by
   * default). Destroying it before the end aborts the stream; a stream
   * failure is emitted as its 'error'.
   */
  toReadable(opts: StreamDataOptions = {}): Readable {
    return Readable.from(this.data(opts), { objectMode: false });
  }

  // ---------------------------------------------------------------------------
  // Writing

  /** Runs `op` after every write/hole/finish queued before it, so packets keep their order. */
  private serialize<T>(op: () => Promise<T>): Promise<T> {
    const p = this.tail.then(op);
    this.tail = p.catch(() => {});
    return p;
  }

  private checkWritable(): void {
    if (this.failure) throw this.failure;
    if (this.phase === 'aborted') throw new AbortError(`${this.label}: stream aborted`);
    if (this.phase !== 'open') {
      throw new StreamStateError(`${this.label}: stream is ${this.phase}, cannot send`);
    }
  }

  /**
   * Waits until the socket takes more data, the stream fails, or the signal
   * fires (which aborts the stream).
   */
  private pushBack(signal: AbortSignal | undefined): Promise<void> {
    return this.waitWritable(this.rpc.drained(), signal);
  }

  /** Waits for `event`, the stream's end or the signal's abort; then the stream must still be writable. */
  private async waitWritable(event: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      if (!signal) return;
      onAbort = () => reject(this.abortFor(signal));
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([event, this.settled, aborted]);
    } finally {
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
    this.checkWritable();
  }

  /**
   * Waits, after a send the channel pushed back on, until more may go out.
   * Lent packets (tcp, unix) are counted until the socket lets go of them:
   * up to SEND_WINDOW bytes may wait in Node's queue, so the kernel's buffer
   * is refilled the moment the daemon reads (waiting for 'drain' after each
   * packet let it run dry, and the daemon woke for partial reads: more CPU
   * per byte on its side). The window fills when the daemon stops reading,
   * which is how its throttling still reaches the caller. Copied packets
   * (channels without writev) wait for 'drain' as before.
   */
  private async throttle(ok: boolean, signal: AbortSignal | undefined): Promise<void> {
    if (ok) return;
    if (this.lentBytes === 0) return this.pushBack(signal);
    while (this.lentBytes >= SEND_WINDOW) await this.untilReleased(signal);
  }

  /** Waits for the next release of a lent packet, the stream's end, or the signal. */
  private async untilReleased(signal: AbortSignal | undefined): Promise<void> {
    const released = new Promise<void>((resolve) => {
      this.onRelease = resolve;
    });
    try {
      await this.waitWritable(released, signal);
    } finally {
      this.onRelease = null;
    }
  }

  /**
   * Sends bytes: packets of at most 262120 bytes, lent to the connection
   * rather than copied where its channel allows (tcp, unix), so this resolves
   * (and the caller may reuse `chunk`) once the socket has let go of them.
   * Writes issued without waiting for the previous one queue behind it (a
   * caller with several buffers keeps the socket busy); the daemon's
   * throttling (it stops reading once max_client_requests packets wait)
   * holds them back.
   */
  write(chunk: Uint8Array, opts: StreamReadOptions = {}): Promise<void> {
    // the last piece's release: the channel lets go of pieces in order
    let released: Promise<Error | undefined> | null = null;
    const queued = this.serialize(async () => {
      const { signal } = opts;
      for (let off = 0; off < chunk.length; off += STREAM_CHUNK_MAX) {
        if (signal?.aborted) throw this.abortFor(signal);
        this.checkWritable();
        const piece = chunk.subarray(off, Math.min(chunk.length, off + STREAM_CHUNK_MAX));
        const size = piece.length;
        let done!: (error?: Error) => void;
        released = new Promise((resolve) => {
          done = (error) => {
            this.lentBytes -= size;
            this.onRelease?.();
            resolve(error);
          };
        });
        this.lentBytes += size;
        let ok: boolean;
        try {
          ok = this.rpc.sendLent(this.target.procedure, STREAM, this.serial, CONTINUE, piece, done);
        } catch (err) {
          done();
          throw err;
        }
        this.carried += size;
        await this.throttle(ok, signal);
      }
    });
    return this.afterRelease(queued, () => released);
  }

  /** Settles like `queued`, but only once the channel let go of the last piece sent. */
  private async afterRelease(
    queued: Promise<void>,
    last: () => Promise<Error | undefined> | null,
  ): Promise<void> {
    let failure: { error: unknown } | null = null;
    try {
      await queued;
    } catch (error) {
      failure = { error };
    }
    // whatever happened, the chunk is the caller's again only once the channel let go of it
    const failed = await last();
    if (failure) throw failure.error;
    if (failed) {
      this.checkWritable(); // the stream's own failure, when it knows of it already
      throw new ConnectionClosedError(
        'error',
        `${this.label}: the connection failed while sending`,
        {
          cause: failed,
        },
      );
    }
  }

  /**
   * Tells the daemon to skip `length` bytes (they read as zeros): sparse
   * streams only. Refused locally on other streams, since a daemon that gets
   * an unexpected hole drops the whole connection.
   */
  sendHole(length: number | bigint, opts: StreamReadOptions = {}): Promise<void> {
    return this.serialize(async () => {
      if (!this.target.sparse) {
        throw new StreamStateError(`${this.label}: holes need a sparse stream`);
      }
      const len = BigInt(length);
      if (len <= 0n || len > HYPER_MAX) {
        throw new RangeError(`hole length must be between 1 and 2^63-1, got ${len}`);
      }
      if (opts.signal?.aborted) throw this.abortFor(opts.signal);
      this.checkWritable();
      const ok = this.rpc.send(this.target.procedure, STREAM_HOLE, this.serial, CONTINUE, HOLE, {
        length: len,
        flags: 0,
      });
      await this.throttle(ok, opts.signal);
    });
  }

  /**
   * The finish handshake: after everything written so far, sends an empty
   * STREAM packet with status OK and resolves when the daemon answers with
   * its own (it has flushed and closed its end), or rejects with the
   * RemoteError it sends instead. Reading to the end does this by itself.
   * On a read stream before its end, data not read yet is dropped.
   * Calling it again returns the same promise.
   */
  finish(opts: StreamReadOptions = {}): Promise<void> {
    this.finishing ??= this.serialize(async () => {
      if (this.phase === 'finished') return;
      if (this.closing?.kind === 'finish') return this.closing.promise;
      this.checkWritable();
      const c = this.beginClosing('finish');
      this.sendStatus(OK);
      await this.awaitClosing(c, opts.signal);
    });
    return this.finishing;
  }

  private beginClosing(kind: 'finish' | 'abort'): Closing {
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => {});
    const c: Closing = { kind, promise, resolve, reject };
    this.closing = c;
    this.phase = 'closing';
    this.updatePause(); // the confirmation must get through
    this.wake();
    return c;
  }

  private async awaitClosing(c: Closing, signal: AbortSignal | undefined): Promise<void> {
    if (!signal) return c.promise;
    if (signal.aborted) throw this.abortFor(signal);
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(this.abortFor(signal));
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([c.promise, aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort!);
    }
  }

  /**
   * Ends the stream on both sides: sends an empty STREAM packet with status
   * ERROR and resolves when the daemon confirms (data still in flight is
   * dropped). Pending and later reads and writes fail with AbortError. Never
   * rejects; does nothing on a stream that is already over.
   */
  abort(reason?: unknown): Promise<void> {
    if (this.isClosed) return Promise.resolve();
    if (this.closing) return this.closing.promise.catch(() => {});
    // Not on the wire yet: openStreamCall aborts it if the reply says it opened.
    if (this.phase === 'opening') return Promise.resolve();
    const c = this.beginClosing('abort');
    this.failure = new AbortError(`${this.label}: stream aborted`, { cause: reason });
    // What is queued will not be read: release it (and the connection) now.
    this.queue.clear();
    this.updatePause();
    this.sendStatus(ERROR);
    return c.promise.catch(() => {});
  }

  /** Aborts the stream unless it already finished. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.abort();
  }

  /**
   * A Node Writable feeding this stream: `final` runs the finish handshake,
   * destroying it before that aborts the stream.
   */
  toWritable(): Writable {
    return new Writable({
      highWaterMark: STREAM_CHUNK_MAX,
      write: (chunk: Buffer, _enc, cb) => {
        this.write(chunk).then(() => cb(), cb);
      },
      final: (cb) => {
        this.finish().then(() => cb(), cb);
      },
      destroy: (err, cb) => {
        if (this.isClosed) cb(err);
        else this.abort(err).then(() => cb(err));
      },
    });
  }
}
