import { paramSchema, type TypedValue, toTypedParams } from '../../api/typed-params.js';
import { VirDomainJobType as JobType, VirDomainJobOperation as Op } from '../../generated/api.js';
import type { RemoteDomainGetJobInfoRet, RemoteTypedParam } from '../../generated/remote.js';
import type { DomainJob, SimJobSnapshot } from '../host.js';
import { IncomingJob, MiB, OutgoingJob, PAGE_SIZE } from './job.js';

// The figures libvirt reports for a migration, read off the job model: no
// figure is kept here.

/** Simulated ms QEMU needs to set a migration up. */
const SETUP_MS = 2;
/** QEMU reports the transfer rate once it has measured it over its first interval. */
const BPS_AFTER_MS = 100;
const JOB_SCHEMA = paramSchema('VIR_DOMAIN_JOB_');

/**
 * A migration's statistics (GET_JOB_STATS, the JOB_COMPLETED event), field
 * for field as libvirtd reports them: live while it runs, or `completed`.
 */
export function migrationStats(
  job: OutgoingJob,
  completed: boolean,
  operation: number = Op.VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT,
): RemoteTypedParam[] {
  if (!completed) job.step();
  const end = job.endedAt ?? job.host.now();
  const elapsed = Math.max(0, Math.round(end - job.startedAt));
  const remaining = completed ? 0 : Math.round(job.remaining);
  const processed = Math.round(job.processed);
  const normal = Math.round(processed / PAGE_SIZE);
  const dirtyPages = Math.round(
    (job.dom.def.dirtyRateMiBps * MiB * (1 - job.throttle)) / PAGE_SIZE,
  );
  const v: Record<string, TypedValue> = { operation };
  if (job.transferStartedAt === null && !completed) {
    // libvirtd before QEMU starts the transfer: the job exists, the memory figures are zero.
    Object.assign(v, {
      time_elapsed: elapsed,
      data_total: 0,
      data_processed: 0,
      data_remaining: 0,
      memory_total: 0,
      memory_processed: 0,
      memory_remaining: 0,
      memory_dirty_rate: 0,
      memory_iteration: 0,
      memory_postcopy_requests: 0,
      disk_total: 0,
      disk_processed: 0,
      disk_remaining: 0,
    });
    return toTypedParams(v, JOB_SCHEMA, 'job statistic');
  }
  v.time_elapsed = elapsed;
  if (completed && !job.recovered) v.time_elapsed_net = Math.max(0, elapsed - 3);
  v.downtime = completed ? Math.round(job.downtimeMs) : Number(job.maxDowntimeMs);
  if (completed && !job.recovered) v.downtime_net = Math.max(0, Math.round(job.downtimeMs) - 4);
  Object.assign(v, {
    setup_time: SETUP_MS,
    data_total: job.memTotal,
    data_processed: processed,
    data_remaining: remaining,
    memory_total: job.memTotal,
    memory_processed: processed,
    memory_remaining: remaining,
    // libvirt leaves the rate out while QEMU has not measured one yet (its first 100 ms)
    memory_bps:
      !completed && end - (job.transferStartedAt ?? end) < BPS_AFTER_MS
        ? undefined
        : Math.round(job.rate * 1000),
    memory_constant: 0,
    memory_normal: normal,
    memory_normal_bytes: normal * PAGE_SIZE,
    memory_dirty_rate: job.phase === 'precopy' ? dirtyPages : 0,
    memory_iteration: job.iteration,
    memory_postcopy_requests: job.postcopyRequests,
    memory_page_size: PAGE_SIZE,
    disk_total: 0,
    disk_processed: 0,
    disk_remaining: 0,
  });
  return toTypedParams(v, JOB_SCHEMA, 'job statistic');
}

/** GET_JOB_INFO's figures of a migration in progress. */
export function migrationInfo(job: OutgoingJob): RemoteDomainGetJobInfoRet {
  job.step();
  const started = job.transferStartedAt !== null;
  const total = started ? BigInt(job.memTotal) : 0n;
  const processed = started ? BigInt(Math.round(job.processed)) : 0n;
  const remaining = started ? BigInt(Math.round(job.remaining)) : 0n;
  return {
    type: JobType.VIR_DOMAIN_JOB_UNBOUNDED,
    timeElapsed: BigInt(Math.round((job.endedAt ?? job.host.now()) - job.startedAt)),
    timeRemaining: 0n,
    dataTotal: total,
    dataProcessed: processed,
    dataRemaining: remaining,
    memTotal: total,
    memProcessed: processed,
    memRemaining: remaining,
    fileTotal: 0n,
    fileProcessed: 0n,
    fileRemaining: 0n,
  };
}

function snapshot(job: OutgoingJob): SimJobSnapshot {
  return {
    direction: 'out',
    phase: job.phase,
    iteration: job.iteration,
    memoryTotal: job.memTotal,
    memoryProcessed: Math.round(job.processed),
    memoryRemaining: Math.round(job.remaining),
    passSize: Math.round(job.passSize),
    postcopyRequests: job.postcopyRequests,
    flags: job.flags,
  };
}

/** How the simulator describes jobs in `sim.domain(name).job`. */
export function describeJob(job: DomainJob): SimJobSnapshot {
  if (job instanceof OutgoingJob) {
    job.step();
    return snapshot(job);
  }
  if (job instanceof IncomingJob) return { direction: 'in', phase: job.phase, flags: job.flags };
  return { direction: job.direction, phase: job.phase };
}
