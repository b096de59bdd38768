/**
 * Running a migration's calls in libvirt's order (virDomainMigrate3 and
 * virDomainMigrateToURI3 semantics), written once for every protocol variant.
 */
import {
  VirDomainMigrateFlags as F,
  VirDomainPausedReason,
  VirDomainState,
} from '../../generated/api.js';
import type { RemoteNonnullDomain } from '../../generated/remote.js';
import { isNoDomain, isOperationInvalid } from '../../rpc/errors.js';
import { Feature } from '../features.js';
import { getString, replaceString } from '../typed-params.js';
import type { MigrationConnection, MigrationDomain } from './contract.js';
import {
  asError,
  MigrationError,
  type MigrationPhase,
  PostcopyResumeLostError,
  phaseFailure,
} from './errors.js';
import type { MigrationPlan } from './plan.js';
import { type MigrationProtocol, openProtocol, pickProtocol } from './protocol.js';

/** What the orchestration needs from the migration it runs. */
export interface Orchestration {
  readonly domain: MigrationDomain;
  readonly plan: MigrationPlan;
  /** Called as each phase begins. */
  enter(phase: MigrationPhase): void;
  /**
   * The destination's link ended and is not back: Finish cannot reach it.
   * The error to report, or null when the destination can be called.
   */
  destinationGone?(): Error | null;
}

const NO_COOKIE = new Uint8Array(0);

/**
 * How long a post-copy recovery waits for the source to take it: libvirt 12.9
 * with QEMU 11.1 reports a post-copy failure a moment before QEMU's own
 * migration state is postcopy-paused, and refuses a recovery's Begin until then
 * (VIR_ERR_OPERATION_INVALID, "QEMU reports migration is still running").
 */
const RESUME_SETTLE_MS = 5000;
const RESUME_RETRY_MS = 100;

/** Flags the destination does not take: they steer the source's side of the job only. */
const SOURCE_ONLY = F.VIR_MIGRATE_ABORT_ON_ERROR | F.VIR_MIGRATE_AUTO_CONVERGE;

/**
 * libvirt's managed migration: the client drives both daemons through Begin,
 * Prepare, Perform, Finish and Confirm. The first error is the one reported;
 * whatever failed, the source is told (Confirm, cancelled) unless Perform
 * itself failed there. Resolves with the domain the destination reported.
 */
export async function migrateManaged(
  o: Orchestration,
  dest: MigrationConnection,
): Promise<RemoteNonnullDomain> {
  const { domain, plan } = o;
  const src = domain.conn;
  if (plan.has(F.VIR_MIGRATE_OFFLINE)) await requireOffline(src, dest);
  const protocol = openProtocol(await pickProtocol([src, dest], plan, true), {
    source: src.remote,
    destination: dest.remote,
    dom: domain.wire,
    domainName: domain.name,
    params: plan.params,
    dconnuri: null,
  });
  const protection = (await src.supportsFeature(Feature.MIGRATION_CHANGE_PROTECTION))
    ? F.VIR_MIGRATE_CHANGE_PROTECTION
    : 0;
  return runPhases(o, protocol, plan.flags & ~F.VIR_MIGRATE_CHANGE_PROTECTION, protection);
}

async function requireOffline(src: MigrationConnection, dest: MigrationConnection): Promise<void> {
  for (const [c, side] of [
    [src, 'source'],
    [dest, 'destination'],
  ] as const) {
    if (!(await c.supportsFeature(Feature.MIGRATION_OFFLINE))) {
      throw new MigrationError('setup', `offline migration is not supported by the ${side} host`);
    }
  }
}

/**
 * Runs `call` (Begin, or the peer-to-peer Perform); a post-copy recovery
 * refused as invalid while the source says its post-copy failed is asked again
 * until RESUME_SETTLE_MS. Any other refusal is final.
 */
async function settled<T>(
  domain: MigrationDomain,
  flags: number,
  call: () => Promise<T>,
): Promise<T> {
  const deadline = performance.now() + RESUME_SETTLE_MS;
  for (;;) {
    try {
      return await call();
    } catch (err) {
      if (!(flags & F.VIR_MIGRATE_POSTCOPY_RESUME) || !isOperationInvalid(err)) throw err;
      if (performance.now() >= deadline) throw err;
      const st = await domain.state().catch(() => null);
      const failed =
        st?.stateCode === VirDomainState.VIR_DOMAIN_PAUSED &&
        st.reasonCode === VirDomainPausedReason.VIR_DOMAIN_PAUSED_POSTCOPY_FAILED;
      if (!failed) throw err;
      await new Promise((r) => setTimeout(r, RESUME_RETRY_MS));
    }
  }
}

async function runPhases(
  o: Orchestration,
  protocol: MigrationProtocol,
  planFlags: number,
  protection: number,
): Promise<RemoteNonnullDomain> {
  const { domain } = o;
  let flags = planFlags;
  const fail = (phase: MigrationPhase, err: unknown): MigrationError =>
    phaseFailure(domain.name, phase, err);

  o.enter('begin');
  let cookie: Uint8Array;
  let xml: string;
  try {
    ({ xml, cookie } = await settled(domain, flags, () => protocol.begin(flags | protection)));
  } catch (err) {
    throw fail('begin', err);
  }
  // A paused guest stays paused on the destination, as libvirt's client arranges it.
  const st = await domain.state().catch(() => null);
  if (
    st?.stateCode === VirDomainState.VIR_DOMAIN_PAUSED &&
    !(flags & F.VIR_MIGRATE_POSTCOPY_RESUME)
  )
    flags |= F.VIR_MIGRATE_PAUSED;
  const destFlags = flags & ~SOURCE_ONLY;

  let firstError: MigrationError | null = null;
  let cancelled = true;
  let notifySource = true;
  let ddom: RemoteNonnullDomain | null = null;

  o.enter('prepare');
  let prepared = false;
  try {
    cookie = await protocol.prepare(xml, cookie, destFlags);
    prepared = true;
  } catch (err) {
    // A resume whose destination forgot the incoming domain has nothing to resume: say so.
    firstError =
      flags & F.VIR_MIGRATE_POSTCOPY_RESUME && isNoDomain(err)
        ? new PostcopyResumeLostError(domain.name, err)
        : fail('prepare', err);
    // Begin started a job on the source: with change protection it must be cancelled through Confirm.
    if (!protection) throw firstError;
  }

  if (prepared) {
    if (flags & F.VIR_MIGRATE_OFFLINE) {
      cookie = NO_COOKIE;
      cancelled = false;
    } else {
      o.enter('perform');
      try {
        cookie = await protocol.perform(cookie, flags | protection);
        cancelled = false;
      } catch (err) {
        firstError = fail('perform', err);
        notifySource = false; // the source already knows it failed: no Confirm
        cookie = NO_COOKIE;
        cancelled = true;
      }
    }

    o.enter('finish');
    const gone = o.destinationGone?.() ?? null;
    if (gone) {
      // A supervised destination would make Finish wait for a daemon that may not come back.
      ddom = null;
      cookie = NO_COOKIE;
      firstError ??= fail('finish', gone);
    } else {
      try {
        ({ dom: ddom, cookie } = await protocol.finish(cookie, destFlags, cancelled));
      } catch (err) {
        ddom = null;
        cookie = NO_COOKIE;
        firstError ??= fail('finish', err);
      }
    }
    cancelled = ddom === null;
  }

  let confirmError: Error | undefined;
  if (notifySource) {
    o.enter('confirm');
    try {
      await protocol.confirm(cookie, flags | protection, cancelled);
    } catch (err) {
      confirmError = asError(err);
    }
  }
  return outcome(domain.name, ddom, firstError, confirmError);
}

/** The first error wins; a failed Confirm is added to it, or is the error itself. */
function outcome(
  name: string,
  ddom: RemoteNonnullDomain | null,
  firstError: MigrationError | null,
  confirmError: Error | undefined,
): RemoteNonnullDomain {
  if (firstError) {
    if (confirmError) {
      // libvirt 9.0's Confirm fails here too ("Attempt to migrate guest to the same host"): keep the type
      if (firstError instanceof PostcopyResumeLostError) {
        throw new PostcopyResumeLostError(name, asError(firstError.cause), confirmError);
      }
      throw new MigrationError(
        firstError.phase,
        // Confirm often repeats the first error: say it once.
        confirmError.message === asError(firstError.cause).message
          ? `${firstError.message} (confirm on the source failed the same way)`
          : `${firstError.message}; confirm on the source also failed: ${confirmError.message}`,
        { cause: firstError.cause, confirmError },
      );
    }
    throw firstError;
  }
  if (!ddom)
    throw new MigrationError(
      'finish',
      `the destination did not report the migrated domain ${name}`,
    );
  if (confirmError) {
    throw new MigrationError(
      'confirm',
      `migration of ${name} finished on the destination, but confirm failed on the source: ${confirmError.message}`,
      { cause: confirmError, confirmError },
    );
  }
  return ddom;
}

/**
 * Peer-to-peer (the source daemon connects to `destinationUri` and runs the
 * other phases itself) or direct (the hypervisor migrates to that URI): one
 * Perform on the source, as virDomainMigrateToURI3 does.
 */
export async function migrateUnmanaged(o: Orchestration, destinationUri: string): Promise<void> {
  const { domain, plan } = o;
  const src = domain.conn;
  const p2p = plan.has(F.VIR_MIGRATE_PEER2PEER);
  if (!(await src.supportsFeature(p2p ? Feature.MIGRATION_P2P : Feature.MIGRATION_V3))) {
    throw new MigrationError(
      'setup',
      `the source does not support ${p2p ? 'peer-to-peer' : 'direct'} migration`,
    );
  }
  const name = await pickProtocol([src], plan, false);
  // Direct: the URI names where the hypervisor sends the stream, unless migrateUri already does.
  const params =
    p2p || getString(plan.params, 'migrate_uri') !== undefined
      ? plan.params
      : replaceString(plan.params, 'migrate_uri', destinationUri);
  const protocol = openProtocol(name, {
    source: src.remote,
    destination: null,
    dom: domain.wire,
    domainName: domain.name,
    params,
    dconnuri: p2p ? destinationUri : null,
  });
  o.enter('perform');
  try {
    await settled(domain, plan.flags, () => protocol.perform(NO_COOKIE, plan.flags));
  } catch (err) {
    throw phaseFailure(domain.name, 'perform', err);
  }
}
