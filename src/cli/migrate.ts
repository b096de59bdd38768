/**
 * `virtwire migrate`: virsh's options mapped onto MigrateOptions, and the one
 * code path that runs a migration with a reporter (used by `migrate` and by
 * `demo`): progress, events, the --timeout action, Ctrl-C, and the summary.
 */
import { readFileSync } from 'node:fs';
import type { Connection } from '../api/connection.js';
import type { Domain } from '../api/domain.js';
import {
  MigrateFlags,
  type MigrateOptions,
  type Migration,
  type MigrationResult,
  type PostcopyPolicy,
} from '../api/migration.js';
import { isNoDomain, isOperationAborted } from '../rpc/errors.js';
import { redactUri } from '../uri/index.js';
import type { CliContext } from './context.js';
import { InterruptedError, remoteCause, UsageError } from './errors.js';
import { migrationEventJson, migrationEventText } from './event-format.js';
import { snapshotFromProgress } from './progress.js';
import { chooseReporter, progressInterval, type Reporter } from './reporter.js';
import { type MigrationOutcome, type MigrationSummary, statsFields } from './summary.js';

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
}

export type MigrationMode = 'managed' | 'p2p' | 'direct';

export interface MigratePlan {
  readonly mode: MigrationMode;
  readonly options: MigrateOptions;
  /** virsh's --timeout: after `seconds` of live migration, suspend the guest or switch to post-copy. */
  readonly timeout: { readonly seconds: number; readonly action: 'suspend' | 'postcopy' } | null;
  /**
   * With both --postcopy-after-precopy and --timeout-postcopy the library's
   * policy takes the first; the CLI's timer requests the switch for the other.
   */
  readonly timeoutByCli: boolean;
  /** For the start line: `live, post-copy after the first pass, ...`. */
  readonly description: string;
}

function need(cond: unknown, message: string): void {
  if (!cond) throw new UsageError(message);
}

/**
 * virsh's migrate options as MigrateOptions, with virsh's rules checked
 * first (so a bad combination is refused before anything is sent).
 * `readFile` reads the files --xml and --persistent-xml name.
 */
export function planMigration(
  o: MigrateCliOptions,
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): MigratePlan {
  need(!(o.live && o.offline), 'migrate: --live and --offline are mutually exclusive');
  need(!(o.p2p && o.direct), 'migrate: --p2p and --direct are mutually exclusive');
  need(!o.tunnelled || o.p2p, 'migrate: --tunnelled requires --p2p');
  need(
    !o.postcopyAfterPrecopy || o.postcopy,
    'migrate: --postcopy-after-precopy requires --postcopy',
  );
  need(!o.postcopyResume || o.postcopy, 'migrate: --postcopy-resume requires --postcopy');
  need(
    !(o.copyStorageAll && o.copyStorageInc),
    'migrate: --copy-storage-all and --copy-storage-inc are mutually exclusive',
  );
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
  need(!o.timeoutPostcopy || o.postcopy, 'migrate: --timeout-postcopy requires --postcopy');
  if (o.timeout !== undefined) {
    need(
      Number.isInteger(o.timeout) && o.timeout > 0,
      'migrate: --timeout must be a positive number of seconds',
    );
    need(o.live, 'migrate: --timeout applies to live migration only (add --live)');
  }

  const timeout =
    o.timeout === undefined
      ? null
      : {
          seconds: o.timeout,
          action: o.timeoutPostcopy ? ('postcopy' as const) : ('suspend' as const),
        };
  let postcopyPolicy: PostcopyPolicy | undefined;
  let timeoutByCli = false;
  if (o.postcopyAfterPrecopy) {
    postcopyPolicy = 'after-precopy';
    timeoutByCli = timeout?.action === 'postcopy';
  } else if (timeout?.action === 'postcopy') postcopyPolicy = { afterMs: timeout.seconds * 1000 };

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
    ['destXml', o.xml === undefined ? undefined : readXml(readFile, o.xml, '--xml')],
    [
      'persistentXml',
      o.persistentXml === undefined
        ? undefined
        : readXml(readFile, o.persistentXml, '--persistent-xml'),
    ],
    ['migrateDisks', list(o.migrateDisks)],
    ['parallel', o.parallelConnections],
    ['tls', o.tls],
    ['zerocopy', o.zerocopy],
    ['postcopyPolicy', postcopyPolicy],
    ['flags', flags || undefined],
  ];
  const options: Record<string, unknown> = {};
  for (const [k, v] of entries) if (v !== undefined && v !== false) options[k] = v;

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
  return {
    mode: o.p2p ? 'p2p' : o.direct ? 'direct' : 'managed',
    options: options as MigrateOptions,
    timeout,
    timeoutByCli,
    description: words.join(', '),
  };
}

function readXml(readFile: (p: string) => string, path: string, option: string): string {
  try {
    return readFile(path);
  } catch (err) {
    throw new UsageError(`migrate: ${option}: cannot read ${path}: ${(err as Error).message}`);
  }
}

const stateText = (s: { state: string; reason: string }): string => `${s.state} (${s.reason})`;

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
  const { src, dest, domain, plan, cli } = run;
  const out = ctx.io.stdout;
  const reporter: Reporter = chooseReporter(out, cli);
  const t0 = performance.now();
  let m: Migration;
  if (plan.mode === 'managed') {
    if (!dest) throw new Error('managed migration needs a destination connection');
    m = domain.migrate(dest, plan.options);
  } else {
    m = domain.migrateToURI(run.desturi, plan.options);
  }
  reporter.start({
    domain: domain.name,
    // The URIs the user typed may hold a password: reports never show it.
    source: redactUri(run.sourceUri ?? src.uri),
    destination: redactUri(run.desturi),
    mode: plan.mode,
    description: plan.description,
    options: plan.options as Record<string, unknown>,
  });

  let aborting = false;
  let cliSwitch: { atMs: number; latencyMs: number | undefined } | null = null;
  const stopProgress = new AbortController();

  const progress = (async () => {
    try {
      for await (const p of m.progress({
        intervalMs: progressInterval(out, cli),
        signal: stopProgress.signal,
      })) {
        if ((p.memoryTotal ?? 0) === 0 && (p.memoryProcessed ?? 0) === 0) continue; // still setting up
        reporter.progress(snapshotFromProgress(p, performance.now() - t0));
      }
    } catch {
      // polling failed (connection lost...): the outcome is reported through `done`
    }
  })();

  const events = (async () => {
    for await (const e of m.events()) {
      const ev = e.event as { type: string; event?: string; detail?: string };
      const important = ev.type === 'lifecycle' && ev.detail === 'postcopy';
      reporter.event(migrationEventText(e), migrationEventJson(e), important);
    }
  })();

  const timers: NodeJS.Timeout[] = [];
  if (plan.timeout && (plan.timeout.action === 'suspend' || plan.timeoutByCli)) {
    const { seconds, action } = plan.timeout;
    timers.push(
      setTimeout(() => {
        if (m.phase !== 'perform' || m.postcopyStarted) return;
        if (action === 'suspend') {
          reporter.note(`timeout: ${seconds} s elapsed, suspending ${domain.name} to finish`, {
            action: 'suspend',
          });
          domain.suspend().catch((err: Error) => {
            reporter.note(`could not suspend: ${err.message}`, {
              action: 'suspend',
              error: err.message,
            });
          });
        } else {
          reporter.note(`timeout: ${seconds} s elapsed, switching to post-copy`, {
            action: 'postcopy',
          });
          const at = performance.now();
          m.startPostCopy().then(
            () => {
              cliSwitch = { atMs: at - t0, latencyMs: performance.now() - at };
            },
            () => {},
          );
        }
      }, seconds * 1000),
    );
  }

  let interrupts = 0;
  let leave: (() => void) | null = null;
  const left = new Promise<'left'>((resolve) => {
    leave = () => resolve('left');
  });
  const offInterrupt = ctx.io.interrupt.on(() => {
    interrupts++;
    if (m.postcopyStarted) {
      if (interrupts === 1) {
        reporter.note(
          'interrupt: the migration is in post-copy, which cannot be rolled back; waiting for it to finish (Ctrl-C again to leave it running)',
          { action: 'none' },
        );
      } else leave?.();
      return;
    }
    if (aborting) {
      if (interrupts > 2) leave?.();
      return;
    }
    aborting = true;
    reporter.note('interrupt: aborting the migration job', { action: 'abort' });
    m.abort().catch((err: Error) => {
      reporter.note(`could not abort: ${err.message}`, { action: 'abort', error: err.message });
    });
  });

  let result: MigrationResult | null = null;
  let failure: unknown = null;
  try {
    const r = await Promise.race([m.done, left]);
    if (r === 'left') {
      failure = new InterruptedError(
        'interrupted: the migration goes on without the CLI (see: virtwire domjobinfo DOMAIN)',
      );
    } else result = r;
  } catch (err) {
    failure = err;
  } finally {
    offInterrupt();
    for (const t of timers) clearTimeout(t);
    stopProgress.abort();
  }
  await progress;
  if (!failure) await events;

  const sw = m.postcopySwitch;
  const summaryBase = {
    domain: domain.name,
    wallTimeMs: performance.now() - t0,
    postcopy: m.postcopyStarted,
    postcopySwitch:
      sw && sw.trigger !== 'manual'
        ? {
            trigger: sw.trigger,
            atMs: sw.requestedAt - t0,
            latencyMs: Number.isFinite(sw.repliedAt) ? sw.repliedAt - sw.requestedAt : undefined,
          }
        : cliSwitch
          ? {
              trigger: 'timeout' as const,
              ...(cliSwitch as { atMs: number; latencyMs: number | undefined }),
            }
          : undefined,
  };
  let summary: MigrationSummary;
  if (result) {
    const [srcState, dstState] = await Promise.all([
      domain
        .state()
        .then(stateText)
        .catch((err: unknown) => (isNoDomain(err) ? 'gone (transient domain moved)' : undefined)),
      result.domain
        ?.state()
        .then(stateText)
        .catch(() => undefined),
    ]);
    summary = {
      ...summaryBase,
      result: 'completed',
      ...statsFields(result.stats),
      sourceState: srcState,
      destinationState: dstState,
    };
  } else {
    const outcome: MigrationOutcome =
      failure instanceof InterruptedError
        ? 'interrupted'
        : aborting && isOperationAborted(remoteCause(failure))
          ? 'aborted'
          : 'failed';
    const e = failure instanceof Error ? failure : new Error(String(failure));
    const remote = remoteCause(e);
    summary = {
      ...summaryBase,
      result: outcome,
      error: remote ? `${remote.codeName}: ${e.message}` : e.message,
    };
  }
  reporter.finish(summary);
  reporter.close();
  if (failure) throw failure;
  return summary;
}
