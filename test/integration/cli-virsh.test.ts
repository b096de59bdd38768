/**
 * virtwire's virsh commands against virsh 9.0 on the same daemon's test
 * driver (test:///default: each connection sees the same fresh state):
 * for each command the fields virsh prints are present in virtwire's --json
 * with equal values; formatting is not compared.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/context.js';
import { run } from '../../src/cli/program.js';
import { generations, hostOf } from '../helpers/hosts.js';

const gen = generations()[0]!;
const uri = (): string => hostOf(gen, 0, 'TEST');

function virsh(...args: string[]): string {
  return execFileSync('virsh', ['-c', uri(), ...args], { encoding: 'utf8' });
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
async function ours(...args: string[]): Promise<unknown> {
  let out = '';
  let err = '';
  const io: CliIo = {
    stdout: { write: (s: string) => (out += s), isTTY: false },
    stderr: { write: (s: string) => (err += s), isTTY: false },
    env: {},
    interrupt: { on: () => () => {} },
  };
  const code = await run(['-c', uri(), ...args, '--json'], io);
  expect(err).toBe('');
  expect(code).toBe(0);
  return JSON.parse(out);
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
