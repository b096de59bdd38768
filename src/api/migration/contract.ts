/**
 * What a migration needs of a connection and of a domain, declared here so
 * that this folder imports nothing from the handle classes (which import it):
 * `Connection` and `Domain` satisfy these interfaces structurally.
 */
import type { RemoteMethods, RemoteNonnullDomain } from '../../generated/remote.js';
import type { CallOptions } from '../../rpc/client.js';
import type { MethodsOf } from '../../rpc/methods.js';
import type { EventGap, Events } from '../events.js';
import type { DomainState } from '../names.js';
import type { StateChange } from '../supervise.js';
import type { JobStats } from './job-stats.js';

/** The migration procedures a migration calls itself; everything else goes through the domain. */
export type MigrationProcedures = Pick<
  MethodsOf<RemoteMethods>,
  | 'domainMigrateBegin3Params'
  | 'domainMigratePrepare3Params'
  | 'domainMigratePerform3Params'
  | 'domainMigrateFinish3Params'
  | 'domainMigrateConfirm3Params'
  | 'domainMigrateBegin3'
  | 'domainMigratePrepare3'
  | 'domainMigratePerform3'
  | 'domainMigrateFinish3'
  | 'domainMigrateConfirm3'
  | 'connectGetCapabilities'
>;

/** One side of a migration: a connection to a daemon. */
export interface MigrationConnection<D extends MigrationDomain = MigrationDomain> {
  readonly remote: MigrationProcedures;
  /** Any connection's, so its subscriptions may yield gap markers (a supervised connection's do). */
  readonly events: Pick<Events<EventGap>, 'domain'>;
  readonly isOpen: boolean;
  /** Follows the connection's state: a migration learns this way that a link ended. */
  onStateChange(listener: (c: StateChange) => void): () => void;
  /** Resolves once the connection can take calls (a supervised one may be reconnecting). */
  whenOpen(opts?: CallOptions): Promise<void>;
  /** Whether the daemon has a VIR_DRV_FEATURE_* feature (the migration protocol depends on them). */
  supportsFeature(feature: number, opts?: CallOptions): Promise<boolean>;
  /** Finds the domain by name or UUID (see Connection.lookupDomain). */
  lookupDomain(nameOrUuid: string, opts?: CallOptions): Promise<D>;
  /** Makes the handle of a domain the daemon named on the wire (the migrated domain, from Finish). */
  readonly handles: {
    /** Wraps a wire domain into a handle of this connection. */
    readonly Domain: (ref: RemoteNonnullDomain) => D;
  };
}

/** The domain being migrated, on its source connection. */
export interface MigrationDomain {
  readonly conn: MigrationConnection;
  readonly name: string;
  readonly uuid: string;
  readonly id: number;
  readonly wire: RemoteNonnullDomain;
  /** See Domain.state. */
  state(opts?: CallOptions): Promise<DomainState>;
  /** See Domain.jobStats. */
  jobStats(
    opts?: { completed?: boolean; keepCompleted?: boolean } & CallOptions,
  ): Promise<JobStats>;
  /** See Domain.abortJob. */
  abortJob(opts?: CallOptions): Promise<void>;
  /** See Domain.abortJobFlags (VIR_DOMAIN_ABORT_JOB_POSTCOPY fails a post-copy migration). */
  abortJobFlags(flags?: number, opts?: CallOptions): Promise<void>;
  /** See Domain.migrateStartPostCopy. */
  migrateStartPostCopy(flags?: number, opts?: CallOptions): Promise<void>;
  /** See Domain.migrateSetMaxDowntime. */
  migrateSetMaxDowntime(
    downtime: number | bigint,
    flags?: number,
    opts?: CallOptions,
  ): Promise<void>;
  /** See Domain.migrateSetMaxSpeed. */
  migrateSetMaxSpeed(bandwidth: number | bigint, flags?: number, opts?: CallOptions): Promise<void>;
}
