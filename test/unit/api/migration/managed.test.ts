/**
 * The orchestration (virDomainMigrate3 / virDomainMigrateToURI3 order) over
 * both protocol variants, against recording stand-ins for the two daemons:
 * which procedure runs where, with which flags, cookies and parameters, and
 * what happens on each side when a phase fails.
 */
import { describe, expect, it } from 'vitest';
import type { MigrationError, MigrationPhase } from '../../../../src/api/migration/index.js';
import { MigrateFlags as F, MigrationPlan } from '../../../../src/api/migration/index.js';
import { migrateManaged, migrateUnmanaged } from '../../../../src/api/migration/managed.js';
import { fromTypedParams } from '../../../../src/api/typed-params.js';
import {
  BEGIN_XML,
  type Call,
  type FakeOptions,
  fakeHosts,
  REF,
  text,
  URI_OUT,
} from './fake-hosts.js';

const CP = F.VIR_MIGRATE_CHANGE_PROTECTION;
const FEATURES_V3_ONLY = [3, 4, 6, 7, 12];

async function managed(
  options: Parameters<typeof MigrationPlan.from>[0],
  fake: FakeOptions = {},
): Promise<{ calls: Call[]; phases: MigrationPhase[]; result: unknown }> {
  const { dst, domain, calls } = fakeHosts(fake);
  const phases: MigrationPhase[] = [];
  const plan = MigrationPlan.from(options);
  const result = await migrateManaged({ domain, plan, enter: (p) => phases.push(p) }, dst).catch(
    (e: unknown) => e,
  );
  return { calls, phases, result };
}

const where = (calls: readonly Call[]): string[] => calls.map((c) => `${c.host}.${c.proc}`);
const params = (c: Call | undefined) => fromTypedParams(c?.args.params as never);
const find = (calls: readonly Call[], proc: Call['proc']): Call | undefined =>
  calls.find((c) => c.proc === proc);

describe('managed migration with parameters', () => {
  it('runs Begin, Prepare, Perform, Finish, Confirm, threading cookies and what each side learns', async () => {
    const { calls, phases, result } = await managed({
      live: true,
      abortOnError: true,
      autoConverge: true,
      bandwidth: 50,
    });
    expect(result).toEqual({ ...REF, id: 9 });
    expect(phases).toEqual(['begin', 'prepare', 'perform', 'finish', 'confirm']);
    expect(where(calls)).toEqual([
      'src.domainMigrateBegin3Params',
      'dst.domainMigratePrepare3Params',
      'src.domainMigratePerform3Params',
      'dst.domainMigrateFinish3Params',
      'src.domainMigrateConfirm3Params',
    ]);
    const srcFlags =
      F.VIR_MIGRATE_LIVE | F.VIR_MIGRATE_ABORT_ON_ERROR | F.VIR_MIGRATE_AUTO_CONVERGE;
    const [begin, prepare, perform, finish, confirm] = calls;
    // change protection when the source supports it; the source-only flags stay off the destination
    expect(begin!.args.flags).toBe(srcFlags | CP);
    expect(prepare!.args.flags).toBe(F.VIR_MIGRATE_LIVE);
    expect(perform!.args.flags).toBe(srcFlags | CP);
    expect(finish!.args.flags).toBe(F.VIR_MIGRATE_LIVE);
    expect(confirm!.args.flags).toBe(srcFlags | CP);
    // the destination gets Begin's XML; Prepare's URI replaces migrate_uri from then on
    expect(params(prepare)).toEqual({ bandwidth: 50n, destination_xml: BEGIN_XML });
    expect(params(perform)).toEqual({
      bandwidth: 50n,
      destination_xml: BEGIN_XML,
      migrate_uri: URI_OUT,
    });
    expect(perform!.args.dconnuri).toBeNull();
    expect(params(finish)).toMatchObject({ destination_name: 'vm', migrate_uri: URI_OUT });
    expect(params(confirm)).toMatchObject({ destination_name: 'vm' });
    expect(calls.map((c) => c.args.cookieIn).map(text)).toEqual(['', 'A', 'B', 'C', 'D']);
    expect([finish!.args.cancelled, confirm!.args.cancelled]).toEqual([0, 0]);
  });

  it('keeps a paused guest paused on the destination, except when resuming post-copy', async () => {
    const paused = await managed({ live: true }, { stateCode: 3 });
    expect(find(paused.calls, 'domainMigrateBegin3Params')!.args.flags).toBe(
      F.VIR_MIGRATE_LIVE | CP,
    );
    expect(find(paused.calls, 'domainMigratePrepare3Params')!.args.flags).toBe(
      F.VIR_MIGRATE_LIVE | F.VIR_MIGRATE_PAUSED,
    );
    const resume = await managed(
      { live: true, postcopy: true, postcopyResume: true },
      { stateCode: 3 },
    );
    expect(
      (find(resume.calls, 'domainMigratePrepare3Params')!.args.flags as number) &
        F.VIR_MIGRATE_PAUSED,
    ).toBe(0);
  });

  it('no change protection from a source without it, and none asked of it', async () => {
    const { calls } = await managed(
      { live: true, changeProtection: true },
      { srcFeatures: [3, 4, 6, 12, 13] },
    );
    expect(find(calls, 'domainMigrateBegin3Params')!.args.flags).toBe(F.VIR_MIGRATE_LIVE);
  });
});

describe('managed migration without parameters (v3)', () => {
  it('carries the URI, name, XML and bandwidth as arguments of their own', async () => {
    const { calls, result } = await managed({
      live: true,
      protocol: 'v3',
      bandwidth: 80,
      destXml: '<domain/>',
      migrateUri: 'tcp://10.0.0.2',
    });
    expect(result).toEqual({ ...REF, id: 9 });
    expect(where(calls)).toEqual([
      'src.domainMigrateBegin3',
      'dst.domainMigratePrepare3',
      'src.domainMigratePerform3',
      'dst.domainMigrateFinish3',
      'src.domainMigrateConfirm3',
    ]);
    const [begin, prepare, perform, finish, confirm] = calls.map((c) => c.args);
    expect(begin).toMatchObject({ xmlin: '<domain/>', dname: null, resource: 80n });
    expect(begin!.flags).toBe(BigInt(F.VIR_MIGRATE_LIVE | CP));
    expect(prepare).toMatchObject({ uriIn: 'tcp://10.0.0.2', domXml: BEGIN_XML, resource: 80n });
    // the XML went with Begin; the URI is the one Prepare chose
    expect(perform).toMatchObject({ xmlin: null, dconnuri: null, uri: URI_OUT, resource: 80n });
    expect(finish).toMatchObject({ dname: 'vm', uri: URI_OUT, cancelled: 0 });
    expect(text(confirm!.cookieIn)).toBe('D');
  });

  it('is what two daemons without parameters get, even when asked for auto', async () => {
    const { calls } = await managed({ live: true }, { dstFeatures: FEATURES_V3_ONLY });
    expect(where(calls)[0]).toBe('src.domainMigrateBegin3');
  });

  it('refuses, before any migration call, what it cannot carry, and daemons without v3', async () => {
    const extra = await managed({ live: true, protocol: 'v3', postcopyBandwidth: 5, tls: true });
    expect(extra.calls).toEqual([]);
    expect((extra.result as MigrationError).phase).toBe('setup');
    expect((extra.result as MigrationError).message).toBe(
      'migration v3 without parameters cannot carry bandwidth.postcopy',
    );
    const old = await managed({ live: true }, { dstFeatures: [3, 4] });
    expect(old.calls).toEqual([]);
    expect((old.result as MigrationError).message).toBe(
      'the daemons support neither migration v3 with parameters nor v3',
    );
  });
});

describe('failures: the first error is reported, and the source is told', () => {
  const boom = (what: string): Error => new Error(`${what} broke`);

  it('Prepare fails with change protection: Confirm cancels the job Begin started', async () => {
    const { calls, phases, result } = await managed(
      { live: true },
      { failing: { domainMigratePrepare3Params: boom('prepare') } },
    );
    expect(where(calls)).toEqual([
      'src.domainMigrateBegin3Params',
      'dst.domainMigratePrepare3Params',
      'src.domainMigrateConfirm3Params',
    ]);
    expect(calls[2]!.args.cancelled).toBe(1);
    expect(phases).toEqual(['begin', 'prepare', 'confirm']);
    const e = result as MigrationError;
    expect(e.phase).toBe('prepare');
    expect(e.message).toBe('migration of vm failed in prepare on the destination: prepare broke');
    expect((e.cause as Error).message).toBe('prepare broke');
  });

  it('Prepare fails without change protection: nothing more is sent', async () => {
    const { calls, result } = await managed(
      { live: true },
      { srcFeatures: [6, 13], failing: { domainMigratePrepare3Params: boom('prepare') } },
    );
    expect(where(calls)).toEqual([
      'src.domainMigrateBegin3Params',
      'dst.domainMigratePrepare3Params',
    ]);
    expect((result as MigrationError).phase).toBe('prepare');
  });

  it('Perform fails: Finish cancels on the destination, no Confirm (the source knows)', async () => {
    const { calls, result } = await managed(
      { live: true },
      { failing: { domainMigratePerform3Params: boom('perform') } },
    );
    expect(where(calls).slice(2)).toEqual([
      'src.domainMigratePerform3Params',
      'dst.domainMigrateFinish3Params',
    ]);
    expect(calls[3]!.args).toMatchObject({ cancelled: 1 });
    expect(text(calls[3]!.args.cookieIn)).toBe('');
    expect((result as MigrationError).message).toBe(
      'migration of vm failed in perform on the source: perform broke',
    );
  });

  it('Finish fails: Confirm cancels on the source', async () => {
    const { calls, result } = await managed(
      { live: true },
      { failing: { domainMigrateFinish3Params: boom('finish') } },
    );
    const confirm = find(calls, 'domainMigrateConfirm3Params')!;
    expect(confirm.args.cancelled).toBe(1);
    expect(text(confirm.args.cookieIn)).toBe('');
    expect((result as MigrationError).phase).toBe('finish');
  });

  it('Confirm fails after a good migration: it says so, and guesses nothing about the guest', async () => {
    const { result } = await managed(
      { live: true },
      { failing: { domainMigrateConfirm3Params: boom('confirm') } },
    );
    const e = result as MigrationError;
    expect(e.phase).toBe('confirm');
    expect(e.message).toBe(
      'migration of vm finished on the destination, but confirm failed on the source: confirm broke',
    );
    expect(e.confirmError?.message).toBe('confirm broke');
  });

  it('Confirm fails after another failure: the first error stays, with the second added', async () => {
    const { result } = await managed(
      { live: true },
      {
        failing: {
          domainMigrateFinish3Params: boom('finish'),
          domainMigrateConfirm3Params: boom('confirm'),
        },
      },
    );
    const e = result as MigrationError;
    expect(e.phase).toBe('finish');
    expect(e.message).toBe(
      'migration of vm failed in finish on the destination: finish broke; confirm on the source also failed: confirm broke',
    );
    expect((e.cause as Error).message).toBe('finish broke');
    expect(e.confirmError?.message).toBe('confirm broke');
  });

  it('Confirm repeats the first error (libvirt does after a refused Prepare): it is said once', async () => {
    const same = 'Attempt to migrate guest to the same host';
    const { result } = await managed(
      { live: true },
      {
        failing: {
          domainMigratePrepare3Params: new Error(same),
          domainMigrateConfirm3Params: new Error(same),
        },
      },
    );
    const e = result as MigrationError;
    expect(e.phase).toBe('prepare');
    expect(e.message).toBe(
      'migration of vm failed in prepare on the destination: Attempt to migrate guest to the same host (confirm on the source failed the same way)',
    );
    expect(e.message.split('same host').length - 1).toBe(1);
    expect(e.confirmError?.message).toBe('Attempt to migrate guest to the same host');
  });
});

describe('offline migration', () => {
  it('skips Perform: Finish gets no cookie and is not cancelled', async () => {
    const { calls, phases } = await managed({ offline: true, persistent: true });
    expect(phases).toEqual(['begin', 'prepare', 'finish', 'confirm']);
    const finish = find(calls, 'domainMigrateFinish3Params')!;
    expect(finish.args.cancelled).toBe(0);
    expect(text(finish.args.cookieIn)).toBe('');
  });

  it('needs both hosts to support it', async () => {
    const { calls, result } = await managed(
      { offline: true, persistent: true },
      { dstFeatures: [3, 4, 6, 7, 13] },
    );
    expect(calls).toEqual([]);
    expect((result as MigrationError).message).toBe(
      'offline migration is not supported by the destination host',
    );
  });
});

describe('peer-to-peer and direct migration: one Perform on the source', () => {
  async function unmanaged(
    uri: string,
    options: Parameters<typeof MigrationPlan.from>[0],
    fake: FakeOptions = {},
  ): Promise<{ calls: Call[]; result: unknown; phases: MigrationPhase[] }> {
    const { domain, calls } = fakeHosts(fake);
    const phases: MigrationPhase[] = [];
    const result = await migrateUnmanaged(
      { domain, plan: MigrationPlan.from(options), enter: (p) => phases.push(p) },
      uri,
    ).catch((e: unknown) => e);
    return { calls, result, phases };
  }

  it('peer-to-peer with parameters: dconnuri is the destination, no cookie', async () => {
    const { calls, phases } = await unmanaged('qemu+tcp://b/system', {
      live: true,
      peer2peer: true,
      bandwidth: 20,
    });
    expect(phases).toEqual(['perform']);
    expect(where(calls)).toEqual(['src.domainMigratePerform3Params']);
    expect(calls[0]!.args).toMatchObject({
      dconnuri: 'qemu+tcp://b/system',
      flags: F.VIR_MIGRATE_LIVE | F.VIR_MIGRATE_PEER2PEER,
    });
    expect(text(calls[0]!.args.cookieIn)).toBe('');
    expect(params(calls[0])).toEqual({ bandwidth: 20n });
  });

  it("honours protocol: 'v3', carrying the XML, URI, name and bandwidth as arguments", async () => {
    const { calls } = await unmanaged('qemu+tcp://b/system', {
      live: true,
      peer2peer: true,
      protocol: 'v3',
      bandwidth: 20,
      destXml: '<domain/>',
      destName: 'vm2',
      migrateUri: 'tcp://10.0.0.2',
    });
    expect(where(calls)).toEqual(['src.domainMigratePerform3']);
    expect(calls[0]!.args).toMatchObject({
      xmlin: '<domain/>',
      dconnuri: 'qemu+tcp://b/system',
      uri: 'tcp://10.0.0.2',
      dname: 'vm2',
      resource: 20n,
    });
    const refused = await unmanaged('qemu+tcp://b/system', {
      peer2peer: true,
      postcopy: true,
      protocol: 'v3',
      postcopyBandwidth: 5,
    });
    expect(refused.calls).toEqual([]);
    expect((refused.result as MigrationError).message).toBe(
      'migration v3 without parameters cannot carry bandwidth.postcopy',
    );
  });

  it('direct: the URI says where the hypervisor sends the stream, in either variant', async () => {
    const withParams = await unmanaged('xen+tcp://b', { live: true });
    expect(withParams.calls[0]!.args.dconnuri).toBeNull();
    expect(params(withParams.calls[0])).toEqual({ migrate_uri: 'xen+tcp://b' });
    const v3 = await unmanaged('xen+tcp://b', { live: true, protocol: 'v3' });
    expect(v3.calls[0]!.args).toMatchObject({ dconnuri: null, uri: 'xen+tcp://b' });
    const own = await unmanaged('xen+tcp://b', { live: true, migrateUri: 'tcp://10.0.0.9' });
    expect(params(own.calls[0])).toEqual({ migrate_uri: 'tcp://10.0.0.9' });
  });

  it('a source that cannot is refused before the call; a failed Perform names the phase', async () => {
    const p2p = await unmanaged(
      'qemu+tcp://b/system',
      { peer2peer: true },
      { srcFeatures: [6, 13] },
    );
    expect(p2p.calls).toEqual([]);
    expect((p2p.result as MigrationError).message).toBe(
      'the source does not support peer-to-peer migration',
    );
    const failed = await unmanaged(
      'qemu+tcp://b/system',
      { peer2peer: true },
      { failing: { domainMigratePerform3Params: new Error('no route') } },
    );
    expect((failed.result as MigrationError).phase).toBe('perform');
    expect((failed.result as MigrationError).message).toBe(
      'migration of vm failed in perform on the source: no route',
    );
  });
});
