/**
 * The simulator's XML reader against hostile documents (issue 19): nesting
 * beyond libxml2's limit, character references to what XML forbids, and
 * tags with tens of thousands of attributes, each answered as libvirt
 * (through libxml2) answers it, and in linear time.
 */
import { describe, expect, it } from 'vitest';
import { VirErrorNumber } from '../../../src/generated/api.js';
import type { SimError } from '../../../src/testing/errors.js';
import { parseXml, XML_MAX_DEPTH } from '../../../src/testing/xml.js';
import { collectGarbage } from '../../helpers/measure.js';

const fails = (text: string): SimError => {
  try {
    parseXml(text);
  } catch (e) {
    return e as SimError;
  }
  throw new Error(`parsed: ${text.slice(0, 80)}`);
};

const nested = (n: number): string => `${'<a>'.repeat(n)}${'</a>'.repeat(n)}`;

describe('nesting', () => {
  it('takes an element with 256 open ancestors, refuses one with 257, as libxml2 does', () => {
    expect(XML_MAX_DEPTH).toBe(256);
    let e = parseXml(nested(XML_MAX_DEPTH + 1));
    let depth = 1;
    while (e.children.length > 0) {
      e = e.children[0] as typeof e;
      depth++;
    }
    expect(depth).toBe(XML_MAX_DEPTH + 1);
    const err = fails(nested(XML_MAX_DEPTH + 2));
    expect(err.code).toBe(VirErrorNumber.VIR_ERR_XML_DETAIL);
    expect(err.message).toContain('Excessive depth in document: 256 use XML_PARSE_HUGE option');
  });

  it('refuses 100,000 levels with the same error, not a stack overflow', () => {
    const err = fails(`<domain>${nested(100_000)}</domain>`);
    expect(err.code).toBe(VirErrorNumber.VIR_ERR_XML_DETAIL);
    expect(err.message).toContain('Excessive depth in document');
  });
});

describe('character references', () => {
  it.each([
    ['&#x0;', 0],
    ['&#0;', 0],
    ['&#x1;', 1],
    ['&#xD800;', 0xd800],
    ['&#xFFFE;', 0xfffe],
    ['&#x110000;', 0x110000],
    ['&#99999999999999999999;', 0x110000],
  ])('%s is refused, as libxml2 refuses it', (ref, value) => {
    for (const doc of [`<a>x${ref}y</a>`, `<a b='x${ref}y'/>`]) {
      const err = fails(doc);
      expect(err.code).toBe(VirErrorNumber.VIR_ERR_XML_DETAIL);
      expect(err.message).toContain(`xmlParseCharRef: invalid xmlChar value ${value}`);
    }
  });

  it.each([
    ['&#x9;', '\t'],
    ['&#10;', '\n'],
    ['&#xE000;', '\ue000'],
    ['&#x10FFFF;', '\u{10ffff}'],
    ['&#x1F642;', '🙂'],
  ])('%s is the character it names', (ref, ch) => {
    expect(parseXml(`<a>${ref}</a>`).children).toEqual([ch]);
  });
});

describe('attributes', () => {
  const tag = (n: number, dup = false): string =>
    `<a${Array.from({ length: n }, (_, i) => ` k${i}='${i}'`).join('')}${dup ? ` k${n - 1}='again'` : ''}/>`;

  it('finds a repeated attribute at the end of 40,000', () => {
    expect(parseXml(tag(40_000)).attrs).toHaveLength(40_000);
    expect(fails(tag(40_000, true)).message).toContain('Attribute k39999 redefined');
  });

  it('reads 80,000 attributes in about the time of 8 x 10,000 (quadratic: 8 times that)', () => {
    const small = tag(10_000);
    const large = tag(80_000);
    // Equal amounts of work side by side, so a burst of load hits both alike.
    let a = Number.POSITIVE_INFINITY;
    let b = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 3; i++) {
      collectGarbage();
      let t = performance.now();
      for (let k = 0; k < 8; k++) parseXml(small);
      a = Math.min(a, performance.now() - t);
      collectGarbage();
      t = performance.now();
      parseXml(large);
      b = Math.min(b, performance.now() - t);
    }
    expect(b / a).toBeLessThan(4);
  });
});
