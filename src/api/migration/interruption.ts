/**
 * A migration whose link to a daemon ends while it runs. The daemons, not the
 * client, hold the job: so the client never guesses. When the destination's
 * link ends during pre-copy, the source job is aborted at once (the guest
 * keeps running on the source; libvirt's own client would wait for the
 * source daemon to notice, which can take minutes). In every case the
 * migration fails with what the daemons say afterwards, once their links are
 * back (supervised connections) or as far as they can be asked.
 */
import type { CallOptions } from '../../rpc/client.js';
import { ConnectionClosedError, isOperationInvalid } from '../../rpc/errors.js';
import type { DomainState } from '../names.js';
import type { StateChange } from '../supervise.js';
import type { MigrationConnection, MigrationDomain } from './contract.js';
import { asError, MigrationError, type MigrationPhase } from './errors.js';
import type { JobStats } from './job-stats.js';

/** One link of a migration that ended while it ran. */
export interface LinkLoss {
  readonly side: 'source' | 'destination';
  /** The migration's phase when it ended. */
  readonly phase: MigrationPhase;
  /** `eof`, `error`, `keepalive`, or `client` when the connection was closed by its owner. */
  readonly reason: string;
  readonly error?: Error;
  /** The switch to post-copy had happened: the guest already ran on the destination. */
  readonly postcopy: boolean;
}

/** A migration's link ended while it ran; what the daemons said about the job afterwards. */
export class MigrationInterruptedError extends MigrationError {
  override name = 'MigrationInterruptedError';
  constructor(
    phase: MigrationPhase,
    message: string,
    /** The links that ended, in order. */
    readonly losses: readonly LinkLoss[],
    /** The domain's state on the source afterwards, or null when it could not be asked. */
    readonly sourceState: DomainState | null,
    /** On the destination: null when it could not be asked or has no such domain. */
    readonly destinationState: DomainState | null,
    /** The source's current job afterwards (none: `type` 0), or null when it could not be asked. */
    readonly sourceJob: JobStats | null,
    options: ErrorOptions = {},
  ) {
    super(phase, message, options);
  }
}

/** What the watch needs of the running migration. */
export interface Watched {
  readonly domain: MigrationDomain;
  readonly destination: MigrationConnection | null;
  phase(): MigrationPhase;
  postcopyStarted(): boolean;
  finished(): boolean;
}

/** Follows both links of a running migration (see the module comment). */
export class LinkWatch {
  readonly losses: LinkLoss[] = [];
  /** The abort of the source job after the destination's link ended; its failure, if it failed. */
  abort: Promise<Error | null> | null = null;
  private offs: Array<() => void> = [];

  constructor(private readonly m: Watched) {}

  start(): void {
    this.offs.push(this.m.domain.conn.onStateChange((c) => this.changed('source', c)));
    const dest = this.m.destination;
    if (dest) this.offs.push(dest.onStateChange((c) => this.changed('destination', c)));
  }

  stop(): void {
    for (const off of this.offs) off();
    this.offs = [];
  }

  private changed(side: 'source' | 'destination', c: StateChange): void {
    if (c.from !== 'open' || this.m.finished()) return;
    const loss: LinkLoss = {
      side,
      phase: this.m.phase(),
      reason: c.reason ?? 'eof',
      ...(c.error ? { error: c.error } : {}),
      postcopy: this.m.postcopyStarted(),
    };
    this.losses.push(loss);
    // Pre-copy: the source would go on sending to a destination nobody drives any more.
    if (side === 'destination' && loss.phase === 'perform' && !loss.postcopy && !this.abort) {
      this.abort = this.m.domain.abortJob().then(
        () => null,
        (err: unknown) => asError(err),
      );
    }
  }

  /** The destination's link ended and is not open again: Finish cannot be sent. */
  destinationGone(): LinkLoss | null {
    const dest = this.m.destination;
    if (!dest || dest.isOpen) return null;
    return this.losses.find((l) => l.side === 'destination') ?? null;
  }
}

/** True when `err` or one of its causes is a link that ended. */
export function linkEnded(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; depth++) {
    if (e instanceof ConnectionClosedError) return true;
    e = e.cause;
  }
  return false;
}

const show = (x: DomainState | null, none: string): string =>
  x ? `${x.state} (${x.reason})` : none;

/**
 * Asks both daemons about the domain once their links are open again (each
 * waited for up to `waitMs`): its state on each side and the source's job.
 */
export async function askDaemons(
  domain: MigrationDomain,
  destination: MigrationConnection | null,
  waitMs: number,
): Promise<{
  source: DomainState | null;
  destination: DomainState | null;
  sourceJob: JobStats | null;
  reached: { source: boolean; destination: boolean };
}> {
  const wait: CallOptions = { timeoutMs: waitMs };
  const reach = async (c: MigrationConnection | null): Promise<boolean> => {
    if (!c) return false;
    await c.whenOpen(wait).catch(() => {});
    return c.isOpen;
  };
  const [srcUp, destUp] = await Promise.all([reach(domain.conn), reach(destination)]);
  const state = async (c: MigrationConnection): Promise<DomainState | null> => {
    try {
      return await (await c.lookupDomain(domain.uuid)).state();
    } catch {
      return null;
    }
  };
  const [s, d, job] = await Promise.all([
    srcUp ? state(domain.conn) : null,
    destUp && destination ? state(destination) : null,
    srcUp ? domain.jobStats().catch(() => null) : null,
  ]);
  return {
    source: s,
    destination: d,
    sourceJob: job,
    reached: { source: srcUp, destination: destUp },
  };
}

/** The error of a migration one of whose links ended: what happened, then what the daemons say. */
export async function interrupted(
  name: string,
  watch: LinkWatch,
  domain: MigrationDomain,
  destination: MigrationConnection | null,
  cause: Error,
  waitMs: number,
): Promise<MigrationInterruptedError> {
  const first = watch.losses[0];
  const phase = first?.phase ?? (cause instanceof MigrationError ? cause.phase : 'perform');
  const abortError = watch.abort ? await watch.abort : null;
  const said = await askDaemons(domain, destination, waitMs);
  const what = first
    ? `the ${first.side}'s connection ended during ${first.phase} (${first.reason}${first.error ? `: ${first.error.message}` : ''})`
    : `a connection ended during ${phase}`;
  const did =
    watch.abort === null
      ? ''
      : abortError === null
        ? '; the source job was aborted so that the guest keeps running on the source'
        : isOperationInvalid(abortError)
          ? '; the source job had already ended when it was to be aborted'
          : `; aborting the source job failed: ${abortError.message}`;
  const src = said.reached.source
    ? `the source reports ${show(said.source, 'no such domain')}${said.sourceJob && said.sourceJob.type !== 0 ? ' with a job still running' : ''}`
    : 'the source could not be asked';
  const dst = destination
    ? said.reached.destination
      ? `the destination reports ${show(said.destination, 'no such domain')}`
      : 'the destination could not be asked'
    : '';
  return new MigrationInterruptedError(
    phase,
    `migration of ${name} failed: ${what}${did}; afterwards ${src}${dst ? `, ${dst}` : ''}`,
    watch.losses,
    said.source,
    said.destination,
    said.sourceJob,
    { cause },
  );
}

/**
 * What to do after a link loss in post-copy, by what the destination said. A destination that
 * still runs the guest in post-copy (its daemon came back and found its QEMU pulling pages, as
 * libvirt 9.0 does after a daemon restart) finishes the migration between the two QEMUs; a
 * resume is refused while it does ("QEMU reports migration is still running").
 */
export function postcopyAdvice(destination: DomainState | null): string {
  if (destination?.state === 'running' && destination.reason === 'postcopy')
    return 'the destination still runs the guest in post-copy, so its QEMU goes on pulling memory from the source: wait for the destination to report running/migrated; resume with migrate(dest, { postcopy: true, postcopyResume: true }) only if either side turns postcopy_failed';
  return 'recover with migrate(dest, { postcopy: true, postcopyResume: true }) once both daemons answer';
}
