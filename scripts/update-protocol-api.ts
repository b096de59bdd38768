/**
 * protocol/api.json: the public API constants of include/libvirt/*.h (enums, numeric and
 * string #defines) and the types of typed parameters, derived from the headers and, where
 * they say nothing, from the drivers' own tables.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  blankComments,
  byCodeUnit,
  evaluate,
  fail,
  lexC,
  toJsonNumber,
  UpdateError,
} from './update-protocol-c.js';
import { validatedParamTypes } from './update-protocol-params.js';

export const HEADER_DIR = 'include/libvirt';
/** Template header: installed as libvirt-common.h, and it defines public enums. */
export const HEADER_TEMPLATES: Readonly<Record<string, string>> = {
  'libvirt-common.h.in': 'libvirt-common.h',
};

// ---------------------------------------------------------------------------------------------
// api.json

interface Define {
  name: string;
  body: string;
  header: string;
  /** Offset of the line holding the directive, in the header's text. */
  offset: number;
  doc: string | undefined;
}

interface EnumDecl {
  name: string;
  header: string;
  members: { name: string; expr: string | undefined }[];
}

interface HeaderFacts {
  enums: EnumDecl[];
  defines: Define[];
}

/** Walks preprocessor lines: collects #defines, drops `#ifdef VIR_ENUM_SENTINELS` blocks. */
function scanHeader(text: string, header: string): HeaderFacts {
  const segments = lexC(text, false);
  const code = blankComments(text, segments);
  const comments = segments.filter((s) => s.kind === 'comment');

  const lines = code.split('\n');
  const keep: string[] = [];
  const defines: Define[] = [];
  const conditionals: boolean[] = [];
  let offset = 0;
  for (let i = 0; i < lines.length; i++) {
    const lineOffset = offset;
    let line = lines[i] ?? '';
    offset += line.length + 1;
    let span = 1;
    if (/^\s*#/.test(line)) {
      while (/\\\s*$/.test(line) && i + span < lines.length) {
        const next = lines[i + span] ?? '';
        offset += next.length + 1;
        line = line.replace(/\\\s*$/, ' ') + next;
        span++;
      }
      const inSentinel = conditionals.includes(true);
      const d = /^\s*#\s*([a-z]+)\s*(.*?)\s*$/.exec(line);
      const directive = d?.[1] ?? '';
      const arg = d?.[2] ?? '';
      if (directive === 'if' || directive === 'ifdef' || directive === 'ifndef') {
        conditionals.push(directive === 'ifdef' && arg === 'VIR_ENUM_SENTINELS');
      } else if (directive === 'endif') {
        if (conditionals.pop() === undefined) fail(`${header}: unbalanced #endif`);
      } else if (directive === 'define' && !inSentinel) {
        const m = /^([A-Za-z_][A-Za-z0-9_]*)(\(?)\s*(.*)$/.exec(arg);
        if (!m) fail(`${header}: cannot parse #define ${arg}`);
        const [, name = '', paren, body = ''] = m;
        if (paren === '') {
          const doc = comments
            .filter((c) => c.end <= lineOffset && text.slice(c.end, lineOffset).trim() === '')
            .at(-1);
          defines.push({
            name,
            body,
            header,
            offset: lineOffset,
            doc: doc ? text.slice(doc.start, doc.end) : undefined,
          });
        }
      }
      for (let k = 0; k < span; k++) keep.push('');
      i += span - 1;
      continue;
    }
    keep.push(conditionals.includes(true) ? '' : line);
  }
  if (conditionals.length !== 0) fail(`${header}: unbalanced #if`);

  const enumCode = keep.join('\n');
  const enums: EnumDecl[] = [];
  const enumRe =
    /\btypedef\s+enum\s*(?:[A-Za-z_][A-Za-z0-9_]*\s*)?\{([^{}]*)\}\s*([A-Za-z_][A-Za-z0-9_]*)\s*;/g;
  let claimed = 0;
  for (const m of enumCode.matchAll(enumRe)) {
    const [, body = '', name = ''] = m;
    claimed++;
    const members: EnumDecl['members'] = [];
    for (const part of body.split(',')) {
      if (part.trim() === '') continue;
      const mm = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:=\s*([\s\S]*\S))?\s*$/.exec(part);
      if (!mm) fail(`${header}: cannot parse member ${JSON.stringify(part.trim())} of ${name}`);
      members.push({ name: mm[1] ?? '', expr: mm[2] });
    }
    if (members.length === 0) fail(`${header}: enum ${name} has no members`);
    enums.push({ name, header, members });
  }
  // Any enum body the pattern above did not take would be silently lost: refuse instead.
  const bodies = [...enumCode.matchAll(/\benum\b[^;{}]*\{/g)].length;
  if (bodies !== claimed) fail(`${header}: ${bodies - claimed} enum declaration(s) not understood`);
  return { enums, defines };
}

export type ParamType = 'int' | 'uint' | 'llong' | 'ullong' | 'double' | 'boolean' | 'string';

/** How a header's doc comment names the type of a typed parameter. */
const TYPE_PATTERNS: readonly [RegExp, ParamType][] = [
  [/\bVIR_TYPED_PARAM_INT\b/, 'int'],
  [/\bVIR_TYPED_PARAM_UINT\b/, 'uint'],
  [/\bVIR_TYPED_PARAM_LLONG\b/, 'llong'],
  [/\bVIR_TYPED_PARAM_ULLONG\b/, 'ullong'],
  [/\bVIR_TYPED_PARAM_DOUBLE\b/, 'double'],
  [/\bVIR_TYPED_PARAM_BOOLEAN\b/, 'boolean'],
  [/\bVIR_TYPED_PARAM_STRING\b/, 'string'],
  [/\bas\s+(?:an?\s+)?(?:unsigned\s+long\s+long|ullong)\b/i, 'ullong'],
  [/\bas\s+(?:an?\s+)?(?:long\s+long|llong)\b/i, 'llong'],
  [/\bas\s+(?:an?\s+)?(?:unsigned\s+int(?:eger)?|uint)\b/i, 'uint'],
  [/\bas\s+(?:an?\s+)?int(?:eger)?\b/i, 'int'],
  [/\bas\s+(?:an?\s+)?double\b/i, 'double'],
  [/\bas\s+(?:an?\s+)?boolean\b/i, 'boolean'],
  [/\b(?:as|is)\s+(?:an?\s+)?string\b/i, 'string'],
];

/** A doc comment as one line of words, so phrases wrapped across lines still match. */
function docWords(doc: string): string {
  return doc
    .replace(/^\/\*+|\*+\/$/g, '')
    .split('\n')
    .map((l) => l.replace(/^\s*\*/, ''))
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function paramType(doc: string | undefined): ParamType | null {
  if (doc === undefined) return null;
  const words = docWords(doc);
  const types = new Set<ParamType>();
  for (const [re, type] of TYPE_PATTERNS) if (re.test(words)) types.add(type);
  return types.size === 1 ? ([...types][0] ?? null) : null;
}

function isMultiple(doc: string | undefined): boolean {
  return doc !== undefined && /\bmultiple (?:field|times)\b/i.test(docWords(doc));
}

export interface StringFact {
  value: string;
  header: string;
  type: ParamType | null;
  multiple?: true;
}

export interface Api {
  libvirt: string;
  enums: Record<string, { header: string; members: Record<string, number> }>;
  constants: Record<string, number>;
  strings: Record<string, StringFact>;
}

export function buildApi(srcDir: string, version: string): Api {
  const dir = join(srcDir, HEADER_DIR);
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.h') || f in HEADER_TEMPLATES)
    .sort(byCodeUnit);
  const facts = files.map((f) =>
    scanHeader(readFileSync(join(dir, f), 'utf8'), HEADER_TEMPLATES[f] ?? f),
  );

  // One namespace for enum members and macros, resolved on demand: members refer to other
  // enums' members and to macros from headers that sort later.
  type Sym =
    | { kind: 'member'; expr: string | undefined; prev: string | undefined }
    | { kind: 'define'; body: string }
    | { kind: 'ambiguous' };
  const symbols = new Map<string, Sym>();
  const declare = (name: string, sym: Sym) => {
    const old = symbols.get(name);
    if (old && JSON.stringify(old) !== JSON.stringify(sym)) {
      // A macro defined differently in #if branches (VIR_DEPRECATED) has no single value.
      if (old.kind === 'member' || sym.kind === 'member') fail(`${name} is declared twice`);
      symbols.set(name, { kind: 'ambiguous' });
      return;
    }
    symbols.set(name, sym);
  };
  for (const { enums, defines } of facts) {
    for (const e of enums) {
      let prev: string | undefined;
      for (const m of e.members) {
        declare(m.name, { kind: 'member', expr: m.expr, prev });
        prev = m.name;
      }
    }
    for (const d of defines) declare(d.name, { kind: 'define', body: d.body });
  }
  const values = new Map<string, bigint>();
  const inProgress = new Set<string>();
  const symbolValue = (name: string): bigint => {
    const known = values.get(name);
    if (known !== undefined) return known;
    const sym = symbols.get(name);
    if (!sym) return fail(`unknown name ${name}`);
    if (sym.kind === 'ambiguous') return fail(`${name} has several definitions`);
    if (inProgress.has(name)) return fail(`${name} is defined in terms of itself`);
    inProgress.add(name);
    try {
      let v: bigint;
      if (sym.kind === 'define') v = evaluate(sym.body, symbolValue);
      else if (sym.expr !== undefined) v = evaluate(sym.expr, symbolValue);
      else v = sym.prev === undefined ? 0n : symbolValue(sym.prev) + 1n;
      values.set(name, v);
      return v;
    } finally {
      inProgress.delete(name);
    }
  };

  const enums: Api['enums'] = {};
  const allEnums = facts.flatMap((f) => f.enums).sort((a, b) => byCodeUnit(a.name, b.name));
  for (const e of allEnums) {
    if (e.name in enums) fail(`enum ${e.name} is declared twice`);
    const members: Record<string, number> = {};
    for (const m of e.members) {
      try {
        members[m.name] = toJsonNumber(m.name, symbolValue(m.name));
      } catch (err) {
        fail(`${e.header}: ${e.name}.${m.name}: ${(err as Error).message}`);
      }
    }
    enums[e.name] = { header: e.header, members };
  }

  const constants: Record<string, number> = {};
  const strings: Record<string, StringFact> = {};
  const defines = facts.flatMap((f) => f.defines).sort((a, b) => byCodeUnit(a.name, b.name));
  for (const d of defines) {
    const str = /^"((?:[^"\\]|\\.)*)"$/.exec(d.body);
    if (str) {
      const raw = str[1] ?? '';
      if (raw.includes('\\')) fail(`${d.header}: ${d.name}: escapes in strings are not handled`);
      const fact: StringFact = { value: raw, header: d.header, type: paramType(d.doc) };
      if (isMultiple(d.doc)) fact.multiple = true;
      strings[d.name] = fact;
      continue;
    }
    if (d.body === '' || d.name in constants) continue;
    let v: bigint;
    try {
      v = symbolValue(d.name);
    } catch (err) {
      if (err instanceof UpdateError) continue; // not an integer constant (attributes, aliases of types, templates)
      throw err;
    }
    constants[d.name] = toJsonNumber(d.name, v);
  }

  // The migration parameters' types are stated as data in the QEMU driver's
  // parameter table (name, VIR_TYPED_PARAM_* [| VIR_TYPED_PARAM_MULTIPLE]);
  // where the header's prose names no type, this table is the authority.
  for (const [name, type, multiple] of migrationParamTypes(srcDir)) {
    const fact = strings[name];
    if (!fact) fail(`${MIGRATION_PARAMS_FILE} names ${name}, which no header defines`);
    if (fact.type !== null && fact.type !== type) {
      fail(`${name}: the header says ${fact.type}, ${MIGRATION_PARAMS_FILE} says ${type}`);
    }
    fact.type = type;
    if (multiple) fact.multiple = true;
  }

  // Where neither says, the type every driver validates the parameter as.
  for (const [name, v] of validatedParamTypes(srcDir)) {
    const fact = strings[name];
    if (!fact || fact.type !== null || v.types.size !== 1) continue;
    fact.type = [...v.types][0] as ParamType;
    if (v.multiple) fact.multiple = true;
  }

  return { libvirt: version, enums, constants, strings };
}

export const MIGRATION_PARAMS_FILE = 'src/qemu/qemu_migration.h';

/** (name, type, multiple) rows of the QEMU_MIGRATION_PARAMETERS table. */
function migrationParamTypes(srcDir: string): Array<[string, ParamType, boolean]> {
  const text = readFileSync(join(srcDir, MIGRATION_PARAMS_FILE), 'utf8');
  const start = text.indexOf('#define QEMU_MIGRATION_PARAMETERS');
  if (start < 0) fail(`${MIGRATION_PARAMS_FILE}: QEMU_MIGRATION_PARAMETERS not found`);
  const body = text.slice(start).split(/\bNULL\b/)[0] ?? '';
  const rows: Array<[string, ParamType, boolean]> = [];
  const re =
    /(VIR_MIGRATE_PARAM_[A-Z0-9_]+)\s*,\s*VIR_TYPED_PARAM_([A-Z]+)(\s*\|\s*\\?\s*VIR_TYPED_PARAM_MULTIPLE)?/g;
  for (const m of body.matchAll(re))
    rows.push([m[1]!, m[2]!.toLowerCase() as ParamType, m[3] !== undefined]);
  if (rows.length < 20)
    fail(`${MIGRATION_PARAMS_FILE}: only ${rows.length} migration parameters found`);
  return rows;
}
