import { Buffer } from 'node:buffer';
import { open } from 'node:fs/promises';
import * as api from '../generated/api.js';
import {
  type RemoteNonnullDomain,
  type RemoteNonnullStorageVol,
  remoteProgram,
} from '../generated/remote.js';
import type { CallOptions, RpcClient } from '../rpc/client.js';
import { findProcedure } from '../rpc/descriptor.js';
import {
  STREAM_CHUNK_MAX,
  type StreamReadOptions,
  type StreamTarget,
  type VirStream,
  type VirStreamOptions,
} from '../rpc/stream.js';
import { openStreamCall } from '../rpc/stream-open.js';
import type { ProcedureInfo, ProgramInfo } from '../xdr/program.js';
import { splitZeroRuns } from './zero-test.js';

export {
  DEFAULT_HIGH_WATER_MARK,
  type HolePolicy,
  STREAM_CHUNK_MAX,
  type StreamChunk,
  type StreamDataOptions,
  StreamHoleError,
  type StreamReadOptions,
  StreamStateError,
  VirStream,
  type VirStreamOptions,
} from '../rpc/stream.js';

/** Options of every stream opener: the opening call's signal/timeout, and the stream's own. */
export type OpenStreamOptions = CallOptions & VirStreamOptions;

/**
 * What the stream functions need of a connection: its RPC client. A `Connection` is one; the
 * handles' own stream methods (`vol.download()`, `dom.openConsole()`...) come through here too.
 */
export interface StreamConnection {
  readonly rpc: RpcClient;
}

/** A domain as the stream functions take it: a `Domain`, or anything with its connection and wire identity. */
export interface StreamDomain {
  readonly conn: StreamConnection;
  readonly wire: RemoteNonnullDomain;
}

/** A storage volume: its wire identity, or a `StorageVol` handle. */
export type StreamVolume = RemoteNonnullStorageVol | { readonly wire: RemoteNonnullStorageVol };

const volWire = (v: StreamVolume): RemoteNonnullStorageVol => ('wire' in v ? v.wire : v);

export interface VolumeTransferOptions extends OpenStreamOptions {
  /** Byte offset in the volume (default 0). */
  readonly offset?: number | bigint;
  /** Bytes to transfer; 0 (default) means up to the end of the volume. */
  readonly length?: number | bigint;
  /**
   * Sparse stream (VIR_STORAGE_VOL_*_SPARSE_STREAM): holes travel as
   * STREAM_HOLE packets instead of zeros. Default false.
   */
  readonly sparse?: boolean;
}

function target(procedure: ProcedureInfo, sparse: boolean): StreamTarget {
  if (procedure.stream === null) {
    throw new TypeError(`${procedure.label} does not open a data stream`);
  }
  return { procedure, sparse };
}

const STORAGE_VOL_DOWNLOAD = findProcedure(remoteProgram, 'STORAGE_VOL_DOWNLOAD');
const STORAGE_VOL_UPLOAD = findProcedure(remoteProgram, 'STORAGE_VOL_UPLOAD');
const DOMAIN_SCREENSHOT = findProcedure(remoteProgram, 'DOMAIN_SCREENSHOT');
const DOMAIN_OPEN_CONSOLE = findProcedure(remoteProgram, 'DOMAIN_OPEN_CONSOLE');
const DOMAIN_OPEN_CHANNEL = findProcedure(remoteProgram, 'DOMAIN_OPEN_CHANNEL');
const SPARSE_DOWNLOAD = api.VirStorageVolDownloadFlags.VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM;
const SPARSE_UPLOAD = api.VirStorageVolUploadFlags.VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM;

/**
 * Downloads a storage volume (virStorageVolDownload). Read the returned
 * stream to its end (`for await`, `sparse()`, `toReadable()`, or
 * `streamToFile`); the finish handshake is part of reading to the end.
 */
export function volumeDownload(
  conn: StreamConnection,
  vol: StreamVolume,
  opts: VolumeTransferOptions = {},
): Promise<VirStream> {
  return volumeTransfer(conn, vol, opts, STORAGE_VOL_DOWNLOAD, SPARSE_DOWNLOAD);
}

/**
 * Uploads into a storage volume (virStorageVolUpload). Write to the returned
 * stream (`write`, `sendHole` when sparse, `toWritable()`, or
 * `streamFromFile`), then `finish()`: the upload counts only once finish
 * resolves.
 */
export function volumeUpload(
  conn: StreamConnection,
  vol: StreamVolume,
  opts: VolumeTransferOptions = {},
): Promise<VirStream> {
  return volumeTransfer(conn, vol, opts, STORAGE_VOL_UPLOAD, SPARSE_UPLOAD);
}

/** Upload and download take the same arguments; only the procedure and the sparse flag differ. */
async function volumeTransfer(
  conn: StreamConnection,
  vol: StreamVolume,
  opts: VolumeTransferOptions,
  proc: ProcedureInfo,
  sparseFlag: number,
): Promise<VirStream> {
  const sparse = opts.sparse ?? false;
  const args = {
    vol: volWire(vol),
    offset: BigInt(opts.offset ?? 0),
    length: BigInt(opts.length ?? 0),
    flags: sparse ? sparseFlag : 0,
  };
  const { stream } = await openStreamCall(conn.rpc, target(proc, sparse), args, opts);
  return stream;
}

/** What {@link domainScreenshot} resolves with. */
export interface Screenshot {
  /** MIME type the daemon reports, e.g. `image/x-portable-pixmap` (QEMU) or `image/png`. */
  readonly mime: string;
  readonly data: Uint8Array;
}

/**
 * Takes a screenshot of a running domain's `screen` (virDomainScreenshot) and
 * reads the whole image. Needs a display device in the guest.
 */
export async function domainScreenshot(
  domain: StreamDomain,
  screen = 0,
  opts: OpenStreamOptions & { readonly maxBytes?: number } = {},
): Promise<Screenshot> {
  const { stream, result } = await openStreamCall<{ mime: string | null }>(
    domain.conn.rpc,
    target(DOMAIN_SCREENSHOT, false),
    { dom: domain.wire, screen, flags: 0 },
    opts,
  );
  const data = await stream.readAll(
    opts.maxBytes === undefined
      ? { signal: opts.signal }
      : { signal: opts.signal, maxBytes: opts.maxBytes },
  );
  return { mime: result.mime ?? 'application/octet-stream', data };
}

/**
 * Connects to a domain's console (virDomainOpenConsole; `devName` null = the
 * first console; VIR_DOMAIN_CONSOLE_* flags). The stream is duplex: read the
 * guest's output, `write()` its input; `abort()` or `finish()` to let go.
 */
export async function domainOpenConsole(
  domain: StreamDomain,
  devName: string | null = null,
  flags = 0,
  opts: OpenStreamOptions = {},
): Promise<VirStream> {
  const args = { dom: domain.wire, devName, flags };
  return openDuplex(domain, DOMAIN_OPEN_CONSOLE, args, opts);
}

/** Connects to a domain's channel by name (virDomainOpenChannel): a duplex stream like a console. */
export async function domainOpenChannel(
  domain: StreamDomain,
  name: string | null,
  flags = 0,
  opts: OpenStreamOptions = {},
): Promise<VirStream> {
  const args = { dom: domain.wire, name, flags };
  return openDuplex(domain, DOMAIN_OPEN_CHANNEL, args, opts);
}

/** A console or channel: a stream opened by a call with no reply body, used both ways. */
async function openDuplex(
  domain: StreamDomain,
  procedure: ProcedureInfo,
  args: unknown,
  opts: OpenStreamOptions,
): Promise<VirStream> {
  const { stream } = await openStreamCall(domain.conn.rpc, target(procedure, false), args, opts);
  return stream;
}

let flagValues: Map<string, number> | undefined;
/** The value of a flag constant named in a procedure table (e.g. the sparse-stream flag). */
function flagValue(name: string): number {
  if (!flagValues) {
    flagValues = new Map();
    for (const v of Object.values(api)) {
      if (typeof v !== 'object' || v === null) continue;
      for (const [k, n] of Object.entries(v)) if (typeof n === 'number') flagValues.set(k, n);
    }
  }
  const n = flagValues.get(name);
  if (n === undefined) throw new TypeError(`unknown flag constant ${name}`);
  return n;
}

/**
 * Opens a stream with any procedure the protocol tables mark as one
 * (`program` is e.g. `remote` from `virtwire/protocol`; the procedure by its
 * wire name `STORAGE_VOL_DOWNLOAD` or method name `storageVolDownload`).
 * When the procedure has a sparse-stream flag and `args.flags` carries it,
 * the stream is sparse. Resolves with the stream and the call's result.
 */
export async function openStream<R = unknown>(
  conn: StreamConnection,
  program: ProgramInfo,
  procedureName: string,
  args: unknown,
  opts: OpenStreamOptions = {},
): Promise<{ stream: VirStream; result: R }> {
  const proc = findProcedure(program, procedureName);
  let sparse = false;
  if (proc.sparseFlag !== null) {
    const flags = (args as { flags?: unknown } | null)?.flags;
    sparse = typeof flags === 'number' && (flags & flagValue(proc.sparseFlag)) !== 0;
  }
  return openStreamCall<R>(conn.rpc, target(proc, sparse), args, opts);
}

// ---------------------------------------------------------------------------
// Files

/** Granularity of hole detection in uploads: zero runs are found in whole pages of this size. */
export const HOLE_PAGE = 4096;
const FILE_BLOCK = 1024 * 1024;
const BATCH_BYTES = 1024 * 1024;
/** Blocks an upload cycles through: READ_AHEAD being read, one scanned, the others being sent. */
const RING_BLOCKS = 4;
const READ_AHEAD = 2;
/**
 * Full packets per block of a non-sparse upload. Eight (2 MiB) in a ring of
 * four with two read ahead, against four packets in a ring of six with three
 * ahead: a quarter less CPU (1 GiB dense to host A, 8 fresh processes each:
 * median 719 -> 542 ms) and no more memory (peak RSS growth 21 -> 19 MiB):
 * half as many reads hand over to libuv's threads, and fewer of them run at
 * once on cores the daemon shares.
 */
const DENSE_PACKETS = 8;

/** streamFromFile's default block: 1 MiB sparse, DENSE_PACKETS full packets dense. */
export const uploadBlock = (sparse: boolean): number =>
  sparse ? FILE_BLOCK : DENSE_PACKETS * STREAM_CHUNK_MAX;

/** Options of the file helpers (streamFromFile, streamToFile, volume*File). */
export interface FileTransferOptions extends StreamReadOptions {
  /**
   * Read/write block size. Default: 1 MiB, and for a non-sparse upload eight
   * full packets (2,096,960 bytes), so that no block leaves a short packet.
   */
  readonly blockSize?: number;
  /**
   * Called as the transfer moves on, with the bytes covered so far (data and holes alike), so a
   * caller can show progress without reimplementing the transfer.
   */
  readonly onProgress?: ((bytes: bigint) => void) | undefined;
}

/**
 * Sends a file's content into a write stream and runs the finish handshake.
 *
 * On a sparse stream, holes are found by content: every aligned 4 KiB page
 * that is all zeros (and a shorter zero tail) is sent as part of a hole, the
 * rest as data. Node has no lseek(SEEK_DATA/SEEK_HOLE), so the file's real
 * holes cannot be asked for; zero pages read back the same, and the daemon
 * writes holes where it can (a raw file in a dir pool gets real holes).
 * On a non-sparse stream every byte is sent.
 *
 * Resolves with the number of bytes the stream covered (data + holes).
 */
export async function streamFromFile(
  stream: VirStream,
  path: string,
  opts: FileTransferOptions = {},
): Promise<bigint> {
  // Dense: blocks of whole packets. A 1 MiB block went out as four full
  // packets and one of 96 bytes, and libvirtd handles every packet alike
  // (a message, a hand-over to its file thread): 20-25% more reads, polls
  // and wake-ups per GiB than virsh's uploads, whose packets are all full.
  const block = Math.max(HOLE_PAGE, opts.blockSize ?? uploadBlock(stream.isSparse));
  const { signal } = opts;
  const fh = await open(path, 'r');
  // A ring of blocks: some are read from the file ahead (the file's reads
  // wait for a core like everything else: one at a time, a dense upload spent
  // half its time waiting for them), one is scanned, the rest are being
  // sent. Writes are not awaited one by one (the stream queues them in
  // order), so the socket always has the next packets; a block is read into
  // again only once every write from it has been let go of.
  type Slot = { readonly buf: Buffer; readonly sent: Promise<void>[] };
  const ring: Slot[] = Array.from({ length: RING_BLOCKS }, () => ({
    buf: Buffer.allocUnsafe(block),
    sent: [],
  }));
  const sparse = stream.isSparse;
  const sendFrom = (slot: Slot, p: Promise<void>): void => {
    p.catch(() => {}); // awaited (and thrown) through slot.sent
    slot.sent.push(p);
  };
  const released = async (slot: Slot): Promise<void> => {
    const sent = slot.sent.splice(0);
    for (const p of sent) await p;
  };
  const reads: { slot: Slot; at: number; p: Promise<{ bytesRead: number }> }[] = [];
  let nextAt = 0;
  let nextSlot = 0;
  const readAhead = async (): Promise<void> => {
    const slot = ring[nextSlot]!;
    nextSlot = (nextSlot + 1) % RING_BLOCKS;
    await released(slot);
    reads.push({ slot, at: nextAt, p: fh.read(slot.buf, 0, block, nextAt) });
    nextAt += block;
  };
  /** Waits for the reads in flight, whatever they return, so their blocks are free. */
  const dropReads = async (): Promise<void> => {
    for (const r of reads.splice(0)) await r.p.catch(() => {});
  };
  let pos = 0;
  // holes below 2^53 bytes: a number, turned into a bigint once per hole sent
  let hole = 0;
  try {
    for (let k = 0; k < READ_AHEAD; k++) await readAhead();
    for (;;) {
      const { slot, at, p } = reads.shift()!;
      const { bytesRead: n } = await p;
      if (n < block) {
        // the end, or a short read: the reads beyond it start at the wrong offset
        await dropReads();
        if (n === 0) break;
        nextAt = at + n;
      }
      pos = at + n;
      await readAhead();
      const buf = slot.buf;
      if (!sparse) {
        sendFrom(slot, stream.write(buf.subarray(0, n), { signal }));
        opts.onProgress?.(BigInt(pos));
        continue;
      }
      // data runs go out as one write each; the hole grows over zero pages (it may span blocks)
      splitZeroRuns(
        buf,
        n,
        HOLE_PAGE,
        (from, to) => {
          if (hole > 0) sendFrom(slot, stream.sendHole(hole, { signal }));
          hole = 0;
          sendFrom(slot, stream.write(buf.subarray(from, to), { signal }));
        },
        (length) => {
          hole += length;
        },
      );
      opts.onProgress?.(BigInt(pos));
    }
    if (hole > 0) sendFrom(ring[0]!, stream.sendHole(hole, { signal }));
    for (const slot of ring) await released(slot);
    await stream.finish({ signal });
    return BigInt(pos);
  } catch (err) {
    await stream.abort(err);
    throw err;
  } finally {
    await dropReads(); // a read still in flight must end before its file closes
    // and no block may be freed while the socket still holds it
    for (const slot of ring) await released(slot).catch(() => {});
    await fh.close();
  }
}

/**
 * Reads a stream to its end into a file (created or truncated), keeping
 * holes: data is written at its offset, a hole only moves the offset, and a
 * trailing hole is made by ftruncate to the final size. When the target is
 * not a regular file (a pipe, /dev/null) holes are written as zeros.
 *
 * Resolves with the number of bytes the stream covered (data + holes).
 */
export async function streamToFile(
  stream: VirStream,
  path: string,
  opts: FileTransferOptions = {},
): Promise<bigint> {
  const { signal } = opts;
  const fh = await open(path, 'w');
  let done = false;
  try {
    const regular = (await fh.stat()).isFile();
    let pos = 0;
    const run: Uint8Array[] = [];
    const flush = async (): Promise<void> => {
      // one writev per run of consecutive data: fewer calls, the queue empties sooner
      const bufs = run.splice(0);
      while (bufs.length > 0) {
        let { bytesWritten: n } = await fh.writev(bufs, pos);
        pos += n;
        while (bufs.length > 0 && n >= bufs[0]!.length) n -= bufs.shift()!.length;
        if (n > 0) bufs[0] = bufs[0]!.subarray(n);
      }
    };
    // Borrowed views (each batch is written before the next is asked for), in
    // batches of about 1 MiB: fewer writes, and the queue is emptied sooner.
    const batch = { signal, borrow: true, minBytes: BATCH_BYTES };
    for (let b = await stream.readBatch(batch); b; ) {
      for (const c of b) {
        if (c.data) {
          run.push(c.data);
          continue;
        }
        await flush();
        if (regular) {
          pos += Number(c.hole);
          continue;
        }
        const zeros = new Uint8Array(Math.min(FILE_BLOCK, Number(c.hole)));
        for (let left = Number(c.hole); left > 0; ) {
          const n = Math.min(left, zeros.length);
          await fh.write(zeros, 0, n, pos);
          pos += n;
          left -= n;
        }
      }
      await flush();
      opts.onProgress?.(BigInt(pos));
      b = await stream.readBatch(batch);
    }
    if (regular) await fh.truncate(pos);
    done = true;
    return BigInt(pos);
  } finally {
    if (!done) await stream.abort();
    await fh.close();
  }
}

/** Uploads a file into a volume (sparse by default: zero pages travel as holes); see streamFromFile. */
export async function volumeUploadFile(
  conn: StreamConnection,
  vol: StreamVolume,
  path: string,
  opts: VolumeTransferOptions & FileTransferOptions = {},
): Promise<bigint> {
  const stream = await volumeUpload(conn, vol, { ...opts, sparse: opts.sparse ?? true });
  return streamFromFile(stream, path, opts);
}

/** Downloads a volume into a file (sparse by default: holes stay holes); see streamToFile. */
export async function volumeDownloadFile(
  conn: StreamConnection,
  vol: StreamVolume,
  path: string,
  opts: VolumeTransferOptions & FileTransferOptions = {},
): Promise<bigint> {
  const stream = await volumeDownload(conn, vol, { ...opts, sparse: opts.sparse ?? true });
  try {
    return await streamToFile(stream, path, opts);
  } finally {
    await stream.abort();
  }
}
