import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ApiFacts } from '../../../src/codegen/api.js';
import type { ApiFunction, ApiFunctions } from '../../../src/codegen/handle-facts.js';
import { buildMethods, emitHandles, type HandlesInput } from '../../../src/codegen/handles.js';
import { SymbolTable } from '../../../src/codegen/model.js';
import { parseXdr } from '../../../src/codegen/parser.js';

// Small inputs (handles-small.x and the facts below) -> expected output
// (handles-small.expected.ts.txt). Set UPDATE_GOLDEN=1 to rewrite the expected file.

const dir = join(import.meta.dirname);
const spec = parseXdr(readFileSync(join(dir, 'handles-small.x'), 'utf8'), 'handles-small.x');
const symbols = new SymbolTable([{ id: 'remote', spec }]);

const arg = (type: string, name: string, dir?: 'in' | 'out') =>
  dir === undefined ? { name, type } : { name, type, dir };
const fn = (
  header: string,
  returns: string,
  args: ApiFunction['args'],
  procedure: string,
  number: number,
): ApiFunction => ({
  library: 'libvirt',
  header,
  since: '1.0.0',
  returns,
  args,
  carrier: { via: 'procedure', program: 'remote', procedure, number },
});

const DOM = arg('virDomainPtr', 'domain', 'in');
const CONN = arg('virConnectPtr', 'conn', 'in');
const FLAGS = arg('unsigned int', 'flags', 'in');

const small: Record<string, ApiFunction> = {
  virDomainGetBlockInfo: fn(
    'libvirt-domain.h',
    'int',
    [DOM, arg('const char *', 'disk', 'in'), arg('virDomainBlockInfoPtr', 'info'), FLAGS],
    'REMOTE_PROC_DOMAIN_GET_BLOCK_INFO',
    194,
  ),
  virDomainSnapshotCreateXML: fn(
    'libvirt-domain-snapshot.h',
    'virDomainSnapshotPtr',
    [DOM, arg('const char *', 'xmlDesc', 'in'), FLAGS],
    'REMOTE_PROC_DOMAIN_SNAPSHOT_CREATE_XML',
    185,
  ),
  virConnectListAllDomains: fn(
    'libvirt-domain.h',
    'int',
    [CONN, arg('virDomainPtr **', 'domains', 'out'), FLAGS],
    'REMOTE_PROC_CONNECT_LIST_ALL_DOMAINS',
    273,
  ),
  virDomainGetBlkioParameters: fn(
    'libvirt-domain.h',
    'int',
    [DOM, arg('virTypedParameterPtr', 'params'), arg('int *', 'nparams'), FLAGS],
    'REMOTE_PROC_DOMAIN_GET_BLKIO_PARAMETERS',
    164,
  ),
  virDomainSetBlkioParameters: fn(
    'libvirt-domain.h',
    'int',
    [DOM, arg('virTypedParameterPtr', 'params'), arg('int', 'nparams', 'in'), FLAGS],
    'REMOTE_PROC_DOMAIN_SET_BLKIO_PARAMETERS',
    163,
  ),
  virConnectNumOfDomains: fn(
    'libvirt-domain.h',
    'int',
    [CONN],
    'REMOTE_PROC_CONNECT_NUM_OF_DOMAINS',
    51,
  ),
  virConnectListDomains: fn(
    'libvirt-domain.h',
    'int',
    [CONN, arg('int *', 'ids'), arg('int', 'maxids', 'in')],
    'REMOTE_PROC_CONNECT_LIST_DOMAINS',
    38,
  ),
  virDomainLookupByUUIDString: fn(
    'libvirt-domain.h',
    'virDomainPtr',
    [CONN, arg('const char *', 'uuidstr', 'in')],
    'REMOTE_PROC_DOMAIN_LOOKUP_BY_UUID',
    24,
  ),
  virDomainSetMetadata: fn(
    'libvirt-domain.h',
    'int',
    [
      DOM,
      arg('int', 'type', 'in'),
      arg('const char *', 'metadata', 'in'),
      arg('unsigned long long', 'at', 'in'),
      FLAGS,
    ],
    'REMOTE_PROC_DOMAIN_SET_METADATA',
    264,
  ),
  virDomainGetName: {
    ...fn('libvirt-domain.h', 'const char *', [DOM], 'REMOTE_PROC_NONE', 0),
    carrier: { via: 'local' },
  },
};

const api: ApiFacts = {
  libvirt: '1.0.0',
  enums: {},
  constants: {},
  strings: {
    VIR_DOMAIN_BLKIO_WEIGHT: { value: 'weight', header: 'libvirt-domain.h', type: 'uint' },
    VIR_DOMAIN_BLKIO_DEVICE_WEIGHT: {
      value: 'device_weight',
      header: 'libvirt-domain.h',
      type: 'string',
    },
  },
};

const input = (functions: Record<string, ApiFunction>): HandlesInput => ({
  functions: { libvirt: '1.0.0', functions, objects: {}, structs: {} } satisfies ApiFunctions,
  api,
  symbols,
  annotations: {},
  libvirtVersion: '1.0.0',
});

describe('handle generator on a small protocol', () => {
  it('emits the expected TypeScript', () => {
    const { code } = emitHandles(input(small));
    const golden = join(dir, 'handles-small.expected.ts.txt');
    if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(golden, code);
    expect(code).toBe(readFileSync(golden, 'utf8'));
  });

  it('maps C arguments to wire fields by name, then by position', () => {
    const byName = new Map(buildMethods(input(small)).map((m) => [m.cName, m]));
    expect(byName.get('virDomainGetBlockInfo')?.args).toEqual([
      ['dom', 'this.wire'],
      ['path', 'disk'],
      ['flags', 'flags'],
    ]);
    expect(byName.get('virDomainSetMetadata')?.params.map((p) => `${p.name}: ${p.type}`)).toEqual([
      'type: number',
      'metadata: string | null',
      'at: number | bigint',
      'flags: number',
    ]);
    expect(byName.get('virDomainSetMetadata')?.args).toContainEqual(['when', 'BigInt(at)']);
    expect(byName.has('virDomainGetName')).toBe(false);
  });

  it('fails loudly, naming each function it cannot map', () => {
    const broken = {
      ...small,
      // a C argument the wire struct has no field for
      virDomainGetBlockInfo: fn(
        'libvirt-domain.h',
        'int',
        [DOM, arg('const char *', 'disk', 'in'), arg('const char *', 'extra', 'in'), FLAGS],
        'REMOTE_PROC_DOMAIN_GET_BLOCK_INFO',
        194,
      ),
      // a wire string where C passes a number
      virDomainSnapshotCreateXML: fn(
        'libvirt-domain-snapshot.h',
        'virDomainSnapshotPtr',
        [DOM, arg('int', 'count', 'in'), FLAGS],
        'REMOTE_PROC_DOMAIN_SNAPSHOT_CREATE_XML',
        185,
      ),
    };
    expect(() => buildMethods(input(broken))).toThrow(
      /cannot map 2 function\(s\):\n {2}virDomainGetBlockInfo: C argument const char \* extra has no wire field\n {2}virDomainSnapshotCreateXML: wire field xml_desc cannot take C argument int count/,
    );
  });

  it('refuses a function with typed parameters but no known family', () => {
    const odd = {
      virDomainGetBlkioParametersTwo: {
        ...small['virDomainGetBlkioParameters']!,
      },
    };
    expect(() => buildMethods(input(odd))).toThrow(/no entry in TYPED_PARAM_FAMILIES/);
  });
});
