// Many migrations from one process: 50 concurrent migrations between two simulators that share
// one link, and (with --hosts) 8 concurrent live migrations of real QEMU guests from host A to
// host B, each followed through its progress, on one source and one destination connection.
//
//   npx tsx bench/migrations.ts                                        # simulators only
//   flock /tmp/virtwire-hosts.lock npx tsx bench/migrations.ts --hosts # and the real hosts
//   options: --sims=50 --real=8 --json
//
// Simulators (virtwire/testing, one SimNetwork, in this process): host A holds N running guests
// of 256 MiB; A's link is 200 MiB/s and every migration shares it fairly, so the fleet cannot
// finish before N x 256 MiB / 200 MiB/s of simulated time (timeScale 10: 10 simulated seconds
// per real second, 6.4 real seconds for 50 guests). Real hosts: N transient copies of the harness's guest (128 MiB, 46 MiB kept
// dirty) started on A, migrated live at 20 MiB/s each, switched to post-copy after the first
// pass (so the dirtying guests converge), post-copy at 200 MiB/s.
// Reported: wall time, per-migration progress samples and finishing times, the process's peak
// RSS over its RSS before the fleet, and where every guest ended. Exits 1 if any guest is not
// running on the destination with nothing left on the source (or on any error).

import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { benchWithHosts } from '../scripts/lib/harness.js';
import { type Connection, connect, type Domain } from '../src/index.js';
import { SimNetwork, Simulator } from '../src/testing/index.js';
import { type FleetResult, migrateFleet, REAL_FLEET_MIGRATION } from './lib/fleet.js';

const argv = process.argv.slice(2);
function numOpt(name: string, dflt: number): number {
  const a = argv.find((x) => x.startsWith(`--${name}=`));
  if (a === undefined) return dflt;
  const n = Number(a.slice(name.length + 3));
  if (!Number.isInteger(n) || n <= 0) throw new Error(`bad ${a}`);
  return n;
}
for (const a of argv) {
  if (!/^--(sims=\d+|real=\d+|hosts|json)$/.test(a)) {
    process.stderr.write(
      `unknown argument ${a}\nusage: npx tsx bench/migrations.ts [--hosts] [--sims=N] [--real=N] [--json]\n`,
    );
    process.exit(2);
  }
}
const SIMS = numOpt('sims', 50);
const REAL = numOpt('real', 8);
const HOSTS = argv.includes('--hosts');
const JSON_OUT = argv.includes('--json');
const log = JSON_OUT
  ? (s: string) => process.stderr.write(`${s}\n`)
  : (s: string) => process.stdout.write(`${s}\n`);

const MiB = 1024 * 1024;
const SIM_GUEST_MIB = 256;
const SIM_LINK_MIBPS = 200;
const SIM_TIME_SCALE = 10;

function report(what: string, r: FleetResult): Record<string, unknown> {
  const times = r.migrations.map((m) => m.ms).sort((x, y) => x - y);
  const samples = r.migrations.map((m) => m.samples);
  const failed = r.migrations.filter((m) => m.error !== null);
  log(
    `${what}: ${r.migrations.length} migrations in ${(r.ms / 1000).toFixed(1)} s ` +
      `(first done ${(times[0]! / 1000).toFixed(1)} s, last ${(times.at(-1)! / 1000).toFixed(1)} s); ` +
      `progress samples per migration ${Math.min(...samples)}-${Math.max(...samples)}; ` +
      `${r.migrations.filter((m) => m.sawPostcopy).length} switched to post-copy`,
  );
  log(
    `  RSS before ${(r.rssBefore / MiB).toFixed(1)} MiB, peak ${(r.rssPeak / MiB).toFixed(1)} MiB ` +
      `(+${((r.rssPeak - r.rssBefore) / MiB).toFixed(1)} MiB)`,
  );
  for (const m of failed) log(`  ${m.name}: ${m.error?.name}: ${m.error?.message}`);
  log(
    r.misplaced.length === 0
      ? `  every guest ended running on the destination and gone from the source: PASS`
      : `  misplaced guests (${r.misplaced.length}): ${r.misplaced.join(', ')}: FAIL ` +
          r.migrations
            .filter((m) => r.misplaced.includes(m.name))
            .map((m) => `[${m.name}: destination ${m.onDestination}, source ${m.onSource}]`)
            .join(' '),
  );
  return {
    migrations: r.migrations.length,
    ms: Math.round(r.ms),
    rssBeforeMiB: r.rssBefore / MiB,
    rssPeakMiB: r.rssPeak / MiB,
    samples: { min: Math.min(...samples), max: Math.max(...samples) },
    postcopy: r.migrations.filter((m) => m.sawPostcopy).length,
    failed: failed.map((m) => ({ name: m.name, error: m.error?.message })),
    misplaced: r.misplaced,
  };
}

async function simulators(): Promise<Record<string, unknown>> {
  const network = new SimNetwork();
  const domains = Array.from({ length: SIMS }, (_, i) => ({
    name: `fleet-${String(i).padStart(2, '0')}`,
    state: 'running' as const,
    persistent: false,
    memoryMiB: SIM_GUEST_MIB,
  }));
  await using a = await Simulator.start({
    network,
    hostname: 'fleet-a',
    timeScale: SIM_TIME_SCALE,
    bandwidthMiBps: SIM_LINK_MIBPS,
    domains,
  });
  await using b = await Simulator.start({
    network,
    hostname: 'fleet-b',
    timeScale: SIM_TIME_SCALE,
    bandwidthMiBps: SIM_LINK_MIBPS,
  });
  await using src = await a.connect();
  await using dst = await b.connect();
  const doms = await Promise.all(domains.map((d) => src.lookupDomain(d.name)));
  const floorMs = ((SIMS * SIM_GUEST_MIB) / SIM_LINK_MIBPS / SIM_TIME_SCALE) * 1000;
  log(
    `simulators: ${SIMS} guests of ${SIM_GUEST_MIB} MiB, one shared ${SIM_LINK_MIBPS} MiB/s link, ` +
      `time x${SIM_TIME_SCALE}: the link alone needs ${(floorMs / 1000).toFixed(1)} s`,
  );
  const r = await migrateFleet(src, dst, doms, {
    progressIntervalMs: 200,
    migrate: { live: true },
  });
  const out = report('simulators', r);
  log(
    `  shared link: ${((SIMS * SIM_GUEST_MIB) / ((r.ms / 1000) * SIM_TIME_SCALE)).toFixed(0)} MiB per ` +
      `simulated second moved in all, against the link's ${SIM_LINK_MIBPS}`,
  );
  return { ...out, linkFloorMs: Math.round(floorMs) };
}

let hostConns: Connection[] = [];
const REAL_PREFIX = 'vw-fleet-';

async function removeFleet(conns: readonly Connection[]): Promise<void> {
  for (const c of conns) {
    for (const d of await c.listAllDomains()) {
      if (!d.name.startsWith(REAL_PREFIX)) continue;
      await d.destroy().catch(() => {});
      await d.undefine().catch(() => {});
    }
  }
}

async function realHosts(env: Record<string, string>): Promise<Record<string, unknown>> {
  const uriA = env.VIRTWIRE_HOST_A_TCP;
  const uriB = env.VIRTWIRE_HOST_B_TCP;
  const xmlPath = env.VIRTWIRE_GUEST_XML;
  if (!uriA || !uriB || !xmlPath) throw new Error('test-hosts.sh env is incomplete');
  const guestXml = readFileSync(xmlPath, 'utf8');
  const a = await connect(uriA);
  const b = await connect(uriB);
  hostConns = [a, b];
  await removeFleet(hostConns);
  const doms: Domain[] = [];
  for (let i = 0; i < REAL; i++) {
    doms.push(
      await a.domainCreateXML(
        guestXml.replace(/<name>[^<]*<\/name>/, `<name>${REAL_PREFIX}${i}</name>`),
      ),
    );
  }
  await new Promise((r) => setTimeout(r, 500)); // let the guests dirty their memory
  log(`real hosts: ${REAL} guests of 128 MiB (46 MiB kept dirty), ${uriA} -> ${uriB}`);
  const r = await migrateFleet(a, b, doms, {
    progressIntervalMs: 250,
    migrate: REAL_FLEET_MIGRATION,
    onDone: (m, n) =>
      log(
        `  ${n}/${REAL} ${m.name}: ${m.error ? `FAILED ${m.error.message}` : 'done'} at ${(m.ms / 1000).toFixed(1)} s, ${m.samples} progress samples`,
      ),
  });
  return report('real hosts', r);
}

const results: Record<string, unknown> = { loadavgAtStart: loadavg() };
let failed = false;
results.simulators = await simulators();
failed ||= (results.simulators as { misplaced: string[] }).misplaced.length > 0;

if (HOSTS) {
  await benchWithHosts({
    log,
    hostsUp: (status) => status.ok || /^host A: up[\s\S]*^host B: up/m.test(status.stdout),
    main: async (env) => {
      results.realHosts = await realHosts(env);
      failed ||= (results.realHosts as { misplaced: string[] }).misplaced.length > 0;
    },
    cleanup: async () => {
      await removeFleet(hostConns).catch(() => {});
      for (const c of hostConns) await c.close().catch(() => {});
    },
  });
}
if (JSON_OUT) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
if (failed) process.exitCode = 1;
