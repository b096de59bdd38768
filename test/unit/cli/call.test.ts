/**
 * `virtwire call`: finding procedures by any of their names, and fitting
 * JSON to the generated argument types (bigints, bytes, UUIDs, field name
 * spellings), with an error naming the field for anything that does not fit.
 */
import { describe, expect, it } from 'vitest';
import {
  argsTemplate,
  listProcedures,
  notCallable,
  PROGRAMS,
  parseJsonArgs,
  pathKeys,
  prepareArgs,
  resolveProcedure,
} from '../../../src/cli/call.js';
import { UsageError } from '../../../src/cli/errors.js';
import { toJsonValue } from '../../../src/cli/json.js';
import { remoteProgram } from '../../../src/generated/remote.js';
import { XdrReader } from '../../../src/xdr/reader.js';
import { XdrWriter } from '../../../src/xdr/writer.js';

const UUID = '6695eb01-f6a4-8304-79aa-97f2502e193f';
const dom = { name: 'vm1', uuid: UUID, id: 3 };

/** The usage error's message, or a failure if there was none. */
function usage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error('expected a UsageError');
}

describe('resolveProcedure', () => {
  it('accepts method names, libvirt names, constants, numbers and a bare name for remote', () => {
    const forms = [
      'remote.domainLookupByName',
      'remote.DOMAIN_LOOKUP_BY_NAME',
      'REMOTE.domainlookupbyname',
      'remote.REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME',
      'REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME',
      'DOMAIN_LOOKUP_BY_NAME',
      'domainLookupByName',
      'remote.23',
    ];
    for (const f of forms) {
      const r = resolveProcedure(f);
      expect(r.programName, f).toBe('remote');
      expect(r.proc.number, f).toBe(23);
    }
    const q = resolveProcedure('QEMU_PROC_DOMAIN_MONITOR_COMMAND');
    expect(q.programName).toBe('qemu');
    expect(q.proc.method).toBe('domainMonitorCommand');
    expect(resolveProcedure('admin.connectListServers').programName).toBe('admin');
    expect(resolveProcedure('lxc.domainOpenNamespace').proc.number).toBe(1);
  });

  it('names what it cannot find, with close matches', () => {
    expect(usage(() => resolveProcedure('remote.domainLookupByNam'))).toContain(
      'did you mean remote.domainLookupByName',
    );
    expect(usage(() => resolveProcedure('nosuch.thing'))).toContain('unknown program "nosuch"');
    expect(usage(() => resolveProcedure('remote.99999'))).toContain('no procedure "99999"');
    expect(usage(() => resolveProcedure(''))).toContain('no procedure named');
  });

  it('refuses events, streams and keepalive messages with the reason', () => {
    expect(notCallable(resolveProcedure('remote.domainEventCallbackLifecycle'))).toContain(
      'is an event',
    );
    expect(notCallable(resolveProcedure('remote.storageVolDownload'))).toContain('data stream');
    expect(notCallable(resolveProcedure('keepalive.PING'))).toContain('keepalive');
    expect(notCallable(resolveProcedure('remote.connectGetLibVersion'))).toBeNull();
  });

  it('lists every procedure of every program with its number', () => {
    const all = listProcedures();
    let count = 0;
    for (const [name, program] of Object.entries(PROGRAMS)) {
      expect(all).toContain(`${name} (program 0x${program.program.toString(16)}`);
      count += program.procedures.length;
    }
    const lines = all.split('\n').filter((l) => l.startsWith('  '));
    expect(lines).toHaveLength(count);
    const remote = listProcedures('remote');
    expect(remote).toMatch(/^\s+23 {2}remote\.domainLookupByName\s+DOMAIN_LOOKUP_BY_NAME$/m);
    expect(remote).toMatch(/DOMAIN_EVENT_CALLBACK_LIFECYCLE \[event\]$/m);
    expect(remote).not.toContain('qemu.');
    expect(usage(() => listProcedures('bogus'))).toContain('unknown program "bogus"');
  });
});

describe('prepareArgs', () => {
  const fitArgs = (spec: string, json: unknown): unknown =>
    prepareArgs(resolveProcedure(spec), json);

  it('passes plain JSON through and takes no arguments where there are none', () => {
    expect(fitArgs('remote.domainLookupByName', { name: 'vm1' })).toEqual({ name: 'vm1' });
    expect(fitArgs('remote.connectGetLibVersion', undefined)).toBeUndefined();
    expect(fitArgs('remote.connectGetLibVersion', {})).toBeUndefined();
    expect(usage(() => fitArgs('remote.connectGetLibVersion', { x: 1 }))).toContain(
      'takes no arguments',
    );
  });

  it('turns UUID and hex strings into bytes and numbers or strings into bigints', () => {
    const a = fitArgs('remote.domainMigrateSetMaxSpeed', {
      dom,
      bandwidth: '18446744073709551615',
      flags: 0,
    }) as { dom: { uuid: Uint8Array }; bandwidth: bigint };
    expect(a.bandwidth).toBe(2n ** 64n - 1n);
    expect(a.dom.uuid).toEqual(Uint8Array.from(Buffer.from(UUID.replace(/-/g, ''), 'hex')));
    const b = fitArgs('remote.domainMigrateSetMaxDowntime', {
      dom: { ...dom, uuid: UUID.replace(/-/g, '') },
      downtime: 300,
      flags: 0,
    }) as { downtime: bigint; dom: { uuid: Uint8Array } };
    expect(b.downtime).toBe(300n);
    expect(b.dom.uuid).toHaveLength(16);
    // opaque of any length as hex, or an array of bytes
    const c = fitArgs('remote.domainMigratePerform3Params', {
      dom,
      dconnuri: null,
      params: [],
      cookieIn: 'deadbeef',
      flags: 0,
    }) as { cookieIn: Uint8Array };
    expect([...c.cookieIn]).toEqual([0xde, 0xad, 0xbe, 0xef]);
  });

  it('fits values inside arrays and unions (typed parameters)', () => {
    const a = fitArgs('remote.domainMigratePerform3Params', {
      dom,
      dconnuri: 'qemu+tcp://b/system',
      params: [
        { field: 'bandwidth', value: { type: 4, ul: 100 } },
        { field: 'migrate_uri', value: { type: 7, s: 'tcp://10.0.0.2' } },
        { field: 'auto_converge.initial', value: { type: 1, i: '20' } },
      ],
      cookieIn: '',
      flags: 1,
    }) as { params: Array<{ value: Record<string, unknown> }> };
    expect(a.params[0]!.value).toEqual({ type: 4, ul: 100n });
    expect(a.params[2]!.value).toEqual({ type: 1, i: 20 });
  });

  it('accepts snake_case and other spellings of field names', () => {
    const a = fitArgs('remote.domainMigratePerform3Params', {
      dom,
      dconnuri: null,
      params: [],
      cookie_in: '00',
      Flags: 0,
    }) as Record<string, unknown>;
    expect(Object.keys(a).sort()).toEqual(['cookieIn', 'dconnuri', 'dom', 'flags', 'params']);
  });

  it('names a missing, mistyped or unknown field by its path', () => {
    expect(usage(() => fitArgs('remote.domainLookupByName', {}))).toBe(
      'call: remote.domainLookupByName: missing field args.name (expected a string of at most 4194304 bytes); see: virtwire call --describe remote.domainLookupByName',
    );
    expect(usage(() => fitArgs('remote.domainGetInfo', {}))).toContain(
      'missing field args.dom (expected an object with fields name, uuid, id)',
    );
    expect(usage(() => fitArgs('remote.domainGetInfo', { dom: { name: 'x', id: 1 } }))).toContain(
      'missing field args.dom.uuid (expected a UUID (canonical form or 32 hex digits); given fields: name, id)',
    );
    expect(
      usage(() => fitArgs('remote.domainGetInfo', { dom: { ...dom, uuid: 'xyz' } })),
    ).toContain(
      'args.dom.uuid: expected a UUID (canonical form or 32 hex digits), got string "xyz"',
    );
    expect(
      usage(() => fitArgs('remote.domainGetInfo', { dom: { ...dom, uuid: 'abcd' } })),
    ).toContain('args.dom.uuid: expected a UUID (canonical form or 32 hex digits), got 2 bytes');
    expect(usage(() => fitArgs('remote.domainGetInfo', { dom: null }))).toContain(
      'args.dom: expected an object with fields name, uuid, id, got null',
    );
    expect(
      usage(() => fitArgs('remote.domainMigrateSetMaxSpeed', { dom, bandwidth: 1.5, flags: 0 })),
    ).toContain(
      'args.bandwidth: expected an unsigned 64-bit integer (a JSON number or a decimal string), got number 1.5',
    );
    expect(
      usage(() => fitArgs('remote.domainMigrateSetMaxSpeed', { dom, bandwidth: -1, flags: 0 })),
    ).toContain('args.bandwidth: expected an unsigned 64-bit integer');
    expect(usage(() => fitArgs('remote.domainLookupByName', { name: 'a', nmae: 'b' }))).toBe(
      'call: remote.domainLookupByName: unknown field args.nmae (fields: name)',
    );
    expect(
      usage(() =>
        fitArgs('remote.domainMigratePerform3Params', {
          dom: { ...dom, extra: true },
          dconnuri: null,
          params: [],
          cookieIn: '',
          flags: 0,
        }),
      ),
    ).toContain('unknown field args.dom.extra (fields: name, uuid, id)');
    expect(
      usage(() =>
        fitArgs('remote.domainMigratePerform3Params', {
          dom,
          dconnuri: null,
          params: [{ field: 'bandwidth', value: { type: 4, ul: 1, s: 'x' } }],
          cookieIn: '',
          flags: 0,
        }),
      ),
    ).toContain('unknown field args.params[0].value.s (fields: type, ul)');
    expect(
      usage(() => fitArgs('remote.domainLookupByName', { name: 'x'.repeat(5_000_000) })),
    ).toContain(
      'args.name: expected a string of at most 4194304 bytes, got a string of 5000000 bytes',
    );
  });

  it('refuses a value of the wrong JSON kind with the path, what it expects and what it got', () => {
    const getInfo = { dom, flags: 0 };
    expect(usage(() => fitArgs('remote.domainGetInfo', []))).toBe(
      'call: remote.domainGetInfo: args: expected an object with fields dom, got an array of 0 items; see: virtwire call --describe remote.domainGetInfo',
    );
    expect(usage(() => fitArgs('remote.domainGetState', { ...getInfo, flags: 'x' }))).toContain(
      'args.flags: expected an unsigned int (0 to 4294967295), got string "x"',
    );
    expect(usage(() => fitArgs('remote.domainGetState', { ...getInfo, flags: -1 }))).toContain(
      'args.flags: expected an unsigned int (0 to 4294967295), got number -1',
    );
    expect(
      usage(() => fitArgs('remote.domainGetState', { dom: { ...dom, id: 'x' }, flags: 0 })),
    ).toContain('args.dom.id: expected an int (-2147483648 to 2147483647), got string "x"');
    expect(usage(() => fitArgs('remote.domainLookupByName', { name: 42 }))).toContain(
      'args.name: expected a string of at most 4194304 bytes, got number 42',
    );
    expect(
      usage(() =>
        fitArgs('remote.domainMigratePerform3Params', {
          dom,
          dconnuri: null,
          params: {},
          cookieIn: '',
          flags: 0,
        }),
      ),
    ).toContain('args.params: expected an array of at most 64 items, got an object');
    expect(
      usage(() =>
        fitArgs('remote.domainMigratePerform3Params', {
          dom,
          dconnuri: null,
          params: [{ field: 'bandwidth', value: { type: 9, ul: 1 } }],
          cookieIn: '',
          flags: 0,
        }),
      ),
      // type 9 is the union's void default arm: it has no value field
    ).toContain('unknown field args.params[0].value.ul (fields: type)');
    // no codec wording or XDR type names reach the user
    for (const bad of [[], { dom: { ...dom, uuid: 7 }, flags: 0 }, { dom, flags: true, x: 1 }]) {
      const m = usage(() => fitArgs('remote.domainGetState', bad));
      expect(m).not.toMatch(/Uint8Array|out of range|remote_|_args|must be a/);
    }
  });

  it('parses JSON and names a syntax error', () => {
    expect(parseJsonArgs('{"a":1}')).toEqual({ a: 1 });
    expect(parseJsonArgs(undefined)).toBeUndefined();
    expect(usage(() => parseJsonArgs('{a:1}'))).toContain('not valid JSON');
  });

  it('maps XDR error paths to TypeScript field names', () => {
    expect(pathKeys('remote_x_args.params[3].value.ul')).toEqual(['params', 3, 'value', 'ul']);
    expect(pathKeys('remote_x_args.cookie_in')).toEqual(['cookieIn']);
    expect(pathKeys('remote_x_args')).toEqual([]);
    expect(pathKeys('remote_x_args.cpumap[2]')).toEqual(['cpumap', 2]);
  });

  it('prints results in a form it accepts back: every example template encodes', () => {
    // Output JSON (bigints as strings, bytes as hex/UUID) fed back as input gives the same bytes.
    let checked = 0;
    for (const proc of remoteProgram.procedures) {
      if (!proc.args || proc.event || proc.stream) continue;
      const template = argsTemplate(proc);
      if (template === null) continue;
      const json = JSON.parse(JSON.stringify(toJsonValue(template)));
      const fitted = prepareArgs({ programName: 'remote', program: remoteProgram, proc }, json);
      const w1 = new XdrWriter(256);
      proc.args.encode(w1, template);
      const w2 = new XdrWriter(256);
      proc.args.encode(w2, fitted);
      expect(w2.finish(), proc.name).toEqual(w1.finish());
      checked++;
    }
    expect(checked).toBeGreaterThan(300);
  });

  it('round-trips a decoded result with hypers and UUIDs through JSON', () => {
    const proc = resolveProcedure('remote.domainGetInfo').proc;
    const w = new XdrWriter(64);
    proc.ret!.encode(w, {
      state: 1,
      maxMem: 2n ** 40n,
      memory: 131072n,
      nrVirtCpu: 2,
      cpuTime: 123456789012345n,
    });
    const ret = proc.ret!.decode(new XdrReader(w.finish()));
    expect(toJsonValue(ret)).toEqual({
      state: 1,
      maxMem: '1099511627776',
      memory: '131072',
      nrVirtCpu: 2,
      cpuTime: '123456789012345',
    });
    expect(
      toJsonValue({ dom: { uuid: new Uint8Array(16).fill(0xab), cookie: new Uint8Array([1, 2]) } }),
    ).toEqual({
      dom: { uuid: 'abababab-abab-abab-abab-abababababab', cookie: '0102' },
    });
  });
});
