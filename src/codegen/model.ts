import type { Declaration, Definition, Spec, TypeSpec, Value } from './ast.js';

/** One .x file taking part in generation, and what it is called in the output. */
export interface Module {
  /** Output module id, e.g. `remote`; the file becomes `src/generated/remote.ts`. */
  readonly id: string;
  readonly spec: Spec;
}

export interface Symbol {
  readonly module: string;
  readonly def: Definition;
}

/**
 * Every name the .x files define, plus constants that come from libvirt's C
 * headers (such as VIR_TYPED_PARAM_INT, used as union case labels), so values
 * and types can be resolved across files.
 */
export class SymbolTable {
  private readonly defs = new Map<string, Symbol>();
  private readonly enumMembers = new Map<string, { module: string; value: Value }>();

  constructor(
    modules: readonly Module[],
    private readonly external: ReadonlyMap<string, number> = new Map(),
  ) {
    for (const m of modules) {
      for (const def of m.spec.definitions) {
        if (this.defs.has(def.name) || this.enumMembers.has(def.name)) {
          throw new Error(`${m.spec.file}: ${def.name} is defined twice`);
        }
        this.defs.set(def.name, { module: m.id, def });
        if (def.kind === 'enum') {
          for (const mem of def.members) {
            if (this.defs.has(mem.name) || this.enumMembers.has(mem.name)) {
              throw new Error(`${m.spec.file}: ${mem.name} is defined twice`);
            }
            this.enumMembers.set(mem.name, { module: m.id, value: mem.value });
          }
        }
      }
    }
  }

  lookup(name: string): Symbol {
    const s = this.defs.get(name);
    if (!s) throw new Error(`unknown type ${name}`);
    return s;
  }

  /** Every definition, in the order the modules and their files give them. */
  all(): IterableIterator<Symbol> {
    return this.defs.values();
  }

  has(name: string): boolean {
    return this.defs.has(name);
  }

  /** The integer a value stands for, following constant and enum-member names. */
  resolve(v: Value, seen: ReadonlySet<string> = new Set()): number {
    if ('num' in v) return v.num;
    if (seen.has(v.ref)) throw new Error(`constant ${v.ref} refers to itself`);
    const next = new Set(seen).add(v.ref);
    const d = this.defs.get(v.ref);
    if (d?.def.kind === 'const') return this.resolve(d.def.value, next);
    const m = this.enumMembers.get(v.ref);
    if (m) return this.resolve(m.value, next);
    const x = this.external.get(v.ref);
    if (x !== undefined) return x;
    throw new Error(`unknown constant ${v.ref}`);
  }

  /**
   * Follows typedefs of single values down to what is actually on the wire:
   * a declaration whose type is a primitive, a struct, a union or an enum.
   * A typedef of an array or optional stays as the declaration of that form.
   */
  unalias(decl: Declaration): Declaration {
    let d = decl;
    for (let guard = 0; guard < 64; guard++) {
      if (d.form !== 'single' || d.type.kind !== 'named') return d;
      const s = this.lookup(d.type.name);
      if (s.def.kind !== 'typedef') return d;
      d = { ...s.def.decl, name: d.name };
    }
    throw new Error(`typedef cycle at ${decl.type.kind === 'named' ? decl.type.name : '?'}`);
  }

  /** Kind of a named type after typedefs: struct, union, enum or typedef (of a non-single form). */
  kindOf(t: TypeSpec): 'prim' | 'struct' | 'union' | 'enum' | 'typedef' {
    if (t.kind === 'prim') return 'prim';
    const k = this.lookup(t.name).def.kind;
    if (k === 'const') throw new Error(`${t.name} is a constant, not a type`);
    return k;
  }

  /** The fewest bytes a value of this declaration takes on the wire. */
  minSize(decl: Declaration, depth = 0): number {
    if (depth > 32) return 4; // recursive types: a safe lower bound
    const d = this.unalias(decl);
    if (d.form === 'optional' || d.form === 'var')
      return d.type.kind === 'prim' && d.type.prim === 'void' ? 0 : 4;
    const n = d.form === 'fixed' ? this.resolve(d.size!) : 1;
    if (d.type.kind === 'prim') {
      switch (d.type.prim) {
        case 'void':
          return 0;
        case 'hyper':
        case 'uhyper':
        case 'double':
          return 8 * n;
        case 'opaque':
          return (n + 3) & ~3;
        default:
          return 4 * n;
      }
    }
    const def = this.lookup(d.type.name).def;
    let one = 4;
    if (def.kind === 'struct') {
      one = def.fields.reduce((s, f) => s + this.minSize(f, depth + 1), 0);
    } else if (def.kind === 'union') {
      const arms = def.arms.map((a) => this.minSize(a.decl, depth + 1));
      if (def.defaultArm) arms.push(this.minSize(def.defaultArm, depth + 1));
      one = 4 + Math.min(...arms);
    } else if (def.kind === 'typedef') {
      one = this.minSize(def.decl, depth + 1);
    }
    return one * n;
  }
}
