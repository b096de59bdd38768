import { randomUUID } from 'node:crypto';
import { getString } from '../../api/typed-params.js';
import {
  VirDomainEventDefinedDetailType as Defined,
  VirDomainEventType as Ev,
  VirDomainMigrateFlags as F,
  VirDomainJobOperation as Op,
  VirDomainPausedReason as Paused,
  VirDomainEventResumedDetailType as Resumed,
  VirDomainRunningReason as Running,
  VirDomainState as S,
  VirDomainShutoffReason as Shutoff,
  VirDomainEventStartedDetailType as Started,
  VirDomainEventStoppedDetailType as Stopped,
  VirDomainEventSuspendedDetailType as Suspended,
} from '../../generated/api.js';
import type { RemoteNonnullDomain, RemoteTypedParam } from '../../generated/remote.js';
import {
  internalError,
  invalidArg,
  invalidOperation,
  noDomain,
  operationFailed,
} from '../errors.js';
import { SimDomain } from '../host.js';
import type { NetworkSeat } from '../network.js';
import { parseDomainXml } from '../xml.js';
import { type Cookie, cookieFor, decodeCookie } from './cookie.js';
import { IncomingJob, incomingOf } from './job.js';
import { anotherJob, checkBeginFlags, checkMigrateFlags, checkParams } from './rules.js';
import type { MigrationSite } from './site.js';
import { migrationStats } from './stats.js';

// The destination's phases, Prepare and Finish, and how its half of a
// migration is found and given up.

/** DOMAIN_MIGRATE_PREPARE3(_PARAMS) on the destination: the guest is started, waiting for its memory. */
export function prepare(
  { host, seat }: MigrationSite,
  params: readonly RemoteTypedParam[],
  cookieIn: Uint8Array,
  flags: number,
  owner: object | null,
): { cookieOut: Uint8Array; uriOut: string | null } {
  checkMigrateFlags(flags, 'qemuDomainMigratePrepare3Params');
  checkParams(params);
  if (!(flags & F.VIR_MIGRATE_POSTCOPY_RESUME)) checkBeginFlags(flags, 'prepare');
  const xml = getString(params, 'destination_xml');
  if (xml === undefined) throw invalidArg('no domain XML passed');
  const cookie = decodeCookie(cookieIn);
  if (cookie && cookie.hostUuid === host.hostUuid) {
    throw internalError(`Attempt to migrate guest to the same host ${host.hostUuid}`);
  }
  const probe = new SimDomain(parseDomainXml(xml), false);
  const dname = getString(params, 'destination_name');
  if (dname !== undefined && dname !== probe.def.name) probe.def = { ...probe.def, name: dname };
  // QEMU's incoming port, from libvirt's default migration port range 49152-49215, written
  // as libvirt writes it; offline too (the client checks for a URI before it skips Perform)
  const uriOut =
    getString(params, 'migrate_uri') === undefined
      ? `tcp:${host.hostname}:${49152 + (seat.nextPrepared() % 64)}`
      : null;

  if (flags & F.VIR_MIGRATE_POSTCOPY_RESUME) {
    const d = host.byUuid(probe.uuid);
    // libvirt 9.0 after a restart during post-copy: the incoming domain is forgotten
    if (!d) throw noDomain(`no domain with matching name '${probe.name}'`);
    const job = incomingOf(d);
    if (job?.phase !== 'postcopy-failed') {
      throw invalidOperation(
        `domain '${probe.name}' has no failed post-copy migration to resume here`,
      );
    }
    job.owner = owner;
    return { cookieOut: cookieFor(host, d, job.id), uriOut };
  }
  const sameUuid = host.byUuid(probe.uuid);
  const sameName = host.byName(probe.name);
  if (sameName && sameName.uuid !== probe.uuid) {
    throw operationFailed(
      `domain '${probe.name}' already exists with uuid ${sameName.uuid}`,
      'VIR_FROM_DOMAIN',
    );
  }
  if (sameUuid && sameUuid.name !== probe.name) {
    throw operationFailed(
      `domain '${sameUuid.name}' is already defined with uuid ${sameUuid.uuid}`,
      'VIR_FROM_DOMAIN',
    );
  }
  if (sameUuid?.active) throw invalidOperation(`domain '${probe.name}' is already active`);
  if (sameUuid?.job) throw anotherJob(sameUuid);

  let d: SimDomain;
  let previous: IncomingJob['previous'] = null;
  if (sameUuid) {
    previous = { def: sameUuid.def, persistent: sameUuid.persistent };
    d = sameUuid;
    d.def = probe.def;
  } else {
    d = probe;
  }
  const id = randomUUID();
  const job = new IncomingJob(id, host, d, flags, previous, seat.incoming);
  job.owner = owner;
  job.list();
  d.job = job;
  if (flags & F.VIR_MIGRATE_OFFLINE) {
    if (!sameUuid) {
      d.persistent = false;
      host.add(d); // kept hidden-in-plain-sight as inactive until Finish defines it
    }
    return { cookieOut: cookieFor(host, d, id), uriOut };
  }
  if (!sameUuid) host.add(d);
  d.id = host.newId();
  host.setState(d, S.VIR_DOMAIN_PAUSED, Paused.VIR_DOMAIN_PAUSED_MIGRATION);
  host.lifecycle(d, Ev.VIR_DOMAIN_EVENT_STARTED, Started.VIR_DOMAIN_EVENT_STARTED_MIGRATED);
  return { cookieOut: cookieFor(host, d, id), uriOut };
}

/** This host's incoming migration that Finish names, by the cookie's id, else by the guest's name. */
function incomingFor(
  { host, seat }: MigrationSite,
  cookie: Cookie | null,
  dname: string | undefined,
): IncomingJob | null {
  if (cookie?.incoming) {
    const j = seat.incoming.get(cookie.incoming);
    if (j instanceof IncomingJob && j.host === host) return j;
  }
  const name = dname ?? cookie?.name;
  if (name !== undefined) {
    for (const j of seat.incoming.values()) {
      if (j instanceof IncomingJob && j.host === host && j.dom.name === name) return j;
    }
  }
  return null;
}

/** The incoming migration a cookie names, on whichever host of the network prepared it. */
export function findIncoming(seat: NetworkSeat, cookie: Cookie | null): IncomingJob | null {
  const j = cookie?.incoming ? seat.incoming.get(cookie.incoming) : undefined;
  return j instanceof IncomingJob ? j : null;
}

/**
 * DOMAIN_MIGRATE_FINISH3(_PARAMS) on the destination: waits for the last page,
 * then the guest runs here (or stays paused with VIR_MIGRATE_PAUSED). With
 * `cancelled`, the half-migrated guest is killed.
 */
export async function finish(
  site: MigrationSite,
  params: readonly RemoteTypedParam[],
  cookieIn: Uint8Array,
  flags: number,
  cancelled: number,
): Promise<{ dom: RemoteNonnullDomain; cookieOut: Uint8Array }> {
  checkMigrateFlags(flags, 'qemuDomainMigrateFinish3Params');
  const dname = getString(params, 'destination_name');
  const { host } = site;
  const job = incomingFor(site, decodeCookie(cookieIn), dname);
  if (!job) {
    throw operationFailed(`no incoming migration of domain '${dname ?? '?'}' on this host`);
  }
  const d = job.dom;
  if (cancelled) {
    if (job.phase === 'postcopy-failed') {
      throw operationFailed("job 'migration in' failed in post-copy phase");
    }
    abandonIncoming(
      job,
      Shutoff.VIR_DOMAIN_SHUTOFF_FAILED,
      Stopped.VIR_DOMAIN_EVENT_STOPPED_FAILED,
    );
    throw operationFailed(`migration of domain '${d.name}' did not complete on the source`);
  }
  // libvirtd defines the guest as Finish begins; in post-copy it then reports the guest
  // running here, and waits for the last page
  if (job.flags & F.VIR_MIGRATE_PERSIST_DEST && !(flags & F.VIR_MIGRATE_POSTCOPY_RESUME)) {
    const was = d.persistent;
    d.persistent = true;
    host.lifecycle(
      d,
      Ev.VIR_DOMAIN_EVENT_DEFINED,
      was ? Defined.VIR_DOMAIN_EVENT_DEFINED_UPDATED : Defined.VIR_DOMAIN_EVENT_DEFINED_ADDED,
    );
  }
  job.running();
  if (!(job.flags & F.VIR_MIGRATE_OFFLINE)) {
    // Throws the stream's error when post-copy breaks meanwhile; the guest stays as it is then.
    await job.done.promise;
  }
  job.unlist();
  d.job = null;
  const src = job.source;
  // after post-copy libvirtd drops the destination's figures (all but the timing is obsolete)
  d.completedStats =
    src && src.postcopyTotal === 0 && !src.recovered
      ? migrationStats(src, true, Op.VIR_DOMAIN_JOB_OPERATION_MIGRATION_IN)
      : null;
  if (!(job.flags & F.VIR_MIGRATE_OFFLINE)) {
    if (job.flags & F.VIR_MIGRATE_PAUSED && d.state !== S.VIR_DOMAIN_RUNNING) {
      host.setState(d, S.VIR_DOMAIN_PAUSED, Paused.VIR_DOMAIN_PAUSED_USER);
      host.lifecycle(d, Ev.VIR_DOMAIN_EVENT_SUSPENDED, Suspended.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED);
    } else {
      host.setState(d, S.VIR_DOMAIN_RUNNING, Running.VIR_DOMAIN_RUNNING_MIGRATED);
      host.lifecycle(d, Ev.VIR_DOMAIN_EVENT_RESUMED, Resumed.VIR_DOMAIN_EVENT_RESUMED_MIGRATED);
    }
  }
  return { dom: d.wire, cookieOut: cookieFor(host, d) };
}

/** Kills the destination's half of a migration; the domain goes back to what it was here before. */
export function abandonIncoming(job: IncomingJob, reason: number, detail: number): void {
  job.unlist();
  const d = job.dom;
  const host = job.host;
  d.job = null;
  if (job.flags & F.VIR_MIGRATE_OFFLINE) {
    if (job.previous)
      Object.assign(d, { def: job.previous.def, persistent: job.previous.persistent });
    else host.remove(d);
    return;
  }
  if (d.active) {
    d.persistent = job.previous?.persistent ?? false;
    host.stop(d, reason, Ev.VIR_DOMAIN_EVENT_STOPPED, detail);
  }
  if (job.previous) {
    d.def = job.previous.def;
    if (!host.byUuid(d.uuid)) host.add(d);
  }
}
