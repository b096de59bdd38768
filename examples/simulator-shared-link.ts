// docs/simulator.md: evacuating a host whose migration link all the guests
// share: N guests leave at once, and each takes about N times as long as
// one alone. `npx tsx examples/simulator-shared-link.ts 50` for 50.
// runs on: simulator
import { type Connection, connect } from 'virtwire';
import { SimNetwork, Simulator } from 'virtwire/testing';

const n = Number(process.argv[2] ?? 8);
const memoryMiB = 4096;
const linkMiBps = 10_000;

/** Migrates every guest of `from` to `to` at once; the simulated seconds each took. */
async function evacuate(from: Connection, to: Connection): Promise<number[]> {
  const doms = await from.listAllDomains(1 /* ACTIVE */);
  const results = await Promise.all(doms.map((d) => d.migrate(to, { live: true }).done));
  return results.map((r) => (r.stats?.timeElapsedMs ?? Number.NaN) / 1000);
}

async function run(guests: number): Promise<number[]> {
  const network = new SimNetwork();
  // every host's link is linkMiBps, out and in; 2 simulated seconds per real second
  const common = { network, timeScale: 2, bandwidthMiBps: linkMiBps };
  const domains = Array.from({ length: guests }, (_, i) => ({
    name: `vm${i}`,
    memoryMiB,
    state: 'running' as const,
  }));
  await using source = await Simulator.start({ ...common, hostname: 'node1', domains });
  await using target = await Simulator.start({ ...common, hostname: 'node2' });
  await using from = await connect(source.uri, { transport: source.transport() });
  await using to = await connect(target.uri, { transport: target.transport() });
  const took = await evacuate(from, to);
  if (target.domains().length !== guests) throw new Error('not every guest reached node2');
  return took;
}

const [alone = Number.NaN] = await run(1);
const took = await run(n);
const mean = took.reduce((a, b) => a + b, 0) / n;
// the link's arithmetic: N share it fairly, so each moves its memory at linkMiBps / N
const expected = (n * memoryMiB) / linkMiBps;
console.log(`one ${memoryMiB} MiB guest over ${linkMiBps} MiB/s: ${alone.toFixed(2)} s`);
console.log(
  `${n} at once: mean ${mean.toFixed(2)} s (min ${Math.min(...took).toFixed(2)}, ` +
    `max ${Math.max(...took).toFixed(2)}); the link allows ${expected.toFixed(2)} s; ` +
    `${(mean / alone).toFixed(1)} times one alone`,
);
