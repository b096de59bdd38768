/**
 * Live migration across libvirt generations, through the public API: the
 * fleet-upgrade direction (9.0 / QEMU 7.2 -> 11.3 / QEMU 10 -> 12.9 / QEMU 11,
 * hop by hop, and 9.0 -> 12.9 at once) in every mode a user would pick, with
 * the same modes between two hosts of one generation as the yardstick; and the
 * downgrade (newest -> oldest), which libvirt refuses.
 *
 * The guest dirties 46 MiB continuously and counts at guest-physical 0x200000:
 * the counter moving on the destination proves the guest runs there. Each
 * migration's wall time, downtime and post-copy page requests are printed at
 * the end, per direction and mode.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type Connection,
  connect,
  type Domain,
  type JobStats,
  MigrationError,
  type MigrationResult,
  RemoteError,
} from '../../src/index.js';
import { guestCounter, guestXml, removeDomains } from '../helpers/guest.js';
import { generations, host } from '../helpers/hosts.js';

const NAME = 'vw-xver';
const gens = generations();
const oldest = gens[0]!;
const newest = gens[gens.length - 1]!;
const genOf = new Map(gens.flatMap((g) => g.hosts.map((h) => [h, g] as const)));
const conns = new Map<string, Connection>();

function conn(h: string): Connection {
  const c = conns.get(h);
  if (!c) throw new Error(`no connection to host ${h}`);
  return c;
}

/** `9.0.0 -> 11.3.0` */
const direction = (from: string, to: string): string =>
  `${genOf.get(from)!.libvirt} -> ${genOf.get(to)!.libvirt}`;

/**
 * Routes: host letters in migration order. One generation's two hosts (the
 * same-version yardstick), every generation in upgrade order, and oldest to
 * newest at once.
 */
const routes: string[][] = gens.map((g) => [...g.hosts]);
if (gens.length >= 2) routes.push(gens.map((g) => g.hosts[0]));
if (gens.length >= 3) routes.push([oldest.hosts[0], newest.hosts[0]]);

/**
 * Post-copy's background push, in MiB/s: slow enough that the guest, now
 * running on the destination, faults on pages not there yet (at 200 MiB/s the
 * push can win that race on a loaded machine, and post-copy then serves no page
 * request at all).
 */
const POSTCOPY_MIBS = 20;

type Mode = 'pre-copy' | 'post-copy after pre-copy' | 'post-copy, manual switch' | 'p2p post-copy';
const MODES: readonly Mode[] = [
  'pre-copy',
  'post-copy after pre-copy',
  'post-copy, manual switch',
  'p2p post-copy',
];

interface Figure {
  readonly direction: string;
  readonly mode: Mode;
  readonly wallMs: number;
  readonly downtimeMs: number | undefined;
  readonly postcopyRequests: number | undefined;
}
const figures: Figure[] = [];

beforeAll(async () => {
  for (const h of new Set(routes.flat()))
    conns.set(h, await connect(host(`VIRTWIRE_HOST_${h}_TCP`)));
});

// a failed test must not leave its guest to the next one
afterEach(() => removeDomains([...conns.values()], NAME));

afterAll(async () => {
  for (const c of conns.values()) await c.close();
  if (figures.length === 0) return;
  // CI keeps them as JSON and prints them as a table (scripts/lib/migration-figures.mjs)
  const out = process.env.VIRTWIRE_MIGRATION_FIGURES;
  if (out) writeFileSync(out, `${JSON.stringify(figures, null, 1)}\n`);
  const rows = figures.map((f) =>
    [
      f.direction.padEnd(17),
      f.mode.padEnd(25),
      `${(f.wallMs / 1000).toFixed(2)} s`.padStart(8),
      `${f.downtimeMs ?? '-'} ms`.padStart(9),
      String(f.postcopyRequests ?? '-').padStart(8),
    ].join('  '),
  );
  console.log(
    `migration figures (wall time as the client saw it; downtime and post-copy page requests from the source's completed job):\n` +
      `${'direction'.padEnd(17)}  ${'mode'.padEnd(25)}  ${'wall'.padStart(8)}  ${'downtime'.padStart(9)}  ${'requests'.padStart(8)}\n` +
      rows.join('\n'),
  );
});

/** The guest's counter moves on host `h`: it runs there. */
async function expectRunningOn(h: string): Promise<void> {
  const c = conn(h);
  const d = await c.lookupDomain(NAME);
  const c1 = await guestCounter(c, d.wire);
  await new Promise((r) => setTimeout(r, 300));
  const c2 = await guestCounter(c, d.wire);
  expect(c2, `guest counter on host ${h} (${genOf.get(h)?.label})`).not.toBe(c1);
}

async function stateOn(h: string): Promise<string> {
  const s = await (await conn(h).lookupDomain(NAME)).state();
  return `${s.state}/${s.reason}`;
}

async function absentOn(h: string): Promise<boolean> {
  return (await conn(h).listAllDomains()).every((d) => d.name !== NAME);
}

/** A transient guest on host `h`, given a moment to dirty its memory. */
async function startGuest(h: string): Promise<Domain> {
  const d = await conn(h).domainCreateXML(guestXml(NAME));
  await new Promise((r) => setTimeout(r, 300));
  return d;
}

/** One migration of the guest from `from` to `to` in `mode`; resolves with libvirt's result. */
async function migrate(d: Domain, to: string, mode: Mode): Promise<MigrationResult> {
  switch (mode) {
    case 'pre-copy':
      return d.migrate(conn(to), { live: true }).done;
    case 'post-copy after pre-copy': {
      const m = d.migrate(conn(to), {
        live: true,
        postcopy: true,
        bandwidth: 20,
        postcopyBandwidth: POSTCOPY_MIBS,
        postcopyPolicy: 'after-precopy',
      });
      const r = await m.done;
      expect(m.postcopySwitch?.trigger).toBe('iteration');
      return r;
    }
    case 'post-copy, manual switch': {
      const m = d.migrate(conn(to), {
        live: true,
        postcopy: true,
        bandwidth: 1,
        postcopyBandwidth: POSTCOPY_MIBS,
      });
      // switch once pre-copy is under way (memory is moving)
      for await (const p of m.progress({ intervalMs: 200 })) {
        if ((p.memoryProcessed ?? 0) > 0) {
          await m.startPostCopy();
          break;
        }
      }
      const r = await m.done;
      expect(m.postcopyStarted).toBe(true);
      return r;
    }
    case 'p2p post-copy': {
      // the destination's URI as the source's daemon reaches it
      const m = d.migrateToURI(host(`VIRTWIRE_HOST_${to}_TCP`), {
        live: true,
        peer2peer: true,
        postcopy: true,
        bandwidth: 20,
        postcopyBandwidth: POSTCOPY_MIBS,
        postcopyPolicy: 'after-precopy',
      });
      return m.done;
    }
  }
}

function expectStats(stats: JobStats | null, mode: Mode): void {
  expect(stats?.timeElapsedMs).toBeGreaterThan(0);
  if (mode === 'pre-copy') expect(stats?.memoryPostcopyRequests ?? 0).toBe(0);
  else expect(stats?.memoryPostcopyRequests).toBeGreaterThan(0);
}

describe.each(
  routes.map((r) => ({ route: r, title: r.map((h) => genOf.get(h)!.libvirt).join(' -> ') })),
)('$title', ({ route }) => {
  it.each(MODES)(
    '%s, hop by hop: the guest runs on each destination, the source lets it go',
    async (mode) => {
      let d = await startGuest(route[0]!);
      const uuid = d.uuid;
      for (let i = 1; i < route.length; i++) {
        const from = route[i - 1]!;
        const to = route[i]!;
        const t0 = performance.now();
        const { domain, stats } = await migrate(d, to, mode);
        const wallMs = performance.now() - t0;
        figures.push({
          direction: direction(from, to),
          mode,
          wallMs,
          downtimeMs: stats?.downtimeMs,
          postcopyRequests: stats?.memoryPostcopyRequests,
        });
        expectStats(stats, mode);
        if (mode === 'p2p post-copy') expect(domain).toBeNull();
        else expect(domain?.uuid).toBe(uuid);
        expect(await stateOn(to)).toBe('running/migrated');
        await expectRunningOn(to);
        // a transient guest (created, or arrived by migration) is gone from the source
        expect(await absentOn(from)).toBe(true);
        d = await conn(to).lookupDomain(NAME);
        expect(d.uuid).toBe(uuid);
      }
      await d.destroy();
    },
    120_000,
  );
});

// with one generation only there is nothing older to refuse a guest
if (gens.length >= 2)
  describe(`downgrade ${newest.libvirt} -> ${oldest.libvirt}`, () => {
    const from = newest.hosts[0];
    const to = oldest.hosts[0];

    /** The refusal: a MigrationError in `phase`, caused by the daemon's own error. */
    async function expectRefused(
      m: { done: Promise<MigrationResult> },
      phase: string,
    ): Promise<MigrationError> {
      const err = await m.done.then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(MigrationError);
      const me = err as MigrationError;
      expect(me.phase).toBe(phase);
      // QEMU 7.2 has no machine type of QEMU 11's (pc-i440fx-11.1): 9.0 refuses the guest
      expect(me.cause).toBeInstanceOf(RemoteError);
      expect((me.cause as RemoteError).codeName).toBe('VIR_ERR_CONFIG_UNSUPPORTED');
      expect(me.message).toMatch(/machine type/);
      return me;
    }

    it.each([
      ['managed', 'prepare'],
      ['peer-to-peer', 'perform'],
    ] as const)(
      '%s: refused in %s with the daemon’s error, and the guest keeps running on the source',
      async (kind, phase) => {
        const d = await startGuest(from);
        const opts = { live: true, postcopy: true, postcopyPolicy: 'after-precopy' } as const;
        await expectRefused(
          kind === 'managed'
            ? d.migrate(conn(to), opts)
            : d.migrateToURI(host(`VIRTWIRE_HOST_${to}_TCP`), { ...opts, peer2peer: true }),
          phase,
        );
        expect(await stateOn(from)).toBe('running/booted');
        await expectRunningOn(from);
        expect(await absentOn(to)).toBe(true);
        await d.destroy();
      },
      60_000,
    );
  });
