/**
 * Turns hostile-peer scenarios into vitest tests: one test per scenario,
 * failing with every way the run missed its expectation (outcome, time,
 * peak memory, the well-behaved peer, a process-level error).
 */
import { describe, expect, it } from 'vitest';
import { allScenarios, GROUPS, type Group } from './hostile-all.js';
import { FIX, runScenario, type Scenario } from './hostile-scenarios.js';

function scenarioTests(title: string, scenarios: readonly Scenario[]): void {
  describe(title, () => {
    for (const s of scenarios) {
      it(
        s.name,
        async () => {
          const row = await runScenario(s);
          expect(row.failures, `${s.name} ended with ${row.outcome}`).toEqual([]);
        },
        // The scenario's own watchdog ends it first; this only guards the harness.
        s.expect.withinMs * 2 + 60_000,
      );
    }
  });
}

/** The scenarios of `group` that no fix is pending for: the permanent suite. */
export function groupTests(group: Group): void {
  scenarioTests(
    `hostile peers: ${group}`,
    GROUPS[group]().filter((s) => s.waitsFor === undefined),
  );
}

/** The scenarios waiting for `fix` (test/hostile-pending, not in the default run). */
export function pendingTests(fix: keyof typeof FIX): void {
  const waiting = allScenarios().filter((s) => s.waitsFor === FIX[fix]);
  if (waiting.length === 0) throw new Error(`no scenario waits for ${FIX[fix]}: delete this file`);
  scenarioTests(`waiting for: ${FIX[fix]}`, waiting);
}
