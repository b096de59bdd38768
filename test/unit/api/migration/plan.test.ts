/**
 * Options -> MigrationPlan: the one normalised form `migrate`, `migrateToURI`
 * and the CLI run from, and every refusal naming the option, before any RPC.
 */
import { describe, expect, it } from 'vitest';
import {
  MigrateFlags as F,
  type MigrateOptions,
  MigrateRuleError,
  Migration,
  MigrationPlan,
} from '../../../../src/api/migration/index.js';
import { fromTypedParams, TypedParamError } from '../../../../src/api/typed-params.js';
import { fakeHosts } from './fake-hosts.js';

const plan = (o: MigrateOptions): MigrationPlan => MigrationPlan.from(o);

/** The error `from` throws for `o`. */
function refusal(o: unknown): TypedParamError {
  try {
    MigrationPlan.from(o as MigrateOptions);
  } catch (err) {
    expect(err).toBeInstanceOf(TypedParamError);
    return err as TypedParamError;
  }
  throw new Error(`${JSON.stringify(o)} was accepted`);
}

describe('MigrationPlan.from', () => {
  it('turns options into flags and typed parameters', () => {
    const p = plan({
      live: true,
      persistent: true,
      undefineSource: true,
      postcopy: true,
      parallel: 4,
      bandwidth: 100,
      postcopyBandwidth: 1000,
      migrateUri: 'tcp://10.0.0.2',
      migrateDisks: ['vda', 'vdb'],
      params: { 'compression.zstd.level': 3 },
      flags: F.VIR_MIGRATE_NON_SHARED_DISK,
    });
    expect(p.flags).toBe(
      F.VIR_MIGRATE_LIVE |
        F.VIR_MIGRATE_PERSIST_DEST |
        F.VIR_MIGRATE_UNDEFINE_SOURCE |
        F.VIR_MIGRATE_POSTCOPY |
        F.VIR_MIGRATE_PARALLEL |
        F.VIR_MIGRATE_NON_SHARED_DISK,
    );
    expect(fromTypedParams(p.params)).toEqual({
      'compression.zstd.level': 3,
      'parallel.connections': 4,
      bandwidth: 100n,
      'bandwidth.postcopy': 1000n,
      migrate_uri: 'tcp://10.0.0.2',
      migrate_disks: 'vda',
    });
    expect(p.params.filter((x) => x.field === 'migrate_disks')).toHaveLength(2);
    expect(p.protocol).toBe('auto');
    expect(p.postcopyPolicy).toEqual({ afterIterations: null, afterMs: null });
    expect(p.has(F.VIR_MIGRATE_LIVE)).toBe(true);
    expect(p.has(F.VIR_MIGRATE_OFFLINE)).toBe(false);
  });

  it('reduces every post-copy policy to its triggers', () => {
    const pc = (postcopyPolicy: MigrateOptions['postcopyPolicy']) =>
      plan({ postcopy: true, ...(postcopyPolicy ? { postcopyPolicy } : {}) }).postcopyPolicy;
    expect(pc(undefined)).toEqual({ afterIterations: null, afterMs: null });
    expect(pc('manual')).toEqual({ afterIterations: null, afterMs: null });
    expect(pc('after-precopy')).toEqual({ afterIterations: 1, afterMs: null });
    expect(pc({ afterIterations: 3 })).toEqual({ afterIterations: 3, afterMs: null });
    expect(pc({ afterMs: 0 })).toEqual({ afterIterations: null, afterMs: 0 });
    expect(pc({ afterIterations: 1, afterMs: 5000 })).toEqual({
      afterIterations: 1,
      afterMs: 5000,
    });
  });

  it('keeps the protocol for every migration kind', () => {
    expect(plan({ protocol: 'v3' }).protocol).toBe('v3');
    expect(plan({ peer2peer: true, protocol: 'v3' }).protocol).toBe('v3');
  });

  it('is computed once: a plan passes through as it is, and cannot be changed', () => {
    const p = plan({ live: true, bandwidth: 5 });
    expect(MigrationPlan.from(p)).toBe(p);
    expect(Object.isFrozen(p)).toBe(true);
    expect(Object.isFrozen(p.params)).toBe(true);
    expect(Object.isFrozen(p.postcopyPolicy)).toBe(true);
  });

  it('refuses bad options, naming them', () => {
    const cases: Array<[unknown, string, RegExp]> = [
      [{ nope: 1 }, 'nope', /unknown migration option "nope"/],
      [{ live: 'yes' }, 'live', /migration option live must be a boolean, got string/],
      [{ flags: 1 << 30 }, 'flags', /contain bits that are not VIR_MIGRATE_\* flags/],
      [{ flags: -1 }, 'flags', /not VIR_MIGRATE_\* flags/],
      [{ params: { nope: 1 } }, 'nope', /unknown migration parameter "nope"/],
      [
        { params: { bandwidth: 'fast' } },
        'bandwidth',
        /bandwidth must be an unsigned 64-bit integer/,
      ],
      [{ params: { migrate_uri: ['a', 'b'] } }, 'migrate_uri', /takes one value/],
      [{ bandwidth: 5, params: { bandwidth: 6 } }, 'bandwidth', /both as an option and in params/],
      [{ protocol: 'v2' }, 'protocol', /unknown migration protocol "v2" \(auto or v3\)/],
      [
        { postcopy: true, postcopyPolicy: 'soon' },
        'postcopyPolicy',
        /unknown postcopyPolicy "soon"/,
      ],
      [
        { postcopy: true, postcopyPolicy: { afterIterations: 0 } },
        'postcopyPolicy',
        /afterIterations needs a positive integer, got 0/,
      ],
      [
        { postcopy: true, postcopyPolicy: { afterMs: -1 } },
        'postcopyPolicy',
        /afterMs needs a non-negative integer, got -1/,
      ],
      [
        { postcopy: true, postcopyPolicy: {} },
        'postcopyPolicy',
        /afterIterations, afterMs or both/,
      ],
    ];
    for (const [o, param, message] of cases) {
      const e = refusal(o);
      expect(e.param, JSON.stringify(o)).toBe(param);
      expect(e.message).toMatch(message);
      expect(e).not.toBeInstanceOf(MigrateRuleError);
    }
  });

  it('refuses flags that cannot be combined with the shared rules, in option names', () => {
    const cases: Array<[MigrateOptions, string, string]> = [
      [{ tunnelled: true }, 'tunnelled', 'tunnelled requires peer2peer'],
      [{ postcopyResume: true }, 'postcopyResume', 'postcopyResume requires postcopy'],
      [{ postcopyPolicy: 'after-precopy' }, 'postcopyPolicy', 'postcopyPolicy requires postcopy'],
      [{ live: true, offline: true }, 'live', 'live and offline are mutually exclusive'],
      [{ offline: true }, 'offline', 'offline requires persistent'],
      [
        { flags: F.VIR_MIGRATE_NON_SHARED_DISK | F.VIR_MIGRATE_NON_SHARED_INC },
        'VIR_MIGRATE_NON_SHARED_DISK',
        'VIR_MIGRATE_NON_SHARED_DISK and VIR_MIGRATE_NON_SHARED_INC are mutually exclusive',
      ],
    ];
    for (const [o, param, message] of cases) {
      const e = refusal(o);
      expect(e).toBeInstanceOf(MigrateRuleError);
      expect(e.param).toBe(param);
      expect(e.message).toBe(message);
    }
    expect((refusal({ tunnelled: true }) as MigrateRuleError).rule).toEqual({
      subject: 'VIR_MIGRATE_TUNNELLED',
      relation: 'requires',
      object: 'VIR_MIGRATE_PEER2PEER',
    });
  });
});

describe('managed migration refuses peer-to-peer', () => {
  it('as an option or as a raw flag, before anything is sent', () => {
    const { dst, domain, calls } = fakeHosts();
    for (const o of [{ peer2peer: true }, { flags: F.VIR_MIGRATE_PEER2PEER }]) {
      expect(() => Migration.managed(domain, dst, o)).toThrow(
        'peer-to-peer migration takes the destination URI: use migrateToURI(dconnuri, options)',
      );
    }
    expect(() => Migration.managed(domain, dst, { tunnelled: true })).toThrow(MigrateRuleError);
    expect(calls).toEqual([]);
  });
});
