// The baselines of bench/rpc.ts: libvirt's C client (bench/rpc_baseline.c, compiled here
// against libvirt.so) and python3-libvirt (bench/rpc_baseline.py). Both print one JSON
// line with the fields of a `Run`.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Run } from './procstat.js';

const BENCH = join(dirname(fileURLToPath(import.meta.url)), '..');
export const PYTHON = '/usr/bin/python3';

/**
 * Compiles bench/rpc_baseline.c into a temporary directory and returns the
 * binary's path and a function that removes it. Fails with what to install
 * when the compiler or libvirt's headers are missing.
 */
export function compileCBaseline(): { path: string; libvirt: string; remove(): void } {
  const pc = spawnSync('pkg-config', ['--cflags', '--libs', 'libvirt'], { encoding: 'utf8' });
  if (pc.error || pc.status !== 0) {
    throw new Error(
      'pkg-config cannot find libvirt: install libvirt-dev and pkg-config ' +
        `(apt-get install -y libvirt-dev pkg-config, or bash scripts/test-hosts.sh install)\n${pc.stderr ?? pc.error}`,
    );
  }
  const version = spawnSync('pkg-config', ['--modversion', 'libvirt'], { encoding: 'utf8' });
  const dir = mkdtempSync(join(tmpdir(), 'virtwire-rpc-baseline-'));
  const path = join(dir, 'rpc_baseline');
  const flags = pc.stdout.trim().split(/\s+/).filter(Boolean);
  const cc = spawnSync(
    'gcc',
    ['-O2', '-o', path, join(BENCH, 'rpc_baseline.c'), ...flags, '-lpthread'],
    { encoding: 'utf8' },
  );
  if (cc.error || cc.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`compiling bench/rpc_baseline.c failed: ${cc.stderr ?? cc.error}`);
  }
  return {
    path,
    libvirt: version.stdout.trim(),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

let child: ChildProcess | null = null;

/** Stops a baseline process still running (cleanup after an error or a signal). */
export function killBaseline(): void {
  child?.kill('SIGTERM');
}

/** Runs one baseline process and resolves with the Run its last stdout line describes. */
export function runBaseline(cmd: string, args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    let out = '';
    let err = '';
    c.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s;
    });
    c.stderr.setEncoding('utf8').on('data', (s: string) => {
      err += s;
    });
    c.on('error', reject);
    c.on('close', (code, signal) => {
      child = null;
      let r: (Run & { errors?: string[] }) | null = null;
      try {
        r = JSON.parse(out.trim().split('\n').pop() ?? '');
      } catch {
        // reported below
      }
      if (code !== 0 || !r) {
        const why = r?.errors?.length ? r.errors.join('; ') : err.trim() || out.trim();
        reject(new Error(`${cmd} ${args.join(' ')} failed (${signal ?? `exit ${code}`}): ${why}`));
        return;
      }
      resolve(r);
    });
  });
}
