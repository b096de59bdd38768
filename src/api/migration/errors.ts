/** How a migration fails: the phase it failed in, the first error, and post-copy's no-rollback case. */
import { VirtwireError } from '../../errors.js';
import type { DomainState } from '../names.js';
import type { MigrationPhase, SideState } from './records.js';

export type { MigrationPhase } from './records.js';

/** A migration failed; `phase` says where, `cause` is the first error (libvirt reports the first one too). */
export class MigrationError extends VirtwireError {
  override name = 'MigrationError';
  constructor(
    readonly phase: MigrationPhase,
    message: string,
    options: ErrorOptions & {
      readonly confirmError?: Error;
    } = {},
  ) {
    super(message, options);
    this.confirmError = options.confirmError;
  }
  /** Confirm also failed (see `sides` for where the guest is). */
  readonly confirmError: Error | undefined;
  /**
   * Both sides' domain states, queried by the Migration after the failure
   * (null until then, and for errors raised outside a Migration).
   */
  sides: { readonly source: SideState; readonly destination: SideState } | null = null;
}

/**
 * Post-copy failed after the switch: there is no rollback. Both sides are left
 * paused (or the destination running in a failed post-copy state); migrate
 * again with `{ postcopy: true, postcopyResume: true }` to recover.
 */
export class PostcopyFailedError extends MigrationError {
  override name = 'PostcopyFailedError';
  constructor(
    message: string,
    readonly sourceState: DomainState | null,
    readonly destinationState: DomainState | null,
    options: ErrorOptions = {},
  ) {
    super('perform', message, options);
  }
}

/**
 * A post-copy resume (`postcopyResume: true`) whose destination no longer
 * knows the incoming domain: its Prepare answers VIR_ERR_NO_DOMAIN. A
 * restarted destination daemon keeps an incoming guest only when it had
 * recorded the switch and the guest's QEMU is still there; when the
 * destination host was lost (its QEMU too), or its daemon died before it
 * recorded the switch, there is nothing to resume. The source keeps its guest
 * paused (postcopy failed) and the guest's memory is no longer whole on
 * either side. `cause` is the destination's RemoteError.
 */
export class PostcopyResumeLostError extends MigrationError {
  override name = 'PostcopyResumeLostError';
  constructor(domain: string, cause: Error, confirmError?: Error) {
    super(
      'prepare',
      `cannot resume the post-copy migration of ${domain}: the destination no longer has the incoming domain (${cause.message}); its daemon forgot it (the guest's QEMU there is gone, or the daemon restarted before it recorded the switch), and the source keeps the guest paused${confirmError ? `; confirm on the source also failed: ${confirmError.message}` : ''}`,
      confirmError ? { cause, confirmError } : { cause },
    );
  }
}

export const asError = (err: unknown): Error =>
  err instanceof Error ? err : new Error(String(err));

/** The error a failed migration call becomes: which domain, which phase, on which host. */
export function phaseFailure(domain: string, phase: MigrationPhase, err: unknown): MigrationError {
  const e = asError(err);
  const where = phase === 'prepare' || phase === 'finish' ? 'the destination' : 'the source';
  return new MigrationError(
    phase,
    `migration of ${domain} failed in ${phase} on ${where}: ${e.message}`,
    {
      cause: e,
    },
  );
}
