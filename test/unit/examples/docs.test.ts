/**
 * The README/docs rule of scripts/examples.ts, without building or packing:
 * every code block that shows library use is an excerpt of an example file,
 * and every example says where it runs. (CI runs the examples themselves.)
 */
import { describe, expect, it } from 'vitest';
import { checkDocs, codeBlocks, isExcerpt, listExamples } from '../../../scripts/lib/examples.js';

describe('README.md and docs/', () => {
  it('quote only example files', () => {
    expect(checkDocs()).toEqual([]);
  });
  it('every example runs somewhere', () => {
    const examples = listExamples();
    expect(examples.length).toBeGreaterThan(10);
    for (const e of examples) expect([...e.runsOn].length, e.name).toBeGreaterThan(0);
  });
});

describe('the excerpt rule', () => {
  const file = ['import { a } from "x";', '', 'const b = a();', 'b.go();', 'b.stop();'];
  it('takes contiguous lines, and runs separated by // ...', () => {
    expect(isExcerpt(['const b = a();', 'b.go();'], file)).toBe(true);
    expect(isExcerpt(['import { a } from "x";', '// ...', 'b.stop();'], file)).toBe(true);
  });
  it('refuses a changed, reordered or skipped line', () => {
    expect(isExcerpt(['const b = a(1);'], file)).toBe(false);
    expect(isExcerpt(['b.stop();', '// ...', 'b.go();'], file)).toBe(false);
    expect(isExcerpt(['const b = a();', 'b.stop();'], file)).toBe(false);
  });
  it('finds blocks with their language and the marker before them', () => {
    const page = [
      'text',
      '<!-- example: examples/x.ts -->',
      '```ts',
      'x();',
      '```',
      '```sh',
      'npm test',
      '```',
    ].join('\n');
    expect(codeBlocks('p.md', page)).toEqual([
      { page: 'p.md', line: 3, lang: 'ts', lines: ['x();'], example: 'examples/x.ts' },
      { page: 'p.md', line: 6, lang: 'sh', lines: ['npm test'], example: null },
    ]);
  });
});
