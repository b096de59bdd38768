/**
 * The simulated daemon's migrations. A job lives on its domain (`d.job`);
 * the two halves of one migration find each other through the network their
 * hosts are on (the destination's half by the id in the cookie), never
 * through module state.
 *
 * - job.ts: the job model, the transfer between the two halves (one state machine)
 * - stats.ts: libvirt's statistics and job info, read off a job
 * - cookie.ts: the migration cookie codec
 * - rules.ts: flag and parameter checks, errors several phases share
 * - source.ts: Begin, managed Perform, Confirm
 * - destination.ts: Prepare, Finish, giving up the destination's half
 * - p2p.ts: the source daemon's own run of a peer-to-peer migration
 * - control.ts: post-copy switch, abort, broken post-copy, statistics, tunables
 * - failures.ts: a guest destroyed, a client gone, the simulator closing
 */
import { VirDomainMigrateFlags as F } from '../../generated/api.js';
import type {
  RemoteDomainGetJobInfoRet,
  RemoteNonnullDomain,
  RemoteTypedParam,
} from '../../generated/remote.js';
import type { SimDomain, SimHost } from '../host.js';
import type { NetworkSeat } from '../network.js';
import * as control from './control.js';
import { finish, prepare } from './destination.js';
import { onClientClosed, onDestroy, stopAll } from './failures.js';
import { performPeerToPeer } from './p2p.js';
import type { MigrationSite } from './site.js';
import { begin, confirm, performManaged } from './source.js';

export { describeJob } from './stats.js';

/** The migration calls one simulated host serves, bound to the host and its place on its network. */
export class HostMigrations {
  private readonly site: MigrationSite;

  constructor(host: SimHost, seat: NetworkSeat) {
    this.site = { host, seat };
  }

  /** DOMAIN_MIGRATE_BEGIN3(_PARAMS): the XML to send and a cookie; with change protection the job starts here. */
  begin(
    d: SimDomain,
    params: readonly RemoteTypedParam[],
    flags: number,
    owner: object | null,
  ): { xml: string; cookieOut: Uint8Array } {
    return begin(this.site, d, params, flags, owner);
  }

  /** DOMAIN_MIGRATE_PREPARE3(_PARAMS): the guest is started here, waiting for its memory. */
  prepare(
    params: readonly RemoteTypedParam[],
    cookieIn: Uint8Array,
    flags: number,
    owner: object | null,
  ): { cookieOut: Uint8Array; uriOut: string | null } {
    return prepare(this.site, params, cookieIn, flags, owner);
  }

  /** DOMAIN_MIGRATE_PERFORM3(_PARAMS): the transfer, managed or driven from here (peer-to-peer). */
  perform(
    d: SimDomain,
    dconnuri: string | null,
    params: readonly RemoteTypedParam[],
    cookieIn: Uint8Array,
    flags: number,
    owner: object | null,
  ): Promise<{ cookieOut: Uint8Array }> {
    return flags & F.VIR_MIGRATE_PEER2PEER
      ? performPeerToPeer(this.site, d, dconnuri, params, flags, owner)
      : performManaged(this.site, d, params, cookieIn, flags, owner);
  }

  /** DOMAIN_MIGRATE_FINISH3(_PARAMS): waits for the last page, then the guest runs here. */
  finish(
    params: readonly RemoteTypedParam[],
    cookieIn: Uint8Array,
    flags: number,
    cancelled: number,
  ): Promise<{ dom: RemoteNonnullDomain; cookieOut: Uint8Array }> {
    return finish(this.site, params, cookieIn, flags, cancelled);
  }

  /** DOMAIN_MIGRATE_CONFIRM3(_PARAMS): the guest stops here, or resumes if the migration was called off. */
  confirm(d: SimDomain, flags: number, cancelled: number): void {
    confirm(this.site.host, d, flags, cancelled);
  }

  startPostCopy(d: SimDomain, flags: number): void {
    control.startPostCopy(d, flags);
  }

  abortJob(d: SimDomain, flags: number): void {
    control.abortJob(d, flags);
  }

  /** The test hook behind `sim.failPostcopy()`. */
  failPostcopy(d: SimDomain, afterMs: number): void {
    control.failPostcopy(d, afterMs);
  }

  jobInfo(d: SimDomain): RemoteDomainGetJobInfoRet {
    return control.jobInfo(d);
  }

  jobStats(d: SimDomain, flags: number): { type: number; params: RemoteTypedParam[] } {
    return control.jobStats(d, flags);
  }

  setMaxSpeed(d: SimDomain, mibps: bigint, postcopy: boolean): void {
    control.setMaxSpeed(d, mibps, postcopy);
  }

  setMaxDowntime(d: SimDomain, ms: bigint): void {
    control.setMaxDowntime(d, ms);
  }

  /** A domain of this host is being destroyed. */
  onDestroy(d: SimDomain): void {
    onDestroy(d);
  }

  /** A client connection of this host closed. */
  onClientClosed(owner: object): void {
    onClientClosed(this.site.host, owner);
  }

  /** The simulator is closing: every migration of this host fails and its timers stop. */
  stopAll(): void {
    stopAll(this.site.host);
  }
}
