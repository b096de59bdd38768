// Pass counts from a vitest JSON report, in total and per libvirt generation, and the tests that
// failed or passed only on a retry:
//   node scripts/lib/vitest-counts.mjs REPORT.json LABEL
// prints "LABEL: N passed, N failed, N skipped" and, for tests whose titles name a
// generation (describe.each(generations()) puts "libvirt X.Y.Z / QEMU ..." in them), one line
// per generation. Tests that name none ran on hosts A and B (libvirt 9.0) or on no daemon.
// Plain JavaScript, no dependency: whichever node runs CI reads it.
import { readFileSync } from 'node:fs';

const [file, label = 'tests'] = process.argv.slice(2);
if (!file) {
  console.error('usage: node scripts/lib/vitest-counts.mjs REPORT.json LABEL');
  process.exit(2);
}
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch (err) {
  console.log(`${label}: no report (${err.message})`);
  process.exit(1);
}

const blank = () => ({ passed: 0, failed: 0, skipped: 0 });
const total = blank();
const perGen = new Map();
for (const suite of report.testResults ?? []) {
  for (const t of suite.assertionResults ?? []) {
    const kind = t.status === 'passed' ? 'passed' : t.status === 'failed' ? 'failed' : 'skipped';
    total[kind]++;
    const m = /libvirt (\d+\.\d+)\.\d+ \//.exec([...(t.ancestorTitles ?? []), t.title].join(' '));
    const gen = m ? `libvirt ${m[1]}` : 'not per generation (hosts A/B only, or no daemon)';
    if (!perGen.has(gen)) perGen.set(gen, blank());
    perGen.get(gen)[kind]++;
  }
}
// a file that failed to load has no assertion results but counts as a failure
const broken = (report.testResults ?? []).filter(
  (s) => s.status === 'failed' && (s.assertionResults ?? []).length === 0,
).length;
total.failed += broken;

const retried = (report.testResults ?? [])
  .flatMap((s) => s.assertionResults ?? [])
  .filter((t) => t.status === 'passed' && (t.failureMessages ?? []).length > 0).length;
const line = (c) => `${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`;
console.log(
  `${label}: ${line(total)}${broken ? ` (${broken} files failed to run)` : ''}${retried ? ` (${retried} passed on retry, named below)` : ''}`,
);
const gens = [...perGen.keys()].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
for (const g of gens) console.log(`  ${g}: ${line(perGen.get(g))}`);
// The summary at the end of CI is often all that is kept of a run: name what failed there, with
// the first line of its error, so a red run can be acted on without the whole log.
const oneLine = (text) => {
  const first = String(text ?? '')
    .replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '')
    .split('\n')
    .find((l) => l.trim() !== '');
  return (first ?? '').trim().slice(0, 300);
};
const root = process.cwd();
for (const suite of report.testResults ?? []) {
  const where = String(suite.name ?? '').replace(`${root}/`, '');
  const failed = (suite.assertionResults ?? []).filter((t) => t.status === 'failed');
  if (suite.status === 'failed' && failed.length === 0) {
    console.log(`  FAILED ${where}: ${oneLine(suite.message) || 'the file failed to run'}`);
  }
  for (const t of failed) {
    const name = [...(t.ancestorTitles ?? []), t.title].join(' > ');
    console.log(`  FAILED ${where} > ${name}`);
    console.log(`    ${oneLine(t.failureMessages?.[0])}`);
  }
  // A test that passed on its retry (the real-daemon projects retry once, vitest.config.ts) keeps
  // the errors of the attempts that failed: it is named here, so a flake is seen and fixed rather
  // than hidden by the retry.
  for (const t of suite.assertionResults ?? []) {
    if (t.status !== 'passed' || (t.failureMessages ?? []).length === 0) continue;
    const name = [...(t.ancestorTitles ?? []), t.title].join(' > ');
    const n = t.failureMessages.length;
    console.log(`  PASSED ON RETRY (${n} failed attempt${n === 1 ? '' : 's'}) ${where} > ${name}`);
    console.log(`    ${oneLine(t.failureMessages[0])}`);
  }
}
// a run that ran nothing proves nothing
const ran = total.passed + total.failed + total.skipped;
process.exit(ran === 0 || total.failed > 0 || total.skipped > 0 ? 1 : 0);
