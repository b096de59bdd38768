/**
 * Property: whatever the guests, links, limits and switches, the job
 * statistics the simulated daemon reports (GET_JOB_STATS, the figures
 * virsh domjobinfo and its progress bar show) are possible ones, at every
 * sample: remaining never above total; processed + remaining between the
 * guest's memory and its memory plus everything it dirtied; within a pass
 * the remaining memory only falls and processed only grows; post-copy moves
 * at most the guest's memory; the migrations leaving a host never use more
 * than its link, nor one more than its own limit. Runs on the model's clock,
 * so every scenario replays exactly.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RemoteTypedParam } from '../../../src/generated/remote.js';
import { SimNetwork } from '../../../src/testing/index.js';
import { JobStatsChecker } from '../../helpers/job-invariants.js';
import {
  addGuest,
  ManualClock,
  type ModelHost,
  type ModelMigration,
  migrate,
  modelHost,
  tick,
} from '../../helpers/sim-model.js';

const MiB = 1024 * 1024;
/** Rounding: the daemon reports whole bytes of a model kept in floating point. */
const SLACK = 16;

function figures(params: readonly RemoteTypedParam[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of params) {
    const v = p.value;
    if (v.type === 4) out[p.field] = Number(v.ul);
    else if (v.type === 3) out[p.field] = Number(v.l);
    else if (v.type === 1) out[p.field] = v.i;
    else if (v.type === 2) out[p.field] = v.ui;
  }
  return out;
}

const guest = fc.record({
  memoryMiB: fc.integer({ min: 16, max: 8192 }),
  dirtyRateMiBps: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 4000 })),
  dirtySetMiB: fc.option(fc.integer({ min: 1, max: 8192 }), { nil: undefined }),
  bandwidthMiBps: fc.option(fc.integer({ min: 20, max: 4000 }), { nil: undefined }),
  maxDowntimeMs: fc.integer({ min: 50, max: 2000 }),
  autoConverge: fc.boolean(),
  /** Switch to post-copy this many simulated ms after the start (mostly mid-pass). */
  switchAtMs: fc.option(fc.integer({ min: 0, max: 30_000 }), { nil: undefined }),
  /** Change the speed limit this many ms after the start. */
  speed: fc.option(
    fc.record({
      atMs: fc.integer({ min: 0, max: 30_000 }),
      mibps: fc.integer({ min: 0, max: 4000 }),
    }),
    { nil: undefined },
  ),
});

const scenario = fc.record({
  linkA: fc.integer({ min: 50, max: 10_000 }),
  linkB: fc.integer({ min: 50, max: 10_000 }),
  guests: fc.array(guest, { minLength: 1, maxLength: 4 }),
  /** Real (= simulated) ms between samples. */
  gaps: fc.array(fc.integer({ min: 1, max: 4000 }), { minLength: 1, maxLength: 120 }),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

interface Watch {
  readonly spec: Scenario['guests'][number];
  readonly name: string;
  readonly m: ModelMigration;
  readonly startedAt: number;
  readonly checker: JobStatsChecker;
  switched: boolean;
  sped: boolean;
}

/** One sample: the shared invariants (job-invariants.ts) plus the total being the guest's memory. */
function checkSample(w: Watch, s: Record<string, number>): void {
  if ((s.memory_total ?? 0) !== 0 && s.memory_total !== w.spec.memoryMiB * MiB) {
    w.checker.problems.push(`${w.name}: memory_total is not the guest memory`);
  }
  if (s.data_remaining !== s.memory_remaining || s.data_processed !== s.memory_processed) {
    w.checker.problems.push(`${w.name}: data_* differ from memory_* (${JSON.stringify(s)})`);
  }
  w.checker.check(s);
}

async function run(sc: Scenario): Promise<string[]> {
  const clock = new ManualClock();
  const network = new SimNetwork();
  const a = modelHost(network, clock, { name: 'a', bandwidthMiBps: sc.linkA });
  const b = modelHost(network, clock, { name: 'b', bandwidthMiBps: sc.linkB });
  const problems: string[] = [];
  // the final statistics, as the source reports them (its JOB_COMPLETED event)
  const completed = new Map<string, RemoteTypedParam[]>();
  a.host.onEvent((e) => {
    if (e.kind === 'job_completed') completed.set(e.dom.name, e.params);
  });
  const watches: Watch[] = sc.guests.map((spec, i) => {
    const name = `vm${i}`;
    addGuest(a, {
      name,
      state: 'running',
      memoryMiB: spec.memoryMiB,
      dirtyRateMiBps: spec.dirtyRateMiBps,
      ...(spec.dirtySetMiB !== undefined ? { dirtySetMiB: spec.dirtySetMiB } : {}),
    });
    a.host.byName(name)!.maxDowntimeMs = BigInt(spec.maxDowntimeMs);
    const m = migrate(a, b, name, {
      postcopy: spec.switchAtMs !== undefined,
      autoConverge: spec.autoConverge,
      ...(spec.bandwidthMiBps !== undefined ? { bandwidthMiBps: spec.bandwidthMiBps } : {}),
    });
    return {
      spec,
      name,
      m,
      startedAt: a.host.now(),
      checker: new JobStatsChecker(name, { model: true, dirtyMiBps: spec.dirtyRateMiBps }),
      switched: false,
      sped: false,
    };
  });
  const jobs = watches.map((w) => w.m.job);
  const sample = (src: ModelHost) => {
    let bpsSum = 0;
    for (const w of watches) {
      const d = src.host.byName(w.name);
      if (!d || w.m.ended()) continue;
      const st = src.mig.jobStats(d, 0);
      if (st.type !== 2) continue;
      const s = figures(st.params);
      checkSample(w, s);
      const bps = s.memory_bps ?? 0;
      bpsSum += bps;
      const own = w.spec.bandwidthMiBps;
      if (own !== undefined && !w.sped && w.m.job.phase === 'precopy' && bps > own * MiB + SLACK)
        problems.push(`${w.name}: ${bps} B/s over its own limit ${own} MiB/s`);
    }
    if (bpsSum > Math.min(sc.linkA, sc.linkB) * MiB * (1 + 1e-9) + SLACK)
      problems.push(`migrations leaving a use ${bpsSum} B/s of a ${sc.linkA} MiB/s link`);
  };
  const act = () => {
    for (const w of watches) {
      const d = a.host.byName(w.name);
      if (!d || w.m.ended()) continue;
      const t = a.host.now() - w.startedAt;
      if (w.spec.speed && !w.sped && t >= w.spec.speed.atMs) {
        a.mig.setMaxSpeed(d, BigInt(w.spec.speed.mibps), false);
        w.sped = true;
      }
      if (w.spec.switchAtMs !== undefined && !w.switched && t >= w.spec.switchAtMs) {
        w.switched = true;
        if (w.m.job.phase !== 'precopy') continue;
        a.mig.startPostCopy(d, 0);
        // the sample right after the switch: what post-copy starts from
        const s = figures(a.mig.jobStats(d, 0).params);
        checkSample(w, s);
        w.checker.processedAtSwitch = s.memory_processed ?? 0;
      }
    }
  };
  sample(a);
  for (const gap of sc.gaps) {
    await tick(clock, jobs, gap);
    act();
    sample(a);
  }
  // then a pre-copy still running is called off, and post-copy runs on until it ends
  for (const w of watches) {
    const d = a.host.byName(w.name);
    if (d && w.m.job.phase === 'precopy') a.mig.abortJob(d, 0);
  }
  for (let i = 0; i < 5000 && !watches.every((w) => w.m.ended()); i++) {
    await tick(clock, jobs, 20_000);
    sample(a);
  }
  await Promise.all(watches.map((w) => w.m.done.catch(() => {})));
  for (const w of watches) problems.push(...w.checker.problems);
  for (const w of watches) {
    const params = completed.get(w.name);
    if (!params) continue; // aborted
    const s = figures(params);
    const total = s.memory_total ?? 0;
    if (s.memory_remaining !== 0) problems.push(`${w.name}: completed with memory remaining`);
    if ((s.memory_processed ?? 0) < total - SLACK)
      problems.push(`${w.name}: completed having sent less than the guest memory`);
    const atSwitch = w.checker.processedAtSwitch;
    if (atSwitch !== null && (s.memory_processed ?? 0) - atSwitch > total + SLACK)
      problems.push(`${w.name}: post-copy moved more than the guest memory`);
  }
  return problems;
}

describe('job statistics over random migration scenarios', () => {
  it('are possible at every sample', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (sc) => {
        const problems = await Promise.race([
          run(sc),
          new Promise<string[]>((r) =>
            setTimeout(() => r([`scenario did not end: ${JSON.stringify(sc)}`]), 5000),
          ),
        ]);
        expect(problems.slice(0, 5)).toEqual([]);
      }),
      { numRuns: 100 },
    );
  }, 120_000);

  it('a pass slowed below the dirty rate still counts down: new dirt waits for the next pass', async () => {
    // pass 2 starts with 512 MiB to send at 1000 MiB/s; slowed to 100 MiB/s in its middle, the
    // guest now dirties faster than pages go, yet remaining only falls until the pass ends
    const problems = await run({
      linkA: 1000,
      linkB: 1000,
      guests: [
        {
          memoryMiB: 1024,
          dirtyRateMiBps: 500,
          dirtySetMiB: undefined,
          bandwidthMiBps: undefined,
          maxDowntimeMs: 50,
          autoConverge: false,
          switchAtMs: undefined,
          speed: { atMs: 1200, mibps: 100 },
        },
      ],
      gaps: Array.from({ length: 80 }, () => 50),
    });
    expect(problems).toEqual([]);
  });

  it('a switch to post-copy in the middle of pass 1 moves at most the guest memory', async () => {
    // the case: 2 GiB dirtied fast, switched half-way through the first pass
    const problems = await run({
      linkA: 1000,
      linkB: 1000,
      guests: [
        {
          memoryMiB: 2048,
          dirtyRateMiBps: 3000,
          dirtySetMiB: undefined,
          bandwidthMiBps: 100,
          maxDowntimeMs: 300,
          autoConverge: false,
          switchAtMs: 10_000,
          speed: undefined,
        },
      ],
      gaps: Array.from({ length: 60 }, () => 500),
    });
    expect(problems).toEqual([]);
  });
});
