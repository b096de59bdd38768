/**
 * `virtwire call --describe`: the field tree from the generated type table,
 * and an example that the argument checks accept and the codec encodes for
 * every procedure, and that runs as printed against the simulator for the
 * procedures that need no existing object.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROGRAMS, prepareArgs, resolveProcedure } from '../../../src/cli/call.js';
import { describeProcedure } from '../../../src/cli/call-command.js';
import { exampleValue } from '../../../src/cli/call-types.js';
import { toJsonValue } from '../../../src/cli/json.js';
import { xdrTypes } from '../../../src/generated/xdr-types.js';
import { Simulator } from '../../../src/testing/index.js';
import { XdrWriter } from '../../../src/xdr/writer.js';
import { runCli } from '../../helpers/cli.js';

/** The CLI run in this process (the same code as the binary), its exit code and output. */
async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await runCli(argv);
  return { code: r.code, stdout: r.out, stderr: r.err };
}

const exampleOf = (text: string): string[] => {
  const m = /^example:\n {2}virtwire (call \S+)(?: '(.*)')?$/m.exec(text);
  if (!m) throw new Error(`no example in:\n${text}`);
  return m[2] === undefined ? m[1]!.split(' ') : [...m[1]!.split(' '), m[2]];
};

describe('call --describe', () => {
  it('prints the fields of the arguments and of the result with their types and bounds', () => {
    const text = describeProcedure(resolveProcedure('remote.domainGetInfo'));
    expect(text).toContain(
      [
        'arguments:',
        '  dom: object',
        '    name: string (at most 4194304 bytes)',
        '    uuid: UUID (canonical form or 32 hex digits)',
        '    id: int (-2147483648 to 2147483647)',
        'result:',
        '  state: unsigned int (0 to 4294967295)',
        '  maxMem: unsigned 64-bit int (number or decimal string)',
        '  memory: unsigned 64-bit int (number or decimal string)',
        '  nrVirtCpu: unsigned int (0 to 4294967295)',
        '  cpuTime: unsigned 64-bit int (number or decimal string)',
        'example:',
      ].join('\n'),
    );
    // field names, not the XDR struct names
    expect(text).not.toMatch(/remote_[a-z]/);
    expect(text).toContain('the domain reference must name an existing object');
    const params = describeProcedure(resolveProcedure('remote.domainMigratePerform3Params'));
    expect(params).toContain('  params: array (at most 64 items) of object\n    field: string');
    expect(params).toContain('      type: int (-2147483648 to 2147483647), selects one of:');
    expect(params).toContain('        when type is 4:\n          ul: unsigned 64-bit int');
    expect(params).toContain('  dconnuri: string (at most 4194304 bytes) or null');
    const none = describeProcedure(resolveProcedure('remote.connectGetLibVersion'));
    expect(none).toContain('arguments: none');
    expect(exampleOf(none)).toEqual(['call', 'remote.connectGetLibVersion']);
    // nothing to call: no example
    expect(
      describeProcedure(resolveProcedure('remote.domainEventCallbackLifecycle')),
    ).not.toContain('example:');
  });

  it('gives every procedure an example its own checks accept and the codec encodes', () => {
    let checked = 0;
    for (const [programName, program] of Object.entries(PROGRAMS)) {
      for (const proc of program.procedures) {
        if (!proc.args) continue;
        expect(xdrTypes[proc.args.name], proc.args.name).toBeDefined();
        if (proc.ret) expect(xdrTypes[proc.ret.name], proc.ret.name).toBeDefined();
        const json = JSON.parse(JSON.stringify(toJsonValue(exampleValue(`#${proc.args.name}`))));
        const fitted = prepareArgs({ programName, program, proc }, json);
        proc.args.encode(new XdrWriter(256), fitted);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(400);
  });
});

describe('call --describe examples against the simulator', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await Simulator.start({ tcp: true, domains: [{ name: 'vm1', state: 'running' }] });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('run as printed for procedures that need no existing object', async () => {
    const harmless = [
      'remote.connectGetLibVersion',
      'remote.connectGetHostname',
      'remote.connectListAllDomains',
      'remote.connectNumOfDomains',
      'remote.connectListDomains',
      'remote.connectGetCapabilities',
      'remote.nodeGetInfo',
    ];
    for (const name of harmless) {
      const d = await cli(['call', '--describe', name]);
      expect(d.code, name).toBe(0);
      const r = await cli(['-c', sim.uri, ...exampleOf(d.stdout)]);
      expect({ name, code: r.code, stderr: r.stderr }).toEqual({ name, code: 0, stderr: '' });
      expect(r.stdout.length, name).toBeGreaterThan(0);
    }
  });
});
