import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emitModule } from '../../../src/codegen/emit.js';
import { XdrSyntaxError } from '../../../src/codegen/lexer.js';
import { SymbolTable } from '../../../src/codegen/model.js';
import { camelCase, pascalCase, stripPrefix } from '../../../src/codegen/names.js';
import { parseXdr } from '../../../src/codegen/parser.js';
import { generateSmall } from './small-fixture.js';

const dir = import.meta.dirname;

describe('generator', () => {
  it('emits the expected TypeScript for a small .x input', () => {
    const out = generateSmall();
    const golden = join(dir, 'small.expected.ts.txt');
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden, out);
    expect(out).toBe(readFileSync(golden, 'utf8'));
  });

  it('is deterministic', () => {
    expect(generateSmall()).toBe(generateSmall());
  });

  it('reports syntax errors with file, line and column', () => {
    expect(() => parseXdr('struct a {\n  int x\n};', 'bad.x')).toThrow(XdrSyntaxError);
    expect(() => parseXdr('struct a {\n  int x\n};', 'bad.x')).toThrow(/^bad\.x:3:1: expected ';'/);
    expect(() => parseXdr('const X = ;', 'c.x')).toThrow(
      /c\.x:1:11: expected a number or constant name/,
    );
    expect(() => parseXdr('/* open', 'o.x')).toThrow(/unterminated comment/);
    expect(() => parseXdr('typedef string s[4];', 's.x')).toThrow(
      /string cannot be a fixed-length array/,
    );
    expect(() => parseXdr('struct s { quadruple q; };', 'q.x')).toThrow(
      /quadruple is not supported/,
    );
    expect(() => parseXdr('union u switch (int d) { };', 'u.x')).not.toThrow();
  });

  it('refuses unknown names and duplicate definitions', () => {
    const spec = parseXdr('struct a { b x; };', 'a.x');
    const symbols = new SymbolTable([{ id: 'a', spec }]);
    expect(() =>
      emitModule({ module: { id: 'a', spec }, symbols, sourcePath: 'a.x', libvirtVersion: 't' }),
    ).toThrow(/unknown type b/);
    const dup = parseXdr('const A = 1; const A = 2;', 'd.x');
    expect(() => new SymbolTable([{ id: 'd', spec: dup }])).toThrow(/A is defined twice/);
    const clash = parseXdr('struct c { int foo_bar; int fooBar; };', 'c.x');
    expect(() =>
      emitModule({
        module: { id: 'c', spec: clash },
        symbols: new SymbolTable([{ id: 'c', spec: clash }]),
        sourcePath: 'c.x',
        libvirtVersion: 't',
      }),
    ).toThrow(/foo_bar and fooBar both become fooBar/);
  });
});

describe('naming', () => {
  it.each([
    ['cookie_in', 'cookieIn'],
    ['CONNECT_OPEN', 'connectOpen'],
    ['DOMAIN_MIGRATE_PREPARE3_PARAMS', 'domainMigratePrepare3Params'],
    ['nrVirtCpu', 'nrVirtCpu'],
    ['str1', 'str1'],
    ['uuid', 'uuid'],
    ['need_results', 'needResults'],
    ['_leading', 'leading'],
  ])('camelCase(%s) = %s', (input, want) => {
    expect(camelCase(input)).toBe(want);
  });

  it.each([
    ['remote_domain_get_info_ret', 'RemoteDomainGetInfoRet'],
    ['virNetMessageHeader', 'VirNetMessageHeader'],
    ['remote_nonnull_string', 'RemoteNonnullString'],
    ['admin_procedure', 'AdminProcedure'],
  ])('pascalCase(%s) = %s', (input, want) => {
    expect(pascalCase(input)).toBe(want);
  });

  it('strips procedure prefixes and refuses a wrong one', () => {
    expect(stripPrefix('REMOTE_PROC_CONNECT_OPEN', 'REMOTE_PROC_')).toBe('CONNECT_OPEN');
    expect(() => stripPrefix('QEMU_PROC_X', 'REMOTE_PROC_')).toThrow(/does not start with/);
    expect(() => camelCase('___')).toThrow(/cannot make a name/);
  });
});
