/** The VIR_MIGRATE_* combination rules shared by the API, the CLI and the simulator. */
import { describe, expect, it } from 'vitest';
import {
  brokenMigrateRule,
  describeMigrateRule,
  MigrateFlags as F,
  MIGRATE_RULES,
} from '../../../../src/api/migration/index.js';

describe('brokenMigrateRule', () => {
  it('finds each rule broken, and accepts the combination that satisfies it', () => {
    const cases: Array<[number, boolean, string | null]> = [
      [
        F.VIR_MIGRATE_LIVE | F.VIR_MIGRATE_OFFLINE,
        false,
        'VIR_MIGRATE_LIVE excludes VIR_MIGRATE_OFFLINE',
      ],
      [F.VIR_MIGRATE_TUNNELLED, false, 'VIR_MIGRATE_TUNNELLED requires VIR_MIGRATE_PEER2PEER'],
      [F.VIR_MIGRATE_TUNNELLED | F.VIR_MIGRATE_PEER2PEER, false, null],
      [
        F.VIR_MIGRATE_POSTCOPY_RESUME,
        false,
        'VIR_MIGRATE_POSTCOPY_RESUME requires VIR_MIGRATE_POSTCOPY',
      ],
      [F.VIR_MIGRATE_POSTCOPY_RESUME | F.VIR_MIGRATE_POSTCOPY, false, null],
      [F.VIR_MIGRATE_LIVE, true, 'postcopyPolicy requires VIR_MIGRATE_POSTCOPY'],
      [F.VIR_MIGRATE_LIVE | F.VIR_MIGRATE_POSTCOPY, true, null],
      [
        F.VIR_MIGRATE_NON_SHARED_DISK | F.VIR_MIGRATE_NON_SHARED_INC,
        false,
        'VIR_MIGRATE_NON_SHARED_DISK excludes VIR_MIGRATE_NON_SHARED_INC',
      ],
      [
        F.VIR_MIGRATE_OFFLINE | F.VIR_MIGRATE_PERSIST_DEST | F.VIR_MIGRATE_POSTCOPY,
        false,
        'VIR_MIGRATE_OFFLINE excludes VIR_MIGRATE_POSTCOPY',
      ],
      [F.VIR_MIGRATE_OFFLINE, false, 'VIR_MIGRATE_OFFLINE requires VIR_MIGRATE_PERSIST_DEST'],
      [F.VIR_MIGRATE_OFFLINE | F.VIR_MIGRATE_PERSIST_DEST, false, null],
      [0, false, null],
    ];
    for (const [flags, automatic, want] of cases) {
      const rule = brokenMigrateRule(flags, automatic);
      expect(rule && `${rule.subject} ${rule.relation} ${rule.object}`, want ?? 'none').toBe(want);
    }
  });

  it('reports the first broken rule: --live --offline hears about the clash, not about --persistent', () => {
    expect(brokenMigrateRule(F.VIR_MIGRATE_LIVE | F.VIR_MIGRATE_OFFLINE)).toBe(MIGRATE_RULES[0]);
  });

  it('names only real flags', () => {
    for (const r of MIGRATE_RULES) {
      expect(typeof F[r.object]).toBe('number');
      if (r.subject !== 'postcopyPolicy') expect(typeof F[r.subject]).toBe('number');
    }
  });
});

describe('describeMigrateRule', () => {
  it("words a rule in the caller's vocabulary", () => {
    const name = (f: string): string => `<${f.replace('VIR_MIGRATE_', '').toLowerCase()}>`;
    expect(describeMigrateRule(brokenMigrateRule(F.VIR_MIGRATE_TUNNELLED)!, name)).toBe(
      '<tunnelled> requires <peer2peer>',
    );
    expect(
      describeMigrateRule(brokenMigrateRule(F.VIR_MIGRATE_LIVE | F.VIR_MIGRATE_OFFLINE)!, name),
    ).toBe('<live> and <offline> are mutually exclusive');
  });
});
