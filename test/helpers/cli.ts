/**
 * The CLI run in this process (the same code as the binary), for tests: an
 * I/O that keeps what it writes, and one run's exit status and output.
 */
import type { CliIo } from '../../src/cli/context.js';
import { run } from '../../src/cli/program.js';

/** A non-TTY CliIo that keeps stdout and stderr; `env` is what the CLI sees as its environment. */
export function captureIo(env: NodeJS.ProcessEnv = {}): CliIo & {
  out(): string;
  errText(): string;
} {
  let out = '';
  let err = '';
  return {
    stdout: { write: (s: string) => (out += s), isTTY: false },
    stderr: { write: (s: string) => (err += s), isTTY: false },
    env,
    interrupt: { on: () => () => {} },
    out: () => out,
    errText: () => err,
  };
}

/** `virtwire ARGV...`: its exit status, stdout and stderr. */
export async function runCli(
  argv: readonly string[],
): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo();
  const code = await run(argv, io);
  return { code, out: io.out(), err: io.errText() };
}
