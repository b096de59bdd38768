/**
 * Which typed-parameter family (constants VIR_..._*, typed in protocol/api.json) each function
 * with typed parameters reads or writes. libvirt states this link only in prose, so it is a
 * table; the generator refuses a function with typed parameters that is missing here.
 */
import type { ApiFacts } from './api.js';
import { pascalCase } from './names.js';

/** Function -> constant prefix of its family; null: libvirt names no constants for it. */
export const TYPED_PARAM_FAMILIES: Readonly<Record<string, string | null>> = {
  virAdmClientGetInfo: 'VIR_CLIENT_INFO_',
  virAdmServerGetClientLimits: 'VIR_SERVER_CLIENTS_',
  virAdmServerSetClientLimits: 'VIR_SERVER_CLIENTS_',
  virAdmServerGetThreadPoolParameters: 'VIR_THREADPOOL_',
  virAdmServerSetThreadPoolParameters: 'VIR_THREADPOOL_',
  virConnectSetIdentity: 'VIR_CONNECT_IDENTITY_',
  virConnectGetAllDomainStats: 'VIR_DOMAIN_STATS_',
  virDomainListGetStats: 'VIR_DOMAIN_STATS_',
  virDomainBlockCopy: 'VIR_DOMAIN_BLOCK_COPY_',
  virDomainBlockStatsFlags: 'VIR_DOMAIN_BLOCK_STATS_',
  virDomainGetBlkioParameters: 'VIR_DOMAIN_BLKIO_',
  virDomainSetBlkioParameters: 'VIR_DOMAIN_BLKIO_',
  virDomainGetBlockIoTune: 'VIR_DOMAIN_BLOCK_IOTUNE_',
  virDomainSetBlockIoTune: 'VIR_DOMAIN_BLOCK_IOTUNE_',
  virDomainSetThrottleGroup: 'VIR_DOMAIN_BLOCK_IOTUNE_',
  virDomainGetCPUStats: 'VIR_DOMAIN_CPU_STATS_',
  virDomainGetGuestInfo: 'VIR_DOMAIN_GUEST_INFO_',
  virDomainGetGuestVcpus: null,
  virDomainGetInterfaceParameters: 'VIR_DOMAIN_BANDWIDTH_',
  virDomainSetInterfaceParameters: 'VIR_DOMAIN_BANDWIDTH_',
  virDomainGetJobStats: 'VIR_DOMAIN_JOB_',
  virDomainGetLaunchSecurityInfo: 'VIR_DOMAIN_LAUNCH_SECURITY_',
  virDomainSetLaunchSecurityState: 'VIR_DOMAIN_LAUNCH_SECURITY_',
  virDomainGetMemoryParameters: 'VIR_DOMAIN_MEMORY_',
  virDomainSetMemoryParameters: 'VIR_DOMAIN_MEMORY_',
  virDomainGetNumaParameters: 'VIR_DOMAIN_NUMA_',
  virDomainSetNumaParameters: 'VIR_DOMAIN_NUMA_',
  virDomainGetPerfEvents: 'VIR_PERF_PARAM_',
  virDomainSetPerfEvents: 'VIR_PERF_PARAM_',
  virDomainGetSchedulerParameters: 'VIR_DOMAIN_SCHEDULER_',
  virDomainGetSchedulerParametersFlags: 'VIR_DOMAIN_SCHEDULER_',
  virDomainSetSchedulerParameters: 'VIR_DOMAIN_SCHEDULER_',
  virDomainSetSchedulerParametersFlags: 'VIR_DOMAIN_SCHEDULER_',
  virDomainSaveParams: 'VIR_DOMAIN_SAVE_PARAM_',
  virDomainRestoreParams: 'VIR_DOMAIN_SAVE_PARAM_',
  virDomainSetIOThreadParams: 'VIR_DOMAIN_IOTHREAD_',
  virNetworkPortGetParameters: 'VIR_NETWORK_PORT_BANDWIDTH_',
  virNetworkPortSetParameters: 'VIR_NETWORK_PORT_BANDWIDTH_',
  virNodeGetMemoryParameters: 'VIR_NODE_MEMORY_SHARED_',
  virNodeSetMemoryParameters: 'VIR_NODE_MEMORY_SHARED_',
  virNodeGetSEVInfo: 'VIR_NODE_SEV_',
};

/**
 * Getters to which libvirt's library adds VIR_TYPED_PARAM_STRING_OKAY when the daemon supports
 * string typed parameters (VIR_DRV_FEATURE_TYPED_PARAM_STRING): without it the daemon leaves
 * the string fields out. Stated only in libvirt's code, hence a list.
 */
export const STRING_PARAM_GETTERS: ReadonlySet<string> = new Set([
  'virDomainBlockStatsFlags',
  'virDomainGetBlkioParameters',
  'virDomainGetBlockIoTune',
  'virDomainGetCPUStats',
  'virDomainGetInterfaceParameters',
  'virDomainGetLaunchSecurityInfo',
  'virDomainGetMemoryParameters',
  'virDomainGetNumaParameters',
  'virDomainGetSchedulerParametersFlags',
  'virNodeGetMemoryParameters',
  'virNodeGetSEVInfo',
]);

export interface ParamFamily {
  /** The constant prefix, e.g. `VIR_DOMAIN_BLKIO_`. */
  readonly prefix: string;
  /** TypeScript name of the record type, e.g. `DomainBlkioParams`. */
  readonly typeName: string;
  readonly header: string;
  /** Field name -> value kind, only fields api.json gives a type. */
  readonly fields: ReadonlyArray<{
    readonly field: string;
    readonly type: string;
    readonly multiple: boolean;
  }>;
}

/** `VIR_DOMAIN_BLKIO_` -> DomainBlkioParams; `VIR_PERF_PARAM_` -> PerfParams. */
export function familyTypeName(prefix: string): string {
  const core = prefix
    .replace(/^VIR_/, '')
    .replace(/_$/, '')
    .replace(/_PARAMS?$/, '');
  return `${pascalCase(core)}Params`;
}

/** The family of a prefix: its typed fields, without key fragments like `disk.` or `.alias`. */
export function paramFamily(api: ApiFacts, prefix: string): ParamFamily {
  const fields: { field: string; type: string; multiple: boolean }[] = [];
  let header = '';
  for (const [name, s] of Object.entries(api.strings).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!name.startsWith(prefix)) continue;
    header ||= s.header;
    if (s.type === null || s.value.startsWith('.') || s.value.endsWith('.')) continue;
    if (fields.some((f) => f.field === s.value)) continue;
    fields.push({ field: s.value, type: s.type, multiple: s.multiple === true });
  }
  if (header === '') throw new Error(`no string constants start with ${prefix}`);
  return { prefix, typeName: familyTypeName(prefix), header, fields };
}
