/**
 * What the simulated daemon says about itself and about calls it does not
 * serve: the version profile (versions, feature answers, procedures a
 * release did not have) and each kind of object's error domain, as libvirtd
 * reports them (the values were read off libvirt 9.0's daemon; the
 * cross-check compares them with it).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Connection, RemoteError } from '../../../src/index.js';
import { SIM_PROFILES, Simulator } from '../../../src/testing/index.js';

const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const x of opened.splice(0).reverse()) await x.close();
});
async function start(opts: Parameters<typeof Simulator.start>[0] = {}) {
  const s = await Simulator.start(opts);
  opened.push(s);
  const c = await s.connect();
  opened.push(c);
  return { s, c };
}
const failure = async (p: Promise<unknown>) => {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  if (!(e instanceof RemoteError)) throw new Error(`expected a RemoteError, got ${String(e)}`);
  return { code: e.codeName, domain: e.domainName, message: e.message };
};
const NO_UUID = new Uint8Array(16);

describe('version profiles', () => {
  it('default to the newest release modelled, 12.9', async () => {
    const { s, c } = await start();
    expect(s.profile.name).toBe('12.9');
    expect(s.profile).toBe(SIM_PROFILES['12.9']);
    expect(await c.remote.connectGetLibVersion()).toEqual({ libVer: 12_009_000n });
    expect(await c.remote.connectGetVersion()).toEqual({ hvVer: 11_001_000n });
  });

  it('11.3 reports its versions: Debian 13 with QEMU 10.0', async () => {
    const { s, c } = await start({ profile: '11.3' });
    expect(s.profile.name).toBe('11.3');
    expect(await c.remote.connectGetLibVersion()).toEqual({ libVer: 11_003_000n });
    expect(await c.remote.connectGetVersion()).toEqual({ hvVer: 10_000_000n });
  });

  it('the event IDs each release accepts: 11.3 refuses the two 12.x added, 12.9 takes them', async () => {
    const register = (c: Connection, eventID: number) =>
      c.remote.connectDomainEventCallbackRegisterAny({ eventID, dom: null });
    const cur = await start({ profile: '11.3' });
    for (const id of [28, 29]) {
      expect(await failure(register(cur.c, id))).toEqual({
        code: 'VIR_ERR_INTERNAL_ERROR',
        domain: 'VIR_FROM_RPC',
        message: `internal error: unsupported event ID ${id}`,
      });
    }
    const next = await start({ profile: '12.9' });
    for (const id of [27, 28, 29])
      expect((await register(next.c, id)).callbackID).toBeGreaterThan(0);
    expect(await failure(register(next.c, 30))).toMatchObject({
      message: 'internal error: unsupported event ID 30',
    });
  });

  it('9.0 reports its versions and does not know the procedures added after it', async () => {
    const { s, c } = await start({ profile: '9.0', domains: [{ name: 'vm', state: 'running' }] });
    expect(s.profile).toBe(SIM_PROFILES['9.0']);
    expect(await c.remote.connectGetLibVersion()).toEqual({ libVer: 9_000_000n });
    expect(await c.remote.connectGetVersion()).toEqual({ hvVer: 7_002_000n });
    const vm = await c.lookupDomain('vm');
    // DOMAIN_GET_AUTOSTART_ONCE (449) came with 11.2
    expect(await failure(c.remote.domainGetAutostartOnce({ dom: vm.wire }))).toEqual({
      code: 'VIR_ERR_RPC',
      domain: 'VIR_FROM_RPC',
      message: 'unknown procedure: 449',
    });
    expect(s.calls).toContain('#449');
    // 443 (DOMAIN_FD_ASSOCIATE) is 9.0's last: known, just not served
    expect(
      (await failure(c.remote.domainFdAssociate({ dom: vm.wire, name: 'x', flags: 0 }))).code,
    ).toBe('VIR_ERR_NO_SUPPORT');
    // domain event ID 27 (NIC_MAC_CHANGE) came with 11.2
    expect(
      await failure(c.remote.connectDomainEventCallbackRegisterAny({ eventID: 27, dom: null })),
    ).toEqual({
      code: 'VIR_ERR_INTERNAL_ERROR',
      domain: 'VIR_FROM_RPC',
      message: 'internal error: unsupported event ID 27',
    });
    expect(
      (await c.remote.connectDomainEventCallbackRegisterAny({ eventID: 26, dom: null })).callbackID,
    ).toBeGreaterThan(0);
  });

  it('11.3 knows them: the same calls answer as an unimplemented procedure and a valid event ID', async () => {
    const { c } = await start({ profile: '11.3', domains: [{ name: 'vm', state: 'running' }] });
    const vm = await c.lookupDomain('vm');
    expect(await failure(c.remote.domainGetAutostartOnce({ dom: vm.wire }))).toEqual({
      code: 'VIR_ERR_NO_SUPPORT',
      domain: 'VIR_FROM_DOMAIN',
      message: 'this function is not supported by the connection driver: virDomainGetAutostartOnce',
    });
    expect(
      (await c.remote.connectDomainEventCallbackRegisterAny({ eventID: 27, dom: null })).callbackID,
    ).toBeGreaterThan(0);
  });

  it('answer the feature probes alike, as libvirtd with QEMU does in every release modelled', async () => {
    const answers = async (c: Connection) => {
      const out: number[] = [];
      for (let f = 1; f <= 20; f++)
        out.push((await c.remote.connectSupportsFeature({ feature: f })).supported);
      return out;
    };
    const expected = [0, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0];
    for (const profile of ['9.0', '11.3', '12.9'] as const) {
      expect(await answers((await start({ profile })).c)).toEqual(expected);
    }
  });

  it('refuses a profile it does not model, naming the ones it does', async () => {
    await expect(Simulator.start({ profile: '10.0' as unknown as '9.0' })).rejects.toThrow(
      'profile must be one of 9.0, 11.3, 12.9, got "10.0"',
    );
  });
});

describe('error domains per kind of object', () => {
  it('a host with no networks, pools, devices, secrets, interfaces or filters lists none and finds none', async () => {
    const { c } = await start();
    expect(await c.remote.connectListAllNetworks({ needResults: 1, flags: 0 })).toEqual({
      nets: [],
      ret: 0,
    });
    expect(await c.remote.connectNumOfStoragePools()).toEqual({ num: 0 });
    expect(await c.remote.connectListAllSecrets({ needResults: 1, flags: 0 })).toEqual({
      secrets: [],
      ret: 0,
    });
    const missing = {
      network: await failure(c.remote.networkLookupByName({ name: 'nope' })),
      networkUuid: await failure(c.remote.networkLookupByUuid({ uuid: NO_UUID })),
      pool: await failure(c.remote.storagePoolLookupByName({ name: 'nope' })),
      volume: await failure(c.remote.storageVolLookupByPath({ path: '/nope' })),
      device: await failure(c.remote.nodeDeviceLookupByName({ name: 'nope' })),
      secret: await failure(c.remote.secretLookupByUuid({ uuid: NO_UUID })),
      iface: await failure(c.remote.interfaceLookupByName({ name: 'nope' })),
      filter: await failure(c.remote.nwfilterLookupByName({ name: 'nope' })),
    };
    expect(missing).toEqual({
      network: {
        code: 'VIR_ERR_NO_NETWORK',
        domain: 'VIR_FROM_NETWORK',
        message: "Network not found: no network with matching name 'nope'",
      },
      networkUuid: {
        code: 'VIR_ERR_NO_NETWORK',
        domain: 'VIR_FROM_NETWORK',
        message:
          "Network not found: no network with matching uuid '00000000-0000-0000-0000-000000000000'",
      },
      pool: {
        code: 'VIR_ERR_NO_STORAGE_POOL',
        domain: 'VIR_FROM_STORAGE',
        message: "Storage pool not found: no storage pool with matching name 'nope'",
      },
      volume: {
        code: 'VIR_ERR_NO_STORAGE_VOL',
        domain: 'VIR_FROM_STORAGE',
        message: "Storage volume not found: no storage vol with matching path '/nope'",
      },
      device: {
        code: 'VIR_ERR_NO_NODE_DEVICE',
        domain: 'VIR_FROM_NODEDEV',
        message: "Node device not found: no node device with matching name 'nope'",
      },
      secret: {
        code: 'VIR_ERR_NO_SECRET',
        domain: 'VIR_FROM_SECRET',
        message:
          "Secret not found: no secret with matching uuid '00000000-0000-0000-0000-000000000000'",
      },
      iface: {
        code: 'VIR_ERR_NO_INTERFACE',
        domain: 'VIR_FROM_INTERFACE',
        message: "Interface not found: couldn't find interface named 'nope'",
      },
      filter: {
        code: 'VIR_ERR_NO_NWFILTER',
        domain: 'VIR_FROM_NWFILTER',
        message: "Network filter not found: no nwfilter with matching name 'nope'",
      },
    });
  });

  it('snapshots and checkpoints: none, in the QEMU driver error domain, after the domain is found', async () => {
    const { c } = await start({ domains: [{ name: 'vm' }] });
    const vm = await c.lookupDomain('vm');
    expect(
      await c.remote.domainListAllSnapshots({ dom: vm.wire, needResults: 1, flags: 0 }),
    ).toEqual({ snapshots: [], ret: 0 });
    expect(
      await failure(c.remote.domainSnapshotLookupByName({ dom: vm.wire, name: 's1', flags: 0 })),
    ).toEqual({
      code: 'VIR_ERR_NO_DOMAIN_SNAPSHOT',
      domain: 'VIR_FROM_QEMU',
      message: "Domain snapshot not found: no domain snapshot with matching name 's1'",
    });
    expect(
      await failure(c.remote.domainCheckpointLookupByName({ dom: vm.wire, name: 'c1', flags: 0 })),
    ).toMatchObject({ code: 'VIR_ERR_NO_DOMAIN_CHECKPOINT', domain: 'VIR_FROM_QEMU' });
    const ghost = { name: 'ghost', uuid: NO_UUID, id: -1 };
    expect(
      (await failure(c.remote.domainSnapshotLookupByName({ dom: ghost, name: 's1', flags: 0 })))
        .code,
    ).toBe('VIR_ERR_NO_DOMAIN');
  });

  it('calls not served fail in their own kind of object, with the public function named exactly', async () => {
    const { c } = await start();
    const net = { name: 'n', uuid: NO_UUID };
    expect(await failure(c.remote.networkCreateXml({ xml: '<network/>' }))).toEqual({
      code: 'VIR_ERR_NO_SUPPORT',
      domain: 'VIR_FROM_NETWORK',
      message: 'this function is not supported by the connection driver: virNetworkCreateXML',
    });
    expect((await failure(c.remote.networkGetXmlDesc({ net, flags: 0 }))).domain).toBe(
      'VIR_FROM_NETWORK',
    );
    expect(
      await failure(c.remote.storagePoolCreateXml({ xml: '<pool/>', flags: 0 })),
    ).toMatchObject({ domain: 'VIR_FROM_STORAGE' });
    expect(
      await failure(
        c.remote.domainCheckpointCreateXml({
          dom: { name: 'x', uuid: NO_UUID, id: -1 },
          xmlDesc: '<domaincheckpoint/>',
          flags: 0,
        }),
      ),
    ).toMatchObject({ domain: 'VIR_FROM_DOMAIN_CHECKPOINT' });
    expect(await failure(c.remote.connectGetSysinfo({ flags: 0 }))).toEqual({
      code: 'VIR_ERR_NO_SUPPORT',
      domain: 'VIR_FROM_DOMAIN', // libvirt-host.c reports as the domain file does
      message: 'this function is not supported by the connection driver: virConnectGetSysinfo',
    });
    expect(
      await failure(
        c.qemu.domainMonitorCommand({
          dom: { name: 'x', uuid: NO_UUID, id: 1 },
          cmd: 'info',
          flags: 0,
        }),
      ),
    ).toMatchObject({ domain: 'VIR_FROM_NONE' });
  });

  it('a read-only connection is refused first, in the error domain of the object kind', async () => {
    const s = await Simulator.start();
    opened.push(s);
    const ro = await s.connect({ readonly: true });
    opened.push(ro);
    expect(await failure(ro.remote.networkCreateXml({ xml: '<network/>' }))).toEqual({
      code: 'VIR_ERR_OPERATION_DENIED',
      domain: 'VIR_FROM_NETWORK',
      message: 'operation forbidden: read only access prevents virNetworkCreateXML',
    });
    expect(
      await failure(ro.remote.storagePoolCreateXml({ xml: '<pool/>', flags: 0 })),
    ).toMatchObject({ code: 'VIR_ERR_OPERATION_DENIED', domain: 'VIR_FROM_STORAGE' });
    expect(
      await failure(
        ro.remote.domainSnapshotCreateXml({
          dom: { name: 'x', uuid: NO_UUID, id: -1 },
          xmlDesc: '<domainsnapshot/>',
          flags: 0,
        }),
      ),
    ).toEqual({
      code: 'VIR_ERR_OPERATION_DENIED',
      domain: 'VIR_FROM_DOMAIN_SNAPSHOT',
      message: 'operation forbidden: read only access prevents virDomainSnapshotCreateXML',
    });
    // listing stays allowed
    expect(await ro.remote.connectNumOfNetworks()).toEqual({ num: 0 });
  });
});
