// The floor under any Node.js client for bench/stream.ts: one volume transfer over a bare
// net.Socket, as fast as Node moves the bytes, decoding nothing it need not. Run by
// bench/stream-child.ts (direction 'bare') in a fresh process, timed over the same span as a
// virtwire transfer: from the opening call to the confirmed finish.
//
// Not a client: no serial routing, no keepalive, no error decoding. A download reads into one
// reused buffer of the size virtwire's tcp and unix transports read into, walks the length
// words and headers, and writes each piece of data into the file (or /dev/null) straight from
// that buffer, synchronously, holes only moving the offset; an upload reads the file in
// the blocks streamFromFile uses (8 full packets dense, 1 MiB sparse), one read ahead, and
// writes each packet (header + payload) with the socket's own back-pressure; sparse, it finds
// the holes as streamFromFile does (whole zero blocks, else zero pages) and sends each as one
// hole message.

import { closeSync, fstatSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { connect as netConnect, type Socket } from 'node:net';
import { HOLE_PAGE, STREAM_CHUNK_MAX, uploadBlock } from '../../src/api/streams.js';
import { splitZeroRuns } from '../../src/api/zero-test.js';
import {
  encodeRemoteConnectOpenArgs,
  encodeRemoteStorageVolDownloadArgs,
  encodeRemoteStorageVolUploadArgs,
  REMOTE_PROGRAM,
  REMOTE_PROTOCOL_VERSION,
  type RemoteNonnullStorageVol,
  RemoteProcedure,
} from '../../src/generated/remote.js';
import { VirNetMessageStatus, VirNetMessageType } from '../../src/generated/virnet.js';
import { READ_BUFFER } from '../../src/transport/shared-read.js';
import { XdrWriter } from '../../src/xdr/index.js';

const HEADER = 28;
const {
  VIR_NET_CALL: CALL,
  VIR_NET_STREAM: STREAM,
  VIR_NET_STREAM_HOLE: STREAM_HOLE,
} = VirNetMessageType;
const { VIR_NET_OK: OK, VIR_NET_CONTINUE: CONTINUE } = VirNetMessageStatus;
const CHUNK = STREAM_CHUNK_MAX;
const SPARSE = 1; // VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM and VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM
const PROC = RemoteProcedure;

function header(len: number, proc: number, type: number, serial: number, status: number): Buffer {
  const b = Buffer.allocUnsafe(HEADER);
  b.writeUInt32BE(len, 0);
  b.writeUInt32BE(REMOTE_PROGRAM, 4);
  b.writeUInt32BE(REMOTE_PROTOCOL_VERSION, 8);
  b.writeInt32BE(proc, 12);
  b.writeInt32BE(type, 16);
  b.writeUInt32BE(serial, 20);
  b.writeInt32BE(status, 24);
  return b;
}

const call = (proc: number, serial: number, body: Uint8Array = new Uint8Array(0)): Buffer =>
  Buffer.concat([header(HEADER + body.length, proc, CALL, serial, OK), body]);

/** A message seen on the wire: its type and status, and its data bytes or hole length. */
interface Seen {
  readonly type: number;
  readonly status: number;
  readonly bytes: number;
}

/** Where the bare socket connects: host A's tcp listener or its unix socket (no authentication). */
export type BareEndpoint =
  | { readonly host: string; readonly port: number }
  | { readonly path: string };

/** Takes the payload bytes of stream data, as they lie in the read buffer (a view, lent). */
type DataSink = (buf: Buffer, from: number, to: number) => void;

/**
 * A socket whose reads go into one reused buffer and are split into messages
 * by their length words; only headers (and a hole's 8-byte length) are
 * copied, payloads are skipped over, those of stream data shown to the sink
 * where they lie.
 */
async function bareSocket(where: BareEndpoint): Promise<{
  sock: Socket;
  next: (fn: (m: Seen) => void) => void;
  sink: (fn: DataSink) => void;
}> {
  const head = Buffer.alloc(HEADER + 8);
  let have = 0;
  let want = HEADER;
  let skip = 0;
  let skipData = false;
  let handler: (m: Seen) => void = () => {};
  let sink: DataSink = () => {};
  const callback = (n: number, buf: Buffer): boolean => {
    let pos = 0;
    while (pos < n) {
      if (skip > 0) {
        const s = Math.min(skip, n - pos);
        if (skipData) sink(buf, pos, pos + s);
        skip -= s;
        pos += s;
        continue;
      }
      const take = Math.min(want - have, n - pos);
      buf.copy(head, have, pos, pos + take);
      have += take;
      pos += take;
      if (have < want) break;
      const len = head.readUInt32BE(0);
      const type = head.readInt32BE(16);
      if (want === HEADER && type === STREAM_HOLE) {
        want = HEADER + 8;
        continue;
      }
      const status = head.readInt32BE(24);
      const bytes =
        want > HEADER ? Number(head.readBigInt64BE(HEADER)) : type === STREAM ? len - HEADER : 0;
      skip = len - want;
      skipData = type === STREAM && status === CONTINUE;
      have = 0;
      want = HEADER;
      handler({ type, status, bytes });
    }
    return true;
  };
  const onread = { buffer: Buffer.allocUnsafe(READ_BUFFER), callback };
  const sock =
    'path' in where
      ? netConnect({ path: where.path, onread })
      : netConnect({ host: where.host, port: where.port, noDelay: true, onread });
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  return {
    sock,
    next: (fn) => {
      handler = fn;
    },
    sink: (fn) => {
      sink = fn;
    },
  };
}

export interface BareResult {
  readonly ms: number;
  readonly cpuMs: number;
  /** Bytes the stream covered (data + holes). */
  readonly bytes: number;
}

/** Sends a call and waits for its (OK) reply, outside the timed span. */
function roundTrip(
  b: Awaited<ReturnType<typeof bareSocket>>,
  msg: Buffer,
  what: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    b.next((m) => (m.status === OK ? resolve() : reject(new Error(`bare ${what} failed`))));
    b.sock.write(msg);
  });
}

/**
 * One transfer of `vol` (looked up by the caller) over a bare socket to
 * `host:port`, opened on `name` with no authentication (host A's tcp
 * listener). Download: into `file`, each piece of data written where it lies
 * in the read buffer by a synchronous write (no copy, no hand-over to libuv's
 * threads: less than a library may do, as it must not block its event loop),
 * a hole only moving the offset and a trailing one made by ftruncate. Upload:
 * `file` is sent whole, dense, or sparse with its zero pages as holes.
 */
export async function bareTransfer(
  where: BareEndpoint,
  name: string,
  vol: RemoteNonnullStorageVol,
  direction: 'download' | 'upload',
  sparse: boolean,
  file: string,
): Promise<BareResult> {
  const b = await bareSocket(where);
  const fh = direction === 'upload' ? await open(file, 'r') : null;
  try {
    await roundTrip(b, call(PROC.REMOTE_PROC_AUTH_LIST, 1), 'AUTH_LIST');
    const w = new XdrWriter();
    encodeRemoteConnectOpenArgs(w, { name, flags: 0 });
    await roundTrip(b, call(PROC.REMOTE_PROC_CONNECT_OPEN, 2, w.finish()), 'CONNECT_OPEN');
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const bytes =
      direction === 'download'
        ? await download(b, vol, sparse, file)
        : await upload(b, vol, fh!, sparse);
    const cpu = process.cpuUsage(c0);
    return { ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000, bytes };
  } finally {
    await fh?.close();
    b.sock.destroy();
  }
}

const SERIAL = 3;

async function download(
  b: Awaited<ReturnType<typeof bareSocket>>,
  vol: RemoteNonnullStorageVol,
  sparse: boolean,
  file: string,
): Promise<number> {
  const fd = openSync(file, 'w');
  try {
    const regular = fstatSync(fd).isFile();
    let pos = 0;
    b.sink((buf, from, to) => {
      for (let at = from; at < to; ) at += writeSync(fd, buf, at, to - at, regular ? pos : null);
      pos += to - from;
    });
    const onHole = (length: number): void => {
      if (regular) pos += length;
      else throw new Error(`the bare floor writes holes only into a regular file, not ${file}`);
    };
    const bytes = await receive(b, vol, sparse, onHole);
    if (regular) ftruncateSync(fd, pos);
    return bytes;
  } finally {
    closeSync(fd);
  }
}

function receive(
  b: Awaited<ReturnType<typeof bareSocket>>,
  vol: RemoteNonnullStorageVol,
  sparse: boolean,
  onHole: (length: number) => void,
): Promise<number> {
  const proc = PROC.REMOTE_PROC_STORAGE_VOL_DOWNLOAD;
  const w = new XdrWriter();
  encodeRemoteStorageVolDownloadArgs(w, {
    vol,
    offset: 0n,
    length: 0n,
    flags: sparse ? SPARSE : 0,
  });
  return new Promise((resolve, reject) => {
    let bytes = 0;
    let finishing = false;
    b.next((m) => {
      if (m.type === STREAM && m.status === CONTINUE) {
        if (m.bytes > 0) {
          bytes += m.bytes;
          return;
        }
        // the daemon's end of stream: our finish, then its confirmation
        finishing = true;
        b.sock.write(header(HEADER, proc, STREAM, SERIAL, OK));
        return;
      }
      if (m.type === STREAM_HOLE) {
        bytes += m.bytes;
        try {
          onHole(m.bytes);
        } catch (err) {
          reject(err);
        }
        return;
      }
      if (m.status !== OK)
        reject(new Error(`bare download failed: type ${m.type} status ${m.status}`));
      else if (m.type === STREAM && finishing) resolve(bytes);
      // else: the opening call's reply
    });
    b.sock.write(call(proc, SERIAL, w.finish()));
  });
}

/** The hole message's body (virNetStreamHole): its length and flags 0. */
function holeMessage(proc: number, length: number): Buffer {
  const b = header(HEADER + 12, proc, STREAM_HOLE, SERIAL, CONTINUE);
  const body = Buffer.alloc(12);
  body.writeBigInt64BE(BigInt(length), 0);
  return Buffer.concat([b, body]);
}

async function upload(
  b: Awaited<ReturnType<typeof bareSocket>>,
  vol: RemoteNonnullStorageVol,
  fh: FileHandle,
  sparse: boolean,
): Promise<number> {
  const proc = PROC.REMOTE_PROC_STORAGE_VOL_UPLOAD;
  const w = new XdrWriter();
  encodeRemoteStorageVolUploadArgs(w, { vol, offset: 0n, length: 0n, flags: sparse ? SPARSE : 0 });
  let failed: Error | null = null;
  let onOk: () => void = () => {};
  b.next((m) => {
    if (m.status !== OK) failed = new Error('bare upload failed');
    else onOk();
  });
  const ok = () =>
    new Promise<void>((resolve, reject) => {
      onOk = () => (failed ? reject(failed) : resolve());
    });
  const opened = ok();
  b.sock.write(call(proc, SERIAL, w.finish()));
  await opened;
  const block = uploadBlock(sparse); // the blocks streamFromFile reads
  const bufs = [0, 1, 2].map(() => Buffer.allocUnsafe(block));
  let room = true;
  /** Sends buf[from, to) as data packets. */
  const data = (buf: Buffer, from: number, to: number): void => {
    for (let at = from; at < to; at += CHUNK) {
      const end = Math.min(to, at + CHUNK);
      b.sock.cork();
      b.sock.write(header(HEADER + end - at, proc, STREAM, SERIAL, CONTINUE));
      room = b.sock.write(buf.subarray(at, end));
      b.sock.uncork();
    }
  };
  let hole = 0;
  const flushHole = (): void => {
    if (hole > 0) room = b.sock.write(holeMessage(proc, hole));
    hole = 0;
  };
  let pos = 0;
  let k = 0;
  let pending = fh.read(bufs[0]!, 0, block, 0);
  for (;;) {
    const { bytesRead: n } = await pending;
    if (n === 0) break;
    const buf = bufs[k % 3]!;
    pos += n;
    k++;
    pending = fh.read(bufs[k % 3]!, 0, block, pos);
    if (!sparse) data(buf, 0, n);
    else {
      // streamFromFile's split: data runs between zero pages
      splitZeroRuns(
        buf,
        n,
        HOLE_PAGE,
        (from, to) => {
          flushHole();
          data(buf, from, to);
        },
        (length) => {
          hole += length;
        },
      );
    }
    // three buffers: the one being read, this one, and the one the socket may still hold
    if (!room) await new Promise((r) => b.sock.once('drain', r));
    room = true;
    if (failed) throw failed;
  }
  flushHole();
  const done = ok();
  b.sock.write(header(HEADER, proc, STREAM, SERIAL, OK));
  await done;
  return pos;
}
