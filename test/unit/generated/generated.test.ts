import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emitApi } from '../../../src/codegen/api.js';
import { emitModule } from '../../../src/codegen/emit.js';
import { emitEventNames, emitEvents } from '../../../src/codegen/events.js';
import { Interpreter } from '../../../src/codegen/interp.js';
import { loadProtocol, PROGRAMS as PROGRAM_SPECS } from '../../../src/codegen/load.js';
import { pascalCase } from '../../../src/codegen/names.js';
import * as admin from '../../../src/generated/admin.js';
import * as keepalive from '../../../src/generated/keepalive.js';
import * as lxc from '../../../src/generated/lxc.js';
import * as qemu from '../../../src/generated/qemu.js';
import * as remote from '../../../src/generated/remote.js';
import * as virnet from '../../../src/generated/virnet.js';
import * as protocol from '../../../src/protocol.js';
import { XdrReader, XdrWriter } from '../../../src/xdr/index.js';
import { RandomValues, Rng } from '../../helpers/random.js';

const root = join(import.meta.dirname, '../../..');
const proto = loadProtocol(join(root, 'protocol'));
const interp = new Interpreter(proto.symbols);
const random = new RandomValues(proto.symbols);
type Fn = (...a: never[]) => unknown;
const generated: Record<string, Record<string, unknown>> = {
  virnet,
  keepalive,
  remote,
  qemu,
  lxc,
  admin,
};

describe('program tables', () => {
  it('hold every procedure of libvirt 11.3.0 with its number', () => {
    expect(protocol.remote.procedures).toHaveLength(453);
    expect(protocol.qemu.procedures).toHaveLength(7);
    expect(protocol.lxc.procedures).toHaveLength(1);
    expect(protocol.admin.procedures).toHaveLength(20);
    expect(protocol.keepalive.procedures).toHaveLength(2);
    expect([protocol.remote.program, protocol.qemu.program, protocol.lxc.program]).toEqual([
      0x20008086, 0x20008087, 0x00068000,
    ]);
    expect([protocol.admin.program, protocol.keepalive.program]).toEqual([0x06900690, 0x6b656570]);
    for (const p of [
      protocol.remote,
      protocol.qemu,
      protocol.lxc,
      protocol.admin,
      protocol.keepalive,
    ]) {
      expect(p.version).toBe(1);
      const numbers = p.procedures.map((x) => x.number);
      expect(new Set(numbers).size).toBe(numbers.length);
      // every table entry matches protocol/procedures.json
      const ann = proto.annotations[p.name]!;
      expect(Object.keys(ann)).toHaveLength(p.procedures.length);
      for (const x of p.procedures) {
        const prefix = PROGRAM_SPECS[p.name]!.procPrefix;
        expect(ann[`${prefix}${x.name}`]?.number).toBe(x.number);
      }
    }
  });

  it('describe procedures by name, number, codecs, priority and stream', () => {
    const byName = (n: string) => protocol.remote.procedures.find((p) => p.name === n);
    expect(byName('DOMAIN_MIGRATE_START_POST_COPY')).toMatchObject({
      number: 364,
      method: 'domainMigrateStartPostCopy',
      event: false,
      stream: null,
      ret: null,
    });
    expect(byName('DOMAIN_MIGRATE_START_POST_COPY')?.args?.name).toBe(
      'remote_domain_migrate_start_post_copy_args',
    );
    expect(byName('CONNECT_OPEN')).toMatchObject({ number: 1, priority: 'high' });
    expect(byName('AUTH_LIST')?.ret?.name).toBe('remote_auth_list_ret');
    expect(byName('STORAGE_VOL_DOWNLOAD')).toMatchObject({
      stream: 'read',
      sparseFlag: 'VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM',
    });
    expect(byName('STORAGE_VOL_UPLOAD')?.stream).toBe('write');
    expect(byName('DOMAIN_EVENT_CALLBACK_LIFECYCLE')).toMatchObject({ number: 318, event: true });
    expect(protocol.keepalive.procedures.map((p) => [p.name, p.number])).toEqual([
      ['PING', 1],
      ['PONG', 2],
    ]);
    expect(protocol.qemu.procedures.find((p) => p.name === 'DOMAIN_MONITOR_COMMAND')?.number).toBe(
      1,
    );
    expect(protocol.remoteEvents.length).toBeGreaterThan(40);
    expect(protocol.remoteEvents.every((e) => e.payload.name.endsWith('_msg'))).toBe(true);
  });

  it('map every event ID of every family to a callback procedure', async () => {
    const ev = await import('../../../src/generated/events.js');
    expect(Object.keys(ev.domainEvents)).toHaveLength(28);
    expect(ev.domainEvents.lifecycle).toMatchObject({ id: 0, procedure: 318 });
    expect(ev.domainEvents.migration_iteration).toMatchObject({ id: 20, procedure: 359 });
    expect(ev.domainEvents.job_completed).toMatchObject({ id: 21, procedure: 363 });
    expect(ev.domainEvents.block_job_2).toMatchObject({ id: 16, procedure: 339 });
    expect(ev.domainEvents.nic_mac_change).toMatchObject({ id: 27, procedure: 453 });
    expect(ev.networkEvents.metadata_change.procedure).toBe(446);
    expect(Object.keys(ev.storagePoolEvents)).toEqual(['lifecycle', 'refresh']);
    expect(ev.domainEventRegistration).toEqual({ register: 316, deregister: 317 });
  });

  it('name every args/ret/msg struct of the .x files', () => {
    // A struct that looks like a payload but no procedure uses would mean a naming mismatch.
    const used = new Set<string>();
    for (const p of [
      protocol.remote,
      protocol.qemu,
      protocol.lxc,
      protocol.admin,
      protocol.keepalive,
    ]) {
      for (const x of p.procedures) {
        if (x.args) used.add(x.args.name);
        if (x.ret) used.add(x.ret.name);
      }
    }
    const orphans = proto.modules
      .flatMap((m) => m.spec.definitions)
      .filter((d) => d.kind === 'struct' && /_(args|ret|msg)$/.test(d.name) && !used.has(d.name))
      .map((d) => d.name);
    expect(orphans).toEqual([]);
  });
});

describe('generated codecs', () => {
  for (const m of proto.modules) {
    it(`${m.id}: every type round-trips random values and matches the tree interpreter byte for byte`, () => {
      const mod = generated[m.id]!;
      const w = new XdrWriter(64);
      let checked = 0;
      for (const def of m.spec.definitions) {
        if (def.kind === 'const') continue;
        const enc = mod[`encode${pascalCase(def.name)}`] as Fn;
        const dec = mod[`decode${pascalCase(def.name)}`] as Fn;
        expect(typeof enc, `encode for ${def.name}`).toBe('function');
        expect(typeof dec, `decode for ${def.name}`).toBe('function');
        const rounds = def.kind === 'enum' && def.name.endsWith('_procedure') ? 3 : 12;
        for (let seed = 1; seed <= rounds; seed++) {
          const v = random.of(def.name, new Rng(seed * 7919 + def.name.length));
          w.reset();
          (enc as (w: XdrWriter, v: unknown) => void)(w, v);
          const bytes = w.finish();
          const ref = interp.encode(def.name, v).finish();
          expect(Buffer.from(bytes).equals(Buffer.from(ref)), `${def.name} seed ${seed}`).toBe(
            true,
          );
          const r = new XdrReader(bytes);
          const back = (dec as (r: XdrReader) => unknown)(r);
          r.done();
          expect(back, `${def.name} seed ${seed}`).toEqual(v);
          expect(interp.decode(def.name, new XdrReader(bytes))).toEqual(v);
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(0);
    });
  }

  it('reject a wrong value with an XdrError naming the type and field path', () => {
    const w = new XdrWriter();
    expect(() =>
      remote.encodeRemoteDomainGetJobStatsRet(w, {
        type: 1,
        params: [{ field: 'time_elapsed', value: { type: 4, ul: -1n } }],
      }),
    ).toThrow(/remote_domain_get_job_stats_ret\.params\[0\]\.value\.ul: unsigned hyper/);
    const tooMany = Array.from({ length: 65 }, () => ({
      field: 'x',
      value: { type: 1 as const, i: 1 },
    }));
    expect(() => remote.encodeRemoteDomainGetJobStatsRet(w, { type: 1, params: tooMany })).toThrow(
      /params: length 65 exceeds bound 64/,
    );
  });
});

describe('npm run generate', () => {
  it('reproduces src/generated exactly', () => {
    for (const m of proto.modules) {
      const spec = PROGRAM_SPECS[m.id];
      const code = emitModule({
        module: m,
        symbols: proto.symbols,
        sourcePath: `protocol/${m.id}.x`,
        libvirtVersion: proto.version,
        ...(spec ? { program: { ...spec, annotations: proto.annotations[m.id] ?? {} } } : {}),
      });
      expect(code === readFileSync(join(root, `src/generated/${m.id}.ts`), 'utf8'), m.id).toBe(
        true,
      );
    }
    const api = emitApi(proto.api, proto.version);
    expect(api === readFileSync(join(root, 'src/generated/api.ts'), 'utf8')).toBe(true);
    const events = emitEvents(proto);
    expect(events === readFileSync(join(root, 'src/generated/events.ts'), 'utf8')).toBe(true);
    const names = emitEventNames(proto);
    expect(names === readFileSync(join(root, 'src/generated/event-names.ts'), 'utf8')).toBe(true);
  });
});
