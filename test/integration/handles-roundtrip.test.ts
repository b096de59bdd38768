/**
 * Write operations of the handle API as round trips against real daemons: each change is read
 * back through other calls (a define through a lookup, a start through the state and the id,
 * an upload through a download, a revert through the state it restores).
 *
 * - libvirt's test driver (host A's libvirtd): domains, networks, pools, interfaces, snapshots,
 *   checkpoints, node devices.
 * - host A's QEMU driver: secrets, network filters, a directory pool with real files, and a
 *   real guest with a qcow2 disk (block information, snapshots, checkpoints, a block copy job,
 *   the screenshot and console streams).
 * - host A's admin interface: servers, clients, thread pools, logging settings.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAdmin } from '../../src/api/admin.js';
import type { Connection, Domain } from '../../src/api/handles.js';
import { connect, isNoDomain, RemoteError, volumeDownloadFile } from '../../src/index.js';
import { createQcow2, guestXmlWithDisk } from '../helpers/guest.js';
import { generations, host, hostOf, onHostsAB } from '../helpers/hosts.js';

const PREFIX = 'vw-rt';
const MiB = 1024 * 1024;
/** VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | _SNAPSHOTS_METADATA | _CHECKPOINTS_METADATA */
const UNDEFINE_ALL = 1 | 2 | 16;

/** Awaits a call that must fail with this libvirt error code name. */
async function expectError(p: Promise<unknown>, codeName: string): Promise<void> {
  const err = await p.then(
    () => new Error(`expected ${codeName}, the call succeeded`),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RemoteError);
  expect((err as RemoteError).codeName).toBe(codeName);
}

async function removeOurDomains(conn: Connection): Promise<void> {
  for (const d of await conn.listAllDomains()) {
    if (!d.name.startsWith(PREFIX)) continue;
    if ((await d.isActive()) !== 0) await d.destroy().catch(() => {});
    await d.undefineFlags(UNDEFINE_ALL).catch(() => {});
  }
}

async function until(what: string, ok: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const testDomainXml = (name: string): string => `<domain type='test'>
  <name>${name}</name>
  <memory unit='KiB'>131072</memory>
  <vcpu>1</vcpu>
  <os><type arch='i686'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'><source file='/guest/${name}.img'/><target dev='vda' bus='virtio'/></disk>
  </devices>
</domain>`;

// ---------------------------------------------------------------------------------------------

describe.each(generations())("round trips on libvirt's test driver: $label", (gen) => {
  let conn: Connection;

  beforeAll(async () => {
    conn = await connect(hostOf(gen, 0, 'TEST'));
    await removeOurDomains(conn);
  });
  afterAll(async () => {
    await conn?.close();
  });

  it('domain: define, start, suspend, resume, destroy, undefine; the handle keeps its id', async () => {
    const name = `${PREFIX}-dom`;
    const d = await conn.domainDefineXMLFlags(testDomainXml(name), 0);
    expect([d.name, d.id]).toEqual([name, -1]);
    expect(await d.isPersistent()).toBe(1);
    expect(await d.isActive()).toBe(0);
    // virDomainCreate: libvirt's client looks the domain up again for its id
    await d.create();
    expect(d.id).toBeGreaterThan(0);
    expect((await conn.domainLookupByName(name)).id).toBe(d.id);
    expect((await conn.domainLookupByID(d.id)).uuid).toBe(d.uuid);
    await d.suspend();
    expect((await d.state()).state).toBe('paused');
    await d.resume();
    expect((await d.state()).state).toBe('running');
    await d.destroy();
    expect(d.id).toBe(-1);
    expect((await d.state()).state).toBe('shutoff');
    // virDomainCreateWithFlags: the reply carries the new id
    expect(await d.createWithFlags()).toBe(d);
    expect(d.id).toBeGreaterThan(0);
    expect((await conn.domainLookupByName(name)).id).toBe(d.id);
    expect(await d.getState()).toMatchObject({ state: 1 /* RUNNING */ });
    await d.destroyFlags(0);
    expect(d.id).toBe(-1);
    await d.undefine();
    const gone = await conn.domainLookupByUUIDString(d.uuid).catch((e: unknown) => e);
    expect(isNoDomain(gone)).toBe(true);
  });

  it('network: define, start, stop, undefine; a transient one: create, destroy', async () => {
    const xml = (name: string, bridge: string, net: number): string =>
      `<network><name>${name}</name><bridge name='${bridge}'/>` +
      `<ip address='192.168.${net}.1' netmask='255.255.255.0'/></network>`;
    const n = await conn.networkDefineXML(xml(`${PREFIX}-net`, 'vwrt0', 201));
    expect([await n.isPersistent(), await n.isActive()]).toEqual([1, 0]);
    await n.create();
    expect(await n.isActive()).toBe(1);
    expect(await n.getBridgeName()).toBe('vwrt0');
    await n.setAutostart(1);
    expect(await n.getAutostart()).toBe(1);
    await n.destroy();
    expect(await n.isActive()).toBe(0);
    await n.undefine();
    await expectError(conn.networkLookupByName(n.name), 'VIR_ERR_NO_NETWORK');
    const t = await conn.networkCreateXML(xml(`${PREFIX}-tnet`, 'vwrt1', 202));
    expect([await t.isPersistent(), await t.isActive()]).toEqual([0, 1]);
    expect((await conn.networkLookupByUUIDString(t.uuid)).name).toBe(t.name);
    await t.destroy();
    await expectError(conn.networkLookupByUUIDString(t.uuid), 'VIR_ERR_NO_NETWORK');
  });

  it('storage pool: define, build, start, refresh, stop, undefine; volumes in it', async () => {
    const p = await conn.storagePoolDefineXML(
      `<pool type='dir'><name>${PREFIX}-pool</name><target><path>/${PREFIX}-pool</path></target></pool>`,
    );
    await p.build();
    await p.create();
    expect(await p.isActive()).toBe(1);
    await p.refresh();
    const v = await p.storageVolCreateXML(
      `<volume><name>${PREFIX}.img</name><capacity unit='MiB'>2</capacity></volume>`,
    );
    expect(v.poolName).toBe(p.name);
    expect((await v.getInfo()).capacity).toBe(2n * BigInt(MiB));
    const clone = await p.storageVolCreateXMLFrom(
      `<volume><name>${PREFIX}-clone.img</name><capacity unit='MiB'>2</capacity></volume>`,
      v,
    );
    expect((await p.listAllVolumes()).map((x) => x.name).sort()).toEqual([clone.name, v.name]);
    expect((await clone.storagePoolLookupByVolume()).uuid).toBe(p.uuid);
    await clone.delete();
    await v.delete();
    expect(await p.numOfVolumes()).toBe(0);
    await p.destroy();
    expect(await p.isActive()).toBe(0);
    await p.undefine();
    await expectError(conn.storagePoolLookupByName(p.name), 'VIR_ERR_NO_STORAGE_POOL');
  });

  it('interface: define, start, stop, undefine, inside a change transaction that commits', async () => {
    await conn.interfaceChangeBegin();
    const i = await conn.interfaceDefineXML(
      `<interface type='ethernet' name='${PREFIX}0'><start mode='onboot'/>` +
        `<mac address='52:54:00:aa:bb:02'/></interface>`,
    );
    expect([i.name, i.mac]).toEqual([`${PREFIX}0`, '52:54:00:aa:bb:02']);
    await conn.interfaceChangeCommit();
    await i.create();
    expect(await i.isActive()).toBe(1);
    await i.destroy();
    expect(await i.isActive()).toBe(0);
    await i.undefine();
    await expectError(conn.interfaceLookupByName(i.name), 'VIR_ERR_NO_INTERFACE');
  });

  it('snapshots: create, list, revert, delete', async () => {
    const d = await conn.domainCreateXML(testDomainXml(`${PREFIX}-snap`));
    const s1 = await d.snapshotCreateXML(`<domainsnapshot><name>s1</name></domainsnapshot>`);
    await d.suspend();
    const s2 = await d.snapshotCreateXML(`<domainsnapshot><name>s2</name></domainsnapshot>`);
    expect(s1.domain.uuid).toBe(d.uuid);
    // the test driver lists snapshots in no fixed order
    expect((await d.snapshotListNames()).sort()).toEqual(['s1', 's2']);
    expect((await s2.getParent()).name).toBe('s1');
    expect((await s1.listAllChildren()).map((s) => s.name)).toEqual(['s2']);
    expect((await d.snapshotCurrent()).name).toBe('s2');
    // back to s1: the domain runs again, as it did then
    await s1.domainRevertToSnapshot();
    expect((await d.state()).state).toBe('running');
    expect(await s1.isCurrent()).toBe(1);
    await s2.delete();
    expect(await d.snapshotNum()).toBe(1);
    await s1.delete();
    expect(await d.hasCurrentSnapshot()).toBe(0);
    await expectError(d.snapshotLookupByName('s1'), 'VIR_ERR_NO_DOMAIN_SNAPSHOT');
    await d.destroy();
  });

  it('checkpoints: create, list, describe, delete', async () => {
    const d = await conn.domainCreateXML(testDomainXml(`${PREFIX}-ckpt`));
    const c1 = await d.checkpointCreateXML(`<domaincheckpoint><name>c1</name></domaincheckpoint>`);
    const c2 = await d.checkpointCreateXML(`<domaincheckpoint><name>c2</name></domaincheckpoint>`);
    expect((await d.listAllCheckpoints()).map((c) => c.name).sort()).toEqual(['c1', 'c2']);
    expect((await c2.getParent()).name).toBe('c1');
    expect(await c1.getXMLDesc()).toContain('<name>c1</name>');
    expect((await d.checkpointLookupByName('c2')).domain.name).toBe(d.name);
    await c2.delete();
    await c1.delete();
    expect(await d.listAllCheckpoints()).toEqual([]);
    await d.destroy();
  });

  it('node device: create and destroy an NPIV vHBA', async () => {
    const before = await conn.nodeNumOfDevices(null);
    const dev = await conn.nodeDeviceCreateXML(
      "<device><parent>scsi_host1</parent><capability type='scsi_host'>" +
        "<capability type='fc_host'><wwnn>2000000012345679</wwnn><wwpn>1000000012345679</wwpn>" +
        '</capability></capability></device>',
    );
    expect(await conn.nodeNumOfDevices(null)).toBe(before + 1);
    expect(await dev.getParent()).toBe('scsi_host1');
    expect(await dev.listCaps()).toContain('scsi_host');
    await dev.destroy();
    await expectError(conn.nodeDeviceLookupByName(dev.name), 'VIR_ERR_NO_NODE_DEVICE');
  });
});

// ---------------------------------------------------------------------------------------------

// The QEMU-driver and admin parts stay on host A (libvirt 9.0): they build pools and guest disks
// in host A's image directory on this machine's file system and reach its admin socket by path,
// which the newer generations' hosts (in their own Debian 13 roots) do not share.
const onA = onHostsAB("host A's image directory and admin socket are this machine's");
describe.each(onA)("round trips on host A's QEMU driver: $label", () => {
  let conn: Connection;
  const base = (): string => join(dirname(host('VIRTWIRE_GUEST_KERNEL')), '..');

  async function cleanup(): Promise<void> {
    await removeOurDomains(conn);
    for (const s of await conn.listAllSecrets())
      if (s.usageID.includes(PREFIX)) await s.undefine().catch(() => {});
    for (const f of await conn.listAllNWFilters())
      if (f.name.startsWith(PREFIX)) await f.undefine().catch(() => {});
    for (const p of await conn.listAllStoragePools()) {
      if (!p.name.startsWith(PREFIX)) continue;
      for (const v of await p.listAllVolumes().catch(() => [])) await v.delete().catch(() => {});
      await p.destroy().catch(() => {});
      await p.undefine().catch(() => {});
    }
  }

  beforeAll(async () => {
    conn = await connect(host('VIRTWIRE_HOST_A_TCP'));
    await cleanup();
  });
  afterAll(async () => {
    if (conn) await cleanup();
    await conn?.close();
  });

  it('secret: define, set and get its value, look it up by usage, undefine', async () => {
    const usage = `/var/lib/${PREFIX}/disk.img`;
    const s = await conn.secretDefineXML(
      `<secret ephemeral='no' private='no'><usage type='volume'><volume>${usage}</volume></usage></secret>`,
    );
    expect([s.usageType, s.usageID]).toEqual([1 /* VIR_SECRET_USAGE_TYPE_VOLUME */, usage]);
    const value = new TextEncoder().encode(`the value of ${PREFIX}`);
    await s.setValue(value);
    expect(await s.getValue()).toEqual(value);
    expect((await conn.secretLookupByUsage(1, usage)).uuid).toBe(s.uuid);
    expect(await s.getXMLDesc()).toContain(usage);
    await s.undefine();
    await expectError(conn.secretLookupByUUIDString(s.uuid), 'VIR_ERR_NO_SECRET');
  });

  it('network filter: define, look up, describe, undefine', async () => {
    const f = await conn.nwFilterDefineXML(
      `<filter name='${PREFIX}-filter' chain='ipv4'>` +
        `<rule action='drop' direction='in' priority='400'><ip srcipaddr='10.9.8.7'/></rule></filter>`,
    );
    expect((await conn.nwFilterLookupByName(f.name)).uuid).toBe(f.uuid);
    expect(await f.getXMLDesc()).toContain("srcipaddr='10.9.8.7'");
    await f.undefine();
    await expectError(conn.nwFilterLookupByUUIDString(f.uuid), 'VIR_ERR_NO_NWFILTER');
  });

  it('directory pool: build, start, refresh; a volume created, uploaded, downloaded, wiped, resized, deleted', async () => {
    const dir = join(base(), 'pools', `${PREFIX}-pool`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dirname(dir), { recursive: true });
    const p = await conn.storagePoolDefineXML(
      `<pool type='dir'><name>${PREFIX}-pool</name><target><path>${dir}</path></target></pool>`,
    );
    await p.build();
    expect(existsSync(dir)).toBe(true);
    await p.create();
    const v = await p.storageVolCreateXML(
      `<volume><name>${PREFIX}.raw</name><capacity unit='MiB'>1</capacity>` +
        `<target><format type='raw'/></target></volume>`,
    );
    expect(await v.getPath()).toBe(join(dir, `${PREFIX}.raw`));
    expect(v.key).toBe(join(dir, `${PREFIX}.raw`));

    // upload a pattern through the handle's stream, read it back through another
    const data = Uint8Array.from({ length: MiB }, (_, i) => (i * 7 + 3) & 0xff);
    const up = await v.upload(0, 0);
    for (let at = 0; at < data.length; at += 256 * 1024)
      await up.write(data.subarray(at, at + 256 * 1024));
    await up.finish();
    const down = await v.download(0, 0);
    expect(Buffer.from(await down.readAll()).equals(Buffer.from(data))).toBe(true);

    // the file helpers take the handle too
    const file = join(dir, '..', `${PREFIX}-copy.raw`);
    expect(await volumeDownloadFile(conn, v, file)).toBe(BigInt(MiB));
    rmSync(file, { force: true });

    await v.wipe();
    const wiped = await (await v.download(0, 0)).readAll();
    expect(wiped.length).toBe(MiB);
    expect(wiped.every((b) => b === 0)).toBe(true);
    await v.resize(2 * MiB);
    expect((await v.getInfo()).capacity).toBe(2n * BigInt(MiB));
    await p.refresh();
    expect((await p.listAllVolumes()).map((x) => x.name)).toEqual([v.name]);
    await v.delete();
    expect(existsSync(join(dir, `${PREFIX}.raw`))).toBe(false);
    await p.destroy();
    await p.delete();
    expect(existsSync(dir)).toBe(false);
    await p.undefine();
    await expectError(conn.storagePoolLookupByName(p.name), 'VIR_ERR_NO_STORAGE_POOL');
  });

  it('a guest with a qcow2 disk: block calls, snapshots, checkpoints, a block copy, streams', async () => {
    const name = `${PREFIX}-guest`;
    const disk = createQcow2(name);
    const copy = join(dirname(disk), `${name}-copy.qcow2`);
    rmSync(copy, { force: true });
    const xml = guestXmlWithDisk(name, disk).replace(
      '</devices>',
      "<graphics type='vnc' port='-1' listen='127.0.0.1'/><video><model type='vga'/></video></devices>",
    );
    const d: Domain = await conn.domainDefineXML(xml);
    await d.createWithFlags();
    expect(d.id).toBeGreaterThan(0);

    // block information and statistics of the qcow2 disk
    expect((await d.getBlockInfo('vda')).capacity).toBe(16n * BigInt(MiB));
    const stats = await d.blockStatsFlags('vda');
    expect(typeof stats.rd_operations).toBe('bigint');
    await d.blockResize('vda', 32 * MiB, 1 /* VIR_DOMAIN_BLOCK_RESIZE_BYTES */);
    expect((await d.getBlockInfo('vda')).capacity).toBe(32n * BigInt(MiB));

    // an internal snapshot of the running guest, reverted to after a pause, then deleted
    const s1 = await d.snapshotCreateXML(`<domainsnapshot><name>s1</name></domainsnapshot>`);
    expect((await d.listAllSnapshots()).map((s) => s.name)).toEqual(['s1']);
    expect(await s1.getXMLDesc()).toContain('<state>running</state>');
    await d.suspend();
    await s1.domainRevertToSnapshot();
    expect((await d.state()).state).toBe('running');
    await s1.delete();
    expect(await d.snapshotNum()).toBe(0);

    // a checkpoint (a dirty bitmap in the qcow2), then gone
    const c1 = await d.checkpointCreateXML(`<domaincheckpoint><name>c1</name></domaincheckpoint>`);
    expect(await c1.getXMLDesc()).toContain("<disk name='vda'");
    expect((await d.listAllCheckpoints()).map((c) => c.name)).toEqual(['c1']);
    await c1.delete();
    expect(await d.listAllCheckpoints()).toEqual([]);

    // a block copy job: mirrored until ready, slowed, then cancelled
    await d.blockCopy(
      'vda',
      `<disk type='file'><driver type='qcow2'/><source file='${copy}'/></disk>`,
      {},
      4 /* VIR_DOMAIN_BLOCK_COPY_TRANSIENT_JOB */,
    );
    await until('the copy to be ready', async () => {
      const j = await d.getBlockJobInfo('vda');
      return j.found !== 0 && j.end > 0n && j.cur === j.end;
    });
    expect((await d.getBlockJobInfo('vda')).type).toBe(2 /* VIR_DOMAIN_BLOCK_JOB_TYPE_COPY */);
    await d.blockJobSetSpeed('vda', 10);
    expect((await d.getBlockJobInfo('vda')).bandwidth).toBe(10n);
    await d.blockJobAbort('vda');
    await until('the job to end', async () => (await d.getBlockJobInfo('vda')).found === 0);

    // streams the handle opens: a screenshot, the serial console
    const shot = await d.screenshot(0);
    expect(shot.mime).toMatch(/^image\//);
    expect((await shot.stream.readAll()).length).toBeGreaterThan(100);
    const console_ = await d.openConsole(null);
    await console_.write(new TextEncoder().encode('\r\n'));
    await console_.abort();

    await d.destroy();
    expect(d.id).toBe(-1);
    await d.undefineFlags(UNDEFINE_ALL);
    rmSync(disk, { force: true });
    rmSync(copy, { force: true });
  }, 120_000);
});

// ---------------------------------------------------------------------------------------------

describe.each(onA)("round trips on host A's admin interface: $label", () => {
  it('servers, their clients, thread pools and logging settings', async () => {
    const socket = join(dirname(host('VIRTWIRE_HOST_A_SOCKET')), 'libvirt-admin-sock');
    await using adm = await connectAdmin(socket);
    expect(adm.uri).toContain('libvirtd');
    await using conn = await connect(host('VIRTWIRE_HOST_A_TCP'));
    const servers = await adm.listServers();
    expect(servers.map((s) => s.name).sort()).toEqual(['admin', 'libvirtd']);
    const srv = await adm.lookupServer('libvirtd');
    const pool = await srv.getThreadPoolParameters();
    expect(pool.maxWorkers).toBeGreaterThanOrEqual(pool.minWorkers ?? 0);
    await srv.setThreadPoolParameters({ maxWorkers: (pool.maxWorkers ?? 20) + 1 });
    expect((await srv.getThreadPoolParameters()).maxWorkers).toBe((pool.maxWorkers ?? 20) + 1);
    await srv.setThreadPoolParameters({ maxWorkers: pool.maxWorkers ?? 20 });
    // our TCP connection is a client of the libvirtd server
    const clients = await srv.listClients();
    expect(clients.length).toBeGreaterThanOrEqual(1);
    const tcp = clients.filter((c) => c.transport === 1 /* VIR_CLIENT_TRANS_TCP */);
    expect(tcp.length).toBeGreaterThanOrEqual(1);
    const mine = await srv.lookupClient(tcp.at(-1)!.id);
    expect(mine.server.name).toBe('libvirtd');
    expect(mine.timestamp).toBeGreaterThan(0n);
    expect((await mine.getInfo()).sock_addr).toMatch(/^127\.0\.0\.1:\d+$/);
    const limits = await srv.getClientLimits();
    expect(limits.nclients).toBe(clients.length);
    const before = await adm.getLoggingFilters();
    await adm.setLoggingFilters('3:remote 4:event');
    const set = await adm.getLoggingFilters();
    expect(set.nfilters).toBe(2);
    // the daemon gives filters back in its own form (libvirt 9 stars the match: 3:*remote*)
    expect(set.filters?.trim()).toMatch(/^3:\*?remote\*? 4:\*?event\*?$/);
    await adm.setLoggingFilters(before.filters ?? '');
    expect(await adm.getLoggingFilters()).toEqual(before);
    expect(conn.isOpen).toBe(true);
  });
});
