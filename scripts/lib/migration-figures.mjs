// The cross-version migration figures next to the same-version ones:
//   node scripts/lib/migration-figures.mjs FIGURES.json
// FIGURES.json is what test/e2e/cross-version.test.ts writes when VIRTWIRE_MIGRATION_FIGURES
// names a file: one entry per migration (direction "9.0.0 -> 11.3.0", mode, wall time as the
// client saw it, downtime and post-copy page requests from the source's completed job). Prints one
// line per mode and direction, each cross-version line followed by the same-version line of its
// destination's generation (the yardstick). Plain JavaScript, no dependency.
import { readFileSync } from 'node:fs';

const [file] = process.argv.slice(2);
if (!file) {
  console.error('usage: node scripts/lib/migration-figures.mjs FIGURES.json');
  process.exit(2);
}
const figures = JSON.parse(readFileSync(file, 'utf8'));
const same = (d) => {
  const [from, to] = d.split(' -> ');
  return from === to;
};
const cell = (v, unit) => (v === undefined || v === null ? '-' : `${v}${unit}`);
const row = (f, tag) =>
  [
    `migration ${tag.padEnd(5)}`,
    f.direction.padEnd(17),
    f.mode.padEnd(25),
    `${(f.wallMs / 1000).toFixed(2)} s`.padStart(8),
    cell(f.downtimeMs, ' ms').padStart(9),
    cell(f.postcopyRequests, '').padStart(8),
  ].join('  ');

console.log(
  `migration figures (${'direction'.padEnd(17)}  ${'mode'.padEnd(25)}  ${'wall'.padStart(8)}  ` +
    `${'downtime'.padStart(9)}  ${'requests'.padStart(8)})`,
);
const modes = [...new Set(figures.map((f) => f.mode))];
for (const mode of modes) {
  const ofMode = figures.filter((f) => f.mode === mode);
  for (const f of ofMode.filter((x) => !same(x.direction))) {
    console.log(row(f, 'cross'));
    const to = f.direction.split(' -> ')[1];
    const yard = ofMode.find((x) => x.direction === `${to} -> ${to}`);
    if (yard) console.log(row(yard, 'same'));
  }
  // same-version runs no cross-version line pointed at (e.g. the oldest generation's)
  for (const f of ofMode.filter((x) => same(x.direction))) {
    const shown = ofMode.some(
      (x) => !same(x.direction) && x.direction.split(' -> ')[1] === f.direction.split(' -> ')[0],
    );
    if (!shown) console.log(row(f, 'same'));
  }
}
