/**
 * The handle metadata emitter: each parameter type the handle emitter writes
 * reduces to one kind the CLI parses, an unknown type fails naming the
 * function, and the emitted table lists methods with their defaults.
 */
import { describe, expect, it } from 'vitest';
import { emitHandleMeta, kindOf } from '../../../src/codegen/handle-meta.js';
import type { MethodModel } from '../../../src/codegen/handle-model.js';
import { HANDLE_CLASSES } from '../../../src/codegen/handle-names.js';

describe('kindOf', () => {
  it('reduces every parameter type to a kind', () => {
    const k = (type: string) => kindOf({ name: 'x', type }, 'virX');
    expect(k('string')).toBe('string');
    expect(k('string | null')).toBe('string?');
    expect(k('number')).toBe('int');
    expect(k('number | bigint')).toBe('hyper');
    expect(k('Uint8Array')).toBe('bytes');
    expect(k('TypedParams')).toBe('typed');
    expect(k('ParamsIn<DomainBlkioParams>')).toBe('typed');
    expect(k("H['Domain']")).toBe('handle:Domain');
    expect(k("H['StorageVol'] | null")).toBe('handle?:StorageVol');
    expect(k("readonly H['Domain'][]")).toBe('handles:Domain');
    expect(k('readonly string[]')).toBe('strings');
    expect(k('readonly (number | bigint)[]')).toBe('hypers');
    expect(k("RemoteDomainSetVcpuArgs['cpumap']")).toBe('json');
    expect(() => k('Map<string, number>')).toThrow(/virX: parameter x has a type no kind covers/);
  });
});

describe('emitHandleMeta', () => {
  it('lists each class with its methods sorted, parameters and defaults', () => {
    const domain = HANDLE_CLASSES.find((c) => c.name === 'Domain')!;
    const m = (method: string, params: MethodModel['params']): MethodModel =>
      ({ cName: `virDomain${method}`, cls: domain, method, params, stream: null }) as MethodModel;
    const code = emitHandleMeta(
      [m('suspend', []), m('getXMLDesc', [{ name: 'flags', type: 'number', init: '0' }])],
      '1.0.0',
    );
    expect(code).toContain('DO NOT EDIT');
    const a = code.indexOf("method: 'getXMLDesc'");
    const b = code.indexOf("method: 'suspend'");
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(a);
    expect(code).toContain(
      "params: [{ name: 'flags', kind: 'int', default: \"0\" }], stream: null",
    );
  });
});
