import type {
  Declaration,
  EnumDef,
  StructDef,
  TypedefDef,
  TypeSpec,
  UnionDef,
  Value,
} from './ast.js';
import { eachName, enumCheck, fixedPrimSize, ShortForms } from './emit-each.js';
import { emitProgram, type ProgramSpec } from './emit-program.js';
import { shortString, stringThenRoom } from './emit-string.js';
import type { Module, SymbolTable } from './model.js';
import { camelCase, pascalCase } from './names.js';

/** Bumped when the emitted code changes shape, so generated headers say which generator wrote them. */
export const GENERATOR_VERSION = '5';

const XDR_UNBOUNDED = 0xffffffff;

export type { ProcedureAnnotations, ProgramSpec } from './emit-program.js';

export interface EmitOptions {
  readonly module: Module;
  readonly symbols: SymbolTable;
  readonly sourcePath: string;
  readonly libvirtVersion: string;
  readonly program?: ProgramSpec;
}

/** Printing the XDR source form of a declaration, for JSDoc. */
export function printDecl(d: Declaration): string {
  const t = d.type.kind === 'prim' ? d.type.spelled : d.type.name;
  if (d.type.kind === 'prim' && d.type.prim === 'void') return 'void';
  const size = d.size ? ('num' in d.size ? String(d.size.num) : d.size.ref) : '';
  switch (d.form) {
    case 'single':
      return `${t} ${d.name}`;
    case 'optional':
      return `${t} *${d.name}`;
    case 'fixed':
      return `${t} ${d.name}[${size}]`;
    case 'var':
      return `${t} ${d.name}<${size}>`;
  }
}

const typeName = (xdrName: string): string => pascalCase(xdrName);
const encName = (xdrName: string): string => `encode${pascalCase(xdrName)}`;
const decName = (xdrName: string): string => `decode${pascalCase(xdrName)}`;

/**
 * Emits one TypeScript module for one .x file: types, straight-line codecs,
 * and, for a program, its procedure and event tables.
 */
export function emitModule(opts: EmitOptions): string {
  const { module: mod, symbols } = opts;
  const imports = new Map<string, Set<string>>();
  const body: string[] = [];
  let usesXdrError = false;

  const addImport = (module: string, what: string): void => {
    let set = imports.get(module);
    if (!set) {
      set = new Set();
      imports.set(module, set);
    }
    set.add(what);
  };
  const useType = (name: string): string => {
    const sym = symbols.lookup(name);
    if (sym.module !== mod.id) addImport(sym.module, `type ${typeName(name)}`);
    return typeName(name);
  };
  const useFn = (fn: string, name: string): string => {
    const sym = symbols.lookup(name);
    if (sym.module !== mod.id) addImport(sym.module, fn);
    return fn;
  };
  const num = (v: Value): number => symbols.resolve(v);

  // ---- TypeScript types -------------------------------------------------
  const tsBase = (t: TypeSpec): string => {
    if (t.kind === 'prim') {
      switch (t.prim) {
        case 'int':
        case 'uint':
        case 'float':
        case 'double':
          return 'number';
        case 'hyper':
        case 'uhyper':
          return 'bigint';
        case 'bool':
          return 'boolean';
        case 'opaque':
          return 'Uint8Array';
        case 'string':
          return 'string';
        case 'void':
          return 'undefined';
      }
    }
    const def = symbols.lookup(t.name).def;
    if (def.kind === 'typedef') return tsDecl(def.decl);
    return useType(t.name);
  };
  const tsDecl = (d: Declaration): string => {
    const isBytes =
      d.type.kind === 'prim' && (d.type.prim === 'opaque' || d.type.prim === 'string');
    if (isBytes) return tsBase(d.type);
    const base = tsBase(d.type);
    switch (d.form) {
      case 'single':
        return base;
      case 'optional':
        return base.includes('|') ? `${base} | null` : `${base} | null`;
      case 'fixed':
      case 'var':
        return base.includes(' ') ? `Array<${base}>` : `${base}[]`;
    }
  };

  // ---- codec statements --------------------------------------------------
  const puts = new ShortForms(symbols);
  // Statements are built as lines; `depth` keeps loop variables distinct.
  const decodeInto = (
    d0: Declaration,
    target: string,
    out: string[],
    depth: number,
    top: boolean,
  ): void => {
    const d = symbols.unalias(d0);
    const t = d.type;
    if (t.kind === 'prim' && t.prim === 'opaque') {
      const expr =
        d.form === 'fixed'
          ? `r.readFixedOpaque(${num(d.size!)})`
          : `r.readOpaque(${d.size ? num(d.size) : XDR_UNBOUNDED})`;
      out.push(`${target} = ${expr};`);
      return;
    }
    if (t.kind === 'prim' && t.prim === 'string') {
      out.push(`${target} = r.readString(${d.size ? num(d.size) : XDR_UNBOUNDED});`);
      return;
    }
    const single: Declaration = { name: d.name, type: t, form: 'single', size: null };
    switch (d.form) {
      case 'single': {
        if (t.kind === 'prim') {
          out.push(`${target} = ${readPrim(t.prim)};`);
        } else {
          const k = symbols.kindOf(t);
          if (k === 'typedef') {
            // A typedef of an array or optional: decode through its own declaration.
            decodeInto((symbols.lookup(t.name).def as TypedefDef).decl, target, out, depth, top);
          } else {
            out.push(`${target} = ${useFn(decName(t.name), t.name)}(r);`);
          }
        }
        return;
      }
      case 'optional': {
        out.push(`if (r.readPresent()) {`);
        decodeInto(single, target, out, depth, false);
        out.push(`} else ${target} = null;`);
        return;
      }
      case 'fixed':
      case 'var': {
        const i = `i${depth}`;
        const n = `n${depth}`;
        const a = `a${depth}`;
        out.push('{');
        if (d.form === 'fixed') out.push(`const ${n} = ${num(d.size!)};`);
        else {
          const max = d.size ? num(d.size) : XDR_UNBOUNDED;
          out.push(`const ${n} = r.readLength(${max}, ${Math.max(1, symbols.minSize(single))});`);
        }
        out.push(`const ${a}: ${tsDecl(single)}[] = new Array(${n});`);
        out.push(`for (let ${i} = 0; ${i} < ${n}; ${i}++) {`);
        if (top) out.push(`ix = ${i};`);
        decodeInto(single, `${a}[${i}]`, out, depth + 1, false);
        out.push('}');
        if (top) out.push('ix = -1;');
        out.push(`${target} = ${a};`, '}');
        return;
      }
    }
  };

  const encodeFrom = (
    d0: Declaration,
    expr: string,
    out: string[],
    depth: number,
    top: boolean,
  ): void => {
    const d = symbols.unalias(d0);
    const t = d.type;
    if (t.kind === 'prim' && t.prim === 'opaque') {
      out.push(
        d.form === 'fixed'
          ? `w.writeFixedOpaque(${expr}, ${num(d.size!)});`
          : `w.writeOpaque(${expr}, ${d.size ? num(d.size) : XDR_UNBOUNDED});`,
      );
      return;
    }
    if (t.kind === 'prim' && t.prim === 'string') {
      const max = d.size ? num(d.size) : XDR_UNBOUNDED;
      out.push(...shortString(expr, max));
      return;
    }
    const single: Declaration = { name: d.name, type: t, form: 'single', size: null };
    switch (d.form) {
      case 'single': {
        if (t.kind === 'prim') {
          if (t.prim !== 'void') out.push(`${writePrim(t.prim)}(${expr});`);
        } else if (symbols.kindOf(t) === 'typedef') {
          encodeFrom((symbols.lookup(t.name).def as TypedefDef).decl, expr, out, depth, top);
        } else {
          out.push(`${useFn(encName(t.name), t.name)}(w, ${expr});`);
        }
        return;
      }
      case 'optional': {
        const o = `o${depth}`;
        out.push('{', `const ${o} = ${expr};`);
        out.push(`if (w.writePresent(${o})) {`);
        encodeFrom(single, o, out, depth + 1, false);
        out.push('}', '}');
        return;
      }
      case 'fixed':
      case 'var': {
        const i = `i${depth}`;
        const a = `a${depth}`;
        out.push('{', `const ${a} = ${expr};`);
        if (d.form === 'fixed') out.push(`w.checkFixed(arrayLength(${a}), ${num(d.size!)});`);
        else out.push(`w.writeLength(arrayLength(${a}), ${d.size ? num(d.size) : XDR_UNBOUNDED});`);
        const el = symbols.unalias(single);
        if (el.type.kind === 'named' && puts.has(el.type.name)) {
          out.push(`${useFn(eachName(el.type.name), el.type.name)}(w, ${a});`, '}');
          return;
        }
        out.push(`for (let ${i} = 0; ${i} < ${a}.length; ${i}++) {`);
        if (top) out.push(`ix = ${i};`);
        encodeFrom(single, `${a}[${i}]!`, out, depth + 1, false);
        out.push('}');
        if (top) out.push('ix = -1;');
        out.push('}');
        return;
      }
    }
  };

  // A field of fixed size written with the writer's `*At` calls, or null.
  const fixedWrite = (
    d0: Declaration,
  ): { size: number; at: (p: string, e: string) => string } | null => {
    const d = symbols.unalias(d0);
    const t = d.type;
    if (t.kind !== 'prim') return null;
    if (t.prim === 'opaque') {
      if (d.form !== 'fixed') return null;
      const n = num(d.size!);
      // whole words only: no padding to write
      return n > 0 && (n & 3) === 0
        ? { size: n, at: (p, e) => `w.fixedOpaqueAt(dv, ${p}, ${e}, ${n});` }
        : null;
    }
    if (d.form !== 'single') return null;
    const size = fixedPrimSize(t.prim);
    return size === 0 ? null : { size, at: (p, e) => `w.${t.prim}At(dv, ${p}, ${e});` };
  };
  /** A string field's bound, or null when `d` is not a string. */
  const stringMax = (d0: Declaration): number | null => {
    const d = symbols.unalias(d0);
    const t = d.type;
    if (t.kind !== 'prim' || t.prim !== 'string') return null;
    return d.size ? num(d.size) : XDR_UNBOUNDED;
  };
  /**
   * A struct's fields, with each run of fixed-size ones claimed at once
   * (`w.claim`, two or more of them; after a string any number, claimed
   * together with the string's room) and written at offsets from a local
   * through a view read once per run, instead of a room check, a cursor update
   * and a read of the view per field.
   */
  const encodeFields = (
    fields: readonly Declaration[],
    expr: (f: Declaration) => string,
  ): string[] => {
    const out: string[] = [];
    for (let k = 0; k < fields.length; ) {
      const max = stringMax(fields[k]!);
      const first = max === null ? k : k + 1;
      let end = first;
      let size = 0;
      while (end < fields.length) {
        const fw = fixedWrite(fields[end]!);
        if (fw === null) break;
        size += fw.size;
        end++;
      }
      if (end - first < (max === null ? 2 : 1)) {
        const f = fields[k]!;
        out.push(`at = '${f.name}';`);
        encodeFrom(f, expr(f), out, 0, true);
        k++;
        continue;
      }
      out.push('{', `at = '${fields[k]!.name}';`);
      if (max === null) out.push(`const p = w.claim(${size});`);
      else out.push(...stringThenRoom(expr(fields[k]!), max, size));
      out.push('const dv = w.data;');
      let off = 0;
      for (let j = first; j < end; j++) {
        const f = fields[j]!;
        const fw = fixedWrite(f)!;
        if (j > k) out.push(`at = '${f.name}';`);
        out.push(fw.at(off === 0 ? 'p' : `p + ${off}`, expr(f)));
        off += fw.size;
      }
      out.push('}');
      k = end;
    }
    return out;
  };

  const usesArrays = { value: false };
  const usesPlain = { value: false };
  /** A struct constructor's name by its parameters and assignments. */
  const ctorOfShape = new Map<string, string>();
  const markArrays = (lines: string[]): string[] => {
    if (lines.some((l) => l.includes('arrayLength('))) usesArrays.value = true;
    return lines;
  };

  // ---- definitions -------------------------------------------------------
  const emitStruct = (def: StructDef): void => {
    const T = typeName(def.name);
    const seen = new Map<string, string>();
    for (const f of def.fields) {
      const c = camelCase(f.name);
      if (seen.has(c))
        throw new Error(`${def.name}: fields ${seen.get(c)} and ${f.name} both become ${c}`);
      seen.set(c, f.name);
    }
    body.push(`/** XDR \`struct ${def.name}\`. */`);
    body.push(`export interface ${T} {`);
    for (const f of def.fields) {
      body.push(`  /** \`${printDecl(f)}\` */`);
      body.push(`  ${camelCase(f.name)}: ${tsDecl(f)};`);
    }
    body.push('}', '');

    const enc = encodeFields(def.fields, (f) => `v.${camelCase(f.name)}`);
    body.push(`export function ${encName(def.name)}(w: XdrWriter, v: ${T}): void {`);
    body.push(`let at = '';`, 'let ix = -1;', 'try {', ...markArrays(enc));
    body.push(`} catch (e) {`, `throw xdrAt(e, '${def.name}', at, ix);`, '}', '}', '');
    if (puts.has(def.name)) {
      usesXdrError = true;
      body.push(...puts.emitEach(def, T));
    }

    const dec: string[] = [];
    const vars: string[] = [];
    def.fields.forEach((f, k) => {
      vars.push(`let f${k}: ${tsDecl(f)};`);
      dec.push(`at = '${f.name}';`);
      decodeInto(f, `f${k}`, dec, 0, true);
    });
    // A decoded struct is made by `new` on a module-private constructor, not by
    // an object literal: V8 gives each literal an allocation site and may
    // decide, once per process, from how many of a site's objects one early
    // scavenge found alive, to allocate all of them in the old generation from
    // then on (pretenuring), which made a decoder 2-6 times slower for the rest
    // of that process (bench/README.md). Objects made by `new` have no such site.
    // plain() (src/xdr/plain.ts) gives the constructor Object.prototype as its
    // prototype, so the values stay plain objects.
    let made = `{ ${def.fields.map((f, k) => `${camelCase(f.name)}: f${k}`).join(', ')} }`;
    if (def.fields.length > 0) {
      const params = def.fields.map((f, k) => `f${k}: ${tsDecl(f)}`).join(', ');
      const sets = def.fields.map((f, k) => `this.${camelCase(f.name)} = f${k};`).join(' ');
      // Structs with the same fields of the same types (35 of remote's are
      // `{ dom, flags }`) share the first one's constructor: its values have
      // the same type, structurally, and one function less to load.
      const shape = `${params}|${sets}`;
      let make = ctorOfShape.get(shape);
      if (make === undefined) {
        make = `new${T}`;
        ctorOfShape.set(shape, make);
        usesPlain.value = true;
        body.push(`const ${make} = plain(function (this: ${T}, ${params}) { ${sets} });`, '');
      }
      made = `new ${make}(${def.fields.map((_, k) => `f${k}`).join(', ')})`;
    }
    body.push(`export function ${decName(def.name)}(r: XdrReader): ${T} {`);
    body.push(`let at = '';`, 'let ix = -1;', ...vars, 'try {', ...dec, `return ${made};`);
    body.push(`} catch (e) {`, `throw xdrAt(e, '${def.name}', at, ix);`, '}', '}', '');
  };

  const emitUnion = (def: UnionDef): void => {
    const T = typeName(def.name);
    const disc = symbols.unalias(def.discriminant);
    const dk = disc.type.kind === 'prim' ? disc.type.prim : symbols.kindOf(disc.type);
    if (disc.form !== 'single' || !(dk === 'int' || dk === 'uint' || dk === 'enum')) {
      throw new Error(`${def.name}: only int, unsigned int and enum discriminants are supported`);
    }
    const dField = camelCase(def.discriminant.name);
    const armTypes: string[] = [];
    body.push(`/** XDR \`union ${def.name} switch (${printDecl(def.discriminant)})\`. */`);
    const labelOf = (v: Value): string => ('ref' in v ? ` /* ${v.ref} */` : '');
    for (const arm of def.arms) {
      const lits = arm.cases.map((c) => `${num(c)}${labelOf(c)}`).join(' | ');
      const field =
        arm.decl.name === '' ? '' : ` ${camelCase(arm.decl.name)}: ${tsDecl(arm.decl)};`;
      armTypes.push(`{ ${dField}: ${lits};${field} }`);
    }
    if (def.defaultArm) {
      const f = def.defaultArm;
      armTypes.push(
        `{ ${dField}: number;${f.name === '' ? '' : ` ${camelCase(f.name)}: ${tsDecl(f)};`} }`,
      );
    }
    body.push(`export type ${T} =`, ...armTypes.map((a) => `  | ${a}`));
    body[body.length - 1] += ';';
    body.push('');

    const discName = disc.type.kind === 'named' ? disc.type.name : '';
    const readDisc = dk === 'enum' ? `${useFn(decName(discName), discName)}(r)` : readPrim(dk);
    const writeDisc =
      dk === 'enum' ? `${useFn(encName(discName), discName)}(w, d)` : `${writePrim(dk)}(d)`;

    // With an int discriminant each arm writes it, together with a fixed-size arm's
    // value in one claimed run (a case label proves it an int); an enum's is checked first.
    const perArm = dk !== 'enum';
    const enc: string[] = [
      `const d = v.${dField};`,
      ...(perArm ? [] : [`${writeDisc};`]),
      'switch (d) {',
    ];
    const dec: string[] = [`const d = ${readDisc};`, 'switch (d) {'];
    // Each arm's values are made by `new` on a constructor of its own, as
    // structs are (see emitStruct): the discriminant first, then the arm's field.
    const makers: string[] = [];
    const maker = (
      name: string,
      self: string,
      cases: readonly number[] | null,
      field: string,
      fieldType: string,
    ): void => {
      const params: string[] = [];
      const sets: string[] = [];
      if (cases !== null && cases.length === 1) sets.push(`this.${dField} = ${cases[0]};`);
      else {
        params.push(`d: ${cases === null ? 'number' : cases.join(' | ')}`);
        sets.push(`this.${dField} = d;`);
      }
      if (field !== '') {
        params.push(`x: ${fieldType}`);
        sets.push(`this.${field} = x;`);
      }
      usesPlain.value = true;
      makers.push(
        `const ${name} = plain(function (${[`this: ${self}`, ...params].join(', ')}) { ${sets.join(' ')} });`,
      );
    };
    def.arms.forEach((arm, k) => {
      for (const c of arm.cases) {
        enc.push(`case ${num(c)}:`);
        dec.push(`case ${num(c)}:`);
      }
      const lit =
        arm.cases.length === 1
          ? String(num(arm.cases[0]!))
          : `d as ${arm.cases.map(num).join(' | ')}`;
      if (arm.decl.name === '') {
        if (perArm) enc.push(`${writeDisc};`);
        enc.push('return;');
        const make = `new${T}Arm${k}`;
        const cases = arm.cases.map(num);
        maker(make, `Extract<${T}, { ${dField}: ${cases.join(' | ')} }>`, cases, '', '');
        dec.push(`return new ${make}(${cases.length === 1 ? '' : lit});`);
      } else {
        const f = camelCase(arm.decl.name);
        const armExpr = `(v as Extract<${T}, { ${dField}: ${arm.cases.map(num).join(' | ')} }>).${f}`;
        const fw = perArm ? fixedWrite(arm.decl) : null;
        if (fw !== null) {
          enc.push(
            `{`,
            `const p = w.claim(${4 + fw.size});`,
            'const dv = w.data;',
            `dv.set${dk === 'int' ? 'Int32' : 'Uint32'}(p, d);`,
          );
          enc.push(`at = '${arm.decl.name}';`, fw.at('p + 4', armExpr), 'return;', '}');
        } else {
          if (perArm) enc.push(`${writeDisc};`);
          enc.push(`{`, `at = '${arm.decl.name}';`);
          encodeFrom(arm.decl, armExpr, enc, 0, true);
          enc.push('return;', '}');
        }
        dec.push('{', `at = '${arm.decl.name}';`, `let x${k}: ${tsDecl(arm.decl)};`);
        decodeInto(arm.decl, `x${k}`, dec, 0, true);
        const make = `new${T}Arm${k}`;
        const cases = arm.cases.map(num);
        maker(
          make,
          `Extract<${T}, { ${dField}: ${cases.join(' | ')} }>`,
          cases,
          f,
          tsDecl(arm.decl),
        );
        dec.push(`return new ${make}(${cases.length === 1 ? '' : `${lit}, `}x${k});`, '}');
      }
    });
    if (def.defaultArm) {
      const f = def.defaultArm;
      enc.push('default:');
      if (perArm) enc.push(`${writeDisc};`);
      dec.push('default:');
      if (f.name === '') {
        enc.push('return;');
        maker(`new${T}Default`, `{ ${dField}: number }`, null, '', '');
        dec.push(`return new new${T}Default(d);`);
      } else {
        const cf = camelCase(f.name);
        enc.push('{', `at = '${f.name}';`);
        encodeFrom(f, `(v as { ${cf}: ${tsDecl(f)} }).${cf}`, enc, 0, true);
        enc.push('return;', '}');
        dec.push('{', `at = '${f.name}';`, `let xd: ${tsDecl(f)};`);
        decodeInto(f, 'xd', dec, 0, true);
        const ft = tsDecl(f);
        maker(`new${T}Default`, `{ ${dField}: number; ${cf}: ${ft} }`, null, cf, ft);
        dec.push(`return new new${T}Default(d, xd);`, '}');
      }
    } else {
      usesXdrError = true;
      enc.push(
        'default:',
        `throw new XdrError(\`no arm of union ${def.name} for ${def.discriminant.name} \${String(d)}\`);`,
      );
      dec.push(
        'default:',
        `throw new XdrError(\`no arm of union ${def.name} for ${def.discriminant.name} \${d}\`);`,
      );
    }
    enc.push('}');
    dec.push('}');
    body.push(`export function ${encName(def.name)}(w: XdrWriter, v: ${T}): void {`);
    body.push(`let at = '${def.discriminant.name}';`, 'let ix = -1;', 'try {', ...markArrays(enc));
    body.push('} catch (e) {', `throw xdrAt(e, '${def.name}', at, ix);`, '}', '}', '');
    if (puts.has(def.name)) {
      usesXdrError = true;
      body.push(...puts.emitEach(def, T));
    }
    body.push(...makers, '');
    body.push(`export function ${decName(def.name)}(r: XdrReader): ${T} {`);
    body.push(`let at = '${def.discriminant.name}';`, 'let ix = -1;', 'try {', ...dec);
    body.push('} catch (e) {', `throw xdrAt(e, '${def.name}', at, ix);`, '}', '}', '');
  };

  const emitEnum = (def: EnumDef): void => {
    const T = typeName(def.name);
    const values = def.members.map((m) => num(m.value));
    body.push(`/** XDR \`enum ${def.name}\`. */`);
    body.push(`export const ${T} = {`);
    def.members.forEach((m, k) => {
      body.push(`  ${m.name}: ${values[k]},`);
    });
    body.push('} as const;');
    body.push(`export type ${T} = (typeof ${T})[keyof typeof ${T}];`, '');
    const check = enumCheck(values, 'v');
    usesXdrError = true;
    body.push(`export function ${encName(def.name)}(w: XdrWriter, v: ${T}): void {`);
    body.push(
      `if (!(${check})) throw new XdrError(\`\${String(v)} is not a member of enum ${def.name}\`, w.pos);`,
    );
    body.push('w.writeInt(v);', '}', '');
    body.push(`export function ${decName(def.name)}(r: XdrReader): ${T} {`);
    body.push('const v = r.readInt();');
    body.push(
      `if (!(${check})) throw new XdrError(\`\${v} is not a member of enum ${def.name}\`, r.pos - 4);`,
    );
    body.push(`return v as ${T};`, '}', '');
  };

  const emitTypedef = (def: TypedefDef): void => {
    const T = typeName(def.name);
    body.push(`/** XDR \`typedef ${printDecl(def.decl)}\`. */`);
    body.push(`export type ${T} = ${tsDecl(def.decl)};`, '');
    const enc: string[] = [];
    encodeFrom(def.decl, 'v', enc, 0, true);
    body.push(`export function ${encName(def.name)}(w: XdrWriter, v: ${T}): void {`);
    body.push(`const at = '';`, 'let ix = -1;', 'try {', ...markArrays(enc));
    body.push('} catch (e) {', `throw xdrAt(e, '${def.name}', at, ix);`, '}', '}', '');
    const dec: string[] = [`let v: ${T};`];
    decodeInto(def.decl, 'v', dec, 0, true);
    body.push(`export function ${decName(def.name)}(r: XdrReader): ${T} {`);
    body.push(`const at = '';`, 'let ix = -1;', 'try {', ...dec, 'return v;');
    body.push('} catch (e) {', `throw xdrAt(e, '${def.name}', at, ix);`, '}', '}', '');
  };

  for (const def of mod.spec.definitions) {
    switch (def.kind) {
      case 'const':
        body.push(`/** XDR \`const ${def.name}\`. */`);
        body.push(`export const ${def.name} = ${num(def.value)};`, '');
        break;
      case 'enum':
        emitEnum(def);
        break;
      case 'struct':
        emitStruct(def);
        break;
      case 'union':
        emitUnion(def);
        break;
      case 'typedef':
        emitTypedef(def);
        break;
    }
  }

  if (opts.program) emitProgram(opts.program, mod, symbols, body, useType, useFn);

  // ---- assemble ---------------------------------------------------------
  const head: string[] = [
    `// Code generated by virtwire's generator v${GENERATOR_VERSION} (src/codegen) from ${opts.sourcePath}`,
    `// (libvirt ${opts.libvirtVersion}). DO NOT EDIT: run \`npm run generate\`.`,
    '',
  ];
  const xdrNames = ['type XdrReader', 'type XdrWriter', 'xdrAt'];
  if (usesXdrError) xdrNames.push('XdrError');
  if (opts.program) xdrNames.push('type Codec');
  head.push(`import { ${xdrNames.sort(byName).join(', ')} } from '../xdr/index.js';`);
  if (opts.program)
    head.push(`import type { EventInfo, ProgramId, ProgramInfo } from '../xdr/program.js';`);
  if (usesArrays.value) head.push(`import { arrayLength } from '../xdr/program.js';`);
  if (usesPlain.value) head.push(`import { plain } from '../xdr/plain.js';`);
  for (const [m, names] of [...imports].sort((a, b) => byName(a[0], b[0]))) {
    if (names.size === 0) continue;
    head.push(`import { ${[...names].sort(byName).join(', ')} } from './${m}.js';`);
  }
  head.push('');
  return `${indent([...head, ...body])
    .join('\n')
    .trimEnd()}\n`;
}

/** Indents emitted lines by brace depth; emitted code keeps braces balanced per line or block. */
function indent(lines: readonly string[]): string[] {
  let depth = 0;
  return lines.map((line) => {
    if (line.startsWith('  ') || line === '') return line; // already laid out (interfaces, tables)
    const opens = (line.match(/[{([]/g) ?? []).length;
    const closes = (line.match(/[})\]]/g) ?? []).length;
    const lead = /^[})\]]/.test(line) ? 1 : 0;
    const out = '  '.repeat(Math.max(0, depth - lead)) + line;
    depth += opens - closes;
    return out;
  });
}

function byName(a: string, b: string): number {
  const ka = a.replace(/^type /, '');
  const kb = b.replace(/^type /, '');
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function readPrim(p: string): string {
  switch (p) {
    case 'int':
      return 'r.readInt()';
    case 'uint':
      return 'r.readUint()';
    case 'hyper':
      return 'r.readHyper()';
    case 'uhyper':
      return 'r.readUhyper()';
    case 'float':
      return 'r.readFloat()';
    case 'double':
      return 'r.readDouble()';
    case 'bool':
      return 'r.readBool()';
    case 'void':
      return 'undefined';
  }
  throw new Error(`no reader for ${p}`);
}

function writePrim(p: string): string {
  switch (p) {
    case 'int':
      return 'w.writeInt';
    case 'uint':
      return 'w.writeUint';
    case 'hyper':
      return 'w.writeHyper';
    case 'uhyper':
      return 'w.writeUhyper';
    case 'float':
      return 'w.writeFloat';
    case 'double':
      return 'w.writeDouble';
    case 'bool':
      return 'w.writeBool';
  }
  throw new Error(`no writer for ${p}`);
}
