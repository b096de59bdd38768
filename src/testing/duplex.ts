import { Duplex } from 'node:stream';

/**
 * One end of an in-memory byte pipe. Bytes written here are read at the
 * other end, one turn of the event loop later (as from a socket), never
 * during the write: a peer that answers at once must not re-enter its writer.
 * Ending one side ends the other's reading; destroying one closes both.
 */
class PipeEnd extends Duplex {
  peer: PipeEnd | null = null;

  override _read(): void {}

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const peer = this.peer;
    if (!peer || peer.destroyed) {
      cb(new Error('the other end of the in-memory connection is closed'));
      return;
    }
    // The writer may reuse its buffer once write() returns.
    const copy = Buffer.from(chunk);
    setImmediate(() => {
      if (!peer.destroyed) peer.push(copy);
    });
    cb();
  }

  override _final(cb: (err?: Error | null) => void): void {
    const peer = this.peer;
    setImmediate(() => {
      if (peer && !peer.destroyed) peer.push(null);
    });
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const peer = this.peer;
    this.peer = null;
    if (peer && !peer.destroyed) setImmediate(() => peer.destroy());
    cb(err);
  }
}

/** Two connected in-memory Duplex streams, like the two ends of a socket. */
export function duplexPair(): [Duplex, Duplex] {
  const a = new PipeEnd();
  const b = new PipeEnd();
  a.peer = b;
  b.peer = a;
  return [a, b];
}
