/** Client-side migration: options to plan, the flag rules, the protocol, and the Migration handle. */
export type { MigrationConnection, MigrationDomain, MigrationProcedures } from './contract.js';
export { MigrationError, type MigrationPhase, PostcopyFailedError } from './errors.js';
export { type JobStats, jobStats } from './job-stats.js';
export {
  Migration,
  type MigrationEvent,
  type MigrationProgress,
  type MigrationResult,
  type PostcopySwitchTiming,
} from './migration.js';
export {
  MIGRATE_PARAMS,
  MigrateFlags,
  type MigrateOptions,
  MigrateRuleError,
  MigrationPlan,
  type MigrationProtocolChoice,
  type PostcopyPolicy,
  type PostcopyTriggers,
} from './plan.js';
export {
  brokenMigrateRule,
  describeMigrateRule,
  MIGRATE_RULES,
  type MigrateFlagName,
  type MigrateRule,
} from './rules.js';
