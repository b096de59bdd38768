import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { backoffDelay, reconnectPolicy } from '../../../src/api/supervise.js';
import { type Channel, type ChannelSink, duplexChannel } from '../../../src/channel.js';
import {
  AbortError,
  ConnectionClosedError,
  type ConnectionStateMessage,
  connect,
  type EventGap,
  isEventGap,
  type StateChange,
  type SupervisedConnection,
  TimeoutError,
} from '../../../src/index.js';
import { SimNetwork, Simulator } from '../../../src/testing/index.js';
import type { Transport } from '../../../src/transport/types.js';

const VM = { name: 'vm1', uuid: '7669727a-0000-4000-8000-0000000000a1', state: 'running' as const };

/**
 * A daemon that can die, come back and freeze: a transport to whichever
 * simulator is current, whose links the test can cut (a reset) or freeze
 * (nothing passes either way, as with a SIGSTOPped daemon).
 */
class Daemon {
  sim: Simulator | null = null;
  readonly network = new SimNetwork();
  readonly links: Array<{ stream: Duplex; frozen: boolean }> = [];
  opens = 0;

  async start(extra: Array<{ name: string; state?: 'running' | 'shutoff' }> = []): Promise<void> {
    this.sim = await Simulator.start({ network: this.network, domains: [...extra, VM] });
  }

  async kill(): Promise<void> {
    const sim = this.sim;
    this.sim = null;
    await sim?.close();
  }

  readonly transport: Transport = async (uri, opts) => {
    if (!this.sim) throw new Error('connection refused: the daemon is down');
    const stream = (await this.sim.transport()(uri, opts)) as Duplex;
    const link = { stream, frozen: false };
    this.links.push(link);
    this.opens++;
    return freezable(stream, link);
  };

  /** Cuts the newest link from the daemon's side. */
  reset(): void {
    this.links.at(-1)?.stream.destroy(new Error('connection reset by peer'));
  }

  freeze(): void {
    const l = this.links.at(-1);
    if (l) l.frozen = true;
  }
}

/** A channel over `stream` that passes nothing while `link.frozen`. */
function freezable(stream: Duplex, link: { frozen: boolean }): Channel {
  const inner = duplexChannel(stream);
  return {
    open(sink: ChannelSink) {
      inner.open({
        data: (c) => {
          if (!link.frozen) sink.data(c);
        },
        drain: () => sink.drain(),
        end: (e) => sink.end(e),
      });
    },
    write: (b) => (link.frozen ? true : inner.write(b)),
    get needsDrain() {
      return inner.needsDrain;
    },
    pause: () => inner.pause(),
    resume: () => inner.resume(),
    close: (e) => inner.close(e),
  };
}

const FAST = { initialDelayMs: 20, maxDelayMs: 100, jitter: 0 };
const open: SupervisedConnection[] = [];
const daemons: Daemon[] = [];

async function setup(
  reconnect: Parameters<typeof reconnectPolicy>[0] = FAST,
  keepalive?: { interval: number; count: number },
): Promise<{ d: Daemon; conn: SupervisedConnection; changes: StateChange[] }> {
  const d = new Daemon();
  daemons.push(d);
  await d.start();
  const conn = await connect('qemu:///system', {
    transport: d.transport,
    reconnect,
    ...(keepalive ? { keepalive } : {}),
  });
  open.push(conn);
  const changes: StateChange[] = [];
  conn.onStateChange((c) => changes.push(c));
  return { d, conn, changes };
}

function until(cond: () => boolean, ms = 5000): Promise<void> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (cond()) resolve();
      else if (Date.now() - t0 > ms) reject(new Error('condition not met in time'));
      else setTimeout(tick, 5);
    };
    tick();
  });
}

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
  for (const d of daemons.splice(0)) await d.kill();
});

describe('reconnect policy', () => {
  it('doubles the wait from initialDelayMs up to maxDelayMs, jitter shaving at most its share', () => {
    const p = reconnectPolicy({ initialDelayMs: 100, maxDelayMs: 1000, jitter: 0.5 });
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(p, a, () => 0))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    expect(backoffDelay(p, 3, () => 1)).toBe(200);
    expect(backoffDelay(p, 3, () => 0.5)).toBe(300);
  });

  it('defaults: 200 ms doubling to 30 s, jitter 0.3, never giving up, calls waiting', () => {
    expect(reconnectPolicy(true)).toEqual({
      initialDelayMs: 200,
      maxDelayMs: 30_000,
      maxAttempts: Infinity,
      jitter: 0.3,
      attemptTimeoutMs: 15_000,
      whileReconnecting: 'wait',
    });
  });

  it('names the bad field', () => {
    expect(() => reconnectPolicy({ initialDelayMs: -1 })).toThrow(/initialDelayMs/);
    expect(() => reconnectPolicy({ maxAttempts: 1.5 })).toThrow(/maxAttempts/);
    expect(() => reconnectPolicy({ jitter: 2 })).toThrow(/jitter/);
    expect(() => reconnectPolicy({ initialDelayMs: 500, maxDelayMs: 100 })).toThrow(/maxDelayMs/);
    expect(() => reconnectPolicy({ whileReconnecting: 'queue' as unknown as 'wait' })).toThrow(
      /whileReconnecting/,
    );
  });
});

describe('a supervised connection', () => {
  it('reopens after a reset, with the whole open sequence, and follows its state', async () => {
    const { d, conn, changes } = await setup();
    expect(conn.state).toBe('open');
    expect(conn.supervised).toBe(true);
    const firstLink = conn.rpc;
    d.reset();
    await until(() => conn.state === 'open' && conn.rpc !== firstLink);
    expect(d.opens).toBe(2);
    expect(changes.map((c) => c.to)).toEqual(['reconnecting', 'open']);
    expect(changes[0]).toMatchObject({ from: 'open', to: 'reconnecting', attempt: 1 });
    expect(changes[1]).toMatchObject({ from: 'reconnecting', to: 'open', attempt: 1 });
    expect(changes[1]!.gapMs).toBeGreaterThanOrEqual(0);
    // the new link ran AUTH_LIST, the keepalive probe, CONNECT_OPEN and the feature probes
    const calls = d.sim!.calls;
    expect(calls.filter((c) => c === 'CONNECT_OPEN')).toHaveLength(2);
    expect(calls.filter((c) => c === 'AUTH_LIST')).toHaveLength(2);
    expect(conn.features.keepalive).toBe(true);
    expect((await conn.remote.connectGetHostname()).hostname).toBe(d.sim!.hostname);
  });

  it('rejects calls in flight with ConnectionClosedError and never sends them again', async () => {
    const { d, conn } = await setup();
    const dom = await conn.lookupDomain('vm1');
    d.freeze(); // the call goes nowhere, its reply never comes
    const inFlight = dom.getInfo();
    await new Promise((r) => setTimeout(r, 20));
    const before = d.sim!.calls.filter((c) => c === 'DOMAIN_GET_INFO').length;
    d.reset();
    await expect(inFlight).rejects.toBeInstanceOf(ConnectionClosedError);
    await until(() => conn.state === 'open');
    await new Promise((r) => setTimeout(r, 50));
    expect(d.sim!.calls.filter((c) => c === 'DOMAIN_GET_INFO').length).toBe(before);
  });

  it('makes calls wait while reconnecting, bounded by their timeout or signal', async () => {
    const { d, conn } = await setup({ ...FAST, initialDelayMs: 100, maxDelayMs: 100 });
    await d.kill();
    await until(() => conn.state === 'reconnecting');
    const waiting = conn.remote.connectGetLibVersion();
    const timed = conn.remote.connectGetLibVersion(undefined, { timeoutMs: 30 }).catch((e) => e);
    const ac = new AbortController();
    const aborted = conn.remote
      .connectGetLibVersion(undefined, { signal: ac.signal })
      .catch((e: unknown) => e);
    ac.abort();
    expect(await timed).toBeInstanceOf(TimeoutError);
    expect(await aborted).toBeInstanceOf(AbortError);
    await d.start();
    expect((await waiting).libVer).toBeGreaterThan(0n);
    expect(conn.state).toBe('open');
  });

  it("fails calls at once while reconnecting with whileReconnecting: 'fail'", async () => {
    const { d, conn } = await setup({ ...FAST, whileReconnecting: 'fail' });
    await d.kill();
    await until(() => conn.state === 'reconnecting');
    const err = await conn.remote.connectGetLibVersion().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionClosedError);
    expect((err as ConnectionClosedError).message).toMatch(/reconnecting/);
  });

  it('notices a frozen daemon through keepalive and reconnects', async () => {
    const { d, conn, changes } = await setup(FAST, { interval: 1, count: 1 });
    d.freeze();
    await until(() => changes.some((c) => c.to === 'reconnecting'), 6000);
    expect(changes.find((c) => c.to === 'reconnecting')?.reason).toBe('keepalive');
    await until(() => conn.state === 'open', 6000);
    expect(d.opens).toBe(2);
  });

  it('re-registers every subscription with its filters and yields one gap marker per gap', async () => {
    const { d, conn } = await setup();
    const dom = await conn.lookupDomain('vm1');
    const mine = conn.events.domain('lifecycle', { domain: dom });
    const all = conn.events.domain('lifecycle');
    await Promise.all([mine.ready, all.ready]);
    const lostAt = Date.now();
    d.reset();
    await until(() => conn.state === 'open' && conn.events.stats.gaps === 2);
    // a second gap: a marker of its own
    d.reset();
    await until(() => conn.events.stats.gaps === 4);
    await dom.suspend();
    const got: unknown[] = [];
    for await (const ev of mine) {
      got.push(ev);
      if (!isEventGap(ev)) break;
    }
    const gaps = got.filter(isEventGap) as EventGap[];
    expect(gaps).toHaveLength(2);
    expect(gaps[0]).toMatchObject({ type: 'gap', reason: expect.stringMatching(/eof|error/) });
    expect(gaps[0]!.since.getTime()).toBeLessThanOrEqual(lostAt);
    expect(gaps[0]!.durationMs).toBe(gaps[0]!.until.getTime() - gaps[0]!.since.getTime());
    expect(got.at(-1)).toMatchObject({ type: 'lifecycle', event: 'suspended' });
    // the filter travelled with the re-registration: the daemon has one for vm1 and one for all
    const reg = d.sim!.calls.filter((c) => c === 'CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY');
    expect(reg).toHaveLength(2 * 3);
    const first = await all.next();
    expect(isEventGap(first)).toBe(true);
  });

  it('refreshes the ids of its domain handles when the daemon restarted them', async () => {
    const { d, conn } = await setup();
    const dom = await conn.lookupDomain('vm1');
    const oldId = dom.id;
    await d.kill();
    await d.start([
      { name: 'other1', state: 'running' },
      { name: 'other2', state: 'running' },
    ]);
    await until(() => conn.state === 'open');
    await until(() => dom.id !== oldId);
    expect(dom.id).toBe((await conn.lookupDomain('vm1')).id);
    expect((await dom.state()).state).toBe('running');
  });

  it('gives up after maxAttempts: closed, with the last error, subscriptions and waiters told', async () => {
    const { d, conn, changes } = await setup({ ...FAST, maxAttempts: 3 });
    const sub = conn.events.domain('lifecycle');
    await sub.ready;
    await d.kill();
    const waiting = conn.remote.connectGetLibVersion().catch((e: unknown) => e);
    const info = await conn.closed;
    expect(info.reason).not.toBe('client');
    expect(info.error?.message).toMatch(/gave up reconnecting .* after 3 attempts/);
    expect(await waiting).toBeInstanceOf(ConnectionClosedError);
    await expect(sub.next()).rejects.toBeInstanceOf(ConnectionClosedError);
    expect(conn.state).toBe('closed');
    expect(changes.filter((c) => c.to === 'reconnecting')).toHaveLength(3);
    expect(changes.at(-1)).toMatchObject({ to: 'closed' });
  });

  it('close() while reconnecting stops it and leaves no timer behind', async () => {
    const before = timers();
    const { d, conn } = await setup({ ...FAST, initialDelayMs: 5000, maxDelayMs: 5000 });
    await d.kill();
    await until(() => conn.state === 'reconnecting');
    await conn.close();
    expect(conn.state).toBe('closed');
    expect((await conn.closed).reason).toBe('client');
    await new Promise((r) => setTimeout(r, 20));
    expect(timers()).toBeLessThanOrEqual(before);
    expect(d.opens).toBe(1);
  });

  it('publishes its state changes on virtwire:connection:state', async () => {
    const seen: ConnectionStateMessage[] = [];
    const onMessage = (m: unknown): void => {
      seen.push(m as ConnectionStateMessage);
    };
    subscribe('virtwire:connection:state', onMessage);
    try {
      const { d, conn } = await setup();
      d.reset();
      await until(() => seen.some((m) => m.to === 'open' && m.from === 'reconnecting'));
      const mine = seen.filter((m) => m.connectionId === seen.at(-1)!.connectionId);
      expect(mine.map((m) => `${m.from}>${m.to}`)).toEqual([
        'connecting>open',
        'open>reconnecting',
        'reconnecting>open',
      ]);
      expect(mine.at(-1)!.linkId).toBe(conn.rpc.id);
      expect(mine[1]!.linkId).toBe(0);
    } finally {
      unsubscribe('virtwire:connection:state', onMessage);
    }
  });

  it('a plain connection reports open then closed, never reconnecting', async () => {
    const d = new Daemon();
    daemons.push(d);
    await d.start();
    const conn = await connect('qemu:///system', { transport: d.transport });
    const changes: StateChange[] = [];
    conn.onStateChange((c) => changes.push(c));
    expect(conn.supervised).toBe(false);
    expect(conn.state).toBe('open');
    d.reset();
    await conn.closed;
    expect(conn.state).toBe('closed');
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ from: 'open', to: 'closed' });
    expect(d.opens).toBe(1);
  });
});
