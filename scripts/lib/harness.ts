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
 * Runs `test-hosts.sh CMD` (or `CMD ARGS...` given as a list, e.g. `['kill-daemon', 'A']`). With `echo`, what it printed is copied to that
 * stream afterwards (benches pass stderr so their --json stdout stays clean).
 */
export function runHarness(
  cmd: string | readonly string[],
  opts: { echo?: NodeJS.WriteStream } = {},
): HarnessResult {
  const r = spawnSync('bash', [HARNESS, ...(typeof cmd === 'string' ? [cmd] : cmd)], {
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

/** What a bench that drives the real test hosts gives {@link benchWithHosts}. */
export interface HostedBench {
  /** Progress lines (stderr when the bench prints --json on stdout). */
  log(line: string): void;
  /** Whether the hosts this bench needs are up, from `test-hosts.sh status`; default: all of them. */
  hostsUp?(status: HarnessResult): boolean;
  /** The bench itself, given `test-hosts.sh env`. */
  main(env: Record<string, string>): Promise<void>;
  /** Undoes what `main` set up (domains, pools, connections); runs once, whatever happened. */
  cleanup(): Promise<void>;
}

/**
 * Runs a bench against the test hosts: brings them up when they are not (and
 * then down again at the end, and only then), runs the bench's cleanup exactly
 * once, also on SIGINT/SIGTERM (exit 130), and on an error prints it and exits 1.
 */
export async function benchWithHosts(bench: HostedBench): Promise<void> {
  let startedHosts = false;
  let interrupted = false;
  let cleaning: Promise<void> | null = null;
  const cleanup = (): Promise<void> => {
    cleaning ??= (async () => {
      try {
        await bench.cleanup();
      } catch (err) {
        process.stderr.write(`warning: cleanup: ${(err as Error).message}\n`);
      }
      if (startedHosts) {
        bench.log('taking the hosts down (this bench started them)');
        runHarness('down', { echo: process.stderr });
      }
    })();
    return cleaning;
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      interrupted = true;
      process.stderr.write(`\n${sig}: cleaning up\n`);
      void cleanup().finally(() => process.exit(130));
    });
  }
  try {
    const status = runHarness('status');
    if (!(bench.hostsUp?.(status) ?? status.ok)) {
      bench.log('the hosts this bench needs are down: bash scripts/test-hosts.sh up');
      startedHosts = true;
      const up = runHarness('up', { echo: process.stderr });
      if (!up.ok) throw new Error(`test-hosts.sh up failed: ${up.out}`);
    }
    await bench.main(parseHarnessEnv(runHarness('env').stdout));
    await cleanup();
  } catch (err) {
    // after a signal, the calls cut short by cleanup() are no error of their own
    if (!interrupted) {
      process.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : err}\n`);
    }
    await cleanup();
    process.exit(interrupted ? 130 : 1);
  }
}
