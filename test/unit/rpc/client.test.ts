/**
 * Protocol edge cases of RpcClient that a healthy daemon never produces
 * (a CALL from the server, a reply nobody waits for, a reply that does not
 * decode...), driven by a scripted peer on a real unix socket.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { duplexChannel } from '../../../src/channel.js';
import { AbortError, TimeoutError } from '../../../src/errors.js';
import {
  encodeRemoteConnectGetLibVersionRet,
  remoteProgram,
} from '../../../src/generated/remote.js';
import { encodeVirNetMessageError, VirNetMessageType } from '../../../src/generated/virnet.js';
import { RpcClient } from '../../../src/rpc/client.js';
import { callDescriptor, findProcedure } from '../../../src/rpc/descriptor.js';
import { ConnectionClosedError, ProtocolError, RemoteError } from '../../../src/rpc/errors.js';
import { Framer } from '../../../src/rpc/framer.js';
import { connectSocket } from '../../../src/transport/socket.js';
import { frame, type MessageHead, readHead } from '../../helpers/packets.js';
import { tempDir } from '../../helpers/tmp.js';

type Msg = MessageHead;

const REMOTE = 0x20008086;
const {
  VIR_NET_CALL: CALL,
  VIR_NET_REPLY: REPLY,
  VIR_NET_MESSAGE: MESSAGE,
  VIR_NET_STREAM: STREAM,
} = VirNetMessageType;
const proc = (name: string) => findProcedure(remoteProgram, name);
const LIBVER = proc('CONNECT_GET_LIB_VERSION');

let server: Server | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
});

/** A scripted peer: `onMessage` sees each message the client sends, with the socket to answer on. */
async function peer(
  onMessage: (m: Msg, sock: Socket) => void,
  opts: { maxMessage?: number } = {},
): Promise<RpcClient> {
  const path = join(tempDir('vw-client-'), 'sock');
  server = createServer((sock) => {
    const f = new Framer((b) => onMessage(readHead(b), sock));
    sock.on('data', (c) => f.push(c));
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => server!.listen(path, r));
  return new RpcClient(duplexChannel(await connectSocket({ path }, path)), opts);
}

const reply = (m: Msg, status = 0): Msg => ({ ...m, type: REPLY, status });

describe('RpcClient', () => {
  it('matches out-of-order replies to their calls by serial', async () => {
    const seen: Msg[] = [];
    const client = await peer((m, sock) => {
      seen.push(m);
      if (seen.length === 3) {
        for (const x of [...seen].reverse()) {
          sock.write(
            frame(reply(x), (w) =>
              encodeRemoteConnectGetLibVersionRet(w, { libVer: BigInt(x.serial) }),
            ),
          );
        }
      }
    });
    const rs = await Promise.all([1, 2, 3].map(() => client.call(LIBVER, undefined)));
    expect(rs).toEqual(seen.map((m) => ({ libVer: BigInt(m.serial) })));
    expect(new Set(seen.map((m) => m.serial)).size).toBe(3);
    await client.close();
  });

  it('turns an ERROR reply into a RemoteError with every field and the generated names', async () => {
    const client = await peer((m, sock) =>
      sock.write(
        frame(reply(m, 1), (w) =>
          encodeVirNetMessageError(w, {
            code: 42,
            domain: 10,
            message: 'Domain not found',
            level: 2,
            dom: null,
            str1: 'a',
            str2: null,
            str3: 'c',
            int1: -1,
            int2: 7,
            net: null,
          }),
        ),
      ),
    );
    const err = (await client.call(LIBVER, undefined).catch((e: unknown) => e)) as RemoteError;
    expect(err).toBeInstanceOf(RemoteError);
    expect(err).toMatchObject({
      code: 42,
      codeName: 'VIR_ERR_NO_DOMAIN',
      domainName: 'VIR_FROM_QEMU',
      levelName: 'VIR_ERR_ERROR',
      message: 'Domain not found',
      str1: 'a',
      str2: null,
      str3: 'c',
      int1: -1,
      int2: 7,
      procedure: 'remote.CONNECT_GET_LIB_VERSION',
    });
    await client.close();
  });

  it('rejects only the call whose reply does not decode, and keeps the connection', async () => {
    let n = 0;
    const client = await peer((m, sock) => {
      n++;
      // first reply: 3 bytes of garbage where an unsigned hyper belongs
      if (n === 1)
        sock.write(frame(reply(m), (w) => w.writeFixedOpaque(Uint8Array.of(1, 2, 3), 3)));
      else
        sock.write(frame(reply(m), (w) => encodeRemoteConnectGetLibVersionRet(w, { libVer: 5n })));
    });
    const bad = await client.call(LIBVER, undefined).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ProtocolError);
    expect((bad as Error).message).toMatch(/CONNECT_GET_LIB_VERSION does not decode/);
    expect(await client.call(LIBVER, undefined)).toEqual({ libVer: 5n });
    await client.close();
  });

  it('closes with a ProtocolError when the server sends a CALL or a reply nobody waits for', async () => {
    for (const bad of [
      (m: Msg) => frame({ ...m, type: CALL, serial: 99 }),
      (m: Msg) => frame(reply({ ...m, serial: m.serial + 1000 })),
      (m: Msg) => frame(reply({ ...m, prog: 0x20008087 })),
      () => Buffer.from([0, 0, 0, 3]),
    ]) {
      const client = await peer((m, sock) => sock.write(bad(m)));
      const err = await client.call(LIBVER, undefined).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectionClosedError);
      const info = await client.closed;
      expect(info.reason).toBe('error');
      expect(info.error).toBeInstanceOf(ProtocolError);
      server?.close();
    }
  });

  it('answers a server PING with a PONG', async () => {
    const got: Msg[] = [];
    const client = await peer((m, sock) => {
      got.push(m);
      if (m.prog === REMOTE) {
        sock.write(
          frame({
            prog: 0x6b656570,
            vers: 1,
            proc: 1,
            type: MESSAGE,
            serial: 0,
            status: 0,
          }),
        );
      } else {
        const call = got.find((x) => x.prog === REMOTE)!;
        sock.write(
          frame(reply(call), (w) => encodeRemoteConnectGetLibVersionRet(w, { libVer: 1n })),
        );
      }
    });
    await client.call(LIBVER, undefined);
    expect(got[1]).toEqual({
      prog: 0x6b656570,
      vers: 1,
      proc: 2,
      type: MESSAGE,
      serial: 0,
      status: 0,
    });
    await client.close();
  });

  it('abandons calls on AbortSignal and timeout, and drops their late replies', async () => {
    const held: Array<() => void> = [];
    const client = await peer((m, sock) => {
      held.push(() =>
        sock.write(frame(reply(m), (w) => encodeRemoteConnectGetLibVersionRet(w, { libVer: 1n }))),
      );
    });
    const ac = new AbortController();
    const aborted = client.call(LIBVER, undefined, { signal: ac.signal }).catch((e: unknown) => e);
    const timed = client.call(LIBVER, undefined, { timeoutMs: 30 }).catch((e: unknown) => e);
    ac.abort();
    expect(await aborted).toBeInstanceOf(AbortError);
    expect(await timed).toBeInstanceOf(TimeoutError);
    expect(client.inFlight).toBe(0);
    const pre = new AbortController();
    pre.abort();
    expect(
      await client.call(LIBVER, undefined, { signal: pre.signal }).catch((e: unknown) => e),
    ).toBeInstanceOf(AbortError);
    for (const h of held) h(); // late replies arrive: ignored, the connection stays open
    await new Promise((r) => setTimeout(r, 30));
    expect(client.isOpen).toBe(true);
    await client.close();
  });

  it('refuses to send a message over the maximum size, before writing anything', async () => {
    const got: Msg[] = [];
    const client = await peer((m) => got.push(m), { maxMessage: 1024 });
    const open = proc('CONNECT_OPEN');
    await expect(client.call(open, { name: 'x'.repeat(2000), flags: 0 })).rejects.toThrow(
      /exceeds the maximum of 1028/,
    );
    await new Promise((r) => setTimeout(r, 20));
    expect(got).toHaveLength(0);
    expect(client.isOpen).toBe(true);
    await client.close();
  });

  it('rejects every waiting call when the peer goes away, and later calls at once', async () => {
    let peerSock: Socket | undefined;
    let received = 0;
    const client = await peer((_m, sock) => {
      peerSock = sock;
      received++;
    });
    const calls = Array.from({ length: 10 }, () =>
      client.call(LIBVER, undefined).catch((e: unknown) => e),
    );
    // every call is waiting at the peer (on a loaded machine that takes more than a few ms)
    for (let t = Date.now(); received < 10; ) {
      if (Date.now() - t > 10_000) throw new Error(`the peer got ${received} of 10 calls`);
      await new Promise((r) => setTimeout(r, 5));
    }
    peerSock!.destroy();
    for (const e of await Promise.all(calls)) {
      expect(e).toBeInstanceOf(ConnectionClosedError);
      expect((e as ConnectionClosedError).reason).toBe('eof');
    }
    await expect(client.call(LIBVER, undefined)).rejects.toBeInstanceOf(ConnectionClosedError);
    expect((await client.closed).reason).toBe('eof');
  });

  it('writes the messages of one tick with one socket write, in order; sendRaw and close flush first', async () => {
    const got: Msg[] = [];
    const path = join(tempDir('vw-client-'), 'sock');
    const all = new Promise<void>((done) => {
      server = createServer((sock) => {
        const f = new Framer((b) => got.push(readHead(b)));
        sock.on('data', (c) => f.push(c));
        sock.on('end', () => done());
        sock.on('error', () => {});
      });
    });
    await new Promise<void>((r) => server!.listen(path, r));
    const sock = await connectSocket({ path }, path);
    const writes: number[] = [];
    const write = sock.write.bind(sock) as (chunk: Uint8Array) => boolean;
    sock.write = ((chunk: Uint8Array) => {
      writes.push(chunk.length);
      return write(chunk);
    }) as typeof sock.write;
    const client = new RpcClient(duplexChannel(sock), { maxMessage: 1024 });
    const open = proc('CONNECT_OPEN');
    const calls = [
      client.call(LIBVER, undefined),
      client.call(open, { name: 'x'.repeat(2000), flags: 0 }), // too big: dropped
      client.call(LIBVER, undefined),
      client.call(open, { name: 'qemu:///system', flags: 0 }),
    ].map((c) => c.catch((e: unknown) => e));
    expect(writes).toEqual([]); // nothing written yet: the batch goes out at the end of the tick
    await new Promise((r) => setImmediate(r));
    expect(writes).toHaveLength(1);
    const p201 = callDescriptor(remoteProgram, 201);
    client.send(p201, STREAM, 77, 2, null);
    client.sendRaw(p201, STREAM, 77, 2, new Uint8Array(10).fill(1));
    client.send(callDescriptor(remoteProgram, 202), STREAM, 78, 0, null);
    await client.close();
    // batch of calls | queued send flushed by sendRaw | sendRaw | last send flushed by close
    // (CONNECT_OPEN args: present flag, length, 14 bytes padded to 16, flags)
    expect(writes).toEqual([28 + 28 + (28 + 4 + 4 + 16 + 4), 28, 28 + 10, 28]);
    await all;
    expect(got.map((m) => [m.proc, m.type, m.serial])).toEqual([
      [LIBVER.number, CALL, 1],
      [LIBVER.number, CALL, 3],
      [open.number, CALL, 4],
      [201, STREAM, 77],
      [201, STREAM, 77],
      [202, STREAM, 78],
    ]);
    const results = await Promise.all(calls);
    expect(results[1]).toBeInstanceOf(ProtocolError);
    for (const i of [0, 2, 3]) expect(results[i]).toBeInstanceOf(ConnectionClosedError);
  });

  it('refuses event and stream procedures through call()', async () => {
    const client = await peer(() => {});
    await expect(client.call(proc('DOMAIN_EVENT_LIFECYCLE'), {})).rejects.toThrow(/is an event/);
    await expect(client.call(proc('STORAGE_VOL_DOWNLOAD'), {})).rejects.toThrow(
      /opens a data stream/,
    );
    await client.close();
  });
});
