/**
 * Data streams against a real libvirtd (the first host of each generation,
 * QEMU driver): sparse volume
 * upload and download with holes kept, plain downloads, backpressure on a
 * slow consumer with bounded memory, a screenshot and a console of a running
 * guest, daemon-side stream errors and aborts that leave the connection
 * usable. A `dir` pool under a temporary directory holds the volumes.
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_HIGH_WATER_MARK,
  domainOpenConsole,
  domainScreenshot,
  openStream,
  STREAM_CHUNK_MAX,
  volumeDownload,
  volumeDownloadFile,
  volumeUpload,
  volumeUploadFile,
} from '../../src/api/streams.js';
import type {
  RemoteNonnullStoragePool,
  RemoteNonnullStorageVol,
} from '../../src/generated/remote.js';
import { remoteProgram } from '../../src/generated/remote.js';
import { type Connection, connect, type Domain, RemoteError } from '../../src/index.js';
import { READ_BUFFER } from '../../src/transport/shared-read.js';
import { guestXml } from '../helpers/guest.js';
import { generations, hostOf } from '../helpers/hosts.js';

const MiB = 1024 * 1024;
const BIG = 256 * MiB;
const POOL = `vw-streams-${process.pid}`;
const GUEST = `vw-streams-guest-${process.pid}`;

let conn: Connection;
let pool: RemoteNonnullStoragePool | undefined;
let poolDir = '';
let work = '';
let srcFile = '';
let srcSha = '';
let bigVol: RemoteNonnullStorageVol | undefined;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function connectRetry(uri: string): Promise<Connection> {
  for (let i = 0; ; i++) {
    try {
      return await connect(uri);
    } catch (err) {
      if (i >= 10) throw err;
      await sleep(500); // the shared hosts may refuse briefly
    }
  }
}

async function sha256File(path: string, length?: number): Promise<string> {
  const h = createHash('sha256');
  const opts = length === undefined ? {} : { start: 0, end: length - 1 };
  await pipeline(createReadStream(path, opts), h);
  return h.digest('hex');
}

/** Samples the process RSS every 50 ms while `fn` runs; returns fn's result and the growth. */
async function withRss<T>(fn: () => Promise<T>): Promise<{ value: T; base: number; peak: number }> {
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  try {
    const value = await fn();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { value, base, peak };
  } finally {
    clearInterval(timer);
  }
}

const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;

function volXml(name: string, bytes: number): string {
  return `<volume><name>${name}</name><capacity unit='bytes'>${bytes}</capacity><allocation>0</allocation><target><format type='raw'/></target></volume>`;
}

async function createVol(name: string, bytes: number): Promise<RemoteNonnullStorageVol> {
  const r = await conn.remote.storageVolCreateXml({
    pool: pool!,
    xml: volXml(name, bytes),
    flags: 0,
  });
  return r.vol;
}

/** One generation's connection, pool, source file and big volume. */
async function setUp(uri: string): Promise<void> {
  conn = await connectRetry(uri);
  poolDir = mkdtempSync('/tmp/vw-pool-');
  work = mkdtempSync(join(tmpdir(), 'vw-streams-'));
  const xml = `<pool type='dir'><name>${POOL}</name><target><path>${poolDir}</path></target></pool>`;
  pool = (await conn.remote.storagePoolDefineXml({ xml, flags: 0 })).pool;
  await conn.remote.storagePoolBuild({ pool, flags: 0 });
  await conn.remote.storagePoolCreate({ pool, flags: 0 });

  // 256 MiB with 10 data regions of 1-4 MiB of random bytes at unaligned offsets; the rest are holes
  srcFile = join(work, 'src.raw');
  const fh = await open(srcFile, 'w');
  for (let i = 0; i < 10; i++) {
    const len = randomInt(1 * MiB, 4 * MiB);
    await fh.write(randomBytes(len), 0, len, i * 25 * MiB + randomInt(0, 8 * MiB));
  }
  await fh.truncate(BIG);
  await fh.close();
  srcSha = await sha256File(srcFile);
  bigVol = await createVol('big.raw', BIG);
}

async function tearDown(): Promise<void> {
  if (conn?.isOpen) {
    try {
      const d = await conn.lookupDomain(GUEST);
      await d.destroy();
    } catch {
      // not running
    }
    if (pool) {
      const { vols } = await conn.remote
        .storagePoolListAllVolumes({ pool, needResults: 1, flags: 0 })
        .catch(() => ({ vols: [] as RemoteNonnullStorageVol[] }));
      for (const vol of vols) await conn.remote.storageVolDelete({ vol, flags: 0 }).catch(() => {});
      await conn.remote.storagePoolDestroy({ pool }).catch(() => {});
      await conn.remote.storagePoolUndefine({ pool }).catch(() => {});
    }
    await conn.close();
  }
  if (poolDir) rmSync(poolDir, { recursive: true, force: true });
  if (work) rmSync(work, { recursive: true, force: true });
}

describe.each(generations())('streams against a real libvirtd: $label', (gen) => {
  beforeAll(() => setUp(hostOf(gen, 0, 'TCP')), 120_000);
  afterAll(tearDown, 60_000);

  it('uploads a 256 MiB file with holes sparse and downloads it sparse, holes kept, in bounded memory', async () => {
    const up = await withRss(() => volumeUploadFile(conn, bigVol!, srcFile));
    expect(up.value).toBe(BigInt(BIG));
    // the volume file on the daemon's side got holes too
    const volPath = join(poolDir, 'big.raw');
    expect(statSync(volPath).blocks * 512).toBeLessThan(64 * MiB);

    const out = join(work, 'down.raw');
    const down = await withRss(() => volumeDownloadFile(conn, bigVol!, out));
    expect(down.value).toBe(BigInt(BIG));
    const st = statSync(out);
    expect(st.size).toBe(BIG);
    const allocated = st.blocks * 512;
    expect(allocated).toBeLessThan(64 * MiB); // 10 regions of at most 4 MiB: holes were kept
    expect(await sha256File(out)).toBe(srcSha);

    console.log(
      `sparse upload: RSS ${mib(up.base)} -> peak ${mib(up.peak)} (+${mib(up.peak - up.base)}); ` +
        `sparse download: RSS ${mib(down.base)} -> peak ${mib(down.peak)} (+${mib(down.peak - down.base)}); ` +
        `downloaded file ${mib(st.size)} with ${mib(allocated)} allocated`,
    );
    expect(up.peak - up.base).toBeLessThan(64 * MiB);
    expect(down.peak - down.base).toBeLessThan(64 * MiB);

    // all 256 MiB as plain data (the daemon reads the holes as zeros), hashed on the fly
    const plain = await withRss(async () => {
      const h = createHash('sha256');
      let n = 0;
      for await (const c of await volumeDownload(conn, bigVol!)) {
        h.update(c);
        n += c.length;
      }
      return { n, sha: h.digest('hex') };
    });
    console.log(
      `plain 256 MiB download: RSS ${mib(plain.base)} -> peak ${mib(plain.peak)} (+${mib(plain.peak - plain.base)})`,
    );
    expect(plain.value).toEqual({ n: BIG, sha: srcSha });
    expect(plain.peak - plain.base).toBeLessThan(64 * MiB);
  }, 180_000);

  it('downloads over the unix socket and tcp at once: both read into one shared buffer, bytes intact', async () => {
    const vol = await createVol('shared.raw', 16 * MiB);
    const content = randomBytes(16 * MiB);
    const up = await volumeUpload(conn, vol);
    await up.write(content);
    await up.finish();
    const local = await connectRetry(hostOf(gen, 0, 'UNIX'));
    try {
      const whole = async (c: Connection) => {
        const parts: Uint8Array[] = [];
        for await (const chunk of await volumeDownload(c, vol)) parts.push(chunk);
        return Buffer.concat(parts);
      };
      const [overTcp, overUnix] = await Promise.all([whole(conn), whole(local)]);
      expect(overTcp.equals(content)).toBe(true);
      expect(overUnix.equals(content)).toBe(true);
    } finally {
      await local.close();
    }
  }, 60_000);

  it('downloads a smaller volume without sparse: the bytes uploaded, zeros included', async () => {
    const vol = await createVol('small.raw', 8 * MiB);
    const content = randomBytes(8 * MiB);
    content.fill(0, 2 * MiB, 5 * MiB); // zeros travel as data on a non-sparse stream
    const up = await volumeUpload(conn, vol);
    expect(up.isSparse).toBe(false);
    await up.write(content.subarray(0, 3 * MiB + 17));
    await up.write(content.subarray(3 * MiB + 17));
    await up.finish();

    const down = await volumeDownload(conn, vol);
    const parts: Uint8Array[] = [];
    for await (const c of down) {
      expect(c.length).toBeLessThanOrEqual(STREAM_CHUNK_MAX);
      parts.push(c);
    }
    expect(Buffer.concat(parts).equals(content)).toBe(true);

    // the same through a Node Readable, and a ranged download
    const h = createHash('sha256');
    await pipeline((await volumeDownload(conn, vol)).toReadable(), h);
    expect(h.digest('hex')).toBe(createHash('sha256').update(content).digest('hex'));
    const ranged = await volumeDownload(conn, vol, { offset: 1 * MiB, length: 1000 });
    expect(Buffer.from(await ranged.readAll()).equals(content.subarray(MiB, MiB + 1000))).toBe(
      true,
    );

    // the generic opener, on the table's procedure name
    const { stream } = await openStream(conn, remoteProgram, 'storageVolDownload', {
      vol,
      offset: 0n,
      length: 4096n,
      flags: 0,
    });
    expect(Buffer.from(await stream.readAll()).equals(content.subarray(0, 4096))).toBe(true);
  }, 60_000);

  it('holds a slow consumer to bounded memory: the daemon is held back (backpressure)', async () => {
    const length = 64 * MiB;
    const stream = await volumeDownload(conn, bigVol!, { length });
    const h = createHash('sha256');
    let total = 0;
    let maxBuffered = 0;
    let sawPause = false;
    const r = await withRss(async () => {
      for await (const c of stream) {
        h.update(c);
        total += c.length;
        maxBuffered = Math.max(maxBuffered, stream.bufferedBytes);
        sawPause ||= conn.rpc.readingPaused;
        await sleep(20);
      }
    });
    console.log(
      `slow consumer (64 MiB, 20 ms per chunk): RSS ${mib(r.base)} -> peak ${mib(r.peak)} ` +
        `(+${mib(r.peak - r.base)}); queue peak ${mib(maxBuffered)}; connection paused: ${sawPause}`,
    );
    expect(total).toBe(length);
    expect(h.digest('hex')).toBe(await sha256File(srcFile, length));
    expect(sawPause).toBe(true);
    // the high-water mark, the rest of the read that crossed it, and a packet it completed
    expect(maxBuffered).toBeLessThan(
      DEFAULT_HIGH_WATER_MARK + READ_BUFFER + STREAM_CHUNK_MAX + 64 * 1024,
    );
    expect(r.peak - r.base).toBeLessThan(64 * MiB);
    expect(conn.rpc.readingPaused).toBe(false);
  }, 120_000);

  // libvirt 11.3's daemon refuses an upload past its length ("cannot write to stream: No space
  // left on device") and then spins in its main loop forever, answering nobody (virsh
  // vol-upload --length 1000 of a 5000-byte file does the same to it): there the test would
  // only take the host down. 9.0 and 12.9 refuse the bytes and go on, and the test runs on them.
  const overrunKillsDaemon = gen.libVer >= 11_003_000n && gen.libVer < 11_004_000n;
  if (!overrunKillsDaemon)
    it('surfaces a daemon-side stream error as RemoteError and the connection stays usable', async () => {
      const vol = await createVol('short.raw', MiB);
      // the daemon refuses bytes past the length the upload was opened for
      const up = await volumeUpload(conn, vol, { length: 1000 });
      const err = await (async () => {
        await up.write(new Uint8Array(5000).fill(7));
        await up.finish();
      })().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RemoteError);
      expect((err as RemoteError).procedure).toBe('remote.STORAGE_VOL_UPLOAD');
      expect(up.isClosed).toBe(true);

      expect((await conn.remote.connectGetLibVersion()).libVer).toBeGreaterThan(0n);
      // and streams still work on it
      const down = await volumeDownload(conn, vol, { length: 100 });
      expect((await down.readAll()).length).toBe(100);
    }, 60_000);

  it('aborts a download midway, or on leaving the loop, and the connection stays usable', async () => {
    const s = await volumeDownload(conn, bigVol!);
    let n = 0;
    for (let i = 0; i < 3; i++) n += (await s.read())?.data?.length ?? 0;
    expect(n).toBeGreaterThan(0);
    const t0 = Date.now();
    await s.abort();
    expect(s.isClosed).toBe(true);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(conn.rpc.readingPaused).toBe(false);
    expect((await conn.remote.connectGetLibVersion()).libVer).toBeGreaterThan(0n);

    const s2 = await volumeDownload(conn, bigVol!);
    let chunks = 0;
    for await (const _ of s2) if (++chunks === 5) break;
    expect(s2.isClosed).toBe(true);

    {
      await using s3 = await volumeDownload(conn, bigVol!);
      await s3.read();
    } // disposed: aborted

    const again = await volumeDownload(conn, bigVol!, { length: 3 * MiB });
    expect((await again.readAll()).length).toBe(3 * MiB);
  }, 60_000);

  it('takes a screenshot of a running guest and talks to its console', async () => {
    const xml = guestXml(GUEST).replace(
      '</devices>',
      "<graphics type='vnc' port='-1' listen='127.0.0.1'/><video><model type='vga'/></video></devices>",
    );
    const dom: Domain = await conn.domainCreateXML(xml);
    try {
      const shot = await domainScreenshot(dom, 0);
      console.log(`screenshot: ${shot.mime}, ${shot.data.length} bytes`);
      const head = Buffer.from(shot.data.subarray(0, 8));
      if (shot.mime === 'image/png') {
        expect(head.equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(
          true,
        );
      } else {
        expect(shot.mime).toBe('image/x-portable-pixmap');
        expect(head.subarray(0, 2).toString('latin1')).toBe('P6');
        // P6 <w> <h> <max>\n then w*h*3 bytes
        const m = /^P6\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(
          Buffer.from(shot.data.subarray(0, 64)).toString('latin1'),
        );
        expect(m).not.toBeNull();
        const [w, hgt] = [Number(m![1]), Number(m![2])];
        expect(shot.data.length).toBe(m![0].length + w * hgt * 3);
      }

      // the serial console: a duplex stream; writing and aborting leave the connection usable
      const con = await domainOpenConsole(dom, null, 0);
      await con.write(new TextEncoder().encode('\r\n'));
      await con.abort();
      expect(con.isClosed).toBe(true);
      expect((await conn.remote.connectGetLibVersion()).libVer).toBeGreaterThan(0n);
    } finally {
      await dom.destroy().catch(() => {});
    }
  }, 60_000);
});
