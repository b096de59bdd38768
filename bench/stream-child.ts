// One volume transfer by virtwire in a fresh process, as a user's script runs it: the child side
// of bench/stream.ts, which runs it as plain node from a tsup bundle (`--child=tsx`: through
// tsx) with one argument, JOB, a JSON ChildJob.
// Prints one JSON ChildResult line on stdout; exits 1 with the error on stderr.
//
// Timed: from the STORAGE_VOL_DOWNLOAD / _UPLOAD call until the file is written (download) or
// the daemon has confirmed the finish handshake (both directions): the transfer itself. Not
// timed: Node's start-up, loading virtwire, connecting, the pool and volume look-ups.
// CPU: process.cpuUsage() over the same span (user + system, every thread: JS, GC, libuv's
// file-system threads). Memory: the peak RSS of the transfer above the RSS before it, from the
// kernel's own high-water mark (VmHWM in /proc/self/status, reset through
// /proc/self/clear_refs just before the call), so no spike between two samples escapes.

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import {
  streamFromFile,
  streamToFile,
  uploadBlock,
  volumeDownload,
  volumeUpload,
} from '../src/api/streams.js';
import { isZeroRange } from '../src/api/zero-test.js';
import type { RemoteNonnullStorageVol } from '../src/generated/remote.js';
import { connect } from '../src/index.js';
import { parseUri } from '../src/uri/index.js';
import { bareTransfer } from './lib/bare-stream.js';

const MARK = 64 * 1024 * 1024;

export interface ChildJob {
  readonly uri: string;
  readonly pool: string;
  readonly vol: string;
  /** 'scan': no connection, only the upload's file side (see scanFile). */
  readonly direction: 'download' | 'upload' | 'scan';
  readonly sparse: boolean;
  /** Download: where to (a file or /dev/null); upload: the file to send. */
  readonly file: string;
  /** Bytes the stream must cover (data + holes). */
  readonly size: number;
  /** The transfer over a bare socket instead of virtwire: Node's floor (bench/lib/bare-stream.ts). */
  readonly bare?: boolean;
}

export interface ChildResult {
  readonly ms: number;
  readonly cpuMs: number;
  /** RSS before the call, and the peak during the transfer above it (bytes). */
  readonly rssBefore: number;
  readonly rssGrowth: number;
  /** CPU ms of the transfer per thread name (main thread "node", V8's GC/compiler helpers, libuv's pool). */
  readonly threads: Record<string, number>;
  /** Where the time went, in ms from the call (see Phases). */
  readonly phases?: Phases;
}

/**
 * Phases of the timed region, ms from the opening call: the stream open
 * (the call's reply), the first progress report (first data in the file /
 * first block handed to the stream), every 64 MiB covered, the last byte
 * covered, and the end (file written / finish confirmed).
 */
export interface Phases {
  readonly open: number;
  readonly first: number;
  /** ms at which 64, 128, ... MiB were covered (the first report at or past each mark). */
  readonly marks: number[];
  readonly last: number;
  readonly done: number;
}

/** utime + stime in ms of every thread of this process, by thread name (10 ms resolution). */
function threadCpu(): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const f = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const name = f.slice(f.indexOf('(') + 1, f.lastIndexOf(')'));
      const v = f.slice(f.lastIndexOf(')') + 2).split(' ');
      const ms = (Number(v[11]) + Number(v[12])) * 10;
      out.set(name, (out.get(name) ?? 0) + ms);
    }
  } catch {
    // not Linux: no breakdown
  }
  return out;
}

/** VmHWM and VmRSS of this process in bytes, or null off Linux. */
function vm(): { hwm: number; rss: number } | null {
  try {
    const s = readFileSync('/proc/self/status', 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1]) * 1024;
    return { hwm: kb('VmHWM'), rss: kb('VmRSS') };
  } catch {
    return null;
  }
}

/**
 * The file side of a sparse upload's floor in Node: read the whole file in
 * the blocks streamFromFile uses and test each for zeros (the same test),
 * sending nothing. Node has no lseek(SEEK_DATA/SEEK_HOLE), so this is read
 * in full; virsh reads only the data extents. When this alone costs more
 * than virsh's whole transfer, no upload from Node can match it.
 */
async function scanFile(job: ChildJob): Promise<ChildResult> {
  const block = uploadBlock(true);
  const fh = await open(job.file, 'r');
  try {
    const buf = Buffer.allocUnsafe(block);
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    let pos = 0;
    let zeroBlocks = 0;
    for (;;) {
      const { bytesRead: n } = await fh.read(buf, 0, block, pos);
      if (n === 0) break;
      pos += n;
      if (isZeroRange(buf, 0, n)) zeroBlocks++;
    }
    const cpu = process.cpuUsage(c0);
    const ms = performance.now() - t0;
    if (pos !== job.size) throw new Error(`read ${pos} bytes of ${job.file}, not ${job.size}`);
    if (zeroBlocks === 0) throw new Error(`${job.file} has no block of zeros`);
    return { ms, cpuMs: (cpu.user + cpu.system) / 1000, rssBefore: 0, rssGrowth: 0, threads: {} };
  } finally {
    await fh.close();
  }
}

async function run(job: ChildJob): Promise<ChildResult> {
  if (job.direction === 'scan') return scanFile(job);
  const conn = await connect(job.uri);
  try {
    const { pool } = await conn.remote.storagePoolLookupByName({ name: job.pool });
    const { vol } = await conn.remote.storageVolLookupByName({ pool, name: job.vol });
    if (job.bare) return await bare(job, vol);
    // "5" resets the peak RSS to the current RSS (Linux >= 4.0)
    writeFileSync('/proc/self/clear_refs', '5');
    const before = vm();
    const sampled = { peak: process.memoryUsage.rss() };
    const sampler = setInterval(() => {
      sampled.peak = Math.max(sampled.peak, process.memoryUsage.rss());
    }, 20);
    const th0 = threadCpu();
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    let n: bigint;
    let open = 0;
    let first = -1;
    let last = 0;
    const marks: number[] = [];
    const onProgress = (b: bigint): void => {
      const now = performance.now() - t0;
      if (first < 0) first = now;
      if (b >= BigInt(job.size)) last = last || now;
      while (b >= BigInt((marks.length + 1) * MARK)) marks.push(now);
    };
    if (job.direction === 'download') {
      const s = await volumeDownload(conn, vol, { sparse: job.sparse });
      open = performance.now() - t0;
      n = await streamToFile(s, job.file, { onProgress });
    } else {
      const s = await volumeUpload(conn, vol, { sparse: job.sparse });
      open = performance.now() - t0;
      n = await streamFromFile(s, job.file, { onProgress });
    }
    const cpu = process.cpuUsage(c0);
    const ms = performance.now() - t0;
    clearInterval(sampler);
    const after = vm();
    const threads: Record<string, number> = {};
    for (const [name, ms] of threadCpu()) {
      const d = ms - (th0.get(name) ?? 0);
      if (d > 0) threads[name] = d;
    }
    if (n !== BigInt(job.size)) throw new Error(`the stream covered ${n} bytes, not ${job.size}`);
    const rssBefore = before?.rss ?? 0;
    const peak = after ? after.hwm : sampled.peak;
    return {
      ms,
      cpuMs: (cpu.user + cpu.system) / 1000,
      rssBefore,
      rssGrowth: Math.max(0, peak - rssBefore),
      threads,
      phases: { open, first, marks, last, done: ms },
    };
  } finally {
    await conn.close();
  }
}

/** The same transfer over a bare socket (the virtwire connection only looked the volume up). */
async function bare(job: ChildJob, vol: RemoteNonnullStorageVol): Promise<ChildResult> {
  // host A's plain tcp listener or its unix socket, no authentication; CONNECT_OPEN names the
  // URI as libvirt's client sends it (parseUri's openName)
  const u = parseUri(job.uri);
  if (u.transport !== 'tcp' && u.transport !== 'unix')
    throw new Error(`the bare floor needs a +tcp or +unix URI, not ${job.uri}`);
  if (u.transport === 'unix' && !u.params.socket)
    throw new Error(`the bare floor needs socket= in ${job.uri}`);
  const where =
    u.transport === 'unix'
      ? { path: u.params.socket! }
      : { host: u.connectHost, port: u.port ?? 16509 };
  const name = u.openName;
  const direction = job.direction === 'scan' ? 'download' : job.direction;
  const r = await bareTransfer(where, name, vol, direction, job.sparse, job.file);
  if (r.bytes !== job.size)
    throw new Error(`the bare stream covered ${r.bytes} bytes, not ${job.size}`);
  return { ms: r.ms, cpuMs: r.cpuMs, rssBefore: 0, rssGrowth: 0, threads: {} };
}

const job = JSON.parse(process.argv[2] ?? 'null') as ChildJob | null;
if (!job) {
  process.stderr.write('usage: stream-child JOB-JSON (run by bench/stream.ts)\n');
  process.exit(2);
}
run(job).then(
  (r) => {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    process.exit(0);
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
