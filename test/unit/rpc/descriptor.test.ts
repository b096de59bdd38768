/**
 * Call descriptors: every generated procedure is one, computed once, with
 * its program's identity shared, its label, and the message type that
 * starts it; lookups hand back those same objects.
 */
import { describe, expect, it } from 'vitest';
import { adminProgram } from '../../../src/generated/admin.js';
import { keepaliveProgram } from '../../../src/generated/keepalive.js';
import { lxcProgram } from '../../../src/generated/lxc.js';
import { qemuProgram } from '../../../src/generated/qemu.js';
import { remoteProgram } from '../../../src/generated/remote.js';
import { VirNetMessageType } from '../../../src/generated/virnet.js';
import { callDescriptor, findProcedure } from '../../../src/rpc/descriptor.js';

const PROGRAMS = [remoteProgram, qemuProgram, lxcProgram, adminProgram, keepaliveProgram];
const { VIR_NET_CALL: CALL, VIR_NET_MESSAGE: MESSAGE } = VirNetMessageType;

describe('generated call descriptors', () => {
  it('carry their program, label and message type, the program shared by all its procedures', () => {
    for (const p of PROGRAMS) {
      const id = p.procedures[0]!.program;
      expect(id).toEqual({ name: p.name, program: p.program, version: p.version });
      for (const d of p.procedures) {
        expect(d.program).toBe(id);
        expect(d.label).toBe(`${p.name}.${d.name}`);
        const oneWay = d.event || p === keepaliveProgram;
        expect(d.type).toBe(oneWay ? MESSAGE : CALL);
      }
    }
    const info = findProcedure(remoteProgram, 'DOMAIN_GET_INFO');
    expect(info).toMatchObject({ number: 16, label: 'remote.DOMAIN_GET_INFO', priority: 'low' });
    expect(findProcedure(remoteProgram, 'STORAGE_VOL_DOWNLOAD').stream).toBe('read');
  });

  it('are found by name, method and number, as the very objects of the table', () => {
    const byName = findProcedure(remoteProgram, 'CONNECT_GET_HOSTNAME');
    expect(remoteProgram.procedures).toContain(byName);
    expect(findProcedure(remoteProgram, 'connectGetHostname')).toBe(byName);
    expect(findProcedure(remoteProgram, byName.number)).toBe(byName);
    expect(() => findProcedure(remoteProgram, 'NO_SUCH_THING')).toThrow(
      /^remote has no procedure NO_SUCH_THING$/,
    );
    expect(() => findProcedure(qemuProgram, 9999)).toThrow(TypeError);
  });

  it('can be made for a procedure no table lists', () => {
    const d = callDescriptor({ name: 'x', program: 0x1234, version: 2 }, 7);
    expect(d).toEqual({
      program: { name: 'x', program: 0x1234, version: 2 },
      name: '7',
      number: 7,
      label: 'x.7',
      type: CALL,
      args: null,
      ret: null,
      priority: 'low',
      stream: null,
    });
    expect(callDescriptor(remoteProgram, 201, { name: 'RAW', stream: 'write' })).toMatchObject({
      label: 'remote.RAW',
      stream: 'write',
    });
  });
});
