import { MIGRATE_PARAMS } from '../../api/migration/index.js';
import { VirDomainMigrateFlags as F } from '../../generated/api.js';
import type { RemoteTypedParam } from '../../generated/remote.js';
import {
  checkFlags,
  invalidArg,
  invalidOperation,
  libvirtError,
  type SimError,
} from '../errors.js';
import type { SimDomain } from '../host.js';

// What the simulated daemon refuses before any migration phase runs, and the
// errors several phases report alike.

const ALL_MIGRATE_FLAGS = Object.values(F).reduce((a, b) => a | b, 0);

/** libvirt's own flag rules for every migration phase (`fn` names the driver function in the error). */
export function checkMigrateFlags(flags: number, fn: string): void {
  checkFlags(flags, ALL_MIGRATE_FLAGS, fn);
  if (flags & F.VIR_MIGRATE_TUNNELLED && !(flags & F.VIR_MIGRATE_PEER2PEER)) {
    throw invalidArg('tunnelled migration requires peer-to-peer migration (VIR_MIGRATE_PEER2PEER)');
  }
  if (flags & F.VIR_MIGRATE_POSTCOPY_RESUME && !(flags & F.VIR_MIGRATE_POSTCOPY)) {
    throw invalidArg('resuming post-copy migration requires VIR_MIGRATE_POSTCOPY');
  }
}

/**
 * The QEMU driver's checks when a migration begins (Begin on the source,
 * Prepare on the destination), in its words; Prepare checks the offline
 * rules first.
 */
export function checkBeginFlags(flags: number, phase: 'begin' | 'prepare' = 'begin'): void {
  if (phase === 'prepare') checkOffline(flags);
  if (
    flags & F.VIR_MIGRATE_POSTCOPY &&
    (!(flags & F.VIR_MIGRATE_LIVE) || flags & F.VIR_MIGRATE_PAUSED)
  ) {
    throw argumentUnsupported(
      'post-copy migration is not supported with non-live or paused migration',
    );
  }
  if (flags & F.VIR_MIGRATE_POSTCOPY && flags & F.VIR_MIGRATE_TUNNELLED) {
    throw argumentUnsupported('post-copy is not supported with tunnelled migration');
  }
  checkOffline(flags);
}

function checkOffline(flags: number): void {
  if (flags & F.VIR_MIGRATE_OFFLINE) {
    if (!(flags & F.VIR_MIGRATE_PERSIST_DEST)) {
      throw invalidOperation('offline migration must be specified with the persistent flag set');
    }
    if (flags & F.VIR_MIGRATE_TUNNELLED) {
      throw invalidOperation('tunnelled offline migration does not make sense');
    }
  }
}

const argumentUnsupported = (detail: string): SimError =>
  libvirtError('VIR_ERR_ARGUMENT_UNSUPPORTED', 'VIR_FROM_QEMU', detail);

/** libvirt refuses parameters it does not know (the client checks too; a raw call may not). */
export function checkParams(params: readonly RemoteTypedParam[]): void {
  for (const p of params) {
    const s = MIGRATE_PARAMS.get(p.field);
    if (!s) {
      throw libvirtError(
        'VIR_ERR_ARGUMENT_UNSUPPORTED',
        'VIR_FROM_QEMU',
        `parameter '${p.field}' not supported`,
      );
    }
  }
}

/** A whole-number parameter, whichever integer type the client sent it as. */
export function ulong(params: readonly RemoteTypedParam[], field: string): bigint | undefined {
  for (const p of params) {
    if (p.field !== field) continue;
    const v = p.value;
    if (v.type === 4) return v.ul;
    if (v.type === 3) return v.l;
    if (v.type === 2) return BigInt(v.ui);
    if (v.type === 1) return BigInt(v.i);
  }
  return undefined;
}

export const anotherJob = (d: SimDomain): SimError =>
  invalidOperation(`another migration job is already running for domain '${d.name}'`);

export const aborted = (): SimError =>
  libvirtError(
    'VIR_ERR_OPERATION_ABORTED',
    'VIR_FROM_QEMU',
    "job 'migration out' canceled by client",
  );
