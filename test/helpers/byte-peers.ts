// Both ends of a byte channel for transport tests: a server side that writes bytes in pieces with
// the socket's back-pressure, and a client side that collects what a Channel delivers.
import type { Socket } from 'node:net';
import type { Channel } from '../../src/channel.js';

/** Collects what a channel delivers (copying: the views are lent) until it ends. */
export function collect(ch: Channel): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    ch.open({
      data: (chunk) => parts.push(Buffer.from(chunk)),
      drain: () => {},
      end: (err) => (err ? reject(err) : resolve(Buffer.concat(parts))),
    });
  });
}

/**
 * Writes `bytes` to `s` in pieces whose sizes cycle through `pieces`, waiting for 'drain'
 * whenever the socket asks, then ends it.
 */
export function writeInPieces(s: Socket, bytes: Uint8Array, pieces: readonly number[]): void {
  let at = 0;
  let k = 0;
  const more = (): void => {
    while (at < bytes.length) {
      const n = Math.min(bytes.length - at, pieces[k++ % pieces.length]!);
      const ok = s.write(bytes.subarray(at, at + n));
      at += n;
      if (!ok) {
        s.once('drain', more);
        return;
      }
    }
    s.end();
  };
  more();
}
