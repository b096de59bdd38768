/**
 * `virtwire <object> <method> [args]` in-process against the simulator: the
 * generated methods reached by name with their arguments parsed from the
 * metadata, results as the library returns them, and usage errors (exit 2)
 * naming the argument, before anything is sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as admin from '../../../src/api/admin.js';
import * as handles from '../../../src/api/handles.js';
import { EXIT_OK, EXIT_USAGE } from '../../../src/cli/errors.js';
import { nearest, OBJECT_SPECS } from '../../../src/cli/object-specs.js';
import { VIRSH_INSTEAD } from '../../../src/cli/virsh-specs.js';
import { VirDomainXMLFlags } from '../../../src/generated/api.js';
import { handleMethods } from '../../../src/generated/handle-methods.js';
import type { Connection } from '../../../src/index.js';
import { Simulator } from '../../../src/testing/index.js';
import { runCli } from '../../helpers/cli.js';

let sim: Simulator;
let conn: Connection;

beforeAll(async () => {
  sim = await Simulator.start({
    tcp: true,
    hostname: 'sim-o',
    domains: [{ name: 'vm1', state: 'running', memoryMiB: 512 }],
  });
  conn = await sim.connect();
});
afterAll(async () => {
  await conn.close();
  await sim.close();
});

const cli = (...args: string[]): Promise<{ code: number; out: string; err: string }> =>
  runCli(['-c', sim.uri, ...args]);

describe('virtwire <object> <method>', () => {
  it('domain getInfo: the library result, as JSON', async () => {
    const r = await cli('domain', 'getInfo', 'vm1', '--json');
    expect(r.err).toBe('');
    const info = await (await conn.lookupDomain('vm1')).getInfo();
    // cpuTime moves on between the two calls: a 64-bit count printed as a decimal string
    expect(JSON.parse(r.out)).toEqual({
      state: info.state,
      maxMem: String(info.maxMem),
      memory: String(info.memory),
      nrVirtCpu: info.nrVirtCpu,
      cpuTime: expect.stringMatching(/^\d+$/),
    });
  });

  it('node getInfo is the connection nodeGetInfo; connection getHostname prints text', async () => {
    const n = await conn.nodeGetInfo();
    const r = JSON.parse((await cli('node', 'getInfo', '--json')).out) as Record<string, unknown>;
    expect(r.cpus).toBe(n.cpus);
    expect(r.model).toBe(n.model);
    expect(await cli('connection', 'getHostname')).toEqual({ code: 0, out: 'sim-o\n', err: '' });
  });

  it('takes flags as numbers or VIR_* names, and handles in results print as identities', async () => {
    const d = await conn.lookupDomain('vm1');
    const xml = await d.getXMLDesc(VirDomainXMLFlags.VIR_DOMAIN_XML_INACTIVE);
    expect((await cli('domain', 'getXMLDesc', 'vm1', 'VIR_DOMAIN_XML_INACTIVE')).out).toBe(
      xml.endsWith('\n') ? xml : `${xml}\n`,
    );
    expect((await cli('domain', 'getXMLDesc', 'vm1', '2')).out).toBe(
      xml.endsWith('\n') ? xml : `${xml}\n`,
    );
    const found = JSON.parse((await cli('connection', 'domainLookupByName', 'vm1', '--json')).out);
    expect(found).toEqual({ name: 'vm1', uuid: d.uuid, id: d.id });
  });

  it('refuses a bad argument naming it, exit 2, before connecting', async () => {
    const bad = await cli('domain', 'getXMLDesc', 'vm1', 'VIR_NOPE');
    expect(bad.code).toBe(EXIT_USAGE);
    expect(bad.err).toContain(
      'domain getXMLDesc: flags (int): expected an integer or VIR_* constants',
    );
    const missing = await cli('domain', 'getInfo');
    expect(missing.code).toBe(EXIT_USAGE);
    expect(missing.err).toContain('domain getInfo: missing DOMAIN');
    expect(missing.err).toContain('usage: virtwire domain getInfo DOMAIN');
    const many = await cli('domain', 'getInfo', 'vm1', 'extra');
    expect(many.code).toBe(EXIT_USAGE);
    expect(many.err).toContain("1 argument(s) too many (from 'extra')");
    const need = await cli('domain', 'setMemory', 'vm1');
    expect(need.code).toBe(EXIT_USAGE);
    expect(need.err).toContain('domain setMemory: missing memory');
    const hyper = await cli('domain', 'setMemory', 'vm1', '1.5');
    expect(hyper.err).toContain("memory (hyper): expected a whole number, got '1.5'");
    const unknown = await cli('domain', 'getInfos', 'vm1');
    expect(unknown.code).toBe(EXIT_USAGE);
    expect(unknown.err).toContain('no method getInfos (nearest: getInfo');
    const stream = await cli('vol', 'download', 'p/v', '0', '0');
    expect(stream.code).toBe(EXIT_USAGE);
    expect(stream.err).toContain('opens a data stream');
  });

  it('admin objects: their methods, a bad client id refused before the socket is opened, a missing socket named', async () => {
    const list = await cli('server', '--list');
    expect(list.code).toBe(EXIT_OK);
    expect(list.out).toContain('  getThreadPoolParameters SERVER [flags:int]');
    expect(list.out.trim().split('\n')).toHaveLength(handleMethods.AdminServer!.length);
    const bad = await cli('client', 'getInfo', 'libvirtd', '12x', '--admin-socket', '/nowhere');
    expect(bad.code).toBe(EXIT_USAGE);
    expect(bad.err).toContain("client getInfo: CLIENT-ID: expected a whole number, got '12x'");
    const missing = await cli('admin', 'getLibVersion', '--admin-socket', '/nowhere/admin-sock');
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('failed to connect to the admin socket /nowhere/admin-sock');
  });

  it('--list shows every method with its arguments', async () => {
    const r = await cli('domain', '--list');
    expect(r.code).toBe(EXIT_OK);
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(handleMethods.Domain!.length);
    expect(lines).toContain('  getXMLDesc DOMAIN [flags:int]');
    expect((await cli('node', '--list')).out).toContain('  getInfo\n');
  });

  it('reaches every generated method of every libvirt object', () => {
    const classes = new Set(OBJECT_SPECS.map((s) => s.cls));
    for (const cls of Object.keys(handleMethods)) {
      expect(classes).toContain(cls);
      const ctor = ({ ...handles, ...admin } as unknown as Record<string, { prototype: object }>)[
        cls
      ];
      expect(ctor, cls).toBeDefined();
      for (const m of handleMethods[cls]!)
        expect(
          typeof (ctor!.prototype as Record<string, unknown>)[m.method],
          `${cls}.${m.method}`,
        ).toBe('function');
    }
  });
});

describe('nearest', () => {
  it('suggests close names, nearest first', () => {
    expect(nearest('getinfo', ['getInfo', 'getState', 'getXMLDesc'])).toEqual(['getInfo']);
    expect(nearest('xyzzy', ['getInfo'])).toEqual([]);
  });
});

describe("virsh's commands that virtwire does another way", () => {
  it('point at an object method that exists, with the object words it takes', () => {
    let generic = 0;
    for (const [virsh, hint] of Object.entries(VIRSH_INSTEAD)) {
      const m = /^virtwire ([a-z-]+) ([A-Za-z]+)\b/.exec(hint);
      const spec = m && OBJECT_SPECS.find((s) => s.name === m[1]);
      if (!m || !spec) continue;
      generic++;
      const all = handleMethods[spec.cls]!.map((x) => x.method);
      const method = spec.prefix ? spec.prefix + m[2]![0]!.toUpperCase() + m[2]!.slice(1) : m[2]!;
      expect(all, `${virsh}: ${hint}`).toContain(method);
    }
    expect(generic).toBeGreaterThan(40);
  });

  it('an unknown command gets the virsh way, or the nearest command', async () => {
    const r = await cli('domifaddr', 'vm1');
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.err).toContain("virsh's domifaddr here: virtwire domain interfaceAddresses DOMAIN 0");
    const typo = await cli('lsit');
    expect(typo.code).toBe(EXIT_USAGE);
    expect(typo.err).toContain('did you mean: list');
  });

  it('negative numbers are arguments', async () => {
    const r = await cli('node', 'getCPUStats', '-1', 'x');
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.err).toContain(
      "flags (int): expected an integer or VIR_* constants joined by |, got 'x'",
    );
  });
});
