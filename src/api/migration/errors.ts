/** How a migration fails: the phase it failed in, the first error, and post-copy's no-rollback case. */
import { VirtwireError } from '../../errors.js';
import type { DomainState } from '../names.js';

/** Where a migration's orchestration is: `setup` until the first migration call, `done` after the last. */
export type MigrationPhase =
  | 'setup'
  | 'begin'
  | 'prepare'
  | 'perform'
  | 'finish'
  | 'confirm'
  | 'done';

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
  /** Confirm also failed: the guest was probably left paused on the source. */
  readonly confirmError: Error | undefined;
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
