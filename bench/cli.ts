// Start-up of the package and its CLI, as installed from `npm pack`: this tree against a baseline
// revision built the same way, and the CLI against virsh.
//
//   npx tsx bench/cli.ts --baseline=REV              # no daemon: import, require, --help
//   flock /tmp/virtwire-hosts.lock npx tsx bench/cli.ts --baseline=REV --hosts
//                                                    # also `-c URI list` against host A
//   options: --runs=N (default 30) --uri=URI (with --hosts: default host A over qemu+tcp)
//
// Each side is packed (`npm pack`; this tree is built first when dist/ is older than the
// sources, the baseline is exported with `git archive` into a temporary directory and built
// there with this tree's node_modules) and unpacked into its own scratch project beside
// commander, as `npm install` lays it out. Every command runs as a fresh process, the sides
// and commands interleaved round by round; the figures are medians of wall time (spawn to
// exit). `node -e 0` is the floor any Node program pays. The list rows run virsh and both
// virtwires against the same daemon. Everything temporary is removed at the end.

import { execFileSync, spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchWithHosts } from '../scripts/lib/harness.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const opt = (name: string): string | undefined =>
  argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
for (const a of argv) {
  if (!/^--(baseline|runs|uri)=.|^--hosts$/.test(a)) {
    process.stderr.write(
      `unknown argument ${a}\nusage: npx tsx bench/cli.ts [--baseline=REV] [--runs=N] [--hosts [--uri=URI]]\n`,
    );
    process.exit(2);
  }
}
const RUNS = Number(opt('runs') ?? 30);
if (!Number.isInteger(RUNS) || RUNS < 3) throw new Error(`--runs must be a whole number >= 3`);
const BASELINE = opt('baseline');
const HOSTS = argv.includes('--hosts');
const log = (s: string) => process.stdout.write(`${s}\n`);

const scratch = mkdtempSync(join(tmpdir(), 'vw-bench-cli-'));
// also on process.exit (benchWithHosts exits on errors and signals)
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

function newest(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((n) => newest(join(path, n))));
}

/** Packs the package in `dir` into `scratch`, returns the tarball's path. */
function pack(dir: string): string {
  const out = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', scratch], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }),
  ) as Array<{ filename: string; size: number; unpackedSize: number; entryCount: number }>;
  const p = out[0]!;
  log(
    `  ${dir === ROOT ? 'this tree' : 'baseline'}: ${(p.size / 1024).toFixed(0)} kB packed, ${(p.unpackedSize / 1024).toFixed(0)} kB unpacked, ${p.entryCount} files`,
  );
  return join(scratch, p.filename);
}

/** A project with the tarball unpacked as node_modules/virtwire, beside this tree's commander. */
function install(name: string, tarball: string): { dir: string; bin: string } {
  const dir = join(scratch, name);
  const pkg = join(dir, 'node_modules', 'virtwire');
  mkdirSync(pkg, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', pkg, '--strip-components=1']);
  symlinkSync(join(ROOT, 'node_modules', 'commander'), join(dir, 'node_modules', 'commander'));
  const meta = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as {
    bin: Record<string, string>;
  };
  return { dir, bin: join(pkg, meta.bin.virtwire!) };
}

function prepare(): Array<{ side: string; dir: string; bin: string }> {
  log('packing');
  const built = Math.min(
    ...['index.js', 'cli.js'].map((f) => {
      try {
        return statSync(join(ROOT, 'dist', f)).mtimeMs;
      } catch {
        return 0;
      }
    }),
  );
  const inputs = ['src', 'bin', 'package.json', 'tsup.config.ts', 'scripts/cjs-entries.js'];
  if (built < Math.max(...inputs.map((p) => newest(join(ROOT, p))))) {
    log('  dist/ is older than the sources: npm run build');
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
  }
  const sides = [{ side: 'this tree', ...install('current', pack(ROOT)) }];
  if (BASELINE !== undefined) {
    const rev = execFileSync('git', ['rev-parse', '--short', BASELINE], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    const src = join(scratch, `src-${rev}`);
    mkdirSync(src);
    execFileSync('sh', ['-c', `git archive ${rev} | tar -x -C '${src}'`], { cwd: ROOT });
    symlinkSync(join(ROOT, 'node_modules'), join(src, 'node_modules'));
    log(`  building ${rev} (npm run build)`);
    execFileSync('npm', ['run', 'build'], { cwd: src, stdio: 'ignore' });
    sides.unshift({ side: `baseline ${rev}`, ...install('baseline', pack(src)) });
  }
  return sides;
}

interface Row {
  readonly name: string;
  readonly side: string;
  readonly cmd: string;
  readonly args: readonly string[];
  readonly cwd: string;
  /** Wall time, spawn to exit, and the process's CPU time (user + system), per run. */
  readonly wall: number[];
  readonly cpu: number[];
}

/**
 * Runs one command under GNU time: its CPU time counts what the process itself
 * did, which other load on the machine inflates far less than the wall time.
 */
function timed(r: Row): { wall: number; cpu: number } {
  const out = join(scratch, 'time.out');
  const t = process.hrtime.bigint();
  const p = spawnSync('/usr/bin/time', ['-f', '%U %S', '-o', out, r.cmd, ...r.args], {
    cwd: r.cwd,
    stdio: 'ignore',
  });
  const wall = Number(process.hrtime.bigint() - t) / 1e6;
  if (p.status !== 0) throw new Error(`${r.side}: ${r.cmd} ${r.args.join(' ')} exited ${p.status}`);
  const [user, sys] = readFileSync(out, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  return { wall, cpu: (user! + sys!) * 1000 };
}

function measure(rows: Row[]): void {
  for (const r of rows) {
    // one run first, which also checks the command works: caches are warm for every row
    const warm = spawnSync(r.cmd, r.args, { cwd: r.cwd, encoding: 'utf8' });
    if (warm.status !== 0)
      throw new Error(`${r.side}: ${r.cmd} ${r.args.join(' ')} failed:\n${warm.stderr}`);
  }
  for (let i = 0; i < RUNS; i++) {
    // the order turns every round, so no row always follows the same neighbour
    for (let k = 0; k < rows.length; k++) {
      const r = rows[(k + i) % rows.length]!;
      const { wall, cpu } = timed(r);
      r.wall.push(wall);
      r.cpu.push(cpu);
    }
  }
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
};

function report(rows: Row[]): void {
  const byName = new Map<string, Row[]>();
  for (const r of rows) byName.set(r.name, [...(byName.get(r.name) ?? []), r]);
  const node = rows.find((r) => r.name === 'node -e 0')!;
  const [floorWall, floorCpu] = [median(node.wall), median(node.cpu)];
  log(
    `\nmedians of ${RUNS} runs, in ms: wall time (spawn to exit) and CPU time (user + system; GNU time's`,
  );
  log(
    `10 ms resolution). "+node" is over node -e 0 (wall ${floorWall.toFixed(1)}, CPU ${floorCpu.toFixed(0)})`,
  );
  log(
    `${'command'.padEnd(22)}${'side'.padEnd(19)}${'wall'.padStart(7)}${'+node'.padStart(7)}${'cpu'.padStart(6)}${'+node'.padStart(7)}  ratios (wall)`,
  );
  for (const [name, group] of byName) {
    const base = group.find((r) => r.side.startsWith('baseline'));
    const virsh = rows.find(
      (r) => r.side === 'virsh' && r.name.split(' ').pop() === name.split(' ').pop(),
    );
    for (const r of group) {
      const [w, c] = [median(r.wall), median(r.cpu)];
      const notes: string[] = [];
      if (base && r !== base) notes.push(`baseline/this ${(median(base.wall) / w).toFixed(2)}x`);
      if (virsh && r !== virsh && r.side !== 'node')
        notes.push(`${(w / median(virsh.wall)).toFixed(2)}x virsh's`);
      log(
        `${name.padEnd(22)}${r.side.padEnd(19)}${w.toFixed(1).padStart(7)}${(w - floorWall).toFixed(1).padStart(7)}${c.toFixed(0).padStart(6)}${(c - floorCpu).toFixed(0).padStart(7)}  ${notes.join(', ')}`,
      );
    }
  }
}

function rowsFor(sides: ReturnType<typeof prepare>, uri: string | null): Row[] {
  const rows: Row[] = [
    {
      name: 'node -e 0',
      side: 'node',
      cmd: 'node',
      args: ['-e', '0'],
      cwd: scratch,
      wall: [],
      cpu: [],
    },
    {
      name: 'virsh --help',
      side: 'virsh',
      cmd: 'virsh',
      args: ['--help'],
      cwd: scratch,
      wall: [],
      cpu: [],
    },
  ];
  for (const s of sides) {
    rows.push(
      {
        name: "import('virtwire')",
        side: s.side,
        cmd: 'node',
        args: ['--input-type=module', '-e', "await import('virtwire')"],
        cwd: s.dir,
        wall: [],
        cpu: [],
      },
      {
        name: "require('virtwire')",
        side: s.side,
        cmd: 'node',
        args: ['-e', "require('virtwire')"],
        cwd: s.dir,
        wall: [],
        cpu: [],
      },
      {
        name: 'virtwire --help',
        side: s.side,
        cmd: s.bin,
        args: ['--help'],
        cwd: s.dir,
        wall: [],
        cpu: [],
      },
    );
    if (uri !== null)
      rows.push({
        name: 'virtwire list',
        side: s.side,
        cmd: s.bin,
        args: ['-c', uri, 'list', '--all'],
        cwd: s.dir,
        wall: [],
        cpu: [],
      });
  }
  if (uri !== null)
    rows.push({
      name: 'virsh list',
      side: 'virsh',
      cmd: 'virsh',
      args: ['-c', uri, 'list', '--all'],
      cwd: scratch,
      wall: [],
      cpu: [],
    });
  return rows;
}

function describeMachine(): void {
  const virsh = spawnSync('virsh', ['--version'], { encoding: 'utf8' }).stdout.trim();
  log(
    `node ${process.version}, virsh ${virsh}, load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
  );
}

async function main(): Promise<void> {
  {
    describeMachine();
    const sides = prepare();
    if (!HOSTS) {
      const rows = rowsFor(sides, null);
      measure(rows);
      report(rows);
      return;
    }
    await benchWithHosts({
      log,
      cleanup: async () => {},
      main: async (env) => {
        const uri = opt('uri') ?? env.VIRTWIRE_HOST_A_TCP;
        if (uri === undefined) throw new Error('test-hosts.sh env has no VIRTWIRE_HOST_A_TCP');
        log(`list against ${uri} (the same daemon for virsh and virtwire)`);
        const rows = rowsFor(sides, uri);
        measure(rows);
        report(rows);
      },
    });
  }
}

await main();
