/**
 * libvirt's rules for combining VIR_MIGRATE_* flags, written once for every
 * caller: the API (MigrationPlan), the CLI (usage errors in virsh's option
 * names) and the simulator (libvirt's INVALID_ARG errors). Each caller words
 * a broken rule in its own vocabulary; the rules themselves live only here.
 */
import { VirDomainMigrateFlags as F } from '../../generated/api.js';

/** A VIR_MIGRATE_* flag's name without its prefix, e.g. `LIVE`, `POSTCOPY`. */
export type MigrateFlagName = keyof typeof F;

/** One rule on combining migration flags (and the automatic post-copy switch, which is no flag). */
export interface MigrateRule {
  /** The flag the rule is about, or `postcopyPolicy` for an automatic switch to post-copy. */
  readonly subject: MigrateFlagName | 'postcopyPolicy';
  /** `requires`: the subject needs `object` set; `excludes`: the two cannot be combined. */
  readonly relation: 'requires' | 'excludes';
  readonly object: MigrateFlagName;
}

/**
 * In the order they are checked: with several broken, the first is reported
 * (live/offline comes before offline's own needs, so that `--live --offline`
 * is told about the clash rather than about --persistent).
 */
export const MIGRATE_RULES: readonly MigrateRule[] = [
  { subject: 'VIR_MIGRATE_LIVE', relation: 'excludes', object: 'VIR_MIGRATE_OFFLINE' },
  { subject: 'VIR_MIGRATE_TUNNELLED', relation: 'requires', object: 'VIR_MIGRATE_PEER2PEER' },
  { subject: 'VIR_MIGRATE_POSTCOPY_RESUME', relation: 'requires', object: 'VIR_MIGRATE_POSTCOPY' },
  { subject: 'postcopyPolicy', relation: 'requires', object: 'VIR_MIGRATE_POSTCOPY' },
  {
    subject: 'VIR_MIGRATE_NON_SHARED_DISK',
    relation: 'excludes',
    object: 'VIR_MIGRATE_NON_SHARED_INC',
  },
  { subject: 'VIR_MIGRATE_OFFLINE', relation: 'excludes', object: 'VIR_MIGRATE_POSTCOPY' },
  { subject: 'VIR_MIGRATE_OFFLINE', relation: 'requires', object: 'VIR_MIGRATE_PERSIST_DEST' },
];

/**
 * The first rule that `flags` break, or null when they break none.
 * `automaticPostcopy`: a post-copy policy other than manual was asked for
 * (the library's own switch, which needs VIR_MIGRATE_POSTCOPY like a flag would).
 */
export function brokenMigrateRule(flags: number, automaticPostcopy = false): MigrateRule | null {
  const has = (name: MigrateRule['subject']): boolean =>
    name === 'postcopyPolicy' ? automaticPostcopy : (flags & F[name]) !== 0;
  for (const rule of MIGRATE_RULES) {
    if (!has(rule.subject)) continue;
    if (rule.relation === 'requires' ? !has(rule.object) : has(rule.object)) return rule;
  }
  return null;
}

/** A broken rule as a sentence, with the flags named by `name` (option names, command-line flags...). */
export function describeMigrateRule(
  rule: MigrateRule,
  name: (flag: MigrateRule['subject']) => string,
): string {
  return rule.relation === 'requires'
    ? `${name(rule.subject)} requires ${name(rule.object)}`
    : `${name(rule.subject)} and ${name(rule.object)} are mutually exclusive`;
}
