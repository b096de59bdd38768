/**
 * `virtwire events` and `dominfo` as a user runs them against simulators of
 * two libvirt generations: the event types the daemon offers counted as
 * `--list` counts them, the ones an older daemon lacks skipped by name,
 * virsh's timestamps or ISO ones.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../../../src/index.js';
import { Simulator } from '../../../src/testing/index.js';
import { CliProcess, runCli } from './run-cli.js';

let old: Simulator;
let fresh: Simulator;
let oldConn: Connection;

beforeAll(async () => {
  const domains = [{ name: 'vm1', state: 'running' as const, memoryMiB: 256 }];
  old = await Simulator.start({ tcp: true, hostname: 'sim-90', profile: '9.0', domains });
  fresh = await Simulator.start({ tcp: true, hostname: 'sim-new', domains });
  oldConn = await old.connect();
});
afterAll(async () => {
  await oldConn.close();
  await old.close();
  await fresh.close();
});

const listed = async (): Promise<string[]> => {
  const r = await runCli(['events', '--list']);
  expect(r.code).toBe(0);
  return r.stdout.trim().split('\n');
};

describe('events: the types a daemon offers', () => {
  it('listens for every type --list shows on a daemon that has them all', async () => {
    const names = await listed();
    expect(names).toContain('nic_mac_change');
    const r = await runCli(['-c', fresh.uri, 'events', '--timeout', '0.3']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`listening for ${names.length} event types (Ctrl-C to stop)`);
    expect(r.stderr).not.toContain('skipped');
  });

  it('skips by name, with a note, what an older daemon does not offer, and counts the rest', async () => {
    const names = await listed();
    const r = await runCli(['-c', old.uri, 'events', '--timeout', '0.3']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      'note: skipped nic_mac_change: not offered by this daemon (libvirt 9.0.0)',
    );
    expect(r.stderr).toContain(
      `listening for ${names.length - 1} of ${names.length} event types (Ctrl-C to stop)`,
    );
  });

  it('answers a request for only what the daemon lacks with the event by name', async () => {
    const r = await runCli(['-c', old.uri, 'events', '--event', 'nic_mac_change']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^error: events: the daemon \(libvirt 9\.0\.0\) offers none of the event types asked for \(nic_mac_change\)/,
    );
    const some = await runCli([
      '-c',
      old.uri,
      'events',
      '--event',
      'lifecycle,nic_mac_change',
      '--timeout',
      '0.3',
    ]);
    expect(some.code).toBe(0);
    expect(some.stderr).toContain('note: skipped nic_mac_change');
    expect(some.stderr).toContain('listening for lifecycle events');
  });
});

describe('events: timestamps', () => {
  async function twoEvents(flag: string): Promise<string[]> {
    const p = new CliProcess([
      '-c',
      old.uri,
      'events',
      '--event',
      'lifecycle',
      flag,
      '--count',
      '2',
    ]);
    await p.waitFor((o) => o.stderr.includes('listening for lifecycle'), 'the subscription');
    const vm1 = await oldConn.lookupDomain('vm1');
    await vm1.suspend();
    await vm1.resume();
    const r = await p.done;
    expect(r.code).toBe(0);
    return r.stdout.trim().split('\n');
  }

  it("prefixes virsh's timestamp with --timestamp", async () => {
    const lines = await twoEvents('--timestamp');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}[+-]\d{4}: event 'lifecycle' for domain 'vm1': suspended \(paused\)$/,
    );
  });

  it('prefixes an ISO 8601 time with --iso', async () => {
    const lines = await twoEvents('--iso');
    expect(lines[1]).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z: event 'lifecycle' for domain 'vm1': resumed \(unpaused\)$/,
    );
    const t = Date.parse(lines[1]!.slice(0, 24));
    expect(Math.abs(Date.now() - t)).toBeLessThan(60_000);
  });
});

describe('dominfo on a daemon without a security model call', () => {
  it('prints the lines it can and no security lines', async () => {
    const r = await runCli(['-c', old.uri, 'dominfo', 'vm1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Managed save: {3}no$/m);
    expect(r.stdout).not.toContain('Security');
    const j = await runCli(['-c', old.uri, 'dominfo', '--json', 'vm1']);
    expect(JSON.parse(j.stdout)).toMatchObject({ name: 'vm1', security: null, messages: [] });
  });
});
