// Sums V8 CPU profiles (`node --cpu-prof`, e.g. from `bench/stream.ts --profile=DIR`) into self
// time per function and per file, for reports that fit in a terminal:
//
//   npx tsx bench/cpuprofile.ts /tmp/prof/*.cpuprofile            # top 25 functions, all files
//   npx tsx bench/cpuprofile.ts --top=40 --match=download /tmp/prof/*.cpuprofile
//
// With several profiles the figures are per profile (the mean), so runs of different lengths
// compare. "(program)" is V8 itself outside JavaScript (the event loop, native code run for
// JavaScript such as socket and file calls), "(garbage collector)" is GC on the main thread.

import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const args = process.argv.slice(2);
const top = Number(args.find((a) => a.startsWith('--top='))?.slice(6) ?? 25);
const match = args.find((a) => a.startsWith('--match='))?.slice(8);
const files = args.filter((a) => !a.startsWith('--') && (!match || a.includes(match)));
if (files.length === 0) {
  process.stderr.write('usage: npx tsx bench/cpuprofile.ts [--top=N] [--match=S] FILE...\n');
  process.exit(2);
}

const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
let total = 0;
for (const f of files) {
  const p = JSON.parse(readFileSync(f, 'utf8')) as Profile;
  const nodes = new Map(p.nodes.map((n) => [n.id, n]));
  // a sample's time is the delta to the next sample
  for (let i = 0; i < p.samples.length; i++) {
    const dt = (p.timeDeltas[i + 1] ?? 0) / 1000;
    const n = nodes.get(p.samples[i]!)!;
    const { functionName, url, lineNumber } = n.callFrame;
    const file = url ? basename(url.replace(/\?.*$/, '')) : '(native)';
    const fn = `${functionName || '(anonymous)'} ${url ? `${file}:${lineNumber + 1}` : ''}`.trim();
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + dt);
    byFile.set(file, (byFile.get(file) ?? 0) + dt);
    total += dt;
  }
}
const per = (ms: number) => (ms / files.length).toFixed(1).padStart(8);
const pct = (ms: number) => `${((100 * ms) / total).toFixed(1).padStart(5)}%`;
process.stdout.write(
  `${files.length} profile(s), ${per(total).trim()} ms sampled per profile\n\nself ms   share  function\n`,
);
for (const [fn, ms] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  process.stdout.write(`${per(ms)} ${pct(ms)}  ${fn}\n`);
}
process.stdout.write('\nself ms   share  file\n');
for (const [file, ms] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  process.stdout.write(`${per(ms)} ${pct(ms)}  ${file}\n`);
}
