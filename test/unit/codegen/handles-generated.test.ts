import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import {
  type ApiFunctions,
  coverage,
  coverageLine,
  disposition,
  EXCLUDED,
  isEventRegistration,
} from '../../../src/codegen/handle-facts.js';
import { emitHandles, type HandlesInput, referenceUrl } from '../../../src/codegen/handles.js';
import { loadProtocol } from '../../../src/codegen/load.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const proto = loadProtocol(`${root}protocol`);
const functions = JSON.parse(
  readFileSync(`${root}protocol/functions.json`, 'utf8'),
) as ApiFunctions;
const input: HandlesInput = {
  functions,
  api: proto.api,
  symbols: proto.symbols,
  annotations: proto.annotations,
  libvirtVersion: proto.version,
};
const out = emitHandles(input);
const covered = new Set(out.methods.map((m) => m.cName));

describe('coverage of the RPC-carried public API', () => {
  const c = coverage(functions, covered);

  it('has a method for every carried function that is neither event registration nor excluded', () => {
    expect(c.missing).toEqual([]);
    expect(c.covered.length).toBe(c.carried.length - c.excluded.length);
    expect(coverageLine(c)).toBe(
      `${c.covered.length}/${c.covered.length} functions, ${c.excluded.length} excluded`,
    );
  });

  it('counts what it should: carried functions of all four programs', () => {
    const programs = new Set(
      c.carried.flatMap((n) => {
        const carrier = functions.functions[n]!.carrier;
        return carrier.via === 'procedure' ? [carrier.program] : [];
      }),
    );
    // Functions the C client answers with several procedures (migration) are all excluded.
    const composite = c.carried.filter((n) => functions.functions[n]!.carrier.via === 'procedures');
    expect(composite.length).toBeGreaterThan(0);
    for (const n of composite) expect(c.excluded).toContain(n);
    expect([...programs].sort()).toEqual(['admin', 'lxc', 'qemu', 'remote']);
  });

  it('keeps a short exclusion list whose every entry is carried by RPC and says why', () => {
    expect(c.staleExclusions).toEqual([]);
    expect(Object.keys(EXCLUDED).length).toBeLessThanOrEqual(20);
    for (const [name, reason] of Object.entries(EXCLUDED)) {
      expect(reason.length, name).toBeGreaterThan(10);
      expect(disposition(name, functions.functions[name]!).kind).toBe('excluded');
    }
  });

  it('leaves event registration to conn.events by rule, and only that', () => {
    const events = Object.entries(functions.functions).filter(
      ([n, fn]) => disposition(n, fn).kind === 'events',
    );
    expect(events.length).toBeGreaterThan(10);
    for (const [n] of events) expect(n).toMatch(/Event|CloseCallback/);
    expect(isEventRegistration('virConnectDomainEventRegisterAny')).toBe(true);
    expect(isEventRegistration('virDomainGetEventFoo')).toBe(false);
  });

  it('generates nothing for functions RPC does not carry', () => {
    for (const m of out.methods) {
      expect(disposition(m.cName, functions.functions[m.cName]!).kind, m.cName).toBe('generate');
    }
  });
});

describe('src/generated/handles.ts', () => {
  it('is what the generator writes, byte for byte, every time', () => {
    const checkedIn = readFileSync(`${root}src/generated/handles.ts`, 'utf8');
    expect(out.code).toBe(checkedIn);
    expect(emitHandles(input).code).toBe(out.code);
  });

  it("links every method to libvirt's reference page for its C function", () => {
    expect(referenceUrl('libvirt-domain.h', 'virDomainGetBlockInfo')).toBe(
      'https://libvirt.org/html/libvirt-libvirt-domain.html#virDomainGetBlockInfo',
    );
    for (const m of out.methods) {
      expect(out.code).toContain(`[${m.cName}](${referenceUrl(m.header, m.cName)})`);
    }
  });

  it('compiles under the project settings together with a hand-written side', () => {
    const config = ts.readConfigFile(`${root}tsconfig.json`, (p) => ts.sys.readFile(p));
    const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
    const program = ts.createProgram(
      [`${root}test/unit/codegen/handles-fixture.ts`, `${root}src/generated/handles.ts`],
      { ...parsed.options, noEmit: true },
    );
    const diagnostics = ts
      .getPreEmitDiagnostics(program)
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(diagnostics).toEqual([]);
  }, 120_000);
});
