/**
 * Wire pieces shared by the hostile peers (test/helpers/hostile-daemon.ts,
 * hostile-client.ts): message constants, a frame splitter of their own (the
 * peers must not lean on the framer they attack), and a writer that ignores
 * XDR bounds, to put oversized strings and arrays on the wire.
 */
import { KEEPALIVE_PROGRAM } from '../../src/generated/keepalive.js';
import { REMOTE_PROGRAM } from '../../src/generated/remote.js';
import { VIR_NET_MESSAGE_MAX } from '../../src/generated/virnet.js';
import { XdrWriter } from '../../src/xdr/index.js';
import type { MessageHead } from './packets.js';

export const REMOTE = REMOTE_PROGRAM;
export const KEEPALIVE = KEEPALIVE_PROGRAM;
export const PING = 1;
export const PONG = 2;
export const Type = {
  CALL: 0,
  REPLY: 1,
  MESSAGE: 2,
  STREAM: 3,
  CALL_WITH_FDS: 4,
  REPLY_WITH_FDS: 5,
  STREAM_HOLE: 6,
} as const;
export const Status = { OK: 0, ERROR: 1, CONTINUE: 2 } as const;

/** The largest length word a peer may legally send: the length word plus VIR_NET_MESSAGE_MAX. */
export const LARGEST_LEGAL_LENGTH = VIR_NET_MESSAGE_MAX + 4;

/** One whole message as a hostile peer received it. */
export interface Received {
  readonly head: MessageHead;
  /** The payload after the 24-byte header (a copy). */
  readonly payload: Uint8Array;
  /** The whole message, length word included. */
  readonly bytes: Uint8Array;
}

/**
 * Splits what a peer receives into messages. It keeps whole chunks until a
 * message is complete (tests send little), and reports a length word that
 * cannot be a message instead of waiting for it.
 */
export class Splitter {
  private chunks: Buffer[] = [];
  private size = 0;
  /** Set once a length word was out of range: nothing more is split. */
  badLength: number | null = null;

  constructor(private readonly onMessage: (m: Received) => void) {}

  push(chunk: Buffer): void {
    if (this.badLength !== null) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size >= 4) {
      if (this.chunks[0]!.length < 4) this.chunks = [Buffer.concat(this.chunks)];
      const len = this.chunks[0]!.readUInt32BE(0);
      if (len < 28 || len > LARGEST_LEGAL_LENGTH) {
        this.badLength = len;
        return;
      }
      // Join the chunks only once the whole message is there.
      if (this.size < len) return;
      const head = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
      const bytes = Uint8Array.prototype.slice.call(head, 0, len);
      const rest = head.subarray(len);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.size = rest.length;
      const v = new DataView(bytes.buffer);
      this.onMessage({
        head: {
          prog: v.getUint32(4),
          vers: v.getUint32(8),
          proc: v.getInt32(12),
          type: v.getInt32(16),
          serial: v.getUint32(20),
          status: v.getInt32(24),
        },
        payload: bytes.subarray(28),
        bytes,
      });
    }
  }
}

/**
 * An XdrWriter that writes strings, opaques and arrays past their declared
 * bounds: the generated encoders call it as usual, and a hostile peer gets
 * a 4 MiB + 1 string on the wire, which an honest writer refuses.
 */
export class UnboundedWriter extends XdrWriter {
  override writeString(v: string, _max: number): void {
    super.writeString(v, 0xffffffff);
  }
  override writeOpaque(v: Uint8Array, _max: number): void {
    super.writeOpaque(v, 0xffffffff);
  }
  override writeLength(n: number, _max: number): void {
    super.writeLength(n, 0xffffffff);
  }
}

/** One writer for every hostile frame, so 4 MiB arguments do not each grow a fresh buffer. */
const shared = new UnboundedWriter(1024 * 1024);

/**
 * A framed message whose body may break every bound (see UnboundedWriter),
 * as a view of the shared writer's buffer (which later frames never
 * overwrite: see XdrWriter.finish).
 */
export function unboundedFrame(h: MessageHead, body?: (w: XdrWriter) => void): Buffer {
  const w = shared.reset();
  const at = w.reserve(4);
  for (const v of [h.prog, h.vers]) w.writeUint(v);
  for (const v of [h.proc, h.type]) w.writeInt(v);
  w.writeUint(h.serial);
  w.writeInt(h.status);
  body?.(w);
  w.patchUint(at, w.pos);
  const out = w.finish();
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

/** A header with a length word that says `length`, whatever follows. */
export function lengthWord(length: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(length >>> 0, 0);
  return b;
}
