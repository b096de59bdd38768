import type { Duplex } from 'node:stream';
import {
  KEEPALIVE_PROGRAM,
  KEEPALIVE_PROTOCOL_VERSION,
  keepaliveProgram,
} from '../generated/keepalive.js';
import { decodeVirNetMessageError, VIR_NET_MESSAGE_MAX } from '../generated/virnet.js';
import type { Codec } from '../xdr/index.js';
import type { ProcedureInfo, ProgramInfo } from '../xdr/program.js';
import { XdrReader } from '../xdr/reader.js';
import { XdrWriter } from '../xdr/writer.js';
import {
  AbortError,
  type CloseReason,
  ConnectionClosedError,
  ProtocolError,
  RemoteError,
  TimeoutError,
} from './errors.js';
import { Framer, LENGTH_WORD } from './framer.js';
import { RAW_DATA, type RawDataSource } from './raw.js';
import {
  describeMessage,
  registerProgramNames,
  type TracedHeader,
  trace,
  tracing,
} from './trace.js';

registerProgramNames(keepaliveProgram);

/** Message types (virNetMessageType). */
export const MessageType = {
  CALL: 0,
  REPLY: 1,
  MESSAGE: 2,
  STREAM: 3,
  CALL_WITH_FDS: 4,
  REPLY_WITH_FDS: 5,
  STREAM_HOLE: 6,
} as const;
/** Message status (virNetMessageStatus). */
export const MessageStatus = { OK: 0, ERROR: 1, CONTINUE: 2 } as const;

const PING = 1;
const PONG = 2;
/** A batch of queued messages this large is written at once instead of at the end of the tick. */
const FLUSH_AT = 64 * 1024;

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
 * A call waiting for its reply. One plain object per call, no closures: the
 * label is only built when an error needs it, the cleanup only exists when
 * the call has a timeout or a signal.
 */
class Pending {
  cleanup: (() => void) | null = null;
  constructor(
    readonly prog: number,
    readonly vers: number,
    private readonly text: string | null,
    private readonly program: ProgramInfo | null,
    private readonly proc: ProcedureInfo | null,
    readonly decode: ((r: XdrReader) => unknown) | null,
    readonly ret: Codec<unknown> | null,
    readonly resolve: (v: unknown) => void,
    readonly reject: (e: Error) => void,
  ) {}

  /** `remote.CONNECT_OPEN`, or the label the caller gave. */
  get label(): string {
    return this.text ?? `${this.program?.name}.${this.proc?.name}`;
  }
}

export interface RpcClientOptions {
  /** Largest message accepted or sent, header included (default VIR_NET_MESSAGE_MAX). */
  readonly maxMessage?: number;
}

/**
 * One libvirt RPC connection over any Duplex: serial numbers, many calls in
 * flight, replies matched on (program, version, serial), events and stream
 * packets routed to their handlers, keepalive, and a single close path that
 * rejects everything still waiting.
 */
export class RpcClient {
  /** Settles once, when the connection has ended, with the reason. */
  readonly closed: Promise<CloseInfo>;
  private resolveClosed!: (info: CloseInfo) => void;
  private closeInfo: CloseInfo | null = null;
  private serial = 0;
  private readonly pending = new Map<number, Pending>();
  /** Serials of calls given up by their caller, whose late replies are dropped quietly. */
  private readonly abandoned = new Set<number>();
  private readonly eventHandlers = new Map<number, (h: MessageHeader, r: XdrReader) => void>();
  private readonly streams = new Map<number, StreamSink>();
  /** Messages are appended here and written to the socket together (see `send`). */
  private readonly writer = new XdrWriter(4096);
  private flushScheduled = false;
  private readonly reader = new XdrReader();
  private readonly framer: Framer;
  private readonly maxMessage: number;
  private keepaliveTimer: NodeJS.Timeout | null = null;
  private lastReceived = Date.now();
  private unansweredPings = 0;
  private readonly closeListeners = new Set<(info: CloseInfo) => void>();
  /** Holders (streams with full queues) that asked to stop reading from the socket. */
  private readonly readPausers = new Set<object>();
  private pausedPingTimer: NodeJS.Timeout | null = null;
  /** The daemon runs keepalive for us (we probed PROGRAM_KEEPALIVE): set by startKeepalive. */
  private peerKeepalive = false;
  private keepaliveMs = 0;

  constructor(
    private socket: Duplex,
    opts: RpcClientOptions = {},
  ) {
    this.maxMessage = opts.maxMessage ?? VIR_NET_MESSAGE_MAX;
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    this.framer = new Framer((m, owned) => this.dispatch(m, owned), this.maxMessage);
    socket.on('data', this.onData);
    // A transport that reads with `onread` (tcp) hands its bytes over through this hook.
    (socket as RawDataSource)[RAW_DATA] = this.onData;
    socket.on('error', (err) => this.fail('error', err));
    socket.on('end', () => this.fail('eof'));
    socket.on('close', () => this.fail('eof'));
  }

  private readonly onData = (chunk: Uint8Array): void => {
    if (this.closeInfo) return;
    try {
      this.framer.push(chunk);
    } catch (err) {
      this.fail('error', err instanceof Error ? err : new ProtocolError(String(err)));
    }
  };

  /** True until the connection has ended. */
  get isOpen(): boolean {
    return this.closeInfo === null;
  }

  /** Number of calls waiting for their reply. */
  get inFlight(): number {
    return this.pending.size;
  }

  private nextSerial(): number {
    this.serial = (this.serial + 1) >>> 0;
    if (this.serial === 0) this.serial = 1;
    return this.serial;
  }

  /** Calls a procedure from a generated program table. */
  call(
    program: ProgramInfo,
    proc: ProcedureInfo,
    args: unknown,
    opts?: CallOptions,
  ): Promise<unknown> {
    if (proc.event) {
      return Promise.reject(
        new ProtocolError(`${program.name}.${proc.name} is an event, not a callable procedure`),
      );
    }
    if (proc.stream !== null) {
      return Promise.reject(
        new ProtocolError(
          `${program.name}.${proc.name} opens a data stream: use the streams API to call it`,
        ),
      );
    }
    return this.start(
      program.program,
      program.version,
      proc.number,
      MessageType.CALL,
      null,
      program,
      proc,
      null,
      proc.args,
      args,
      null,
      proc.ret,
      opts,
      undefined,
    );
  }

  /**
   * Sends a CALL and waits for its REPLY. `encode` writes the arguments (null
   * for none); `decode` reads the result (null for none). `onSent` receives the
   * serial once the call is on the wire (streams use it to route packets).
   */
  callRaw(
    prog: number,
    vers: number,
    proc: number,
    label: string,
    encode: ((w: XdrWriter) => void) | null,
    decode: ((r: XdrReader) => unknown) | null,
    opts?: CallOptions,
    type: number = MessageType.CALL,
    onSent?: (serial: number) => void,
  ): Promise<unknown> {
    return this.start(
      prog,
      vers,
      proc,
      type,
      label,
      null,
      null,
      encode,
      null,
      undefined,
      decode,
      null,
      opts,
      onSent,
    );
  }

  /**
   * The one call path: arguments come either as an `encode` function or as a
   * codec and a value (so `call()` needs no closure per call), and the result
   * is read by `decode` or by the `ret` codec.
   */
  private start(
    prog: number,
    vers: number,
    proc: number,
    type: number,
    label: string | null,
    program: ProgramInfo | null,
    procInfo: ProcedureInfo | null,
    encode: ((w: XdrWriter) => void) | null,
    args: Codec<unknown> | null,
    argsValue: unknown,
    decode: ((r: XdrReader) => unknown) | null,
    ret: Codec<unknown> | null,
    opts: CallOptions | undefined,
    onSent: ((serial: number) => void) | undefined,
  ): Promise<unknown> {
    if (this.closeInfo) {
      return Promise.reject(
        this.closedError(`cannot call ${label ?? `${program?.name}.${procInfo?.name}`}`),
      );
    }
    const signal = opts?.signal;
    if (signal?.aborted) {
      return Promise.reject(
        new AbortError(
          `${label ?? `${program?.name}.${procInfo?.name}`} aborted before it was sent`,
          { cause: signal.reason },
        ),
      );
    }
    const serial = this.nextSerial();
    let p!: Pending;
    const promise = new Promise<unknown>((resolve, reject) => {
      p = new Pending(prog, vers, label, program, procInfo, decode, ret, resolve, reject);
    });
    try {
      this.queue(prog, vers, proc, type, serial, MessageStatus.OK, encode, args, argsValue);
    } catch (err) {
      p.reject(err as Error);
      return promise;
    }
    this.pending.set(serial, p);
    onSent?.(serial);
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
      this.abandon(serial, new AbortError(`${p.label} aborted`, { cause: signal?.reason }));
    };
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => {
        this.abandon(serial, new TimeoutError(`${p.label} timed out after ${timeoutMs} ms`));
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
    p.cleanup?.();
    p.reject(err);
  }

  /**
   * Sends one message. The header is written field by field (no enum checks
   * on this hot path); the body by `encode`. Returns socket.write's answer:
   * false means the caller should wait for `drain` before writing more.
   *
   * Messages sent in the same tick are appended to one buffer and handed to
   * the socket together at the end of the tick (process.nextTick), or at
   * once past 64 KiB: the calls pipelined by many concurrent callers then
   * cost one write (one syscall, one TCP segment) instead of one each.
   * `sendRaw`, `upgrade` and a client-side close write the batch first, so
   * the order of messages on the wire is the order of the calls.
   */
  send(
    prog: number,
    vers: number,
    proc: number,
    type: number,
    serial: number,
    status: number,
    encode: ((w: XdrWriter) => void) | null,
  ): boolean {
    return this.queue(prog, vers, proc, type, serial, status, encode, null, undefined);
  }

  private queue(
    prog: number,
    vers: number,
    proc: number,
    type: number,
    serial: number,
    status: number,
    encode: ((w: XdrWriter) => void) | null,
    codec: Codec<unknown> | null,
    value: unknown,
  ): boolean {
    if (this.closeInfo) throw this.closedError('cannot send');
    const w = this.writer;
    const start = w.pos;
    let len: number;
    try {
      const at = w.reserve(LENGTH_WORD);
      w.writeUint(prog);
      w.writeUint(vers);
      w.writeInt(proc);
      w.writeInt(type);
      w.writeUint(serial);
      w.writeInt(status);
      if (encode !== null) encode(w);
      else if (codec !== null) codec.encode(w, value);
      len = w.pos - start;
      if (len - LENGTH_WORD > this.maxMessage) {
        throw new ProtocolError(
          `message of ${len} bytes exceeds the maximum of ${this.maxMessage + LENGTH_WORD}`,
        );
      }
      w.patchUint(at, len);
    } catch (err) {
      w.pos = start; // drop the half-written message, keep the rest of the batch
      throw err;
    }
    if (tracing) trace(describeMessage('send', { prog, proc, type, serial, status }, len));
    if (w.pos >= FLUSH_AT) return this.flush();
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(this.flushTick);
    }
    return !this.socket.writableNeedDrain;
  }

  private readonly flushTick = (): void => {
    this.flushScheduled = false;
    if (!this.closeInfo) this.flush();
  };

  /** Writes the queued messages, if any; returns socket.write's answer. */
  private flush(): boolean {
    const w = this.writer;
    if (w.pos === 0) return !this.socket.writableNeedDrain;
    // finish() hands out the bytes without copying; reset() moves the writer past them.
    const out = w.finish();
    w.reset();
    return this.socket.write(out);
  }

  /**
   * Writes one message whose payload is raw bytes (stream data), copying
   * `payload` once into the outgoing buffer, so the caller may reuse it at
   * once. Returns socket.write's answer, like `send`.
   */
  sendRaw(
    prog: number,
    vers: number,
    proc: number,
    type: number,
    serial: number,
    status: number,
    payload: Uint8Array | null,
  ): boolean {
    if (this.closeInfo) throw this.closedError('cannot send');
    const n = payload ? payload.length : 0;
    const len = LENGTH_WORD + 24 + n;
    if (len - LENGTH_WORD > this.maxMessage) {
      throw new ProtocolError(
        `message of ${len} bytes exceeds the maximum of ${this.maxMessage + LENGTH_WORD}`,
      );
    }
    this.flush(); // queued messages go first
    // Every byte is written below, so the uninitialised allocation is safe.
    const buf = Buffer.allocUnsafe(len);
    buf.writeUInt32BE(len, 0);
    buf.writeUInt32BE(prog >>> 0, 4);
    buf.writeUInt32BE(vers >>> 0, 8);
    buf.writeInt32BE(proc | 0, 12);
    buf.writeInt32BE(type | 0, 16);
    buf.writeUInt32BE(serial >>> 0, 20);
    buf.writeInt32BE(status | 0, 24);
    if (payload) buf.set(payload, 28);
    if (tracing) trace(describeMessage('send', { prog, proc, type, serial, status }, len));
    return this.socket.write(buf);
  }

  /**
   * Stops reading from the socket until every holder that asked has called
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
    this.socket.pause();
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
    this.socket.resume();
  }

  /** True while some holder keeps the socket from being read. */
  get readingPaused(): boolean {
    return this.readPausers.size > 0;
  }

  private sendPing(): void {
    try {
      this.send(
        KEEPALIVE_PROGRAM,
        KEEPALIVE_PROTOCOL_VERSION,
        PING,
        MessageType.MESSAGE,
        0,
        MessageStatus.OK,
        null,
      );
    } catch {
      // the close path reports the failure
    }
  }

  /** Resolves when the socket can take more data (after write() returned false). */
  drained(): Promise<void> {
    if (this.closeInfo) return Promise.reject(this.closedError('cannot write'));
    if (!this.socket.writableNeedDrain) return Promise.resolve();
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
        this.socket.off('drain', onDrain);
        this.closeListeners.delete(onClose);
      };
      this.socket.on('drain', onDrain);
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

  private traceReceived(msg: Uint8Array, h: TracedHeader): void {
    let errorName: string | undefined;
    if (h.status === 1 && (h.type === MessageType.REPLY || h.type === MessageType.STREAM)) {
      try {
        const e = decodeVirNetMessageError(new XdrReader(msg, LENGTH_WORD + 24, msg.length));
        errorName = new RemoteError(e, '').codeName;
      } catch {
        errorName = '(undecodable error)';
      }
    }
    trace(describeMessage('recv', h, msg.length, errorName));
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
    if (tracing) this.traceReceived(msg, { prog, proc, type, serial, status });
    if (status < 0 || status > 2) {
      throw new ProtocolError(`message with unknown status ${status}`);
    }
    switch (type) {
      case MessageType.REPLY:
      case MessageType.REPLY_WITH_FDS:
        this.onReply(prog, vers, serial, status, r);
        return;
      case MessageType.MESSAGE:
        this.onMessage({ prog, vers, proc, type, serial, status }, r);
        return;
      case MessageType.STREAM:
      case MessageType.STREAM_HOLE: {
        const sink = this.streams.get(serial);
        sink?.onPacket({ prog, vers, proc, type, serial, status }, r, owned);
        return;
      }
      case MessageType.CALL:
      case MessageType.CALL_WITH_FDS:
        throw new ProtocolError(
          `the server sent a CALL (program 0x${prog.toString(16)}, procedure ${proc}); clients do not serve calls`,
        );
      default:
        throw new ProtocolError(`message with unknown type ${type}`);
    }
  }

  private onReply(prog: number, vers: number, serial: number, status: number, r: XdrReader): void {
    const p = this.pending.get(serial);
    if (p === undefined) {
      if (this.abandoned.delete(serial)) return;
      throw new ProtocolError(`reply for serial ${serial}, which no call is waiting for`);
    }
    if (p.prog !== prog || p.vers !== vers) {
      throw new ProtocolError(
        `reply for serial ${serial} names program 0x${prog.toString(16)} v${vers}, the call used 0x${p.prog.toString(16)} v${p.vers}`,
      );
    }
    this.pending.delete(serial);
    if (p.cleanup !== null) p.cleanup();
    try {
      if (status === MessageStatus.OK) {
        const v = p.ret !== null ? p.ret.decode(r) : p.decode !== null ? p.decode(r) : undefined;
        r.done();
        p.resolve(v);
      } else if (status === MessageStatus.ERROR) {
        const e = decodeVirNetMessageError(r);
        r.done();
        p.reject(new RemoteError(e, p.label));
      } else {
        p.reject(new ProtocolError(`reply to ${p.label} has status CONTINUE`));
      }
    } catch (err) {
      p.reject(
        new ProtocolError(`reply to ${p.label} does not decode: ${(err as Error).message}`, {
          cause: err,
        }),
      );
    }
  }

  private onMessage(h: MessageHeader, r: XdrReader): void {
    if (h.prog === KEEPALIVE_PROGRAM) {
      if (h.proc === PING) {
        this.send(
          KEEPALIVE_PROGRAM,
          KEEPALIVE_PROTOCOL_VERSION,
          PONG,
          MessageType.MESSAGE,
          0,
          MessageStatus.OK,
          null,
        );
      }
      return;
    }
    this.eventHandlers.get(h.prog)?.(h, r);
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
        this.flush(); // what was sent before close() still goes out, as if written at once
      } catch {
        // the socket is going away anyway
      }
    }
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
      p.reject(err(p.label));
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
    this.socket.destroy();
    this.resolveClosed(info);
  }

  /** Closes the connection from this side; waiting calls reject with reason `client`. */
  close(): Promise<CloseInfo> {
    this.fail('client');
    return this.closed;
  }

  /**
   * Puts a layer between this client and its socket for all later traffic:
   * `layer(socket)` returns a Duplex of plaintext that encodes what is written
   * to it onto `socket` and decodes what `socket` delivers (the SASL security
   * layer negotiated during authentication). Call between two messages with
   * nothing in flight, as libvirt switches right after the last SASL reply.
   * The socket's own end, close and error events still end the connection.
   */
  upgrade(layer: (socket: Duplex) => Duplex): void {
    if (this.closeInfo) throw this.closedError('cannot upgrade');
    this.flush(); // messages sent before the switch travel without the layer
    const raw = this.socket;
    // The constructor's reader consumed raw bytes; from now on the layer does.
    raw.off('data', this.onData);
    // A socket read through `onread` emits no 'data': feed the layer copies (the read buffer is reused).
    (raw as RawDataSource)[RAW_DATA] = (chunk) => raw.emit('data', Buffer.from(chunk));
    const wrapped = layer(raw);
    // Every write path (send, sendRaw, drained, pause/resume, fail) goes through `socket`.
    this.socket = wrapped;
    wrapped.on('data', this.onData);
    wrapped.on('error', (err) => this.fail('error', err));
    wrapped.on('close', () => this.fail('eof'));
  }
}
