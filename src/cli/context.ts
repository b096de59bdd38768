/**
 * What every command gets: where to write, the environment, the global
 * options (-c URI, --debug, --readonly), how to open a connection, and the
 * protocol trace when it is on.
 */
import { type AdminConnection, connectAdmin } from '../api/admin.js';
import { connect } from '../api/connect.js';
import type { Connection } from '../api/handles.js';
import { TimeoutError, VirtwireError } from '../errors.js';
import { NotLibvirtError, RemoteError } from '../rpc/errors.js';
import { displayUri, UriError } from '../uri/index.js';
import { DEFAULT_CONNECT_TIMEOUT_S, defaultUri, type TerminationSignal } from './constants.js';
import { CommandError, UsageError } from './errors.js';
import { nodeDebugEnabled, startTrace } from './trace.js';

/** Where the CLI writes: process.stdout / stderr, or a test's capture. */
export interface Output {
  write(s: string): unknown;
  readonly isTTY?: boolean | undefined;
  readonly columns?: number | undefined;
}

export interface CliIo {
  readonly stdout: Output;
  readonly stderr: Output;
  readonly env: NodeJS.ProcessEnv;
  /** Fires on SIGINT (Ctrl-C), SIGTERM and SIGHUP; main.ts wires it to the process. */
  readonly interrupt: InterruptSource;
}

/** Ctrl-C (and SIGTERM, SIGHUP) as something commands subscribe to while they run. */
export interface InterruptSource {
  /** Calls `fn` on every such signal until the returned function is called. */
  on(fn: (signal: TerminationSignal) => void): () => void;
}

export interface GlobalOptions {
  readonly connect?: string | undefined;
  readonly debug?: boolean | undefined;
  readonly readonly?: boolean | undefined;
  readonly connectTimeout?: number | undefined;
}

export { defaultUri } from './constants.js';

/** The first error of class `cls` in `err`'s cause chain. */
function causeOf<T extends Error>(
  err: unknown,
  cls: abstract new (...args: never[]) => T,
): T | undefined {
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 16; depth++, e = e.cause)
    if (e instanceof cls) return e;
  return undefined;
}

export class CliContext {
  constructor(
    readonly io: CliIo,
    readonly globals: GlobalOptions,
  ) {}

  get uri(): string {
    return this.globals.connect ?? defaultUri(this.io.env);
  }

  /** Tracing is on with --debug or NODE_DEBUG=virtwire. */
  get tracing(): boolean {
    return this.globals.debug === true || nodeDebugEnabled(this.io.env);
  }

  trace = (line: string): void => {
    this.io.stderr.write(`${line}\n`);
  };

  /**
   * Traces every RPC message on this CLI's stderr while tracing is on, until
   * the returned function is called (run() brackets each command with it).
   */
  startTracing(): () => void {
    return this.tracing ? startTrace(this.trace) : () => {};
  }

  /** --connect-timeout in milliseconds; undefined when it is 0 (no limit). */
  get connectTimeoutMs(): number | undefined {
    const s = this.globals.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_S;
    return s > 0 ? Math.round(s * 1000) : undefined;
  }

  /** Opens a connection (to -c's URI unless `uri` is given). */
  async open(uri: string = this.uri): Promise<Connection> {
    const timeoutMs = this.connectTimeoutMs;
    try {
      return await connect(uri, {
        readonly: this.globals.readonly ?? false,
        env: this.io.env,
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
      });
    } catch (err) {
      if (err instanceof UriError)
        throw new UsageError(`invalid URI: ${err.message}`, { cause: err });
      if (err instanceof TimeoutError) {
        throw new CommandError(
          `failed to connect to ${displayUri(uri)}: no answer within ${timeoutMs} ms (--connect-timeout sets the limit)`,
          { cause: err },
        );
      }
      const other = causeOf(err, NotLibvirtError);
      if (other) {
        throw new CommandError(`failed to connect to ${displayUri(uri)}: ${other.message}`, {
          cause: err,
        });
      }
      if (err instanceof VirtwireError && !(err instanceof RemoteError)) {
        throw new CommandError(`failed to connect to ${displayUri(uri)}: ${err.message}`, {
          cause: err,
        });
      }
      throw err;
    }
  }

  /** Opens a daemon's admin socket. */
  async openAdmin(socketPath: string): Promise<AdminConnection> {
    try {
      return await connectAdmin(socketPath);
    } catch (err) {
      if (err instanceof VirtwireError && !(err instanceof RemoteError)) {
        throw new CommandError(
          `failed to connect to the admin socket ${socketPath}: ${err.message}`,
          {
            cause: err,
          },
        );
      }
      throw err;
    }
  }

  out(s: string): void {
    this.io.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
  }

  err(s: string): void {
    this.io.stderr.write(s.endsWith('\n') ? s : `${s}\n`);
  }
}
