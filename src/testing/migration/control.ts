import {
  VirDomainMigrateFlags as F,
  VirDomainJobType as JobType,
  VirDomainAbortJobFlagsValues,
  VirDomainGetJobStatsFlags,
} from '../../generated/api.js';
import type { RemoteDomainGetJobInfoRet, RemoteTypedParam } from '../../generated/remote.js';
import {
  checkFlags,
  invalidOperation,
  libvirtError,
  notRunning,
  type SimError,
} from '../errors.js';
import type { SimDomain } from '../host.js';
import { outgoingOf } from './job.js';
import { aborted } from './rules.js';
import { migrationInfo, migrationStats } from './stats.js';

// What clients (and tests) do to a migration in progress: switch it to
// post-copy, abort it, break it, read its statistics, change its tunables.

/** DOMAIN_MIGRATE_START_POST_COPY. */
export function startPostCopy(d: SimDomain, flags: number): void {
  checkFlags(flags, 0, 'qemuDomainMigrateStartPostCopy');
  if (!d.active) throw notRunning();
  const job = outgoingOf(d);
  if (
    !job ||
    (job.phase !== 'precopy' && job.phase !== 'postcopy' && job.phase !== 'transferred')
  ) {
    throw invalidOperation('post-copy can only be started while outgoing migration is in progress');
  }
  if (!(job.flags & F.VIR_MIGRATE_POSTCOPY)) {
    throw invalidOperation(
      'switching to post-copy requires migration to be started with VIR_MIGRATE_POSTCOPY flag',
    );
  }
  // QEMU takes a second request (or one racing the end of the migration) without complaint
  job.switchToPostcopy();
}

/** DOMAIN_ABORT_JOB(_FLAGS). */
export function abortJob(d: SimDomain, flags: number): void {
  checkFlags(
    flags,
    VirDomainAbortJobFlagsValues.VIR_DOMAIN_ABORT_JOB_POSTCOPY,
    'qemuDomainAbortJobFlags',
  );
  if (!d.active) throw notRunning();
  if (d.job?.direction === 'in')
    throw invalidOperation('cannot abort incoming migration; use virDomainDestroy instead');
  const job = outgoingOf(d);
  if (!job) throw invalidOperation('no job is active on the domain');
  const postcopy = job.phase === 'postcopy';
  if (flags & VirDomainAbortJobFlagsValues.VIR_DOMAIN_ABORT_JOB_POSTCOPY) {
    if (!postcopy)
      throw invalidOperation('current job is not outgoing migration in post-copy mode');
    job.breakPostcopy();
    return;
  }
  if (postcopy) throw invalidOperation('cannot abort migration in post-copy mode');
  if (job.phase === 'postcopy-failed')
    throw invalidOperation('cannot abort migration in post-copy mode');
  if (job.phase === 'transferred' || job.phase === 'done') {
    throw invalidOperation('migration is already completing and cannot be aborted');
  }
  job.fail(aborted());
}

/**
 * The test hook behind `sim.failPostcopy()`: breaks the post-copy stream of
 * the domain's outgoing migration now (or `afterMs` later); before the switch
 * (or before any migration) it arms the failure for `afterMs` after the switch.
 */
export function failPostcopy(d: SimDomain, afterMs: number): void {
  const job = outgoingOf(d);
  if (!job) {
    d.failPostcopyAfterMs = afterMs;
    return;
  }
  if (job.phase === 'postcopy') {
    if (afterMs <= 0) job.breakPostcopy();
    else job.failAt = job.host.now() + afterMs;
    return;
  }
  if (job.phase === 'begin' || job.phase === 'precopy' || job.phase === 'postcopy-failed') {
    job.failAfterSwitchMs = afterMs;
    return;
  }
  throw new Error(`the migration of ${d.name} is past post-copy (${job.phase})`);
}

/** GET_JOB_INFO. */
export function jobInfo(d: SimDomain): RemoteDomainGetJobInfoRet {
  if (!d.active) throw notRunning();
  if (d.job?.direction === 'in') throw sourceOnly();
  const job = outgoingOf(d);
  if (job && job.phase !== 'done' && job.phase !== 'failed') return migrationInfo(job);
  return {
    type: JobType.VIR_DOMAIN_JOB_NONE,
    timeElapsed: 0n,
    timeRemaining: 0n,
    dataTotal: 0n,
    dataProcessed: 0n,
    dataRemaining: 0n,
    memTotal: 0n,
    memProcessed: 0n,
    memRemaining: 0n,
    fileTotal: 0n,
    fileProcessed: 0n,
    fileRemaining: 0n,
  };
}

const sourceOnly = (): SimError =>
  libvirtError(
    'VIR_ERR_OPERATION_UNSUPPORTED',
    'VIR_FROM_QEMU',
    'migration statistics are available only on the source host',
  );

/** GET_JOB_STATS: the running job, or (COMPLETED) the last completed one, as libvirtd reports them. */
export function jobStats(
  d: SimDomain,
  flags: number,
): { type: number; params: RemoteTypedParam[] } {
  const { VIR_DOMAIN_JOB_STATS_COMPLETED: C, VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED: K } =
    VirDomainGetJobStatsFlags;
  checkFlags(flags, C | K, 'qemuDomainGetJobStats');
  if (flags & C) {
    const s = d.completedStats;
    if (!s) return { type: JobType.VIR_DOMAIN_JOB_NONE, params: [] };
    if (!(flags & K)) d.completedStats = null;
    return { type: JobType.VIR_DOMAIN_JOB_COMPLETED, params: s };
  }
  if (!d.active) throw notRunning();
  if (d.job?.direction === 'in') throw sourceOnly();
  const job = outgoingOf(d);
  if (!job || job.phase === 'done' || job.phase === 'failed')
    return { type: JobType.VIR_DOMAIN_JOB_NONE, params: [] };
  return { type: JobType.VIR_DOMAIN_JOB_UNBOUNDED, params: migrationStats(job, false) };
}

/** MIGRATE_SET_MAX_SPEED also applies to a migration in progress, as QEMU applies it at once. */
export function setMaxSpeed(d: SimDomain, mibps: bigint, postcopy: boolean): void {
  if (postcopy) d.postcopyMaxSpeedMiBps = mibps;
  else d.maxSpeedMiBps = mibps;
  const job = outgoingOf(d);
  if (!job) return;
  job.step();
  if (postcopy) job.postcopyBandwidthMiBps = Number(mibps);
  else job.bandwidthMiBps = Number(mibps);
}

export function setMaxDowntime(d: SimDomain, ms: bigint): void {
  d.maxDowntimeMs = ms;
  const job = outgoingOf(d);
  if (job) {
    job.step();
    job.maxDowntimeMs = Number(ms);
  }
}
