/**
 * Which JavaScript runtime runs these tests. scripts/runtimes.sh runs the unit
 * suite under each supported runtime with VIRTWIRE_EXPECT_RUNTIME set; this
 * test makes sure the suite did run inside that runtime (a test runner that
 * quietly fell back to another runtime's workers would prove nothing).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { currentRuntime } from '../../helpers/runtime.js';

describe('the runtime under test', () => {
  it('is a supported one, and the one the matrix asked for', () => {
    const rt = currentRuntime();
    expect(rt).toMatch(/^(node(20|22|24|26)|bun|deno)$/);
    const expected = process.env['VIRTWIRE_EXPECT_RUNTIME'];
    if (expected !== undefined) expect(rt).toBe(expected);
  });

  it("satisfies package.json's engines entry for it (what the matrix runs is what users are promised)", () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
    const engines = pkg.engines as Record<string, string>;
    const rt = currentRuntime();
    const g = globalThis as { Deno?: { version: { deno: string } } };
    const [name, version] =
      rt === 'bun'
        ? ['bun', process.versions['bun']!]
        : rt === 'deno'
          ? ['deno', g.Deno!.version.deno]
          : ['node', process.versions.node];
    const range = engines[name];
    expect(range, `engines.${name}`).toBeDefined();
    expect(
      satisfies(version, range!),
      `${name} ${version} against engines.${name} "${range}"`,
    ).toBe(true);
    expect(satisfies('1.3.9', '>=1.4.0')).toBe(false); // the check itself can say no
  });
});

/** `version` against a range of `>=X.Y.Z` and `^X.Y.Z` terms joined by `||` (all engines uses). */
function satisfies(version: string, range: string): boolean {
  const num = (v: string) => v.split('.').map((x) => Number.parseInt(x, 10));
  const cmp = (a: number[], b: number[]) => {
    for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
    return 0;
  };
  const v = num(version);
  return range.split('||').some((term) => {
    const t = term.trim();
    const m = /^(>=|\^)(\d+\.\d+\.\d+)$/.exec(t);
    if (!m) throw new Error(`engines term "${t}" is not one this check reads`);
    const base = num(m[2]!);
    return cmp(v, base) >= 0 && (m[1] === '>=' || v[0] === base[0]);
  });
}
