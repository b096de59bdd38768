import { afterAll, describe, expect, it } from 'vitest';
import {
  type Connection,
  ConnectionClosedError,
  connect,
  type DomainEvent,
  EventOverflowError,
} from '../../src/index.js';
import { guestXml } from '../helpers/guest.js';
import { host } from '../helpers/hosts.js';

const opened: Connection[] = [];
async function open(uri: string): Promise<Connection> {
  const c = await connect(uri);
  opened.push(c);
  return c;
}
afterAll(async () => {
  for (const c of opened) await c.close();
});

type Lifecycle = DomainEvent<'lifecycle'>;
const names = (evs: Lifecycle[]) => evs.map((e) => `${e.event}/${e.detail}`);

/** Collects `n` events from an async iterable, failing after `ms`. */
async function take<T>(it: AsyncIterable<T>, n: number, ms = 15_000): Promise<T[]> {
  const out: T[] = [];
  const timer = setTimeout(() => {}, 0);
  clearTimeout(timer);
  const deadline = AbortSignal.timeout(ms);
  for await (const ev of it) {
    out.push(ev);
    if (out.length >= n) break;
    if (deadline.aborted) break;
  }
  return out;
}

describe('domain lifecycle events from a real daemon', () => {
  it('test driver: define, start, suspend, resume, destroy, undefine arrive in order with names', async () => {
    const conn = await open(host('VIRTWIRE_HOST_A_TEST'));
    const sub = conn.events.domain('lifecycle');
    await sub.ready;
    const xml = `<domain type='test'><name>vw-ev</name><memory>65536</memory><os><type>hvm</type></os></domain>`;
    const got = take(sub, 6);
    const dom = await conn.domainDefineXML(xml);
    await dom.createWithFlags();
    await dom.suspend();
    await dom.resume();
    await dom.destroy();
    await dom.undefine();
    const evs = await got;
    expect(names(evs)).toEqual([
      'defined/added',
      'started/booted',
      'suspended/paused',
      'resumed/unpaused',
      'stopped/destroyed',
      'undefined/removed',
    ]);
    expect(evs.every((e) => e.domain.name === 'vw-ev' && e.domain.uuid === dom.uuid)).toBe(true);
    expect(evs[2]).toMatchObject({ type: 'lifecycle', eventCode: 3, detailCode: 0 });
  });

  it('real QEMU guest: the same sequence, filtered to one domain', async () => {
    const conn = await open(host('VIRTWIRE_HOST_A_TCP'));
    const other = conn.events.domain('lifecycle'); // all domains: sees the definition too
    await other.ready;
    const dom = await conn.domainDefineXML(guestXml('vw-ev-qemu'));
    const defined = await other.next({ signal: AbortSignal.timeout(10_000) });
    expect(defined).toMatchObject({ event: 'defined', detail: 'added' });
    expect(defined.domain.uuid).toBe(dom.uuid);
    const sub = conn.events.domain('lifecycle', { domain: dom });
    await sub.ready;
    const collected: Lifecycle[] = [];
    const loop = (async () => {
      for await (const ev of sub) {
        collected.push(ev);
        if (ev.event === 'undefined') break;
      }
    })();
    await dom.createWithFlags();
    await dom.suspend();
    await dom.resume();
    await dom.destroy();
    await dom.undefine();
    await loop;
    // QEMU also reports extra transitions (resumed/unpaused as the CPUs first run, shutdown/host
    // before stopped/destroyed); the user's actions must all appear, in order.
    const seen = names(collected);
    const wanted = [
      'started/booted',
      'suspended/paused',
      'resumed/unpaused',
      'stopped/destroyed',
      'undefined/removed',
    ];
    let at = -1;
    for (const w of wanted) {
      const i = seen.indexOf(w, at + 1);
      expect(i, `${w} after index ${at} in ${seen.join(', ')}`).toBeGreaterThan(at);
      at = i;
    }
    expect(collected.every((e) => e.domain.uuid === dom.uuid)).toBe(true);
    // the unfiltered subscription saw the same events, in the same order
    const all: string[] = [];
    while (all.length < collected.length) {
      const e = await other.next({ signal: AbortSignal.timeout(10_000) });
      if (e.domain.uuid === dom.uuid) all.push(`${e.event}/${e.detail}`);
    }
    expect(all).toEqual(seen);
    await other.close();
  });

  it('leaving the loop deregisters the callback on the daemon', async () => {
    const conn = await open(host('VIRTWIRE_HOST_A_TEST'));
    const sub = conn.events.domain('lifecycle');
    await sub.ready;
    const dom = await conn.lookupDomain('test');
    const first = take(sub, 1);
    await dom.suspend();
    expect(names(await first)).toEqual(['suspended/paused']);
    // take() broke out of the loop: the subscription deregisters itself
    await new Promise((r) => setTimeout(r, 100));
    const before = { ...conn.events.stats };
    await dom.resume();
    await dom.suspend();
    await dom.resume();
    await new Promise((r) => setTimeout(r, 300));
    // the daemon sent nothing more: no event arrived, claimed or not
    expect(conn.events.stats).toEqual(before);
    // and a second deregistration of the same callback is refused by the daemon
    const probe = conn.events.domain('lifecycle');
    await probe.ready;
    expect(conn.events.stats).toEqual(before);
    await probe.close();
  });

  it('a slow consumer loses the oldest events under drop-oldest, or gets EventOverflowError', async () => {
    const conn = await open(host('VIRTWIRE_HOST_A_TEST'));
    const dom = await conn.lookupDomain('test');
    const drop = conn.events.domain('lifecycle', { queueSize: 2 });
    const strict = conn.events.domain('lifecycle', { queueSize: 2, overflow: 'error' });
    await Promise.all([drop.ready, strict.ready]);
    for (let i = 0; i < 3; i++) {
      await dom.suspend();
      await dom.resume();
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(drop.dropped).toBe(4);
    expect(names(await take(drop, 2))).toEqual(['suspended/paused', 'resumed/unpaused']);
    await expect(take(strict, 10)).rejects.toBeInstanceOf(EventOverflowError);
  });

  it('closing the connection ends every iterator', async () => {
    const conn = await connect(host('VIRTWIRE_HOST_A_TEST'));
    const a = conn.events.domain('lifecycle');
    const b = conn.events.domain('reboot');
    await Promise.all([a.ready, b.ready]);
    const loops = [take(a, 1), take(b, 1)];
    await conn.close();
    expect(await Promise.all(loops)).toEqual([[], []]);
  });

  it('an unknown event name or a failing registration is reported', async () => {
    const conn = await connect(host('VIRTWIRE_HOST_A_TEST'));
    expect(() => conn.events.domain('nope' as 'lifecycle')).toThrow(/unknown domain event nope/);
    await conn.close();
    const sub = conn.events.domain('lifecycle');
    await expect(sub.ready).rejects.toBeInstanceOf(ConnectionClosedError);
    await expect(take(sub, 1)).rejects.toBeInstanceOf(ConnectionClosedError);
  });

  it('subscriptions with the same filter share one daemon registration', async () => {
    const conn = await open(host('VIRTWIRE_HOST_A_TEST'));
    const a = conn.events.domain('lifecycle');
    const b = conn.events.domain('lifecycle');
    await Promise.all([a.ready, b.ready]);
    const dom = await conn.lookupDomain('test');
    await dom.suspend();
    expect(names(await take(a, 1))).toEqual(['suspended/paused']);
    // a left its loop; b still receives, through the same registration
    await dom.resume();
    expect(names(await take(b, 2))).toEqual(['suspended/paused', 'resumed/unpaused']);
    // both gone: registering again works (the daemon dropped the old one)
    const c = conn.events.domain('lifecycle');
    await c.ready;
    await dom.suspend();
    expect(names(await take(c, 1))).toEqual(['suspended/paused']);
    await dom.resume();
  });

  it('typed payloads of other families: network lifecycle on the test driver', async () => {
    const conn = await open(host('VIRTWIRE_HOST_A_TEST'));
    const sub = conn.events.network('lifecycle');
    await sub.ready;
    const got = take(sub, 2);
    const { net } = await conn.remote.networkLookupByName({ name: 'default' });
    await conn.remote.networkDestroy({ net });
    await conn.remote.networkCreate({ net });
    const evs = await got;
    expect(evs.map((e) => e.event)).toEqual(['stopped', 'started']);
    expect(evs[0]!.net.name).toBe('default');
  });
});
