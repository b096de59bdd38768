/**
 * The everyday virsh commands in-process against the simulator: lifecycle
 * actions change the state the next command reads, list takes virsh's
 * filters, info commands print virsh's labels and --json the same values,
 * and virsh names virtwire answers another way get that way.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT_OK, EXIT_USAGE } from '../../../src/cli/errors.js';
import { elements, virshSize } from '../../../src/cli/virsh-commands.js';
import type { Connection } from '../../../src/index.js';
import { Simulator } from '../../../src/testing/index.js';
import { runCli } from '../../helpers/cli.js';

let sim: Simulator;
let conn: Connection;

beforeAll(async () => {
  sim = await Simulator.start({
    tcp: true,
    hostname: 'sim-v',
    domains: [
      { name: 'vm1', state: 'running', memoryMiB: 512 },
      { name: 'off1', state: 'shutoff' },
    ],
  });
  conn = await sim.connect();
});
afterAll(async () => {
  await conn.close();
  await sim.close();
});

const cli = (...args: string[]): Promise<{ code: number; out: string; err: string }> =>
  runCli(['-c', sim.uri, ...args]);
const names = async (...filter: string[]): Promise<string[]> =>
  (JSON.parse((await cli('list', ...filter, '--json')).out) as Array<{ name: string }>).map(
    (r) => r.name,
  );

describe('domain lifecycle', () => {
  it('suspend, resume, start, destroy: each says what it did and the state follows', async () => {
    expect(await cli('suspend', 'vm1')).toEqual({
      code: 0,
      out: "Domain 'vm1' suspended\n",
      err: '',
    });
    expect((await (await conn.lookupDomain('vm1')).state()).state).toBe('paused');
    expect(await names('--state-paused')).toEqual(['vm1']);
    expect((await cli('resume', 'vm1')).out).toBe("Domain 'vm1' resumed\n");
    expect((await (await conn.lookupDomain('vm1')).state()).state).toBe('running');
    expect((await cli('start', 'off1')).out).toBe("Domain 'off1' started\n");
    expect((await (await conn.lookupDomain('off1')).state()).state).toBe('running');
    const j = await cli('destroy', 'off1', '--json');
    expect(JSON.parse(j.out)).toEqual({
      domain: 'off1',
      uuid: (await conn.lookupDomain('off1')).uuid,
      action: 'destroyed',
    });
    expect((await (await conn.lookupDomain('off1')).state()).state).toBe('shutoff');
  });

  it('defines from a file, and undefines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'virtwire-cli-'));
    const file = join(dir, 'd.xml');
    const xml = (await (await conn.lookupDomain('off1')).getXMLDesc())
      .replace(/<name>off1</, '<name>def1<')
      .replace(/<uuid>[^<]*<\/uuid>/, '');
    writeFileSync(file, xml);
    expect((await cli('define', file)).out).toBe(`Domain 'def1' defined from ${file}\n`);
    expect(await names('--inactive')).toContain('def1');
    expect((await cli('undefine', 'def1')).out).toBe("Domain 'def1' has been undefined\n");
    expect(await names('--all')).not.toContain('def1');
    const missing = await cli('define', join(dir, 'nope.xml'));
    expect(missing.code).toBe(EXIT_USAGE);
    expect(missing.err).toContain('cannot read');
  });
});

describe('list filters', () => {
  it('--all, --inactive, --state-running, --state-shutoff as virsh reads them', async () => {
    expect(await names()).toEqual(['vm1']);
    expect(await names('--all')).toEqual(['vm1', 'off1']);
    expect(await names('--inactive')).toEqual(['off1']);
    expect(await names('--state-running')).toEqual(['vm1']);
    expect(await names('--state-shutoff')).toEqual(['off1']);
  });
});

describe('inspection and host commands', () => {
  it('dumpxml is the domain XML, as text and in JSON', async () => {
    const xml = await (await conn.lookupDomain('vm1')).getXMLDesc();
    expect((await cli('dumpxml', 'vm1')).out).toBe(xml.endsWith('\n') ? xml : `${xml}\n`);
    expect(JSON.parse((await cli('dumpxml', 'vm1', '--json')).out)).toEqual({ domain: 'vm1', xml });
  });

  it('nodeinfo, hostname and version carry the host values under virsh labels', async () => {
    const n = await conn.nodeGetInfo();
    const text = (await cli('nodeinfo')).out;
    expect(text).toContain(`CPU(s):              ${n.cpus}\n`);
    expect(text).toContain(`Memory size:         ${n.memory} KiB\n`);
    const j = JSON.parse((await cli('nodeinfo', '--json')).out) as Record<string, unknown>;
    expect(j.cpus).toBe(n.cpus);
    expect(j.memoryKiB).toBe(String(n.memory));
    expect((await cli('hostname')).out).toBe('sim-v\n');
    const lib = await conn.getLibVersion();
    const v = JSON.parse((await cli('version', '--json')).out) as Record<string, string>;
    expect(v.daemon).toBe(`${lib / 1_000_000n}.${(lib / 1000n) % 1000n}.${lib % 1000n}`);
    expect(v.hypervisorType).toBe(await conn.getType());
  });

  it('capabilities is the capabilities XML', async () => {
    const caps = await conn.getCapabilities();
    expect((await cli('capabilities')).out).toBe(caps.endsWith('\n') ? caps : `${caps}\n`);
  });
});

describe('commands virsh has and virtwire does another way', () => {
  it('names the way, exit 2', async () => {
    const r = await cli('domid', 'vm1');
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.err).toContain("error: unknown command 'domid'");
    expect(r.err).toContain('virtwire dominfo DOMAIN');
    const other = await cli('frobnicate');
    expect(other.code).toBe(EXIT_USAGE);
    expect(other.err).toContain("unknown command 'frobnicate'");
  });

  it('every spec has --help', async () => {
    for (const c of ['start', 'vol-list', 'net-info', 'nodeinfo']) {
      const r = await cli(c, '--help');
      expect(r.code).toBe(EXIT_OK);
      expect(r.out).toContain('--json');
    }
  });
});

describe('virshSize', () => {
  it('prints two decimals in the largest fitting binary unit', () => {
    expect(virshSize(0n)).toBe('0.00 B');
    expect(virshSize(1536n)).toBe('1.50 KiB');
    expect(virshSize(107374182400n)).toBe('100.00 GiB');
  });
});

describe('elements', () => {
  it('takes an element whole, past the empty children it holds', () => {
    const xml =
      "<devices><interface type='network'><mac address='aa:bb'/><target dev='t0'/></interface><interface type='user'/><interfaces/></devices>";
    expect(elements(xml, 'interface')).toEqual([
      "<interface type='network'><mac address='aa:bb'/><target dev='t0'/></interface>",
      "<interface type='user'/>",
    ]);
  });
});
