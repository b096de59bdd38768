/**
 * The simulator as libvirt's own clients see it: virsh and python3-libvirt
 * (the C library underneath both, from Debian's packages) drive two
 * simulators over TCP, `qemu+tcp://127.0.0.1:PORT/system`, answering as
 * libvirt 9.0. Every expectation below is what libvirtd 9.0 with QEMU did
 * for the same commands on this project's real test hosts (transcripts in
 * simulator-crosscheck, which plays these scenarios on both and compares
 * the outcomes whole).
 *
 * Needs only the packages (scripts/test-hosts.sh install): no daemon of its
 * own. It is an integration-project file because CI installs them for that
 * project.
 */
// generations: none (no daemon), because libvirt's clients drive simulators here; simulator-crosscheck plays the same scenarios on the real hosts
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimNetwork, Simulator } from '../../src/testing/index.js';
import { type Migrate3Result, playAll, SCENARIOS } from '../helpers/client-scenarios.js';
import { JobStatsChecker } from '../helpers/job-invariants.js';
import { guestXml, haveClients, scratch } from '../helpers/real-clients.js';

/** The harness's test guest as the simulator needs it: 128 MiB rewriting a 46 MiB working set. */
const BASE = `<domain type='qemu'>
  <name>virtwire-guest</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
  </os>
  <on_poweroff>destroy</on_poweroff>
</domain>`;

let outcomes: Map<string, Record<string, unknown>>;
const sims: Simulator[] = [];
const of = (title: string): Record<string, unknown> => {
  const o = outcomes.get(title);
  if (!o) throw new Error(`no outcome for ${title}`);
  return o;
};
const byPrefix = (prefix: string) => {
  const s = SCENARIOS.find((x) => x.name.startsWith(prefix));
  if (!s) throw new Error(`no scenario ${prefix}`);
  return of(s.name);
};
type Step = { code: number; out: string; err: string };
const steps = (o: Record<string, unknown>) => o.steps as Record<string, Step>;
const events = (o: Record<string, unknown>, guest: string) =>
  (o.events as Record<string, { a: string[]; b: string[] }>)[guest]!;

const LIVE_MIGRATION_SOURCE = [
  'lifecycle Defined Added',
  'lifecycle Resumed Unpaused',
  'lifecycle Started Booted',
  'migration-iteration',
  'lifecycle Suspended Migrated',
  'migration-iteration',
  'lifecycle Stopped Migrated',
];

beforeAll(async () => {
  if (!haveClients()) {
    throw new Error(
      "libvirt's clients are missing (/usr/bin/virsh, /usr/bin/python3 with python3-libvirt): " +
        'run sudo bash scripts/test-hosts.sh install',
    );
  }
  const network = new SimNetwork();
  const a = await Simulator.start({ network, hostname: 'sim-a', tcp: true, profile: '9.0' });
  const b = await Simulator.start({ network, hostname: 'sim-b', tcp: true, profile: '9.0' });
  sims.push(a, b);
  expect(a.uri).toMatch(/^qemu\+tcp:\/\/127\.0\.0\.1:\d+\/system$/);
  outcomes = await playAll({ a: a.uri, b: b.uri, dir: scratch(), xml: (n) => guestXml(BASE, n) });
}, 600_000);

afterAll(async () => {
  for (const s of sims) await s.close();
});

describe('virsh', () => {
  it('domain life cycle: define, dominfo, domstate, dumpxml, start, suspend, resume, destroy, undefine', () => {
    const o = byPrefix('virsh: define');
    const s = steps(o);
    expect(s.define?.code).toBe(0);
    expect(s.define?.out).toMatch(/^Domain 'vw-c-life' defined from /);
    expect(
      ['stateDefined', 'stateStarted', 'statePaused', 'stateResumed', 'stateDestroyed'].map(
        (k) => s[k]?.out,
      ),
    ).toEqual([
      'shut off (unknown)',
      'running (booted)',
      'paused (user)',
      'running (unpaused)',
      'shut off (destroyed)',
    ]);
    expect(s.startAgain).toEqual({ code: 1, out: '', err: 'error: Domain is already active' });
    expect(s.suspendShutOff).toEqual({
      code: 1,
      out: '',
      err: "error: Failed to suspend domain 'vw-c-life'\nerror: Requested operation is not valid: domain is not running",
    });
    expect(s.dominfoGone?.err).toBe("error: failed to get domain 'vw-c-life'");
    expect(o.infoDefined).toMatchObject({
      Id: '-',
      State: 'shut off',
      'Max memory': '131072 KiB',
      Persistent: 'yes',
    });
    expect(o.infoRunning).toMatchObject({ Id: '<id>', State: 'running', 'CPU(s)': '1' });
    expect(o.dumpxml).toEqual({
      name: true,
      liveHasId: true,
      inactiveHasId: false,
      memoryKiB: '131072',
      keepsMetadata: true,
    });
    expect(events(o, 'vw-c-life')).toEqual({
      a: [
        'lifecycle Defined Added',
        'lifecycle Resumed Unpaused',
        'lifecycle Started Booted',
        'lifecycle Suspended Paused',
        'lifecycle Resumed Unpaused',
        'lifecycle Shutdown Finished after host request',
        'lifecycle Stopped Destroyed',
        'lifecycle Undefined Removed',
      ],
      b: [],
    });
  });

  it('tunables: migrate-getspeed/setspeed (pre- and post-copy), get/setmaxdowntime, domjobinfo, domjobabort', () => {
    const s = steps(byPrefix('virsh: migrate-setspeed'));
    const out = (k: string) => s[k]?.out;
    expect(out('getspeed')).toBe('8796093022207');
    expect(out('getspeedPostcopy')).toBe('0');
    expect([out('getspeedAfter'), out('getspeedPostcopyAfter')]).toEqual(['20', '50']);
    expect([out('getmaxdowntime'), out('getmaxdowntimeAfter')]).toEqual(['300', '250']);
    expect(out('domjobinfo')).toBe('Job type:         None');
    expect(out('domjobinfoCompleted')).toBe('Job type:         None');
    expect(s.domjobabort?.err).toBe(
      'error: Requested operation is not valid: no job is active on the domain',
    );
    expect(s.migratePostcopy?.err).toBe(
      'error: Requested operation is not valid: post-copy can only be started while outgoing migration is in progress',
    );
  });

  it("version; lists and lookups of what the host has none of, each in its object's words", () => {
    const o = byPrefix('virsh: version');
    expect(o.hypervisor).toBe('7.2');
    const s = steps(o);
    expect(s.netList?.out).toBe(
      'Name   State   Autostart   Persistent\n----------------------------------------',
    );
    expect(s.poolList?.code).toBe(0);
    expect(s.netInfo?.err).toBe(
      "error: failed to get network 'vw-nope'\nerror: Network not found: no network with matching name 'vw-nope'",
    );
    expect(s.poolInfo?.err).toMatch(/Storage pool not found: no storage pool with matching name/);
    expect(s.volInfo?.err).toMatch(/Storage volume not found: no storage vol with matching path/);
    expect(s.nodedev?.err).toMatch(/Node device not found: no node device with matching name/);
    expect(s.secret?.err).toMatch(/Secret not found: no secret with matching uuid/);
    expect(s.iface?.err).toMatch(/Interface not found: couldn't find interface named 'vw-nope'/);
    expect(s.nwfilter?.err).toMatch(/Network filter not found: no nwfilter with matching name/);
  });

  it('event --all --loop: lifecycle, migration-iteration and job-completed events, per host', () => {
    const o = byPrefix('virsh: migrate --live (managed)');
    expect(events(o, 'vw-c-mm').a).toEqual([
      ...LIVE_MIGRATION_SOURCE,
      expect.stringMatching(/^job-completed operation time_elapsed .* memory_iteration /),
    ]);
    expect(events(o, 'vw-c-mm').b).toEqual([
      'lifecycle Started Migrated',
      'lifecycle Defined Added',
      'lifecycle Resumed Migrated',
    ]);
  });

  for (const [mode, guest] of [
    ['virsh: migrate --live (managed)', 'vw-c-mm'],
    ['virsh: migrate --live --p2p', 'vw-c-p2p'],
    ['virsh: migrate --live --p2p --tunnelled', 'vw-c-tun'],
  ] as const) {
    it(`${mode.replace('virsh: ', '')}: the guest runs on B only`, () => {
      const o = of(mode);
      expect(o.migrate).toMatchObject({ code: 0, err: '' });
      expect(o.states).toEqual({ a: 'absent', b: 'running (migrated)' });
      expect(events(o, guest).a.slice(0, LIVE_MIGRATION_SOURCE.length)).toEqual(
        LIVE_MIGRATION_SOURCE,
      );
    });
  }

  it('migrate --offline --persistent, managed and --p2p: only the definition moves', () => {
    const o = byPrefix('virsh: migrate --offline');
    for (const k of ['managed', 'p2p', 'running'])
      expect(o[k]).toEqual({ code: 0, out: '', err: '' });
    expect(o.states).toEqual({
      off: { a: 'shut off (unknown)', b: 'shut off (unknown)' },
      offp: { a: 'absent', b: 'shut off (unknown)' },
      offrun: { a: 'running (booted)', b: 'shut off (unknown)' },
    });
    expect((o.noPersist as Step).err).toBe(
      'error: Requested operation is not valid: offline migration must be specified with the persistent flag set',
    );
    expect((o.tunnelled as Step).err).toBe(
      'error: Requested operation is not valid: tunnelled offline migration does not make sense',
    );
  });

  it('migrate --postcopy --postcopy-after-precopy --verbose: progress within 0-100 %, post-copy events', () => {
    const o = byPrefix('virsh: migrate --postcopy --postcopy-after-precopy');
    expect(o.migrate).toMatchObject({
      code: 0,
      progressWithin0to100: true,
      progressEndsAt100: true,
    });
    expect(o.states).toEqual({ a: 'absent', b: 'running (migrated)' });
    expect(events(o, 'vw-c-pc').a).toContain('lifecycle Suspended Post-copy');
    // the destination defines the guest in Finish, then reports it running in post-copy
    expect(events(o, 'vw-c-pc').b).toEqual([
      'lifecycle Started Migrated',
      'lifecycle Defined Added',
      'lifecycle Resumed Post-copy',
      'lifecycle Resumed Migrated',
    ]);
    // libvirtd drops the destination's completed statistics after post-copy
    expect(o.completedOnDestination).toBe('None');
  });

  it('domjobinfo during a migration, migrate-postcopy by hand twice, no domjobabort in post-copy', () => {
    const o = byPrefix('virsh: domjobinfo during');
    expect(o.jobinfo).toEqual(
      expect.arrayContaining(['Memory processed', 'Memory remaining', 'Iteration', 'Dirty rate']),
    );
    expect(o.first).toEqual({ code: 0, out: '', err: '' });
    expect(o.during).toEqual({ a: 'paused (post-copy)', b: 'running (post-copy)' });
    expect(o.second).toEqual({ code: 0, out: '', err: '' });
    expect((o.abortInPostcopy as Step).err).toBe(
      'error: Requested operation is not valid: cannot abort migration in post-copy mode',
    );
    expect(o.migrate).toMatchObject({ code: 0 });
    expect(o.states).toEqual({ a: 'absent', b: 'running (migrated)' });
  });

  it('migrate --postcopy --timeout 8 --timeout-postcopy: switches to post-copy after 8 s', () => {
    const o = byPrefix('virsh: migrate --postcopy --timeout 8');
    expect(o.migrate).toMatchObject({ code: 0, progressWithin0to100: true });
    expect(o.states).toEqual({ a: 'absent', b: 'running (migrated)' });
    expect(events(o, 'vw-c-tpc').a).toContain('lifecycle Suspended Post-copy');
  });

  it('migrate --timeout 8: virsh suspends the guest (paused for the migration) so pre-copy converges', () => {
    const o = byPrefix('virsh: migrate --timeout 8');
    expect(o.migrate).toMatchObject({ code: 0 });
    expect(events(o, 'vw-c-tsus').a).toEqual([
      ...LIVE_MIGRATION_SOURCE.slice(0, 4),
      'lifecycle Suspended Migrated',
      'migration-iteration',
      'lifecycle Stopped Migrated',
      expect.stringMatching(/^job-completed /),
    ]);
    expect(o.states).toEqual({ a: 'absent', b: 'running (migrated)' });
  });

  it('domjobabort during pre-copy: the migration fails, the guest stays on A', () => {
    const o = byPrefix('virsh: domjobabort during');
    expect(o.aborted).toEqual({ code: 0, out: '', err: '' });
    expect(o.migrate).toEqual({
      code: 1,
      out: '',
      err: "error: operation aborted: job 'migration out' canceled by client",
    });
    expect(o.states).toEqual({ a: 'running (booted)', b: 'absent' });
    expect(events(o, 'vw-c-abort').b).toEqual([
      'lifecycle Started Migrated',
      'lifecycle Stopped Failed',
    ]);
  });
});

describe('python3-libvirt', () => {
  it("events through libvirt's default event loop", () => {
    const o = byPrefix('python3-libvirt: lifecycle events');
    // [event, detail]: defined/added, resumed/unpaused, started/booted, suspended/paused,
    // resumed/unpaused, shutdown/host, stopped/destroyed, undefined/removed
    expect(o.callback).toEqual([
      [0, 0],
      [4, 0],
      [2, 0],
      [3, 0],
      [4, 0],
      [6, 2],
      [5, 1],
      [1, 0],
    ]);
  });

  it('error codes and error domains per kind of object', () => {
    const e = byPrefix('python3-libvirt: error codes').errors as Record<string, unknown>;
    expect(e.libVersion).toBe(9_000_000);
    expect(e.hvMajorMinor).toBe(7002);
    expect(e.networkLookupByName).toEqual({
      code: 43,
      domain: 19,
      message: "Network not found: no network with matching name 'vw-nope'",
    });
    expect(e.storagePoolLookupByName).toMatchObject({ code: 49, domain: 18 });
    expect(e.nodeDeviceLookupByName).toMatchObject({ code: 53, domain: 22 });
    expect(e.secretLookupByUUIDString).toMatchObject({ code: 66, domain: 30 });
    expect(e.interfaceLookupByName).toMatchObject({ code: 57, domain: 26 });
    expect(e.nwfilterLookupByName).toMatchObject({ code: 62, domain: 33 });
    expect(e.snapshotLookupByName).toMatchObject({ code: 72, domain: 10 });
    expect(e['ro.networkCreateXML']).toEqual({
      code: 29,
      domain: 19,
      message: 'operation forbidden: read only access prevents virNetworkCreateXML',
    });
    expect(e['ro.snapshotCreateXML']).toMatchObject({ code: 29, domain: 35 });
    expect(e['ro.suspend']).toMatchObject({ code: 29, domain: 20 });
    for (const listing of ['listAllNetworks', 'listAllStoragePools', 'snapshotListNames'])
      expect(e[listing]).toBe('ok');
  });

  it('migrate3 with post-copy started from another thread; jobStats sampled throughout', () => {
    const o = byPrefix('python3-libvirt: migrate3') as unknown as Migrate3Result & {
      sourceState: unknown;
      destState: unknown;
    };
    expect(o).toMatchObject({
      ok: true,
      error: null,
      dest: 'vw-c-py',
      switched: { ok: true, error: null },
      sourceState: null,
      destState: [1, 2], // running, migrated
    });
    expect(o.samples.length).toBeGreaterThan(3);
    const checker = new JobStatsChecker('python', { model: true, dirtyMiBps: 5000 });
    for (const s of o.samples) checker.check(s);
    expect(checker.problems).toEqual([]);
    expect(o.samples.every((s) => s.memory_total === 128 * 1024 * 1024)).toBe(true);
  });
});
