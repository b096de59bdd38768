/**
 * The hand-written side of the handles: one factory makes every handle, identity comes without
 * a call, a domain keeps its id as libvirt's client does, and the few methods that mean more
 * than their procedure (isSecure, isEncrypted, supportsFeature, lookupDomain, getURI).
 * Driven through the simulator where a daemon is needed.
 */
import { Duplex } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { channelSecurity } from '../../../src/api/channel-security.js';
import { toChannel } from '../../../src/channel.js';
import type { RemoteNonnullDomain } from '../../../src/generated/remote.js';
import {
  AdminClient,
  AdminConnection,
  AdminServer,
  Domain,
  DomainCheckpoint,
  DomainSnapshot,
  Interface,
  Network,
  NetworkPort,
  NodeDevice,
  NWFilter,
  NWFilterBinding,
  parseUuid,
  Secret,
  StoragePool,
  StorageVol,
} from '../../../src/index.js';
import { RpcClient } from '../../../src/rpc/client.js';
import { Simulator } from '../../../src/testing/index.js';

const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const x of opened.splice(0).reverse()) await x.close();
});

async function simConn(opts: Parameters<typeof Simulator.start>[0] = {}) {
  const sim = await Simulator.start(opts);
  opened.push(sim);
  const conn = await sim.connect();
  opened.push(conn);
  return { sim, conn };
}

const XML = (name: string) =>
  `<domain type='kvm'><name>${name}</name><memory unit='MiB'>128</memory><vcpu>1</vcpu></domain>`;
const U1 = '7669727a-0000-4000-8000-000000000001';
const U2 = '7669727a-0000-4000-8000-000000000002';
const uuid = (s: string): Uint8Array => parseUuid(s)!;
const dom = (name: string, id = -1): RemoteNonnullDomain => ({ name, uuid: uuid(U1), id });

describe('handles of a connection', () => {
  it('are made by the one factory, each with the identity libvirt keeps without a call', async () => {
    const { conn } = await simConn();
    const h = conn.handles;
    const d = h.Domain(dom('vm', 3));
    expect(d).toBeInstanceOf(Domain);
    expect([d.name, d.uuid, d.id, d.conn]).toEqual(['vm', U1, 3, conn]);
    expect(String(d)).toBe(`Domain(vm ${U1})`);

    const snap = h.DomainSnapshot({ name: 's1', dom: dom('vm') });
    expect(snap).toBeInstanceOf(DomainSnapshot);
    expect([snap.name, snap.domain.name, snap.domain.uuid]).toEqual(['s1', 'vm', U1]);
    expect(snap.domain).toBeInstanceOf(Domain);
    const ckpt = h.DomainCheckpoint({ name: 'c1', dom: dom('vm') });
    expect(ckpt).toBeInstanceOf(DomainCheckpoint);
    expect([ckpt.name, ckpt.domain.uuid]).toEqual(['c1', U1]);

    const net = h.Network({ name: 'default', uuid: uuid(U1) });
    expect(net).toBeInstanceOf(Network);
    expect([net.name, net.uuid]).toEqual(['default', U1]);
    const port = h.NetworkPort({ net: { name: 'default', uuid: uuid(U1) }, uuid: uuid(U2) });
    expect(port).toBeInstanceOf(NetworkPort);
    expect([port.uuid, port.network.name, port.network.uuid]).toEqual([U2, 'default', U1]);

    const pool = h.StoragePool({ name: 'images', uuid: uuid(U2) });
    expect(pool).toBeInstanceOf(StoragePool);
    expect([pool.name, pool.uuid]).toEqual(['images', U2]);
    const vol = h.StorageVol({ pool: 'images', name: 'a.qcow2', key: '/images/a.qcow2' });
    expect(vol).toBeInstanceOf(StorageVol);
    expect([vol.name, vol.key, vol.poolName]).toEqual(['a.qcow2', '/images/a.qcow2', 'images']);

    const dev = h.NodeDevice({ name: 'pci_0000_00_01_0' });
    expect(dev).toBeInstanceOf(NodeDevice);
    expect(dev.name).toBe('pci_0000_00_01_0');
    const secret = h.Secret({ uuid: uuid(U1), usageType: 1, usageID: '/images/a.qcow2' });
    expect(secret).toBeInstanceOf(Secret);
    expect([secret.uuid, secret.usageType, secret.usageID]).toEqual([U1, 1, '/images/a.qcow2']);
    const filter = h.NWFilter({ name: 'clean-traffic', uuid: uuid(U2) });
    expect(filter).toBeInstanceOf(NWFilter);
    expect([filter.name, filter.uuid]).toEqual(['clean-traffic', U2]);
    const binding = h.NWFilterBinding({ portdev: 'vnet0', filtername: 'clean-traffic' });
    expect(binding).toBeInstanceOf(NWFilterBinding);
    expect([binding.portDev, binding.filterName]).toEqual(['vnet0', 'clean-traffic']);
    const iface = h.Interface({ name: 'eth0', mac: '52:54:00:00:00:01' });
    expect(iface).toBeInstanceOf(Interface);
    expect([iface.name, iface.mac]).toEqual(['eth0', '52:54:00:00:00:01']);

    for (const x of [snap, ckpt, net, port, pool, vol, dev, secret, filter, binding, iface]) {
      expect(x.conn).toBe(conn);
    }
  });

  it('are what generated methods return, through the same factory', async () => {
    const { conn } = await simConn({ domains: [{ name: 'a' }, { name: 'b', state: 'running' }] });
    const made = vi.spyOn(conn.handles, 'Domain');
    const all = await conn.listAllDomains();
    expect(all.map((d) => d.name).sort()).toEqual(['a', 'b']);
    expect(made).toHaveBeenCalledTimes(2);
    expect(made.mock.results.map((r) => r.value)).toEqual(all);
    const b = await conn.domainLookupByName('b');
    expect(b).toBeInstanceOf(Domain);
    expect(b.id).toBeGreaterThan(0);
  });
});

describe('Domain', () => {
  it('keeps its id as libvirt does: create looks it up, createWithFlags takes it, destroy drops it', async () => {
    const { sim, conn } = await simConn();
    const d = await conn.domainDefineXML(XML('vm'));
    expect(d.id).toBe(-1);
    await d.create();
    // REMOTE_PROC_DOMAIN_CREATE gives no id back: libvirt's client asks by UUID
    expect(sim.calls.slice(-2)).toEqual(['DOMAIN_CREATE', 'DOMAIN_LOOKUP_BY_UUID']);
    const id = (await conn.domainLookupByName('vm')).id;
    expect(id).toBeGreaterThan(0);
    expect(d.id).toBe(id);
    await d.destroy();
    expect(d.id).toBe(-1);
    expect(await d.createWithFlags()).toBe(d);
    expect(d.id).toBe((await conn.domainLookupByName('vm')).id);
    expect(d.wire.id).toBe(d.id);
    await d.destroyFlags();
    expect(d.id).toBe(-1);
    expect((await d.state()).state).toBe('shutoff');
  });

  it('names its state and reason (state()), beside the numbers getState gives', async () => {
    const { conn } = await simConn({ domains: [{ name: 'p', state: 'paused' }] });
    const d = await conn.domainLookupByName('p');
    const raw = await d.getState();
    expect(await d.state()).toEqual({
      state: 'paused',
      reason: 'user',
      stateCode: raw.state,
      reasonCode: raw.reason,
    });
  });
});

describe('Connection', () => {
  it('finds a domain by name or UUID, and a UUID-shaped name by name', async () => {
    const { conn } = await simConn({
      domains: [{ name: 'web', uuid: U1 }, { name: U2 }],
    });
    expect((await conn.lookupDomain('web')).uuid).toBe(U1);
    expect((await conn.lookupDomain(U1.toUpperCase())).name).toBe('web');
    expect((await conn.lookupDomain(U2)).name).toBe(U2);
  });

  it('gives the URI it was opened with (virConnectGetURI) and whether it is open', async () => {
    const { sim, conn } = await simConn();
    expect(conn.getURI()).toBe(sim.uri);
    expect(conn.isOpen).toBe(true);
    await conn.close();
    expect(conn.isOpen).toBe(false);
  });

  it('asks the daemon for each feature once', async () => {
    const { sim, conn } = await simConn();
    const asked = () => sim.calls.filter((c) => c === 'CONNECT_SUPPORTS_FEATURE').length;
    const before = asked();
    expect(await conn.supportsFeature(9)).toBe(true);
    expect(await conn.supportsFeature(9)).toBe(true);
    expect(await conn.supportsFeature(1234)).toBe(false);
    expect(await conn.supportsFeature(1234)).toBe(false);
    expect(asked() - before).toBe(2);
  });

  it('is secure and encrypted only when the daemon and the channel both are', async () => {
    // the same daemon answer (secure), over TCP and over what the URI calls TLS
    const tcp = await simConn({ tcp: true });
    expect(tcp.conn.target.transport).toBe('tcp');
    expect(await tcp.conn.isSecure()).toBe(0);
    expect(await tcp.conn.isEncrypted()).toBe(0);
    const tls = await simConn();
    expect(tls.conn.target.transport).toBe('tls');
    expect(await tls.conn.isSecure()).toBe(1);
    expect(await tls.conn.isEncrypted()).toBe(1);
  });
});

describe('channelSecurity', () => {
  it("judges the channel as libvirt's remote driver does", () => {
    const table: Array<[Parameters<typeof channelSecurity>, [boolean, boolean]]> = [
      [
        ['tls', 'none'],
        [true, true],
      ],
      [
        ['unix', 'none'],
        [true, false],
      ],
      [
        ['ssh', 'none'],
        [true, false],
      ],
      [
        ['libssh', 'none'],
        [true, false],
      ],
      [
        ['libssh2', 'none'],
        [true, false],
      ],
      [
        ['tcp', 'none'],
        [false, false],
      ],
      [
        ['ext', 'none'],
        [false, false],
      ],
      // SASL puts a security layer on a channel only where it is not secure by itself
      [
        ['tcp', 'sasl.DIGEST-MD5'],
        [true, true],
      ],
      [
        ['ext', 'sasl.DIGEST-MD5'],
        [true, true],
      ],
      [
        ['unix', 'sasl.SCRAM-SHA-256'],
        [true, false],
      ],
      [
        ['tls', 'sasl.SCRAM-SHA-256'],
        [true, true],
      ],
      [
        ['tcp', 'polkit'],
        [false, false],
      ],
    ];
    for (const [args, [secure, encrypted]] of table) {
      expect(channelSecurity(...args), args.join(' ')).toEqual({ secure, encrypted });
    }
  });
});

describe('admin handles', () => {
  it('are made by the admin factory, servers by name, clients with id, timestamp, transport', async () => {
    const quiet = new Duplex({ read() {}, write: (_c, _e, cb) => cb() });
    const adm = new AdminConnection(new RpcClient(toChannel(quiet)), 'libvirtd:///system');
    opened.push({ close: async () => void (await adm.rpc.close()) });
    expect(adm.uri).toBe('libvirtd:///system');
    const srv = adm.handles.AdminServer({ name: 'libvirtd' });
    expect(srv).toBeInstanceOf(AdminServer);
    expect([srv.name, srv.conn]).toEqual(['libvirtd', adm]);
    const client = adm.handles.AdminClient({
      srv: { name: 'admin' },
      id: 7n,
      timestamp: 1_700_000_000n,
      transport: 1,
    });
    expect(client).toBeInstanceOf(AdminClient);
    expect([client.id, client.timestamp, client.transport]).toEqual([7n, 1_700_000_000n, 1]);
    expect(client.server).toBeInstanceOf(AdminServer);
    expect(client.server.name).toBe('admin');
  });
});
