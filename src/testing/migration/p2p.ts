import { connect } from '../../api/connect.js';
import { Feature } from '../../api/features.js';
import { getString } from '../../api/typed-params.js';
import {
  VirDomainMigrateFlags as F,
  VirDomainState as S,
  VirErrorDomain,
  VirErrorNumber,
} from '../../generated/api.js';
import type { RemoteTypedParam } from '../../generated/remote.js';
import { internalError, invalidArg, operationFailed, SimError } from '../errors.js';
import type { SimDomain, SimHost } from '../host.js';
import { cookieFor, decodeCookie } from './cookie.js';
import { findIncoming } from './destination.js';
import { outgoingOf } from './job.js';
import { checkMigrateFlags, checkParams } from './rules.js';
import type { MigrationSite } from './site.js';
import { begin, confirm, run } from './source.js';

/**
 * DOMAIN_MIGRATE_PERFORM3(_PARAMS) of a peer-to-peer (or tunnelled)
 * migration: the source drives the destination itself, through a connection
 * of its own, and returns when all is done.
 */
export async function performPeerToPeer(
  site: MigrationSite,
  d: SimDomain,
  dconnuri: string | null,
  params: readonly RemoteTypedParam[],
  flags: number,
  owner: object | null,
): Promise<{ cookieOut: Uint8Array }> {
  checkMigrateFlags(flags, 'qemuDomainMigratePerform3Params');
  checkParams(params);
  if (dconnuri === null)
    throw invalidArg('peer-to-peer migration needs a destination URI (dconnuri)');
  await peerToPeer(site, d, dconnuri, params, flags, owner);
  return { cookieOut: new Uint8Array(0) };
}

/** The source daemon's own run of a peer-to-peer migration, over a connection it opens to the destination. */
async function peerToPeer(
  site: MigrationSite,
  d: SimDomain,
  dconnuri: string,
  params: readonly RemoteTypedParam[],
  flags: number,
  owner: object | null,
): Promise<void> {
  const { host, seat } = site;
  const dest = seat.find(dconnuri);
  if (!dest) {
    throw new SimError(
      VirErrorNumber.VIR_ERR_SYSTEM_ERROR,
      VirErrorDomain.VIR_FROM_RPC,
      `unable to connect to server at '${dconnuri}': Connection refused (no simulator on this network answers this URI)`,
      '%s',
      `unable to connect to server at '${dconnuri}': Connection refused`,
    );
  }
  let localFlags = flags | F.VIR_MIGRATE_CHANGE_PROTECTION;
  // as the client does for managed migration: a paused guest stays paused on the destination
  if (d.state === S.VIR_DOMAIN_PAUSED && !(flags & F.VIR_MIGRATE_POSTCOPY_RESUME)) {
    localFlags |= F.VIR_MIGRATE_PAUSED;
  }
  // the source daemon adds PAUSED after Begin: the destination is the one to see it
  const { xml, cookieOut } = begin(site, d, params, localFlags & ~F.VIR_MIGRATE_PAUSED, owner);
  let conn: Awaited<ReturnType<typeof connect>> | null = null;
  try {
    conn = await connect(dconnuri, { transport: dest.transport(), keepalive: { interval: 0 } });
    if (!(await conn.supportsFeature(Feature.MIGRATION_PARAMS))) {
      throw operationFailed('the destination does not support migration with parameters');
    }
    // as libvirt's source daemon: the destination sees PEER2PEER (and TUNNELLED) too
    const destFlags =
      (flags | (localFlags & F.VIR_MIGRATE_PAUSED)) &
      ~(F.VIR_MIGRATE_ABORT_ON_ERROR | F.VIR_MIGRATE_AUTO_CONVERGE);
    const p = [
      ...params.filter((x) => x.field !== 'destination_xml'),
      { field: 'destination_xml', value: { type: 7 as const, s: xml } },
    ];
    let prep: { cookieOut: Uint8Array; uriOut: string | null };
    try {
      prep = await conn.remote.domainMigratePrepare3Params({
        params: p,
        cookieIn: cookieOut,
        flags: destFlags,
      });
    } catch (err) {
      confirmLocal(host, d, localFlags, 1);
      throw asSimError(err);
    }
    const target = findIncoming(seat, decodeCookie(prep.cookieOut));
    let performError: SimError | null = null;
    if (!target) performError = operationFailed('the destination did not prepare the migration');
    else if (flags & F.VIR_MIGRATE_OFFLINE) {
      // only the definition moves: straight to Finish
    } else {
      try {
        await run(site, d, params, localFlags, target, owner);
      } catch (err) {
        performError = asSimError(err);
      }
    }
    const dname = getString(params, 'destination_name') ?? d.name;
    const fp = [
      ...p.filter((x) => x.field !== 'destination_name'),
      { field: 'destination_name', value: { type: 7 as const, s: dname } },
    ];
    let finishError: SimError | null = null;
    try {
      await conn.remote.domainMigrateFinish3Params({
        params: fp,
        cookieIn: performError ? new Uint8Array(0) : cookieFor(host, d, target?.id),
        flags: destFlags,
        cancelled: performError ? 1 : 0,
      });
    } catch (err) {
      finishError = asSimError(err);
    }
    if (performError) throw performError;
    confirmLocal(host, d, localFlags, finishError ? 1 : 0);
    if (finishError) throw finishError;
  } catch (err) {
    const j = outgoingOf(d);
    if (j && j.phase === 'begin') j.restoreSource();
    throw asSimError(err);
  } finally {
    await conn?.close();
  }
}

function confirmLocal(host: SimHost, d: SimDomain, flags: number, cancelled: number): void {
  try {
    confirm(host, d, flags, cancelled);
  } catch {
    // the first error is the one reported
  }
}

/** A RemoteError from the destination becomes the same error reported by this daemon. */
function asSimError(err: unknown): SimError {
  if (err instanceof SimError) return err;
  const e = err as {
    code?: number;
    domain?: number;
    message?: string;
    str1?: string | null;
    str2?: string | null;
  };
  if (typeof e.code === 'number' && typeof e.domain === 'number') {
    return new SimError(e.code, e.domain, e.message ?? 'error', e.str1 ?? null, e.str2 ?? null);
  }
  return internalError(String(e.message ?? err));
}
