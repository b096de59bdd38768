// Stream download benchmark: virtwire vs `virsh vol-download` (libvirt's C client) against the
// same real libvirtd (host A of scripts/test-hosts.sh, qemu+tcp), same volume, both to /dev/null.
//
//   npx tsx bench/stream.ts                 # 256 MiB volume, 5 rounds (about a minute)
//   npx tsx bench/stream.ts --rounds=3 --mib=512 --json
//
// A `dir` pool under /tmp/vw-pool-XXXX gets one raw volume filled with random bytes (written
// straight into the volume's file, so no hole makes either side's job easier). Every round
// downloads it, non-sparse, to /dev/null, with each client in turn (the order flips every round):
// - virsh: `virsh -c URI vol-download --pool POOL VOL /dev/null`, wall time of the process. Its
//   start-up, connection and exit are timed separately in the same round (`virsh pool-info POOL`)
//   and subtracted: "virsh net", the transfer itself.
// - virtwire, fresh process: like virsh, one new process per download (this script with
//   --child). It times from the STORAGE_VOL_DOWNLOAD call until streamToFile('/dev/null') has
//   written every chunk (fs writes, as virsh does) and the finish handshake is confirmed:
//   the transfer itself, like "virsh net".
// - virtwire, in this process: connect + the same download + close, on a process that has
//   already done several (a long-lived tool with a small heap). Reported, not the target.
// CPU time (user+sys, all threads) is shown for virsh (whole process, from /usr/bin/time when
// installed) and for the virtwire child (the download only).
// One unmeasured warm-up round first (page cache, JIT). Figures are medians over the rounds;
// ratios are medians of per-round throughput ratios. Target: virtwire (fresh process) >= 0.9x
// "virsh net" throughput. Prints PASS/FAIL and exits 0 either way; 1 if anything errors. Pool
// and volume are removed at the end, also on failure or Ctrl-C. If `test-hosts.sh status`
// fails the bench runs `up` and, at the end, `down`. On a busy 2-core machine the daemon, its
// I/O helper and the client compete for the cores: expect the ratio to move with the load.

import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { benchWithHosts } from '../scripts/lib/harness.js';
import { streamToFile, volumeDownload } from '../src/api/streams.js';
import type { RemoteNonnullStoragePool, RemoteNonnullStorageVol } from '../src/generated/remote.js';
import { type Connection, connect } from '../src/index.js';

const SELF = fileURLToPath(import.meta.url);
const argv = process.argv.slice(2);

interface ChildResult {
  connectMs: number;
  downloadMs: number;
  cpuMs: number;
}

/** One download in a fresh process: `--child URI POOL VOL SIZE`; prints a ChildResult. */
async function child(uri: string, poolName: string, volName: string, size: number) {
  const t0 = performance.now();
  const conn = await connect(uri);
  try {
    const { pool } = await conn.remote.storagePoolLookupByName({ name: poolName });
    const { vol } = await conn.remote.storageVolLookupByName({ pool, name: volName });
    const t1 = performance.now();
    const c0 = process.cpuUsage();
    const s = await volumeDownload(conn, vol);
    const n = await streamToFile(s, '/dev/null');
    const cpu = process.cpuUsage(c0);
    const t2 = performance.now();
    if (n !== BigInt(size)) throw new Error(`downloaded ${n} bytes, expected ${size}`);
    const r: ChildResult = {
      connectMs: t1 - t0,
      downloadMs: t2 - t1,
      cpuMs: (cpu.user + cpu.system) / 1000,
    };
    process.stdout.write(`${JSON.stringify(r)}\n`);
  } finally {
    await conn.close();
  }
}

if (argv[0] === '--child') {
  const [uri, poolName, volName, size] = argv.slice(1);
  await child(uri!, poolName!, volName!, Number(size)).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}

function numOpt(name: string, dflt: number): number {
  const a = argv.find((x) => x.startsWith(`--${name}=`));
  if (a === undefined) return dflt;
  const n = Number(a.slice(name.length + 3));
  if (!Number.isFinite(n) || n <= 0) throw new Error(`bad ${a}`);
  return n;
}
for (const a of argv) {
  if (!/^--(json|rounds=\d+|mib=\d+)$/.test(a)) {
    process.stderr.write(
      `unknown argument ${a}\nusage: npx tsx bench/stream.ts [--json] [--rounds=N] [--mib=N]\n`,
    );
    process.exit(2);
  }
}
const JSON_OUT = argv.includes('--json');
const ROUNDS = Math.max(3, Math.floor(numOpt('rounds', 5)));
const SIZE = Math.floor(numOpt('mib', 256)) * 1024 * 1024;
const TARGET = 0.9;
const POOL = `bench-stream-${process.pid}`;
const VOL = 'bench.raw';
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

const log = JSON_OUT
  ? (s: string) => process.stderr.write(`${s}\n`)
  : (s: string) => process.stdout.write(`${s}\n`);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const mibps = (ms: number) => SIZE / 1048576 / (ms / 1000);

let admin: Connection | undefined;
let pool: RemoteNonnullStoragePool | undefined;
let poolDir = '';

async function cleanup(): Promise<void> {
  if (admin?.isOpen && pool) {
    const p = pool;
    pool = undefined;
    const vol = await admin.remote
      .storageVolLookupByName({ pool: p, name: VOL })
      .catch(() => undefined);
    if (vol) await admin.remote.storageVolDelete({ vol: vol.vol, flags: 0 }).catch(() => {});
    await admin.remote.storagePoolDestroy({ pool: p }).catch(() => {});
    await admin.remote.storagePoolUndefine({ pool: p }).catch(() => {});
  }
  await admin?.close();
  admin = undefined;
  if (poolDir) rmSync(poolDir, { recursive: true, force: true });
  poolDir = '';
}

/** Runs virsh; wall time, and CPU time when /usr/bin/time is there. */
function virsh(uri: string, args: string[]): { ms: number; cpuMs: number | null } {
  const cmd = ['virsh', '-q', '-c', uri, ...args];
  const t0 = performance.now();
  const r = TIME
    ? spawnSync(TIME, ['-f', 'VWCPU %U %S', ...cmd], { encoding: 'utf8' })
    : spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`virsh ${args.join(' ')} failed: ${r.stderr}`);
  const m = /VWCPU ([\d.]+) ([\d.]+)/.exec(r.stderr ?? '');
  return { ms, cpuMs: m ? (Number(m[1]) + Number(m[2])) * 1000 : null };
}

function virtwireChild(uri: string): ChildResult {
  const r = spawnSync(
    process.execPath,
    [...process.execArgv, SELF, '--child', uri, POOL, VOL, String(SIZE)],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`virtwire child failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildResult;
}

async function virtwireInProcess(uri: string, vol: RemoteNonnullStorageVol): Promise<number> {
  const t0 = performance.now();
  const conn = await connect(uri);
  try {
    const n = await streamToFile(await volumeDownload(conn, vol), '/dev/null');
    if (n !== BigInt(SIZE)) throw new Error(`virtwire downloaded ${n} bytes, expected ${SIZE}`);
  } finally {
    await conn.close();
  }
  return performance.now() - t0;
}

async function main(env: Record<string, string>): Promise<void> {
  const uri = env.VIRTWIRE_HOST_A_TCP;
  if (!uri) throw new Error('test-hosts.sh env gives no VIRTWIRE_HOST_A_TCP');
  const virshVersion = spawnSync('virsh', ['--version'], { encoding: 'utf8' }).stdout?.trim();
  if (!virshVersion) throw new Error('virsh is not installed');

  admin = await connect(uri);
  poolDir = mkdtempSync('/tmp/vw-pool-');
  const xml = `<pool type='dir'><name>${POOL}</name><target><path>${poolDir}</path></target></pool>`;
  pool = (await admin.remote.storagePoolDefineXml({ xml, flags: 0 })).pool;
  await admin.remote.storagePoolBuild({ pool, flags: 0 });
  await admin.remote.storagePoolCreate({ pool, flags: 0 });
  const volXml = `<volume><name>${VOL}</name><capacity unit='bytes'>${SIZE}</capacity><allocation>0</allocation><target><format type='raw'/></target></volume>`;
  const { vol } = await admin.remote.storageVolCreateXml({ pool, xml: volXml, flags: 0 });
  const path = (await admin.remote.storageVolGetPath({ vol })).name;
  // random bytes, written straight into the volume's file (the daemon runs on this machine)
  const fh = await open(path, 'r+');
  const block = Buffer.allocUnsafe(4 * 1024 * 1024);
  for (let pos = 0; pos < SIZE; pos += block.length) {
    randomFillSync(block);
    await fh.write(block, 0, Math.min(block.length, SIZE - pos), pos);
  }
  await fh.close();
  log(
    `volume ${POOL}/${VOL}: ${SIZE / 1048576} MiB of random bytes; virsh ${virshVersion}; ${uri}`,
  );

  const download = ['vol-download', '--pool', POOL, VOL, '/dev/null'];
  const overheadArgs = ['pool-info', POOL];
  log('warm-up round');
  virsh(uri, download);
  virtwireChild(uri);
  await virtwireInProcess(uri, vol);

  interface Row {
    virshMs: number;
    virshCpuMs: number | null;
    overheadMs: number;
    netMs: number;
    child: ChildResult;
    inProcessMs: number;
  }
  const rows: Row[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const runVirsh = () => {
      const d = virsh(uri, download);
      const o = virsh(uri, overheadArgs);
      return { d, o };
    };
    let v: ReturnType<typeof runVirsh>;
    let c: ChildResult;
    if (i % 2 === 0) {
      v = runVirsh();
      c = virtwireChild(uri);
    } else {
      c = virtwireChild(uri);
      v = runVirsh();
    }
    const inProcessMs = await virtwireInProcess(uri, vol);
    const row: Row = {
      virshMs: v.d.ms,
      virshCpuMs: v.d.cpuMs,
      overheadMs: v.o.ms,
      netMs: Math.max(1, v.d.ms - v.o.ms),
      child: c,
      inProcessMs,
    };
    rows.push(row);
    log(
      `round ${i + 1}/${ROUNDS}: virsh ${row.virshMs.toFixed(0)} ms (net ${row.netMs.toFixed(0)}), ` +
        `virtwire fresh ${c.downloadMs.toFixed(0)} ms (+connect ${c.connectMs.toFixed(0)}), ` +
        `in-process ${inProcessMs.toFixed(0)} ms`,
    );
  }

  const virshMs = median(rows.map((r) => r.virshMs));
  const netMs = median(rows.map((r) => r.netMs));
  const freshMs = median(rows.map((r) => r.child.downloadMs));
  const inProcMs = median(rows.map((r) => r.inProcessMs));
  const ratio = median(rows.map((r) => r.netMs / r.child.downloadMs));
  const ratioInProc = median(rows.map((r) => r.virshMs / r.inProcessMs));
  const cpus = rows.map((r) => r.virshCpuMs).filter((x): x is number => x !== null);
  const virshCpu = cpus.length ? median(cpus) : null;
  const vwCpu = median(rows.map((r) => r.child.cpuMs));
  const pass = ratio >= TARGET;
  if (JSON_OUT) {
    process.stdout.write(
      `${JSON.stringify({ sizeBytes: SIZE, rounds: rows, virshMs, virshNetMs: netMs, virtwireFreshMs: freshMs, virtwireInProcessMs: inProcMs, ratio, ratioInProcess: ratioInProc, virshCpuMs: virshCpu, virtwireCpuMs: vwCpu, target: TARGET, pass })}\n`,
    );
    return;
  }
  const line = (name: string, ms: number, what: string) =>
    `${name.padEnd(22)} ${ms.toFixed(0).padStart(6)} ms ${mibps(ms).toFixed(0).padStart(5)} MiB/s  ${what}`;
  log('');
  log(`download of ${SIZE / 1048576} MiB, non-sparse, to /dev/null (median of ${ROUNDS} rounds)`);
  log(line('virsh', virshMs, 'process wall time'));
  log(line('virsh net', netMs, 'minus start-up + connect'));
  log(line('virtwire, fresh process', freshMs, 'download call to finish confirmed'));
  log(line('virtwire, in-process', inProcMs, 'connect + download + close'));
  if (virshCpu !== null) {
    log(
      `CPU (user+sys): virsh ${virshCpu.toFixed(0)} ms (whole process), virtwire ${vwCpu.toFixed(0)} ms (download)`,
    );
  }
  log(
    `ratio virtwire/virsh throughput: ${ratio.toFixed(2)}x fresh vs net, ${ratioInProc.toFixed(2)}x in-process vs virsh wall`,
  );
  log(`target virtwire (fresh) >= ${TARGET}x virsh net: ${pass ? 'PASS' : 'FAIL'}`);
}

if (argv[0] !== '--child') {
  await benchWithHosts({ log, main, cleanup });
  process.exit(0);
}
