/**
 * The bounds RpcClient keeps against a peer that floods or lies (issue 19):
 * how many abandoned serials it remembers, how many PONGs it writes, what a
 * malformed event costs, and messages that span many reads. Driven through
 * an in-memory Channel, so every read and every write is seen exactly.
 */
import { describe, expect, it } from 'vitest';
import type { Channel, ChannelSink } from '../../../src/channel.js';
import { TimeoutError } from '../../../src/errors.js';
import {
  encodeRemoteConnectGetLibVersionRet,
  remoteProgram,
} from '../../../src/generated/remote.js';
import { VirNetMessageType } from '../../../src/generated/virnet.js';
import { DEFAULT_MAX_ABANDONED, RpcClient } from '../../../src/rpc/client.js';
import { findProcedure } from '../../../src/rpc/descriptor.js';
import { ProtocolError } from '../../../src/rpc/errors.js';
import { Framer } from '../../../src/rpc/framer.js';
import { frame, type MessageHead, readHead } from '../../helpers/packets.js';

const { VIR_NET_REPLY: REPLY, VIR_NET_MESSAGE: MESSAGE } = VirNetMessageType;
const REMOTE = 0x20008086;
const KEEPALIVE = 0x6b656570;
const LIBVER = findProcedure(remoteProgram, 'CONNECT_GET_LIB_VERSION');

/** A channel whose far end is this test: `feed` delivers bytes, `sent` holds what the client wrote. */
class MemoryChannel implements Channel {
  sink: ChannelSink | null = null;
  readonly sent: MessageHead[] = [];
  needsDrain = false;
  closedWith: Error | undefined | null = null;
  private readonly framer = new Framer((m) => this.sent.push(readHead(m)));
  open(sink: ChannelSink): void {
    this.sink = sink;
  }
  write(bytes: Uint8Array): boolean {
    this.framer.push(bytes);
    return !this.needsDrain;
  }
  pause(): void {}
  resume(): void {}
  close(error?: Error): void {
    this.closedWith = error;
  }
  feed(...chunks: Uint8Array[]): void {
    for (const c of chunks) this.sink!.data(c);
  }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const ping = (): Buffer =>
  frame({ prog: KEEPALIVE, vers: 1, proc: 1, type: MESSAGE, serial: 0, status: 0 });
const pongs = (ch: MemoryChannel): number =>
  ch.sent.filter((m) => m.prog === KEEPALIVE && m.proc === 2).length;
const libverReply = (serial: number): Buffer =>
  frame({ prog: REMOTE, vers: 1, proc: LIBVER.number, type: REPLY, serial, status: 0 }, (w) =>
    encodeRemoteConnectGetLibVersionRet(w, { libVer: 1n }),
  );

/** Makes `n` calls that time out at once; resolves with their serials. */
async function abandonCalls(rpc: RpcClient, ch: MemoryChannel, n: number): Promise<number[]> {
  const before = ch.sent.length;
  const errors = await Promise.all(
    Array.from({ length: n }, () =>
      rpc.call(LIBVER, undefined, { timeoutMs: 1 }).catch((e: unknown) => e),
    ),
  );
  for (const e of errors) expect(e).toBeInstanceOf(TimeoutError);
  return ch.sent.slice(before).map((m) => m.serial);
}

describe('RpcClient bounds', () => {
  it('remembers at most maxAbandoned serials, and still drops late replies to forgotten ones', async () => {
    const ch = new MemoryChannel();
    const rpc = new RpcClient(ch, { maxAbandoned: 2 });
    const serials = await abandonCalls(rpc, ch, 5);
    expect(serials).toHaveLength(5);
    // Every late reply, remembered (the last 2) or forgotten (the first 3), is dropped quietly.
    for (const s of [...serials].reverse()) ch.feed(libverReply(s));
    expect(rpc.isOpen).toBe(true);
    expect(await rpc.call(LIBVER, undefined, { timeoutMs: 50 }).catch((e) => e)).toBeInstanceOf(
      TimeoutError,
    );
    // A serial this client never issued is still a lie.
    ch.feed(libverReply(0x7fff0000));
    expect(rpc.isOpen).toBe(false);
    expect((await rpc.closed).error).toBeInstanceOf(ProtocolError);
    expect(DEFAULT_MAX_ABANDONED).toBe(4096);
  });

  it('without forgotten serials, a second reply for an abandoned call is a ProtocolError', async () => {
    const ch = new MemoryChannel();
    const rpc = new RpcClient(ch);
    const [s] = await abandonCalls(rpc, ch, 1);
    ch.feed(libverReply(s!));
    expect(rpc.isOpen).toBe(true);
    ch.feed(libverReply(s!));
    expect((await rpc.closed).error).toBeInstanceOf(ProtocolError);
  });

  it('answers the PINGs of one read with one PONG, and none while its writes wait for drain', async () => {
    const ch = new MemoryChannel();
    const rpc = new RpcClient(ch);
    ch.feed(Buffer.concat(Array.from({ length: 1000 }, ping)));
    await tick();
    expect(pongs(ch)).toBe(1);
    ch.feed(ping(), ping(), ping());
    await tick();
    expect(pongs(ch)).toBe(4);
    ch.needsDrain = true;
    for (let i = 0; i < 100; i++) ch.feed(ping());
    await tick();
    expect(pongs(ch)).toBe(4);
    ch.needsDrain = false;
    ch.feed(ping());
    await tick();
    expect(pongs(ch)).toBe(5);
    expect(rpc.isOpen).toBe(true);
    await rpc.close();
  });

  it('drops and counts an event its handler cannot decode, and keeps the connection', async () => {
    const ch = new MemoryChannel();
    const rpc = new RpcClient(ch);
    const seen: number[] = [];
    rpc.onEvent(REMOTE, (h, r) => {
      seen.push(h.proc);
      r.readUhyper(); // a 4-byte body cannot hold this
    });
    const pending = rpc.call(LIBVER, undefined);
    await tick();
    const serial = ch.sent.at(-1)!.serial;
    const event = frame(
      { prog: REMOTE, vers: 1, proc: 107, type: MESSAGE, serial: 0, status: 0 },
      (w) => w.writeUint(7),
    );
    ch.feed(event, event, libverReply(serial));
    expect(await pending).toEqual({ libVer: 1n });
    expect(seen).toEqual([107, 107]);
    expect(rpc.malformedEvents).toBe(2);
    expect(rpc.isOpen).toBe(true);
    await rpc.close();
  });
});

describe('Framer with messages that span many reads', () => {
  it('assembles a 3 MiB message fed in reads of every size, byte for byte', () => {
    const body = Buffer.alloc(3 * 1024 * 1024 + 12);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7 + (i >> 11)) & 0xff;
    const msg = frame({ prog: REMOTE, vers: 1, proc: 1, type: REPLY, serial: 9, status: 0 }, (w) =>
      w.writeFixedOpaque(body, body.length),
    );
    for (const size of [1021, 4093, 65_536, 1_000_000, msg.length]) {
      const out: Buffer[] = [];
      const f = new Framer((m, owned) => {
        out.push(Buffer.from(m));
        expect(owned).toBe(true);
      });
      // A short read first, so the length word itself spans reads too.
      f.push(msg.subarray(0, 2));
      for (let at = 2; at < msg.length; at += size) f.push(msg.subarray(at, at + size));
      expect(f.pending).toBe(false);
      expect(out).toHaveLength(1);
      expect(out[0]!.equals(msg)).toBe(true);
    }
  });
});
