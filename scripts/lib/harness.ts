/**
 * One way to drive scripts/test-hosts.sh from TypeScript (tests, benches,
 * fixture capture): run a command, read its `env` output.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const HARNESS = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-hosts.sh');

export interface HarnessResult {
  readonly ok: boolean;
  readonly status: number;
  readonly stdout: string;
  /** stdout and stderr together, for error messages. */
  readonly out: string;
}

/**
 * Runs `test-hosts.sh CMD`. With `echo`, what it printed is copied to that
 * stream afterwards (benches pass stderr so their --json stdout stays clean).
 */
export function runHarness(cmd: string, opts: { echo?: NodeJS.WriteStream } = {}): HarnessResult {
  const r = spawnSync('bash', [HARNESS, cmd], {
    cwd: join(dirname(HARNESS), '..'),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.error) throw r.error;
  const stdout = r.stdout ?? '';
  const out = `${stdout}${r.stderr ?? ''}`;
  if (opts.echo && out) opts.echo.write(out);
  return { ok: r.status === 0, status: r.status ?? 1, stdout, out };
}

/**
 * The NAME=value lines of `test-hosts.sh env` (or `env-sasl`). Values that are
 * not shell-safe come single-quoted, as a POSIX shell would read them.
 */
export function parseHarnessEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2]!;
    if (v.startsWith("'") && v.endsWith("'") && v.length >= 2)
      v = v.slice(1, -1).replaceAll("'\\''", "'");
    env[m[1]!] = v;
  }
  return env;
}
