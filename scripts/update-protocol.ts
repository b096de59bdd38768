/**
 * Produces protocol/: facts-only copies of libvirt's RPC protocol (.x) files, the procedure
 * annotations as JSON, and the public API constants from include/libvirt/*.h as JSON.
 *
 * libvirt's comments and prose must not enter this repository, so every comment is dropped;
 * comments are only read to derive facts (procedure annotations, typed-parameter types).
 *
 * Usage: scripts/update-protocol [--check] [--src DIR] [VERSION]
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const DEFAULT_VERSION = '11.3.0';

/** sha256 of Debian's libvirt_<version>.orig.tar.xz, by libvirt version. */
const KNOWN_SHA256: Readonly<Record<string, string>> = {
  '11.3.0': '6bcb0c42c4580436fea262ced56f68a6afe20f7390b1bea2116718cc034a0283',
};

/** The Debian suite that carries the libvirt version we want. */
const DEBIAN_SUITE = 'trixie';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PROTOCOL_DIR = join(REPO_ROOT, 'protocol');

interface XFile {
  out: string;
  src: string;
  /** Program key in procedures.json and the name of its procedure enum. */
  program?: { key: string; enumName: string; annotated: boolean };
}

const X_FILES: readonly XFile[] = [
  { out: 'virnet.x', src: 'src/rpc/virnetprotocol.x' },
  {
    out: 'keepalive.x',
    src: 'src/rpc/virkeepaliveprotocol.x',
    program: { key: 'keepalive', enumName: 'keepalive_procedure', annotated: false },
  },
  {
    out: 'remote.x',
    src: 'src/remote/remote_protocol.x',
    program: { key: 'remote', enumName: 'remote_procedure', annotated: true },
  },
  {
    out: 'qemu.x',
    src: 'src/remote/qemu_protocol.x',
    program: { key: 'qemu', enumName: 'qemu_procedure', annotated: true },
  },
  {
    out: 'lxc.x',
    src: 'src/remote/lxc_protocol.x',
    program: { key: 'lxc', enumName: 'lxc_procedure', annotated: true },
  },
  {
    out: 'admin.x',
    src: 'src/admin/admin_protocol.x',
    program: { key: 'admin', enumName: 'admin_procedure', annotated: true },
  },
];

const PROGRAM_ORDER = ['remote', 'qemu', 'lxc', 'admin', 'keepalive'] as const;

const HEADER_DIR = 'include/libvirt';
/** Template header: installed as libvirt-common.h, and it defines public enums. */
const HEADER_TEMPLATES: Readonly<Record<string, string>> = {
  'libvirt-common.h.in': 'libvirt-common.h',
};

const GENERATED_FILES = [
  'SOURCE',
  ...X_FILES.map((f) => f.out),
  'procedures.json',
  'api.json',
] as const;

class UpdateError extends Error {}

function fail(message: string): never {
  throw new UpdateError(message);
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// C-like lexing: separate comments (and rpcgen `%` passthrough lines) from code.

interface Segment {
  kind: 'code' | 'comment' | 'percent';
  start: number;
  end: number;
}

function lexC(text: string, percentLines: boolean): Segment[] {
  const segments: Segment[] = [];
  let codeStart = 0;
  let i = 0;
  const pushCode = (end: number) => {
    if (end > codeStart) segments.push({ kind: 'code', start: codeStart, end });
  };
  while (i < text.length) {
    const c = text[i];
    const atLineStart = i === 0 || text[i - 1] === '\n';
    if (percentLines && atLineStart && c === '%') {
      pushCode(i);
      let end = text.indexOf('\n', i);
      if (end === -1) end = text.length;
      segments.push({ kind: 'percent', start: i, end });
      i = end;
      codeStart = i;
    } else if (c === '/' && text[i + 1] === '*') {
      pushCode(i);
      const close = text.indexOf('*/', i + 2);
      if (close === -1) fail(`unterminated comment at offset ${i}`);
      segments.push({ kind: 'comment', start: i, end: close + 2 });
      i = close + 2;
      codeStart = i;
    } else if (c === '/' && text[i + 1] === '/') {
      pushCode(i);
      let end = text.indexOf('\n', i);
      if (end === -1) end = text.length;
      segments.push({ kind: 'comment', start: i, end });
      i = end;
      codeStart = i;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < text.length && text[j] !== c && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
      if (text[j] !== c) fail(`unterminated ${c} literal at offset ${i}`);
      i = j + 1;
    } else {
      i++;
    }
  }
  pushCode(text.length);
  return segments;
}

/** Code with every comment and `%` line replaced by spaces: offsets and line breaks are kept. */
function blankComments(text: string, segments: readonly Segment[]): string {
  let out = '';
  for (const s of segments) {
    const part = text.slice(s.start, s.end);
    out += s.kind === 'code' ? part : part.replace(/[^\n]/g, ' ');
  }
  return out;
}

function expandTabs(line: string): string {
  let out = '';
  for (const ch of line) {
    if (ch === '\t') out += ' '.repeat(8 - (out.length % 8));
    else out += ch;
  }
  return out;
}

/** The declarations of an .x file: no comments, no `%` lines, tidy whitespace. */
function stripXFile(text: string, version: string, srcPath: string): string {
  const segments = lexC(text, true);
  let code = '';
  for (const s of segments) {
    const part = text.slice(s.start, s.end);
    if (s.kind === 'code') {
      code += part;
      continue;
    }
    // Keep line structure; never let a removed comment glue two tokens together.
    const newlines = part.replace(/[^\n]/g, '');
    const before = code.length > 0 ? code[code.length - 1] : '\n';
    const after = s.end < text.length ? text[s.end] : '\n';
    const glue = newlines === '' && !/\s/.test(before ?? '\n') && !/\s/.test(after ?? '\n');
    code += glue ? ' ' : newlines;
  }
  const lines = code.split('\n').map((l) => expandTabs(l).replace(/\s+$/, ''));
  // Blank lines carry no facts: keep single ones between declarations, none just inside braces.
  const out: string[] = [];
  for (const line of lines) {
    const prev = out[out.length - 1];
    if (line === '' && (prev === undefined || prev === '' || prev.endsWith('{'))) continue;
    if (/^\s*}/.test(line) && prev === '') out.pop();
    out.push(line);
  }
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  const header = `/* Generated by scripts/update-protocol from libvirt ${version} ${srcPath}. Facts only. */`;
  return `${header}\n\n${out.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// Integer constant expressions (enum values, numeric #defines).

type Resolver = (name: string) => bigint;

function tokenizeExpr(expr: string): string[] {
  const tokens: string[] = [];
  let rest = expr.trim();
  while (rest.length > 0) {
    const m =
      /^(?:0[xX][0-9a-fA-F]+|[0-9]+)[uUlL]*/.exec(rest) ??
      /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest) ??
      /^(?:<<|>>|[|&^+\-~*/%()])/.exec(rest);
    if (!m) fail(`cannot evaluate ${JSON.stringify(expr)}`);
    tokens.push(m[0]);
    rest = rest.slice(m[0].length).trimStart();
  }
  return tokens;
}

function parseIntLiteral(token: string): bigint {
  const digits = token.replace(/[uUlL]+$/, '');
  if (/^0[xX]/.test(digits)) return BigInt(digits);
  if (/^0[0-7]+$/.test(digits)) return BigInt(`0o${digits.slice(1)}`);
  if (/^[0-9]+$/.test(digits)) return BigInt(digits);
  return fail(`bad integer literal ${token}`);
}

/** Evaluates a C integer constant expression; names are looked up through `resolve`. */
function evaluate(expr: string, resolveName: Resolver): bigint {
  const tokens = tokenizeExpr(expr);
  if (tokens.length === 0) fail('empty expression');
  let pos = 0;
  const peek = () => tokens[pos];
  const binaryLevels: readonly (readonly string[])[] = [
    ['|'],
    ['^'],
    ['&'],
    ['<<', '>>'],
    ['+', '-'],
    ['*', '/', '%'],
  ];
  const apply = (op: string, a: bigint, b: bigint): bigint => {
    switch (op) {
      case '|':
        return a | b;
      case '^':
        return a ^ b;
      case '&':
        return a & b;
      case '<<':
        return a << b;
      case '>>':
        return a >> b;
      case '+':
        return a + b;
      case '-':
        return a - b;
      case '*':
        return a * b;
      case '/':
        if (b === 0n) fail(`division by zero in ${JSON.stringify(expr)}`);
        return a / b;
      case '%':
        if (b === 0n) fail(`division by zero in ${JSON.stringify(expr)}`);
        return a % b;
      default:
        return fail(`unknown operator ${op}`);
    }
  };
  const binary = (level: number): bigint => {
    const ops = binaryLevels[level];
    if (!ops) return unary();
    let value = binary(level + 1);
    for (let op = peek(); op !== undefined && ops.includes(op); op = peek()) {
      pos++;
      value = apply(op, value, binary(level + 1));
    }
    return value;
  };
  const unary = (): bigint => {
    const t = peek();
    if (t === '-' || t === '+' || t === '~') {
      pos++;
      const v = unary();
      return t === '-' ? -v : t === '~' ? ~v : v;
    }
    return primary();
  };
  const primary = (): bigint => {
    const t = tokens[pos++];
    if (t === undefined) return fail(`unexpected end of ${JSON.stringify(expr)}`);
    if (t === '(') {
      const v = binary(0);
      if (tokens[pos++] !== ')') fail(`missing ) in ${JSON.stringify(expr)}`);
      return v;
    }
    if (/^[0-9]/.test(t)) return parseIntLiteral(t);
    if (/^[A-Za-z_]/.test(t)) return resolveName(t);
    return fail(`unexpected ${t} in ${JSON.stringify(expr)}`);
  };
  const value = binary(0);
  if (pos !== tokens.length) fail(`trailing tokens in ${JSON.stringify(expr)}`);
  return value;
}

function toJsonNumber(name: string, v: bigint): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) fail(`${name} = ${v} does not fit in a JSON number`);
  return n;
}

// ---------------------------------------------------------------------------------------------
// procedures.json

type ProcedureEntry = Record<string, number | string | string[]>;

const ANNOTATION_ORDER = [
  'generate',
  'acl',
  'aclfilter',
  'priority',
  'readstream',
  'writestream',
  'sparseflag',
];
const LIST_ANNOTATIONS = new Set(['acl', 'aclfilter']);
const NUMBER_ANNOTATIONS = new Set(['readstream', 'writestream']);

function parseAnnotations(comment: string, member: string): Map<string, string[]> {
  const body = comment.replace(/^\/\*\*/, '').replace(/\*\/$/, '');
  const found = new Map<string, string[]>();
  for (const raw of body.split('\n')) {
    const line = raw.replace(/^\s*\*?\s?/, '').trim();
    if (line === '') continue;
    const m = /^@([A-Za-z_]+):\s*(.*)$/.exec(line);
    if (!m) {
      // Prose is never stored; say so, so that a new annotation style gets noticed.
      process.stderr.write(`update-protocol: ignoring non-annotation text before ${member}\n`);
      continue;
    }
    const [, key = '', value = ''] = m;
    if (value === '') fail(`empty @${key} before ${member}`);
    const list = found.get(key) ?? [];
    list.push(value);
    found.set(key, list);
  }
  return found;
}

function procedureEntry(
  number: number,
  annotations: Map<string, string[]>,
  member: string,
): ProcedureEntry {
  const entry: ProcedureEntry = { number };
  const keys = [...annotations.keys()].sort((a, b) => {
    const ia = ANNOTATION_ORDER.indexOf(a);
    const ib = ANNOTATION_ORDER.indexOf(b);
    if (ia !== ib) return (ia === -1 ? Infinity : ia) - (ib === -1 ? Infinity : ib);
    return byCodeUnit(a, b);
  });
  for (const key of keys) {
    const values = annotations.get(key) ?? [];
    if (LIST_ANNOTATIONS.has(key)) {
      entry[key] = values;
      continue;
    }
    if (values.length !== 1) fail(`@${key} given ${values.length} times before ${member}`);
    const value = values[0] ?? '';
    if (NUMBER_ANNOTATIONS.has(key)) {
      if (!/^[0-9]+$/.test(value)) fail(`@${key}: ${value} before ${member} is not a number`);
      entry[key] = Number(value);
    } else {
      entry[key] = value;
    }
  }
  return entry;
}

function parseProcedures(
  text: string,
  enumName: string,
  annotated: boolean,
  srcPath: string,
): Map<string, ProcedureEntry> {
  const segments = lexC(text, true);
  const code = blankComments(text, segments);
  const head = new RegExp(`\\benum\\s+${enumName}\\s*\\{`).exec(code);
  if (!head) fail(`enum ${enumName} not found in ${srcPath}`);
  const bodyStart = head.index + head[0].length;
  const bodyEnd = code.indexOf('}', bodyStart);
  if (bodyEnd === -1) fail(`enum ${enumName} in ${srcPath} is not closed`);
  const comments = segments.filter(
    (s) => s.kind === 'comment' && s.start >= bodyStart && s.end <= bodyEnd,
  );

  const procs: { name: string; number: number; entry: ProcedureEntry }[] = [];
  const seen = new Set<number>();
  let previous: bigint | undefined;
  let offset = bodyStart;
  for (const part of code.slice(bodyStart, bodyEnd).split(',')) {
    const partStart = offset;
    offset += part.length + 1;
    if (part.trim() === '') continue;
    const m = /^(\s*)([A-Za-z_][A-Za-z0-9_]*)\s*(?:=\s*([\s\S]*\S))?\s*$/.exec(part);
    if (!m) fail(`cannot parse ${JSON.stringify(part.trim())} in enum ${enumName}`);
    const [, indent = '', name = '', expr] = m;
    const value =
      expr === undefined
        ? previous === undefined
          ? 0n
          : previous + 1n
        : evaluate(expr, (n) => fail(`${name}: unknown name ${n}`));
    previous = value;
    const number = toJsonNumber(name, value);
    if (seen.has(number)) fail(`procedure number ${number} used twice in ${enumName}`);
    seen.add(number);

    const nameStart = partStart + indent.length;
    const doc = comments
      .filter(
        (c) =>
          c.end <= nameStart &&
          text.slice(c.end, nameStart).trim() === '' &&
          text.startsWith('/**', c.start),
      )
      .at(-1);
    if (annotated && !doc) fail(`${name} in ${srcPath} has no annotation block`);
    const annotations = doc
      ? parseAnnotations(text.slice(doc.start, doc.end), name)
      : new Map<string, string[]>();
    if (annotated && !annotations.has('generate')) fail(`${name} in ${srcPath} has no @generate`);
    procs.push({ name, number, entry: procedureEntry(number, annotations, name) });
  }
  procs.sort((a, b) => a.number - b.number);
  return new Map(procs.map((p) => [p.name, p.entry]));
}

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

type ParamType = 'int' | 'uint' | 'llong' | 'ullong' | 'double' | 'boolean' | 'string';

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

interface StringFact {
  value: string;
  header: string;
  type: ParamType | null;
  multiple?: true;
}

interface Api {
  libvirt: string;
  enums: Record<string, { header: string; members: Record<string, number> }>;
  constants: Record<string, number>;
  strings: Record<string, StringFact>;
}

function buildApi(srcDir: string, version: string): Api {
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

  return { libvirt: version, enums, constants, strings };
}

const MIGRATION_PARAMS_FILE = 'src/qemu/qemu_migration.h';

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

// ---------------------------------------------------------------------------------------------
// Sanity checks for the version this project was written against.

function checkFacts(
  version: string,
  procedures: Record<string, Record<string, ProcedureEntry>>,
  api: Api,
): void {
  if (version !== '11.3.0') return;
  const problems: string[] = [];
  const expect = (what: string, actual: unknown, expected: unknown) => {
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      problems.push(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
    }
  };
  const counts = { remote: 453, qemu: 7, lxc: 1, admin: 20, keepalive: 2 };
  for (const [key, n] of Object.entries(counts)) {
    expect(`number of ${key} procedures`, Object.keys(procedures[key] ?? {}).length, n);
  }
  expect(
    'REMOTE_PROC_DOMAIN_MIGRATE_START_POST_COPY',
    procedures['remote']?.['REMOTE_PROC_DOMAIN_MIGRATE_START_POST_COPY']?.['number'],
    364,
  );
  const member = (e: string, m: string) => api.enums[e]?.members[m];
  expect('VIR_MIGRATE_POSTCOPY', member('virDomainMigrateFlags', 'VIR_MIGRATE_POSTCOPY'), 32768);
  expect(
    'VIR_MIGRATE_POSTCOPY_RESUME',
    member('virDomainMigrateFlags', 'VIR_MIGRATE_POSTCOPY_RESUME'),
    524288,
  );
  expect('VIR_ERR_NO_DOMAIN', member('virErrorNumber', 'VIR_ERR_NO_DOMAIN'), 42);
  expect('VIR_FROM_QEMU', member('virErrorDomain', 'VIR_FROM_QEMU'), 10);
  expect('VIR_TYPED_PARAM_STRING', member('virTypedParameterType', 'VIR_TYPED_PARAM_STRING'), 7);
  expect(
    'VIR_CONNECT_LIST_DOMAINS_ACTIVE',
    member('virConnectListAllDomainsFlags', 'VIR_CONNECT_LIST_DOMAINS_ACTIVE'),
    1,
  );
  expect(
    'VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY',
    member('virDomainEventSuspendedDetailType', 'VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY'),
    7,
  );
  expect('VIR_UUID_BUFLEN', api.constants['VIR_UUID_BUFLEN'], 16);
  expect('VIR_SECURITY_LABEL_BUFLEN', api.constants['VIR_SECURITY_LABEL_BUFLEN'], 4097);
  const postcopy = api.strings['VIR_MIGRATE_PARAM_BANDWIDTH_POSTCOPY'];
  expect(
    'VIR_MIGRATE_PARAM_BANDWIDTH_POSTCOPY',
    [postcopy?.value, postcopy?.type],
    ['bandwidth.postcopy', 'ullong'],
  );
  expect(
    'VIR_DOMAIN_JOB_MEMORY_POSTCOPY_REQS type',
    api.strings['VIR_DOMAIN_JOB_MEMORY_POSTCOPY_REQS']?.type,
    'ullong',
  );
  expect(
    'VIR_MIGRATE_PARAM_MIGRATE_DISKS multiple',
    api.strings['VIR_MIGRATE_PARAM_MIGRATE_DISKS']?.multiple,
    true,
  );
  if (problems.length > 0) {
    fail(`libvirt ${version} facts are not as expected:\n  ${problems.join('\n  ')}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Generation

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

function sourceFile(version: string, sha256: string): string {
  const lines = [`libvirt ${version}`, `sha256 ${sha256}  ${tarballName(version)}`];
  for (const f of X_FILES) lines.push(`${f.out.padEnd(13)}${f.src}`);
  const templates = Object.keys(HEADER_TEMPLATES)
    .map((t) => `, ${HEADER_DIR}/${t}`)
    .join('');
  lines.push(`${'api.json'.padEnd(13)}${HEADER_DIR}/*.h${templates}, ${MIGRATION_PARAMS_FILE}`);
  return `${lines.join('\n')}\n`;
}

function generate(srcDir: string, version: string, sha256: string): Map<string, string> {
  const out = new Map<string, string>();
  out.set('SOURCE', sourceFile(version, sha256));
  const procedures: Record<string, Record<string, ProcedureEntry>> = {};
  const byKey = new Map<string, Map<string, ProcedureEntry>>();
  for (const f of X_FILES) {
    const path = join(srcDir, f.src);
    if (!existsSync(path)) fail(`${f.src} not found under ${srcDir}`);
    const text = readFileSync(path, 'utf8');
    out.set(f.out, stripXFile(text, version, f.src));
    if (f.program) {
      byKey.set(
        f.program.key,
        parseProcedures(text, f.program.enumName, f.program.annotated, f.src),
      );
    }
  }
  for (const key of PROGRAM_ORDER) {
    procedures[key] = Object.fromEntries(byKey.get(key) ?? fail(`no procedures for ${key}`));
  }
  out.set('procedures.json', json(procedures));
  const api = buildApi(srcDir, version);
  out.set('api.json', json(api));
  checkFacts(version, procedures, api);
  for (const name of GENERATED_FILES) if (!out.has(name)) fail(`internal: ${name} not generated`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Getting the source

function tarballName(version: string): string {
  return `libvirt_${version}.orig.tar.xz`;
}

function sha256Of(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function run(
  cmd: string,
  args: readonly string[],
  cwd?: string,
): { status: number; stdout: string } {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) fail(`${cmd}: ${r.error.message}`);
  return { status: r.status ?? 1, stdout: r.stdout };
}

/** First URI of the machine's main Debian archive (not -security), from its apt config. */
function debianMirror(): { uri: string; signedBy: string | undefined } {
  const candidates: { uri: string; suites: string[]; signedBy: string | undefined }[] = [];
  const list = '/etc/apt/sources.list';
  if (existsSync(list)) {
    for (const raw of readFileSync(list, 'utf8').split('\n')) {
      const line = raw.replace(/#.*/, '').trim();
      const m = /^deb(?:-src)?\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)/.exec(line);
      if (!m) continue;
      const signedBy = /(?:^|\s)signed-by=(\S+)/.exec(m[1] ?? '')?.[1];
      candidates.push({ uri: m[2] ?? '', suites: [m[3] ?? ''], signedBy });
    }
  }
  const partsDir = '/etc/apt/sources.list.d';
  const parts = existsSync(partsDir)
    ? readdirSync(partsDir)
        .filter((f) => f.endsWith('.sources'))
        .sort(byCodeUnit)
    : [];
  for (const file of parts) {
    const text = readFileSync(join(partsDir, file), 'utf8');
    for (const stanza of text.split(/\n\s*\n/)) {
      const fields = new Map<string, string>();
      let last: string | undefined;
      for (const line of stanza.split('\n')) {
        if (line.startsWith('#') || line.trim() === '') continue;
        if (/^\s/.test(line) && last) {
          fields.set(last, `${fields.get(last) ?? ''} ${line.trim()}`);
          continue;
        }
        const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
        if (!m) continue;
        last = (m[1] ?? '').toLowerCase();
        fields.set(last, (m[2] ?? '').trim());
      }
      if ((fields.get('enabled') ?? 'yes').toLowerCase() === 'no') continue;
      const uris = (fields.get('uris') ?? '').split(/\s+/).filter(Boolean);
      const suites = (fields.get('suites') ?? '').split(/\s+/).filter(Boolean);
      const signedBy = fields.get('signed-by');
      for (const uri of uris) {
        candidates.push({ uri, suites, signedBy: signedBy?.includes('\n') ? undefined : signedBy });
      }
    }
  }
  const main = candidates.find(
    (c) =>
      /\/debian\/?$/.test(c.uri) &&
      !c.suites.some((s) => s.endsWith('-security') || s.includes('/updates')),
  );
  if (!main) fail('no Debian archive found in /etc/apt/sources.list{,.d}; use --src DIR');
  return { uri: main.uri, signedBy: main.signedBy };
}

/** Downloads Debian's orig tarball with a private apt configuration; returns its path. */
function downloadTarball(version: string, work: string): string {
  const { uri, signedBy } = debianMirror();
  const keyring = signedBy ?? '/usr/share/keyrings/debian-archive-keyring.gpg';
  const sourcesDir = join(work, 'sources.list.d');
  for (const d of [sourcesDir, 'lists/partial', 'cache/archives/partial', 'download']) {
    mkdirSync(resolve(work, d), { recursive: true });
  }
  // apt drops privileges to _apt for downloads; let it reach the private directories.
  chmodSync(work, 0o755);
  chmodSync(join(work, 'download'), 0o777);
  writeFileSync(
    join(sourcesDir, `debian-${DEBIAN_SUITE}-src.sources`),
    [
      'Types: deb-src',
      `URIs: ${uri}`,
      `Suites: ${DEBIAN_SUITE}`,
      'Components: main',
      ...(existsSync(keyring) ? [`Signed-By: ${keyring}`] : []),
      '',
    ].join('\n'),
  );
  const opts = [
    '-o',
    'Dir::Etc::sourcelist=/dev/null',
    '-o',
    `Dir::Etc::sourceparts=${sourcesDir}`,
    '-o',
    `Dir::State::Lists=${join(work, 'lists')}`,
    '-o',
    `Dir::Cache=${join(work, 'cache')}`,
  ];
  process.stderr.write(`update-protocol: apt-get update (${DEBIAN_SUITE} sources from ${uri})\n`);
  if (run('apt-get', [...opts, '-q', 'update']).status !== 0) fail('apt-get update failed');

  const showsrc = run('apt-cache', [...opts, 'showsrc', 'libvirt']);
  if (showsrc.status !== 0) fail('apt-cache showsrc libvirt failed');
  const versions = [...showsrc.stdout.matchAll(/^Version:\s*(\S+)/gm)].map((m) => m[1] ?? '');
  const upstream = (v: string) => v.replace(/^[0-9]+:/, '').replace(/-[^-]*$/, '');
  const debVersion = versions.find((v) => upstream(v) === version);
  if (!debVersion) {
    fail(
      `Debian ${DEBIAN_SUITE} has no libvirt ${version} (has: ${versions.join(', ') || 'none'})`,
    );
  }

  const dl = join(work, 'download');
  process.stderr.write(`update-protocol: apt-get source --download-only libvirt=${debVersion}\n`);
  const got = run(
    'apt-get',
    [...opts, '-q', 'source', '--download-only', `libvirt=${debVersion}`],
    dl,
  );
  const tarball = join(dl, tarballName(version));
  if (!existsSync(tarball)) fail(`apt-get source did not fetch ${tarballName(version)}`);
  if (got.status !== 0) {
    process.stderr.write(
      `update-protocol: apt-get exited ${got.status}, but ${tarballName(version)} arrived; going on\n`,
    );
  }
  return tarball;
}

function verifiedSha256(tarball: string, version: string): string {
  const actual = sha256Of(tarball);
  const expected = KNOWN_SHA256[version];
  if (expected === undefined) {
    process.stderr.write(
      `update-protocol: no recorded sha256 for libvirt ${version}; computed ${actual}\n` +
        `update-protocol: recorded in protocol/SOURCE; add it to KNOWN_SHA256 in scripts/update-protocol.ts\n`,
    );
    return actual;
  }
  if (actual !== expected) {
    fail(`sha256 mismatch for ${tarball}: expected ${expected}, got ${actual}`);
  }
  return actual;
}

function extract(tarball: string, version: string, work: string): string {
  const dest = join(work, 'extract');
  mkdirSync(dest, { recursive: true });
  if (run('tar', ['-xJf', tarball, '-C', dest]).status !== 0) fail(`cannot extract ${tarball}`);
  const dir = join(dest, `libvirt-${version}`);
  if (!existsSync(dir)) fail(`${tarball} has no libvirt-${version}/ directory`);
  return dir;
}

function checkSourceVersion(srcDir: string, version: string): void {
  const meson = join(srcDir, 'meson.build');
  if (!existsSync(meson)) fail(`${srcDir} does not look like a libvirt source tree`);
  const found = /\bversion:\s*'([^']+)'/.exec(readFileSync(meson, 'utf8'))?.[1];
  if (found !== version) fail(`${srcDir} is libvirt ${found ?? '?'}, not ${version}`);
}

// ---------------------------------------------------------------------------------------------
// Main

interface Options {
  check: boolean;
  src: string | undefined;
  version: string;
}

function parseArgs(argv: readonly string[]): Options {
  let check = false;
  let src: string | undefined;
  let version: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--check') check = true;
    else if (a === '--src') {
      src = argv[++i];
      if (src === undefined) fail('--src needs a directory');
    } else if (a.startsWith('--src=')) src = a.slice('--src='.length);
    else if (a === '-h' || a === '--help') {
      process.stdout.write('usage: scripts/update-protocol [--check] [--src DIR] [VERSION]\n');
      process.exit(0);
    } else if (a.startsWith('-')) fail(`unknown option ${a}`);
    else if (version === undefined) version = a;
    else fail(`unexpected argument ${a}`);
  }
  version ??= DEFAULT_VERSION;
  if (!/^[0-9]+\.[0-9]+\.[0-9]+$/.test(version)) fail(`bad version ${version}`);
  return { check, src: src === undefined ? undefined : resolve(src), version };
}

function main(): number {
  const opts = parseArgs(process.argv.slice(2));
  const work = mkdtempSync(join(tmpdir(), 'virtwire-update-protocol-'));
  try {
    let srcDir: string;
    let sha256: string;
    if (opts.src !== undefined) {
      srcDir = opts.src;
      const beside = join(dirname(srcDir), tarballName(opts.version));
      if (existsSync(beside)) sha256 = verifiedSha256(beside, opts.version);
      else {
        sha256 =
          KNOWN_SHA256[opts.version] ??
          fail(`no recorded sha256 for ${opts.version} and no ${beside} to compute it from`);
      }
    } else {
      const tarball = downloadTarball(opts.version, work);
      sha256 = verifiedSha256(tarball, opts.version);
      srcDir = extract(tarball, opts.version, work);
    }
    checkSourceVersion(srcDir, opts.version);
    const files = generate(srcDir, opts.version, sha256);

    if (opts.check) {
      const outDir = join(work, 'protocol');
      mkdirSync(outDir);
      let same = true;
      for (const [name, content] of files) {
        writeFileSync(join(outDir, name), content);
        const current = join(PROTOCOL_DIR, name);
        if (existsSync(current) && readFileSync(current, 'utf8') === content) continue;
        same = false;
        const d = spawnSync(
          'diff',
          [
            '-u',
            '--label',
            `protocol/${name}`,
            '--label',
            `generated/${name}`,
            existsSync(current) ? current : '/dev/null',
            join(outDir, name),
          ],
          { encoding: 'utf8' },
        );
        process.stdout.write(d.stdout ?? '');
      }
      if (!same) {
        process.stderr.write('update-protocol: protocol/ is not reproducible\n');
        return 1;
      }
      process.stderr.write(`update-protocol: protocol/ matches libvirt ${opts.version}\n`);
      return 0;
    }

    mkdirSync(PROTOCOL_DIR, { recursive: true });
    for (const name of GENERATED_FILES) rmSync(join(PROTOCOL_DIR, name), { force: true });
    for (const [name, content] of files) writeFileSync(join(PROTOCOL_DIR, name), content);
    process.stderr.write(
      `update-protocol: wrote ${files.size} files to protocol/ from libvirt ${opts.version}\n`,
    );
    return 0;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

try {
  process.exitCode = main();
} catch (err) {
  if (!(err instanceof UpdateError)) throw err;
  process.stderr.write(`update-protocol: ${err.message}\n`);
  process.exitCode = 1;
}
