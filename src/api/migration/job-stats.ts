/** libvirt's job statistics (VIR_DOMAIN_JOB_*) with named fields. */
import type { RemoteTypedParam } from '../../generated/remote.js';
import { fromTypedParams, type TypedValue } from '../typed-params.js';

/** Named fields of libvirt's job statistics (VIR_DOMAIN_JOB_*); byte counts and times as numbers. */
export interface JobStats {
  /** Every field as the daemon sent it. */
  readonly raw: Readonly<Record<string, TypedValue>>;
  readonly type: number;
  readonly operation: number | undefined;
  readonly timeElapsedMs: number | undefined;
  readonly downtimeMs: number | undefined;
  readonly setupTimeMs: number | undefined;
  readonly dataTotal: number | undefined;
  readonly dataProcessed: number | undefined;
  readonly dataRemaining: number | undefined;
  readonly memoryTotal: number | undefined;
  readonly memoryProcessed: number | undefined;
  readonly memoryRemaining: number | undefined;
  /** Transfer rate, bytes per second. */
  readonly memoryBps: number | undefined;
  /** Pages dirtied per second. */
  readonly memoryDirtyRate: number | undefined;
  readonly memoryIteration: number | undefined;
  readonly memoryPostcopyRequests: number | undefined;
  readonly memoryPageSize: number | undefined;
}

/** VIR_DOMAIN_JOB_NONE: no job (before it starts, after it ends, or completed stats already read). */
export const JOB_NONE = 0;
/** VIR_DOMAIN_JOB_COMPLETED. */
export const JOB_COMPLETED = 3;

const num = (v: TypedValue | undefined): number | undefined =>
  typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : undefined;

/** The reply of DOMAIN_GET_JOB_STATS (or a JOB_COMPLETED event's parameters) with named fields. */
export function jobStats(type: number, params: readonly RemoteTypedParam[]): JobStats {
  const raw = fromTypedParams(params);
  return {
    raw,
    type,
    operation: num(raw.operation),
    timeElapsedMs: num(raw.time_elapsed),
    downtimeMs: num(raw.downtime),
    setupTimeMs: num(raw.setup_time),
    dataTotal: num(raw.data_total),
    dataProcessed: num(raw.data_processed),
    dataRemaining: num(raw.data_remaining),
    memoryTotal: num(raw.memory_total),
    memoryProcessed: num(raw.memory_processed),
    memoryRemaining: num(raw.memory_remaining),
    memoryBps: num(raw.memory_bps),
    memoryDirtyRate: num(raw.memory_dirty_rate),
    memoryIteration: num(raw.memory_iteration),
    memoryPostcopyRequests: num(raw.memory_postcopy_requests),
    memoryPageSize: num(raw.memory_page_size),
  };
}

/** True when the statistics describe a job: a type other than none and at least one field. */
export function hasJob(s: JobStats): boolean {
  return s.type !== JOB_NONE && Object.keys(s.raw).length > 0;
}
