/**
 * What every command gets: where to write, the environment, the global
 * options (-c URI, --debug, --readonly), how to open a connection, and the
 * protocol trace when it is on.
 */
import { type AdminConnection, connectAdmin } from '../api/admin.js';
import { connect } from '../api/connect.js';
import type { Connection } from '../api/handles.js';
import { VirtwireError } from '../errors.js';
import { RemoteError } from '../rpc/errors.js';
import { displayUri } from '../uri/index.js';
import { defaultUri } from './constants.js';
import { CommandError } from './errors.js';
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
  /** Fires on SIGINT (Ctrl-C); main.ts wires it to the process. */
  readonly interrupt: InterruptSource;
}

/** Ctrl-C as something commands subscribe to while they run. */
export interface InterruptSource {
  /** Calls `fn` on every interrupt until the returned function is called. */
  on(fn: () => void): () => void;
}

export interface GlobalOptions {
  readonly connect?: string | undefined;
  readonly debug?: boolean | undefined;
  readonly readonly?: boolean | undefined;
}

export { defaultUri } from './constants.js';

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

  /** Opens a connection (to -c's URI unless `uri` is given). */
  async open(uri: string = this.uri): Promise<Connection> {
    try {
      return await connect(uri, {
        readonly: this.globals.readonly ?? false,
        env: this.io.env,
      });
    } catch (err) {
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
