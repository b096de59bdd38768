/**
 * Runs every hostile-peer scenario (test/helpers/hostile-*-scenarios.ts)
 * and prints the table for issue 19's closing note: scenario, outcome
 * (error class), time, peak memory, and whether it met its expectation.
 *
 *   npx tsx scripts/hostile-report.ts [--side client|simulator] [--only TEXT]
 *
 * Scenarios run one
 * after another in this process; memory figures are this process's growth
 * (heap + external, and RSS) over a baseline taken after a full GC.
 * Exits 1 when a scenario did not meet its expectation.
 */
import { allScenarios } from '../test/helpers/hostile-all.js';
import { formatTable, type Row, runScenario } from '../test/helpers/hostile-scenarios.js';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const side = opt('--side');
const only = opt('--only');

const all = allScenarios().filter(
  (s) => (side === undefined || s.side === side) && (only === undefined || s.name.includes(only)),
);

const rows: Row[] = [];
for (const s of all) {
  const row = await runScenario(s);
  rows.push(row);
  const verdict = row.failures.length === 0 ? 'pass' : `FAIL (${row.failures.join('; ')})`;
  process.stderr.write(`${s.name}: ${row.outcome}, ${row.ms.toFixed(0)} ms — ${verdict}\n`);
}
console.log(formatTable(rows));
const failed = rows.filter((r) => r.failures.length > 0);
console.log(
  `\n${rows.length} scenarios: ${rows.length - failed.length} pass, ${failed.length} fail.`,
);
if (failed.length > 0) {
  console.log(`\nfailing: ${failed.map((r) => r.scenario.name).join('; ')}`);
  process.exitCode = 1;
}
// Hostile daemons may leave sockets that keep the loop alive: the report is done.
process.exit();
