/**
 * virsh's `migrate` options mapped onto the library's MigrateOptions and
 * checked into a MigrationPlan before anything is sent. The flag rules are
 * the library's (brokenMigrateRule); only how they are worded (virsh's option
 * names) and virsh's own option rules (--timeout, --p2p/--direct...) live here.
 */
import { readFileSync } from 'node:fs';
import {
  describeMigrateRule,
  type MigrateFlagName,
  MigrateFlags,
  type MigrateOptions,
  type MigrateRule,
  MigrateRuleError,
  MigrationPlan,
  type PostcopyPolicy,
} from '../api/migration/index.js';
import { chartFormat } from './chart-command.js';
import { UsageError } from './errors.js';

/** The options of `virtwire migrate`, as commander hands them over (virsh's names, camel-cased). */
export interface MigrateCliOptions {
  readonly live?: boolean;
  readonly offline?: boolean;
  readonly p2p?: boolean;
  readonly direct?: boolean;
  readonly tunnelled?: boolean;
  readonly persistent?: boolean;
  readonly undefinesource?: boolean;
  readonly suspend?: boolean;
  readonly copyStorageAll?: boolean;
  readonly copyStorageInc?: boolean;
  readonly migrateDisks?: string;
  readonly changeProtection?: boolean;
  readonly unsafe?: boolean;
  readonly compressed?: boolean;
  readonly compMethods?: string;
  readonly autoConverge?: boolean;
  readonly abortOnError?: boolean;
  readonly postcopy?: boolean;
  readonly postcopyAfterPrecopy?: boolean;
  readonly postcopyResume?: boolean;
  readonly postcopyBandwidth?: number;
  readonly bandwidth?: number;
  readonly migrateuri?: string;
  readonly listenAddress?: string;
  readonly dname?: string;
  readonly xml?: string;
  readonly persistentXml?: string;
  readonly timeout?: number;
  readonly timeoutSuspend?: boolean;
  readonly timeoutPostcopy?: boolean;
  readonly parallel?: boolean;
  readonly parallelConnections?: number;
  readonly tls?: boolean;
  readonly zerocopy?: boolean;
  readonly json?: boolean;
  readonly verbose?: boolean;
  /** Write the timeline's chart here when the migration ends (.svg or .html). */
  readonly chart?: string;
}

export type MigrationMode = 'managed' | 'p2p' | 'direct';

/** virsh's --timeout: after `seconds` of live migration, suspend the guest or switch to post-copy. */
export interface MigrateTimeout {
  readonly seconds: number;
  readonly action: 'suspend' | 'postcopy';
}

export interface MigratePlan {
  readonly mode: MigrationMode;
  /** The options in the library's vocabulary, as the --json start record shows them. */
  readonly options: MigrateOptions;
  /** The library's plan of those options: what the migration runs with. */
  readonly migration: MigrationPlan;
  /** The post-copy action is the library's (options.postcopyPolicy); the CLI only suspends. */
  readonly timeout: MigrateTimeout | null;
  /** For the start line: `live, post-copy after the first pass, ...`. */
  readonly description: string;
}

function need(cond: unknown, message: string): void {
  if (!cond) throw new UsageError(message);
}

/**
 * virsh's migrate options as a checked plan: virsh's own option rules first,
 * then the library's flag rules worded with virsh's names, so that a bad
 * combination is refused before anything is sent. `readFile` reads the files
 * --xml and --persistent-xml name.
 */
export function planMigration(
  o: MigrateCliOptions,
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): MigratePlan {
  checkVirshRules(o);
  const timeout: MigrateTimeout | null =
    o.timeout === undefined
      ? null
      : { seconds: o.timeout, action: o.timeoutPostcopy ? 'postcopy' : 'suspend' };
  const options = migrateOptions(o, postcopyPolicy(o, timeout), readFile);
  let migration: MigrationPlan;
  try {
    migration = MigrationPlan.from(options);
  } catch (err) {
    if (err instanceof MigrateRuleError) {
      throw new UsageError(`migrate: ${describeMigrateRule(err.rule, (f) => optionName(o, f))}`);
    }
    throw err;
  }
  return {
    mode: o.p2p ? 'p2p' : o.direct ? 'direct' : 'managed',
    options,
    migration,
    timeout,
    description: describe(o, timeout),
  };
}

/** The rules about virsh's options themselves, which no VIR_MIGRATE_* flag expresses. */
function checkVirshRules(o: MigrateCliOptions): void {
  if (o.chart !== undefined) chartFormat(o.chart);
  need(!(o.p2p && o.direct), 'migrate: --p2p and --direct are mutually exclusive');
  need(
    o.parallelConnections === undefined || o.parallel,
    'migrate: --parallel-connections requires --parallel',
  );
  need(
    !(o.timeoutSuspend && o.timeoutPostcopy),
    'migrate: --timeout-suspend and --timeout-postcopy are mutually exclusive',
  );
  need(
    o.timeout !== undefined || !(o.timeoutSuspend || o.timeoutPostcopy),
    `migrate: ${o.timeoutPostcopy ? '--timeout-postcopy' : '--timeout-suspend'} requires --timeout`,
  );
  if (o.timeout !== undefined) {
    need(
      Number.isInteger(o.timeout) && o.timeout > 0,
      'migrate: --timeout must be a positive number of seconds',
    );
    need(o.live, 'migrate: --timeout applies to live migration only (add --live)');
  }
}

/** Each VIR_MIGRATE_* flag by the virsh option that sets it. */
const VIRSH_FLAG_OPTIONS: Partial<Record<MigrateFlagName, string>> = {
  VIR_MIGRATE_LIVE: '--live',
  VIR_MIGRATE_OFFLINE: '--offline',
  VIR_MIGRATE_PEER2PEER: '--p2p',
  VIR_MIGRATE_TUNNELLED: '--tunnelled',
  VIR_MIGRATE_PERSIST_DEST: '--persistent',
  VIR_MIGRATE_POSTCOPY: '--postcopy',
  VIR_MIGRATE_POSTCOPY_RESUME: '--postcopy-resume',
  VIR_MIGRATE_NON_SHARED_DISK: '--copy-storage-all',
  VIR_MIGRATE_NON_SHARED_INC: '--copy-storage-inc',
};

/** A flag of a broken rule by the option the user typed. */
function optionName(o: MigrateCliOptions, flag: MigrateRule['subject']): string {
  if (flag === 'postcopyPolicy')
    return o.postcopyAfterPrecopy ? '--postcopy-after-precopy' : '--timeout-postcopy';
  return VIRSH_FLAG_OPTIONS[flag] ?? flag;
}

/** The library switches to post-copy: after the first pass, on the timeout, or whichever comes first. */
function postcopyPolicy(
  o: MigrateCliOptions,
  timeout: MigrateTimeout | null,
): PostcopyPolicy | undefined {
  const afterMs = timeout?.action === 'postcopy' ? timeout.seconds * 1000 : undefined;
  if (o.postcopyAfterPrecopy)
    return afterMs === undefined ? 'after-precopy' : { afterIterations: 1, afterMs };
  return afterMs === undefined ? undefined : { afterMs };
}

function migrateOptions(
  o: MigrateCliOptions,
  policy: PostcopyPolicy | undefined,
  readFile: (path: string) => string,
): MigrateOptions {
  let flags = 0;
  if (o.copyStorageAll) flags |= MigrateFlags.VIR_MIGRATE_NON_SHARED_DISK;
  if (o.copyStorageInc) flags |= MigrateFlags.VIR_MIGRATE_NON_SHARED_INC;
  if (o.parallel && o.parallelConnections === undefined) flags |= MigrateFlags.VIR_MIGRATE_PARALLEL;

  const list = (s: string | undefined): string[] | undefined =>
    s === undefined
      ? undefined
      : s
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean);
  const xml = (path: string | undefined, option: string): string | undefined =>
    path === undefined ? undefined : readXml(readFile, path, option);
  const entries: Array<[keyof MigrateOptions, unknown]> = [
    ['live', o.live],
    ['offline', o.offline],
    ['peer2peer', o.p2p],
    ['tunnelled', o.tunnelled],
    ['persistent', o.persistent],
    ['undefineSource', o.undefinesource],
    ['paused', o.suspend],
    ['changeProtection', o.changeProtection],
    ['unsafe', o.unsafe],
    ['compressed', o.compressed],
    ['compression', list(o.compMethods)],
    ['autoConverge', o.autoConverge],
    ['abortOnError', o.abortOnError],
    ['postcopy', o.postcopy],
    ['postcopyResume', o.postcopyResume],
    ['postcopyBandwidth', o.postcopyBandwidth],
    ['bandwidth', o.bandwidth],
    ['migrateUri', o.migrateuri],
    ['listenAddress', o.listenAddress],
    ['destName', o.dname],
    ['destXml', xml(o.xml, '--xml')],
    ['persistentXml', xml(o.persistentXml, '--persistent-xml')],
    ['migrateDisks', list(o.migrateDisks)],
    ['parallel', o.parallelConnections],
    ['tls', o.tls],
    ['zerocopy', o.zerocopy],
    ['postcopyPolicy', policy],
    ['flags', flags || undefined],
  ];
  const options: Record<string, unknown> = {};
  for (const [k, v] of entries) if (v !== undefined && v !== false) options[k] = v;
  return options as MigrateOptions;
}

function readXml(readFile: (p: string) => string, path: string, option: string): string {
  try {
    return readFile(path);
  } catch (err) {
    throw new UsageError(`migrate: ${option}: cannot read ${path}: ${(err as Error).message}`);
  }
}

function describe(o: MigrateCliOptions, timeout: MigrateTimeout | null): string {
  const words: string[] = [];
  words.push(o.offline ? 'offline' : o.live ? 'live' : 'paused during transfer');
  if (o.p2p) words.push(o.tunnelled ? 'peer-to-peer tunnelled' : 'peer-to-peer');
  if (o.direct) words.push('direct');
  if (o.postcopyResume) words.push('resuming post-copy');
  else if (o.postcopyAfterPrecopy) words.push('post-copy after the first pass');
  else if (o.postcopy) words.push('post-copy allowed');
  if (timeout)
    words.push(
      `${timeout.action === 'postcopy' ? 'post-copy' : 'suspend'} after ${timeout.seconds} s`,
    );
  if (o.bandwidth !== undefined) words.push(`${o.bandwidth} MiB/s`);
  return words.join(', ');
}
