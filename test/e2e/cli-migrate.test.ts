/**
 * `virtwire migrate` as a user runs it, between the two real libvirt hosts
 * (A: 127.0.0.1, B: 127.0.0.2): a real QEMU guest dirtying 46 MiB
 * continuously, so pre-copy at 20 MiB/s cannot converge and post-copy must
 * finish the job. The spawned CLI's exit code, its --json stream and summary,
 * and the guest's final state on both hosts are checked; then Ctrl-C aborting
 * a real migration job, and peer-to-peer back to A.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Connection, connect } from '../../src/index.js';
import { guestCounter, guestXml, removeDomains } from '../helpers/guest.js';
import { host } from '../helpers/hosts.js';
import { CliProcess, jsonLines, runCli } from '../unit/cli/run-cli.js';

const NAME = 'vw-cli-mig';
let a: Connection;
let b: Connection;
let A: string;
let B: string;

beforeAll(async () => {
  A = host('VIRTWIRE_HOST_A_TCP');
  B = host('VIRTWIRE_HOST_B_TCP');
  a = await connect(A);
  b = await connect(B);
});

// NAME is no other test domain's prefix
const cleanup = (): Promise<void> => removeDomains([a, b], NAME);
afterEach(cleanup);
afterAll(async () => {
  await cleanup();
  await a.close();
  await b.close();
});

async function startGuest(): Promise<void> {
  await a.domainCreateXML(guestXml(NAME));
  await new Promise((r) => setTimeout(r, 300)); // let the guest dirty its memory
}

async function stateOn(conn: Connection): Promise<string> {
  const s = await (await conn.lookupDomain(NAME)).state();
  return `${s.state}/${s.reason}`;
}

async function absentOn(conn: Connection): Promise<boolean> {
  return (await conn.listAllDomains()).every((d) => d.name !== NAME);
}

/** The guest's memory counter moves on `conn`: it really runs there. */
async function expectRunningOn(conn: Connection): Promise<void> {
  const d = await conn.lookupDomain(NAME);
  const c1 = await guestCounter(conn, d.wire);
  await new Promise((r) => setTimeout(r, 300));
  expect(await guestCounter(conn, d.wire), `guest counter on ${conn.uri}`).not.toBe(c1);
}

const details = (e: Record<string, unknown>): Record<string, unknown> =>
  (e.details ?? {}) as Record<string, unknown>;

describe('virtwire migrate between two real libvirt hosts', () => {
  it('post-copy after the first pass, driven by the spawned CLI with --json', async () => {
    await startGuest();
    const r = await runCli([
      '-c',
      A,
      'migrate',
      '--live',
      '--postcopy',
      '--postcopy-after-precopy',
      '--bandwidth',
      '20',
      // Post-copy slow enough (the guest's 46 MiB take ~4.5 s) that the guest, running on B, writes
      // to pages not copied yet whatever the machine's load: each such write is a page request,
      // and post-copy lasts long enough for its progress to be sampled.
      '--postcopy-bandwidth',
      '10',
      '--json',
      NAME,
      B,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout);
    expect(lines[0]).toMatchObject({
      type: 'start',
      domain: NAME,
      source: A,
      destination: B,
      mode: 'managed',
      options: { live: true, postcopy: true, postcopyPolicy: 'after-precopy', bandwidth: 20 },
    });

    const progress = lines.filter((l) => l.type === 'progress');
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress[0]).toMatchObject({ phase: 'precopy', iteration: 1 });
    // the first pass: no dirty rate, no ETA, no convergence verdict (QEMU has not measured it)
    for (const p of progress.filter((x) => x.phase === 'precopy' && x.iteration === 1))
      expect([p.dirtyBps, p.etaMs, p.converging]).toEqual([null, null, null]);
    // post-copy is reported too, and the switch with its latency
    expect(progress.some((p) => p.phase === 'postcopy')).toBe(true);
    expect(lines).toContainEqual(
      expect.objectContaining({ type: 'switch', trigger: 'iteration', ok: true }),
    );
    for (const p of progress) {
      expect(p.memoryTotal as number).toBeGreaterThan(100 * 1024 * 1024); // the 128 MiB guest
      expect(p.percent as number).toBeGreaterThanOrEqual(0);
      expect(p.percent as number).toBeLessThanOrEqual(100);
    }

    const events = lines
      .filter((l) => l.type === 'event')
      .map((e) =>
        e.event === 'lifecycle'
          ? `${e.side}:${details(e).event}/${details(e).detail}`
          : e.event === 'migration_iteration'
            ? `${e.side}:iteration ${details(e).iteration}`
            : `${e.side}:${e.event}`,
      );
    expect(events).toContain('source:iteration 2');
    expect(events.indexOf('source:iteration 2')).toBeLessThan(
      events.indexOf('source:suspended/postcopy'),
    );
    expect(events).toContain('destination:resumed/postcopy');
    expect(events).toContain('destination:resumed/migrated');
    expect(events).toContain('source:stopped/migrated');
    expect(events).toContain('source:job_completed');

    const summary = lines.at(-1)!;
    expect(summary).toMatchObject({
      type: 'summary',
      domain: NAME,
      result: 'completed',
      error: null,
      postcopy: true,
      postcopySwitch: { trigger: 'iteration' },
      destinationState: 'running (migrated)',
      sourceState: 'gone (transient domain moved)',
    });
    // the source's completed-job statistics, as libvirt reports them
    expect(summary.postcopyRequests as number).toBeGreaterThan(0);
    expect(summary.downtimeMs as number).toBeGreaterThan(0);
    expect(summary.downtimeMs as number).toBeLessThan(5000);
    expect(summary.iterations as number).toBeGreaterThanOrEqual(2);
    expect(summary.totalTimeMs as number).toBeGreaterThan(0);
    // at least the 46 MiB the guest keeps dirty (zero pages are not sent)
    expect(summary.dataTransferred as number).toBeGreaterThan(46 * 1024 * 1024);
    const sw = summary.postcopySwitch as { latencyMs: number | null };
    expect(sw.latencyMs).not.toBeNull();
    expect(sw.latencyMs!).toBeGreaterThan(0);

    // and the hosts agree
    expect(await stateOn(b)).toBe('running/migrated');
    expect(await absentOn(a)).toBe(true);
    await expectRunningOn(b);
  });

  it('Ctrl-C aborts the real migration job: exit 1, the guest keeps running on the source', async () => {
    await startGuest();
    const p = new CliProcess(['-c', A, 'migrate', '--live', '--bandwidth', '1', '--json', NAME, B]);
    await p.waitFor((o) => o.stdout.includes('"type":"progress"'), 'a progress line', 60_000);
    p.kill('SIGINT');
    const r = await p.done;
    expect(r.code).toBe(1);
    // libvirt's "canceled by client", or QEMU's write failing first on the socket the cancel shut
    expect(r.stderr).toMatch(
      /^error: (VIR_ERR_OPERATION_ABORTED: |VIR_ERR_OPERATION_FAILED: .*Unable to write to socket: Broken pipe)/,
    );
    const lines = jsonLines(r.stdout);
    expect(lines).toContainEqual(expect.objectContaining({ type: 'note', action: 'abort' }));
    expect(lines.at(-1)).toMatchObject({
      type: 'summary',
      result: 'aborted',
      postcopy: false,
      // queried, not guessed
      sourceState: 'running (booted)',
      destinationState: 'absent (no such domain)',
      advice: [],
    });
    expect(await stateOn(a)).toBe('running/booted'); // never paused: the job was cancelled in pre-copy
    expect(await absentOn(b)).toBe(true);
    await expectRunningOn(a);
  });

  it('peer-to-peer with plain output, and a missing domain named by libvirt', async () => {
    await startGuest();
    // the URI as host A's daemon reaches host B
    const r = await runCli(['-c', A, 'migrate', '--live', '--p2p', '--persistent', NAME, B]);
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).not.toContain('\x1b');
    // progress and notes on stderr, the result on stdout, as virsh does
    expect(r.stderr).toMatch(new RegExp(`^Migrating ${NAME}: .* \\(live, peer-to-peer\\)$`, 'm'));
    expect(r.stderr).not.toContain('error');
    expect(r.stdout).toMatch(new RegExp(`^Migration of ${NAME} completed \\(pre-copy\\) in `));
    // the CLI reached the destination too, and asked it
    expect(r.stdout).toMatch(/^ {2}destination: +running \(migrated\)$/m);
    expect(await stateOn(b)).toBe('running/migrated');
    await expectRunningOn(b);
    const st = await runCli(['-c', B, 'domstate', '--reason', NAME]);
    expect(st.stdout).toBe('running (migrated)\n');

    const missing = await runCli(['-c', A, 'migrate', '--live', NAME, B]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toBe(
      `error: VIR_ERR_NO_DOMAIN: Domain not found: no domain with matching name '${NAME}'\n`,
    );
  });

  it('a migration libvirt refuses in Prepare (to the same host): the error once, the states as they are', async () => {
    await startGuest();
    const r = await runCli(['-c', A, 'migrate', '--live', NAME, A]);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).not.toContain('probably'); // queried, not guessed
    expect((r.stdout + r.stderr).match(/same host/g)).toHaveLength(1); // the error once
    expect(r.stderr).toMatch(/^error: .*migrate guest to the same host/m);
    expect(r.stdout).toMatch(new RegExp(`^Migration of ${NAME} failed in prepare after `));
    expect(r.stdout).toMatch(/^ {2}source: +running \(booted\)$/m);
    // the domain found on "both" hosts is one: both connections reach host A (its host UUID)
    expect(r.stdout).toMatch(
      /^ {2}destination: +unknown \(the destination is the source host itself\)$/m,
    );
    expect(r.stdout).not.toContain('advice'); // the guest never left: nothing to do
    expect(await stateOn(a)).toBe('running/booted');
    await expectRunningOn(a);
  });
});

describe('everyday commands against the real daemon', () => {
  it('list, dominfo, domstate, domjobinfo and live events agree with the library', async () => {
    await startGuest();
    const dom = await a.lookupDomain(NAME);

    const list = await runCli(['-c', A, 'list', '--json']);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toContainEqual(
      expect.objectContaining({ name: NAME, uuid: dom.uuid, id: dom.id, state: 'running' }),
    );
    const table = await runCli(['-c', A, 'list']);
    expect(table.stdout).toMatch(new RegExp(`^ ${dom.id} +${NAME} +running$`, 'm'));

    const info = await runCli(['-c', A, 'dominfo', NAME]);
    expect(info.code).toBe(0);
    expect(info.stdout).toMatch(new RegExp(`^UUID: +${dom.uuid}$`, 'm'));
    expect(info.stdout).toMatch(/^State: +running$/m);

    const events = new CliProcess([
      '-c',
      A,
      'events',
      '--json',
      '--domain',
      NAME,
      '--event',
      'lifecycle',
      '--count',
      '2',
    ]);
    await events.waitFor(
      (o) => o.stderr.includes(`listening for lifecycle events of ${NAME}`),
      'the subscription',
    );
    await dom.suspend();
    expect((await runCli(['-c', A, 'domstate', '--reason', NAME])).stdout).toBe('paused (user)\n');
    await dom.resume();
    const ev = await events.done;
    expect(ev.code).toBe(0);
    expect(jsonLines(ev.stdout).map((e) => [details(e).event, details(e).detail])).toEqual([
      ['suspended', 'paused'],
      ['resumed', 'unpaused'],
    ]);

    const job = await runCli(['-c', A, 'domjobinfo', '--json', NAME]);
    expect(job.code).toBe(0);
    expect(JSON.parse(job.stdout)).toMatchObject({ type: 'None', typeCode: 0 });
    const missing = await runCli(['-c', A, 'dominfo', 'vw-no-such-domain']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: VIR_ERR_NO_DOMAIN: /);
  });
});

describe('virtwire call against the same real daemons', () => {
  it('reaches the qemu and admin programs with JSON arguments', async () => {
    await startGuest();
    const look = await runCli([
      '-c',
      A,
      'call',
      'remote.domainLookupByName',
      JSON.stringify({ name: NAME }),
    ]);
    expect(look.code).toBe(0);
    const { dom } = JSON.parse(look.stdout) as { dom: unknown };
    const mon = await runCli([
      '-c',
      A,
      'call',
      'QEMU_PROC_DOMAIN_MONITOR_COMMAND',
      JSON.stringify({ dom, cmd: 'info status', flags: 1 }),
    ]);
    expect(mon.stderr).toBe('');
    expect(JSON.parse(mon.stdout)).toEqual({
      result: expect.stringContaining('VM status: running'),
    });

    const socket = `${host('VIRTWIRE_HOSTS_DIR')}/A/sock/libvirt-admin-sock`;
    const adm = await runCli([
      'call',
      '--admin-socket',
      socket,
      'admin.connectListServers',
      '{"needResults":1,"flags":0}',
    ]);
    expect(adm.code).toBe(0);
    const { servers } = JSON.parse(adm.stdout) as { servers: Array<{ name: string }> };
    expect(servers.map((s) => s.name)).toContain('libvirtd');

    // --debug traces the admin connection too
    const traced = await runCli([
      '--debug',
      'call',
      '--admin-socket',
      socket,
      'admin.connectListServers',
      '{"needResults":1,"flags":0}',
    ]);
    expect(traced.code).toBe(0);
    expect(traced.stderr).toMatch(/-> CALL admin\.CONNECT_LIST_SERVERS\b/);
    expect(traced.stderr).toMatch(/<- REPLY admin\.CONNECT_LIST_SERVERS\b/);
  });
});
