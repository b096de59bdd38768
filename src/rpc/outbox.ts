import type { Channel } from '../channel.js';
import { messageChannel, type RpcWireMessage } from '../diagnostics.js';
import type { Codec } from '../xdr/index.js';
import type { CallDescriptor } from '../xdr/program.js';
import { XdrWriter } from '../xdr/writer.js';
import { ProtocolError } from './errors.js';
import { HEADER, LENGTH_WORD } from './framer.js';

/** A batch of queued messages this large is written at once instead of at the end of the tick. */
const FLUSH_AT = 64 * 1024;

/** What writes a message body: a generated codec, or anything with its `encode`. */
export type BodyEncoder<V> = Pick<Codec<V>, 'encode'>;

/**
 * Publishes one message on `virtwire:rpc:message`; callers check
 * `messageChannel.hasSubscribers` first, so nothing is built for nobody.
 */
export function publishWire(
  connectionId: number,
  direction: 'send' | 'recv',
  prog: number,
  vers: number,
  proc: number,
  type: number,
  serial: number,
  status: number,
  size: number,
  errorCode: string | undefined,
): void {
  const m: RpcWireMessage = {
    connectionId,
    direction,
    prog,
    vers,
    proc,
    type,
    serial,
    status,
    size,
  };
  messageChannel.publish(errorCode === undefined ? m : { ...m, errorCode });
}

/** One module-level function rather than a closure per connection. */
function flushTick(o: Outbox): void {
  o.tick();
}

/**
 * A connection's outgoing messages. Messages queued in the same tick are
 * encoded one after another into one reused writer and handed to the channel
 * together at the end of the tick (process.nextTick), or at once past
 * 64 KiB: the calls pipelined by many concurrent callers then cost one write
 * (one syscall, one TCP segment) instead of one each. `raw` and `flush` write
 * the batch first, so the order on the wire is the order of queueing.
 */
export class Outbox {
  /** Small at first: an idle connection keeps it; batches that need more get larger buffers. */
  private readonly writer = new XdrWriter(1024);
  private flushScheduled = false;
  private shut = false;

  constructor(
    /** Where the bytes go; replaced when a layer is put in between. */
    public channel: Channel,
    private readonly maxMessage: number,
    private readonly connectionId: number,
  ) {}

  private tooLong(len: number): ProtocolError {
    return new ProtocolError(
      `message of ${len} bytes exceeds the maximum of ${this.maxMessage + LENGTH_WORD} (maxMessage ${this.maxMessage} + the length word)`,
    );
  }

  /**
   * Appends one message to the batch and returns its size. The header is
   * written field by field (no enum checks on this hot path), the body by
   * `body` from `value`. A message that fails to encode leaves the batch as
   * it was.
   */
  queue<V>(
    d: CallDescriptor,
    type: number,
    serial: number,
    status: number,
    body: BodyEncoder<V> | null,
    value: V,
  ): number {
    const w = this.writer;
    const start = w.pos;
    const { program, version } = d.program;
    let len: number;
    try {
      const at = w.reserve(LENGTH_WORD);
      w.writeUint(program);
      w.writeUint(version);
      w.writeInt(d.number);
      w.writeInt(type);
      w.writeUint(serial);
      w.writeInt(status);
      if (body !== null) body.encode(w, value);
      len = w.pos - start;
      if (len - LENGTH_WORD > this.maxMessage) throw this.tooLong(len);
      w.patchUint(at, len);
    } catch (err) {
      w.pos = start; // drop the half-written message, keep the rest of the batch
      throw err;
    }
    this.announce(d, type, serial, status, len);
    if (w.pos >= FLUSH_AT) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(flushTick, this);
    }
    return len;
  }

  /** @internal The end of the tick in which the batch began (see `queue`). */
  tick(): void {
    this.flushScheduled = false;
    if (!this.shut) this.flush();
  }

  /** Writes the queued messages, if any; returns the channel's answer. */
  flush(): boolean {
    const w = this.writer;
    if (w.pos === 0) return !this.channel.needsDrain;
    // finish() hands out the bytes without copying; reset() moves the writer past them.
    const out = w.finish();
    w.reset();
    return this.channel.write(out);
  }

  /**
   * Writes one message whose payload is raw bytes (stream data), after the
   * batch, copying `payload` once into a buffer of its own, so the caller may
   * reuse it at once. Returns the channel's answer.
   */
  raw(
    d: CallDescriptor,
    type: number,
    serial: number,
    status: number,
    payload: Uint8Array | null,
  ): boolean {
    const n = payload ? payload.length : 0;
    const len = LENGTH_WORD + HEADER + n;
    if (len - LENGTH_WORD > this.maxMessage) throw this.tooLong(len);
    this.flush();
    // Every byte is written below, so the uninitialised allocation is safe.
    const buf = Buffer.allocUnsafe(len);
    writeHeader(buf, d, type, serial, status, len);
    if (payload) buf.set(payload, LENGTH_WORD + HEADER);
    this.announce(d, type, serial, status, len);
    return this.channel.write(buf);
  }

  /**
   * Like `raw`, but lends `payload` instead of copying it, when the channel
   * can say when it has let go of it (`writev`): `done` is called then (with
   * an error if the bytes will never be sent), and until then the caller must
   * not modify them. Other channels get a copy, and `done` right away.
   * Returns the channel's answer.
   */
  lend(
    d: CallDescriptor,
    type: number,
    serial: number,
    status: number,
    payload: Uint8Array,
    done: (error?: Error) => void,
  ): boolean {
    const ch = this.channel;
    if (ch.writev === undefined) {
      const ok = this.raw(d, type, serial, status, payload);
      done();
      return ok;
    }
    const len = LENGTH_WORD + HEADER + payload.length;
    if (len - LENGTH_WORD > this.maxMessage) throw this.tooLong(len);
    this.flush();
    // a header of its own (from Node's shared slab): it must live until the write is done
    const head = Buffer.allocUnsafe(LENGTH_WORD + HEADER);
    writeHeader(head, d, type, serial, status, len);
    this.announce(d, type, serial, status, len);
    return ch.writev([head, payload], done);
  }

  /** Tells the wire diagnostics channel of a message sent, when anyone listens. */
  private announce(
    d: CallDescriptor,
    type: number,
    serial: number,
    status: number,
    len: number,
  ): void {
    if (!messageChannel.hasSubscribers) return;
    const { program, version } = d.program;
    publishWire(
      this.connectionId,
      'send',
      program,
      version,
      d.number,
      type,
      serial,
      status,
      len,
      undefined,
    );
  }

  /** No more writes: a flush scheduled for the end of the tick does nothing. */
  close(): void {
    this.shut = true;
  }
}

/** The length word and the 24-byte header of a raw-payload message, at the start of `buf`. */
function writeHeader(
  buf: Buffer,
  d: CallDescriptor,
  type: number,
  serial: number,
  status: number,
  len: number,
): void {
  buf.writeUInt32BE(len, 0);
  buf.writeUInt32BE(d.program.program >>> 0, 4);
  buf.writeUInt32BE(d.program.version >>> 0, 8);
  buf.writeInt32BE(d.number | 0, 12);
  buf.writeInt32BE(type | 0, 16);
  buf.writeUInt32BE(serial >>> 0, 20);
  buf.writeInt32BE(status | 0, 24);
}
