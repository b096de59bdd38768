// Many migrations from one process: starts them all at once on one source and one destination
// connection, follows each one's progress, samples the process's RSS meanwhile, and checks where
// every guest ended. Shared by bench/migrations.ts and the tests that hold it to its claims
// (test/unit/testing/many-migrations.test.ts, test/e2e/many-migrations.test.ts).

import type { Connection, Domain, MigrateOptions, Migration } from '../../src/index.js';

/** What one migration did, as the fleet saw it. */
export interface FleetMigration {
  readonly name: string;
  /** Progress samples received from `migration.progress()`. */
  readonly samples: number;
  /** The highest percent a sample reported (undefined if none carried one). */
  readonly maxPercent: number | undefined;
  /** True if a sample reported the post-copy phase. */
  readonly sawPostcopy: boolean;
  /** Milliseconds from the start of the fleet to this migration's `done`. */
  readonly ms: number;
  /** The error `done` rejected with, if it did. */
  readonly error: Error | null;
  /** Where the guest ended: running on the destination, gone from the source. */
  readonly onDestination: string | null;
  readonly onSource: string | null;
}

export interface FleetResult {
  readonly migrations: readonly FleetMigration[];
  /** Wall time of the whole fleet, ms. */
  readonly ms: number;
  /** The process's RSS before the fleet started and its peak meanwhile, bytes. */
  readonly rssBefore: number;
  readonly rssPeak: number;
  /** Guests that did not end running on the destination and absent from the source. */
  readonly misplaced: readonly string[];
}

export interface FleetOptions {
  /** How often each migration's progress is sampled (ms). */
  readonly progressIntervalMs: number;
  /** How the guests migrate (`live`, `postcopy`, bandwidth...). */
  readonly migrate: MigrateOptions;
  /** Called as each migration ends, for a progress line. */
  readonly onDone?: (m: FleetMigration, doneSoFar: number) => void;
}

/** `state/reason` of `name` on `conn`, or null when the domain is not there. */
async function whereIs(conn: Connection, name: string): Promise<string | null> {
  const d = (await conn.listAllDomains()).find((x) => x.name === name);
  if (d === undefined) return null;
  const s = await d.state();
  return `${s.state}/${s.reason}`;
}

/**
 * How the real-host fleet migrates (bench/migrations.ts --hosts and its e2e
 * test): live, slow enough in pre-copy that post-copy takes over after the
 * first pass, as an evacuation of busy guests would.
 */
export const REAL_FLEET_MIGRATION = {
  live: true,
  postcopy: true,
  bandwidth: 20,
  postcopyBandwidth: 200,
  postcopyPolicy: 'after-precopy',
} as const;

/**
 * Migrates every domain in `domains` (all on `source`) to `destination` at
 * once, one managed migration each, from this process, and reports each
 * migration, the peak RSS and the guests that ended anywhere but running on
 * the destination with nothing left on the source.
 */
export async function migrateFleet(
  source: Connection,
  destination: Connection,
  domains: readonly Domain[],
  opts: FleetOptions,
): Promise<FleetResult> {
  const rssBefore = process.memoryUsage.rss();
  let rssPeak = rssBefore;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
  }, 20);
  const t0 = performance.now();
  let finished = 0;
  try {
    const runs = domains.map(async (d): Promise<FleetMigration> => {
      const m: Migration = d.migrate(destination, opts.migrate);
      let samples = 0;
      let maxPercent: number | undefined;
      let sawPostcopy = false;
      const follow = (async () => {
        for await (const p of m.progress({ intervalMs: opts.progressIntervalMs })) {
          samples++;
          if (p.percent !== undefined) maxPercent = Math.max(maxPercent ?? 0, p.percent);
          if (p.phase === 'postcopy') sawPostcopy = true;
        }
      })();
      let error: Error | null = null;
      try {
        await m.done;
      } catch (err) {
        error = err as Error;
      }
      await follow;
      const ms = performance.now() - t0;
      rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
      const r: FleetMigration = {
        name: d.name,
        samples,
        maxPercent,
        sawPostcopy,
        ms,
        error,
        onDestination: null,
        onSource: null,
      };
      opts.onDone?.(r, ++finished);
      return r;
    });
    const settled = await Promise.all(runs);
    const ms = performance.now() - t0;
    const migrations: FleetMigration[] = [];
    for (const r of settled) {
      migrations.push({
        ...r,
        onDestination: await whereIs(destination, r.name),
        onSource: await whereIs(source, r.name),
      });
    }
    const misplaced = migrations
      .filter(
        (r) => r.error !== null || !r.onDestination?.startsWith('running/') || r.onSource !== null,
      )
      .map((r) => r.name);
    return { migrations, ms, rssBefore, rssPeak, misplaced };
  } finally {
    clearInterval(sampler);
  }
}
