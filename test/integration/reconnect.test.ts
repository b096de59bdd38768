/**
 * Supervised connections against a real libvirtd (host A): killed and
 * restarted, frozen longer than keepalive, and a connection reset from the
 * daemon's side (virt-admin's client-disconnect, through virtwire's own admin
 * API). Each time every connection comes back, every subscription is
 * registered again and yields one gap marker, then the next lifecycle events;
 * afterwards nothing is left behind: no timers, no sockets, no daemon clients.
 */
// generations: 9.0 only, because the harness commands that kill, freeze and restart a daemon (restart-daemon, stop-daemon) drive hosts A and B only
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHarness } from '../../scripts/lib/harness.js';
import {
  type AdminConnection,
  type ConnectionCloseMessage,
  type ConnectionOpenMessage,
  connect,
  connectAdmin,
  type Domain,
  type DomainEvent,
  type EventGap,
  isEventGap,
  type StateChange,
  type Subscription,
  type SupervisedConnection,
} from '../../src/index.js';
import { guestXml, removeDomains } from '../helpers/guest.js';
import { host } from '../helpers/hosts.js';

const PREFIX = 'vw-rc-';
const CONNECTIONS = 100;
const DOMAINS = 10; // one subscription per domain per connection: 1,000 in all
const RECONNECT = { initialDelayMs: 100, maxDelayMs: 1000, jitter: 0.5, attemptTimeoutMs: 3000 };

/** Supervised too, so it is back after each fault like the connections under test. */
let admin: SupervisedConnection;
let domains: Domain[] = [];

function harness(...args: string[]): void {
  const r = runHarness(args);
  if (!r.ok) throw new Error(`test-hosts.sh ${args.join(' ')} failed: ${r.out}`);
}

/** Host A's libvirtd is running again, whatever a failed test left behind. */
function ensureDaemonUp(): void {
  runHarness(['cont-daemon', 'A']);
  if (!runHarness('status').stdout.includes('host A: up')) harness('restart-daemon', 'A');
}

function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (cond()) resolve();
      else if (Date.now() - t0 > ms) reject(new Error(`${what}: not within ${ms} ms`));
      else setTimeout(tick, 20);
    };
    tick();
  });
}

/** The next item of `sub` that is not a gap, with the gaps seen before it. */
async function nextEvent<T>(
  sub: Subscription<T | EventGap>,
  ms = 30_000,
): Promise<{ gaps: EventGap[]; event: T }> {
  const gaps: EventGap[] = [];
  const signal = AbortSignal.timeout(ms);
  for (;;) {
    const ev = await sub.next({ signal });
    if (isEventGap(ev)) gaps.push(ev);
    else return { gaps, event: ev as T };
  }
}

/** Active handles by kind (Timeout, TCPSocketWrap...), for leak checks. */
function resources(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1;
  return out;
}

/** Links opened and closed, from the diagnostics channels. */
function linkLedger() {
  const opened = new Set<number>();
  const closed = new Set<number>();
  const onOpen = (m: unknown) => opened.add((m as ConnectionOpenMessage).connectionId);
  const onClose = (m: unknown) => closed.add((m as ConnectionCloseMessage).connectionId);
  subscribe('virtwire:connection:open', onOpen);
  subscribe('virtwire:connection:close', onClose);
  return {
    opened,
    closed,
    stop() {
      unsubscribe('virtwire:connection:open', onOpen);
      unsubscribe('virtwire:connection:close', onClose);
    },
  };
}

async function daemonClients(adm: AdminConnection) {
  const r = await adm.admin.serverListClients({
    srv: { name: 'libvirtd' },
    needResults: 1,
    flags: 0,
  });
  return r.clients;
}

beforeAll(async () => {
  ensureDaemonUp();
  admin = await connect(host('VIRTWIRE_HOST_A_TCP'), { reconnect: RECONNECT });
  await removeDomains([admin], PREFIX);
  domains = [];
  for (let i = 0; i < DOMAINS; i++) {
    domains.push(await admin.domainDefineXML(guestXml(`${PREFIX}${i}`)));
  }
}, 120_000);

afterAll(async () => {
  ensureDaemonUp();
  const a = await connect(host('VIRTWIRE_HOST_A_TCP'));
  await removeDomains([a], PREFIX);
  await a.close();
  await admin?.close().catch(() => {});
}, 120_000);

/** The test domain's XML with its UUID, so that defining it again updates it. */
function xmlOf(i: number): string {
  return guestXml(`${PREFIX}${i}`).replace('</name>', `</name><uuid>${domains[i]!.uuid}</uuid>`);
}

/** Redefines every test domain: each gets one lifecycle event `defined/updated`. */
async function touchAll(conn: SupervisedConnection): Promise<void> {
  for (let i = 0; i < DOMAINS; i++) await conn.domainDefineXML(xmlOf(i));
}

describe('supervised connections through a real libvirtd restart', () => {
  it(`${CONNECTIONS} connections with ${CONNECTIONS * DOMAINS} subscriptions survive SIGKILL and restart`, async () => {
    const baseline = resources();
    const ledger = linkLedger();
    const uri = host('VIRTWIRE_HOST_A_TCP');
    const conns: SupervisedConnection[] = [];
    const subs: Array<{ sub: Subscription<DomainEvent<'lifecycle'> | EventGap>; name: string }> =
      [];
    const changes: StateChange[][] = [];
    try {
      for (let c = 0; c < CONNECTIONS; c++) {
        const conn = await connect(uri, { reconnect: RECONNECT });
        conns.push(conn);
        const log: StateChange[] = [];
        conn.onStateChange((ch) => log.push(ch));
        changes.push(log);
        for (const d of domains) {
          subs.push({ sub: conn.events.domain('lifecycle', { domain: d }), name: d.name });
        }
      }
      await Promise.all(subs.map((s) => s.sub.ready));
      expect(subs).toHaveLength(CONNECTIONS * DOMAINS);

      harness('kill-daemon', 'A');
      await until(
        () => conns.every((c) => c.state === 'reconnecting'),
        30_000,
        'every connection notices',
      );
      harness('restart-daemon', 'A');
      await until(() => conns.every((c) => c.state === 'open'), 60_000, 'every connection back');
      // every subscription registered again (its gap marker says so) before the events come
      await until(
        () => conns.every((c) => c.events.stats.gaps === DOMAINS),
        60_000,
        'every subscription registered again',
      );
      await touchAll(admin);

      const results = await Promise.all(subs.map((s) => nextEvent(s.sub)));
      for (const [i, r] of results.entries()) {
        expect(r.gaps).toHaveLength(1);
        expect(r.gaps[0]!.durationMs).toBeGreaterThan(0);
        expect(r.gaps[0]!.until.getTime()).toBeGreaterThan(r.gaps[0]!.since.getTime());
        expect(r.event.domain.name).toBe(subs[i]!.name);
        expect(`${r.event.event}/${r.event.detail}`).toBe('defined/updated');
      }
      for (const log of changes) {
        expect(log[0]).toMatchObject({ from: 'open', to: 'reconnecting' });
        expect(log.at(-1)).toMatchObject({ to: 'open' });
        expect(log.filter((c) => c.to === 'open')).toHaveLength(1);
      }
    } finally {
      await Promise.all(conns.map((c) => c.close()));
      ledger.stop();
    }
    // every link opened was closed; no timer or socket outlives the connections
    expect(ledger.opened.size).toBeGreaterThanOrEqual(2 * CONNECTIONS);
    // (the admin connection reconnected too, and stays open for the next tests)
    const unclosed = [...ledger.opened].filter((id) => !ledger.closed.has(id));
    expect(unclosed.filter((id) => id !== admin.rpc.id)).toEqual([]);
    await new Promise((r) => setTimeout(r, 100));
    const after = resources();
    expect(after.Timeout ?? 0).toBeLessThanOrEqual(baseline.Timeout ?? 0);
    expect(after.TCPSocketWrap ?? 0).toBeLessThanOrEqual(baseline.TCPSocketWrap ?? 0);
  }, 240_000);

  it('a daemon frozen longer than keepalive: the link is declared dead, and comes back after SIGCONT', async () => {
    const conn = await connect(host('VIRTWIRE_HOST_A_TCP'), {
      reconnect: { ...RECONNECT, attemptTimeoutMs: 1500 },
      keepalive: { interval: 1, count: 2 },
    });
    try {
      const changes: StateChange[] = [];
      conn.onStateChange((c) => changes.push(c));
      const sub = conn.events.domain('lifecycle', { domain: domains[0]! });
      await sub.ready;
      harness('stop-daemon', 'A');
      const stoppedAt = Date.now();
      try {
        await until(() => conn.state === 'reconnecting', 15_000, 'keepalive notices');
        expect(changes[0]).toMatchObject({ to: 'reconnecting', reason: 'keepalive' });
        // attempts against a frozen daemon time out rather than hang
        await until(
          () => changes.filter((c) => c.to === 'reconnecting').length >= 2,
          15_000,
          'a second attempt',
        );
        expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(2000);
      } finally {
        harness('cont-daemon', 'A');
      }
      await until(() => conn.state === 'open', 30_000, 'back after SIGCONT');
      await until(() => conn.events.stats.gaps === 1, 30_000, 'registered again');
      await admin.domainDefineXML(xmlOf(0));
      const { gaps, event } = await nextEvent(sub);
      expect(gaps).toHaveLength(1);
      expect(gaps[0]!.reason).toBe('keepalive');
      expect(gaps[0]!.durationMs).toBeGreaterThanOrEqual(2000);
      expect(event).toMatchObject({ event: 'defined', detail: 'updated' });
    } finally {
      await conn.close();
    }
  }, 120_000);

  it('a connection reset by the daemon (admin client-disconnect) reconnects and resubscribes', async () => {
    const adm = await connectAdmin(
      join(host('VIRTWIRE_HOSTS_DIR'), 'A', 'sock', 'libvirt-admin-sock'),
    );
    try {
      const before = new Set((await daemonClients(adm)).map((c) => c.id));
      const conn = await connect(host('VIRTWIRE_HOST_A_TCP'), { reconnect: RECONNECT });
      try {
        const sub = conn.events.domain('lifecycle', { domain: domains[1]! });
        await sub.ready;
        const mine = (await daemonClients(adm)).filter((c) => !before.has(c.id));
        expect(mine).toHaveLength(1);
        const link = conn.rpc;
        await adm.admin.clientClose({ clnt: mine[0]!, flags: 0 });
        expect((await link.closed).reason).not.toBe('client');
        await until(() => conn.state === 'open' && conn.rpc !== link, 15_000, 'reconnected');
        await until(() => conn.events.stats.gaps === 1, 15_000, 'registered again');
        await admin.domainDefineXML(xmlOf(1));
        const { gaps, event } = await nextEvent(sub);
        expect(gaps).toHaveLength(1);
        expect(event).toMatchObject({ event: 'defined', detail: 'updated' });
        expect(event.domain.name).toBe(`${PREFIX}1`);
        // the daemon lost our old client and has exactly one new one
        const now = (await daemonClients(adm)).filter((c) => !before.has(c.id));
        expect(now).toHaveLength(1);
        expect(now[0]!.id).not.toBe(mine[0]!.id);
      } finally {
        await conn.close();
      }
      // and none of ours once it is closed (the daemon drops a client within a moment)
      let left = 1;
      for (let i = 0; i < 50 && left > 0; i++) {
        left = (await daemonClients(adm)).filter((c) => !before.has(c.id)).length;
        if (left > 0) await new Promise((r) => setTimeout(r, 100));
      }
      expect(left).toBe(0);
    } finally {
      await adm.close();
    }
  }, 60_000);
});
