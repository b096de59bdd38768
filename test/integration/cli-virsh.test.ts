/**
 * virtwire's virsh commands against virsh 9.0 on the same daemon's test
 * driver (test:///default: each connection sees the same fresh state):
 * for each command the fields virsh prints are present in virtwire's --json
 * with equal values; formatting is not compared.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { virshTime } from '../../src/cli/virsh-more.js';
import { type Connection, connect } from '../../src/index.js';
import { runCli } from '../helpers/cli.js';
import { generations, hostOf } from '../helpers/hosts.js';

// virsh here is the 9.0 client (Debian bookworm's): it is compared on the daemons of its own
// generation; the commands themselves run over the handles, which every generation's tests cover
const gen = generations({
  only: ['bookworm'],
  because: "the virsh compared with is 9.0, bookworm's, as installed on this machine",
})[0]!;
const uri = (): string => hostOf(gen, 0, 'TEST');

function virshAt(at: string, ...args: string[]): string {
  return execFileSync('virsh', ['-c', at, ...args], { encoding: 'utf8' });
}
function virsh(...args: string[]): string {
  return virshAt(uri(), ...args);
}
/** virsh's `Label:   value` lines as a map. */
function virshFields(...args: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of virsh(...args).split('\n')) {
    const m = /^([^:]+):\s+(.*)$/.exec(line);
    if (m) out[m[1]!.trim()] = m[2]!.trim();
  }
  return out;
}
/** The first column of a virsh table. */
function virshColumn(...args: string[]): string[][] {
  return virsh(...args)
    .split('\n')
    .slice(2)
    .map((l) => l.trim().split(/\s{2,}/))
    .filter((r) => r[0] !== '');
}
/** virtwire in-process against `at`: exit status, stdout, stderr. */
function oursAt(
  at: string,
  ...args: string[]
): Promise<{ code: number; out: string; err: string }> {
  return runCli(['-c', at, ...args]);
}
/** virtwire's --json on the test driver, which must succeed with nothing on stderr. */
async function ours(...args: string[]): Promise<unknown> {
  const r = await oursAt(uri(), ...args, '--json');
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.out);
}
/** virtwire's text on the test driver. */
async function oursText(...args: string[]): Promise<string> {
  const r = await oursAt(uri(), ...args);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return r.out.trim();
}
/** virsh domstats' `  key=value` lines, per domain. */
function virshStats(...args: string[]): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  let cur: Record<string, string> = {};
  for (const line of virsh('domstats', ...args).split('\n')) {
    const d = /^Domain: '(.*)'$/.exec(line);
    if (d) out[d[1]!] = cur = {};
    const kv = /^ {2}([^=]+)=(.*)$/.exec(line);
    if (kv) cur[kv[1]!] = kv[2]!;
  }
  return out;
}
type Obj = Record<string, unknown>;
const yes = (b: unknown): string => (b ? 'yes' : 'no');

describe(`virtwire's virsh commands against virsh (${gen.label}, test driver)`, () => {
  it('list --all', async () => {
    const v = virshColumn('list', '--all').map((r) => [r[1], r[2]]);
    const o = (await ours('list', '--all')) as Obj[];
    expect(o.map((r) => [r.name, r.state === 'shutoff' ? 'shut off' : r.state])).toEqual(v);
  });

  it('nodeinfo', async () => {
    const v = virshFields('nodeinfo');
    const o = (await ours('nodeinfo')) as Obj;
    expect(o.cpuModel).toBe(v['CPU model']);
    expect(String(o.cpus)).toBe(v['CPU(s)']);
    expect(`${o.mhz} MHz`).toBe(v['CPU frequency']);
    expect(String(o.sockets)).toBe(v['CPU socket(s)']);
    expect(String(o.coresPerSocket)).toBe(v['Core(s) per socket']);
    expect(String(o.threadsPerCore)).toBe(v['Thread(s) per core']);
    expect(String(o.numaCells)).toBe(v['NUMA cell(s)']);
    expect(`${o.memoryKiB} KiB`).toBe(v['Memory size']);
  });

  it('hostname and version', async () => {
    expect(((await ours('hostname')) as Obj).hostname).toBe(virsh('hostname').trim());
    // virsh prints the daemon's version only with --daemon
    const v = virshFields('version', '--daemon');
    const o = (await ours('version', '--daemon')) as Obj;
    expect(o.daemon).toBe(v['Running against daemon']);
    expect(`${o.hypervisorType} ${o.hypervisor}`).toBe(v['Running hypervisor']);
  });

  it('dumpxml, net-dumpxml and capabilities', async () => {
    expect(((await ours('dumpxml', 'test')) as Obj).xml).toBe(
      virsh('dumpxml', 'test').trimEnd() + '\n',
    );
    expect(((await ours('net-dumpxml', 'default')) as Obj).xml).toBe(
      virsh('net-dumpxml', 'default').trimEnd() + '\n',
    );
    expect(((await ours('capabilities')) as Obj).xml).toBe(virsh('capabilities').trimEnd() + '\n');
  });

  it('net-list --all and net-info', async () => {
    const v = virshColumn('net-list', '--all');
    const o = (await ours('net-list', '--all')) as Obj[];
    expect(
      o.map((r) => [r.name, r.active ? 'active' : 'inactive', yes(r.autostart), yes(r.persistent)]),
    ).toEqual(v);
    const i = virshFields('net-info', 'default');
    const oi = (await ours('net-info', 'default')) as Obj;
    expect([
      oi.name,
      oi.uuid,
      yes(oi.active),
      yes(oi.persistent),
      yes(oi.autostart),
      oi.bridge,
    ]).toEqual([i.Name, i.UUID, i.Active, i.Persistent, i.Autostart, i.Bridge]);
  });

  it('pool-list --all, pool-info and vol-list', async () => {
    const v = virshColumn('pool-list', '--all');
    const o = (await ours('pool-list', '--all')) as Obj[];
    expect(o.map((r) => [r.name, r.active ? 'active' : 'inactive', yes(r.autostart)])).toEqual(v);
    const i = virshFields('pool-info', 'default-pool');
    const oi = (await ours('pool-info', 'default-pool')) as Obj;
    expect([oi.name, oi.uuid, oi.state, yes(oi.persistent), yes(oi.autostart)]).toEqual([
      i.Name,
      i.UUID,
      i.State,
      i.Persistent,
      i.Autostart,
    ]);
    const vols = virshColumn('vol-list', 'default-pool');
    const ov = (await ours('vol-list', 'default-pool')) as Obj[];
    expect(ov.map((r) => [r.name, r.path])).toEqual(vols);
  });

  it('vcpuinfo, domiflist and domblklist', async () => {
    const v = virsh('vcpuinfo', 'test')
      .trim()
      .split(/\n\s*\n/)
      .map((block) => {
        const f: Record<string, string> = {};
        for (const l of block.split('\n')) {
          const m = /^([^:]+):\s+(.*)$/.exec(l);
          if (m) f[m[1]!] = m[2]!;
        }
        return [f.VCPU, f.CPU, f.State, f['CPU Affinity']];
      });
    const o = (await ours('vcpuinfo', 'test')) as Obj[];
    expect(o.map((r) => [String(r.vcpu), String(r.cpu), r.state, r.affinity])).toEqual(v);
    const ifs = virshColumn('domiflist', 'test');
    const oi = (await ours('domiflist', 'test')) as Obj[];
    expect(oi.map((r) => [r.interface ?? '-', r.type, r.source, r.model ?? '-', r.mac])).toEqual(
      ifs,
    );
    const blk = virshColumn('domblklist', 'test');
    const ob = (await ours('domblklist', 'test')) as Obj[];
    expect(ob.map((r) => [r.target, r.source ?? '-'])).toEqual(blk);
  });
});

describe(`virtwire's new virsh commands against virsh (${gen.label}, test driver)`, () => {
  // The test driver's default connection keeps its state only while a client holds it: hold one,
  // so what virtwire changes is what virsh reads next.
  let held: Connection;
  beforeAll(async () => {
    held = await connect(uri());
  });
  afterAll(async () => {
    await held?.close();
  });

  it('domstats, one domain and all, every group and --state', async () => {
    for (const args of [['test'], ['--state'], ['--list-running']]) {
      const v = virshStats(...args);
      const o = (await ours('domstats', ...args)) as Array<{ domain: string; stats: Obj }>;
      expect(o.map((r) => r.domain)).toEqual(Object.keys(v));
      for (const r of o) {
        expect(Object.keys(r.stats)).toEqual(Object.keys(v[r.domain]!));
        expect(Object.fromEntries(Object.entries(r.stats).map(([k, x]) => [k, String(x)]))).toEqual(
          v[r.domain],
        );
      }
    }
    // the text form is virsh's
    expect(await oursText('domstats', 'test')).toBe(virsh('domstats', 'test').trim());
  });

  it('domblkinfo: one device, --human, --all', async () => {
    const v = virshFields('domblkinfo', 'test', 'vda');
    const o = (await ours('domblkinfo', 'test', 'vda')) as Obj;
    expect([o.capacity, o.allocation, o.physical]).toEqual([v.Capacity, v.Allocation, v.Physical]);
    const h = virshFields('domblkinfo', 'test', 'vda', '--human');
    const oh = await oursText('domblkinfo', 'test', 'vda', '--human');
    expect(oh).toContain(`Capacity:       ${h.Capacity}`);
    expect(oh).toContain(`Allocation:     ${h.Allocation}`);
    const all = virshColumn('domblkinfo', 'test', '--all');
    const oa = (await ours('domblkinfo', 'test', '--all')) as Obj[];
    expect(oa.map((r) => [r.target, r.capacity, r.allocation, r.physical])).toEqual(all);
  });

  it('snapshot-create-as, snapshot-list, snapshot-revert, snapshot-delete', async () => {
    const created = await oursText('snapshot-create-as', 'test', 'vw-s1', 'first one');
    expect(created).toBe(
      virsh('snapshot-create-as', 'test', 'vw-v1').trim().replace('vw-v1', 'vw-s1'),
    );
    virsh('snapshot-delete', 'test', 'vw-v1');
    expect(((await ours('snapshot-create-as', 'test', '--name', 'vw-s2')) as Obj).snapshot).toBe(
      'vw-s2',
    );
    expect(virsh('snapshot-dumpxml', 'test', 'vw-s1')).toContain(
      '<description>first one</description>',
    );

    const v = virshColumn('snapshot-list', 'test', '--parent');
    const o = (await ours('snapshot-list', 'test', '--parent')) as Obj[];
    expect(
      o.map((r) => [r.name, virshTime(r.creationTime as number), r.state, r.parent ?? undefined]),
    ).toEqual(v.map((r) => [r[0], r[1], r[2], r[3]]));
    expect(await oursText('snapshot-list', 'test', '--name')).toBe(
      virsh('snapshot-list', 'test', '--name').trim(),
    );
    expect(await oursText('snapshot-list', 'test', '--leaves', '--name')).toBe(
      virsh('snapshot-list', 'test', '--leaves', '--name').trim(),
    );
    expect(await oursText('snapshot-list', 'test', '--no-leaves', '--name')).toBe(
      virsh('snapshot-list', 'test', '--no-leaves', '--name').trim(),
    );

    expect(await oursText('snapshot-revert', 'test', 'vw-s1')).toBe(
      'Domain snapshot vw-s1 reverted',
    );
    expect(virsh('snapshot-current', 'test', '--name').trim()).toBe('vw-s1');
    const del = (await ours('snapshot-delete', 'test', 'vw-s2')) as Obj;
    expect(del).toEqual({ domain: 'test', snapshot: 'vw-s2', action: 'deleted' });
    expect(virsh('snapshot-list', 'test', '--name').trim()).toBe('vw-s1');
    expect(await oursText('snapshot-delete', 'test', '--current')).toBe(
      'Domain snapshot vw-s1 deleted',
    );
    expect(virsh('snapshot-list', 'test', '--name').trim()).toBe('');
  });

  it('snapshot-list --tree, --from, --current, --descendants, --topological: the same bytes as virsh', async () => {
    // t1 -> (t2 -> (t3, t5), t4), and a second root t0 redefined from t1's own XML
    for (const c of [
      ['snapshot-create-as', 'test', 'vw-t1'],
      ['snapshot-create-as', 'test', 'vw-t2'],
      ['snapshot-create-as', 'test', 'vw-t3'],
      ['snapshot-revert', 'test', 'vw-t1'],
      ['snapshot-create-as', 'test', 'vw-t4'],
      ['snapshot-revert', 'test', 'vw-t2'],
      ['snapshot-create-as', 'test', 'vw-t5'],
      ['snapshot-revert', 'test', 'vw-t1'],
    ])
      virsh(...c);
    const dir = mkdtempSync(join(tmpdir(), 'vw-snaps-'));
    try {
      const root = join(dir, 't0.xml');
      writeFileSync(
        root,
        virsh('snapshot-dumpxml', 'test', 'vw-t1', '--security-info').replace(
          '<name>vw-t1</name>',
          '<name>vw-t0</name>',
        ),
      );
      virsh('snapshot-create', 'test', root, '--redefine');
      // virsh ends its output with one more empty line than virtwire, whose text ends in one newline
      const same = async (...args: string[]): Promise<string> => {
        const r = await oursAt(uri(), 'snapshot-list', 'test', ...args);
        expect(r.err).toBe('');
        expect(r.code).toBe(0);
        expect(`${r.out}\n`).toBe(virsh('snapshot-list', 'test', ...args));
        return r.out;
      };
      expect(await same('--tree')).toBe(
        [
          'vw-t0',
          '',
          'vw-t1',
          '  |',
          '  +- vw-t2',
          '  |   |',
          '  |   +- vw-t3',
          '  |   +- vw-t5',
          '  |     ',
          '  +- vw-t4',
          '    ',
          '',
        ].join('\n'),
      );
      await same('--tree', '--topological');
      await same('--tree', '--metadata');
      expect(await same('--from', 'vw-t1', '--tree')).toContain('  +- vw-t4');
      await same('--current', '--tree');
      await same('--from', 'vw-t1', '--descendants', '--name');
      expect(await same('--current', '--name')).toBe('vw-t2\nvw-t4\n');
      await same('--from', 'vw-t2', '--parent');
      await same('--topological', '--parent');
      await same();
      // options virsh refuses together are refused before anything is asked, exit status 2
      for (const bad of [
        ['--tree', '--name'],
        ['--tree', '--leaves'],
        ['--tree', '--no-leaves'],
        ['--tree', '--internal'],
        ['--descendants'],
        ['--from', 'vw-t1', '--current'],
        ['--from', 'vw-t1', '--roots'],
      ]) {
        const r = await oursAt(uri(), 'snapshot-list', 'test', ...bad);
        expect(r.code, bad.join(' ')).toBe(2);
        expect(r.err, bad.join(' ')).toMatch(/^error: snapshot-list: --/);
      }
      const missing = await oursAt(uri(), 'snapshot-list', 'test', '--from', 'vw-none');
      expect(missing.code).toBe(1);
      expect(missing.err).toContain("no domain snapshot with matching name 'vw-none'");
    } finally {
      rmSync(dir, { recursive: true, force: true });
      virsh('snapshot-delete', 'test', 'vw-t1', '--children');
      virsh('snapshot-delete', 'test', 'vw-t0');
    }
  });

  it('list draws the same bytes as virsh', async () => {
    const r = await oursAt(uri(), 'list', '--all');
    expect(r.code).toBe(0);
    expect(`${r.out}\n`).toBe(virsh('list', '--all'));
  });

  it("admin, server and client objects over the daemon's admin socket, as virt-admin sees them", async () => {
    const sock = hostOf(gen, 0, 'ADMIN_SOCKET');
    const va = (...a: string[]): string =>
      execFileSync('virt-admin', ['-c', `libvirtd:///system?socket=${sock}`, ...a], {
        encoding: 'utf8',
      });
    /** virt-admin's `key : value` lines. */
    const vaFields = (...a: string[]): Record<string, string> =>
      Object.fromEntries(
        va(...a)
          .split('\n')
          .map((l) => /^(\w+)\s*:\s*(.*)$/.exec(l))
          .filter((m) => m !== null)
          .map((m) => [m[1]!, m[2]!]),
      );
    /** virt-admin's table: the first columns of each row. */
    const vaRows = (...a: string[]): string[][] =>
      va(...a)
        .split('\n')
        .slice(2)
        .filter((l) => l.trim() !== '')
        .map((l) => l.trim().split(/\s+/));
    const adm = async (...a: string[]): Promise<unknown> => {
      const r = await oursAt(uri(), ...a, '--admin-socket', sock, '--json');
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      return JSON.parse(r.out);
    };

    const servers = (await adm('admin', 'listServers')) as { name: string }[];
    expect(servers.map((x) => x.name).sort()).toEqual(
      vaRows('srv-list')
        .map((r) => r[1])
        .sort(),
    );
    const pool = (await adm('server', 'getThreadPoolParameters', 'libvirtd')) as Obj;
    const vaPool = vaFields('srv-threadpool-info', 'libvirtd');
    for (const k of ['minWorkers', 'maxWorkers', 'prioWorkers'])
      expect(String(pool[k]), k).toBe(vaPool[k]);
    const limits = (await adm('server', 'getClientLimits', 'libvirtd')) as Obj;
    expect(String(limits.nclients_max)).toBe(vaFields('srv-clients-info', 'libvirtd').nclients_max);

    // a client both list, then its details: this file's held connection is one of them
    const ours = (await adm('server', 'listClients', 'libvirtd')) as { id: string }[];
    const theirs = vaRows('srv-clients-list', 'libvirtd').map((r) => r[0]!);
    const id = theirs.find((x) => ours.some((c) => c.id === x));
    expect(id).toBeDefined();
    const info = (await adm('client', 'getInfo', 'libvirtd', id!)) as Obj;
    const vaInfo = vaFields('client-info', 'libvirtd', id!);
    expect(info.sock_addr).toBe(vaInfo.sock_addr);
    expect(info.readonly ? 'yes' : 'no').toBe(vaInfo.readonly);

    // a client id that is not a number is refused before the socket is opened; an unknown one by
    // the daemon; a socket that is not there names itself
    const bad = await oursAt(uri(), 'client', 'getInfo', 'libvirtd', 'x', '--admin-socket', sock);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/CLIENT-ID: expected a whole number, got 'x'/);
    const gone = await oursAt(
      uri(),
      'client',
      'getInfo',
      'libvirtd',
      '99999999',
      '--admin-socket',
      sock,
    );
    expect(gone.code).toBe(1);
    expect(gone.err).toMatch(/VIR_ERR_NO_CLIENT/);
    const nosock = await oursAt(
      uri(),
      'admin',
      'getLibVersion',
      '--admin-socket',
      '/nonexistent/admin-sock',
    );
    expect(nosock.code).toBe(1);
    expect(nosock.err).toMatch(/failed to connect to the admin socket \/nonexistent\/admin-sock/);
  });

  it('net-destroy and net-start, as virsh words them', async () => {
    expect(await oursText('net-destroy', 'default')).toBe('Network default destroyed');
    expect(virshFields('net-info', 'default').Active).toBe('no');
    expect(((await ours('net-start', 'default')) as Obj).action).toBe('started');
    expect(virshFields('net-info', 'default').Active).toBe('yes');
    // virsh's own sentences, for the same pair
    expect(virsh('net-destroy', 'default').trim()).toBe('Network default destroyed');
    expect(virsh('net-start', 'default').trim()).toBe('Network default started');
  });

  it('pool-refresh and vol-info, by pool and name and by path', async () => {
    expect(await oursText('pool-refresh', 'default-pool')).toBe(
      virsh('pool-refresh', 'default-pool').trim(),
    );
    const p = await held.storagePoolLookupByName('default-pool');
    const vol = await p.storageVolCreateXML(
      "<volume><name>vw-v.img</name><capacity unit='M'>10</capacity></volume>",
    );
    try {
      for (const extra of [[], ['--bytes']]) {
        const v = virshFields('vol-info', 'vw-v.img', '--pool', 'default-pool', ...extra);
        const t = await oursText('vol-info', 'vw-v.img', '--pool', 'default-pool', ...extra);
        for (const k of ['Name', 'Type', 'Capacity', 'Allocation'])
          expect(t).toContain(`${`${k}:`.padEnd(16)}${v[k]}`);
      }
      const path = await vol.getPath();
      const o = (await ours('vol-info', path)) as Obj;
      const v = virshFields('vol-info', path, '--bytes');
      expect([o.name, o.type, `${o.capacity} bytes`, `${o.allocation} bytes`]).toEqual([
        v.Name,
        v.Type,
        v.Capacity,
        v.Allocation,
      ]);
    } finally {
      await vol.delete();
    }
  });
});

describe(`virtwire <object> <method> against virsh (${gen.label}, test driver)`, () => {
  it('domain getInfo is what virsh dominfo shows; node getInfo what nodeinfo shows', async () => {
    const v = virshFields('dominfo', 'test');
    const o = (await ours('domain', 'getInfo', 'test')) as Obj;
    expect([String(o.nrVirtCpu), `${o.maxMem} KiB`, `${o.memory} KiB`]).toEqual([
      v['CPU(s)'],
      v['Max memory'],
      v['Used memory'],
    ]);
    const n = virshFields('nodeinfo');
    const on = (await ours('node', 'getInfo')) as Obj;
    expect([on.model, String(on.cpus), `${on.memory} KiB`]).toEqual([
      n['CPU model'],
      n['CPU(s)'],
      n['Memory size'],
    ]);
  });

  it('connection getHostname, domain getXMLDesc with flags by name, pool listAllVolumes', async () => {
    expect(await oursText('connection', 'getHostname')).toBe(virsh('hostname').trim());
    expect(await oursText('domain', 'getXMLDesc', 'test', 'VIR_DOMAIN_XML_INACTIVE')).toBe(
      virsh('dumpxml', '--inactive', 'test').trim(),
    );
    const vols = (await ours('pool', 'listAllVolumes', 'default-pool')) as Obj[];
    expect(vols.map((x) => x.name)).toEqual(
      virshColumn('vol-list', 'default-pool').map((r) => r[0]),
    );
    expect((await ours('network', 'getBridgeName', 'default')) as string).toBe(
      virshFields('net-info', 'default').Bridge,
    );
  });

  it('a daemon error exits 1 with its name; a bad argument exits 2 naming it', async () => {
    const nosuch = await oursAt(uri(), 'domain', 'getInfo', 'nosuch');
    expect(nosuch.code).toBe(1);
    expect(nosuch.err).toContain('error: VIR_ERR_NO_DOMAIN');
    const bad = await oursAt(uri(), 'domain', 'setMemory', 'test', 'lots');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("memory (hyper): expected a whole number, got 'lots'");
  });
});

describe(`vol-upload and vol-download against virsh (${gen.label}, QEMU driver, a dir pool)`, () => {
  const qemu = (): string => hostOf(gen, 0, 'TCP');
  const POOL = `vw-cli-vol-${process.pid}`;
  let conn: Connection;
  let poolDir = '';
  let work = '';
  beforeAll(async () => {
    conn = await connect(qemu());
    poolDir = mkdtempSync('/tmp/vw-cli-pool-');
    work = mkdtempSync(join(tmpdir(), 'vw-cli-vol-'));
    const p = await conn.storagePoolDefineXML(
      `<pool type='dir'><name>${POOL}</name><target><path>${poolDir}</path></target></pool>`,
    );
    await p.create();
    await p.storageVolCreateXML(
      `<volume><name>v.raw</name><capacity unit='bytes'>${3 * 1024 * 1024}</capacity><target><format type='raw'/></target></volume>`,
    );
  }, 60_000);
  afterAll(async () => {
    if (conn) {
      const p = await conn.storagePoolLookupByName(POOL).catch(() => null);
      if (p) {
        for (const v of await p.listAllVolumes().catch(() => [])) await v.delete().catch(() => {});
        await p.destroy().catch(() => {});
        await p.undefine().catch(() => {});
      }
      await conn.close();
    }
    rmSync(poolDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });
  const sha = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex');

  it('uploads a file that virsh then downloads whole, and downloads what virsh does', async () => {
    const src = join(work, 'src.raw');
    const content = randomBytes(3 * 1024 * 1024);
    content.fill(0, 1024 * 1024, 2 * 1024 * 1024);
    writeFileSync(src, content);
    const up = await oursAt(qemu(), 'vol-upload', 'v.raw', src, '--pool', POOL, '--json');
    expect(up.code).toBe(0);
    expect(JSON.parse(up.out)).toMatchObject({ volume: 'v.raw', bytes: String(content.length) });
    // not a terminal: plain progress lines on stderr, the last at 100%
    expect(up.err.trim().split('\n').at(-1)).toMatch(
      /^vol-upload: 100\.0% {2}3\.0 MiB of 3\.0 MiB/,
    );

    const viaVirsh = join(work, 'virsh.raw');
    virshAt(qemu(), 'vol-download', '--pool', POOL, 'v.raw', viaVirsh);
    expect(sha(viaVirsh)).toBe(sha(src));

    const mine = join(work, 'mine.raw');
    const down = await oursAt(qemu(), 'vol-download', 'v.raw', mine, '--pool', POOL);
    expect(down.code).toBe(0);
    expect(down.out).toBe(`Downloaded 3.0 MiB from volume 'v.raw' to ${mine}\n`);
    expect(sha(mine)).toBe(sha(viaVirsh));

    // --offset and --length as virsh reads them
    const part = join(work, 'part.raw');
    const vpart = join(work, 'vpart.raw');
    await oursAt(
      qemu(),
      'vol-download',
      'v.raw',
      part,
      '--pool',
      POOL,
      '--offset',
      '4096',
      '--length',
      '65536',
    );
    virshAt(
      qemu(),
      'vol-download',
      '--pool',
      POOL,
      'v.raw',
      vpart,
      '--offset',
      '4096',
      '--length',
      '65536',
    );
    expect(sha(part)).toBe(sha(vpart));
    expect(readFileSync(part).length).toBe(65536);
  }, 60_000);
});
