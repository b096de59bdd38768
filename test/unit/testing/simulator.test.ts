/**
 * The host simulator (virtwire/testing) driven by the real virtwire client:
 * the three transports, the domain life cycle with libvirt's states, reasons
 * and events, its errors, and the protocol edges a daemon must handle.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KEEPALIVE_PROGRAM } from '../../../src/generated/keepalive.js';
import { REMOTE_PROGRAM, remoteProgram } from '../../../src/generated/remote.js';
import {
  decodeVirNetMessageError,
  decodeVirNetMessageHeader,
  type VirNetMessageHeader,
} from '../../../src/generated/virnet.js';
import {
  type Connection,
  connect,
  type DomainEvent,
  hasErrorCode,
  isInvalidArg,
  isNoDomain,
  isNoSupport,
  isOperationInvalid,
  RemoteError,
} from '../../../src/index.js';
import { callDescriptor } from '../../../src/rpc/descriptor.js';
import { Framer } from '../../../src/rpc/framer.js';
import { Simulator } from '../../../src/testing/index.js';
import { XdrReader, XdrWriter } from '../../../src/xdr/index.js';
import { tempDir } from '../../helpers/tmp.js';

const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const x of opened.splice(0).reverse()) await x.close();
});
async function sim(opts: Parameters<typeof Simulator.start>[0] = {}): Promise<Simulator> {
  const s = await Simulator.start(opts);
  opened.push(s);
  return s;
}
async function client(s: Simulator, uri?: string): Promise<Connection> {
  const c = uri ? await connect(uri) : await s.connect();
  opened.push(c);
  return c;
}
const XML = (name: string, extra = '') =>
  `<domain type='kvm'><name>${name}</name><memory unit='MiB'>256</memory><vcpu>2</vcpu>${extra}</domain>`;
const err = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => e as RemoteError,
  );

describe('transports', () => {
  it('answers the open sequence over tcp, a unix socket and in memory, with the same host', async () => {
    const dir = tempDir('vw-sim-');
    const s = await sim({
      hostname: 'node-a',
      tcp: true,
      unix: join(dir, 'sock'),
      domains: [{ name: 'vm1', state: 'running' }],
    });
    expect(s.uri).toMatch(/^qemu\+tcp:\/\/127\.0\.0\.1:\d+\/system$/);
    expect(s.uris.unix).toBe(`qemu+unix:///system?socket=${join(dir, 'sock')}`);
    expect(s.uris.memory).toBe('qemu://node-a/system');
    const viaTcp = await client(s, s.uri);
    const viaUnix = await client(s, s.uris.unix);
    const inMemory = await client(s);
    for (const c of [viaTcp, viaUnix, inMemory]) {
      expect(c.features).toEqual({ keepalive: true, eventCallback: true, closeCallback: true });
      expect(c.uri).toBe('qemu:///system');
      expect(await c.remote.connectGetHostname()).toEqual({ hostname: 'node-a' });
      expect(await c.remote.connectGetType()).toEqual({ type: 'QEMU' });
      expect((await c.remote.connectGetLibVersion()).libVer).toBe(12_009_000n);
      expect((await c.remote.connectGetVersion()).hvVer).toBeGreaterThan(0n);
      const [d] = await c.listAllDomains();
      expect(d?.name).toBe('vm1');
    }
    expect(s.connectionCount).toBe(3);
    expect(s.opened).toEqual(['qemu:///system', 'qemu:///system', 'qemu:///system']);
    // the open sequence, as libvirt's client sends it, is recorded
    expect(s.calls.slice(0, 5)).toEqual([
      'AUTH_LIST',
      'CONNECT_SUPPORTS_FEATURE',
      'CONNECT_OPEN',
      'CONNECT_SUPPORTS_FEATURE',
      'CONNECT_SUPPORTS_FEATURE',
    ]);
    await viaTcp.close();
    await new Promise((r) => setTimeout(r, 20));
    expect(s.connectionCount).toBe(2);
  });

  it('closing the simulator ends every connection and refuses new ones', async () => {
    const s = await Simulator.start({ tcp: true });
    const c = await s.connect();
    const t = await connect(s.uri);
    await s.close();
    expect((await c.closed).reason).toBe('eof');
    expect((await t.closed).reason).toBe('eof');
    await expect(s.connect()).rejects.toThrow(/closed/);
    await expect(connect(s.uri)).rejects.toThrow();
  });

  it('refuses a URI of another driver in CONNECT_OPEN, as libvirtd without that driver', async () => {
    const s = await sim();
    const e = await err(connect('test:///default', { transport: s.transport() }));
    expect(e).toBeInstanceOf(RemoteError);
    expect(e?.codeName).toBe('VIR_ERR_NO_CONNECT');
    expect(e?.message).toBe('no connection driver available for test:///default');
    await client(s, undefined);
    await connect('qemu:///session', { transport: s.transport() }).then((c) => opened.push(c));
    expect(s.opened).toEqual(['qemu:///system', 'qemu:///session']);
  });
});

describe('domains', () => {
  it('define, start, suspend, resume, destroy, undefine: states, reasons, ids and XML as libvirt', async () => {
    const s = await sim({ hostname: 'h' });
    const c = await client(s);
    const dom = await c.domainDefineXML(XML('web'));
    expect(dom.id).toBe(-1);
    expect(dom.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(await dom.state()).toEqual({
      state: 'shutoff',
      reason: 'unknown',
      stateCode: 5,
      reasonCode: 0,
    });
    expect(await dom.getInfo()).toEqual({
      state: 5 /* SHUTOFF */,
      maxMem: 262144n,
      memory: 262144n,
      nrVirtCpu: 2,
      cpuTime: 0n,
    });
    await dom.createWithFlags();
    expect(dom.id).toBe(1);
    expect(await dom.state()).toEqual({
      state: 'running',
      reason: 'booted',
      stateCode: 1,
      reasonCode: 1,
    });
    const xml = await dom.getXMLDesc();
    expect(xml).toContain("<domain type='kvm' id='1'>");
    expect(xml).toContain('<name>web</name>');
    expect(xml).toContain(`<uuid>${dom.uuid}</uuid>`);
    expect(xml).toContain("<memory unit='KiB'>262144</memory>");
    expect(await dom.getXMLDesc(2 /* INACTIVE */)).not.toContain("id='1'");
    await dom.suspend();
    expect(await dom.state()).toMatchObject({ state: 'paused', reason: 'user' });
    await dom.suspend(); // suspending a paused domain is accepted, as libvirt does
    await dom.resume();
    expect(await dom.state()).toMatchObject({
      state: 'running',
      reason: 'unpaused',
      reasonCode: 5,
    });
    expect((await c.lookupDomain(dom.uuid)).name).toBe('web');
    expect((await c.domainLookupByID(1)).uuid).toBe(dom.uuid);
    expect((await c.listAllDomains(1 /* ACTIVE */)).map((d) => d.name)).toEqual(['web']);
    await dom.destroy();
    expect(await dom.state()).toEqual({
      state: 'shutoff',
      reason: 'destroyed',
      stateCode: 5,
      reasonCode: 2,
    });
    expect(s.domain('web')).toMatchObject({
      state: 'shutoff',
      reason: 'destroyed',
      id: -1,
      persistent: true,
    });
    await dom.undefine();
    expect(s.domain('web')).toBeUndefined();
    expect(isNoDomain(await err(c.lookupDomain('web')))).toBe(true);
  });

  it('a transient domain runs at once and is gone when destroyed; an undefined running one becomes transient', async () => {
    const s = await sim();
    const c = await client(s);
    const t = await c.domainCreateXML(XML('tmp'));
    expect(t.id).toBeGreaterThan(0);
    expect(s.domain('tmp')).toMatchObject({ state: 'running', persistent: false });
    expect(isOperationInvalid(await err(t.undefine()))).toBe(true);
    await t.destroy();
    expect(s.domain('tmp')).toBeUndefined();
    const p = await c.domainDefineXML(XML('keep'));
    await p.createWithFlags();
    await p.undefine();
    expect(s.domain('keep')).toMatchObject({ state: 'running', persistent: false });
    await p.destroy();
    expect(s.domain('keep')).toBeUndefined();
  });

  it('starts paused on request; an autodestroy guest goes with the connection that started it', async () => {
    const s = await sim();
    const c = await client(s);
    const p = await c.domainCreateXML(XML('p'), 1 /* START_PAUSED */);
    expect(await p.state()).toMatchObject({ state: 'paused', reason: 'user' });
    const other = await client(s);
    await other.domainCreateXML(XML('auto'), 2 /* START_AUTODESTROY */);
    expect(s.domain('auto')?.state).toBe('running');
    await other.close();
    await new Promise((r) => setTimeout(r, 20));
    expect(s.domain('auto')).toBeUndefined();
    expect(s.domain('p')?.state).toBe('paused');
    expect(isInvalidArg(await err(c.domainCreateXML(XML('x'), 1 << 10)))).toBe(true);
  });

  it('lists and counts with every filter and the legacy procedures', async () => {
    const s = await sim({
      domains: [
        { name: 'a', state: 'running' },
        { name: 'b', state: 'paused' },
        { name: 'c' },
        { name: 't', persistent: false },
      ],
    });
    const c = await client(s);
    const names = async (flags: number) =>
      (await c.listAllDomains(flags)).map((d) => d.name).sort();
    expect(await names(0)).toEqual(['a', 'b', 'c', 't']);
    expect(await names(1)).toEqual(['a', 'b', 't']); // active
    expect(await names(2)).toEqual(['c']); // inactive
    expect(await names(8)).toEqual(['t']); // transient
    expect(await names(16)).toEqual(['a', 't']); // running
    expect(await names(32)).toEqual(['b']); // paused
    expect(await names(64)).toEqual(['c']); // shut off
    expect(await names(4 | 16)).toEqual(['a']); // persistent and running
    const n = await c.remote.connectListAllDomains({ needResults: 0, flags: 0 });
    expect(n).toEqual({ domains: [], ret: 4 });
    expect(await c.remote.connectNumOfDomains()).toEqual({ num: 3 });
    expect((await c.remote.connectListDomains({ maxids: 10 })).ids).toEqual([1, 2, 3]);
    expect(await c.remote.connectNumOfDefinedDomains()).toEqual({ num: 1 });
    expect(await c.remote.connectListDefinedDomains({ maxnames: 10 })).toEqual({ names: ['c'] });
    const bad = await err(c.listAllDomains(1 << 20));
    expect(isInvalidArg(bad)).toBe(true);
    expect(bad?.message).toBe('unsupported flags (0x100000) in function qemuConnectListAllDomains');
  });

  it('reports what virsh dominfo asks for', async () => {
    const s = await sim({ domains: [{ name: 'x', state: 'running', memoryMiB: 512, vcpus: 4 }] });
    const c = await client(s);
    const d = await c.lookupDomain('x');
    expect(await c.remote.domainGetOsType({ dom: d.wire })).toEqual({ type: 'hvm' });
    expect(await c.remote.domainIsPersistent({ dom: d.wire })).toEqual({ persistent: 1 });
    expect(await c.remote.domainIsActive({ dom: d.wire })).toEqual({ active: 1 });
    expect(await c.remote.domainGetAutostart({ dom: d.wire })).toEqual({ autostart: 0 });
    await c.remote.domainSetAutostart({ dom: d.wire, autostart: 1 });
    expect(await c.remote.domainGetAutostart({ dom: d.wire })).toEqual({ autostart: 1 });
    expect(await c.remote.domainHasManagedSaveImage({ dom: d.wire, flags: 0 })).toEqual({
      result: 0,
    });
    expect(await c.remote.domainGetMaxMemory({ dom: d.wire })).toEqual({ memory: 524288n });
    const info = await d.getInfo();
    expect(info.nrVirtCpu).toBe(4);
    await new Promise((r) => setTimeout(r, 30));
    expect((await d.getInfo()).cpuTime).toBeGreaterThan(info.cpuTime); // the guest uses CPU while running
  });

  it('a shutdown request powers the guest off a moment later', async () => {
    const s = await sim({ timeScale: 100, domains: [{ name: 'x', state: 'running' }] });
    const c = await client(s);
    const d = await c.lookupDomain('x');
    const sub = c.events.domain('lifecycle', { domain: d });
    await sub.ready;
    await c.remote.domainShutdown({ dom: d.wire });
    const a = await sub.next({ signal: AbortSignal.timeout(2000) });
    const b = await sub.next({ signal: AbortSignal.timeout(2000) });
    expect([`${a.event}/${a.detail}`, `${b.event}/${b.detail}`]).toEqual([
      'shutdown/finished',
      'stopped/shutdown',
    ]);
    expect(await d.state()).toMatchObject({ state: 'shutoff', reason: 'shutdown' });
  });
});

describe('errors use libvirt codes, domains and messages', () => {
  it('wrong states, unknown domains, duplicates and bad XML', async () => {
    const s = await sim({ domains: [{ name: 'off' }, { name: 'on', state: 'running' }] });
    const c = await client(s);
    const off = await c.lookupDomain('off');
    const on = await c.lookupDomain('on');
    for (const call of <Array<Promise<unknown>>>[
      off.suspend(),
      off.resume(),
      off.destroy(),
      off.jobStats(),
      off.abortJob(),
    ]) {
      const e = await err(call);
      expect(e).toMatchObject({
        codeName: 'VIR_ERR_OPERATION_INVALID',
        domainName: 'VIR_FROM_DOMAIN',
        levelName: 'VIR_ERR_ERROR',
        message: 'Requested operation is not valid: domain is not running',
        str1: 'Requested operation is not valid: %s',
        str2: 'domain is not running',
        int1: -1,
      });
    }
    expect(await err(on.createWithFlags())).toMatchObject({
      codeName: 'VIR_ERR_OPERATION_INVALID',
      domainName: 'VIR_FROM_QEMU',
      message: 'Requested operation is not valid: domain is already running',
    });
    expect(await err(on.resume())).toMatchObject({ message: /domain is already running/ });
    expect(await err(on.abortJob())).toMatchObject({
      message: 'Requested operation is not valid: no job is active on the domain',
    });
    expect(await err(on.migrateStartPostCopy())).toMatchObject({
      message:
        'Requested operation is not valid: post-copy can only be started while outgoing migration is in progress',
    });
    const missing = await err(c.lookupDomain('nope'));
    expect(isNoDomain(missing)).toBe(true);
    expect(missing).toMatchObject({
      domainName: 'VIR_FROM_QEMU',
      message: "Domain not found: no domain with matching name 'nope'",
    });
    expect((await err(c.domainLookupByID(99)))?.message).toBe(
      'Domain not found: no domain with matching id 99',
    );
    const ghost = { name: 'ghost', uuid: new Uint8Array(16).fill(7), id: -1 };
    expect((await err(c.remote.domainGetInfo({ dom: ghost })))?.message).toBe(
      "Domain not found: no domain with matching uuid '07070707-0707-0707-0707-070707070707' (ghost)",
    );
    const dup = await err(c.domainDefineXML(XML('on')));
    expect(dup).toMatchObject({
      codeName: 'VIR_ERR_OPERATION_FAILED',
      domainName: 'VIR_FROM_DOMAIN',
    });
    expect(dup?.message).toBe(`operation failed: domain 'on' already exists with uuid ${on.uuid}`);
    expect(await err(c.domainDefineXML('<domain><name>x'))).toMatchObject({
      codeName: 'VIR_ERR_XML_DETAIL',
      message: expect.stringContaining('Premature end of data in tag name'),
    });
    expect(await err(c.domainDefineXML('<foo/>'))).toMatchObject({
      codeName: 'VIR_ERR_XML_ERROR',
      domainName: 'VIR_FROM_XML',
      message: "XML error: expecting root element of 'domain', not 'foo'",
    });
    expect(
      await err(c.domainDefineXML("<domain type='kvm'><memory>1</memory></domain>")),
    ).toMatchObject({
      codeName: 'VIR_ERR_NO_NAME',
      message: 'missing name information',
    });
  });

  it('unknown and unimplemented procedures, wrong programs, undecodable arguments: the connection survives', async () => {
    const s = await sim();
    const c = await client(s);
    const unsupported = await err(
      c.remote.domainMigratePrepare({ uriIn: null, flags: 0n, dname: null, resource: 0n }),
    );
    expect(isNoSupport(unsupported)).toBe(true);
    expect(unsupported).toMatchObject({
      domainName: 'VIR_FROM_DOMAIN',
      message: 'this function is not supported by the connection driver: virDomainMigratePrepare',
      str2: 'virDomainMigratePrepare',
    });
    const qemu = await err(
      c.qemu.domainMonitorCommand({
        dom: { name: 'x', uuid: new Uint8Array(16), id: 1 },
        cmd: 'info',
        flags: 0,
      }),
    );
    expect(qemu?.message).toBe(
      'this function is not supported by the connection driver: virDomainQemuMonitorCommand',
    );
    const raw = (prog: number, vers: number, proc: number) =>
      err(
        c.rpc.call(callDescriptor({ name: 'raw', program: prog, version: vers }, proc), undefined),
      );
    expect(await raw(REMOTE_PROGRAM, 1, 9999)).toMatchObject({
      codeName: 'VIR_ERR_RPC',
      domainName: 'VIR_FROM_RPC',
      message: 'unknown procedure: 9999',
    });
    expect((await raw(0x12345678, 1, 1))?.message).toBe('Cannot find program 305419896 version 1');
    expect((await raw(REMOTE_PROGRAM, 7, 3))?.message).toBe(
      'Cannot find program 536903814 version 7',
    );
    // DOMAIN_LOOKUP_BY_NAME (23) without its argument
    expect(await raw(REMOTE_PROGRAM, 1, 23)).toMatchObject({
      codeName: 'VIR_ERR_RPC',
      message: 'Unable to decode message payload',
    });
    expect(await c.remote.connectGetType()).toEqual({ type: 'QEMU' });
    expect(s.calls).toContain('#9999');
    expect(s.calls).toContain('qemu.DOMAIN_MONITOR_COMMAND');
  });

  it('a read-only connection may look but not touch', async () => {
    const s = await sim({ domains: [{ name: 'vm', state: 'running' }] });
    const c = await connect(s.uri, { transport: s.transport(), readonly: true });
    opened.push(c);
    const d = await c.lookupDomain('vm');
    expect((await d.state()).state).toBe('running');
    const e = await err(d.suspend());
    expect(hasErrorCode(e, 'VIR_ERR_OPERATION_DENIED')).toBe(true);
    expect(e?.message).toBe('operation forbidden: read only access prevents virDomainSuspend');
  });
});

describe('events', () => {
  it('sends lifecycle events with libvirt event and detail numbers, per callback and domain filter', async () => {
    const s = await sim();
    const c = await client(s);
    const all = c.events.domain('lifecycle');
    await all.ready;
    const d = await c.domainDefineXML(XML('ev'));
    const other = await c.domainDefineXML(XML('other'));
    const mine = c.events.domain('lifecycle', { domain: d });
    await mine.ready;
    await d.createWithFlags();
    await other.createWithFlags();
    await d.suspend();
    await d.resume();
    await d.destroy();
    await d.undefine();
    const seen: string[] = [];
    for await (const e of mine) {
      seen.push(`${e.event}/${e.detail}(${e.eventCode},${e.detailCode})`);
      if (e.event === 'undefined') break;
    }
    // libvirt with QEMU: the vCPUs' RESUME precedes STARTED; the kill shows as a host shutdown
    expect(seen).toEqual([
      'resumed/unpaused(4,0)',
      'started/booted(2,0)',
      'suspended/paused(3,0)',
      'resumed/unpaused(4,0)',
      'shutdown/host(6,2)',
      'stopped/destroyed(5,1)',
      'undefined/removed(1,0)',
    ]);
    const everything: DomainEvent<'lifecycle'>[] = [];
    while (everything.length < 11)
      everything.push(await all.next({ signal: AbortSignal.timeout(1000) }));
    expect(everything.filter((e) => e.domain.name === 'other').map((e) => e.event)).toEqual([
      'defined',
      'resumed',
      'started',
    ]);
    expect(everything.find((e) => e.event === 'stopped')?.domain.id).toBe(-1);
    expect(everything.find((e) => e.event === 'started' && e.domain.name === 'ev')?.domain.id).toBe(
      1,
    );
  });

  it('deregisters: no more events for a closed subscription; unknown ids and event numbers are refused', async () => {
    const s = await sim({ domains: [{ name: 'vm', state: 'running' }] });
    const c = await client(s);
    const d = await c.lookupDomain('vm');
    const sub = c.events.domain('lifecycle');
    await sub.ready;
    await sub.close();
    const before = { ...c.events.stats };
    await d.suspend();
    await d.resume();
    await new Promise((r) => setTimeout(r, 20));
    expect(c.events.stats).toEqual(before);
    expect(s.calls).toContain('CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY');
    expect(
      (await err(c.remote.connectDomainEventCallbackDeregisterAny({ callbackID: 999 })))?.message,
    ).toBe('internal error: domain event callback 999 not registered');
    expect(
      (await err(c.remote.connectDomainEventCallbackRegisterAny({ eventID: 999, dom: null })))
        ?.message,
    ).toBe('internal error: unsupported event ID 999');
  });
});

/** A raw libvirt peer over TCP: frames, sends and reads messages without virtwire's client. */
async function rawPeer(uri: string): Promise<{
  sock: Socket;
  send(h: VirNetMessageHeader, body?: (w: XdrWriter) => void): void;
  next(): Promise<{ h: VirNetMessageHeader; r: XdrReader }>;
  ended: Promise<void>;
}> {
  const m = /:(\d+)\//.exec(uri)!;
  const sock = netConnect({ host: '127.0.0.1', port: Number(m[1]) });
  await new Promise<void>((res, rej) => sock.once('connect', res).once('error', rej));
  const queue: Array<{ h: VirNetMessageHeader; r: XdrReader }> = [];
  let wake: (() => void) | null = null;
  const framer = new Framer((msg) => {
    const r = new XdrReader(msg.slice(), 4);
    queue.push({ h: decodeVirNetMessageHeader(r), r });
    wake?.();
  });
  sock.on('data', (b: Buffer) => framer.push(new Uint8Array(b)));
  const ended = new Promise<void>((res) => sock.once('close', () => res()));
  return {
    sock,
    ended,
    send(h, body) {
      const w = new XdrWriter(64);
      const at = w.reserve(4);
      for (const v of [h.prog, h.vers, h.proc, h.type, h.serial, h.status]) w.writeInt(v | 0);
      body?.(w);
      w.patchUint(at, w.pos);
      sock.write(w.finish());
    },
    async next() {
      while (queue.length === 0) await new Promise<void>((r) => (wake = r));
      return queue.shift()!;
    },
  };
}

describe('keepalive and framing', () => {
  it('answers a PING with a PONG, and pings a silent client it then drops', async () => {
    const s = await sim({ tcp: true, keepalive: { interval: 0.05, count: 2 } });
    const p = await rawPeer(s.uri);
    p.send({ prog: KEEPALIVE_PROGRAM, vers: 1, proc: 1, type: 2, serial: 0, status: 0 });
    const pong = await p.next();
    expect(pong.h).toMatchObject({ prog: KEEPALIVE_PROGRAM, proc: 2, type: 2, serial: 0 });
    // probing PROGRAM_KEEPALIVE makes the daemon watch this client
    const feature = remoteProgram.procedures.find((x) => x.name === 'CONNECT_SUPPORTS_FEATURE')!;
    p.send(
      { prog: REMOTE_PROGRAM, vers: 1, proc: feature.number, type: 0, serial: 1, status: 0 },
      (w) => w.writeInt(10),
    );
    const reply = await p.next();
    expect(reply.h).toMatchObject({ type: 1, serial: 1, status: 0 });
    expect(reply.r.readInt()).toBe(1);
    const pings: number[] = [];
    const t0 = Date.now();
    for (let i = 0; i < 2; i++) {
      const ping = await p.next();
      expect(ping.h).toMatchObject({ prog: KEEPALIVE_PROGRAM, proc: 1, type: 2 });
      pings.push(Date.now() - t0);
    }
    await p.ended; // two unanswered PINGs: dropped
    expect(pings.length).toBe(2);
    expect(s.connectionCount).toBe(0);
  });

  it('a client that answers keeps its connection; the virtwire client keeps one alive', async () => {
    const s = await sim({ keepalive: { interval: 0.03, count: 1 } });
    const c = await client(s);
    await new Promise((r) => setTimeout(r, 200));
    expect(c.isOpen).toBe(true);
    expect(await c.remote.connectGetType()).toEqual({ type: 'QEMU' });
  });

  it('calls before CONNECT_OPEN are refused; an impossible length word drops the client', async () => {
    const s = await sim({ tcp: true });
    const p = await rawPeer(s.uri);
    p.send({ prog: REMOTE_PROGRAM, vers: 1, proc: 3, type: 0, serial: 5, status: 0 }); // CONNECT_GET_TYPE
    const r = await p.next();
    expect(r.h).toMatchObject({ serial: 5, status: 1 });
    expect(decodeVirNetMessageError(r.r).message).toBe('internal error: connection not open');
    p.sock.write(Buffer.from([0, 0, 0, 8, 1, 2, 3, 4]));
    await p.ended;
  });
});

describe('options are checked', () => {
  it('names the bad option or domain field', async () => {
    await expect(Simulator.start({ timeScale: 0 })).rejects.toThrow(
      /timeScale must be a positive number/,
    );
    await expect(Simulator.start({ bandwidthMiBps: -1 })).rejects.toThrow(/bandwidthMiBps/);
    await expect(Simulator.start({ tcp: { port: 70000 } })).rejects.toThrow(/tcp.port/);
    await expect(Simulator.start({ domains: [{ name: '' }] })).rejects.toThrow(/domain name/);
    await expect(Simulator.start({ domains: [{ name: 'x', uuid: 'nope' }] })).rejects.toThrow(
      /uuid "nope" is not a UUID/,
    );
    await expect(
      Simulator.start({ domains: [{ name: 'x', persistent: false, state: 'shutoff' }] }),
    ).rejects.toThrow(/transient domain cannot be shut off/);
    const s = await sim({ domains: [{ name: 'x' }] });
    expect(() => s.addDomain({ name: 'x' })).toThrow(/cannot add domain x: .*already exists/);
    expect(() => s.addDomain({ name: 'y', memoryMiB: Number.NaN })).toThrow(/memoryMiB/);
    expect(() => s.failPostcopy('nope')).toThrow(/no domain nope/);
  });
});
