/**
 * Every test file that talks to a real daemon runs on every libvirt generation
 * the harness brings up (`describe.each(generations())`, test/helpers/hosts.ts),
 * or says on which it runs and why the others do not apply: a
 * `generations({ only, because })` call, or a `// generations: ..., because ...`
 * comment for a file the helper cannot express (hosts of its own, no daemon).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../../..');
const DIRS = ['test/integration', 'test/e2e'];

/**
 * Files whose parameterisation belongs to another change in flight; each entry
 * goes once that change adopts the helper.
 */
const PENDING = new Set(['test/e2e/cli-migrate.test.ts']);

const files = DIRS.flatMap((d) =>
  readdirSync(join(ROOT, d))
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => `${d}/${f}`),
);

/** What a file says about generations, or null when it says nothing. */
function coverage(text: string): 'all' | 'limited' | 'marked' | null {
  if (/\bgenerations\(\s*\{[^}]*\bonly\b[^}]*\bbecause\b/s.test(text)) return 'limited';
  if (/\bgenerations\(\s*\)/.test(text)) return 'all';
  if (/^\/\/ generations: [^\n]*, because \S/m.test(text)) return 'marked';
  return null;
}

describe('real-daemon test files and libvirt generations', () => {
  it('finds the files', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it.each(files.filter((f) => !PENDING.has(f)))(
    '%s runs on every generation or says why not',
    (file) => {
      expect(coverage(readFileSync(join(ROOT, file), 'utf8')), file).not.toBeNull();
    },
  );

  it('the pending list names only files that exist and still need it', () => {
    for (const f of PENDING) {
      expect(files).toContain(f);
      expect(coverage(readFileSync(join(ROOT, f), 'utf8')), f).toBeNull();
    }
  });

  it('recognises each form, and a file that says nothing', () => {
    expect(coverage("describe.each(generations())('$label', (gen) => {")).toBe('all');
    expect(coverage("generations({ only: ['bookworm'], because: 'hosts of its own' })")).toBe(
      'limited',
    );
    expect(coverage('// generations: 9.0 only, because host S is 9.0\nimport x;')).toBe('marked');
    expect(coverage("connect(host('VIRTWIRE_HOST_A_TCP'))")).toBeNull();
    expect(coverage('// generations: 9.0 only\n')).toBeNull();
  });
});
