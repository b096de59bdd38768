import type { Declaration, Definition, StructDef, UnionDef, Value } from './ast.js';
import { INLINE_STRING_MAX } from './emit-string.js';
import type { SymbolTable } from './model.js';
import { camelCase, pascalCase } from './names.js';

// Arrays of small structs and unions (names, UUIDs, typed parameters): the
// generated encodeEachX(w, a) writes each element in its "short form" straight
// into room checked against a local, through a cursor kept in a local and with
// every field written inline, as a hand-written encoder would: no room check,
// cursor update or read of the writer per field, no call or try/catch per
// element. The checks on each value stay; instead of throwing, a failed one
// (like anything longer than the short form: a long or non-ASCII string, an arm
// not covered) leaves the element to the type's regular encoder, which writes
// it or throws the error that names the field.

/** Fixed opaques longer than this have no short form (which writes them a word at a time). */
const SHORT_OPAQUE_MAX = 64;
/** Short forms larger than this are not worth it: the room checked for grows with it. */
const SHORT_SIZE_MAX = 1024;

const encName = (xdrName: string): string => `encode${pascalCase(xdrName)}`;
export const eachName = (xdrName: string): string => `encodeEach${pascalCase(xdrName)}`;

/** Bytes of a fixed-size primitive the writer has an `*At` call for; 0 for the others. */
export function fixedPrimSize(p: string): number {
  switch (p) {
    case 'int':
    case 'uint':
    case 'float':
    case 'bool':
      return 4;
    case 'hyper':
    case 'uhyper':
    case 'double':
      return 8;
    default:
      return 0;
  }
}

/** A cheap membership test for enum values: a range when contiguous, else comparisons. */
export function enumCheck(values: readonly number[], v: string): string {
  const sorted = [...new Set(values)].sort((a, b) => a - b);
  const lo = sorted[0]!;
  const hi = sorted[sorted.length - 1]!;
  if (hi - lo + 1 === sorted.length) return `${v} >= ${lo} && ${v} <= ${hi} && (${v} | 0) === ${v}`;
  return sorted.map((x) => `${v} === ${x}`).join(' || ');
}

/** The checks the short form makes of a primitive before writing it, and the write. */
const PRIM_SHORT: Readonly<Record<string, { bad: string; set: string }>> = {
  int: { bad: "typeof x !== 'number' || (x | 0) !== x", set: 'setInt32' },
  uint: { bad: "typeof x !== 'number' || x >>> 0 !== x", set: 'setUint32' },
  hyper: { bad: "typeof x !== 'bigint' || BigInt.asIntN(64, x) !== x", set: 'setBigInt64' },
  uhyper: { bad: "typeof x !== 'bigint' || BigInt.asUintN(64, x) !== x", set: 'setBigUint64' },
  float: { bad: "typeof x !== 'number'", set: 'setFloat32' },
  double: { bad: "typeof x !== 'number'", set: 'setFloat64' },
};

/**
 * Which structs and unions have a short form, its size, and the encodeEachX()
 * functions for the types of array elements: that is where the cost per
 * element adds up.
 */
export class ShortForms {
  private readonly sizes = new Map<string, number | null>();
  private readonly wanted = new Set<string>();

  constructor(private readonly symbols: SymbolTable) {
    for (const sym of symbols.all()) {
      for (const d of declarationsOf(sym.def)) {
        const u = symbols.unalias(d);
        if (u.form === 'fixed' || u.form === 'var') this.want(u);
      }
    }
  }

  private want(d: Declaration): void {
    const u = this.symbols.unalias(d);
    if (u.type.kind !== 'named') return;
    const k = this.symbols.kindOf(u.type);
    if ((k === 'struct' || k === 'union') && this.shortSize(u.type.name) !== null) {
      this.wanted.add(u.type.name);
    }
  }

  /** Whether arrays of `name` are written by encodeEachX(); its short form's size is shortSize(name). */
  has(name: string): boolean {
    return this.wanted.has(name);
  }

  /** The most bytes the short form of `name` takes, or null when it has none. */
  shortSize(name: string): number | null {
    if (this.sizes.has(name)) return this.sizes.get(name)!;
    this.sizes.set(name, null); // a recursive type has no short form
    const def = this.symbols.lookup(name).def;
    let size: number | null = null;
    if (def.kind === 'struct') {
      size = 0;
      for (const f of def.fields) {
        const s = this.declSize(f);
        if (s === null) {
          size = null;
          break;
        }
        size += s;
      }
    } else if (def.kind === 'union' && this.discKind(def) !== null) {
      const arms = def.arms.map((a) => this.declSize(a.decl)).filter((s) => s !== null);
      if (arms.length > 0) size = 4 + Math.max(...arms);
    }
    if (size !== null && size > SHORT_SIZE_MAX) size = null;
    this.sizes.set(name, size);
    return size;
  }

  private discKind(def: UnionDef): string | null {
    const disc = this.symbols.unalias(def.discriminant);
    if (disc.form !== 'single') return null;
    const k = disc.type.kind === 'prim' ? disc.type.prim : this.symbols.kindOf(disc.type);
    return k === 'int' || k === 'uint' || k === 'enum' ? k : null;
  }

  /** The short-form size of one field or arm, or null when it has none. */
  private declSize(d0: Declaration): number | null {
    const d = this.symbols.unalias(d0);
    const t = d.type;
    if (t.kind === 'prim') {
      if (t.prim === 'string') {
        if (d.form !== 'var') return null;
        return 4 + ((this.stringLimit(d) + 3) & ~3);
      }
      if (t.prim === 'opaque') {
        const n = d.form === 'fixed' ? this.num(d.size!) : 0;
        return n > 0 && n <= SHORT_OPAQUE_MAX && (n & 3) === 0 ? n : null;
      }
      if (d.form !== 'single') return null;
      if (t.prim === 'void') return 0;
      if (t.prim === 'bool') return 4;
      const size = fixedPrimSize(t.prim);
      return size === 0 ? null : size;
    }
    if (d.form !== 'single') return null;
    const k = this.symbols.kindOf(t);
    if (k === 'enum') return 4;
    if (k === 'struct' || k === 'union') return this.shortSize(t.name);
    return null;
  }

  private stringLimit(d: Declaration): number {
    return d.size ? Math.min(INLINE_STRING_MAX, this.num(d.size)) : INLINE_STRING_MAX;
  }

  private num(v: Value): number {
    return this.symbols.resolve(v);
  }

  /** `encodeEachX(w, a)` for a struct or union that has(). */
  emitEach(def: StructDef | UnionDef, T: string): string[] {
    const size = this.shortSize(def.name)!;
    const body: string[] = [];
    const off = this.putType(def, 'v', 0, 0, body);
    return [
      `export function ${eachName(def.name)}(w: XdrWriter, a: ${T}[]): void {`,
      'let p = w.cursor;',
      'let b = w.raw;',
      'let dv = w.data;',
      'let i = 0;',
      'try {',
      'for (; i < a.length; i++) {',
      'const v = a[i]!;',
      `short: if (p + ${size} <= b.length) {`,
      'let q = p;',
      ...body,
      `p = ${at(off)};`,
      'continue;',
      '}',
      'w.moveTo(p);',
      `${encName(def.name)}(w, v);`,
      // No room asked for here: near the end of the buffer the elements go through
      // their encoder, which grows it by what they need. Asking for a short form's
      // worth at the end of an array grew the buffer, a copy of the message, for
      // nothing (bench/xdr.ts --cold: one 72 KB buffer and a copy per message).
      'p = w.cursor;',
      'b = w.raw;',
      'dv = w.data;',
      '}',
      '} catch (err) {',
      // Only the short form throws something else (a TypeError reading a field
      // of null): the element's own encoder then names the field.
      'if (!(err instanceof XdrError)) {',
      'w.moveTo(p);',
      'try {',
      `${encName(def.name)}(w, a[i]!);`,
      '} catch (e) {',
      "throw xdrAt(e, '', '', i);",
      '}',
      '}',
      "throw xdrAt(err, '', '', i);",
      '}',
      'w.moveTo(p);',
      '}',
      '',
    ];
  }

  /**
   * Statements writing the struct or union `expr` at `q + off` in its short
   * form (`break short` when it has none); returns the offset after it from `q`,
   * which they move past anything of variable size.
   */
  private putType(
    def: StructDef | UnionDef,
    expr: string,
    off: number,
    depth: number,
    out: string[],
  ): number {
    if (def.kind === 'struct') {
      // a field's value is read once, into a local, when it is a struct
      const o = /^\w+$/.test(expr) ? expr : `o${depth}`;
      out.push('{');
      if (o !== expr) out.push(`const ${o} = ${expr};`);
      for (const f of def.fields)
        off = this.putDecl(f, `${o}.${camelCase(f.name)}`, off, depth, out);
      out.push('}');
      return off;
    }
    const [u, d] = [`u${depth}`, `d${depth}`];
    const dField = camelCase(def.discriminant.name);
    if (off !== 0) out.push(`q += ${off};`);
    out.push('{', `const ${u} = ${expr};`, `const ${d} = ${u}.${dField};`, `switch (${d}) {`);
    const T = pascalCase(def.name);
    for (const arm of def.arms) {
      if (this.declSize(arm.decl) === null) continue;
      for (const c of arm.cases) out.push(`case ${this.num(c)}:`);
      out.push('{', `dv.set${this.discKind(def) === 'uint' ? 'Uint32' : 'Int32'}(q, ${d});`);
      const labels = arm.cases.map((c) => this.num(c)).join(' | ');
      const f = arm.decl.name === '' ? '' : camelCase(arm.decl.name);
      const armExpr = `(${u} as Extract<${T}, { ${dField}: ${labels} }>).${f}`;
      const end = this.putDecl(arm.decl, armExpr, 4, depth, out);
      out.push(...(end === 0 ? [] : [`q += ${end};`]), 'break;', '}');
    }
    out.push('default:', 'break short;', '}', '}');
    return 0;
  }

  /** Statements writing one field or arm at `q + off`; returns the offset after it from `q`. */
  private putDecl(
    d0: Declaration,
    expr: string,
    off: number,
    depth: number,
    out: string[],
  ): number {
    const d = this.symbols.unalias(d0);
    const t = d.type;
    if (t.kind === 'prim') {
      switch (t.prim) {
        case 'void':
          return off;
        case 'string':
          out.push(...putString(expr, this.stringLimit(d), off));
          return 0;
        case 'opaque': {
          const n = this.num(d.size!);
          out.push(
            '{',
            `const x = ${expr};`,
            `if (!(x instanceof Uint8Array) || x.length !== ${n}) break short;`,
          );
          for (let i = 0; i < n; i += 4) {
            out.push(
              `dv.setInt32(${at(off + i)}, (x[${i}]! << 24) | (x[${i + 1}]! << 16) | (x[${i + 2}]! << 8) | x[${i + 3}]!);`,
            );
          }
          out.push('}');
          return off + n;
        }
        case 'bool':
          out.push(
            '{',
            `const x = ${expr};`,
            "if (typeof x !== 'boolean') break short;",
            `dv.setInt32(${at(off)}, x ? 1 : 0);`,
            '}',
          );
          return off + 4;
        default: {
          const w = PRIM_SHORT[t.prim]!;
          out.push('{', `const x = ${expr};`, `if (${w.bad}) break short;`);
          out.push(`dv.${w.set}(${at(off)}, x);`, '}');
          return off + fixedPrimSize(t.prim);
        }
      }
    }
    const def = this.symbols.lookup(t.name).def;
    if (def.kind === 'enum') {
      const values = def.members.map((m) => this.num(m.value));
      out.push('{', `const x = ${expr};`, `if (!(${enumCheck(values, 'x')})) break short;`);
      out.push(`dv.setInt32(${at(off)}, x);`, '}');
      return off + 4;
    }
    return this.putType(def as StructDef | UnionDef, expr, off, depth + 1, out);
  }
}

const at = (off: number): string => (off === 0 ? 'q' : `q + ${off}`);

/** A short ASCII string at `q + off`, leaving `q` after its padding; anything else breaks `short`. */
function putString(expr: string, limit: number, off: number): string[] {
  return [
    '{',
    `const s = ${expr};`,
    `if (typeof s !== 'string' || s.length > ${limit}) break short;`,
    ...(off === 0 ? [] : [`q += ${off};`]),
    'const n = s.length;',
    'for (let k = 0; k < n; k++) {',
    'const c = s.charCodeAt(k);',
    'if (c > 0x7f) break short;',
    'b[q + 4 + k] = c;',
    '}',
    'dv.setUint32(q, n);',
    'const t = q + ((n + 7) & ~3);',
    'for (q += 4 + n; q < t; q++) b[q] = 0;',
    '}',
  ];
}

function declarationsOf(def: Definition): Declaration[] {
  switch (def.kind) {
    case 'struct':
      return [...def.fields];
    case 'union':
      return [...def.arms.map((a) => a.decl), ...(def.defaultArm === null ? [] : [def.defaultArm])];
    case 'typedef':
      return [def.decl];
    default:
      return [];
  }
}
