import { MIGRATE_PARAMS } from '../../api/migration/index.js';
import { brokenMigrateRule, MIGRATE_RULES, type MigrateRule } from '../../api/migration/rules.js';
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

interface DaemonRule {
  readonly rule: MigrateRule;
  /** Checked when a migration begins (Begin, Prepare), or in every phase. */
  readonly phases: 'begin' | 'all';
  readonly error: () => SimError;
}

/** The shared rule that `subject` requires `object`. */
function requires(subject: MigrateRule['subject'], object: MigrateRule['object']): MigrateRule {
  const rule = MIGRATE_RULES.find(
    (r) => r.subject === subject && r.object === object && r.relation === 'requires',
  );
  if (!rule) throw new Error(`no shared migration rule: ${subject} requires ${object}`);
  return rule;
}

/**
 * The rules of libvirt's client (api/migration/rules.ts) that libvirtd's
 * QEMU driver applies again on its side, with its own words. The others
 * (live excludes offline, offline excludes post-copy...) are the client's
 * alone: a raw RPC client gets past them on a real daemon too.
 */
const DAEMON_RULES: readonly DaemonRule[] = [
  {
    rule: requires('VIR_MIGRATE_OFFLINE', 'VIR_MIGRATE_PERSIST_DEST'),
    phases: 'begin',
    error: () =>
      invalidOperation('offline migration must be specified with the persistent flag set'),
  },
  {
    rule: requires('VIR_MIGRATE_POSTCOPY_RESUME', 'VIR_MIGRATE_POSTCOPY'),
    phases: 'all',
    error: () =>
      argumentUnsupported('resuming failed post-copy migration requires post-copy to be enabled'),
  },
];

/** The shared rule `flags` break, if libvirtd checks it in `phase` too. */
function daemonRule(flags: number, phase: 'begin' | 'all'): SimError | null {
  for (const check of DAEMON_RULES) {
    const rule = check.rule;
    if (phase === 'all' && check.phases === 'begin') continue;
    // only this rule's two flags: the first broken rule among all is the client's business
    const mask = (rule.subject === 'postcopyPolicy' ? 0 : F[rule.subject]) | F[rule.object];
    if (brokenMigrateRule(flags & mask) === rule) return check.error();
  }
  return null;
}

/** The flag checks of every migration phase (`fn` names the driver function in the error). */
export function checkMigrateFlags(flags: number, fn: string): void {
  checkFlags(flags, ALL_MIGRATE_FLAGS, fn);
  if (flags & F.VIR_MIGRATE_TUNNELLED && !(flags & F.VIR_MIGRATE_PEER2PEER)) {
    throw invalidArg('tunnelled migration requires peer-to-peer migration (VIR_MIGRATE_PEER2PEER)');
  }
  const broken = daemonRule(flags, 'all');
  if (broken) throw broken;
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
  const broken = daemonRule(flags, 'begin');
  if (broken) throw broken;
  if (flags & F.VIR_MIGRATE_OFFLINE && flags & F.VIR_MIGRATE_TUNNELLED) {
    throw invalidOperation('tunnelled offline migration does not make sense');
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
