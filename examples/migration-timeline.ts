// docs/migration.md: a migration's timeline as it grows, then its summary
// and its chart, all read off the same records.
// runs on: simulator, hosts
import { writeFileSync } from 'node:fs';
import { connect, summarize, summaryHead, summaryRows, timelineHtml } from 'virtwire';

const env = process.env;
const hostA = env['VIRTWIRE_URI'] ?? 'qemu+tcp://host-a/system';
const hostB = env['VIRTWIRE_DEST_URI'] ?? 'qemu+tcp://host-b/system';
const name = env['VIRTWIRE_DOMAIN'] ?? 'vm1';

const src = await connect(hostA);
const dst = await connect(hostB);
const dom = await src.lookupDomain(name);

const m = dom
  .migrate(dst, { live: true, postcopy: true, bandwidth: 100, postcopyPolicy: 'after-precopy' })
  .sampleEvery(500); // job statistics into the timeline twice a second
m.timeline.subscribe((r) => {
  // null means "not known yet": no dirty rate in the first pass, no ETA before it is computable
  if (r.type === 'progress') console.log(r.phase, r.percent, r.rateBps, r.dirtyBps, r.etaMs);
  if (r.type === 'switch' && r.ok)
    console.log(`post-copy from ${r.t} ms, latency ${r.latencyMs} ms`);
});
await m.done.catch(() => {}); // a failure ends the timeline too, with both sides' states

const summary = summarize(m.timeline); // one clock: real time since the migration started
console.log(summaryHead(summary));
for (const [label, value] of summaryRows(summary)) console.log(`  ${label}: ${value}`);
writeFileSync('migration.html', timelineHtml(m.timeline)); // chart, legend and summary table
writeFileSync('migration.json', JSON.stringify(m.timeline)); // virtwire chart migration.json -o x.svg

await src.close();
await dst.close();
