import { randomUUID } from 'node:crypto';
import { formatUuid, parseUuid } from '../api/names.js';
import { VirErrorDomain, VirErrorNumber } from '../generated/api.js';
import { libvirtError, SimError } from './errors.js';

/** One XML element: name, attributes in order, children (elements and text). */
export interface XmlElement {
  readonly name: string;
  readonly attrs: Array<[string, string]>;
  readonly children: XmlNode[];
}
export type XmlNode = XmlElement | string;

/** Namespace of the simulator's own element in a domain's `<metadata>`. */
export const SIM_XMLNS = 'urn:virtwire:simulator:1';

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/**
 * libxml2's nesting limit without XML_PARSE_HUGE, which libvirt does not
 * set: an element with more open ancestors than this is refused.
 */
export const XML_MAX_DEPTH = 256;

/** XML 1.0's Char production: what a character reference may name. */
const isXmlChar = (c: number): boolean =>
  c === 0x9 ||
  c === 0xa ||
  c === 0xd ||
  (c >= 0x20 && c <= 0xd7ff) ||
  (c >= 0xe000 && c <= 0xfffd) ||
  (c >= 0x10000 && c <= 0x10ffff);

/** A malformed document, reported as libxml2 errors reach libvirt's users (VIR_ERR_XML_DETAIL). */
function xmlDetail(text: string, pos: number, what: string): SimError {
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const lineStart = before.lastIndexOf('\n') + 1;
  const lineEnd = text.indexOf('\n', pos);
  const lineText = text.slice(lineStart, lineEnd < 0 ? undefined : lineEnd);
  const col = pos - lineStart;
  const msg = `(domain_definition):${line}: ${what}\n${lineText}\n${'-'.repeat(col)}^`;
  return new SimError(
    VirErrorNumber.VIR_ERR_XML_DETAIL,
    VirErrorDomain.VIR_FROM_DOMAIN,
    msg,
    '%s',
    msg,
  );
}

/**
 * A small, tolerant XML parser: elements, attributes (either quote), text,
 * the five named entities and character references, comments, CDATA,
 * processing instructions and a DOCTYPE are understood; nesting is checked.
 * Namespaces are kept as written (prefix:name).
 */
export function parseXml(text: string): XmlElement {
  let pos = 0;
  const n = text.length;
  const fail = (what: string, at = pos): never => {
    throw xmlDetail(text, Math.min(at, n), what);
  };
  const charRef = (digits: string, radix: number, at: number): string => {
    // Past U+10FFFF the value only matters for the message, which libxml2 caps the same way.
    const v = Math.min(Number.parseInt(digits, radix), 0x110000);
    if (!isXmlChar(v)) fail(`xmlParseCharRef: invalid xmlChar value ${v}`, at);
    return String.fromCodePoint(v);
  };
  const decode = (s: string, at: number): string =>
    s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);|&/g, (_m, ent: string | undefined) => {
      if (ent === undefined) return fail('xmlParseEntityRef: no name', at);
      if (ent.startsWith('#x')) return charRef(ent.slice(2), 16, at);
      if (ent.startsWith('#')) return charRef(ent.slice(1), 10, at);
      const v = ENTITIES[ent];
      return v ?? fail(`Entity '${ent}' not defined`, at);
    });
  const skipMisc = (): void => {
    for (;;) {
      while (pos < n && /\s/.test(text[pos]!)) pos++;
      if (text.startsWith('<?', pos)) {
        const e = text.indexOf('?>', pos);
        if (e < 0) fail('ParsePI: PI xml never end ...');
        pos = e + 2;
      } else if (text.startsWith('<!--', pos)) {
        const e = text.indexOf('-->', pos);
        if (e < 0) fail('Comment not terminated');
        pos = e + 3;
      } else if (text.startsWith('<!DOCTYPE', pos)) {
        const e = text.indexOf('>', pos);
        if (e < 0) fail('DOCTYPE improperly terminated');
        pos = e + 1;
      } else return;
    }
  };
  const NAME = /[A-Za-z_:][-A-Za-z0-9_:.]*/y;
  const readName = (): string => {
    NAME.lastIndex = pos;
    const m = NAME.exec(text);
    if (!m) return fail('StartTag: invalid element name');
    pos += m[0].length;
    return m[0];
  };
  /** One element and its content; `depth` counts its open ancestors. */
  const element = (depth: number): XmlElement => {
    if (text[pos] !== '<') fail("Start tag expected, '<' not found");
    if (depth > XML_MAX_DEPTH) {
      fail(`Excessive depth in document: ${XML_MAX_DEPTH} use XML_PARSE_HUGE option`);
    }
    pos++;
    const name = readName();
    const attrs: Array<[string, string]> = [];
    // A set beside the list: checking each new name against the list made
    // a tag with tens of thousands of attributes take seconds.
    const seen = new Set<string>();
    for (;;) {
      const ws = pos;
      while (pos < n && /\s/.test(text[pos]!)) pos++;
      if (pos >= n) fail(`Premature end of data in tag ${name} line 1`);
      if (text.startsWith('/>', pos)) {
        pos += 2;
        return { name, attrs, children: [] };
      }
      if (text[pos] === '>') {
        pos++;
        break;
      }
      if (pos === ws) fail('attributes construct error');
      const an = readName();
      while (pos < n && /\s/.test(text[pos]!)) pos++;
      if (text[pos] !== '=') fail(`Specification mandates value for attribute ${an}`);
      pos++;
      while (pos < n && /\s/.test(text[pos]!)) pos++;
      const q = text[pos];
      if (q !== '"' && q !== "'") fail('AttValue: " or \' expected');
      const e = text.indexOf(q!, pos + 1);
      if (e < 0) fail("AttValue: ' expected");
      if (seen.has(an)) fail(`Attribute ${an} redefined`);
      seen.add(an);
      attrs.push([an, decode(text.slice(pos + 1, e), pos)]);
      pos = e + 1;
    }
    const children: XmlNode[] = [];
    for (;;) {
      if (pos >= n) fail(`Premature end of data in tag ${name} line 1`);
      if (text.startsWith('</', pos)) {
        pos += 2;
        const close = readName();
        if (close !== name) fail(`Opening and ending tag mismatch: ${name} and ${close}`);
        while (pos < n && /\s/.test(text[pos]!)) pos++;
        if (text[pos] !== '>') fail(`expected '>'`);
        pos++;
        return { name, attrs, children };
      }
      if (text.startsWith('<!--', pos)) {
        const e = text.indexOf('-->', pos);
        if (e < 0) fail('Comment not terminated');
        pos = e + 3;
      } else if (text.startsWith('<![CDATA[', pos)) {
        const e = text.indexOf(']]>', pos);
        if (e < 0) fail('CData section not finished');
        children.push(text.slice(pos + 9, e));
        pos = e + 3;
      } else if (text.startsWith('<?', pos)) {
        const e = text.indexOf('?>', pos);
        if (e < 0) fail('ParsePI: PI never end ...');
        pos = e + 2;
      } else if (text[pos] === '<') {
        children.push(element(depth + 1));
      } else {
        const e = text.indexOf('<', pos);
        const raw = text.slice(pos, e < 0 ? n : e);
        children.push(decode(raw, pos));
        pos = e < 0 ? n : e;
      }
    }
  };
  skipMisc();
  if (pos >= n) fail('Document is empty');
  const root = element(0);
  skipMisc();
  if (pos < n) fail('Extra content at the end of the document');
  return root;
}

export function attr(e: XmlElement, name: string): string | undefined {
  for (const [k, v] of e.attrs) if (k === name) return v;
  return undefined;
}

export function child(e: XmlElement, name: string): XmlElement | undefined {
  for (const c of e.children) if (typeof c !== 'string' && c.name === name) return c;
  return undefined;
}

export function textOf(e: XmlElement): string {
  return e.children.filter((c): c is string => typeof c === 'string').join('');
}

const escText = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const escAttr = (s: string): string => escText(s).replace(/'/g, '&apos;');

/** Pretty-prints an element the way libvirt formats its XML (two-space indent, single quotes). */
export function formatXml(e: XmlElement, indent = ''): string {
  const attrs = e.attrs.map(([k, v]) => ` ${k}='${escAttr(v)}'`).join('');
  const kids = e.children.filter((c) => typeof c !== 'string' || c.trim() !== '');
  if (kids.length === 0) return `${indent}<${e.name}${attrs}/>\n`;
  if (kids.every((c) => typeof c === 'string')) {
    return `${indent}<${e.name}${attrs}>${escText((kids as string[]).join('').trim())}</${e.name}>\n`;
  }
  let out = `${indent}<${e.name}${attrs}>\n`;
  for (const c of kids) {
    out +=
      typeof c === 'string' ? `${indent}  ${escText(c.trim())}\n` : formatXml(c, `${indent}  `);
  }
  return `${out}${indent}</${e.name}>\n`;
}

/** What the simulator needs of a domain definition; the rest of the document is kept as written. */
export interface DomainDefinition {
  type: string;
  name: string;
  uuid: Uint8Array;
  /** Maximum memory, KiB. */
  memoryKiB: bigint;
  /** Current memory, KiB. */
  currentMemoryKiB: bigint;
  vcpus: number;
  /** Guest memory dirtied per second while running, MiB/s (the simulator's own metadata). */
  dirtyRateMiBps: number;
  /** The memory the dirtying touches, MiB: the most that is ever dirty at once (null: all of it). */
  dirtySetMiB: number | null;
  /** The parsed document, for formatting it back. */
  readonly tree: XmlElement;
}

const UNITS: Record<string, bigint> = {
  b: 1n,
  bytes: 1n,
  kb: 1000n,
  k: 1024n,
  kib: 1024n,
  mb: 1000n ** 2n,
  m: 1024n ** 2n,
  mib: 1024n ** 2n,
  gb: 1000n ** 3n,
  g: 1024n ** 3n,
  gib: 1024n ** 3n,
  tb: 1000n ** 4n,
  t: 1024n ** 4n,
  tib: 1024n ** 4n,
  pb: 1000n ** 5n,
  p: 1024n ** 5n,
  pib: 1024n ** 5n,
  eb: 1000n ** 6n,
  e: 1024n ** 6n,
  eib: 1024n ** 6n,
};

const xmlError = (detail: string): SimError =>
  libvirtError('VIR_ERR_XML_ERROR', 'VIR_FROM_DOMAIN', detail);

/** A `<memory unit='MiB'>128</memory>`-style size in KiB (libvirt's default unit is KiB, rounded up). */
function sizeKiB(e: XmlElement): bigint {
  const unitName = (attr(e, 'unit') ?? 'KiB').toLowerCase();
  const unit = UNITS[unitName];
  if (unit === undefined) throw xmlError(`unknown unit '${attr(e, 'unit')}' in <${e.name}>`);
  const t = textOf(e).trim();
  if (!/^[0-9]+$/.test(t)) {
    throw xmlError(`invalid value '${t}' for element <${e.name}>: expected a whole number`);
  }
  const bytes = BigInt(t) * unit;
  return (bytes + 1023n) / 1024n;
}

/**
 * Reads a domain definition from XML: `type`, `name`, `uuid` (generated when
 * absent), `memory` and `currentMemory` with their unit, `vcpu`, and the
 * simulator's dirty rate from `<metadata>`. Errors use libvirt's codes.
 */
export function parseDomainXml(text: string): DomainDefinition {
  const tree = parseXml(text);
  if (tree.name !== 'domain') {
    throw libvirtError(
      'VIR_ERR_XML_ERROR',
      'VIR_FROM_XML',
      `expecting root element of 'domain', not '${tree.name}'`,
    );
  }
  const nameEl = child(tree, 'name');
  const name = nameEl ? textOf(nameEl).trim() : '';
  if (!name) {
    throw new SimError(
      VirErrorNumber.VIR_ERR_NO_NAME,
      VirErrorDomain.VIR_FROM_DOMAIN,
      'missing name information',
      'missing name information',
      null,
    );
  }
  if (name.includes('/')) {
    throw libvirtError('VIR_ERR_XML_DETAIL', 'VIR_FROM_DOMAIN', `name ${name} cannot contain '/'`);
  }
  const uuidEl = child(tree, 'uuid');
  let uuid: Uint8Array;
  if (uuidEl) {
    const parsed = parseUuid(textOf(uuidEl));
    if (!parsed)
      throw libvirtError('VIR_ERR_INTERNAL_ERROR', 'VIR_FROM_DOMAIN', 'malformed uuid element');
    uuid = parsed;
  } else {
    uuid = parseUuid(randomUUID())!;
  }
  const memEl = child(tree, 'memory');
  if (!memEl) {
    throw xmlError('Memory size must be specified via <memory> or in the <numa> configuration');
  }
  const memoryKiB = sizeKiB(memEl);
  if (memoryKiB === 0n)
    throw xmlError('Memory size must be specified via <memory> or in the <numa> configuration');
  const curEl = child(tree, 'currentMemory');
  const cur = curEl ? sizeKiB(curEl) : memoryKiB;
  const vcpuEl = child(tree, 'vcpu');
  let vcpus = 1;
  if (vcpuEl) {
    const t = textOf(vcpuEl).trim();
    if (!/^[0-9]+$/.test(t) || Number(t) < 1) {
      throw xmlError(`maximum vcpus count must be an integer, got '${t}'`);
    }
    vcpus = Number(t);
  }
  let dirtyRateMiBps = 0;
  let dirtySetMiB: number | null = null;
  const sim = findSimMetadata(tree);
  if (sim) {
    const ws = attr(sim, 'dirtySetMiB');
    if (ws !== undefined) {
      const d = Number(ws);
      if (!Number.isFinite(d) || d <= 0) {
        throw xmlError(`invalid dirtySetMiB '${ws}' in the simulator's metadata`);
      }
      dirtySetMiB = d;
    }
    const v = attr(sim, 'dirtyRateMiBps');
    if (v !== undefined) {
      const d = Number(v);
      if (!Number.isFinite(d) || d < 0) {
        throw xmlError(`invalid dirtyRateMiBps '${v}' in the simulator's metadata`);
      }
      dirtyRateMiBps = d;
    }
  }
  return {
    type: attr(tree, 'type') ?? 'qemu',
    name,
    uuid,
    memoryKiB,
    currentMemoryKiB: minBig(cur, memoryKiB),
    vcpus,
    dirtyRateMiBps,
    dirtySetMiB,
    tree,
  };
}

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function findSimMetadata(tree: XmlElement): XmlElement | undefined {
  const md = child(tree, 'metadata');
  if (!md) return undefined;
  for (const c of md.children) {
    if (typeof c === 'string') continue;
    if (c.attrs.some(([k, v]) => k.startsWith('xmlns') && v === SIM_XMLNS)) return c;
  }
  return undefined;
}

/** The simulator's metadata element, which carries what XML has no place for (the dirty rate). */
function simMetadata(def: DomainDefinition): XmlElement {
  return {
    name: 'virtwire:sim',
    attrs: [
      ['xmlns:virtwire', SIM_XMLNS],
      ['dirtyRateMiBps', String(def.dirtyRateMiBps)],
      ...(def.dirtySetMiB !== null
        ? [['dirtySetMiB', String(def.dirtySetMiB)] as [string, string]]
        : []),
    ],
    children: [],
  };
}

const OWN = new Set(['name', 'uuid', 'metadata', 'memory', 'currentMemory', 'vcpu']);

/**
 * Formats a definition back to XML as libvirt would show it: `id` on the root
 * while running, name, uuid, metadata, sizes in KiB, vcpu, then every other
 * element of the original document in its order.
 */
export function formatDomainXml(def: DomainDefinition, id: number | null): string {
  const rootAttrs: Array<[string, string]> = [['type', def.type]];
  if (id !== null) rootAttrs.push(['id', String(id)]);
  for (const [k, v] of def.tree.attrs) if (k !== 'type' && k !== 'id') rootAttrs.push([k, v]);
  const md = child(def.tree, 'metadata');
  const mdKids: XmlNode[] = (md?.children ?? []).filter(
    (c) =>
      typeof c === 'string' || !c.attrs.some(([k, v]) => k.startsWith('xmlns') && v === SIM_XMLNS),
  );
  mdKids.push(simMetadata(def));
  const children: XmlNode[] = [
    { name: 'name', attrs: [], children: [def.name] },
    { name: 'uuid', attrs: [], children: [formatUuid(def.uuid)] },
    { name: 'metadata', attrs: md?.attrs ?? [], children: mdKids },
    { name: 'memory', attrs: [['unit', 'KiB']], children: [String(def.memoryKiB)] },
    { name: 'currentMemory', attrs: [['unit', 'KiB']], children: [String(def.currentMemoryKiB)] },
    { name: 'vcpu', attrs: [['placement', 'static']], children: [String(def.vcpus)] },
    ...def.tree.children.filter((c) => typeof c !== 'string' && !OWN.has(c.name)),
  ];
  return formatXml({ name: 'domain', attrs: rootAttrs, children });
}

/** A minimal domain XML for a simulator domain spec. */
export function specXml(spec: {
  name: string;
  uuid?: string | undefined;
  memoryMiB?: number | undefined;
  vcpus?: number | undefined;
  dirtyRateMiBps?: number | undefined;
  dirtySetMiB?: number | undefined;
}): string {
  const esc = (s: string) => escText(s);
  return [
    `<domain type='qemu'>`,
    `  <name>${esc(spec.name)}</name>`,
    spec.uuid !== undefined ? `  <uuid>${esc(spec.uuid)}</uuid>` : '',
    `  <metadata><virtwire:sim xmlns:virtwire='${SIM_XMLNS}' dirtyRateMiBps='${spec.dirtyRateMiBps ?? 0}'${spec.dirtySetMiB !== undefined ? ` dirtySetMiB='${spec.dirtySetMiB}'` : ''}/></metadata>`,
    `  <memory unit='MiB'>${spec.memoryMiB ?? 1024}</memory>`,
    `  <vcpu>${spec.vcpus ?? 1}</vcpu>`,
    `  <os><type arch='x86_64' machine='pc'>hvm</type></os>`,
    `</domain>`,
  ]
    .filter(Boolean)
    .join('\n');
}
