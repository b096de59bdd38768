/**
 * Outcomes checked, not guessed: both sides' domain states as the daemons
 * report them when a migration ends, and how its error reads (aborted or
 * failed, libvirt's error name).
 */
import { RemoteError } from '../../rpc/errors.js';
import type { MigrationConnection, MigrationDomain } from './contract.js';
import type { EndRecord, SideState } from './records.js';

/** A query that hangs (a dead link) must not hold the outcome back for long. */
const STATE_TIMEOUT_MS = 5000;

/**
 * The domain `uuid`'s state on the host of `conn` (through `handle` when the
 * caller has one there already); `absent` when that host has no such domain.
 */
export async function sideState(
  conn: MigrationConnection | null,
  uuid: string,
  noConnection: string,
  handle: MigrationDomain | null = null,
): Promise<SideState> {
  if (!conn) return { kind: 'unknown', why: noConnection };
  if (!conn.isOpen) return { kind: 'unknown', why: 'the connection is closed' };
  try {
    const d = handle ?? (await conn.lookupDomain(uuid, { timeoutMs: STATE_TIMEOUT_MS }));
    const s = await d.state({ timeoutMs: STATE_TIMEOUT_MS });
    return { kind: 'domain', ...s };
  } catch (err) {
    if (remoteCause(err)?.codeName === 'VIR_ERR_NO_DOMAIN') return { kind: 'absent' };
    return { kind: 'unknown', why: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * A destination that libvirt is still tearing down after a migration failed
 * before the switch: `shutdown` (QEMU being stopped) or the incoming guest
 * still `paused` for the migration. Neither is where it ends.
 */
export function destinationSettling(s: SideState): boolean {
  if (s.kind !== 'domain') return false;
  if (s.state === 'shutdown') return true;
  return s.state === 'paused' && (s.reason === 'migration' || s.reason === 'starting_up');
}

/** How long a failed migration's report waits for the destination to settle, and how often it asks. */
export const SETTLE_MS = 3000;
const SETTLE_STEP_MS = 100;

/**
 * Reads a side again until `settling` says it has stopped changing or
 * `limitMs` has passed; returns the last state read (still settling, then,
 * and shown as it is: the report never guesses what it would become).
 */
export async function settledSide(
  first: SideState,
  read: () => Promise<SideState>,
  settling: (s: SideState) => boolean,
  limitMs = SETTLE_MS,
): Promise<SideState> {
  let s = first;
  const until = performance.now() + limitMs;
  while (settling(s) && performance.now() < until) {
    await new Promise((r) => setTimeout(r, SETTLE_STEP_MS));
    s = await read();
  }
  return s;
}

/**
 * Whether two connections reach the same host, as libvirt judges it (the
 * host UUID of its capabilities; a migration to the same host fails in
 * Prepare): then a domain found on the "destination" is the source's own.
 * False when either cannot tell.
 */
export async function sameHost(a: MigrationConnection, b: MigrationConnection): Promise<boolean> {
  const hostUuid = async (c: MigrationConnection): Promise<string | null> => {
    try {
      const { capabilities } = await c.remote.connectGetCapabilities(undefined, {
        timeoutMs: STATE_TIMEOUT_MS,
      });
      return /<host>\s*<uuid>([^<]+)<\/uuid>/.exec(capabilities)?.[1]?.trim() ?? null;
    } catch {
      return null;
    }
  };
  const [ua, ub] = await Promise.all([hostUuid(a), hostUuid(b)]);
  return ua !== null && ua === ub;
}

/** The innermost RemoteError of an error's cause chain. */
export function remoteCause(err: unknown): RemoteError | null {
  let found: RemoteError | null = null;
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 16; depth++) {
    if (e instanceof RemoteError) found = e;
    e = e.cause;
  }
  return found;
}

/** An error as the end record keeps it. */
export function errorRecord(err: Error): NonNullable<EndRecord['error']> {
  return { name: err.name, message: err.message, code: remoteCause(err)?.codeName ?? null };
}

/**
 * Aborted when the daemon says the job was cancelled (by us or anyone), or
 * when this client's abort was accepted before the job failed: cancelling
 * shuts QEMU's migration socket, and QEMU can see the write fail first and
 * end the job as failed ("Unable to write to socket: Broken pipe"), which
 * libvirt then reports as VIR_ERR_OPERATION_FAILED. Failed otherwise.
 */
export function failureOutcome(err: unknown, abortAccepted = false): 'aborted' | 'failed' {
  if (abortAccepted) return 'aborted';
  return remoteCause(err)?.codeName === 'VIR_ERR_OPERATION_ABORTED' ? 'aborted' : 'failed';
}

/** `running (migrated)`, `paused (postcopy failed)`, `absent`, `unknown (the connection is closed)`. */
export function sideStateText(s: SideState): string {
  if (s.kind === 'domain') return `${s.state} (${s.reason.replaceAll('_', ' ')})`;
  if (s.kind === 'absent') return 'absent';
  return `unknown (${s.why})`;
}

/** True when the side's domain is in this state (and, if given, for this reason). */
export function sideIs(s: SideState, state: string, reason?: string): boolean {
  return s.kind === 'domain' && s.state === state && (reason === undefined || s.reason === reason);
}
