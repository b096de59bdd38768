// The connection state machine (open, closing, closed) with its one close path for every pending
// call, stream and listener: kept in one file past ~700 lines so that no state escapes that path.
import type { Channel, ChannelSink } from '../channel.js';
import {
  type ConnectionCloseMessage,
  callChannel,
  callTraced,
  connectionCloseChannel,
  messageChannel,
  nextId,
  type RpcCallMessage,
} from '../diagnostics.js';
import { AbortError, TimeoutError } from '../errors.js';
import { KeepaliveProcedure, keepaliveProgram } from '../generated/keepalive.js';
import {
  decodeVirNetMessageError,
  VIR_NET_MESSAGE_MAX,
  VirNetMessageStatus,
  VirNetMessageType,
} from '../generated/virnet.js';
import type { CallDescriptor } from '../xdr/program.js';
import { XdrReader } from '../xdr/reader.js';
import { findProcedure } from './descriptor.js';
import { type CloseReason, ConnectionClosedError, ProtocolError, RemoteError } from './errors.js';
import { Framer, LENGTH_WORD } from './framer.js';
import { type BodyEncoder, Outbox, publishWire } from './outbox.js';
import { carriesError, errorCodeOf, nodeDebugLogging } from './trace.js';

const { VIR_NET_CALL, VIR_NET_REPLY, VIR_NET_MESSAGE, VIR_NET_STREAM } = VirNetMessageType;
const { VIR_NET_CALL_WITH_FDS, VIR_NET_REPLY_WITH_FDS, VIR_NET_STREAM_HOLE } = VirNetMessageType;
const { VIR_NET_OK, VIR_NET_ERROR, VIR_NET_CONTINUE } = VirNetMessageStatus;

const PING = findProcedure(keepaliveProgram, 'PING');
const PONG = findProcedure(keepaliveProgram, 'PONG');
const KEEPALIVE = keepaliveProgram.program;

/** Options every call accepts. */
export interface CallOptions {
  /** Abandons the call when the signal fires (the daemon may still carry it out). */
  readonly signal?: AbortSignal | undefined;
  /** Abandons the call after this many milliseconds. */
  readonly timeoutMs?: number | undefined;
}

/** How and why a connection ended. */
export interface CloseInfo {
  readonly reason: CloseReason;
  readonly error?: Error;
}

/** Header fields of one incoming message, for event and stream handlers. */
export interface MessageHeader {
  readonly prog: number;
  readonly vers: number;
  readonly proc: number;
  readonly type: number;
  readonly serial: number;
  readonly status: number;
}

/** Receives the packets of one data stream (see the streams layer). */
export interface StreamSink {
  /**
   * A packet for this stream; `r` is positioned at its payload and valid only
   * during the call. `owned` is true when the message's bytes (`r.buf`) were
   * assembled in a buffer of their own that nothing else reuses: the sink may
   * then keep a view of them instead of copying.
   */
  onPacket(header: MessageHeader, r: XdrReader, owned: boolean): void;
  /** The connection ended. */
  onClose(err: ConnectionClosedError): void;
}

/**
 * A call waiting for its reply: the descriptor says how to decode it and how
 * to name it in errors; the cleanup only exists when the call has a timeout
 * or a signal, the trace only while someone subscribes to call tracing.
 */
class Pending {
  cleanup: (() => void) | null = null;
  constructor(
    readonly d: CallDescriptor,
    readonly resolve: (v: unknown) => void,
    readonly reject: (e: Error) => void,
    readonly trace: RpcCallMessage | null,
  ) {}
}

export interface RpcClientOptions {
  /**
   * Largest message accepted or sent, after its length word (default
   * VIR_NET_MESSAGE_MAX, 32 MiB, libvirt's own limit). A larger one is a
   * ProtocolError naming `maxMessage`; an incoming one closes the connection.
   */
  readonly maxMessage?: number;
  /**
   * How many calls given up by their caller (timeout, abort) are remembered
   * so their late replies are dropped quietly (default 4096). Past it the
   * oldest is forgotten, and a late reply to it or to any older call is
   * dropped as well: the bound keeps memory flat however many calls time out.
   */
  readonly maxAbandoned?: number;
}

/** Default of RpcClientOptions.maxAbandoned. */
export const DEFAULT_MAX_ABANDONED = 4096;

/**
 * A client's own sink: methods on a prototype, not closures, since every
 * idle connection of a process that holds thousands pays for what it keeps.
 */
class ClientSink implements ChannelSink {
  constructor(private readonly client: RpcClient) {}
  data(chunk: Uint8Array): void {
    this.client.onData(chunk);
  }
  drain(): void {
    this.client.onDrain();
  }
  end(error?: Error): void {
    this.client.onEnd(error);
  }
}

/** Forwards the bottom channel's events to a sink that `upgrade` may replace. */
class SinkSwitch implements ChannelSink {
  constructor(public target: ChannelSink) {}
  data(chunk: Uint8Array): void {
    this.target.data(chunk);
  }
  drain(): void {
    this.target.drain();
  }
  end(error?: Error): void {
    this.target.end(error);
  }
}

/**
 * One libvirt RPC connection over any Channel: serial numbers, many calls in
 * flight, replies matched on (program, version, serial), events and stream
 * packets routed to their handlers, keepalive, and a single close path that
 * rejects everything still waiting. Every message in and out is published on
 * `virtwire:rpc:message`, every call on the `virtwire:rpc:call` tracing
 * channel, while someone subscribes.
 */
export class RpcClient {
  /** Process-unique number of this connection in diagnostics messages. */
  readonly id = nextId();
  /** Made when first asked for: most connections of a large pool never are. */
  private closedPromise: Promise<CloseInfo> | null = null;
  private resolveClosed: ((info: CloseInfo) => void) | null = null;
  private closeInfo: CloseInfo | null = null;
  private serial = 0;
  private readonly pending = new Map<number, Pending>();
  /** Serials of calls given up by their caller, whose late replies are dropped quietly; oldest first. */
  private readonly abandoned = new Set<number>();
  private readonly maxAbandoned: number;
  /** The newest abandoned serial forgotten past maxAbandoned: replies to it and older ones are late, not bogus. */
  private forgotten: number | null = null;
  /** A PONG went out for the chunk being read: one answers every PING in it. */
  private ponged = false;
  private malformed = 0;
  private readonly eventHandlers = new Map<number, (h: MessageHeader, r: XdrReader) => void>();
  private readonly streams = new Map<number, StreamSink>();
  /** Outgoing messages, batched per tick. */
  private readonly out: Outbox;
  private readonly reader = new XdrReader();
  private readonly framer: Framer;
  private readonly maxMessage: number;
  private keepaliveTimer: NodeJS.Timeout | null = null;
  private lastReceived = Date.now();
  private unansweredPings = 0;
  private readonly closeListeners = new Set<(info: CloseInfo) => void>();
  private readonly drainListeners = new Set<() => void>();
  /** Holders (streams with full queues) that asked to stop reading from the channel. */
  private readonly readPausers = new Set<object>();
  private pausedPingTimer: NodeJS.Timeout | null = null;
  /** The daemon runs keepalive for us (we probed PROGRAM_KEEPALIVE): set by startKeepalive. */
  private peerKeepalive = false;
  private keepaliveMs = 0;
  /** This client's own view of its channel's events. */
  private readonly own: ChannelSink = new ClientSink(this);
  /** Where the bottom channel's events go: this client, or a layer `upgrade` put in between. */
  private readonly below = new SinkSwitch(this.own);

  constructor(
    private channel: Channel,
    opts: RpcClientOptions = {},
  ) {
    nodeDebugLogging();
    this.maxMessage = opts.maxMessage ?? VIR_NET_MESSAGE_MAX;
    this.maxAbandoned = Math.max(0, opts.maxAbandoned ?? DEFAULT_MAX_ABANDONED);
    this.framer = new Framer((m, owned) => this.dispatch(m, owned), this.maxMessage);
    this.out = new Outbox(channel, this.maxMessage, this.id);
    channel.open(this.below);
  }

  /** @internal Bytes from the channel (see ClientSink). */
  onData(chunk: Uint8Array): void {
    if (this.closeInfo) return;
    this.ponged = false;
    try {
      this.framer.push(chunk);
    } catch (err) {
      this.fail('error', err instanceof Error ? err : new ProtocolError(String(err)));
    }
  }

  /** Settles once, when the connection has ended, with the reason. */
  get closed(): Promise<CloseInfo> {
    if (this.closedPromise === null) {
      const info = this.closeInfo;
      this.closedPromise =
        info !== null
          ? Promise.resolve(info)
          : new Promise((resolve) => {
              this.resolveClosed = resolve;
            });
    }
    return this.closedPromise;
  }

  /** True until the connection has ended. */
  get isOpen(): boolean {
    return this.closeInfo === null;
  }

  /** When the last message arrived (Date.now() ms; the time the client was made until one does). */
  get lastReceivedAt(): number {
    return this.lastReceived;
  }

  /** Number of calls waiting for their reply. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Event (MESSAGE) packets dropped because their handler could not decode them. */
  get malformedEvents(): number {
    return this.malformed;
  }

  private nextSerial(): number {
    this.serial = (this.serial + 1) >>> 0;
    if (this.serial === 0) this.serial = 1;
    return this.serial;
  }

  /** Calls the procedure `d` describes with `args` and resolves with its decoded reply. */
  call<A, R>(d: CallDescriptor<A, R>, args: A, opts?: CallOptions): Promise<R>;
  call(d: CallDescriptor, args: unknown, opts?: CallOptions): Promise<unknown> {
    if (d.type !== VIR_NET_CALL) {
      return Promise.reject(
        new ProtocolError(`${d.label} is an event or one-way message, not a callable procedure`),
      );
    }
    if (d.stream !== null) {
      return Promise.reject(
        new ProtocolError(`${d.label} opens a data stream: use the streams API to call it`),
      );
    }
    return this.start(d, args, opts, null);
  }

  /**
   * Calls a procedure that opens a data stream. `attach` receives the serial
   * as soon as the call is queued: the stream's packets may arrive before
   * the reply, and carry that serial.
   */
  openStream(
    d: CallDescriptor,
    args: unknown,
    attach: (serial: number) => void,
    opts?: CallOptions,
  ): Promise<unknown> {
    if (d.stream === null) {
      return Promise.reject(new ProtocolError(`${d.label} does not open a data stream`));
    }
    return this.start(d, args, opts, attach);
  }

  /** The one call path; traced while someone subscribes to `virtwire:rpc:call`. */
  private start(
    d: CallDescriptor,
    args: unknown,
    opts: CallOptions | undefined,
    attach: ((serial: number) => void) | null,
  ): Promise<unknown> {
    if (!callTraced()) return this.begin(d, args, opts, attach, null);
    const trace: RpcCallMessage = {
      connectionId: this.id,
      program: d.program.name,
      procedure: d.name,
      proc: d.number,
      serial: 0,
      requestBytes: 0,
    };
    return callChannel.tracePromise(this.begin, trace, this, d, args, opts, attach, trace);
  }

  private begin(
    d: CallDescriptor,
    args: unknown,
    opts: CallOptions | undefined,
    attach: ((serial: number) => void) | null,
    trace: RpcCallMessage | null,
  ): Promise<unknown> {
    if (this.closeInfo) return Promise.reject(this.closedError(`cannot call ${d.label}`));
    const signal = opts?.signal;
    if (signal?.aborted) {
      return Promise.reject(
        new AbortError(`${d.label} aborted before it was sent`, { cause: signal.reason }),
      );
    }
    const serial = this.nextSerial();
    let p!: Pending;
    const promise = new Promise<unknown>((resolve, reject) => {
      p = new Pending(d, resolve, reject, trace);
    });
    let size: number;
    try {
      size = this.out.queue(d, d.type, serial, VIR_NET_OK, d.args, args);
    } catch (err) {
      p.reject(err as Error);
      return promise;
    }
    if (trace !== null) {
      trace.serial = serial;
      trace.requestBytes = size;
    }
    this.pending.set(serial, p);
    attach?.(serial);
    if (signal || opts?.timeoutMs !== undefined) this.watch(p, serial, signal, opts?.timeoutMs);
    return promise;
  }

  /** Arms a call's timeout and abort signal, and the cleanup that disarms them. */
  private watch(
    p: Pending,
    serial: number,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
  ): void {
    let timer: NodeJS.Timeout | null = null;
    const onAbort = (): void => {
      this.abandon(serial, new AbortError(`${p.d.label} aborted`, { cause: signal?.reason }));
    };
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => {
        this.abandon(serial, new TimeoutError(`${p.d.label} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    p.cleanup = () => {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
  }

  private abandon(serial: number, err: Error): void {
    const p = this.pending.get(serial);
    if (!p) return;
    this.pending.delete(serial);
    this.abandoned.add(serial);
    if (this.abandoned.size > this.maxAbandoned) {
      // Sets iterate in insertion order: the first is the oldest.
      const oldest = this.abandoned.values().next().value as number;
      this.abandoned.delete(oldest);
      this.forgotten = oldest;
    }
    p.cleanup?.();
    p.reject(err);
  }

  /** True for a serial this client issued no later than the newest forgotten abandoned one. */
  private wasForgotten(serial: number): boolean {
    if (this.forgotten === null) return false;
    const age = (this.serial - serial) >>> 0;
    return age >= (this.serial - this.forgotten) >>> 0 && age < 2 ** 31;
  }

  /**
   * Sends one message of the procedure `d` that is not a call of it (stream
   * packets, keepalive): header fields from `d` and the arguments, the body
   * written by `body` from `value`, in the batch of this tick (see Outbox).
   * Returns false when the caller should wait for `drained()` before
   * writing more.
   */
  send<V>(
    d: CallDescriptor,
    type: number,
    serial: number,
    status: number,
    body: BodyEncoder<V> | null,
    value?: V,
  ): boolean {
    if (this.closeInfo) throw this.closedError('cannot send');
    this.out.queue(d, type, serial, status, body, value);
    return !this.channel.needsDrain;
  }

  /**
   * Writes one message whose payload is raw bytes (stream data), after the
   * messages queued before it, copying `payload`, so the caller may reuse it
   * at once. Returns the channel's answer, like `send`.
   */
  sendRaw(
    d: CallDescriptor,
    type: number,
    serial: number,
    status: number,
    payload: Uint8Array | null,
  ): boolean {
    if (this.closeInfo) throw this.closedError('cannot send');
    return this.out.raw(d, type, serial, status, payload);
  }
  /**
   * Like `sendRaw`, but lends `payload` (no copy) where the channel allows:
   * `done` is called once the connection has let go of it, with an error if
   * it will never be sent (the connection failed). Until then the caller must
   * not modify it. Returns the channel's answer, like `send`.
   */
  sendLent(
    d: CallDescriptor,
    type: number,
    serial: number,
    status: number,
    payload: Uint8Array,
    done: (error?: Error) => void,
  ): boolean {
    if (this.closeInfo) throw this.closedError('cannot send');
    return this.out.lend(d, type, serial, status, payload, done);
  }

  /**
   * Stops reading from the channel until every holder that asked has called
   * `resumeReading`. This holds back ALL incoming traffic on the connection
   * (replies, events, other streams), which is how a stream whose consumer
   * lags pushes back on the daemon through TCP. Meanwhile a keepalive PING
   * goes out every interval, so the daemon, which cannot hear our answers to
   * its own PINGs, does not declare us dead; and our keepalive does not count
   * the PONGs we are not reading.
   */
  pauseReading(holder: object): void {
    if (this.closeInfo || this.readPausers.has(holder)) return;
    this.readPausers.add(holder);
    if (this.readPausers.size !== 1) return;
    this.channel.pause();
    if (this.peerKeepalive) {
      this.pausedPingTimer = setInterval(() => this.sendPing(), this.keepaliveMs || 5000);
      this.pausedPingTimer.unref();
    }
  }

  /** Undoes `pauseReading(holder)`; reading restarts when no holder is left. */
  resumeReading(holder: object): void {
    if (!this.readPausers.delete(holder) || this.readPausers.size !== 0) return;
    if (this.pausedPingTimer) clearInterval(this.pausedPingTimer);
    this.pausedPingTimer = null;
    if (this.closeInfo) return;
    this.lastReceived = Date.now();
    this.unansweredPings = 0;
    this.channel.resume();
  }

  /** True while some holder keeps the channel from being read. */
  get readingPaused(): boolean {
    return this.readPausers.size > 0;
  }

  private sendPing(): void {
    try {
      this.send(PING, PING.type, 0, VIR_NET_OK, null);
    } catch {
      // the close path reports the failure
    }
  }

  /** Resolves when the channel can take more data (after a write that returned false). */
  drained(): Promise<void> {
    if (this.closeInfo) return Promise.reject(this.closedError('cannot write'));
    if (!this.channel.needsDrain) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onDrain = (): void => {
        off();
        resolve();
      };
      const onClose = (info: CloseInfo): void => {
        off();
        reject(this.closedError('cannot write', info));
      };
      const off = (): void => {
        this.drainListeners.delete(onDrain);
        this.closeListeners.delete(onClose);
      };
      this.drainListeners.add(onDrain);
      this.closeListeners.add(onClose);
    });
  }

  /** Routes MESSAGE packets of one program (events) to `handler`; returns an unregister function. */
  onEvent(prog: number, handler: (h: MessageHeader, r: XdrReader) => void): () => void {
    this.eventHandlers.set(prog, handler);
    return () => {
      if (this.eventHandlers.get(prog) === handler) this.eventHandlers.delete(prog);
    };
  }

  /** Routes STREAM / STREAM_HOLE packets carrying `serial` to `sink`. */
  addStream(serial: number, sink: StreamSink): () => void {
    this.streams.set(serial, sink);
    return () => {
      if (this.streams.get(serial) === sink) this.streams.delete(serial);
    };
  }

  /** @internal The channel can take more (see ClientSink). */
  onDrain(): void {
    for (const fn of this.drainListeners) fn();
  }

  /** @internal The channel ended (see ClientSink). */
  onEnd(error?: Error): void {
    if (error) this.fail('error', error);
    else this.fail('eof');
  }

  /** Calls `fn` once when the connection ends; returns an unsubscribe function. */
  onClose(fn: (info: CloseInfo) => void): () => void {
    if (this.closeInfo) {
      fn(this.closeInfo);
      return () => {};
    }
    this.closeListeners.add(fn);
    return () => this.closeListeners.delete(fn);
  }

  /**
   * Starts libvirt's keepalive: after `intervalSec` without any incoming
   * packet send a PING; after `count` PINGs in a row with nothing received,
   * the peer is dead and the connection closes with reason `keepalive`.
   * An interval of 0 disables it.
   */
  startKeepalive(intervalSec: number, count: number): void {
    this.stopKeepalive();
    // Probing PROGRAM_KEEPALIVE made the daemon watch us even if we do not watch it.
    this.peerKeepalive = true;
    if (intervalSec <= 0 || this.closeInfo) return;
    const period = intervalSec * 1000;
    this.keepaliveMs = period;
    this.lastReceived = Date.now();
    this.unansweredPings = 0;
    this.keepaliveTimer = setInterval(() => {
      // Paused reading: silence is ours, not the peer's (pauseReading sends the PINGs).
      if (this.readPausers.size > 0) {
        this.lastReceived = Date.now();
        this.unansweredPings = 0;
        return;
      }
      if (Date.now() - this.lastReceived < period - 5) return;
      if (this.unansweredPings >= count) {
        this.fail(
          'keepalive',
          new ConnectionClosedError(
            'keepalive',
            `no answer from the peer after ${count} keepalive probes ${intervalSec} s apart`,
          ),
        );
        return;
      }
      this.unansweredPings++;
      this.sendPing();
    }, period);
    this.keepaliveTimer.unref();
  }

  stopKeepalive(): void {
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = null;
  }

  private dispatch(msg: Uint8Array, owned: boolean): void {
    this.lastReceived = Date.now();
    this.unansweredPings = 0;
    const r = this.reader.reset(msg, LENGTH_WORD, msg.length);
    // Header fields in locals: a reply (the common case) needs no header object.
    const prog = r.readUint();
    const vers = r.readUint();
    const proc = r.readInt();
    const type = r.readInt();
    const serial = r.readUint();
    const status = r.readInt();
    if (messageChannel.hasSubscribers) {
      const err = carriesError(type, status) ? errorCodeOf(msg) : undefined;
      publishWire(this.id, 'recv', prog, vers, proc, type, serial, status, msg.length, err);
    }
    if (status < VIR_NET_OK || status > VIR_NET_CONTINUE) {
      throw new ProtocolError(`message with unknown status ${status}`);
    }
    switch (type) {
      case VIR_NET_REPLY:
      case VIR_NET_REPLY_WITH_FDS:
        this.onReply(prog, vers, serial, status, r, msg.length);
        return;
      case VIR_NET_MESSAGE:
        // Keepalive from locals: a PING flood builds no header objects.
        if (prog === KEEPALIVE) this.onKeepalive(proc);
        else this.onMessage({ prog, vers, proc, type, serial, status }, r);
        return;
      case VIR_NET_STREAM:
      case VIR_NET_STREAM_HOLE: {
        const sink = this.streams.get(serial);
        sink?.onPacket({ prog, vers, proc, type, serial, status }, r, owned);
        return;
      }
      case VIR_NET_CALL:
      case VIR_NET_CALL_WITH_FDS:
        throw new ProtocolError(
          `the server sent a CALL (program 0x${prog.toString(16)}, procedure ${proc}); clients do not serve calls`,
        );
      default:
        throw new ProtocolError(`message with unknown type ${type}`);
    }
  }

  private onReply(
    prog: number,
    vers: number,
    serial: number,
    status: number,
    r: XdrReader,
    size: number,
  ): void {
    const p = this.pending.get(serial);
    if (p === undefined) {
      if (this.abandoned.delete(serial) || this.wasForgotten(serial)) return;
      throw new ProtocolError(`reply for serial ${serial}, which no call is waiting for`);
    }
    const id = p.d.program;
    if (id.program !== prog || id.version !== vers) {
      throw new ProtocolError(
        `reply for serial ${serial} names program 0x${prog.toString(16)} v${vers}, the call used 0x${id.program.toString(16)} v${id.version}`,
      );
    }
    this.pending.delete(serial);
    if (p.cleanup !== null) p.cleanup();
    const t = p.trace;
    if (t !== null) t.replyBytes = size;
    try {
      if (status === VIR_NET_OK) {
        const ret = p.d.ret;
        const v = ret !== null ? ret.decode(r) : undefined;
        r.done();
        if (t !== null) t.status = 'ok';
        p.resolve(v);
      } else if (status === VIR_NET_ERROR) {
        const e = decodeVirNetMessageError(r);
        r.done();
        const err = new RemoteError(e, p.d.label);
        if (t !== null) {
          t.status = 'error';
          t.errorCode = err.codeName;
        }
        p.reject(err);
      } else {
        p.reject(new ProtocolError(`reply to ${p.d.label} has status CONTINUE`));
      }
    } catch (err) {
      p.reject(
        new ProtocolError(`reply to ${p.d.label} does not decode: ${(err as Error).message}`, {
          cause: err,
        }),
      );
    }
  }

  /**
   * One PONG per chunk read, none while the peer is not reading what we
   * write: any packet of ours proves we are alive, and a PING flood must not
   * pile PONGs up in our write buffer.
   */
  private onKeepalive(proc: number): void {
    if (proc !== KeepaliveProcedure.KEEPALIVE_PROC_PING || this.ponged) return;
    if (this.channel.needsDrain) return;
    this.ponged = true;
    this.send(PONG, PONG.type, 0, VIR_NET_OK, null);
  }

  private onMessage(h: MessageHeader, r: XdrReader): void {
    const handler = this.eventHandlers.get(h.prog);
    if (handler === undefined) return;
    try {
      handler(h, r);
    } catch {
      // An event is one whole message: dropping it leaves the stream in step,
      // and the calls in flight have nothing to do with it.
      this.malformed++;
    }
  }

  private closedError(what: string, info = this.closeInfo): ConnectionClosedError {
    const reason = info?.reason ?? 'client';
    return new ConnectionClosedError(reason, `${what}: the connection is closed (${reason})`, {
      cause: info?.error,
    });
  }

  /** Ends the connection for `reason`: every waiting call, stream and listener learns of it once. */
  private fail(reason: CloseReason, error?: Error): void {
    if (this.closeInfo) return;
    if (reason === 'client') {
      try {
        this.out.flush(); // what was sent before close() still goes out, as if written at once
      } catch {
        // the channel is going away anyway
      }
    }
    this.out.close();
    const info: CloseInfo = error ? { reason, error } : { reason };
    this.closeInfo = info;
    this.stopKeepalive();
    const err = (label: string): ConnectionClosedError =>
      new ConnectionClosedError(
        reason,
        `${label}: connection closed (${reason})${error ? `: ${error.message}` : ''}`,
        { cause: error },
      );
    for (const p of this.pending.values()) {
      p.cleanup?.();
      p.reject(err(p.d.label));
    }
    this.pending.clear();
    this.abandoned.clear();
    for (const s of this.streams.values()) s.onClose(err('stream'));
    this.streams.clear();
    this.readPausers.clear();
    if (this.pausedPingTimer) clearInterval(this.pausedPingTimer);
    this.pausedPingTimer = null;
    for (const fn of this.closeListeners) fn(info);
    this.closeListeners.clear();
    this.drainListeners.clear();
    this.channel.close(error);
    if (connectionCloseChannel.hasSubscribers) {
      connectionCloseChannel.publish({
        connectionId: this.id,
        ...info,
      } satisfies ConnectionCloseMessage);
    }
    this.resolveClosed?.(info);
  }

  /** Closes the connection from this side; waiting calls reject with reason `client`. */
  close(): Promise<CloseInfo> {
    this.fail('client');
    return this.closed;
  }

  /**
   * Puts a layer between this client and its channel for all later traffic:
   * `layer(inner)` returns a channel of plaintext that encodes what is written
   * to it onto `inner` and decodes what `inner` delivers (the SASL security
   * layer negotiated during authentication). The layer opens `inner` when it
   * is opened itself. Call between two messages with nothing in flight, as
   * libvirt switches right after the last SASL reply. Messages are still
   * published in plaintext, above the layer.
   */
  upgrade(layer: (inner: Channel) => Channel): void {
    if (this.closeInfo) throw this.closedError('cannot upgrade');
    this.out.flush(); // messages sent before the switch travel without the layer
    const inner = this.channel;
    const handoff: Channel = {
      // The bottom channel stays open on this client; its events now go to the layer.
      open: (sink) => {
        this.below.target = sink;
      },
      write: (bytes) => inner.write(bytes),
      get needsDrain() {
        return inner.needsDrain;
      },
      pause: () => inner.pause(),
      resume: () => inner.resume(),
      close: (error) => inner.close(error),
    };
    const outer = layer(handoff);
    this.channel = outer;
    this.out.channel = outer;
    outer.open(this.own);
  }
}
