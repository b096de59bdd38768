/**
 * The in-process fuzzers of issue 19 at full strength: by default 1,000,000
 * mutations per target (client replies, events, stream packets; simulator
 * calls). CI runs 100,000 in all, 25,000 per target (test/unit/hostile/fuzz-hostile.test.ts).
 *
 *   npx tsx scripts/fuzz-hostile.ts [--runs N] [--target replies|events|streams|simulator] [--seed N]
 *
 * Prints one line per target: runs, time, outcomes, retained memory, and
 * anything the oracle forbids; exits 1 when something was found (replay it
 * with the same --seed and --runs).
 */
import { describeReport } from '../test/helpers/fuzz-hostile.js';
import { TARGETS } from '../test/helpers/fuzz-targets.js';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const runs = Number(opt('--runs') ?? 1_000_000);
const seed = Number(opt('--seed') ?? 0x19);
const only = opt('--target');
const names = (Object.keys(TARGETS) as Array<keyof typeof TARGETS>).filter(
  (t) => only === undefined || t === only,
);
if (names.length === 0)
  throw new Error(`unknown target ${only}: ${Object.keys(TARGETS).join(', ')}`);

let found = false;
for (const name of names) {
  const report = await TARGETS[name](runs, seed);
  console.log(describeReport(report));
  if (report.bugs.length > 0) found = true;
}
process.exit(found ? 1 : 0);
