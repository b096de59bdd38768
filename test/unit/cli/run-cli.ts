/**
 * Runs the virtwire CLI as a user would: a separate process of the runtime
 * running the tests, on the TypeScript sources (Node through tsx), with its own stdout, stderr, exit code
 * and signals.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tsEntryCommand } from '../../helpers/runtime.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const MAIN = 'src/cli/main.ts';

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A clean environment: no default URI or NODE_DEBUG leaking in from the developer's shell. */
export function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const k of ['VIRTWIRE_DEFAULT_URI', 'LIBVIRT_DEFAULT_URI', 'NODE_DEBUG']) {
    if (!(k in extra)) delete env[k];
  }
  return env;
}

/** A running CLI: wait for output to appear, send signals, collect the result. */
export class CliProcess {
  stdout = '';
  stderr = '';
  readonly done: Promise<CliResult>;
  private readonly child: ChildProcess;
  private readonly waiters = new Set<() => void>();

  constructor(args: readonly string[], env: NodeJS.ProcessEnv = cliEnv()) {
    const [exe, ...pre] = tsEntryCommand(MAIN);
    this.child = spawn(exe, [...pre, ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      this.stdout += s;
      this.wake();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      this.stderr += s;
      this.wake();
    });
    this.done = new Promise((resolve, reject) => {
      this.child.on('error', reject);
      this.child.on('close', (code, signal) =>
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr }),
      );
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves once `test` holds for the output so far; rejects after `ms` or if the process ends first. */
  waitFor(
    test: (p: { stdout: string; stderr: string }) => boolean,
    what: string,
    ms = 30_000,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (test(this)) {
          cleanup();
          resolve();
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `timed out waiting for ${what}; stdout: ${this.stdout}\nstderr: ${this.stderr}`,
          ),
        );
      }, ms);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      void this.done.then(() => {
        if (!test(this)) {
          cleanup();
          reject(
            new Error(
              `the CLI exited before ${what}; stdout: ${this.stdout}\nstderr: ${this.stderr}`,
            ),
          );
        }
      });
      check();
    });
  }

  kill(signal: NodeJS.Signals): void {
    // The same signal to the same pid as `child.kill(signal)`, but Deno 2.9's child.kill()
    // makes 'close' report that signal even when the CLI caught it and exited 0 (a child
    // killed through process.kill reports its real exit status, as on Node and Bun).
    if (this.child.pid === undefined) throw new Error('the CLI process did not start');
    process.kill(this.child.pid, signal);
  }
}

/** Runs the CLI to completion. */
export function runCli(args: readonly string[], env?: NodeJS.ProcessEnv): Promise<CliResult> {
  return new CliProcess(args, env).done;
}

/** The lines of --json output, each parsed. */
export function jsonLines(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** `-c FROM migrate --live [OPTION...] DOMAIN TO`, as the CLI tests run `virtwire migrate`. */
export function migrateArgs(
  from: string,
  domain: string,
  to: string,
  ...options: string[]
): string[] {
  return ['-c', from, 'migrate', '--live', ...options, domain, to];
}

/**
 * `migrateArgs` with `--postcopy --postcopy-after-precopy --bandwidth 100` and
 * EXTRA: the post-copy run, held to 100 MiB/s so the simulated first pass is
 * slow enough to switch after it.
 */
export function postcopyMigrateArgs(
  from: string,
  domain: string,
  to: string,
  ...extra: string[]
): string[] {
  return migrateArgs(
    from,
    domain,
    to,
    '--postcopy',
    '--postcopy-after-precopy',
    '--bandwidth',
    '100',
    ...extra,
  );
}
