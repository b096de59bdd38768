/**
 * A byte stream over another program's stdin and stdout: the `ssh` and `ext`
 * transports run a local process, the in-process SSH transports a remote
 * command on an SSH channel. Both look the same from here: something to write
 * to, something to read from, an error stream, and an exit status.
 *
 * The reference client behaves like this too: the child's stderr is kept and
 * shown when the stream ends early, and closing the connection ends the child.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { Duplex, type Readable, type Writable } from 'node:stream';
import { AbortError } from '../errors.js';
import { ChildExitError, TransportError } from './errors.js';

/** How much of a child's stderr is kept (the tail): enough for any ssh diagnostic. */
export const STDERR_LIMIT = 8192;

/** Keeps the last `limit` bytes written to it. */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly limit = STDERR_LIMIT) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.limit && this.chunks.length > 0) {
      const first = this.chunks[0]!;
      const excess = this.size - this.limit;
      if (first.length <= excess) {
        this.chunks.shift();
        this.size -= first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.size -= excess;
      }
    }
  }

  /** The kept text, without trailing white space (as the reference client shows it). */
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8').trimEnd();
  }
}

/** What a process-like peer must offer to be wrapped by {@link ProcessDuplex}. */
export interface ProcessEnds {
  /** Program name for messages. */
  readonly program: string;
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable | null;
  /**
   * Registers the callback for the end of the program: called once, after it
   * exited and its output streams are drained.
   */
  onClose(cb: (code: number | null, signal: string | null) => void): void;
  /** Ends the program (called at most once, when the stream is destroyed). */
  kill(): void;
}

/**
 * The connection as a Duplex: writes go to the program's stdin, its stdout is
 * read. The stream ends when the program has exited: with EOF after status 0,
 * with a {@link ChildExitError} carrying stderr otherwise. Destroying the
 * stream ends the program.
 */
export class ProcessDuplex extends Duplex {
  private readonly stderrTail = new TailBuffer();
  private killed = false;

  constructor(private readonly ends: ProcessEnds) {
    // allowHalfOpen: the program may still answer after we close its stdin.
    super({ allowHalfOpen: true });
    const { stdin, stdout, stderr } = ends;
    stdout.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) stdout.pause();
    });
    // Read errors show up again as the exit status; the exit handler reports them.
    stdout.on('error', () => {});
    // A program that died leaves a broken pipe; the exit status says why.
    stdin.on('error', () => {});
    stderr?.on('data', (chunk: Buffer) => this.stderrTail.push(chunk));
    stderr?.on('error', () => {});
    ends.onClose((code, signal) => {
      if (this.destroyed || this.killed) return;
      if (code === 0) {
        this.push(null);
      } else {
        this.destroy(new ChildExitError(ends.program, code, signal, this.stderrTail.text()));
      }
    });
  }

  /** The tail of the program's stderr so far. */
  get stderrText(): string {
    return this.stderrTail.text();
  }

  override _read(): void {
    this.ends.stdout.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const { stdin } = this.ends;
    if (stdin.destroyed || stdin.writableEnded) {
      // The program is gone; its exit status (reported separately) tells why.
      cb();
      return;
    }
    if (stdin.write(chunk)) {
      cb();
    } else {
      const done = () => {
        stdin.off('drain', done);
        stdin.off('close', done);
        cb();
      };
      stdin.on('drain', done);
      stdin.on('close', done);
    }
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (!this.ends.stdin.destroyed) this.ends.stdin.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!this.killed) {
      this.killed = true;
      this.ends.kill();
    }
    cb(err);
  }
}

/**
 * Runs `file` with `args` (no shell) and resolves with a Duplex over its
 * stdio once it has started; rejects with a TransportError naming the program
 * when it cannot be started. Destroying the Duplex sends SIGTERM to that one
 * process, and SIGKILL if it is still there after `killGraceMs`.
 */
export function spawnDuplex(
  file: string,
  args: readonly string[],
  opts: {
    env: NodeJS.ProcessEnv;
    program?: string;
    signal?: AbortSignal | undefined;
    killGraceMs?: number;
  },
): Promise<ProcessDuplex> {
  const program = opts.program ?? file;
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(new AbortError(`starting ${program} aborted`, { cause: opts.signal.reason }));
      return;
    }
    let child: ChildProcess;
    try {
      child = spawn(file, args, { env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (err) {
      reject(
        new TransportError(`cannot run ${program}: ${(err as Error).message}`, { cause: err }),
      );
      return;
    }
    const kill = () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }, opts.killGraceMs ?? 2000);
      timer.unref();
      child.once('exit', () => clearTimeout(timer));
    };
    let settled = false;
    const onAbort = () => {
      settled = true;
      kill();
      reject(new AbortError(`starting ${program} aborted`, { cause: opts.signal?.reason }));
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.once('error', (err) => {
      opts.signal?.removeEventListener('abort', onAbort);
      settled = true;
      reject(new TransportError(`cannot run ${program}: ${err.message}`, { cause: err }));
    });
    child.once('spawn', () => {
      opts.signal?.removeEventListener('abort', onAbort);
      // aborted between fork and this event: the child is already being killed
      if (settled) return;
      settled = true;
      // Later 'error' events (a failed kill) change nothing: the exit status is reported.
      child.on('error', () => {});
      resolve(
        new ProcessDuplex({
          program,
          stdin: child.stdin!,
          stdout: child.stdout!,
          stderr: child.stderr,
          onClose: (cb) => child.once('close', (code, signal) => cb(code, signal)),
          kill,
        }),
      );
    });
  });
}

/** What the reference client passes to every helper it runs: LC_ALL=C and the basics. */
const COMMON_ENV = [
  'LD_PRELOAD',
  'LD_LIBRARY_PATH',
  'DYLD_INSERT_LIBRARIES',
  'DYLD_FORCE_FLAT_NAMESPACE',
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'TMPDIR',
] as const;

/**
 * The environment a helper process gets: like the reference client, only
 * LC_ALL=C, the common variables and the `extra` names are passed on from
 * `env`; everything else is dropped.
 */
export function childEnv(env: NodeJS.ProcessEnv, extra: readonly string[] = []): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { LC_ALL: 'C' };
  for (const name of [...COMMON_ENV, ...extra]) {
    const v = env[name];
    if (v !== undefined) out[name] = v;
  }
  return out;
}
