/**
 * How the CLI reports failures: libvirt's error name and message for errors
 * from the daemon, the error's own message otherwise; exit status 1, or 2
 * for a command line that could not be used. Stack traces only when tracing.
 */
import { MigrationError, PostcopyFailedError } from '../api/migration/index.js';
import { TypedParamError } from '../api/typed-params.js';
import { RemoteError } from '../rpc/errors.js';
import { UriError } from '../uri/index.js';
import { EXIT_FAILURE, EXIT_FOR_SIGNAL, EXIT_USAGE, type TerminationSignal } from './constants.js';

/** A failure the CLI words itself (it keeps the library's error as `cause`): exit 1. */
export class CommandError extends Error {
  override name = 'CommandError';
}

/** The user pressed Ctrl-C (or the CLI got SIGTERM/SIGHUP) and the command gave up waiting. */
export class InterruptedError extends Error {
  override name = 'InterruptedError';
  constructor(
    message: string,
    /** The signal that ended the wait: exit 128 + its number, as shells report it. */
    readonly signal: TerminationSignal = 'SIGINT',
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The command line itself is wrong (unknown procedure, bad JSON, conflicting options): exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export {
  EXIT_FAILURE,
  EXIT_FOR_SIGNAL,
  EXIT_INTERRUPTED,
  EXIT_OK,
  EXIT_USAGE,
  type TerminationSignal,
} from './constants.js';

/** The innermost RemoteError in an error's cause chain. */
export function remoteCause(err: unknown): RemoteError | null {
  let e: unknown = err;
  let found: RemoteError | null = null;
  for (let depth = 0; e instanceof Error && depth < 16; depth++) {
    if (e instanceof RemoteError) found = e;
    e = e.cause;
  }
  return found;
}

/** Exit status for an error. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError || err instanceof TypedParamError || err instanceof UriError)
    return EXIT_USAGE;
  if (err instanceof InterruptedError) return EXIT_FOR_SIGNAL[err.signal];
  return EXIT_FAILURE;
}

/**
 * The lines printed on stderr for an error: `error: VIR_ERR_NO_DOMAIN: ...`
 * for the daemon's errors (also when wrapped, e.g. in a MigrationError), the
 * message for the others, and a recovery hint after a failed post-copy.
 */
export function formatError(err: unknown, opts: { readonly debug?: boolean } = {}): string {
  const lines: string[] = [];
  if (err instanceof Error) {
    const remote = remoteCause(err);
    if (err instanceof RemoteError) lines.push(`error: ${err.codeName}: ${err.message}`);
    else if (remote) lines.push(`error: ${remote.codeName}: ${err.message}`);
    else if (
      err instanceof UsageError ||
      err instanceof CommandError ||
      err instanceof InterruptedError
    )
      lines.push(`error: ${err.message}`);
    else if (err instanceof TypedParamError) lines.push(`error: invalid option: ${err.message}`);
    else if (err instanceof UriError) lines.push(`error: invalid URI: ${err.message}`);
    else if (err.name === 'Error' || err.name === 'TypeError') lines.push(`error: ${err.message}`);
    else lines.push(`error: ${err.name}: ${err.message}`);
    // A Migration queried both sides (err.sides) and its summary gave the advice those states
    // call for; without them, say only what the error itself implies.
    const sides = err instanceof MigrationError ? err.sides : null;
    if (err instanceof PostcopyFailedError && !sides) {
      lines.push(
        'hint: post-copy cannot be rolled back; finish it with: virtwire migrate --live --postcopy --postcopy-resume DOMAIN DESTURI',
      );
    } else if (err instanceof MigrationError && err.confirmError && !sides) {
      lines.push(
        'hint: confirm failed on the source: see where the guest is with virtwire domstate DOMAIN',
      );
    }
    if (opts.debug && err.stack) lines.push(err.stack);
  } else {
    lines.push(`error: ${String(err)}`);
  }
  return lines.join('\n');
}
