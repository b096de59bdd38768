// Where a vitest run's time went: the N slowest test files of a JSON report, and the sum.
//   node scripts/lib/vitest-slowest.mjs REPORT.json [N] [LABEL]
// Plain JavaScript, no dependency: whichever node runs CI reads it.
import { readFileSync } from 'node:fs';

const [file, n = '8', label = file] = process.argv.slice(2);
if (!file) {
  console.error('usage: node scripts/lib/vitest-slowest.mjs REPORT.json [N] [LABEL]');
  process.exit(2);
}
const report = JSON.parse(readFileSync(file, 'utf8'));
const rows = (report.testResults ?? []).map((s) => ({
  s: (s.endTime - s.startTime) / 1000,
  name: String(s.name).replace(/^.*?\/test\//, 'test/'),
}));
rows.sort((a, b) => b.s - a.s);
const sum = rows.reduce((t, r) => t + r.s, 0);
console.log(`${label}: ${rows.length} files, ${sum.toFixed(0)}s of file time; slowest:`);
for (const r of rows.slice(0, Number(n)))
  console.log(`  ${r.s.toFixed(1).padStart(6)}s  ${r.name}`);
