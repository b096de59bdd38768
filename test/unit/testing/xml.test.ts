/** The simulator's small XML reader and the domain definitions it extracts. */
import { describe, expect, it } from 'vitest';
import type { SimError } from '../../../src/testing/errors.js';
import {
  formatDomainXml,
  parseDomainXml,
  parseXml,
  SIM_XMLNS,
  textOf,
  type XmlElement,
} from '../../../src/testing/xml.js';

const fails = (text: string): SimError => {
  try {
    parseXml(text);
  } catch (e) {
    return e as SimError;
  }
  throw new Error(`parsed: ${text}`);
};

describe('parseXml', () => {
  it('reads elements, both quote styles, entities, character references, CDATA, comments and a prolog', () => {
    const e = parseXml(
      `<?xml version="1.0"?>\n<!-- c --><a x="1" y='&lt;2&gt;'><b>t &amp; &#65;&#x42;</b><![CDATA[<raw>]]><c/></a>\n`,
    );
    expect(e.name).toBe('a');
    expect(e.attrs).toEqual([
      ['x', '1'],
      ['y', '<2>'],
    ]);
    expect(textOf(e.children[0] as XmlElement)).toBe('t & AB');
    expect(e.children[1]).toBe('<raw>');
    expect(e.children[2]).toEqual({ name: 'c', attrs: [], children: [] });
  });

  it('reports where a document is broken, as libvirt relays libxml2 (VIR_ERR_XML_DETAIL)', () => {
    const e = fails('<domain>\n  <name>x</nam>\n</domain>');
    expect(e.code).toBe(35);
    expect(e.message).toBe(
      '(domain_definition):2: Opening and ending tag mismatch: name and nam\n  <name>x</nam>\n--------------^',
    );
    expect(fails('').message).toMatch(/Document is empty/);
    expect(fails('<a></a><b/>').message).toMatch(/Extra content at the end/);
    expect(fails('<a x=1/>').message).toMatch(/" or ' expected/);
    expect(fails('<a x="1" x="2"/>').message).toMatch(/Attribute x redefined/);
    expect(fails('<a>&nope;</a>').message).toMatch(/Entity 'nope' not defined/);
    expect(fails('<a>').message).toMatch(/Premature end of data in tag a/);
  });
});

describe('domain definitions', () => {
  it('takes name, uuid, memory in any unit, vcpu and the dirty rate; generates a UUID when absent', () => {
    const d = parseDomainXml(
      `<domain type='kvm'><name>vm</name><uuid>0123456789abcdef0123456789abcdef</uuid>` +
        `<memory unit='GiB'>2</memory><currentMemory unit='M'>1024</currentMemory><vcpu placement='static'>4</vcpu>` +
        `<metadata><sim:g xmlns:sim='${SIM_XMLNS}' dirtyRateMiBps='250'/></metadata></domain>`,
    );
    expect(d).toMatchObject({
      type: 'kvm',
      name: 'vm',
      memoryKiB: 2097152n,
      currentMemoryKiB: 1048576n,
      vcpus: 4,
      dirtyRateMiBps: 250,
    });
    expect(Buffer.from(d.uuid).toString('hex')).toBe('0123456789abcdef0123456789abcdef');
    expect(parseDomainXml('<domain><name>a</name><memory>1000</memory></domain>').memoryKiB).toBe(
      1000n,
    );
    expect(
      parseDomainXml("<domain><name>a</name><memory unit='KB'>1000</memory></domain>").memoryKiB,
    ).toBe(
      977n, // 1,000,000 bytes, rounded up to KiB
    );
    const u1 = parseDomainXml('<domain><name>a</name><memory>1</memory></domain>').uuid;
    const u2 = parseDomainXml('<domain><name>a</name><memory>1</memory></domain>').uuid;
    expect(u1).not.toEqual(u2);
  });

  it('refuses what libvirt refuses, with its codes', () => {
    const code = (xml: string): [number, string] => {
      try {
        parseDomainXml(xml);
      } catch (e) {
        return [(e as SimError).code, (e as SimError).message];
      }
      return [0, ''];
    };
    expect(code('<foo/>')).toEqual([
      27,
      "XML error: expecting root element of 'domain', not 'foo'",
    ]);
    expect(code('<domain><memory>1</memory></domain>')).toEqual([21, 'missing name information']);
    expect(code('<domain><name>a/b</name><memory>1</memory></domain>')[1]).toBe(
      "name a/b cannot contain '/'",
    );
    expect(code('<domain><name>a</name><uuid>xyz</uuid><memory>1</memory></domain>')).toEqual([
      1,
      'internal error: malformed uuid element',
    ]);
    expect(code('<domain><name>a</name></domain>')[1]).toMatch(/Memory size must be specified/);
    expect(code("<domain><name>a</name><memory unit='parsec'>1</memory></domain>")[1]).toMatch(
      /unknown unit 'parsec'/,
    );
    expect(code('<domain><name>a</name><memory>1</memory><vcpu>zero</vcpu></domain>')[1]).toMatch(
      /vcpus count must be an integer/,
    );
  });

  it('formats back with the id while running, and keeps the elements it does not know', () => {
    const d = parseDomainXml(
      `<domain type='qemu'><name>vm</name><memory unit='MiB'>64</memory><os><type>hvm</type></os>` +
        `<devices><disk type='file' device='disk'><source file='/a &amp; b.img'/></disk></devices></domain>`,
    );
    const running = formatDomainXml(d, 7);
    expect(running).toMatch(
      /^<domain type='qemu' id='7'>\n {2}<name>vm<\/name>\n {2}<uuid>[0-9a-f-]{36}<\/uuid>/,
    );
    expect(running).toContain("<memory unit='KiB'>65536</memory>");
    expect(running).toContain("<source file='/a &amp; b.img'/>");
    expect(formatDomainXml(d, null)).toMatch(/^<domain type='qemu'>/);
    // what it prints, it reads back the same
    const again = parseDomainXml(running);
    expect(again).toMatchObject({ name: 'vm', memoryKiB: 65536n, dirtyRateMiBps: 0 });
    expect(again.uuid).toEqual(d.uuid);
    expect(formatDomainXml(again, 7)).toBe(running);
  });
});
