/**
 * `virtwire migrate`: a view over the library's Migration and its timeline.
 * The one code path that runs a migration with a reporter (used by `migrate`
 * and by `demo`): the timeline's records shown as they come, virsh's
 * --timeout suspend, Ctrl-C/SIGTERM/SIGHUP, the summary and the chart. The
 * post-copy switch (after the first pass, on a timeout) is the library's.
 */
import type { Connection, Domain } from '../api/handles.js';
import {
  type Migration,
  type MigrationResult,
  type MigrationSummary,
  summarize,
} from '../api/migration/index.js';
import { redactUri } from '../uri/index.js';
import { writeChart } from './chart-command.js';
import type { CliContext } from './context.js';
import { CommandError, InterruptedError, type TerminationSignal } from './errors.js';
import { type MigrateCliOptions, type MigratePlan, planMigration } from './migrate-options.js';
import { chooseReporter, progressInterval, type Reporter } from './reporter.js';

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

/** Starts the migration and reports its timeline until it ends; see migrateCommand. */
export async function runMigration(ctx: CliContext, run: RunMigration): Promise<MigrationSummary> {
  const { src, domain, plan, cli } = run;
  const reporter = chooseReporter(ctx.io, cli);
  let watcher: Connection | null = null;
  try {
    const m = startMigration(run).sampleEvery(progressInterval(ctx.io, cli));
    // Peer-to-peer: the source daemon drives the destination, but where the client can reach it
    // too, its events and the domain's final state there are worth having (best effort).
    if (plan.mode === 'p2p') {
      watcher = await openQuietly(ctx, run.desturi);
      if (watcher) m.observeDestination(watcher);
    }
    reporter.start({
      domain: domain.name,
      // The URIs the user typed may hold a password: reports never show it.
      source: redactUri(run.sourceUri ?? src.uri),
      destination: redactUri(run.desturi),
      mode: plan.mode,
      description: plan.description,
      options: plan.options as Record<string, unknown>,
      meta: m.timeline.meta,
    });
    // The records so far, then every new one: nothing is appended in between (no await).
    for (const r of m.timeline.records) reporter.record(r);
    const offTimeline = m.timeline.subscribe((r) => reporter.record(r));
    const cancelTimeout = suspendOnTimeout(m, plan);
    const interrupts = new Interrupts(m, plan.mode);
    const offInterrupt = ctx.io.interrupt.on((signal) => interrupts.signal(signal));

    let failure: unknown = null;
    try {
      const r: MigrationResult<Domain> | TerminationSignal = await Promise.race([
        m.done,
        interrupts.left,
      ]);
      if (typeof r === 'string') {
        await leave(ctx, run, m);
        failure = new InterruptedError(
          `${r === 'SIGINT' ? 'interrupted' : `terminated (${r})`}: left the migration of ${domain.name}; the summary shows both hosts' states after leaving`,
          r,
        );
      }
    } catch (err) {
      failure = err;
    } finally {
      offInterrupt();
      cancelTimeout();
      offTimeline();
    }

    const summary = summarize(m.timeline);
    const chartError = cli.chart ? saveChart(m, cli.chart, reporter) : null;
    reporter.finish(summary);
    if (failure) throw failure;
    if (chartError) throw chartError;
    return summary;
  } finally {
    reporter.close();
    await watcher?.close();
  }
}

/** A connection when one can be had within a few seconds, else null. */
async function openQuietly(ctx: CliContext, uri: string): Promise<Connection | null> {
  const c = ctx.open(uri);
  const timeout = new Promise<null>((r) => setTimeout(() => r(null), 5000).unref());
  const got = await Promise.race([c.catch(() => null), timeout]);
  if (!got)
    void c.then(
      (late) => late.close(),
      () => {},
    );
  return got;
}

function startMigration(run: RunMigration): Migration<Domain> {
  const { plan, domain } = run;
  if (plan.mode !== 'managed') return domain.migrateToURI(run.desturi, plan.migration);
  if (!run.dest) throw new Error('managed migration needs a destination connection');
  return domain.migrate(run.dest, plan.migration);
}

/** Writes --chart; a failure is reported and returned, never hiding the migration's outcome. */
function saveChart(m: Migration<Domain>, path: string, reporter: Reporter): Error | null {
  try {
    writeChart(m.timeline, path);
    reporter.say(`chart written to ${path}`, { action: 'chart', path });
    return null;
  } catch (err) {
    const e = new CommandError(`could not write the chart ${path}: ${(err as Error).message}`, {
      cause: err,
    });
    reporter.say(e.message, { action: 'chart', path, error: (err as Error).message });
    return e;
  }
}

/**
 * Leaves the migration: stops following it, closes the connections it runs
 * on (libvirt reacts to that: see consequence()), and queries both sides
 * again through fresh connections, so that the summary shows what libvirt
 * made of the departure rather than what was true a moment before.
 */
async function leave(ctx: CliContext, run: RunMigration, m: Migration<Domain>): Promise<void> {
  const fresh: Connection[] = [];
  try {
    await m.detach({
      release: async () => {
        await Promise.all([run.src.close(), run.dest?.close()]);
        // libvirtd handles a client's departure on its event loop: give it a moment
        await new Promise((r) => setTimeout(r, 300));
        const open = async (uri: string): Promise<Connection | null> => {
          const c = await openQuietly(ctx, uri);
          if (c) fresh.push(c);
          return c;
        };
        const [source, destination] = await Promise.all([
          open(run.sourceUri ?? run.src.uri),
          run.plan.mode === 'direct' ? Promise.resolve(null) : open(run.desturi),
        ]);
        return { source, destination };
      },
    });
  } finally {
    await Promise.all(fresh.map((c) => c.close()));
  }
}

/**
 * virsh's --timeout without --timeout-postcopy: suspend the guest so that
 * pre-copy converges. Returns the function that cancels it.
 */
function suspendOnTimeout(m: Migration<Domain>, plan: MigratePlan): () => void {
  if (plan.timeout?.action !== 'suspend') return () => {};
  const { seconds } = plan.timeout;
  const timer = setTimeout(() => {
    if (m.phase !== 'perform' || m.postcopyStarted) return;
    m.timeline.note(
      `timeout: ${seconds} s elapsed, suspending ${m.domain.name} to finish`,
      'suspend',
    );
    m.domain.suspend().catch((err: Error) => {
      m.timeline.note(`could not suspend: ${err.message}`, 'suspend');
    });
  }, seconds * 1000);
  return () => clearTimeout(timer);
}

/**
 * What libvirt does when this client goes away, for the warning given before
 * leaving (as seen with libvirt 9.0: in post-copy the source is marked
 * failed at once, QEMU goes on copying, and libvirt completes the migration
 * by itself once the copy is done).
 */
function consequence(mode: MigratePlan['mode'], postcopy: boolean): string {
  if (mode !== 'managed')
    return 'the source daemon drives this migration and goes on without this client';
  return postcopy
    ? 'libvirt marks the source paused (post-copy failed) as soon as this client disconnects; ' +
        'QEMU goes on copying the rest to the destination, where the guest keeps running, and ' +
        'libvirt completes the migration when the copy is done'
    : 'libvirt cancels the migration when this client disconnects; the guest stays on the source';
}

/**
 * Ctrl-C: the first aborts the job (in pre-copy) or says why it will not (in
 * post-copy, which cannot be rolled back) and what leaving would do; more of
 * them leave. SIGTERM and SIGHUP leave at once, after the same warning.
 */
class Interrupts {
  readonly left: Promise<TerminationSignal>;
  private count = 0;
  private aborting = false;
  private leave: (s: TerminationSignal) => void = () => {};

  constructor(
    private readonly m: Migration<Domain>,
    private readonly mode: MigratePlan['mode'],
  ) {
    this.left = new Promise((resolve) => {
      this.leave = resolve;
    });
  }

  private note(text: string, action: string): void {
    this.m.timeline.note(text, action);
  }

  signal(signal: TerminationSignal): void {
    const what = consequence(this.mode, this.m.postcopyStarted);
    if (signal !== 'SIGINT') {
      this.note(`${signal}: leaving the migration: ${what}`, 'leave');
      this.leave(signal);
      return;
    }
    this.count++;
    if (this.m.postcopyStarted) {
      if (this.count === 1) {
        this.note(
          `interrupt: the migration is in post-copy, which cannot be rolled back; waiting for it to finish. Ctrl-C again to leave it: ${what}`,
          'none',
        );
      } else {
        this.note(`interrupt: leaving the migration: ${what}`, 'leave');
        this.leave('SIGINT');
      }
      return;
    }
    if (this.aborting) {
      if (this.count > 2) {
        this.note(`interrupt: leaving without waiting for the abort: ${what}`, 'leave');
        this.leave('SIGINT');
      }
      return;
    }
    this.aborting = true;
    this.note('interrupt: aborting the migration job', 'abort');
    // a refusal is recorded in the timeline (and shown) by the Migration itself
    this.m.abort().catch(() => {});
  }
}
