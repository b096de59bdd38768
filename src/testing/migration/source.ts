import {
  VirDomainEventType as Ev,
  VirDomainMigrateFlags as F,
  VirDomainEventShutdownDetailType as Shutdown,
  VirDomainShutoffReason as Shutoff,
  VirDomainEventStoppedDetailType as Stopped,
} from '../../generated/api.js';
import type { RemoteTypedParam } from '../../generated/remote.js';
import { internalError, invalidOperation, notRunning, operationFailed } from '../errors.js';
import type { SimDomain, SimHost } from '../host.js';
import { cookieFor, decodeCookie } from './cookie.js';
import { findIncoming } from './destination.js';
import { type IncomingJob, OutgoingJob, outgoingOf } from './job.js';
import {
  aborted,
  anotherJob,
  checkBeginFlags,
  checkMigrateFlags,
  checkParams,
  ulong,
} from './rules.js';
import type { MigrationSite } from './site.js';
import { migrationStats } from './stats.js';

// The source's phases: Begin, Perform (managed; peer-to-peer is p2p.ts) and Confirm.

/** DOMAIN_MIGRATE_BEGIN3(_PARAMS) on the source: the XML to send and a cookie; with change protection the job starts here. */
export function begin(
  site: MigrationSite,
  d: SimDomain,
  params: readonly RemoteTypedParam[],
  flags: number,
  owner: object | null = null,
): { xml: string; cookieOut: Uint8Array } {
  const { host } = site;
  checkMigrateFlags(flags, 'qemuDomainMigrateBegin3Params');
  checkParams(params);
  const job = outgoingOf(d);
  if (flags & F.VIR_MIGRATE_POSTCOPY_RESUME) {
    if (job?.phase !== 'postcopy-failed') {
      throw invalidOperation(
        'post-copy migration recovery is only possible for a migration whose post-copy phase failed',
      );
    }
    checkSettled(job);
    return { xml: host.xml(d, false), cookieOut: cookieFor(host, d) };
  }
  if (d.job) throw anotherJob(d);
  // Offline, only the definition moves: the guest may be running or not.
  if (!(flags & F.VIR_MIGRATE_OFFLINE) && !d.active) throw notRunning();
  checkBeginFlags(flags);
  if (flags & F.VIR_MIGRATE_OFFLINE && !d.persistent) {
    throw invalidOperation('cannot migrate a transient domain offline');
  }
  if (flags & F.VIR_MIGRATE_CHANGE_PROTECTION && !(flags & F.VIR_MIGRATE_OFFLINE)) {
    const job = new OutgoingJob(site, d, flags, params);
    job.owner = owner;
    d.job = job;
  }
  return { xml: host.xml(d, false), cookieOut: cookieFor(host, d) };
}

/**
 * DOMAIN_MIGRATE_PERFORM3(_PARAMS) of a managed migration, on the source:
 * runs the transfer to the destination the cookie names and returns when it
 * is over (pre-copy) or switched to post-copy.
 */
export async function performManaged(
  site: MigrationSite,
  d: SimDomain,
  params: readonly RemoteTypedParam[],
  cookieIn: Uint8Array,
  flags: number,
  owner: object | null,
): Promise<{ cookieOut: Uint8Array }> {
  const { host, seat } = site;
  checkMigrateFlags(flags, 'qemuDomainMigratePerform3Params');
  checkParams(params);
  const cookie = decodeCookie(cookieIn);
  const target = findIncoming(seat, cookie);
  if (!target) {
    // as when the transfer fails: the client sends no Confirm after a failed Perform
    const begun = outgoingOf(d);
    if (begun?.phase === 'begin') begun.restoreSource();
    throw operationFailed(
      'no destination has prepared this migration (the cookie names no incoming migration); direct migration to a hypervisor URI is not simulated',
    );
  }
  await run(site, d, params, flags, target, owner);
  return { cookieOut: cookieFor(host, d, target.id) };
}

/** The source's transfer (or its post-copy recovery); resolves when Perform may return. */
export async function run(
  site: MigrationSite,
  d: SimDomain,
  params: readonly RemoteTypedParam[],
  flags: number,
  target: IncomingJob,
  owner: object | null,
): Promise<void> {
  const { host } = site;
  if (target.host === host)
    throw internalError(`Attempt to migrate guest to the same host ${host.hostUuid}`);
  let job = outgoingOf(d);
  if (flags & F.VIR_MIGRATE_POSTCOPY_RESUME) {
    if (job?.phase !== 'postcopy-failed' || target.phase !== 'postcopy-failed') {
      throw invalidOperation(
        'post-copy migration recovery is only possible for a migration whose post-copy phase failed',
      );
    }
    checkSettled(job);
    const pb = ulong(params, 'bandwidth.postcopy');
    if (pb !== undefined) job.postcopyBandwidthMiBps = Number(pb);
    job.owner = owner;
    job.recover(target);
    await job.performed.promise;
    return;
  }
  if (job?.phase === 'failed') {
    // aborted between Begin and Perform
    job.restoreSource();
    throw aborted();
  }
  if (!d.active) throw notRunning();
  if (job && job.phase !== 'begin') throw anotherJob(d);
  if (d.job && !job) throw anotherJob(d);
  if (!job) {
    job = new OutgoingJob(site, d, flags, params);
    job.owner = owner;
    d.job = job;
  } else {
    job.flags = flags;
    const bw = ulong(params, 'bandwidth');
    if (bw !== undefined) job.bandwidthMiBps = Number(bw);
    const pb = ulong(params, 'bandwidth.postcopy');
    if (pb !== undefined) job.postcopyBandwidthMiBps = Number(pb);
  }
  job.target = target;
  target.source = job;
  target.phase = 'receiving';
  job.startTransfer();
  try {
    await job.performed.promise;
  } catch (err) {
    job.restoreSource();
    throw err;
  }
}

/**
 * DOMAIN_MIGRATE_CONFIRM3(_PARAMS) on the source: the guest has moved (it
 * stops here, the JOB_COMPLETED event carries the final statistics), or with
 * `cancelled` the migration is called off and the guest resumes here.
 */
export function confirm(host: SimHost, d: SimDomain, flags: number, cancelled: number): void {
  checkMigrateFlags(flags, 'qemuDomainMigrateConfirm3Params');
  const job = outgoingOf(d);
  if (flags & F.VIR_MIGRATE_OFFLINE) {
    if (!cancelled && flags & F.VIR_MIGRATE_UNDEFINE_SOURCE && d.persistent && !d.active)
      host.remove(d);
    return;
  }
  if (!job) throw invalidOperation(`domain '${d.name}' has no outgoing migration to confirm`);
  if (cancelled) {
    // After a post-copy failure there is nothing to roll back: the job waits for recovery.
    if (job.phase === 'postcopy-failed') return;
    job.fail(aborted());
    job.restoreSource();
    return;
  }
  if (job.phase !== 'transferred') {
    throw invalidOperation(`migration of domain '${d.name}' has not finished transferring`);
  }
  job.phase = 'done';
  const stats = migrationStats(job, true);
  d.job = null;
  const wasPersistent = d.persistent;
  const persistent = d.persistent && !(flags & F.VIR_MIGRATE_UNDEFINE_SOURCE);
  d.completedStats = persistent ? stats : null;
  d.persistent = persistent;
  const release = host.profile.migrationSource;
  // libvirt asks QEMU to quit; newer releases pass QEMU's report of it on
  if (release.shutdownEventOnQuit)
    host.lifecycle(d, Ev.VIR_DOMAIN_EVENT_SHUTDOWN, Shutdown.VIR_DOMAIN_EVENT_SHUTDOWN_HOST);
  host.stop(
    d,
    Shutoff.VIR_DOMAIN_SHUTOFF_MIGRATED,
    Ev.VIR_DOMAIN_EVENT_STOPPED,
    Stopped.VIR_DOMAIN_EVENT_STOPPED_MIGRATED,
  );
  host.emit({ kind: 'job_completed', dom: { ...d.wire, id: -1 }, params: stats });
  if (release.undefineSourceDetail !== null && wasPersistent && !persistent)
    host.lifecycle(d, Ev.VIR_DOMAIN_EVENT_UNDEFINED, release.undefineSourceDetail);
}

/**
 * A recovery made before QEMU's migration state settles in postcopy-paused is
 * refused, for as long as the release's profile says.
 */
function checkSettled(job: OutgoingJob): void {
  const until = (job.postcopyFailedAt ?? 0) + job.host.profile.migrationSource.resumeRefusedMs;
  if (job.host.now() < until) throw invalidOperation('QEMU reports migration is still running');
}
