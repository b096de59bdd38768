/**
 * Turns hostile-peer scenarios into vitest tests: one test per scenario,
 * failing with every way the run missed its expectation (outcome, time,
 * peak memory, the well-behaved peer, a process-level error).
 */
import { describe, expect, it } from 'vitest';
import { GROUPS, type Group } from './hostile-all.js';
import { runScenario, type Scenario } from './hostile-scenarios.js';

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

/** Every scenario of `group`: the permanent suite. */
export function groupTests(group: Group): void {
  scenarioTests(`hostile peers: ${group}`, GROUPS[group]());
}
