/**
 * Breadth test of the REMOTE program against libvirt's test driver served by a
 * real libvirtd: well over a hundred distinct procedures, each one's result
 * checked (a lookup returns what was asked for, a setter is read back by its
 * getter, a count matches its list...). Every call goes through a Proxy on
 * `conn.remote` that records the procedures whose promise resolved; the last
 * test asserts how many distinct ones did.
 *
 * Each connection to test:///default gets its own fresh copy of the test
 * driver's state, so every family opens its own connection in beforeAll and
 * keeps it for its sequence of dependent calls.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { libVerOf } from '../../scripts/lib/harness.js';
import { VirDomainState } from '../../src/generated/api.js';
import type {
  RemoteNonnullDomain,
  RemoteNonnullDomainCheckpoint,
  RemoteNonnullDomainSnapshot,
  RemoteNonnullNetwork,
  RemoteNonnullStoragePool,
  RemoteNonnullStorageVol,
  RemoteTypedParam,
} from '../../src/generated/remote.js';
import { type Connection, connect, fromTypedParams, RemoteError } from '../../src/index.js';
import { type Generation, generations, hostOf } from '../helpers/hosts.js';

type Remote = Connection['remote'];

/**
 * One generation's record of the procedures called, those whose promise
 * resolved and those the test driver answered VIR_ERR_NO_SUPPORT (asserted,
 * not counted), and the transports used; and the connection helper that
 * keeps it.
 */
function coverage(gen: Generation) {
  const called = new Set<string>();
  const succeeded = new Set<string>();
  const unsupported = new Set<string>();
  const transportsUsed = new Set<string>();
  let families = 0;

  /**
   * `conn.remote`, recording each method called and whether it resolved. The
   * method table is frozen, so the Proxy wraps an empty target (a frozen
   * target's get trap must return the original property).
   */
  function track(conn: Connection): Remote {
    const remote = conn.remote as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    return new Proxy({} as Remote, {
      get(_target, prop) {
        if (typeof prop !== 'string') return undefined;
        const fn = remote[prop];
        if (typeof fn !== 'function') return fn;
        return (...args: unknown[]) => {
          called.add(prop);
          // the methods live on a prototype shared by every connection: call them on their table
          return Reflect.apply(fn, remote, args).then((v: unknown) => {
            succeeded.add(prop);
            return v;
          });
        };
      },
    });
  }

  /**
   * Opens a fresh test:///default connection for one describe block, on the
   * generation's first host. Families alternate between the daemon's TCP
   * listener and its unix socket, so both transports carry the test driver.
   */
  function useConnection(): () => Remote {
    let conn: Connection | undefined;
    let remote: Remote | undefined;
    const viaUnix = families++ % 2 === 1;
    beforeAll(async () => {
      const uri = viaUnix
        ? `test+unix:///default?socket=${hostOf(gen, 0, 'SOCKET')}`
        : hostOf(gen, 0, 'TEST');
      conn = await connect(uri);
      transportsUsed.add(conn.target.transport);
      remote = track(conn);
    });
    afterAll(async () => {
      await conn?.close();
    });
    return () => {
      if (!remote) throw new Error('no connection');
      return remote;
    };
  }

  /** A procedure the test driver does not implement: asserts exactly VIR_ERR_NO_SUPPORT. */
  async function expectNoSupport(method: string, p: Promise<unknown>): Promise<void> {
    await expectError(p, 'VIR_ERR_NO_SUPPORT');
    unsupported.add(method);
  }

  return { called, succeeded, unsupported, transportsUsed, useConnection, expectNoSupport };
}

/** Awaits a call that must fail with this libvirt error code name. */
async function expectError(p: Promise<unknown>, codeName: string): Promise<RemoteError> {
  const err = await p.then(
    (v) => {
      throw new Error(`expected ${codeName}, call resolved with ${String(v)}`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RemoteError);
  expect((err as RemoteError).codeName).toBe(codeName);
  return err as RemoteError;
}

/** A fixed-size NUL-padded `char[]` as a string. */
function cstr(chars: readonly number[]): string {
  const end = chars.indexOf(0);
  return String.fromCharCode(...(end < 0 ? chars : chars.slice(0, end)));
}

const tp = {
  int: (field: string, i: number): RemoteTypedParam => ({ field, value: { type: 1, i } }),
  uint: (field: string, ui: number): RemoteTypedParam => ({ field, value: { type: 2, ui } }),
  ullong: (field: string, ul: bigint): RemoteTypedParam => ({ field, value: { type: 4, ul } }),
  bool: (field: string, b: boolean): RemoteTypedParam => ({
    field,
    value: { type: 6, b: b ? 1 : 0 },
  }),
  str: (field: string, s: string): RemoteTypedParam => ({ field, value: { type: 7, s } }),
};

const popcount = (bytes: Uint8Array): number =>
  bytes.reduce((n, b) => {
    let c = 0;
    for (let v = b; v; v >>= 1) c += v & 1;
    return n + c;
  }, 0);

const AFFECT_LIVE = 1;
const AFFECT_CONFIG = 2;
const TYPED_PARAM_STRING_OKAY = 4;
const { VIR_DOMAIN_RUNNING, VIR_DOMAIN_PAUSED, VIR_DOMAIN_SHUTOFF } = VirDomainState;

/** A persistent test-driver domain of ours, with a disk and a NIC. */
function domainXml(name: string, extra = ''): string {
  return `<domain type='test'>
  <name>${name}</name>
  <memory unit='KiB'>1048576</memory>
  <currentMemory unit='KiB'>524288</currentMemory>
  <vcpu placement='static' current='2'>4</vcpu>
  <os><type arch='i686'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <source file='/guest/${name}.img'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='network'>
      <mac address='52:54:00:77:00:01'/>
      <source network='default'/>
    </interface>
    <memballoon model='virtio'/>
  </devices>${extra}
</domain>`;
}

describe.each(generations())('$label', (gen) => {
  const cov = coverage(gen);
  const { useConnection, expectNoSupport } = cov;
  /**
   * What the test driver answers on some generations only, as measured here:
   * 9.0's lacks domain capabilities and nodeDeviceIsActive, 11.3's has them;
   * 12.9's node CPU stats carry a fifth field, `guest`, that 11.3's do not,
   * and 12.9 accepts domain event ids 28 and 29, which 11.3 calls unsupported.
   */
  const gained = {
    domainCapabilities: gen.libVer >= libVerOf('11.3'),
    nodeDeviceIsActive: gen.libVer >= libVerOf('11.3'),
    guestCpuStat: gen.libVer > libVerOf('11.3'),
    eventIds28and29: gen.libVer > libVerOf('11.3'),
  };

  // ---------------------------------------------------------------------------------------------

  describe('connect', () => {
    const r = useConnection();

    it('reports the driver type, versions, hostname, URI', async () => {
      expect((await r().connectGetType()).type).toBe('TEST');
      // the test driver's fixed hypervisor version
      expect((await r().connectGetVersion()).hvVer).toBe(2n);
      // major * 1e6 + minor * 1e3 + micro, the generation's own
      expect((await r().connectGetLibVersion()).libVer).toBe(gen.libVer);
      expect((await r().connectGetHostname()).hostname).toBe(hostname());
      expect((await r().connectGetUri()).uri).toBe('test:///default');
    });

    it('describes the host: capabilities, sysinfo, max vcpus, security, features', async () => {
      const caps = (await r().connectGetCapabilities()).capabilities;
      expect(caps).toContain('<host>');
      expect(caps).toContain('<arch>i686</arch>');
      expect(caps).toContain('<model>testSecurity</model>');
      expect((await r().connectGetSysinfo({ flags: 0 })).sysinfo).toMatch(
        /^<sysinfo type='smbios'>/,
      );
      expect((await r().connectGetMaxVcpus({ type: null })).maxVcpus).toBe(32);
      expect((await r().connectIsSecure()).secure).toBe(1);
      // VIR_DRV_FEATURE_TYPED_PARAM_STRING
      expect((await r().connectSupportsFeature({ feature: 9 })).supported).toBe(1);
    });

    it('lists CPU models and computes a baseline CPU', async () => {
      const m = await r().connectGetCpuModelNames({ arch: 'x86_64', needResults: 1, flags: 0 });
      expect(m.ret).toBe(m.models.length);
      expect(m.models).toContain('Haswell');
      expect(m.models).toContain('Nehalem');
      const base = await r().connectBaselineCpu({
        xmlCPUs: [
          '<cpu><arch>x86_64</arch><model>Haswell</model></cpu>',
          '<cpu><arch>x86_64</arch><model>Nehalem</model></cpu>',
        ],
        flags: 0,
      });
      // the older of the two models is the common baseline
      expect(base.cpu).toContain("<model fallback='allow'>Nehalem</model>");
    });

    it('counts domains consistently across num-of, list and list-all', async () => {
      const active = (await r().connectNumOfDomains()).num;
      const inactive = (await r().connectNumOfDefinedDomains()).num;
      expect(active).toBe(1);
      expect(inactive).toBe(0);
      const ids = (await r().connectListDomains({ maxids: 16 })).ids;
      expect(ids).toHaveLength(active);
      expect((await r().connectListDefinedDomains({ maxnames: 16 })).names).toHaveLength(inactive);
      const all = await r().connectListAllDomains({ needResults: 1, flags: 0 });
      expect(all.ret).toBe(active + inactive);
      expect(all.domains.map((d) => d.name)).toEqual(['test']);
      expect(all.domains[0]!.id).toBe(ids[0]);
    });

    it('gets every domain stats record with typed params', async () => {
      // VIR_DOMAIN_STATS_STATE
      const stats = await r().connectGetAllDomainStats({ doms: [], stats: 1, flags: 0 });
      expect(stats.retStats).toHaveLength(1);
      const rec = stats.retStats[0]!;
      expect(rec.dom.name).toBe('test');
      expect(fromTypedParams(rec.params)['state.state']).toBe(VIR_DOMAIN_RUNNING);
    });

    it('answers VIR_ERR_NO_SUPPORT for what the test driver lacks', async () => {
      await expectNoSupport(
        'connectCompareCpu',
        r().connectCompareCpu({ xml: '<cpu><model>Haswell</model></cpu>', flags: 0 }),
      );
      await expectNoSupport(
        'connectDomainXmlFromNative',
        r().connectDomainXmlFromNative({
          nativeFormat: 'qemu-argv',
          nativeConfig: 'qemu',
          flags: 0,
        }),
      );
      await expectNoSupport(
        'connectDomainXmlToNative',
        r().connectDomainXmlToNative({
          nativeFormat: 'qemu-argv',
          domainXml: domainXml('native'),
          flags: 0,
        }),
      );
      const domcaps = r().connectGetDomainCapabilities({
        emulatorbin: null,
        arch: null,
        machine: null,
        virttype: null,
        flags: 0,
      });
      if (gained.domainCapabilities) {
        const { capabilities } = await domcaps;
        expect(capabilities).toMatch(/^<domainCapabilities>/);
        expect(capabilities).toContain('<domain>test</domain>');
      } else {
        await expectNoSupport('connectGetDomainCapabilities', domcaps);
      }
      await expectNoSupport(
        'connectGetStoragePoolCapabilities',
        r().connectGetStoragePoolCapabilities({ flags: 0 }),
      );
    });
  });

  // ---------------------------------------------------------------------------------------------

  describe('node', () => {
    const r = useConnection();

    it('reports the fake host: node info, free memory per cell, CPU map', async () => {
      const info = await r().nodeGetInfo();
      expect(cstr(info.model)).toBe('i686');
      expect(info).toMatchObject({ memory: 3145728n, cpus: 16, mhz: 1400, nodes: 2 });
      expect(info.sockets * info.cores * info.threads * info.nodes).toBe(info.cpus);
      const cells = (await r().nodeGetCellsFreeMemory({ startCell: 0, maxcells: 8 })).cells;
      expect(cells).toHaveLength(info.nodes);
      for (const c of cells) expect(c).toBeGreaterThan(0n);
      expect((await r().nodeGetFreeMemory()).freeMem).toBeGreaterThan(0n);
      const map = await r().nodeGetCpuMap({ needMap: 1, needOnline: 1, flags: 0 });
      expect(map.ret).toBeGreaterThan(0);
      expect(map.cpumap.length).toBe(Math.ceil(map.ret / 8));
      expect(popcount(map.cpumap)).toBe(map.online);
    });

    it('returns node CPU stats: the count first, then the fields', async () => {
      // VIR_NODE_CPU_STATS_ALL_CPUS = -1
      const fields = [
        'idle',
        'iowait',
        'kernel',
        'user',
        ...(gained.guestCpuStat ? ['guest'] : []),
      ];
      const n = (await r().nodeGetCpuStats({ cpuNum: -1, nparams: 0, flags: 0 })).nparams;
      expect(n).toBe(fields.length);
      const stats = await r().nodeGetCpuStats({ cpuNum: -1, nparams: n, flags: 0 });
      expect(stats.params.map((p) => p.field).sort()).toEqual(fields.sort());
      for (const p of stats.params) expect(typeof p.value).toBe('bigint');
    });

    it('reports the security model', async () => {
      const sec = await r().nodeGetSecurityModel();
      expect(cstr(sec.model)).toBe('testSecurity');
      expect(cstr(sec.doi)).toBe('');
    });

    it('answers VIR_ERR_NO_SUPPORT for what the test driver lacks', async () => {
      await expectNoSupport(
        'nodeGetMemoryStats',
        r().nodeGetMemoryStats({ nparams: 0, cellNum: -1, flags: 0 }),
      );
      await expectNoSupport(
        'nodeGetMemoryParameters',
        r().nodeGetMemoryParameters({ nparams: 0, flags: 0 }),
      );
      await expectNoSupport('nodeGetSevInfo', r().nodeGetSevInfo({ nparams: 0, flags: 0 }));
    });
  });

  // ---------------------------------------------------------------------------------------------

  describe('domain: the default running domain "test"', () => {
    const r = useConnection();
    let dom: RemoteNonnullDomain;

    beforeAll(async () => {
      dom = (await r().domainLookupByName({ name: 'test' })).dom;
    });

    it('is found by name, UUID and id, as the same domain', async () => {
      expect(dom.name).toBe('test');
      expect(dom.id).toBeGreaterThan(0);
      const byUuid = (await r().domainLookupByUuid({ uuid: dom.uuid })).dom;
      expect(byUuid).toEqual(dom);
      const byId = (await r().domainLookupById({ id: dom.id })).dom;
      expect(byId).toEqual(dom);
      const err = await expectError(
        r().domainLookupByName({ name: 'no-such-domain' }),
        'VIR_ERR_NO_DOMAIN',
      );
      expect(err.domainName).toBe('VIR_FROM_TEST');
    });

    it('reports info, state, control info, XML, OS type, memory and vcpus', async () => {
      const info = await r().domainGetInfo({ dom });
      expect(info).toMatchObject({
        state: VIR_DOMAIN_RUNNING,
        maxMem: 8388608n,
        memory: 2097152n,
        nrVirtCpu: 2,
      });
      expect((await r().domainGetState({ dom, flags: 0 })).state).toBe(VIR_DOMAIN_RUNNING);
      // VIR_DOMAIN_CONTROL_OK
      expect((await r().domainGetControlInfo({ dom, flags: 0 })).state).toBe(0);
      const xml = (await r().domainGetXmlDesc({ dom, flags: 0 })).xml;
      expect(xml).toContain('<name>test</name>');
      expect(xml).toContain('6695eb01-f6a4-8304-79aa-97f2502e193f');
      expect((await r().domainGetOsType({ dom })).type).toBe('linux');
      expect((await r().domainGetMaxMemory({ dom })).memory).toBe(info.maxMem);
      expect((await r().domainGetMaxVcpus({ dom })).num).toBe(info.nrVirtCpu);
      expect((await r().domainGetVcpusFlags({ dom, flags: 0 })).num).toBe(info.nrVirtCpu);
    });

    it('reports vcpu placement and pinning', async () => {
      const v = await r().domainGetVcpus({ dom, maxinfo: 2, maplen: 2 });
      expect(v.info.map((i) => i.number)).toEqual([0, 1]);
      for (const i of v.info) expect(i.state).toBe(1); // VIR_VCPU_RUNNING
      expect(v.cpumaps).toHaveLength(2 * 2);
      const pin = await r().domainGetVcpuPinInfo({ dom, ncpumaps: 2, maplen: 2, flags: 0 });
      expect(pin.num).toBe(2);
      expect(pin.cpumaps).toHaveLength(4);
      const emu = await r().domainGetEmulatorPinInfo({ dom, maplen: 2, flags: 0 });
      expect(emu.ret).toBe(1);
      expect(emu.cpumaps).toHaveLength(2);
    });

    it('reports the scheduler type and its parameters', async () => {
      const t = await r().domainGetSchedulerType({ dom });
      expect(t).toEqual({ type: 'fair', nparams: 1 });
      const p = await r().domainGetSchedulerParameters({ dom, nparams: t.nparams });
      expect(fromTypedParams(p.params)).toEqual({ weight: 50 });
    });

    it('returns block, interface and memory statistics', async () => {
      const bs = await r().domainBlockStats({ dom, path: 'vda' });
      expect(bs.rdReq).toBeGreaterThan(0n);
      expect(bs.rdBytes).toBeGreaterThan(0n);
      const is = await r().domainInterfaceStats({ dom, device: 'aa:bb:cc:dd:ee:ff' });
      expect(is.rxBytes).toBeGreaterThan(0n);
      expect(is.txPackets).toBeGreaterThan(0n);
      const ms = await r().domainMemoryStats({ dom, maxStats: 13, flags: 0 });
      const byTag = new Map(ms.stats.map((s) => [s.tag, s.val]));
      // VIR_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON is the current memory
      expect(byTag.get(6)).toBe(2097152n);
      const bi = await r().domainGetBlockInfo({ dom, path: 'vda', flags: 0 });
      expect(bi.capacity).toBeGreaterThan(0n);
      expect(bi.allocation).toBeLessThanOrEqual(bi.physical);
      const cpu0 = await r().domainGetCpuStats({
        dom,
        nparams: 0,
        startCpu: -1,
        ncpus: 1,
        flags: 0,
      });
      expect(cpu0.nparams).toBe(3);
      const cpu = await r().domainGetCpuStats({
        dom,
        nparams: cpu0.nparams,
        startCpu: -1,
        ncpus: 1,
        flags: 0,
      });
      expect(Object.keys(fromTypedParams(cpu.params)).sort()).toEqual([
        'cpu_time',
        'system_time',
        'user_time',
      ]);
    });

    it('reports the guest view: interface addresses, filesystems, hostname, time', async () => {
      const ifs = (await r().domainInterfaceAddresses({ dom, source: 0, flags: 0 })).ifaces;
      expect(ifs).toHaveLength(1);
      expect(ifs[0]!.hwaddr).toBe('aa:bb:cc:dd:ee:ff');
      expect(ifs[0]!.addrs[0]).toEqual({ type: 0, addr: '192.168.122.3', prefix: 24 });
      const fs = await r().domainGetFsinfo({ dom, flags: 0 });
      expect(fs.ret).toBe(fs.info.length);
      expect(fs.info.map((f) => f.mountpoint)).toContain('/');
      expect((await r().domainGetHostname({ dom, flags: 0 })).hostname).toBe('testhost');
      const time = await r().domainGetTime({ dom, flags: 0 });
      expect(time.seconds).toBe(627319920n);
      expect(time.nseconds).toBe(0);
    });

    it('reports disk errors, peeks memory, security label, messages, flags', async () => {
      const n = await r().domainGetDiskErrors({ dom, maxerrors: 0, flags: 0 });
      expect(n.nerrors).toBe(1);
      const errs = await r().domainGetDiskErrors({ dom, maxerrors: n.nerrors, flags: 0 });
      expect(errs.errors).toEqual([{ disk: 'vda', error: 1 }]); // VIR_DOMAIN_DISK_ERROR_UNSPEC
      // VIR_MEMORY_VIRTUAL
      const peek = await r().domainMemoryPeek({ dom, offset: 0n, size: 8, flags: 1 });
      expect(Array.from(peek.buffer)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      const label = await r().domainGetSecurityLabel({ dom });
      expect(cstr(label.label)).toBe('libvirt-test');
      expect(label.enforcing).toBe(1);
      expect((await r().domainGetMessages({ dom, flags: 0 })).msgs).toEqual([]);
      expect((await r().domainIsActive({ dom })).active).toBe(1);
      expect((await r().domainIsPersistent({ dom })).persistent).toBe(1);
      expect((await r().domainIsUpdated({ dom })).updated).toBe(0);
      expect((await r().domainGetAutostart({ dom })).autostart).toBe(0);
      expect((await r().domainHasManagedSaveImage({ dom, flags: 0 })).result).toBe(0);
      expect((await r().domainHasCurrentSnapshot({ dom, flags: 0 })).result).toBe(0);
      expect((await r().domainSnapshotNum({ dom, flags: 0 })).num).toBe(0);
      await expectError(
        r().domainGetMetadata({ dom, type: 0, uri: null, flags: 0 }),
        'VIR_ERR_NO_DOMAIN_METADATA',
      );
    });

    it('returns typed-parameter tunables', async () => {
      const mem0 = await r().domainGetMemoryParameters({ dom, nparams: 0, flags: 0 });
      expect(mem0.nparams).toBe(3);
      const mem = await r().domainGetMemoryParameters({ dom, nparams: mem0.nparams, flags: 0 });
      expect(Object.keys(fromTypedParams(mem.params)).sort()).toEqual([
        'hard_limit',
        'soft_limit',
        'swap_hard_limit',
      ]);
      const numa = await r().domainGetNumaParameters({ dom, nparams: 2, flags: 0 });
      expect(fromTypedParams(numa.params)['numa_mode']).toBe(0); // VIR_DOMAIN_NUMATUNE_MEM_STRICT
      const net = await r().domainGetInterfaceParameters({
        dom,
        device: 'aa:bb:cc:dd:ee:ff',
        nparams: 8,
        flags: 0,
      });
      expect(fromTypedParams(net.params)).toMatchObject({
        'inbound.average': 0,
        'outbound.average': 0,
      });
      const blkio = await r().domainGetBlkioParameters({ dom, nparams: 8, flags: 0 });
      expect(fromTypedParams(blkio.params)).toHaveProperty('weight');
      const io = await r().domainGetBlockIoTune({ dom, disk: 'vda', nparams: 0, flags: 0 });
      expect(io.nparams).toBeGreaterThan(0);
      const perf = fromTypedParams((await r().domainGetPerfEvents({ dom, flags: 0 })).params);
      expect(perf['cmt']).toBe(false);
      expect(perf['cpu_cycles']).toBe(false);
    });

    it('answers VIR_ERR_NO_SUPPORT for what the test driver lacks', async () => {
      await expectNoSupport('domainGetJobInfo', r().domainGetJobInfo({ dom }));
      await expectNoSupport('domainGetJobStats', r().domainGetJobStats({ dom, flags: 0 }));
      await expectNoSupport(
        'domainBlockStatsFlags',
        r().domainBlockStatsFlags({ dom, path: 'vda', nparams: 0, flags: 0 }),
      );
      await expectNoSupport(
        'domainBlockPeek',
        r().domainBlockPeek({ dom, path: 'vda', offset: 0n, size: 8, flags: 0 }),
      );
      await expectNoSupport('domainGetGuestVcpus', r().domainGetGuestVcpus({ dom, flags: 0 }));
    });
  });

  // ---------------------------------------------------------------------------------------------

  describe('domain: define, lifecycle, setters', () => {
    const r = useConnection();
    let dom: RemoteNonnullDomain;
    let dir: string;

    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'virtwire-testdrv-'));
    });
    afterAll(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    const state = async (d = dom) => (await r().domainGetState({ dom: d, flags: 0 })).state;

    it('defines, reads back and undefines a domain', async () => {
      const d = (await r().domainDefineXml({ xml: domainXml('vw-tmp') })).dom;
      expect(d.name).toBe('vw-tmp');
      expect(d.id).toBe(-1);
      expect((await r().domainGetXmlDesc({ dom: d, flags: 0 })).xml).toContain(
        "<source file='/guest/vw-tmp.img'/>",
      );
      expect((await r().connectListDefinedDomains({ maxnames: 16 })).names).toContain('vw-tmp');
      await r().domainUndefine({ dom: d });
      await expectError(r().domainLookupByName({ name: 'vw-tmp' }), 'VIR_ERR_NO_DOMAIN');
    });

    it('defines with flags and starts, suspends, resumes, reboots, resets, shuts down', async () => {
      dom = (await r().domainDefineXmlFlags({ xml: domainXml('vw-dom'), flags: 0 })).dom;
      expect((await r().domainIsPersistent({ dom })).persistent).toBe(1);
      expect(await state()).toBe(VIR_DOMAIN_SHUTOFF);
      await r().domainCreate({ dom });
      expect(await state()).toBe(VIR_DOMAIN_RUNNING);
      const running = (await r().domainLookupByName({ name: 'vw-dom' })).dom;
      expect(running.id).toBeGreaterThan(0);
      await r().domainSuspend({ dom });
      expect(await state()).toBe(VIR_DOMAIN_PAUSED);
      await r().domainResume({ dom });
      expect(await state()).toBe(VIR_DOMAIN_RUNNING);
      await r().domainReboot({ dom, flags: 0 });
      expect(await state()).toBe(VIR_DOMAIN_RUNNING);
      await r().domainReset({ dom, flags: 0 });
      expect(await state()).toBe(VIR_DOMAIN_RUNNING);
      await r().domainShutdown({ dom });
      expect(await state()).toBe(VIR_DOMAIN_SHUTOFF);
      const again = (await r().domainCreateWithFlags({ dom, flags: 0 })).dom;
      expect(again.name).toBe('vw-dom');
      expect(again.id).toBeGreaterThan(0);
      await r().domainShutdownFlags({ dom, flags: 0 });
      expect(await state()).toBe(VIR_DOMAIN_SHUTOFF);
      const withFiles = (await r().domainCreateWithFiles({ dom, flags: 0 })).dom;
      expect(withFiles.id).toBeGreaterThan(0);
      await r().domainDestroy({ dom });
      expect(await state()).toBe(VIR_DOMAIN_SHUTOFF);
      await r().domainCreate({ dom });
      await r().domainDestroyFlags({ dom, flags: 0 });
      expect(await state()).toBe(VIR_DOMAIN_SHUTOFF);
      expect((await r().domainIsActive({ dom })).active).toBe(0);
    });

    it('creates transient domains that vanish when destroyed', async () => {
      const t = (await r().domainCreateXml({ xmlDesc: domainXml('vw-transient'), flags: 0 })).dom;
      expect(t.id).toBeGreaterThan(0);
      expect((await r().domainIsPersistent({ dom: t })).persistent).toBe(0);
      await r().domainDestroy({ dom: t });
      await expectError(r().domainLookupByName({ name: 'vw-transient' }), 'VIR_ERR_NO_DOMAIN');
      const f = (await r().domainCreateXmlWithFiles({ xmlDesc: domainXml('vw-files'), flags: 0 }))
        .dom;
      expect((await r().domainGetState({ dom: f, flags: 0 })).state).toBe(VIR_DOMAIN_RUNNING);
      await r().domainDestroy({ dom: f });
      await expectError(r().domainLookupById({ id: f.id }), 'VIR_ERR_NO_DOMAIN');
    });

    it('sets memory and vcpus, read back by the getters', async () => {
      await r().domainSetMaxMemory({ dom, memory: 2097152n });
      expect((await r().domainGetMaxMemory({ dom })).memory).toBe(2097152n);
      await r().domainSetMemoryFlags({ dom, memory: 786432n, flags: AFFECT_CONFIG });
      expect((await r().domainGetInfo({ dom })).memory).toBe(786432n);
      await r().domainSetVcpusFlags({ dom, nvcpus: 3, flags: AFFECT_CONFIG });
      expect((await r().domainGetVcpusFlags({ dom, flags: AFFECT_CONFIG })).num).toBe(3);
      // VIR_DOMAIN_VCPU_MAXIMUM
      expect((await r().domainGetVcpusFlags({ dom, flags: AFFECT_CONFIG | 4 })).num).toBe(4);
      await r().domainCreate({ dom });
      await r().domainSetMemory({ dom, memory: 655360n });
      expect((await r().domainGetInfo({ dom })).memory).toBe(655360n);
      await r().domainSetVcpus({ dom, nvcpus: 2 });
      expect((await r().domainGetVcpusFlags({ dom, flags: AFFECT_LIVE })).num).toBe(2);
      await r().domainSetMemoryStatsPeriod({ dom, period: 5, flags: AFFECT_LIVE });
      expect((await r().domainGetXmlDesc({ dom, flags: 0 })).xml).toMatch(/<stats period='5'\/>/);
    });

    it('pins vcpus and the emulator, read back by the pin info', async () => {
      await r().domainPinVcpu({ dom, vcpu: 0, cpumap: Uint8Array.of(0b0001) });
      await r().domainPinVcpuFlags({ dom, vcpu: 1, cpumap: Uint8Array.of(0b0010), flags: 0 });
      const pin = await r().domainGetVcpuPinInfo({ dom, ncpumaps: 2, maplen: 1, flags: 0 });
      expect(Array.from(pin.cpumaps)).toEqual([0b0001, 0b0010]);
      await r().domainPinEmulator({ dom, cpumap: Uint8Array.of(0b0100), flags: 0 });
      const emu = await r().domainGetEmulatorPinInfo({ dom, maplen: 1, flags: 0 });
      expect(Array.from(emu.cpumaps)).toEqual([0b0100]);
    });

    it('sets scheduler parameters, autostart, metadata, lifecycle action', async () => {
      await r().domainSetSchedulerParameters({ dom, params: [tp.uint('weight', 100)] });
      await r().domainSetSchedulerParametersFlags({
        dom,
        params: [tp.uint('weight', 200)],
        flags: 0,
      });
      // the parameters are really parsed: an unknown one is refused
      await expectError(
        r().domainSetSchedulerParameters({ dom, params: [tp.uint('no_such_param', 1)] }),
        'VIR_ERR_ARGUMENT_UNSUPPORTED',
      );
      const sched = await r().domainGetSchedulerParameters({ dom, nparams: 1 });
      expect(fromTypedParams(sched.params)['weight']).toBe(50); // the test driver's fixed answer
      await r().domainSetAutostart({ dom, autostart: 1 });
      expect((await r().domainGetAutostart({ dom })).autostart).toBe(1);
      await r().domainSetAutostart({ dom, autostart: 0 });
      expect((await r().domainGetAutostart({ dom })).autostart).toBe(0);
      // VIR_DOMAIN_METADATA_DESCRIPTION, then an ELEMENT in our namespace
      await r().domainSetMetadata({
        dom,
        type: 0,
        metadata: 'written by virtwire',
        key: null,
        uri: null,
        flags: 0,
      });
      expect((await r().domainGetMetadata({ dom, type: 0, uri: null, flags: 0 })).metadata).toBe(
        'written by virtwire',
      );
      const uri = 'https://virtwire.example/ns/1';
      await r().domainSetMetadata({
        dom,
        type: 2,
        metadata: '<owner>tests</owner>',
        key: 'vw',
        uri,
        flags: 0,
      });
      expect((await r().domainGetMetadata({ dom, type: 2, uri, flags: 0 })).metadata).toBe(
        '<owner>tests</owner>',
      );
      expect((await r().domainGetXmlDesc({ dom, flags: 0 })).xml).toContain(
        `<vw:owner xmlns:vw="${uri}">tests</vw:owner>`,
      );
      // VIR_DOMAIN_LIFECYCLE_CRASH -> VIR_DOMAIN_LIFECYCLE_ACTION_PRESERVE
      await r().domainSetLifecycleAction({ dom, type: 2, action: 3, flags: AFFECT_CONFIG });
      expect((await r().domainGetXmlDesc({ dom, flags: 2 /* INACTIVE */ })).xml).toContain(
        '<on_crash>preserve</on_crash>',
      );
    });

    it('sets typed-parameter tunables, read back by the getters', async () => {
      await r().domainSetMemoryParameters({
        dom,
        params: [tp.ullong('hard_limit', 1048576n), tp.ullong('soft_limit', 524288n)],
        flags: 0,
      });
      const mem = await r().domainGetMemoryParameters({ dom, nparams: 3, flags: 0 });
      expect(fromTypedParams(mem.params)).toMatchObject({
        hard_limit: 1048576n,
        soft_limit: 524288n,
      });
      await r().domainSetNumaParameters({
        dom,
        params: [tp.int('numa_mode', 1 /* PREFERRED */), tp.str('numa_nodeset', '0')],
        flags: AFFECT_CONFIG,
      });
      // string parameters only come back to a client that says it takes them
      const numa = await r().domainGetNumaParameters({
        dom,
        nparams: 2,
        flags: AFFECT_CONFIG | TYPED_PARAM_STRING_OKAY,
      });
      expect(fromTypedParams(numa.params)).toMatchObject({ numa_mode: 1, numa_nodeset: '0' });
      await r().domainSetInterfaceParameters({
        dom,
        device: '52:54:00:77:00:01',
        params: [tp.uint('inbound.average', 1000), tp.uint('outbound.average', 2000)],
        flags: 0,
      });
      const net = await r().domainGetInterfaceParameters({
        dom,
        device: '52:54:00:77:00:01',
        nparams: 8,
        flags: 0,
      });
      expect(fromTypedParams(net.params)).toMatchObject({
        'inbound.average': 1000,
        'outbound.average': 2000,
      });
      await r().domainSetBlockIoTune({
        dom,
        disk: 'vda',
        params: [
          tp.ullong('total_bytes_sec', 10485760n),
          tp.ullong('total_bytes_sec_max', 20971520n),
        ],
        flags: 0,
      });
      const io0 = await r().domainGetBlockIoTune({ dom, disk: 'vda', nparams: 0, flags: 0 });
      const io = await r().domainGetBlockIoTune({
        dom,
        disk: 'vda',
        nparams: io0.nparams,
        flags: 0,
      });
      expect(fromTypedParams(io.params)).toMatchObject({
        total_bytes_sec: 10485760n,
        total_bytes_sec_max: 20971520n,
      });
      await r().domainSetBlkioParameters({ dom, params: [tp.uint('weight', 500)], flags: 0 });
      const blkio = await r().domainGetBlkioParameters({ dom, nparams: 8, flags: 0 });
      expect(fromTypedParams(blkio.params)['weight']).toBe(500);
      await r().domainSetPerfEvents({ dom, params: [tp.bool('cmt', true)], flags: 0 });
      const perf = fromTypedParams((await r().domainGetPerfEvents({ dom, flags: 0 })).params);
      expect(perf['cmt']).toBe(true);
      expect(perf['mbmt']).toBe(false);
    });

    it('sets the guest time and talks to the guest', async () => {
      await r().domainSetTime({ dom, seconds: 1700000000n, nseconds: 42, flags: 0 });
      expect(await r().domainGetTime({ dom, flags: 0 })).toEqual({
        seconds: 1700000000n,
        nseconds: 42,
      });
      expect(
        await r().domainSetUserPassword({ dom, user: 'root', password: 'secret', flags: 0 }),
      ).toBeUndefined();
      expect(await r().domainInjectNmi({ dom, flags: 0 })).toBeUndefined();
      // VIR_KEYCODE_SET_LINUX, KEY_A
      expect(
        await r().domainSendKey({ dom, codeset: 0, holdtime: 10, keycodes: [30], flags: 0 }),
      ).toBeUndefined();
      // VIR_DOMAIN_PROCESS_SIGNAL_TERM to the guest's init
      expect(
        await r().domainSendProcessSignal({ dom, pidValue: 1n, signum: 15, flags: 0 }),
      ).toBeUndefined();
      expect((await r().domainFsfreeze({ dom, mountpoints: [], flags: 0 })).filesystems).toBe(2);
      expect((await r().domainFsthaw({ dom, mountpoints: [], flags: 0 })).filesystems).toBe(2);
      expect(
        await r().domainFstrim({ dom, mountPoint: null, minimum: 0n, flags: 0 }),
      ).toBeUndefined();
      expect(await state()).toBe(VIR_DOMAIN_RUNNING);
    });

    it('managed-saves and removes the image', async () => {
      await r().domainManagedSave({ dom, flags: 0 });
      expect(await state()).toBe(VIR_DOMAIN_SHUTOFF);
      expect((await r().domainHasManagedSaveImage({ dom, flags: 0 })).result).toBe(1);
      await r().domainManagedSaveRemove({ dom, flags: 0 });
      expect((await r().domainHasManagedSaveImage({ dom, flags: 0 })).result).toBe(0);
    });

    it('saves to a file, reads and redefines the image XML, restores', async () => {
      await r().domainCreate({ dom });
      const file = join(dir, 'vw-dom.save');
      await r().domainSave({ dom, to: file });
      expect(await state()).toBe(VIR_DOMAIN_SHUTOFF);
      const xml = (await r().domainSaveImageGetXmlDesc({ file, flags: 0 })).xml;
      expect(xml).toContain('<name>vw-dom</name>');
      await r().domainSaveImageDefineXml({
        file,
        dxml: xml.replace('</devices>', '</devices>\n  <description>edited</description>'),
        flags: 0,
      });
      expect((await r().domainSaveImageGetXmlDesc({ file, flags: 0 })).xml).toContain(
        '<description>edited</description>',
      );
      await r().domainRestore({ from: file });
      expect(await state()).toBe(VIR_DOMAIN_RUNNING);
      const file2 = join(dir, 'vw-dom-2.save');
      await r().domainSaveFlags({ dom, to: file2, dxml: null, flags: 0 });
      expect(await state()).toBe(VIR_DOMAIN_SHUTOFF);
      await r().domainRestoreFlags({ from: file2, dxml: null, flags: 0 });
      expect(await state()).toBe(VIR_DOMAIN_RUNNING);
    });

    it('dumps the core', async () => {
      await r().domainCoreDump({ dom, to: join(dir, 'vw-dom.core'), flags: 0 });
      expect(await state()).toBe(VIR_DOMAIN_RUNNING);
      // VIR_DOMAIN_CORE_DUMP_FORMAT_RAW, VIR_DUMP_CRASH: the domain goes down with it
      await r().domainCoreDumpWithFormat({
        dom,
        to: join(dir, 'vw-dom-2.core'),
        dumpformat: 0,
        flags: 1,
      });
      expect(await state()).toBe(VIR_DOMAIN_SHUTOFF);
    });

    it('adds, pins and deletes iothreads', async () => {
      await r().domainAddIothread({ dom, iothreadId: 5, flags: AFFECT_CONFIG });
      await r().domainPinIothread({
        dom,
        iothreadsId: 5,
        cpumap: Uint8Array.of(0b0011),
        flags: AFFECT_CONFIG,
      });
      const info = await r().domainGetIothreadInfo({ dom, flags: AFFECT_CONFIG });
      expect(info.ret).toBe(1);
      expect(info.info[0]!.iothreadId).toBe(5);
      expect(info.info[0]!.cpumap[0]).toBe(0b0011);
      await r().domainDelIothread({ dom, iothreadId: 5, flags: AFFECT_CONFIG });
      expect((await r().domainGetIothreadInfo({ dom, flags: AFFECT_CONFIG })).ret).toBe(0);
    });

    it('renames, then undefines with flags', async () => {
      const renamed = await r().domainRename({ dom, newName: 'vw-renamed', flags: 0 });
      expect(renamed.retcode).toBe(0);
      const d = (await r().domainLookupByName({ name: 'vw-renamed' })).dom;
      expect(d.uuid).toEqual(dom.uuid);
      await expectError(r().domainLookupByName({ name: 'vw-dom' }), 'VIR_ERR_NO_DOMAIN');
      await r().domainUndefineFlags({ dom: d, flags: 0 });
      await expectError(r().domainLookupByUuid({ uuid: d.uuid }), 'VIR_ERR_NO_DOMAIN');
    });
  });

  // ---------------------------------------------------------------------------------------------

  describe('domain snapshots and checkpoints', () => {
    const r = useConnection();
    let dom: RemoteNonnullDomain;
    let s1: RemoteNonnullDomainSnapshot;
    let s2: RemoteNonnullDomainSnapshot;

    beforeAll(async () => {
      dom = (await r().domainCreateXml({ xmlDesc: domainXml('vw-snap'), flags: 0 })).dom;
    });

    it('creates a chain of snapshots and navigates it', async () => {
      s1 = (
        await r().domainSnapshotCreateXml({
          dom,
          xmlDesc:
            '<domainsnapshot><name>s1</name><description>first</description></domainsnapshot>',
          flags: 0,
        })
      ).snap;
      expect(s1.name).toBe('s1');
      expect(s1.dom.name).toBe('vw-snap');
      s2 = (
        await r().domainSnapshotCreateXml({
          dom,
          xmlDesc: '<domainsnapshot><name>s2</name></domainsnapshot>',
          flags: 0,
        })
      ).snap;
      expect((await r().domainSnapshotNum({ dom, flags: 0 })).num).toBe(2);
      expect(
        (await r().domainSnapshotListNames({ dom, maxnames: 8, flags: 0 })).names.sort(),
      ).toEqual(['s1', 's2']);
      const all = await r().domainListAllSnapshots({ dom, needResults: 1, flags: 0 });
      expect(all.ret).toBe(2);
      expect(all.snapshots.map((s) => s.name).sort()).toEqual(['s1', 's2']);
      expect((await r().domainSnapshotLookupByName({ dom, name: 's1', flags: 0 })).snap).toEqual(
        s1,
      );
      const xml = (await r().domainSnapshotGetXmlDesc({ snap: s1, flags: 0 })).xml;
      expect(xml).toContain('<name>s1</name>');
      expect(xml).toContain('<description>first</description>');
      expect((await r().domainHasCurrentSnapshot({ dom, flags: 0 })).result).toBe(1);
      expect((await r().domainSnapshotCurrent({ dom, flags: 0 })).snap.name).toBe('s2');
      expect((await r().domainSnapshotIsCurrent({ snap: s2, flags: 0 })).current).toBe(1);
      expect((await r().domainSnapshotIsCurrent({ snap: s1, flags: 0 })).current).toBe(0);
      expect((await r().domainSnapshotGetParent({ snap: s2, flags: 0 })).snap.name).toBe('s1');
      await expectError(
        r().domainSnapshotGetParent({ snap: s1, flags: 0 }),
        'VIR_ERR_NO_DOMAIN_SNAPSHOT',
      );
      expect((await r().domainSnapshotNumChildren({ snap: s1, flags: 0 })).num).toBe(1);
      expect(
        (await r().domainSnapshotListChildrenNames({ snap: s1, maxnames: 8, flags: 0 })).names,
      ).toEqual(['s2']);
      const kids = await r().domainSnapshotListAllChildren({
        snapshot: s1,
        needResults: 1,
        flags: 0,
      });
      expect(kids.ret).toBe(1);
      expect(kids.snapshots[0]!.name).toBe('s2');
      expect((await r().domainSnapshotHasMetadata({ snap: s1, flags: 0 })).metadata).toBe(1);
    });

    it('reverts to a snapshot and deletes them', async () => {
      await r().domainRevertToSnapshot({ snap: s1, flags: 0 });
      expect((await r().domainSnapshotCurrent({ dom, flags: 0 })).snap.name).toBe('s1');
      await r().domainSnapshotDelete({ snap: s2, flags: 0 });
      expect((await r().domainSnapshotNum({ dom, flags: 0 })).num).toBe(1);
      await expectError(
        r().domainSnapshotLookupByName({ dom, name: 's2', flags: 0 }),
        'VIR_ERR_NO_DOMAIN_SNAPSHOT',
      );
      await r().domainSnapshotDelete({ snap: s1, flags: 0 });
      expect((await r().domainSnapshotNum({ dom, flags: 0 })).num).toBe(0);
      expect((await r().domainHasCurrentSnapshot({ dom, flags: 0 })).result).toBe(0);
    });

    it('creates, lists, navigates and deletes checkpoints', async () => {
      const c1 = (
        await r().domainCheckpointCreateXml({
          dom,
          xmlDesc: '<domaincheckpoint><name>c1</name></domaincheckpoint>',
          flags: 0,
        })
      ).checkpoint;
      expect(c1.name).toBe('c1');
      const c2: RemoteNonnullDomainCheckpoint = (
        await r().domainCheckpointCreateXml({
          dom,
          xmlDesc:
            '<domaincheckpoint><name>c2</name><description>2nd</description></domaincheckpoint>',
          flags: 0,
        })
      ).checkpoint;
      const all = await r().domainListAllCheckpoints({ dom, needResults: 1, flags: 0 });
      expect(all.ret).toBe(2);
      expect(all.checkpoints.map((c) => c.name).sort()).toEqual(['c1', 'c2']);
      expect(
        (await r().domainCheckpointLookupByName({ dom, name: 'c2', flags: 0 })).checkpoint,
      ).toEqual(c2);
      expect((await r().domainCheckpointGetXmlDesc({ checkpoint: c2, flags: 0 })).xml).toContain(
        '<description>2nd</description>',
      );
      expect((await r().domainCheckpointGetParent({ checkpoint: c2, flags: 0 })).parent.name).toBe(
        'c1',
      );
      const kids = await r().domainCheckpointListAllChildren({
        checkpoint: c1,
        needResults: 1,
        flags: 0,
      });
      expect(kids.checkpoints.map((c) => c.name)).toEqual(['c2']);
      await r().domainCheckpointDelete({ checkpoint: c2, flags: 0 });
      await r().domainCheckpointDelete({ checkpoint: c1, flags: 0 });
      expect((await r().domainListAllCheckpoints({ dom, needResults: 1, flags: 0 })).ret).toBe(0);
      await expectError(
        r().domainCheckpointLookupByName({ dom, name: 'c1', flags: 0 }),
        'VIR_ERR_NO_DOMAIN_CHECKPOINT',
      );
    });
  });

  // ---------------------------------------------------------------------------------------------

  describe('networks', () => {
    const r = useConnection();
    const netXml = (name: string, bridge: string, subnet: number) =>
      `<network><name>${name}</name><bridge name='${bridge}'/>` +
      `<ip address='10.${subnet}.0.1' netmask='255.255.255.0'>` +
      `<dhcp><range start='10.${subnet}.0.2' end='10.${subnet}.0.254'/></dhcp></ip></network>`;

    it('finds the default network by name and UUID and describes it', async () => {
      const net = (await r().networkLookupByName({ name: 'default' })).net;
      expect(net.name).toBe('default');
      expect((await r().networkLookupByUuid({ uuid: net.uuid })).net).toEqual(net);
      const xml = (await r().networkGetXmlDesc({ net, flags: 0 })).xml;
      expect(xml).toContain('<name>default</name>');
      expect(xml).toContain('dd8fe884-6c02-601e-7551-cca97df1c5df');
      expect((await r().networkGetBridgeName({ net })).name).toBe('virbr0');
      expect((await r().networkIsActive({ net })).active).toBe(1);
      expect((await r().networkIsPersistent({ net })).persistent).toBe(1);
      await expectError(r().networkLookupByName({ name: 'nope' }), 'VIR_ERR_NO_NETWORK');
      await expectNoSupport(
        'networkGetDhcpLeases',
        r().networkGetDhcpLeases({ net, mac: null, needResults: 1, flags: 0 }),
      );
      await expectNoSupport(
        'networkListAllPorts',
        r().networkListAllPorts({ network: net, needResults: 1, flags: 0 }),
      );
    });

    it('defines, starts, updates, stops and undefines a network', async () => {
      const net: RemoteNonnullNetwork = (
        await r().networkDefineXml({ xml: netXml('vw-net', 'vwbr0', 77) })
      ).net;
      expect(net.name).toBe('vw-net');
      expect((await r().connectNumOfDefinedNetworks()).num).toBe(1);
      expect((await r().connectListDefinedNetworks({ maxnames: 8 })).names).toEqual(['vw-net']);
      expect((await r().networkIsActive({ net })).active).toBe(0);
      await r().networkSetAutostart({ net, autostart: 1 });
      expect((await r().networkGetAutostart({ net })).autostart).toBe(1);
      // VIR_NETWORK_UPDATE_COMMAND_ADD_LAST, VIR_NETWORK_SECTION_IP_DHCP_HOST
      await r().networkUpdate({
        net,
        command: 3,
        section: 4,
        parentIndex: -1,
        xml: "<host mac='52:54:00:00:00:01' ip='10.77.0.10'/>",
        flags: 0,
      });
      expect((await r().networkGetXmlDesc({ net, flags: 0 })).xml).toContain(
        "<host mac='52:54:00:00:00:01' ip='10.77.0.10'/>",
      );
      await r().networkCreate({ net });
      expect((await r().networkIsActive({ net })).active).toBe(1);
      const nActive = (await r().connectNumOfNetworks()).num;
      expect(nActive).toBe(2);
      expect((await r().connectListNetworks({ maxnames: 8 })).names.sort()).toEqual([
        'default',
        'vw-net',
      ]);
      const all = await r().connectListAllNetworks({ needResults: 1, flags: 0 });
      expect(all.ret).toBe(2);
      expect(all.nets.map((n) => n.name).sort()).toEqual(['default', 'vw-net']);
      await r().networkDestroy({ net });
      expect((await r().networkIsActive({ net })).active).toBe(0);
      await r().networkUndefine({ net });
      await expectError(r().networkLookupByUuid({ uuid: net.uuid }), 'VIR_ERR_NO_NETWORK');
    });

    it('defines with flags, creates transient networks', async () => {
      const def = (
        await r().networkDefineXmlFlags({ xml: netXml('vw-net2', 'vwbr2', 78), flags: 0 })
      ).net;
      expect((await r().networkIsPersistent({ net: def })).persistent).toBe(1);
      await r().networkUndefine({ net: def });
      const t = (await r().networkCreateXml({ xml: netXml('vw-net3', 'vwbr3', 79) })).net;
      expect((await r().networkIsPersistent({ net: t })).persistent).toBe(0);
      expect((await r().networkIsActive({ net: t })).active).toBe(1);
      await r().networkDestroy({ net: t });
      await expectError(r().networkLookupByName({ name: 'vw-net3' }), 'VIR_ERR_NO_NETWORK');
      const tf = (
        await r().networkCreateXmlFlags({ xml: netXml('vw-net4', 'vwbr4', 80), flags: 0 })
      ).net;
      expect((await r().networkGetBridgeName({ net: tf })).name).toBe('vwbr4');
      await r().networkDestroy({ net: tf });
    });
  });

  // ---------------------------------------------------------------------------------------------

  describe('storage pools and volumes', () => {
    const r = useConnection();
    let pool: RemoteNonnullStoragePool;
    let vol: RemoteNonnullStorageVol;

    it('finds the default pool and describes it', async () => {
      const p = (await r().storagePoolLookupByName({ name: 'default-pool' })).pool;
      expect((await r().storagePoolLookupByUuid({ uuid: p.uuid })).pool).toEqual(p);
      const info = await r().storagePoolGetInfo({ pool: p });
      expect(info.state).toBe(2); // VIR_STORAGE_POOL_RUNNING
      expect(info.capacity).toBe(info.allocation + info.available);
      expect((await r().storagePoolGetXmlDesc({ pool: p, flags: 0 })).xml).toContain(
        '<path>/default-pool</path>',
      );
      expect((await r().storagePoolIsActive({ pool: p })).active).toBe(1);
      expect((await r().storagePoolIsPersistent({ pool: p })).persistent).toBe(1);
      await expectError(r().storagePoolLookupByName({ name: 'nope' }), 'VIR_ERR_NO_STORAGE_POOL');
      await expectNoSupport(
        'storagePoolLookupByTargetPath',
        r().storagePoolLookupByTargetPath({ path: '/default-pool' }),
      );
    });

    it('finds pool sources', async () => {
      const lvm = await r().connectFindStoragePoolSources({
        type: 'logical',
        srcSpec: null,
        flags: 0,
      });
      expect(lvm.xml).toContain('<name>testvg1</name>');
      const nfs = await r().connectFindStoragePoolSources({
        type: 'netfs',
        srcSpec: "<source><host name='nfs.example'/></source>",
        flags: 0,
      });
      expect(nfs.xml).toContain("<host name='nfs.example'/>");
    });

    it('defines, builds, starts and refreshes a pool', async () => {
      pool = (
        await r().storagePoolDefineXml({
          xml: "<pool type='dir'><name>vw-pool</name><target><path>/vw-pool</path></target></pool>",
          flags: 0,
        })
      ).pool;
      expect(pool.name).toBe('vw-pool');
      expect((await r().connectNumOfDefinedStoragePools()).num).toBe(1);
      expect((await r().connectListDefinedStoragePools({ maxnames: 8 })).names).toEqual([
        'vw-pool',
      ]);
      await r().storagePoolBuild({ pool, flags: 0 });
      expect((await r().storagePoolIsActive({ pool })).active).toBe(0);
      await r().storagePoolCreate({ pool, flags: 0 });
      expect((await r().storagePoolGetInfo({ pool })).state).toBe(2);
      await r().storagePoolRefresh({ pool, flags: 0 });
      expect((await r().connectNumOfStoragePools()).num).toBe(2);
      expect((await r().connectListStoragePools({ maxnames: 8 })).names.sort()).toEqual([
        'default-pool',
        'vw-pool',
      ]);
      const all = await r().connectListAllStoragePools({ needResults: 1, flags: 0 });
      expect(all.ret).toBe(2);
      expect(all.pools.map((p) => p.name).sort()).toEqual(['default-pool', 'vw-pool']);
      await r().storagePoolSetAutostart({ pool, autostart: 1 });
      expect((await r().storagePoolGetAutostart({ pool })).autostart).toBe(1);
    });

    it('creates, clones, looks up and deletes volumes', async () => {
      vol = (
        await r().storageVolCreateXml({
          pool,
          xml: "<volume><name>vol1.img</name><capacity unit='M'>10</capacity><allocation unit='M'>1</allocation></volume>",
          flags: 0,
        })
      ).vol;
      expect(vol).toMatchObject({ pool: 'vw-pool', name: 'vol1.img' });
      const info = await r().storageVolGetInfo({ vol });
      expect(info.capacity).toBe(10n * 1024n * 1024n);
      const path = (await r().storageVolGetPath({ vol })).name;
      expect(path).toBe('/vw-pool/vol1.img');
      expect((await r().storageVolLookupByPath({ path })).vol).toEqual(vol);
      expect((await r().storageVolLookupByKey({ key: vol.key })).vol).toEqual(vol);
      expect((await r().storageVolLookupByName({ pool, name: 'vol1.img' })).vol).toEqual(vol);
      expect((await r().storagePoolLookupByVolume({ vol })).pool).toEqual(pool);
      expect((await r().storageVolGetXmlDesc({ vol, flags: 0 })).xml).toContain(
        '<name>vol1.img</name>',
      );
      const clone = (
        await r().storageVolCreateXmlFrom({
          pool,
          xml: "<volume><name>vol2.img</name><capacity unit='M'>10</capacity></volume>",
          clonevol: vol,
          flags: 0,
        })
      ).vol;
      expect(clone.name).toBe('vol2.img');
      expect((await r().storagePoolNumOfVolumes({ pool })).num).toBe(2);
      expect((await r().storagePoolListVolumes({ pool, maxnames: 8 })).names.sort()).toEqual([
        'vol1.img',
        'vol2.img',
      ]);
      const all = await r().storagePoolListAllVolumes({ pool, needResults: 1, flags: 0 });
      expect(all.ret).toBe(2);
      expect(all.vols.map((v) => v.name).sort()).toEqual(['vol1.img', 'vol2.img']);
      expect((await r().storagePoolGetInfo({ pool })).allocation).toBeGreaterThan(0n);
      await r().storageVolDelete({ vol: clone, flags: 0 });
      await expectError(
        r().storageVolLookupByName({ pool, name: 'vol2.img' }),
        'VIR_ERR_NO_STORAGE_VOL',
      );
      await r().storageVolDelete({ vol, flags: 0 });
      expect((await r().storagePoolNumOfVolumes({ pool })).num).toBe(0);
    });

    it('stops, deletes and undefines the pool; creates a transient one', async () => {
      await r().storagePoolDestroy({ pool });
      expect((await r().storagePoolIsActive({ pool })).active).toBe(0);
      await r().storagePoolDelete({ pool, flags: 0 });
      await r().storagePoolUndefine({ pool });
      await expectError(
        r().storagePoolLookupByUuid({ uuid: pool.uuid }),
        'VIR_ERR_NO_STORAGE_POOL',
      );
      const t = (
        await r().storagePoolCreateXml({
          xml: "<pool type='dir'><name>vw-tpool</name><target><path>/vw-tpool</path></target></pool>",
          flags: 0,
        })
      ).pool;
      expect((await r().storagePoolIsPersistent({ pool: t })).persistent).toBe(0);
      expect((await r().storagePoolIsActive({ pool: t })).active).toBe(1);
      await r().storagePoolDestroy({ pool: t });
      await expectError(
        r().storagePoolLookupByName({ name: 'vw-tpool' }),
        'VIR_ERR_NO_STORAGE_POOL',
      );
    });
  });

  // ---------------------------------------------------------------------------------------------

  describe('host interfaces', () => {
    const r = useConnection();
    const ifaceXml = (name: string, mac: string) =>
      `<interface type='ethernet' name='${name}'><start mode='onboot'/>` +
      `<mac address='${mac}'/><protocol family='ipv4'><ip address='192.168.50.5' prefix='24'/>` +
      `</protocol></interface>`;

    it('finds eth1 by name and MAC and describes it', async () => {
      expect((await r().connectNumOfInterfaces()).num).toBe(1);
      expect((await r().connectListInterfaces({ maxnames: 8 })).names).toEqual(['eth1']);
      const all = await r().connectListAllInterfaces({ needResults: 1, flags: 0 });
      expect(all.ret).toBe(1);
      const iface = all.ifaces[0]!;
      expect(iface).toEqual({ name: 'eth1', mac: 'aa:bb:cc:dd:ee:ff' });
      expect((await r().interfaceLookupByName({ name: 'eth1' })).iface).toEqual(iface);
      expect((await r().interfaceLookupByMacString({ mac: 'aa:bb:cc:dd:ee:ff' })).iface).toEqual(
        iface,
      );
      const xml = (await r().interfaceGetXmlDesc({ iface, flags: 0 })).xml;
      expect(xml).toContain("name='eth1'");
      expect(xml).toContain("<mtu size='1492'/>");
      expect((await r().interfaceIsActive({ iface })).active).toBe(1);
      await expectError(r().interfaceLookupByName({ name: 'nope' }), 'VIR_ERR_NO_INTERFACE');
    });

    it('defines, starts, stops and undefines an interface', async () => {
      const iface = (
        await r().interfaceDefineXml({ xml: ifaceXml('eth7', 'aa:bb:cc:dd:ee:07'), flags: 0 })
      ).iface;
      expect(iface).toEqual({ name: 'eth7', mac: 'aa:bb:cc:dd:ee:07' });
      expect((await r().connectNumOfDefinedInterfaces()).num).toBe(1);
      expect((await r().connectListDefinedInterfaces({ maxnames: 8 })).names).toEqual(['eth7']);
      expect((await r().interfaceIsActive({ iface })).active).toBe(0);
      await r().interfaceCreate({ iface, flags: 0 });
      expect((await r().interfaceIsActive({ iface })).active).toBe(1);
      await r().interfaceDestroy({ iface, flags: 0 });
      expect((await r().interfaceIsActive({ iface })).active).toBe(0);
      await r().interfaceUndefine({ iface });
      await expectError(r().interfaceLookupByName({ name: 'eth7' }), 'VIR_ERR_NO_INTERFACE');
    });

    it('rolls back and commits interface change transactions', async () => {
      await r().interfaceChangeBegin({ flags: 0 });
      await r().interfaceDefineXml({ xml: ifaceXml('eth8', 'aa:bb:cc:dd:ee:08'), flags: 0 });
      expect((await r().interfaceLookupByName({ name: 'eth8' })).iface.name).toBe('eth8');
      await r().interfaceChangeRollback({ flags: 0 });
      await expectError(r().interfaceLookupByName({ name: 'eth8' }), 'VIR_ERR_NO_INTERFACE');
      await r().interfaceChangeBegin({ flags: 0 });
      await r().interfaceDefineXml({ xml: ifaceXml('eth9', 'aa:bb:cc:dd:ee:09'), flags: 0 });
      await r().interfaceChangeCommit({ flags: 0 });
      expect((await r().interfaceLookupByName({ name: 'eth9' })).iface.mac).toBe(
        'aa:bb:cc:dd:ee:09',
      );
      // no transaction is open any more
      await expectError(r().interfaceChangeCommit({ flags: 0 }), 'VIR_ERR_OPERATION_INVALID');
    });
  });

  // ---------------------------------------------------------------------------------------------

  describe('node devices', () => {
    const r = useConnection();

    it('lists devices consistently and describes each', async () => {
      const n = (await r().nodeNumOfDevices({ cap: null, flags: 0 })).num;
      const names = (await r().nodeListDevices({ cap: null, maxnames: 64, flags: 0 })).names;
      expect(names).toHaveLength(n);
      expect(names).toContain('computer');
      const all = await r().connectListAllNodeDevices({ needResults: 1, flags: 0 });
      expect(all.ret).toBe(n);
      expect(all.devices.map((d) => d.name).sort()).toEqual([...names].sort());
      expect((await r().nodeNumOfDevices({ cap: 'scsi_host', flags: 0 })).num).toBe(n - 1);
      expect((await r().nodeDeviceLookupByName({ name: 'scsi_host1' })).dev.name).toBe(
        'scsi_host1',
      );
      expect((await r().nodeDeviceGetParent({ name: 'scsi_host1' })).parentName).toBe('computer');
      expect((await r().nodeDeviceGetParent({ name: 'computer' })).parentName).toBeNull();
      expect((await r().nodeDeviceNumOfCaps({ name: 'computer' })).num).toBe(1);
      expect((await r().nodeDeviceListCaps({ name: 'computer', maxnames: 8 })).names).toEqual([
        'system',
      ]);
      const xml = (await r().nodeDeviceGetXmlDesc({ name: 'scsi_host1', flags: 0 })).xml;
      expect(xml).toContain('<wwnn>2000000012341234</wwnn>');
      await expectError(r().nodeDeviceLookupByName({ name: 'nope' }), 'VIR_ERR_NO_NODE_DEVICE');
      await expectNoSupport(
        'nodeDeviceLookupScsiHostByWwn',
        r().nodeDeviceLookupScsiHostByWwn({
          wwnn: '2000000012341234',
          wwpn: '1000000012341234',
          flags: 0,
        }),
      );
      const active = r().nodeDeviceIsActive({ name: 'computer' });
      if (gained.nodeDeviceIsActive) expect((await active).active).toBe(1);
      else await expectNoSupport('nodeDeviceIsActive', active);
    });

    it('creates and destroys an NPIV vHBA', async () => {
      const before = (await r().nodeNumOfDevices({ cap: null, flags: 0 })).num;
      const dev = (
        await r().nodeDeviceCreateXml({
          xmlDesc:
            "<device><parent>scsi_host1</parent><capability type='scsi_host'>" +
            "<capability type='fc_host'><wwnn>2000000012345678</wwnn><wwpn>1000000012345678</wwpn>" +
            '</capability></capability></device>',
          flags: 0,
        })
      ).dev;
      expect((await r().nodeNumOfDevices({ cap: null, flags: 0 })).num).toBe(before + 1);
      expect((await r().nodeDeviceGetParent({ name: dev.name })).parentName).toBe('scsi_host1');
      expect((await r().nodeDeviceGetXmlDesc({ name: dev.name, flags: 0 })).xml).toContain(
        '<wwpn>1000000012345678</wwpn>',
      );
      await r().nodeDeviceDestroy({ name: dev.name });
      await expectError(r().nodeDeviceLookupByName({ name: dev.name }), 'VIR_ERR_NO_NODE_DEVICE');
    });
  });

  // ---------------------------------------------------------------------------------------------

  describe('event registration', () => {
    const r = useConnection();

    it('registers and deregisters the legacy domain callback', async () => {
      // libvirtd never fills cb_registered: 0 either way
      expect((await r().connectDomainEventRegister()).cbRegistered).toBe(0);
      // registered: a second registration is refused
      await expectError(r().connectDomainEventRegister(), 'VIR_ERR_INVALID_ARG');
      expect((await r().connectDomainEventDeregister()).cbRegistered).toBe(0);
      // deregistered: a second deregistration is refused
      await expectError(r().connectDomainEventDeregister(), 'VIR_ERR_INTERNAL_ERROR');
    });

    it('registers and deregisters domain events by id, legacy style', async () => {
      // VIR_DOMAIN_EVENT_ID_LIFECYCLE
      expect(await r().connectDomainEventRegisterAny({ eventID: 0 })).toBeUndefined();
      expect(await r().connectDomainEventDeregisterAny({ eventID: 0 })).toBeUndefined();
      // deregistering twice is refused: the first one did take effect
      await expectError(
        r().connectDomainEventDeregisterAny({ eventID: 0 }),
        'VIR_ERR_INTERNAL_ERROR',
      );
    });

    it('registers and deregisters callback events of every object type', async () => {
      const dom = (await r().domainLookupByName({ name: 'test' })).dom;
      const d1 = (await r().connectDomainEventCallbackRegisterAny({ eventID: 0, dom: null }))
        .callbackID;
      const d2 = (await r().connectDomainEventCallbackRegisterAny({ eventID: 1, dom })).callbackID;
      expect(d2).not.toBe(d1);
      const net = (await r().networkLookupByName({ name: 'default' })).net;
      const n1 = (await r().connectNetworkEventRegisterAny({ eventID: 0, net })).callbackID;
      const pool = (await r().storagePoolLookupByName({ name: 'default-pool' })).pool;
      const p1 = (await r().connectStoragePoolEventRegisterAny({ eventID: 0, pool })).callbackID;
      const nd1 = (await r().connectNodeDeviceEventRegisterAny({ eventID: 0, dev: null }))
        .callbackID;
      for (const id of [d1, d2, n1, p1, nd1]) expect(id).toBeGreaterThanOrEqual(0);
      await r().connectDomainEventCallbackDeregisterAny({ callbackID: d1 });
      await r().connectDomainEventCallbackDeregisterAny({ callbackID: d2 });
      await r().connectNetworkEventDeregisterAny({ callbackID: n1 });
      await r().connectStoragePoolEventDeregisterAny({ callbackID: p1 });
      await r().connectNodeDeviceEventDeregisterAny({ callbackID: nd1 });
      // each id is gone once deregistered
      await expectError(
        r().connectDomainEventCallbackDeregisterAny({ callbackID: d1 }),
        'VIR_ERR_INTERNAL_ERROR',
      );
      await expectError(
        r().connectNetworkEventDeregisterAny({ callbackID: n1 }),
        'VIR_ERR_INTERNAL_ERROR',
      );
      await expectNoSupport(
        'connectSecretEventRegisterAny',
        r().connectSecretEventRegisterAny({ eventID: 0, secret: null }),
      );
    });

    it('registers domain event ids newer than its tables only where the daemon knows them', async () => {
      // 28 and 29 (vcpu-removed, channel-lifecycle) came after 11.3, whose tables virtwire has:
      // the numbers go to the daemon as they are, and the daemon decides
      for (const eventID of [28, 29]) {
        const reg = r().connectDomainEventCallbackRegisterAny({ eventID, dom: null });
        if (gained.eventIds28and29) {
          const { callbackID } = await reg;
          await r().connectDomainEventCallbackDeregisterAny({ callbackID });
        } else {
          const e = await expectError(reg, 'VIR_ERR_INTERNAL_ERROR');
          expect(e.message).toContain(`unsupported event ID ${eventID}`);
        }
      }
    });

    it('registers and unregisters the close callback', async () => {
      expect(await r().connectRegisterCloseCallback()).toBeUndefined();
      expect(await r().connectUnregisterCloseCallback()).toBeUndefined();
      // the connection is still fine afterwards
      expect((await r().connectGetType()).type).toBe('TEST');
    });
  });

  // ---------------------------------------------------------------------------------------------

  describe('secrets and nwfilters', () => {
    const r = useConnection();

    it('are not served for test:///default by this daemon', async () => {
      await expectNoSupport('connectNumOfSecrets', r().connectNumOfSecrets());
      await expectNoSupport(
        'connectListAllSecrets',
        r().connectListAllSecrets({ needResults: 1, flags: 0 }),
      );
      await expectNoSupport(
        'secretDefineXml',
        r().secretDefineXml({ xml: "<secret ephemeral='yes'/>", flags: 0 }),
      );
      await expectNoSupport('connectNumOfNwfilters', r().connectNumOfNwfilters());
      await expectNoSupport(
        'connectListAllNwfilters',
        r().connectListAllNwfilters({ needResults: 1, flags: 0 }),
      );
      await expectNoSupport(
        'connectListAllNwfilterBindings',
        r().connectListAllNwfilterBindings({ needResults: 1, flags: 0 }),
      );
    });
  });

  // ---------------------------------------------------------------------------------------------

  describe('coverage', () => {
    it('called at least 130 distinct REMOTE procedures successfully', () => {
      const { called, succeeded, unsupported, transportsUsed } = cov;
      const ok = [...succeeded].sort();
      const failed = [...called].filter((m) => !succeeded.has(m)).sort();
      console.log(
        `test driver (${gen.label}): ${ok.length} distinct procedures succeeded:\n  ${ok.join('\n  ')}\n` +
          `${unsupported.size} answered VIR_ERR_NO_SUPPORT: ${[...unsupported].sort().join(', ')}\n` +
          `called but never succeeded: ${failed.join(', ') || '(none)'}`,
      );
      for (const m of unsupported) expect(succeeded.has(m)).toBe(false);
      expect(ok.length).toBeGreaterThanOrEqual(130);
      expect([...transportsUsed].sort()).toEqual(['tcp', 'unix']);
    });
  });
});
