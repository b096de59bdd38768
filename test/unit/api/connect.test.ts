/**
 * connect()'s deadline and signal: running out of `timeoutMs` is a
 * TimeoutError, the caller's own signal an AbortError, whether the time runs
 * out in the transport or during the open sequence.
 */
import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { AbortError, connect, TimeoutError, type Transport } from '../../../src/index.js';

/** A daemon that accepts the connection and never answers. */
const silent: Transport = async () => new Duplex({ read() {}, write: (_chunk, _enc, cb) => cb() });

/** A transport that never connects, until its signal fires. */
const hanging: Transport = (_uri, opts) =>
  new Promise((_, reject) => {
    opts.signal?.addEventListener('abort', () => reject(new Error('gave up')), { once: true });
  });

const URI = 'qemu+tcp://192.0.2.1/system';
const failure = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => e,
  );

describe('connect() deadline', () => {
  it('rejects with TimeoutError when timeoutMs runs out during the open sequence', async () => {
    const err = await failure(connect(URI, { transport: silent, timeoutMs: 50 }));
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toBe(`connecting to ${URI} timed out after 50 ms (timeoutMs)`);
    expect((err as Error).cause).toBeInstanceOf(AbortError); // the AUTH_LIST call it cut short
  });

  it('rejects with TimeoutError when timeoutMs runs out in the transport', async () => {
    const err = await failure(connect(URI, { transport: hanging, timeoutMs: 50 }));
    expect(err).toBeInstanceOf(TimeoutError);
  });

  it("rejects with AbortError when the caller's signal fires first", async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 20);
    const during = await failure(
      connect(URI, { transport: silent, timeoutMs: 5000, signal: ac.signal }),
    );
    expect(during).toBeInstanceOf(AbortError);
    const inTransport = await failure(
      connect(URI, { transport: hanging, signal: AbortSignal.timeout(20) }),
    );
    expect(inTransport).toBeInstanceOf(AbortError);
    expect(inTransport).not.toBeInstanceOf(TimeoutError);
  });
});
