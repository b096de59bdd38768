/**
 * `virtwire migrate`: a view over the library's Migration. The one code path
 * that runs a migration with a reporter (used by `migrate` and by `demo`):
 * progress, events, virsh's --timeout suspend, Ctrl-C, and the summary. The
 * post-copy switch (after the first pass, on a timeout) is the library's.
 */
import type { Connection, Domain } from '../api/handles.js';
import type { Migration, MigrationResult } from '../api/migration/index.js';
import { isNoDomain, isOperationAborted } from '../rpc/errors.js';
import { redactUri } from '../uri/index.js';
import type { CliContext, Output } from './context.js';
import { InterruptedError, remoteCause } from './errors.js';
import { migrationEventJson, migrationEventText } from './event-format.js';
import { type MigrateCliOptions, type MigratePlan, planMigration } from './migrate-options.js';
import { snapshotFromProgress } from './progress.js';
import { chooseReporter, progressInterval, type Reporter } from './reporter.js';
import { type MigrationOutcome, type MigrationSummary, statsFields } from './summary.js';

export type { MigrateCliOptions } from './migrate-options.js';

/**
 * Runs `virtwire migrate DOMAIN DESTURI` with -c's connection as the source:
 * the path both `migrate` and `demo` take. Resolves with the summary, or
 * rejects with the migration's error after the summary was reported.
 */
export async function migrateCommand(
  ctx: CliContext,
  domainName: string,
  desturi: string,
  cli: MigrateCliOptions,
): Promise<MigrationSummary> {
  const plan = planMigration(cli);
  const src = await ctx.open();
  let dest: Connection | null = null;
  try {
    const domain = await src.lookupDomain(domainName);
    if (plan.mode === 'managed') dest = await ctx.open(desturi);
    return await runMigration(ctx, { src, dest, domain, desturi, plan, cli, sourceUri: ctx.uri });
  } finally {
    await Promise.all([src.close(), dest?.close()]);
  }
}

export interface RunMigration {
  readonly src: Connection;
  /** The destination connection for managed migration, null for p2p/direct. */
  readonly dest: Connection | null;
  readonly domain: Domain;
  readonly desturi: string;
  /** The source URI as the user gave it (the connection's own URI is the daemon's name for it). */
  readonly sourceUri?: string;
  readonly plan: MigratePlan;
  readonly cli: MigrateCliOptions;
}

/** Starts the migration and reports it until it ends; see migrateCommand. */
export async function runMigration(ctx: CliContext, run: RunMigration): Promise<MigrationSummary> {
  const { src, domain, plan, cli } = run;
  const out = ctx.io.stdout;
  const reporter = chooseReporter(out, cli);
  const t0 = performance.now();
  const m = startMigration(run);
  reporter.start({
    domain: domain.name,
    // The URIs the user typed may hold a password: reports never show it.
    source: redactUri(run.sourceUri ?? src.uri),
    destination: redactUri(run.desturi),
    mode: plan.mode,
    description: plan.description,
    options: plan.options as Record<string, unknown>,
  });

  const stopProgress = new AbortController();
  const progress = showProgress(m, reporter, out, cli, t0, stopProgress.signal);
  const events = showEvents(m, reporter);
  const cancelTimeout = suspendOnTimeout(m, plan, reporter);
  const interrupts = new Interrupts(m, reporter);
  const offInterrupt = ctx.io.interrupt.on(() => interrupts.interrupt());

  let result: MigrationResult<Domain> | null = null;
  let failure: unknown = null;
  try {
    const r = await Promise.race([m.done, interrupts.left]);
    if (r === 'left') {
      failure = new InterruptedError(
        'interrupted: the migration goes on without the CLI (see: virtwire domjobinfo DOMAIN)',
      );
    } else result = r;
  } catch (err) {
    failure = err;
  } finally {
    offInterrupt();
    cancelTimeout();
    stopProgress.abort();
  }
  await progress;
  if (!failure) await events;

  const summary = result
    ? await completedSummary(m, result, t0)
    : failedSummary(m, failure, interrupts.aborting, t0);
  reporter.finish(summary);
  reporter.close();
  if (failure) throw failure;
  return summary;
}

function startMigration(run: RunMigration): Migration<Domain> {
  const { plan, domain } = run;
  if (plan.mode !== 'managed') return domain.migrateToURI(run.desturi, plan.migration);
  if (!run.dest) throw new Error('managed migration needs a destination connection');
  return domain.migrate(run.dest, plan.migration);
}

/** Job statistics at the reporter's pace until the migration ends or `signal` fires. */
async function showProgress(
  m: Migration<Domain>,
  reporter: Reporter,
  out: Output,
  cli: MigrateCliOptions,
  t0: number,
  signal: AbortSignal,
): Promise<void> {
  try {
    for await (const p of m.progress({ intervalMs: progressInterval(out, cli), signal })) {
      if ((p.memoryTotal ?? 0) === 0 && (p.memoryProcessed ?? 0) === 0) continue; // still setting up
      reporter.progress(snapshotFromProgress(p, performance.now() - t0));
    }
  } catch {
    // polling failed (connection lost...): the outcome is reported through `done`
  }
}

/** Both sides' events; the post-copy switch shows even without --verbose. */
async function showEvents(m: Migration<Domain>, reporter: Reporter): Promise<void> {
  for await (const e of m.events()) {
    const ev = e.event as { type: string; event?: string; detail?: string };
    const important = ev.type === 'lifecycle' && ev.detail === 'postcopy';
    reporter.event(migrationEventText(e), migrationEventJson(e), important);
  }
}

/**
 * virsh's --timeout without --timeout-postcopy: suspend the guest so that
 * pre-copy converges. Returns the function that cancels it.
 */
function suspendOnTimeout(m: Migration<Domain>, plan: MigratePlan, reporter: Reporter): () => void {
  if (plan.timeout?.action !== 'suspend') return () => {};
  const { seconds } = plan.timeout;
  const timer = setTimeout(() => {
    if (m.phase !== 'perform' || m.postcopyStarted) return;
    reporter.note(`timeout: ${seconds} s elapsed, suspending ${m.domain.name} to finish`, {
      action: 'suspend',
    });
    m.domain.suspend().catch((err: Error) => {
      reporter.note(`could not suspend: ${err.message}`, { action: 'suspend', error: err.message });
    });
  }, seconds * 1000);
  return () => clearTimeout(timer);
}

/**
 * Ctrl-C: the first aborts the job (in pre-copy) or says why it will not (in
 * post-copy, which cannot be rolled back); more of them leave the migration
 * running without the CLI.
 */
class Interrupts {
  aborting = false;
  readonly left: Promise<'left'>;
  private count = 0;
  private leave: () => void = () => {};

  constructor(
    private readonly m: Migration<Domain>,
    private readonly reporter: Reporter,
  ) {
    this.left = new Promise((resolve) => {
      this.leave = () => resolve('left');
    });
  }

  interrupt(): void {
    this.count++;
    if (this.m.postcopyStarted) {
      if (this.count === 1) {
        this.reporter.note(
          'interrupt: the migration is in post-copy, which cannot be rolled back; waiting for it to finish (Ctrl-C again to leave it running)',
          { action: 'none' },
        );
      } else this.leave();
      return;
    }
    if (this.aborting) {
      if (this.count > 2) this.leave();
      return;
    }
    this.aborting = true;
    this.reporter.note('interrupt: aborting the migration job', { action: 'abort' });
    this.m.abort().catch((err: Error) => {
      this.reporter.note(`could not abort: ${err.message}`, {
        action: 'abort',
        error: err.message,
      });
    });
  }
}

const stateText = (s: { state: string; reason: string }): string => `${s.state} (${s.reason})`;

/** What every summary has: the wall time and how post-copy came about. */
function summaryBase(
  m: Migration<Domain>,
  t0: number,
): Pick<MigrationSummary, 'domain' | 'wallTimeMs' | 'postcopy' | 'postcopySwitch'> {
  const sw = m.postcopySwitch;
  return {
    domain: m.domain.name,
    wallTimeMs: performance.now() - t0,
    postcopy: m.postcopyStarted,
    postcopySwitch:
      sw && sw.trigger !== 'manual'
        ? {
            trigger: sw.trigger,
            atMs: sw.requestedAt - t0,
            latencyMs: Number.isFinite(sw.repliedAt) ? sw.repliedAt - sw.requestedAt : undefined,
          }
        : undefined,
  };
}

async function completedSummary(
  m: Migration<Domain>,
  result: MigrationResult<Domain>,
  t0: number,
): Promise<MigrationSummary> {
  const base = summaryBase(m, t0);
  const [srcState, dstState] = await Promise.all([
    m.domain
      .state()
      .then(stateText)
      .catch((err: unknown) => (isNoDomain(err) ? 'gone (transient domain moved)' : undefined)),
    result.domain
      ?.state()
      .then(stateText)
      .catch(() => undefined),
  ]);
  return {
    ...base,
    result: 'completed',
    ...statsFields(result.stats),
    sourceState: srcState,
    destinationState: dstState,
  };
}

function failedSummary(
  m: Migration<Domain>,
  failure: unknown,
  aborting: boolean,
  t0: number,
): MigrationSummary {
  const outcome: MigrationOutcome =
    failure instanceof InterruptedError
      ? 'interrupted'
      : aborting && isOperationAborted(remoteCause(failure))
        ? 'aborted'
        : 'failed';
  const e = failure instanceof Error ? failure : new Error(String(failure));
  const remote = remoteCause(e);
  return {
    ...summaryBase(m, t0),
    result: outcome,
    error: remote ? `${remote.codeName}: ${e.message}` : e.message,
  };
}
