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
