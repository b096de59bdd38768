import {
  VirDomainBlockedReason,
  VirDomainCrashedReason,
  VirDomainNostateReason,
  VirDomainPausedReason,
  VirDomainPMSuspendedReason,
  VirDomainRunningReason,
  VirDomainShutdownReason,
  VirDomainShutoffReason,
  VirDomainState,
} from '../generated/api.js';

type EnumObject = Readonly<Record<string, number>>;
const cache = new WeakMap<EnumObject, Map<string, Map<number, string>>>();

/**
 * The friendly name of a C enum value: the member's name without `prefix`,
 * lower-cased (`VIR_DOMAIN_PAUSED_POSTCOPY_FAILED`, prefix `VIR_DOMAIN_PAUSED_`
 * -> `postcopy_failed`). Unknown values (a newer daemon) become `unknown(N)`.
 */
export function enumName(e: EnumObject, prefix: string, value: number): string {
  let byPrefix = cache.get(e);
  if (!byPrefix) {
    byPrefix = new Map();
    cache.set(e, byPrefix);
  }
  let m = byPrefix.get(prefix);
  if (!m) {
    m = new Map();
    for (const [k, v] of Object.entries(e)) {
      if (k.startsWith(prefix) && !m.has(v)) m.set(v, k.slice(prefix.length).toLowerCase());
    }
    byPrefix.set(prefix, m);
  }
  return m.get(value) ?? `unknown(${value})`;
}

/** Domain states by name, as virsh prints them but with underscores: `running`, `paused`, `shutoff`... */
export type DomainStateName =
  | 'nostate'
  | 'running'
  | 'blocked'
  | 'paused'
  | 'shutdown'
  | 'shutoff'
  | 'crashed'
  | 'pmsuspended'
  | `unknown(${number})`;

export function domainStateName(state: number): DomainStateName {
  return enumName(VirDomainState, 'VIR_DOMAIN_', state) as DomainStateName;
}

const REASONS: ReadonlyArray<readonly [EnumObject, string]> = [
  [VirDomainNostateReason, 'VIR_DOMAIN_NOSTATE_'],
  [VirDomainRunningReason, 'VIR_DOMAIN_RUNNING_'],
  [VirDomainBlockedReason, 'VIR_DOMAIN_BLOCKED_'],
  [VirDomainPausedReason, 'VIR_DOMAIN_PAUSED_'],
  [VirDomainShutdownReason, 'VIR_DOMAIN_SHUTDOWN_'],
  [VirDomainShutoffReason, 'VIR_DOMAIN_SHUTOFF_'],
  [VirDomainCrashedReason, 'VIR_DOMAIN_CRASHED_'],
  [VirDomainPMSuspendedReason, 'VIR_DOMAIN_PMSUSPENDED_'],
];

/** The name of a state's reason code, e.g. (paused, 12) -> `postcopy`. */
export function domainReasonName(state: number, reason: number): string {
  const r = REASONS[state];
  return r ? enumName(r[0], r[1], reason) : `unknown(${reason})`;
}

/** A domain's state and why it is in it, by name and by libvirt's numbers. */
export interface DomainState {
  readonly state: DomainStateName;
  readonly reason: string;
  readonly stateCode: number;
  readonly reasonCode: number;
}

/** DOMAIN_GET_STATE's numbers as a DomainState. */
export function domainState(state: number, reason: number): DomainState {
  return {
    state: domainStateName(state),
    reason: domainReasonName(state, reason),
    stateCode: state,
    reasonCode: reason,
  };
}

/** Canonical lower-case 8-4-4-4-12 form of a 16-byte UUID. */
export function formatUuid(b: Uint8Array): string {
  const h = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Parses a UUID in libvirt's accepted forms (hex digits, optional dashes); null when it is not one. */
export function parseUuid(s: string): Uint8Array | null {
  const hex = s.trim().replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) return null;
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}
