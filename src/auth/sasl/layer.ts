import { Duplex } from 'node:stream';
import { SaslError } from './errors.js';
import type { SecurityLayer } from './mechanism.js';

/** Refuse a wire buffer longer than this before allocating it (Cyrus' own limit is the maxbuf, 64 KiB). */
const MAX_FRAME = 16 * 1024 * 1024;

/**
 * Splits the incoming byte stream into the security layer's buffers: each a
 * 4-byte big-endian length and that many bytes (how Cyrus SASL's sasl_encode
 * output looks, which libvirt writes to the socket as is).
 */
export class LayerFramer {
  private parts: Buffer[] = [];
  private have = 0;
  private need = -1;

  constructor(private readonly onFrame: (frame: Uint8Array) => void) {}

  push(chunk: Uint8Array): void {
    this.parts.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.have += chunk.length;
    for (;;) {
      if (this.need < 0) {
        if (this.have < 4) return;
        const head = this.take(4, false);
        const len = head.readUInt32BE(0);
        if (len > MAX_FRAME)
          throw new SaslError(`SASL security layer buffer of ${len} bytes is too long`);
        this.need = 4 + len;
      }
      if (this.have < this.need) return;
      const frame = this.take(this.need, true);
      this.need = -1;
      this.onFrame(frame);
    }
  }

  /** The first `n` bytes, removed from the queue when `consume`. */
  private take(n: number, consume: boolean): Buffer {
    const first = this.parts[0]!;
    const out = first.length >= n ? first.subarray(0, n) : Buffer.concat(this.parts, n);
    if (!consume) return out;
    let left = n;
    while (left > 0) {
      const p = this.parts[0]!;
      if (p.length <= left) {
        this.parts.shift();
        left -= p.length;
      } else {
        this.parts[0] = p.subarray(left);
        left = 0;
      }
    }
    this.have -= n;
    return out;
  }
}

/**
 * A Duplex of plaintext over `raw`, a socket whose traffic is inside a SASL
 * security layer: writes are split to the layer's buffer size and wrapped,
 * reads unwrapped. Backpressure passes through in both directions; destroying
 * it destroys `raw`.
 */
export class SecurityLayerStream extends Duplex {
  private readonly framer: LayerFramer;
  private readonly onData = (chunk: Buffer): void => {
    try {
      this.framer.push(chunk);
    } catch (err) {
      this.destroy(err as Error);
    }
  };

  constructor(
    private readonly raw: Duplex,
    private readonly layer: SecurityLayer,
  ) {
    super();
    this.framer = new LayerFramer((frame) => {
      if (!this.push(layer.unwrap(frame))) raw.pause();
    });
    raw.on('data', this.onData);
    raw.on('end', () => this.push(null));
    raw.on('error', (err) => this.destroy(err));
  }

  override _read(): void {
    this.raw.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    let ok = true;
    try {
      const max = this.layer.maxPlain;
      for (let at = 0; at < chunk.length; at += max) {
        ok = this.raw.write(this.layer.wrap(chunk.subarray(at, at + max)));
      }
    } catch (err) {
      cb(err as Error);
      return;
    }
    if (ok) cb();
    else this.raw.once('drain', () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.raw.end(cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.raw.off('data', this.onData);
    this.raw.destroy(err ?? undefined);
    cb(err);
  }
}
