/**
 * The Channel contract as the Node-stream adapter keeps it: bytes and an end
 * that come before `open` are delivered first, bytes read into a reused
 * buffer are copied only while nobody listens, the end is reported once
 * whatever ends the channel, and backpressure passes through. A user
 * transport may hand `connect()` either a Channel or a Duplex.
 */
import { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Channel,
  type ChannelSink,
  DuplexChannel,
  duplexChannel,
  toChannel,
} from '../../src/channel.js';
import { connect } from '../../src/index.js';
import { Simulator } from '../../src/testing/index.js';

/** A sink that records what it is told. */
function recorder(): ChannelSink & { got: string[]; ends: Array<Error | undefined> } {
  const got: string[] = [];
  const ends: Array<Error | undefined> = [];
  return {
    got,
    ends,
    data: (c) => got.push(Buffer.from(c).toString()),
    drain: () => got.push('<drain>'),
    end: (e) => ends.push(e),
  };
}

/** A Duplex whose writes complete only when `release()` is called. */
function slowPipe(): Duplex & { release(): void; written: string[] } {
  const pending: Array<() => void> = [];
  const written: string[] = [];
  const d = new Duplex({
    highWaterMark: 4,
    read() {},
    write(chunk: Buffer, _enc, cb) {
      written.push(chunk.toString());
      pending.push(() => cb());
    },
  }) as Duplex & { release(): void; written: string[] };
  d.release = () => {
    for (const cb of pending.splice(0)) cb();
  };
  d.written = written;
  return d;
}

const tick = () => new Promise((r) => setImmediate(r));

describe('DuplexChannel', () => {
  it('delivers what arrived before open first, then live bytes, then the end once', async () => {
    const d = new Duplex({ read() {}, write: (_c, _e, cb) => cb() });
    const ch = duplexChannel(d);
    d.push('early ');
    await tick();
    const sink = recorder();
    ch.open(sink);
    expect(sink.got).toEqual(['early ']);
    d.push('late');
    d.push(null);
    await tick();
    await tick();
    expect(sink.got).toEqual(['early ', 'late']);
    expect(sink.ends).toEqual([undefined]);
    ch.close();
    await tick();
    expect(sink.ends).toHaveLength(1);
  });

  it('reports an end that came before open at open, with its error', async () => {
    const d = new Duplex({ read() {}, write: (_c, _e, cb) => cb() });
    const ch = duplexChannel(d);
    const boom = new Error('refused');
    d.destroy(boom);
    await tick();
    const sink = recorder();
    ch.open(sink);
    expect(sink.ends).toEqual([boom]);
    expect(() => ch.open(recorder())).toThrow(TypeError);
  });

  it('copies lent bytes only while nobody listens, and lends them once open', () => {
    const d = new Duplex({ read() {}, write: (_c, _e, cb) => cb() });
    const ch = new DuplexChannel(d, { external: true });
    const buffer = Buffer.from('abc');
    ch.receive(buffer);
    buffer.fill('x'); // the reader reuses its buffer
    const seen: Uint8Array[] = [];
    ch.open({ data: (c) => seen.push(c), drain: () => {}, end: () => {} });
    expect(Buffer.from(seen[0]!).toString()).toBe('abc');
    ch.receive(buffer);
    expect(seen[1]).toBe(buffer); // no copy once there is a sink: valid during the call only
    d.push('ignored: an external channel does not read the stream itself');
    expect(seen).toHaveLength(2);
  });

  it('says when to wait, and passes the drain on', async () => {
    const d = slowPipe();
    const ch = duplexChannel(d);
    const sink = recorder();
    ch.open(sink);
    expect(ch.needsDrain).toBe(false);
    expect(ch.write(new TextEncoder().encode('12345678'))).toBe(false);
    expect(ch.needsDrain).toBe(true);
    d.release();
    await tick();
    expect(ch.needsDrain).toBe(false);
    expect(sink.got).toEqual(['<drain>']);
    expect(d.written).toEqual(['12345678']);
  });

  it('close destroys the stream and ends the sink once, with the reason', async () => {
    const d = new Duplex({ read() {}, write: (_c, _e, cb) => cb() });
    const ch = duplexChannel(d);
    const sink = recorder();
    ch.open(sink);
    const why = new Error('going away');
    ch.close(why);
    ch.close();
    await tick();
    expect(d.destroyed).toBe(true);
    expect(sink.ends).toEqual([why]);
  });
});

describe('toChannel', () => {
  it('takes a Channel as it is, adapts a Duplex, and refuses anything else by name', () => {
    const d = new Duplex({ read() {}, write: (_c, _e, cb) => cb() });
    const adapted = toChannel(d);
    expect(adapted).toBeInstanceOf(DuplexChannel);
    expect(toChannel(adapted)).toBe(adapted);
    expect(() => toChannel(42 as unknown as Channel)).toThrow(
      /a transport must resolve with a Channel or a Node Duplex, got number/,
    );
    expect(() => toChannel(null as unknown as Channel)).toThrow(/got null/);
  });
});

describe('user transports', () => {
  const sims: Simulator[] = [];
  afterEach(async () => {
    for (const s of sims.splice(0)) await s.close();
  });

  it('connect() accepts a transport resolving with a Channel as well as with a Duplex', async () => {
    const sim = await Simulator.start({ hostname: 'chan-a' });
    sims.push(sim);
    const viaDuplex = sim.transport();
    let wrote = 0;
    await using conn = await connect(sim.uri, {
      transport: async (uri, opts) => {
        const inner = toChannel(await viaDuplex(uri, opts));
        // a hand-written Channel over the simulator's in-memory pipe
        const own: Channel = {
          open: (sink) => inner.open(sink),
          write: (bytes) => {
            wrote += bytes.length;
            return inner.write(bytes);
          },
          get needsDrain() {
            return inner.needsDrain;
          },
          pause: () => inner.pause(),
          resume: () => inner.resume(),
          close: (e) => inner.close(e),
        };
        return own;
      },
    });
    expect((await conn.remote.connectGetHostname()).hostname).toBe('chan-a');
    expect(wrote).toBeGreaterThan(0);
    await using plain = await connect(sim.uri, { transport: viaDuplex });
    expect((await plain.remote.connectGetHostname()).hostname).toBe('chan-a');
  });
});
