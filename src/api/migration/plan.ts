/**
 * Migration options in virsh's vocabulary, and the one place they become a
 * MigrationPlan: VIR_MIGRATE_* flags, checked typed parameters, the post-copy
 * triggers and the protocol. `migrate`, `migrateToURI` and the CLI all run
 * from a plan; nothing after it looks at the options again.
 */
import { VirDomainMigrateFlags as F } from '../../generated/api.js';
import type { RemoteTypedParam } from '../../generated/remote.js';
import { paramSchema, TypedParamError, type TypedValue, toTypedParams } from '../typed-params.js';
import { brokenMigrateRule, describeMigrateRule, type MigrateRule } from './rules.js';

/** Every VIR_MIGRATE_PARAM_* of libvirt 11.3.0, by field name, with its type. */
export const MIGRATE_PARAMS = paramSchema('VIR_MIGRATE_PARAM_');
/** Every VIR_MIGRATE_* flag, by name. */
export const MigrateFlags = F;

/** When to switch a post-copy migration from pre-copy to post-copy. */
export type PostcopyPolicy =
  /** only when `migration.startPostCopy()` is called */
  | 'manual'
  /** after the first pre-copy iteration, as `virsh migrate --postcopy-after-precopy` */
  | 'after-precopy'
  /** after this many complete pre-copy iterations */
  | { readonly afterIterations: number }
  /** this many milliseconds after the migration started, as `virsh --timeout N --timeout-postcopy` */
  | { readonly afterMs: number }
  /** whichever of the two comes first */
  | { readonly afterIterations: number; readonly afterMs: number };

/** Which managed protocol to use; see MigrateOptions.protocol. */
export type MigrationProtocolChoice = 'auto' | 'v3';

/** Migration options in virsh's vocabulary. Bandwidths are MiB/s, as in virsh and libvirt. */
export interface MigrateOptions {
  readonly live?: boolean;
  readonly peer2peer?: boolean;
  readonly tunnelled?: boolean;
  /** Keep the domain persistent on the destination (VIR_MIGRATE_PERSIST_DEST). */
  readonly persistent?: boolean;
  readonly undefineSource?: boolean;
  /** Leave the domain paused on the destination. */
  readonly paused?: boolean;
  readonly offline?: boolean;
  readonly compressed?: boolean;
  readonly autoConverge?: boolean;
  readonly postcopy?: boolean;
  readonly postcopyResume?: boolean;
  readonly abortOnError?: boolean;
  readonly unsafe?: boolean;
  readonly changeProtection?: boolean;
  readonly tls?: boolean;
  readonly zerocopy?: boolean;
  /** Use this many parallel connections (VIR_MIGRATE_PARALLEL + parallel.connections). */
  readonly parallel?: number;
  readonly bandwidth?: number;
  readonly postcopyBandwidth?: number;
  /** Where the migration stream goes (migrate_uri), e.g. `tcp://10.0.0.2`. */
  readonly migrateUri?: string;
  readonly destXml?: string;
  readonly persistentXml?: string;
  readonly destName?: string;
  readonly migrateDisks?: readonly string[];
  readonly listenAddress?: string;
  readonly graphicsUri?: string;
  readonly disksPort?: number;
  readonly disksUri?: string;
  readonly compression?: readonly string[];
  /** More parameters by field name (e.g. `{ 'compression.zstd.level': 3 }`); checked against MIGRATE_PARAMS. */
  readonly params?: Readonly<Record<string, TypedValue | readonly string[]>>;
  /** Raw VIR_MIGRATE_* bits OR'ed into the flags the options produce. */
  readonly flags?: number;
  /** When to switch to post-copy (requires `postcopy`). Default: manual. */
  readonly postcopyPolicy?: PostcopyPolicy;
  /**
   * Which managed protocol to use: `auto` (default) prefers v3 with extensible
   * parameters when both daemons support it, as libvirt does; `v3` forces the
   * older v3 procedures (only the options they can carry are allowed).
   */
  readonly protocol?: MigrationProtocolChoice;
}

/** A post-copy policy as its triggers: the switch comes at the first that fires; both null is manual. */
export interface PostcopyTriggers {
  /** Switch once this many pre-copy passes are complete. */
  readonly afterIterations: number | null;
  /** Switch this many milliseconds after the migration started. */
  readonly afterMs: number | null;
}

/** Options that break one of libvirt's rules on combining migration flags (see MIGRATE_RULES). */
export class MigrateRuleError extends TypedParamError {
  override name = 'MigrateRuleError';
  constructor(
    readonly rule: MigrateRule,
    message: string,
  ) {
    super(optionName(rule.subject), message);
  }
}

const FLAG_OPTIONS: ReadonlyArray<readonly [keyof MigrateOptions, number]> = [
  ['live', F.VIR_MIGRATE_LIVE],
  ['peer2peer', F.VIR_MIGRATE_PEER2PEER],
  ['tunnelled', F.VIR_MIGRATE_TUNNELLED],
  ['persistent', F.VIR_MIGRATE_PERSIST_DEST],
  ['undefineSource', F.VIR_MIGRATE_UNDEFINE_SOURCE],
  ['paused', F.VIR_MIGRATE_PAUSED],
  ['offline', F.VIR_MIGRATE_OFFLINE],
  ['compressed', F.VIR_MIGRATE_COMPRESSED],
  ['autoConverge', F.VIR_MIGRATE_AUTO_CONVERGE],
  ['postcopy', F.VIR_MIGRATE_POSTCOPY],
  ['postcopyResume', F.VIR_MIGRATE_POSTCOPY_RESUME],
  ['abortOnError', F.VIR_MIGRATE_ABORT_ON_ERROR],
  ['unsafe', F.VIR_MIGRATE_UNSAFE],
  ['changeProtection', F.VIR_MIGRATE_CHANGE_PROTECTION],
  ['tls', F.VIR_MIGRATE_TLS],
  ['zerocopy', F.VIR_MIGRATE_ZEROCOPY],
];

/** A flag by the option that sets it (`tunnelled`), else by libvirt's name. */
function optionName(flag: MigrateRule['subject']): string {
  if (flag === 'postcopyPolicy') return flag;
  const bit = F[flag];
  return FLAG_OPTIONS.find(([, b]) => b === bit)?.[0] ?? flag;
}

/** Options that set one typed parameter each, with the parameter's field name. */
const PARAM_OPTIONS: ReadonlyArray<readonly [keyof MigrateOptions, string]> = [
  ['bandwidth', 'bandwidth'],
  ['postcopyBandwidth', 'bandwidth.postcopy'],
  ['migrateUri', 'migrate_uri'],
  ['destXml', 'destination_xml'],
  ['persistentXml', 'persistent_xml'],
  ['destName', 'destination_name'],
  ['migrateDisks', 'migrate_disks'],
  ['listenAddress', 'listen_address'],
  ['graphicsUri', 'graphics_uri'],
  ['disksPort', 'disks_port'],
  ['disksUri', 'disks_uri'],
  ['compression', 'compression'],
];

const KNOWN_OPTIONS = new Set<string>([
  ...FLAG_OPTIONS.map(([k]) => k),
  ...PARAM_OPTIONS.map(([k]) => k),
  'parallel',
  'params',
  'flags',
  'postcopyPolicy',
  'protocol',
]);

const ALL_FLAGS = Object.values(F).reduce((a, b) => a | b, 0);

/**
 * What a migration will do, computed once from MigrateOptions and checked
 * before anything is sent: the VIR_MIGRATE_* flags, the typed parameters, when
 * to switch to post-copy, and which protocol to use. Build one with
 * `MigrationPlan.from(options)`; `migrate` and `migrateToURI` take either.
 */
export class MigrationPlan {
  private constructor(
    readonly flags: number,
    readonly params: readonly RemoteTypedParam[],
    readonly postcopyPolicy: PostcopyTriggers,
    readonly protocol: MigrationProtocolChoice,
  ) {
    Object.freeze(this.params);
    Object.freeze(this.postcopyPolicy);
    Object.freeze(this);
  }

  /**
   * Checks options and turns them into a plan (a plan is returned as it is).
   * Throws TypedParamError naming the option for anything wrong, and its
   * subclass MigrateRuleError for flags that cannot be combined.
   */
  static from(options: MigrateOptions | MigrationPlan = {}): MigrationPlan {
    if (options instanceof MigrationPlan) return options;
    for (const k of Object.keys(options)) {
      if (!KNOWN_OPTIONS.has(k))
        throw new TypedParamError(k, `unknown migration option ${JSON.stringify(k)}`);
    }
    const { flags, params } = flagsAndParams(options);
    const protocol = options.protocol ?? 'auto';
    if (protocol !== 'auto' && protocol !== 'v3') {
      throw new TypedParamError(
        'protocol',
        `unknown migration protocol ${JSON.stringify(protocol)} (auto or v3)`,
      );
    }
    const postcopyPolicy = postcopyTriggers(options.postcopyPolicy);
    const automatic = postcopyPolicy.afterIterations !== null || postcopyPolicy.afterMs !== null;
    const rule = brokenMigrateRule(flags, automatic);
    if (rule) throw new MigrateRuleError(rule, describeMigrateRule(rule, optionName));
    return new MigrationPlan(flags, params, postcopyPolicy, protocol);
  }

  /** Whether the plan's flags include `flag` (a MigrateFlags value). */
  has(flag: number): boolean {
    return (this.flags & flag) !== 0;
  }
}

function flagsAndParams(opts: MigrateOptions): { flags: number; params: RemoteTypedParam[] } {
  let flags = 0;
  for (const [k, bit] of FLAG_OPTIONS) {
    const v = opts[k];
    if (v === undefined) continue;
    if (typeof v !== 'boolean')
      throw new TypedParamError(k, `migration option ${k} must be a boolean, got ${typeof v}`);
    if (v) flags |= bit;
  }
  if (opts.flags !== undefined) {
    if (!Number.isInteger(opts.flags) || opts.flags < 0 || (opts.flags & ~ALL_FLAGS) !== 0) {
      throw new TypedParamError(
        'flags',
        `flags 0x${Number(opts.flags).toString(16)} contain bits that are not VIR_MIGRATE_* flags`,
      );
    }
    flags |= opts.flags;
  }
  const values: Record<string, TypedValue | readonly string[] | undefined> = {
    ...(opts.params ?? {}),
  };
  const set = (field: string, v: TypedValue | readonly string[] | undefined): void => {
    if (v === undefined) return;
    if (field in values)
      throw new TypedParamError(field, `${field} is given both as an option and in params`);
    values[field] = v;
  };
  if (opts.parallel !== undefined) {
    flags |= F.VIR_MIGRATE_PARALLEL;
    set('parallel.connections', opts.parallel);
  }
  for (const [option, field] of PARAM_OPTIONS) {
    set(field, opts[option] as TypedValue | readonly string[] | undefined);
  }
  return { flags, params: toTypedParams(values, MIGRATE_PARAMS, 'migration parameter') };
}

const MANUAL: PostcopyTriggers = { afterIterations: null, afterMs: null };

function postcopyTriggers(policy: PostcopyPolicy | undefined): PostcopyTriggers {
  if (policy === undefined || policy === 'manual') return MANUAL;
  if (policy === 'after-precopy') return { afterIterations: 1, afterMs: null };
  if (typeof policy !== 'object' || policy === null) {
    throw new TypedParamError('postcopyPolicy', `unknown postcopyPolicy ${JSON.stringify(policy)}`);
  }
  const count = (key: 'afterIterations' | 'afterMs', min: number): number | null => {
    if (!(key in policy)) return null;
    const n = (policy as Record<string, unknown>)[key];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min) {
      throw new TypedParamError(
        'postcopyPolicy',
        `postcopyPolicy.${key} needs a ${min ? 'positive' : 'non-negative'} integer, got ${String(n)}`,
      );
    }
    return n;
  };
  const triggers = { afterIterations: count('afterIterations', 1), afterMs: count('afterMs', 0) };
  if (triggers.afterIterations === null && triggers.afterMs === null) {
    throw new TypedParamError(
      'postcopyPolicy',
      'postcopyPolicy needs afterIterations, afterMs or both',
    );
  }
  return triggers;
}
