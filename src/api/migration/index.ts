/**
 * Client-side migration: options to plan, the flag rules, the protocol, the
 * Migration handle, and its timeline with the views drawn from it.
 */
export { type ChartSource, timelineChart } from './chart/chart.js';
export { timelineHtml, timelineSvg } from './chart/page.js';
export type { MigrationConnection, MigrationDomain, MigrationProcedures } from './contract.js';
export {
  MigrationError,
  type MigrationPhase,
  PostcopyFailedError,
  PostcopyResumeLostError,
} from './errors.js';
export {
  RATE_WINDOW_MS,
  type RawSample,
  type SampleFigures,
  sampleFigures,
  type TransferPhase,
} from './figures.js';
export { type LinkLoss, MigrationInterruptedError } from './interruption.js';
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
export type {
  AbortRecord,
  EndRecord,
  EventRecord,
  FinalStats,
  IterationRecord,
  JobCompletedRecord,
  LifecycleRecord,
  MigrationOutcome,
  NoteRecord,
  ProgressRecord,
  SideState,
  StepRecord,
  SwitchRecord,
  SwitchTrigger,
  TimelineJson,
  TimelineMeta,
  TimelineRecord,
} from './records.js';
export {
  brokenMigrateRule,
  describeMigrateRule,
  MIGRATE_RULES,
  type MigrateFlagName,
  type MigrateRule,
} from './rules.js';
export {
  type MigrationSummary,
  sideText,
  summarize,
  summaryHead,
  summaryRows,
  switchText,
} from './summary.js';
export {
  checkMeta as checkTimelineMeta,
  MigrationTimeline,
  TimelineFormatError,
  type TimelineLimits,
  timelineFromJson,
  timelineFromRecords,
} from './timeline.js';
