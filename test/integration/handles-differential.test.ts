/**
 * Differential test of the handle API against libvirt's C client: every read-only getter of
 * every object type is called through virtwire and through libvirt-python on the same objects
 * of the same daemon, and the results must agree (see test/helpers/differential.ts).
 *
 * - libvirt's test driver (test:///default through host A's libvirtd): the host, domains,
 *   snapshots, checkpoints, networks, storage pools and volumes, interfaces, node devices. The
 *   daemon keeps one test:///default state while any client holds it open, so what virtwire
 *   creates here the binding's connection sees too.
 * - host A's QEMU driver (qemu:///system): a running guest with a qcow2 disk, secrets, network
 *   filters, a directory pool, and the real host's interfaces and devices, which the test driver
 *   does not have.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection, Domain } from '../../src/api/handles.js';
import { connect } from '../../src/index.js';
import {
  type Comparison,
  type DifferentialReport,
  differential,
  type Getter,
  type Subject,
} from '../helpers/differential.js';
import {
  checkpointGetters,
  connectionGetters,
  domainGetters,
  interfaceGetters,
  networkGetters,
  networkPortGetters,
  nodeDeviceGetters,
  nwFilterBindingGetters,
  nwFilterGetters,
  poolGetters,
  secretGetters,
  snapshotGetters,
  volumeGetters,
} from '../helpers/getters.js';
import { createQcow2, guestXmlWithDisk } from '../helpers/guest.js';
import { generations, host, hostOf, onHostsAB } from '../helpers/hosts.js';

const PREFIX = 'vw-diff';
/** VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA | _CHECKPOINTS_METADATA | _MANAGED_SAVE */
const UNDEFINE_ALL = 2 | 16 | 1;

const reports: Array<{ where: string; report: DifferentialReport }> = [];

function subjects<T extends Subject>(
  list: readonly T[],
  getters: readonly Getter<T>[],
): Array<readonly [Subject, readonly Getter<never>[]]> {
  return list.map((s) => [s, getters as readonly Getter<never>[]] as const);
}

/** Fails with every difference listed, one line each, so a run names all of them at once. */
function expectAgreement(report: DifferentialReport): void {
  const bad = report.comparisons.filter((c) => c.differences.length > 0);
  const lines = bad.flatMap((c: Comparison) => c.differences.map((d) => `${c.id}: ${d}`));
  expect(lines).toEqual([]);
}

async function removeOurDomains(conn: Connection): Promise<void> {
  for (const d of await conn.listAllDomains()) {
    if (!d.name.startsWith(PREFIX)) continue;
    if ((await d.isActive()) !== 0) await d.destroy().catch(() => {});
    await d.undefineFlags(UNDEFINE_ALL).catch(() => {});
  }
}

const testDomainXml = (name: string): string => `<domain type='test'>
  <name>${name}</name>
  <memory unit='KiB'>262144</memory>
  <vcpu>2</vcpu>
  <os><type arch='i686'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'><source file='/guest/${name}.img'/><target dev='vda' bus='virtio'/></disk>
  </devices>
</domain>`;

// ---------------------------------------------------------------------------------------------

describe.each(generations())("libvirt's test driver: $label", (gen) => {
  let conn: Connection;
  const uri = (): string => hostOf(gen, 0, 'TEST');

  beforeAll(async () => {
    conn = await connect(uri());
    await removeOurDomains(conn);
    const test = await conn.domainLookupByName('test');
    // two snapshots (the second a child of the first) on the running domain, and two checkpoints
    // on a transient one (the test driver refuses checkpoints beside snapshots, as QEMU's does)
    await test.snapshotCreateXML(`<domainsnapshot><name>${PREFIX}-s1</name></domainsnapshot>`);
    await test.snapshotCreateXML(`<domainsnapshot><name>${PREFIX}-s2</name></domainsnapshot>`);
    const ckpt = await conn.domainCreateXML(testDomainXml(`${PREFIX}-ckpt`));
    await ckpt.checkpointCreateXML(
      `<domaincheckpoint><name>${PREFIX}-c1</name></domaincheckpoint>`,
    );
    await ckpt.checkpointCreateXML(
      `<domaincheckpoint><name>${PREFIX}-c2</name></domaincheckpoint>`,
    );
    // an inactive persistent domain, an inactive network and interface, two volumes
    await conn.domainDefineXML(testDomainXml(`${PREFIX}-off`));
    await conn.networkDefineXML(
      `<network><name>${PREFIX}-net</name><bridge name='vwdiff0'/>` +
        `<ip address='192.168.123.1' netmask='255.255.255.0'/></network>`,
    );
    await conn.interfaceDefineXML(
      `<interface type='ethernet' name='${PREFIX}0'><start mode='none'/>` +
        `<mac address='52:54:00:aa:bb:01'/></interface>`,
    );
    const pool = await conn.storagePoolLookupByName('default-pool');
    for (const v of ['a', 'b']) {
      await pool.storageVolCreateXML(
        `<volume><name>${PREFIX}-${v}.img</name><capacity unit='MiB'>${v === 'a' ? 4 : 8}</capacity></volume>`,
      );
    }
  });

  afterAll(async () => {
    await conn?.close();
  });

  it('agrees with the C client on every getter of every object', async () => {
    const domains = await conn.listAllDomains();
    const test = domains.find((d) => d.name === 'test')!;
    const snapshots = (await Promise.all(domains.map((d) => d.listAllSnapshots()))).flat();
    const checkpoints = (await Promise.all(domains.map((d) => d.listAllCheckpoints()))).flat();
    const networks = await conn.listAllNetworks();
    const ports = (await Promise.all(networks.map((n) => n.listAllPorts().catch(() => [])))).flat();
    const pools = await conn.listAllStoragePools();
    const volumes = (await Promise.all(pools.map((p) => p.listAllVolumes()))).flat();
    const ifaces = await conn.listAllInterfaces();
    const devices = await conn.listAllNodeDevices();
    expect(snapshots.map((s) => s.name).sort()).toEqual([`${PREFIX}-s1`, `${PREFIX}-s2`]);
    expect(checkpoints.map((s) => s.name).sort()).toEqual([`${PREFIX}-c1`, `${PREFIX}-c2`]);
    expect(volumes.length).toBeGreaterThanOrEqual(2);
    expect(devices.length).toBeGreaterThanOrEqual(4);

    const report = await differential(uri(), [
      [
        conn,
        connectionGetters({
          domain: test,
          network: networks[0]!,
          pool: pools[0]!,
          volume: volumes[0]!,
          iface: ifaces[0]!,
          device: devices[0]!,
        }) as readonly Getter<never>[],
      ],
      ...domains.map(
        (d) =>
          [
            d,
            domainGetters({ disk: 'vda', iface: d.name === 'test' ? 'testnet0' : null }),
          ] as const,
      ),
      ...subjects(snapshots, snapshotGetters),
      ...subjects(checkpoints, checkpointGetters),
      ...subjects(networks, networkGetters),
      ...subjects(ports, networkPortGetters),
      ...subjects(pools, poolGetters),
      ...subjects(volumes, volumeGetters),
      ...subjects(ifaces, interfaceGetters),
      ...subjects(devices, nodeDeviceGetters),
    ] as Array<readonly [Subject, readonly Getter<never>[]]>);
    reports.push({ where: `test driver, libvirt ${gen.label}`, report });
    expectAgreement(report);
    // most calls succeed on both sides; agreeing on an error counts, but is not the point
    const ok = report.comparisons.filter((c) => !c.bothFailed).length;
    expect(ok).toBeGreaterThan(report.comparisons.length / 2);
  });
});

// ---------------------------------------------------------------------------------------------

// The QEMU-driver part stays on host A (libvirt 9.0): it builds its pool and guest disk in host
// A's image directory on this machine's file system, which the newer generations' hosts (in
// their own Debian 13 roots) do not share; their QEMU drivers are covered by the domain,
// streams and migration files.
const onA = onHostsAB("host A's image directory is on this machine's file system");
describe.each(onA)(
  "host A's QEMU driver: a real guest, secrets, filters, a directory pool, the host: $label",
  () => {
    let conn: Connection;
    let guest: Domain;
    const uri = (): string => host('VIRTWIRE_HOST_A_TCP');
    const poolDir = (): string =>
      join(dirname(host('VIRTWIRE_GUEST_KERNEL')), '..', 'pools', `${PREFIX}-pool`);

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
      conn = await connect(uri());
      await cleanup();
      const disk = createQcow2(`${PREFIX}-guest`);
      guest = await conn.domainDefineXML(guestXmlWithDisk(`${PREFIX}-guest`, disk));
      await guest.createWithFlags();
      const secret = await conn.secretDefineXML(
        `<secret ephemeral='no' private='no'><description>${PREFIX}</description>` +
          `<usage type='volume'><volume>/var/lib/${PREFIX}/disk.img</volume></usage></secret>`,
      );
      await secret.setValue(new TextEncoder().encode('a secret of the differential test'));
      await conn.nwFilterDefineXML(
        `<filter name='${PREFIX}-filter' chain='ipv4'>` +
          `<rule action='accept' direction='out' priority='500'><ip srcipaddr='10.1.2.3'/></rule></filter>`,
      );
      rmSync(poolDir(), { recursive: true, force: true });
      mkdirSync(dirname(poolDir()), { recursive: true });
      const pool = await conn.storagePoolDefineXML(
        `<pool type='dir'><name>${PREFIX}-pool</name><target><path>${poolDir()}</path></target></pool>`,
      );
      await pool.build();
      await pool.create();
      await pool.storageVolCreateXML(
        `<volume><name>${PREFIX}.qcow2</name><capacity unit='MiB'>2</capacity>` +
          `<target><format type='qcow2'/></target></volume>`,
      );
    });

    afterAll(async () => {
      if (conn) await cleanup();
      await conn?.close();
      rmSync(poolDir(), { recursive: true, force: true });
    });

    it('agrees with the C client on every getter of every object', async () => {
      const pools = (await conn.listAllStoragePools()).filter((p) => p.name.startsWith(PREFIX));
      const volumes = (await Promise.all(pools.map((p) => p.listAllVolumes()))).flat();
      const secrets = await conn.listAllSecrets();
      const filters = await conn.listAllNWFilters();
      const bindings = await conn.listAllNWFilterBindings();
      const ifaces = await conn.listAllInterfaces();
      const devices = await conn.listAllNodeDevices();
      expect(volumes).toHaveLength(1);
      expect(secrets.length).toBeGreaterThanOrEqual(1);
      expect(filters.length).toBeGreaterThanOrEqual(1);

      const report = await differential(uri(), [
        [
          conn,
          connectionGetters({
            domain: guest,
            pool: pools[0]!,
            volume: volumes[0]!,
            iface: ifaces[0]!,
            device: devices[0]!,
            secret: secrets[0]!,
            filter: filters[0]!,
            liveHost: true,
          }) as readonly Getter<never>[],
        ],
        [
          guest,
          domainGetters({ disk: 'vda', iface: null, live: true }) as readonly Getter<never>[],
        ],
        ...subjects(pools, poolGetters),
        ...subjects(volumes, volumeGetters),
        ...subjects(secrets, secretGetters),
        ...subjects(filters, nwFilterGetters),
        ...subjects(bindings, nwFilterBindingGetters),
        ...subjects(ifaces, interfaceGetters),
        ...subjects(devices, nodeDeviceGetters),
      ]);
      reports.push({ where: 'QEMU host A', report });
      expectAgreement(report);
      const ok = report.comparisons.filter((c) => !c.bothFailed).length;
      expect(ok).toBeGreaterThan(report.comparisons.length / 2);
    });
  },
);

// ---------------------------------------------------------------------------------------------

describe('count', () => {
  it('compared hundreds of results with the C client', () => {
    const total = reports.reduce((n, r) => n + r.report.comparisons.length, 0);
    const leaves = reports.reduce((n, r) => n + r.report.leaves, 0);
    for (const { where, report } of reports) {
      const failed = report.comparisons.filter((c) => c.bothFailed).length;
      console.log(
        `differential (${where}, libvirt-python on libvirt ${report.bindingVersion}): ` +
          `${report.comparisons.length} comparisons (${failed} the same error on both sides), ` +
          `${report.leaves} values`,
      );
    }
    console.log(`differential total: ${total} comparisons of ${leaves} values, all agreeing`);
    expect(reports).toHaveLength(generations().length + onA.length);
    expect(total).toBeGreaterThanOrEqual(400);
  });
});
