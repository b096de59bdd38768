// docs/migration.md: a managed live migration that switches to post-copy
// after the first pre-copy pass, with its progress and final statistics.
// runs on: simulator, hosts
import { connect } from 'virtwire';

const env = process.env;
const hostA = env['VIRTWIRE_URI'] ?? 'qemu+tcp://host-a/system';
const hostB = env['VIRTWIRE_DEST_URI'] ?? 'qemu+tcp://host-b/system';
const name = env['VIRTWIRE_DOMAIN'] ?? 'vm1';

const src = await connect(hostA);
const dst = await connect(hostB);
const dom = await src.lookupDomain(name);

const m = dom.migrate(dst, {
  live: true,
  postcopy: true,
  bandwidth: 100, // MiB/s, as in virsh
  postcopyBandwidth: 1000,
  postcopyPolicy: 'after-precopy', // or { afterIterations: 3 }, { afterMs: 30_000 }, both (first wins), 'manual'
});
for await (const p of m.progress({ intervalMs: 500 })) {
  console.log(
    p.phase,
    p.percent?.toFixed(1),
    p.memoryRemaining,
    p.memoryBps,
    p.memoryDirtyRate,
    p.memoryIteration,
  );
}
const { domain, stats } = await m.done; // the domain on host B, final stats from the source
console.log(domain?.name, stats?.downtimeMs, stats?.memoryPostcopyRequests);

await src.close();
await dst.close();
