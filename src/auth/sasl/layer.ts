import type { Channel, ChannelSink } from '../../channel.js';
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

  /** Takes the bytes of `chunk` (a copy: the view may be reused once this returns). */
  push(chunk: Uint8Array): void {
    this.parts.push(Buffer.from(chunk));
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
 * A channel of plaintext over `inner`, a channel whose traffic is inside a
 * SASL security layer: writes are split to the layer's buffer size and
 * wrapped, reads unwrapped. Backpressure, pause/resume and the end pass
 * through; closing it closes `inner`. A buffer that does not unwrap ends the
 * channel with the error.
 */
export class SecurityLayerChannel implements Channel {
  constructor(
    private readonly inner: Channel,
    private readonly layer: SecurityLayer,
  ) {}

  open(sink: ChannelSink): void {
    const framer = new LayerFramer((frame) => sink.data(this.layer.unwrap(frame)));
    this.inner.open({
      data: (chunk) => {
        try {
          framer.push(chunk);
        } catch (err) {
          this.close(err as Error);
        }
      },
      drain: () => sink.drain(),
      end: (error) => sink.end(error),
    });
  }

  write(bytes: Uint8Array): boolean {
    const max = this.layer.maxPlain;
    let ok = true;
    for (let at = 0; at < bytes.length; at += max) {
      ok = this.inner.write(this.layer.wrap(bytes.subarray(at, at + max)));
    }
    return ok;
  }

  get needsDrain(): boolean {
    return this.inner.needsDrain;
  }

  pause(): void {
    this.inner.pause();
  }

  resume(): void {
    this.inner.resume();
  }

  close(error?: Error): void {
    this.inner.close(error);
  }
}
