import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  argDir,
  compactJson,
  driverTables,
  functionBodies,
  parseApiXml,
} from '../../../scripts/update-protocol-functions.js';

// Small inputs in the shapes the update-protocol scripts read (apibuild.py XML, libvirt's C
// layout); written for these tests, not taken from libvirt.
const XML = `<?xml version="1.0" encoding="UTF-8"?>
<api name='demo'>
  <symbols>
    <struct name='virThing' file='demo' type='struct _virThing' version='1.0.0'/>
    <typedef name='virThingPtr' file='demo' type='virThing *' version='1.0.0'>
      <info><![CDATA[a thing]]></info>
    </typedef>
    <struct name='virThingInfo' file='demo' type='struct _virThingInfo' version='1.0.0'>
      <field name='size' type='unsigned long long' info='how big &apos;it&apos; is'/>
      <field name='value' type='union' info='one of'>
        <union>
          <field name='i' type='int' info='int'/>
        </union>
      </field>
      <field name='state' type='int' info='a state &gt; 0'/>
    </struct>
    <typedef name='virThingInfoPtr' file='demo' type='virThingInfo *' version='1.0.0'/>
    <variable name='virThingDefault' file='demo' type='virThingPtr' version='1.0.0'/>
    <function name='virThingGetInfo' file='demo' module='demo' version='1.2.3'>
      <info><![CDATA[Prose that must not survive: <arg name='x' type='y'/>]]></info>
      <return type='int' info='0 on success'/>
      <arg name='thing' type='virThingPtr' info='the thing'/>
      <arg name='info' type='virThingInfoPtr' info='filled in'/>
      <arg name='flags' type='unsigned int' info='0'/>
    </function>
    <function name='virThingFree' file='demo' module='demo' version='1.0.0'>
      <return type='void'/>
    </function>
  </symbols>
</api>
`;

describe('parseApiXml', () => {
  const api = parseApiXml(XML, 'demo.xml');

  it('reads functions with their header, version, return type and arguments, and no prose', () => {
    expect(api.functions).toEqual([
      {
        name: 'virThingGetInfo',
        header: 'demo.h',
        since: '1.2.3',
        returns: 'int',
        args: [
          { name: 'thing', type: 'virThingPtr' },
          { name: 'info', type: 'virThingInfoPtr' },
          { name: 'flags', type: 'unsigned int' },
        ],
      },
      { name: 'virThingFree', header: 'demo.h', since: '1.0.0', returns: 'void', args: [] },
    ]);
  });

  it('tells opaque structs (object handles) from structs with fields, skipping union members', () => {
    expect(api.structs.get('virThing')).toBeNull();
    expect(api.structs.get('virThingInfo')).toEqual([
      { name: 'size', type: 'unsigned long long' },
      { name: 'value', type: 'union' },
      { name: 'state', type: 'int' },
    ]);
    expect(api.typedefs.get('virThingPtr')).toBe('virThing *');
    expect(api.variables).toEqual(['virThingDefault']);
  });

  it('refuses a file without functions', () => {
    expect(() => parseApiXml('<api></api>', 'empty.xml')).toThrow(/empty\.xml: no functions/);
  });
});

describe('argDir', () => {
  const objects = new Set(['virThingPtr']);
  it.each([
    ['unsigned int', 'in'],
    ['const char *', 'in'],
    ['const virTypedParameterPtr', 'in'],
    ['virThingPtr', 'in'],
    ['char **', 'out'],
    ['virThingPtr *', 'out'],
    ['virTypedParameterPtr *', 'out'],
    ['int *', undefined],
    ['virThingInfoPtr', undefined],
    ['unsigned char *', undefined],
  ] as const)('%s -> %s', (type, dir) => {
    expect(argDir(type, objects)).toBe(dir);
  });
});

describe('functionBodies and driverTables', () => {
  const C = `
static int
helper(int x)
{
    return x; /* virThingGetInfo( in a comment is not code */
}

int virThingOneLine(virThingPtr t,
                    unsigned int flags)
{
    return t->conn->driver->thingOneLine(t, flags);
}

int
virThingGetInfo(virThingPtr thing, virThingInfoPtr info, unsigned int flags)
{
    if (thing->conn->driver->thingGetInfo) {
        return thing->conn->driver->thingGetInfo(thing, info, flags);
    }
    return -1;
}

static virHypervisorDriver hypervisor_driver = {
    .name = "remote",
    .thingGetInfo = remoteThingGetInfo, /* 1.2.3 */
    .thingOneLine = remoteThingOneLine,
};
`;
  it('finds definitions in both return-type layouts, with comments blanked', () => {
    const bodies = functionBodies(C);
    expect([...bodies.keys()]).toEqual(['helper', 'virThingOneLine', 'virThingGetInfo']);
    expect(bodies.get('helper')).not.toContain('virThingGetInfo(');
    expect(bodies.get('virThingGetInfo')).toContain('->driver->thingGetInfo(thing, info, flags)');
  });

  it('reads the driver tables field by field', () => {
    expect(driverTables(C)).toEqual(
      new Map([
        [
          'virHypervisorDriver',
          new Map([
            ['thingGetInfo', 'remoteThingGetInfo'],
            ['thingOneLine', 'remoteThingOneLine'],
          ]),
        ],
      ]),
    );
  });
});

describe('compactJson', () => {
  it('keeps small records on one line and indents the rest', () => {
    expect(compactJson({ a: [{ n: 1, s: 'x' }], b: { c: null } })).toBe(
      '{\n  "a": [\n    {"n": 1, "s": "x"}\n  ],\n  "b": {"c": null}\n}',
    );
  });

  it('round-trips through JSON.parse', () => {
    const facts = JSON.parse(
      readFileSync(new URL('../../../protocol/functions.json', import.meta.url), 'utf8'),
    ) as unknown;
    expect(JSON.parse(compactJson(facts))).toEqual(facts);
  });
});

describe('protocol/functions.json', () => {
  const read = (name: string) =>
    JSON.parse(readFileSync(new URL(`../../../protocol/${name}`, import.meta.url), 'utf8'));
  const facts = read('functions.json') as {
    functions: Record<
      string,
      {
        library: string;
        carrier:
          | {
              via: 'procedure';
              program: string;
              procedure: string;
              number: number;
              also?: string[];
            }
          | { via: 'procedures'; procedures: string[] }
          | { via: string };
      }
    >;
  };
  const procedures = read('procedures.json') as Record<string, Record<string, { number: number }>>;
  const programOf = (p: string) => p.slice(0, p.indexOf('_PROC_')).toLowerCase();

  it('links functions only to procedures that exist, with their numbers', () => {
    for (const [name, f] of Object.entries(facts.functions)) {
      const c = f.carrier;
      if (c.via === 'procedure' && 'procedure' in c) {
        expect(procedures[c.program]?.[c.procedure]?.number, name).toBe(c.number);
        for (const p of c.also ?? []) expect(procedures[programOf(p)]?.[p], p).toBeDefined();
      }
      if (c.via === 'procedures' && 'procedures' in c) {
        for (const p of c.procedures) expect(procedures[programOf(p)]?.[p], p).toBeDefined();
      }
    }
  });

  it('leaves no client procedure uncarried but events and daemon-to-daemon tunnels', () => {
    const used = new Set<string>();
    for (const f of Object.values(facts.functions)) {
      const c = f.carrier;
      if ('procedure' in c) used.add(c.procedure);
      if ('also' in c) for (const p of c.also ?? []) used.add(p);
      if ('procedures' in c) for (const p of c.procedures) used.add(p);
    }
    const unused = ['remote', 'qemu', 'lxc', 'admin'].flatMap((p) =>
      Object.keys(procedures[p] ?? {}).filter((n) => !used.has(n)),
    );
    expect(unused.length).toBeGreaterThan(0);
    for (const n of unused) expect(n).toMatch(/_EVENT|_MIGRATE_PREPARE_TUNNEL/);
  });

  it('carries every library of the four', () => {
    const libs = new Set(
      Object.values(facts.functions)
        .filter((f) => f.carrier.via === 'procedure')
        .map((f) => f.library),
    );
    expect([...libs].sort()).toEqual(['libvirt', 'libvirt-admin', 'libvirt-lxc', 'libvirt-qemu']);
  });
});
