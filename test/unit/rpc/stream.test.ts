/**
 * VirStream's wire behaviour against a scripted daemon on a unix socket:
 * packet splitting, the finish and abort handshakes, holes, errors, and
 * bounded buffering (the connection stops being read when the queue is full).
 */

import { writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { streamFromFile } from '../../../src/api/streams.js';
import { duplexChannel } from '../../../src/channel.js';
import { AbortError } from '../../../src/errors.js';
import { remoteProgram } from '../../../src/generated/remote.js';
import {
  encodeVirNetMessageError,
  encodeVirNetStreamHole,
  VirNetMessageStatus,
  VirNetMessageType,
} from '../../../src/generated/virnet.js';
import { RpcClient } from '../../../src/rpc/client.js';
import { callDescriptor, findProcedure } from '../../../src/rpc/descriptor.js';
import { ProtocolError, RemoteError } from '../../../src/rpc/errors.js';
import { Framer } from '../../../src/rpc/framer.js';
import {
  STREAM_CHUNK_MAX,
  StreamHoleError,
  StreamStateError,
  type VirStream,
  type VirStreamOptions,
} from '../../../src/rpc/stream.js';
import { openStreamCall } from '../../../src/rpc/stream-open.js';
import { connectSocket } from '../../../src/transport/socket.js';
import { frame, type MessageHead, readHead } from '../../helpers/packets.js';
import { tempDir } from '../../helpers/tmp.js';

const REMOTE = remoteProgram.program;
const DOWNLOAD = findProcedure(remoteProgram, 'STORAGE_VOL_DOWNLOAD');
const {
  VIR_NET_CALL: CALL,
  VIR_NET_REPLY: REPLY,
  VIR_NET_STREAM: STREAM,
  VIR_NET_STREAM_HOLE: STREAM_HOLE,
  VIR_NET_MESSAGE: MESSAGE,
} = VirNetMessageType;
const { VIR_NET_OK: OK, VIR_NET_ERROR: ERROR, VIR_NET_CONTINUE: CONTINUE } = VirNetMessageStatus;

/** STORAGE_VOL_DOWNLOAD's number and name, in either direction, sending no arguments. */
const download = (direction: 'read' | 'write') =>
  callDescriptor(remoteProgram, DOWNLOAD.number, { name: DOWNLOAD.name, stream: direction });

interface Msg extends MessageHead {
  payload: Uint8Array;
}

function rawFrame(h: Omit<Msg, 'payload'>, data: Uint8Array): Buffer {
  const head = frame(h);
  const out = Buffer.concat([head, data]);
  out.writeUInt32BE(out.length, 0);
  return out;
}

/** The daemon's side of one stream: what it received, and ways to answer. */
class Peer {
  readonly got: Msg[] = [];
  sock!: Socket;
  private waiters: Array<() => void> = [];
  call!: Msg;

  onMessage(m: Msg): void {
    if (m.type === CALL) this.call = m;
    this.got.push(m);
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves when a message matching `pred` has arrived. */
  async waitFor(pred: (m: Msg) => boolean): Promise<Msg> {
    for (;;) {
      const m = this.got.find(pred);
      if (m) return m;
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  private head(type: number, status: number) {
    const c = this.call;
    return { prog: c.prog, vers: c.vers, proc: c.proc, type, serial: c.serial, status };
  }
  reply(): void {
    this.sock.write(frame(this.head(REPLY, OK)));
  }
  data(bytes: Uint8Array): void {
    this.sock.write(rawFrame(this.head(STREAM, CONTINUE), bytes));
  }
  eof(): void {
    this.sock.write(frame(this.head(STREAM, CONTINUE)));
  }
  confirm(): void {
    this.sock.write(frame(this.head(STREAM, OK)));
  }
  hole(length: bigint): void {
    this.sock.write(
      frame(this.head(STREAM_HOLE, CONTINUE), (w) =>
        encodeVirNetStreamHole(w, { length, flags: 0 }),
      ),
    );
  }
  error(message: string): void {
    this.sock.write(
      frame(this.head(STREAM, ERROR), (w) =>
        encodeVirNetMessageError(w, {
          code: 38,
          domain: 18,
          message,
          level: 2,
          dom: null,
          str1: message,
          str2: null,
          str3: null,
          int1: 0,
          int2: 0,
          net: null,
        }),
      ),
    );
  }
  /** Stream packets the client sent (not the CALL). */
  get streamPackets(): Msg[] {
    return this.got.filter((m) => m.type === STREAM || m.type === STREAM_HOLE);
  }
}

let server: Server | undefined;
let client: RpcClient | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
  server?.close();
  server = undefined;
});

async function setup(): Promise<{ peer: Peer; rpc: RpcClient; sock: Socket }> {
  const peer = new Peer();
  const path = join(tempDir('vw-stream-'), 'sock');
  server = createServer((sock) => {
    peer.sock = sock;
    const f = new Framer((b) => {
      peer.onMessage({ ...readHead(b), payload: Uint8Array.from(b.subarray(28)) });
    });
    sock.on('data', (c) => f.push(c));
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => server!.listen(path, r));
  const sock = await connectSocket({ path }, path);
  client = new RpcClient(duplexChannel(sock));
  return { peer, rpc: client, sock };
}

/** Opens a download-like stream; the peer answers the CALL after `before` ran. */
async function open(
  rpc: RpcClient,
  peer: Peer,
  opts: {
    sparse?: boolean;
    direction?: 'read' | 'write';
    before?: () => void;
  } & VirStreamOptions = {},
): Promise<VirStream> {
  const p = openStreamCall(
    rpc,
    { procedure: download(opts.direction ?? 'read'), sparse: opts.sparse ?? false },
    undefined,
    opts,
  );
  await peer.waitFor((m) => m.type === CALL);
  opts.before?.();
  peer.reply();
  return (await p).stream;
}

function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed) & 255;
  return b;
}
async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Polls `cond` until it holds, or fails the test naming what it waited for after `ms`. */
async function waitUntil(cond: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`not true after ${ms} ms: ${String(cond)}`);
    await sleep(5);
  }
}

describe('VirStream writing', () => {
  it('splits writes into packets of at most 262120 bytes, in order, then finishes on confirmation', async () => {
    const { peer, rpc } = await setup();
    const s = await open(rpc, peer, { direction: 'write' });
    const big = bytes(600_000, 1);
    await Promise.all([s.write(big), s.write(bytes(10, 2))]);
    const fin = s.finish();
    const okPacket = await peer.waitFor((m) => m.type === STREAM && m.status === OK);
    const data = peer.streamPackets.filter((m) => m.status === CONTINUE);
    expect(data.map((m) => m.payload.length)).toEqual([
      STREAM_CHUNK_MAX,
      STREAM_CHUNK_MAX,
      600_000 - 2 * STREAM_CHUNK_MAX,
      10,
    ]);
    for (const m of [...data, okPacket]) {
      expect(m).toMatchObject({ prog: REMOTE, vers: 1, proc: DOWNLOAD.number, serial: s.serial });
    }
    expect(Buffer.concat(data.slice(0, 3).map((m) => m.payload)).equals(Buffer.from(big))).toBe(
      true,
    );
    expect(okPacket.payload.length).toBe(0);
    let done = false;
    void fin.then(() => {
      done = true;
    });
    await sleep(20);
    expect(done).toBe(false); // waits for the daemon's confirmation
    peer.confirm();
    await fin;
    expect(s.isClosed).toBe(true);
    await expect(s.write(bytes(1, 0))).rejects.toBeInstanceOf(StreamStateError);
    expect(s.finish()).toBe(fin); // idempotent
  });

  it('rejects finish with the RemoteError the daemon sends instead of a confirmation', async () => {
    const { peer, rpc } = await setup();
    const s = await open(rpc, peer, { direction: 'write' });
    await s.write(bytes(100, 0));
    const fin = s.finish();
    await peer.waitFor((m) => m.type === STREAM && m.status === OK);
    peer.error('cannot write to stream: No space left on device');
    const err = await fin.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect(err).toMatchObject({ procedure: 'remote.STORAGE_VOL_DOWNLOAD' });
  });

  it('fails the next write with a RemoteError sent mid-upload, and aborts its side', async () => {
    const { peer, rpc } = await setup();
    const s = await open(rpc, peer, { direction: 'write' });
    await s.write(bytes(100, 0));
    peer.error('boom');
    await sleep(30);
    await expect(s.write(bytes(100, 0))).rejects.toBeInstanceOf(RemoteError);
    await expect(s.finish()).rejects.toBeInstanceOf(RemoteError);
    // the stream told the daemon to drop its side (an empty STREAM/ERROR)
    const abort = await peer.waitFor((m) => m.type === STREAM && m.status === ERROR);
    expect(abort.payload.length).toBe(0);
  });

  it('sends holes only on sparse streams, as {hyper length; unsigned flags}', async () => {
    const { peer, rpc } = await setup();
    const plain = await open(rpc, peer, { direction: 'write' });
    await expect(plain.sendHole(4096)).rejects.toBeInstanceOf(StreamStateError);
    expect(peer.streamPackets).toHaveLength(0);

    const { peer: p2, rpc: rpc2 } = await setup();
    const s = await open(rpc2, p2, { direction: 'write', sparse: true });
    await expect(s.sendHole(0)).rejects.toBeInstanceOf(RangeError);
    await s.write(bytes(3, 0));
    await s.sendHole(1n << 40n);
    const h = await p2.waitFor((m) => m.type === STREAM_HOLE);
    expect(h.status).toBe(CONTINUE);
    expect(Buffer.from(h.payload).toString('hex')).toBe('000001000000000000000000');
    expect(p2.streamPackets.map((m) => m.type)).toEqual([STREAM, STREAM_HOLE]);
  });
  it('keeps several lent packets queued while the peer is slow, at most about 4 MiB, in order', async () => {
    const { peer, rpc, sock } = await setup();
    const s = await open(rpc, peer, { direction: 'write' });
    peer.sock.pause(); // the daemon stops reading
    const chunks = Array.from({ length: 20 }, (_, i) => bytes(1024 * 1024, i));
    const writes = chunks.map((c) => s.write(c));
    let settled = 0;
    for (const w of writes) void w.then(() => settled++);
    // the queue grows while the window has room, then stops growing
    let last = -1;
    while (sock.writableLength !== last) {
      last = sock.writableLength;
      await sleep(50);
    }
    expect(sock.writableLength).toBeGreaterThan(2 * STREAM_CHUNK_MAX); // not one packet per drain
    expect(sock.writableLength).toBeLessThanOrEqual(4 * 1024 * 1024 + STREAM_CHUNK_MAX);
    expect(settled).toBeLessThan(20); // the writer is held back
    peer.sock.resume();
    await Promise.all(writes);
    const total = () => peer.streamPackets.reduce((n, m) => n + m.payload.length, 0);
    await waitUntil(() => total() === 20 * 1024 * 1024, 5000);
    const got = Buffer.concat(peer.streamPackets.map((m) => m.payload));
    expect(got.equals(Buffer.concat(chunks))).toBe(true);
  });

  it('uploads a dense file in full packets only, but for the last', async () => {
    const { peer, rpc } = await setup();
    const s = await open(rpc, peer, { direction: 'write' });
    // 10 MiB and a bit: with 1 MiB blocks, every block ended in a packet of 96 bytes
    const file = Buffer.from(bytes(10 * 1024 * 1024 + 5000, 9));
    const path = join(tempDir('vw-upload-'), 'dense.raw');
    writeFileSync(path, file);
    const done = streamFromFile(s, path);
    await peer.waitFor((m) => m.type === STREAM && m.status === OK);
    peer.confirm();
    expect(await done).toBe(BigInt(file.length));
    const data = peer.streamPackets.filter((m) => m.status === CONTINUE);
    const sizes = data.map((m) => m.payload.length);
    expect(sizes.slice(0, -1).every((n) => n === STREAM_CHUNK_MAX)).toBe(true);
    expect(sizes.length).toBe(Math.ceil(file.length / STREAM_CHUNK_MAX));
    expect(Buffer.concat(data.map((m) => m.payload)).equals(file)).toBe(true);
  });

  it('uploads a file through a ring of blocks: data runs as STREAM, zero pages and blocks as holes', async () => {
    const { peer, rpc } = await setup();
    const s = await open(rpc, peer, { direction: 'write', sparse: true });
    const page = 4096;
    // blocks of 4 pages: data, a data/zero mix, whole zero blocks, data at the end, a zero tail
    const file = Buffer.alloc(40 * page + 100);
    Buffer.from(bytes(5 * page, 3)).copy(file, 0);
    Buffer.from(bytes(page, 4)).copy(file, 7 * page);
    Buffer.from(bytes(2 * page + 10, 5)).copy(file, 30 * page);
    const path = join(tempDir('vw-upload-'), 'src.raw');
    writeFileSync(path, file);
    const done = streamFromFile(s, path, { blockSize: 4 * page });
    await peer.waitFor((m) => m.type === STREAM && m.status === OK);
    peer.confirm();
    expect(await done).toBe(BigInt(file.length));
    // rebuilt from what went on the wire: the same bytes
    const parts: Buffer[] = [];
    for (const m of peer.streamPackets.filter((p) => p.status === CONTINUE)) {
      if (m.type === STREAM) parts.push(Buffer.from(m.payload));
      else parts.push(Buffer.alloc(Number(Buffer.from(m.payload).readBigInt64BE(0))));
    }
    expect(Buffer.concat(parts).equals(file)).toBe(true);
    // zero runs travel as holes, merged across blocks: one between each two data runs, and the tail
    const holes = peer.streamPackets.filter((m) => m.type === STREAM_HOLE);
    // (the page holding the last 10 data bytes goes as data: holes are whole pages)
    expect(holes.map((m) => Number(Buffer.from(m.payload).readBigInt64BE(0)))).toEqual([
      2 * page,
      22 * page,
      file.length - 33 * page,
    ]);
  });
});

describe('VirStream reading', () => {
  it('keeps data that arrives before the reply, and finishes by itself at the end of stream', async () => {
    const { peer, rpc } = await setup();
    const s = await open(rpc, peer, { before: () => peer.data(bytes(5, 1)) });
    peer.data(bytes(70_000, 2));
    peer.eof();
    const chunks: Uint8Array[] = [];
    const reading = (async () => {
      for await (const c of s) chunks.push(c);
    })();
    const fin = await peer.waitFor((m) => m.type === STREAM && m.status === OK);
    expect(fin.payload.length).toBe(0);
    peer.confirm();
    await reading;
    expect(chunks.map((c) => c.length)).toEqual([5, 70_000]);
    expect(Buffer.from(chunks[1]!).equals(Buffer.from(bytes(70_000, 2)))).toBe(true);
    expect(s.isClosed).toBe(true);
  });

  it('yields holes from sparse(), zeros from the plain reader, or StreamHoleError when asked', async () => {
    for (const mode of ['sparse', 'zero', 'throw'] as const) {
      const { peer, rpc } = await setup();
      const s = await open(rpc, peer, { sparse: true });
      peer.data(bytes(3, 9));
      peer.hole(600_000n);
      peer.data(bytes(2, 4));
      peer.eof();
      void peer.waitFor((m) => m.type === STREAM && m.status === OK).then(() => peer.confirm());
      if (mode === 'sparse') {
        const items = [];
        for await (const c of s.sparse()) items.push(c.data ? c.data.length : c.hole);
        expect(items).toEqual([3, 600_000n, 2]);
      } else if (mode === 'zero') {
        const all = Buffer.concat(await collect(s.data()));
        expect(all.length).toBe(600_005);
        expect(all.subarray(3, 600_003).every((b) => b === 0)).toBe(true);
        expect([...all.subarray(600_003)]).toEqual([...bytes(2, 4)]);
      } else {
        // leaving the loop early aborts the stream, and waits for the daemon's confirmation
        const aborted = peer
          .waitFor((m) => m.type === STREAM && m.status === ERROR)
          .then(() => peer.confirm());
        const err = await collect(s.data({ holes: 'throw' })).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(StreamHoleError);
        expect((err as StreamHoleError).length).toBe(600_000n);
        await aborted;
        expect(s.isClosed).toBe(true);
      }
      await client!.close();
    }
  });

  it('treats a hole on a non-sparse stream as a protocol error and aborts', async () => {
    const { peer, rpc } = await setup();
    const s = await open(rpc, peer);
    peer.hole(10n);
    await expect(s.read()).rejects.toBeInstanceOf(ProtocolError);
    await peer.waitFor((m) => m.type === STREAM && m.status === ERROR);
    expect(rpc.isOpen).toBe(true);
  });

  it('delivers data received before a daemon error, then the RemoteError', async () => {
    const { peer, rpc } = await setup();
    const s = await open(rpc, peer);
    peer.data(bytes(10, 0));
    peer.error('I/O error');
    await sleep(20);
    const first = await s.read();
    expect(first?.data?.length).toBe(10);
    await expect(s.read()).rejects.toBeInstanceOf(RemoteError);
  });

  it('aborts: sends an empty STREAM/ERROR, drops what is in flight, resolves on confirmation', async () => {
    const { peer, rpc } = await setup();
    const s = await open(rpc, peer);
    peer.data(bytes(10, 0));
    await s.read();
    const ab = s.abort();
    const pkt = await peer.waitFor((m) => m.type === STREAM && m.status === ERROR);
    expect(pkt.payload.length).toBe(0);
    peer.data(bytes(10, 0)); // in flight before the daemon saw the abort
    peer.confirm();
    await ab;
    expect(s.isClosed).toBe(true);
    await expect(s.read()).rejects.toBeInstanceOf(AbortError);
    await expect(s.write(bytes(1, 0))).rejects.toBeInstanceOf(AbortError);
    await s.abort(); // no-op once over
    expect(peer.streamPackets).toHaveLength(1);
  });

  it('aborts the stream when a read signal fires', async () => {
    const { peer, rpc } = await setup();
    const s = await open(rpc, peer);
    const ac = new AbortController();
    const r = s.read({ signal: ac.signal });
    ac.abort(new Error('user gave up'));
    await expect(r).rejects.toBeInstanceOf(AbortError);
    await peer.waitFor((m) => m.type === STREAM && m.status === ERROR);
  });

  it('stops reading the connection above the high-water mark and resumes when consumed', async () => {
    const { peer, rpc } = await setup();
    const hwm = 1024 * 1024;
    const s = await open(rpc, peer, { highWaterMark: hwm });
    const N = 40; // 10 MiB in flight from the "daemon"
    for (let i = 0; i < N; i++) peer.data(bytes(STREAM_CHUNK_MAX, i));
    peer.eof();
    void peer.waitFor((m) => m.type === STREAM && m.status === OK).then(() => peer.confirm());
    // How soon 10 MiB crosses a local socket is the runtime's: Node delivers the first MiB within
    // milliseconds, Bun 1.4 takes about 700 ms for its first 220 KiB. Wait for the pause, then
    // give the socket time to deliver more, which a working pause keeps out.
    await waitUntil(() => rpc.readingPaused, 10_000);
    await sleep(200);
    expect(rpc.readingPaused).toBe(true);
    // at most the mark plus what was already framed when the pause took effect
    expect(s.bufferedBytes).toBeLessThan(hwm + 2 * STREAM_CHUNK_MAX);
    expect(s.bufferedBytes).toBeGreaterThanOrEqual(hwm - STREAM_CHUNK_MAX);
    let i = 0;
    let maxBuffered = 0;
    for await (const c of s) {
      maxBuffered = Math.max(maxBuffered, s.bufferedBytes);
      expect(c.length).toBe(STREAM_CHUNK_MAX);
      expect(c[0]).toBe(i & 255);
      i++;
    }
    expect(i).toBe(N);
    expect(maxBuffered).toBeLessThan(hwm + 2 * STREAM_CHUNK_MAX + 70_000);
    expect(rpc.readingPaused).toBe(false);
  });

  it('keeps the daemon from declaring us dead while reading is paused (PINGs go out)', async () => {
    const { peer, rpc } = await setup();
    rpc.startKeepalive(1, 1);
    const s = await open(rpc, peer, { highWaterMark: 1 });
    peer.data(bytes(100, 0));
    await sleep(100);
    expect(rpc.readingPaused).toBe(true);
    await sleep(2600);
    const pings = peer.got.filter((m) => m.type === MESSAGE && m.proc === 1);
    expect(pings.length).toBeGreaterThanOrEqual(2);
    expect(rpc.isOpen).toBe(true); // our own keepalive did not count the unread PONGs
    expect((await s.read())?.data?.length).toBe(100);
    expect(rpc.readingPaused).toBe(false);
  });

  it('hands out batches: copies by default, or borrowed views that are reused after the next read', async () => {
    const { peer, rpc } = await setup();
    const s = await open(rpc, peer);
    const n = 100_000;
    for (let i = 0; i < 6; i++) peer.data(bytes(n, i));
    peer.eof();
    void peer.waitFor((m) => m.type === STREAM && m.status === OK).then(() => peer.confirm());
    // everything queued (no reader was waiting): how soon depends on the runtime and the load
    await waitUntil(() => s.bufferedBytes >= 6 * n, 10_000);
    const copied = await s.readBatch({ minBytes: 2 * n });
    expect(copied?.map((c) => c.data?.length)).toEqual([n, n, n, n, n, n]);
    expect(copied?.every((c, i) => c.data?.[0] === i)).toBe(true);
    expect(await s.readBatch()).toBeNull();

    const { peer: p2, rpc: rpc2 } = await setup();
    const s2 = await open(rpc2, p2);
    p2.data(bytes(n, 1));
    await sleep(50);
    const lent = (await s2.readBatch({ borrow: true }))![0]!.data!;
    expect(lent[0]).toBe(1);
    // after the next read the slot is reused for new data: the old view sees it
    const next = s2.readBatch({ borrow: true });
    p2.data(bytes(n, 9));
    await sleep(50);
    p2.data(bytes(n, 5));
    await next;
    await sleep(50);
    const again = (await s2.readBatch({ borrow: true }))![0]!.data!;
    expect(again[0]).toBe(5);
    // borrowed views come from the stream's fixed slots, not fresh allocations
    expect(again.buffer.byteLength).toBe(lent.buffer.byteLength);
  });

  it('a batch waiting for minBytes takes packets as they come, and ends at the end of the stream or at its signal', async () => {
    const { peer, rpc } = await setup();
    const s = await open(rpc, peer);
    const n = 50_000;
    const batch = s.readBatch({ minBytes: 3 * n });
    peer.data(bytes(n, 1));
    peer.data(bytes(n, 2));
    await sleep(50);
    peer.data(bytes(n, 3));
    peer.data(bytes(n, 4));
    const got = await batch;
    // woken once three packets were there: the fourth may or may not have made it
    expect(got!.length).toBeGreaterThanOrEqual(3);
    expect(got!.map((c) => c.data?.[0])).toEqual([1, 2, 3, 4].slice(0, got!.length));
    // short of minBytes, the end of the stream ends the batch
    const rest = got!.length === 3 ? [4] : [];
    const tail = s.readBatch({ minBytes: 10 * n });
    peer.data(bytes(n, 5));
    await sleep(50);
    peer.eof();
    void peer.waitFor((m) => m.type === STREAM && m.status === OK).then(() => peer.confirm());
    expect((await tail)!.map((c) => c.data?.[0])).toEqual([...rest, 5]);
    expect(await s.readBatch({ minBytes: n })).toBeNull();

    const { peer: p2, rpc: rpc2 } = await setup();
    const s2 = await open(rpc2, p2);
    const ac = new AbortController();
    const waiting = s2.readBatch({ minBytes: 3 * n, signal: ac.signal });
    p2.data(bytes(n, 1));
    await sleep(50);
    ac.abort(new Error('enough'));
    await expect(waiting).rejects.toBeInstanceOf(AbortError);
  });

  it('refuses reads on upload streams', async () => {
    const { peer, rpc } = await setup();
    const s = await open(rpc, peer, { direction: 'write' });
    await expect(s.read()).rejects.toBeInstanceOf(StreamStateError);
  });

  it('aborts a stream the daemon opened after the caller gave up on the opening call', async () => {
    const { peer, rpc } = await setup();
    const ac = new AbortController();
    const p = openStreamCall(rpc, { procedure: download('read'), sparse: false }, undefined, {
      signal: ac.signal,
    });
    await peer.waitFor((m) => m.type === CALL);
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(AbortError);
    peer.reply();
    const abort = await peer.waitFor((m) => m.type === STREAM && m.status === ERROR);
    expect(abort.serial).toBe(peer.call.serial);
  });
});
