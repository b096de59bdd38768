/**
 * Random values of any XDR type, walking the syntax tree: every bound is
 * respected (arrays and strings are kept short so thousands of values stay
 * fast), every union arm and enum member can come up. Seeded, so a failure
 * can be replayed.
 */
import type { Declaration } from '../../src/codegen/ast.js';
import type { SymbolTable } from '../../src/codegen/model.js';
import { camelCase } from '../../src/codegen/names.js';

export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 1;
  }
  /** xorshift32: small, fast and good enough for test data. */
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  below(n: number): number {
    return this.next() % n;
  }
}

const STRING_POOL = [
  '',
  'a',
  'qemu:///system',
  'migrate_uri',
  'é',
  '日本',
  '🙂',
  'x y',
  '\u0000',
  'vm-00042',
];

export class RandomValues {
  constructor(
    private readonly symbols: SymbolTable,
    private readonly maxArray = 3,
  ) {}

  of(typeName: string, rng: Rng, depth = 0): unknown {
    const def = this.symbols.lookup(typeName).def;
    switch (def.kind) {
      case 'typedef':
        return this.decl(def.decl, rng, depth);
      case 'struct': {
        const o: Record<string, unknown> = {};
        for (const f of def.fields) o[camelCase(f.name)] = this.decl(f, rng, depth + 1);
        return o;
      }
      case 'enum':
        return this.symbols.resolve(def.members[rng.below(def.members.length)]!.value);
      case 'union': {
        const arm = def.arms[rng.below(def.arms.length)]!;
        const d = this.symbols.resolve(arm.cases[rng.below(arm.cases.length)]!);
        const o: Record<string, unknown> = { [camelCase(def.discriminant.name)]: d };
        if (arm.decl.name !== '') o[camelCase(arm.decl.name)] = this.decl(arm.decl, rng, depth + 1);
        return o;
      }
      case 'const':
        throw new Error(`${typeName} is a constant`);
    }
  }

  private bound(d: Declaration): number {
    return d.size ? this.symbols.resolve(d.size) : 0xffffffff;
  }

  private single(d: Declaration, rng: Rng, depth: number): unknown {
    const t = d.type;
    if (t.kind === 'named') return this.of(t.name, rng, depth);
    switch (t.prim) {
      case 'int':
        return rng.next() | 0;
      case 'uint':
        return rng.next();
      case 'hyper':
        return BigInt.asIntN(64, (BigInt(rng.next()) << 32n) | BigInt(rng.next()));
      case 'uhyper':
        return (BigInt(rng.next()) << 32n) | BigInt(rng.next());
      case 'float':
        return Math.fround((rng.next() / 7) * (rng.below(2) ? 1 : -1));
      case 'double':
        return (rng.next() / 13) * (rng.below(2) ? 1 : -1);
      case 'bool':
        return rng.below(2) === 1;
      default:
        throw new Error(`unexpected ${t.prim}`);
    }
  }

  decl(d: Declaration, rng: Rng, depth: number): unknown {
    const t = d.type;
    if (t.kind === 'prim' && t.prim === 'string') {
      const s = STRING_POOL[rng.below(STRING_POOL.length)]!;
      return Buffer.byteLength(s) <= this.bound(d) ? s : '';
    }
    if (t.kind === 'prim' && t.prim === 'opaque') {
      const n =
        d.form === 'fixed' ? this.symbols.resolve(d.size!) : Math.min(this.bound(d), rng.below(9));
      return Uint8Array.from({ length: n }, () => rng.below(256));
    }
    const single: Declaration = { ...d, form: 'single', size: null };
    switch (d.form) {
      case 'single':
        return this.single(d, rng, depth);
      case 'optional':
        return depth > 6 || rng.below(2) === 0 ? null : this.single(single, rng, depth);
      case 'fixed':
      case 'var': {
        const n =
          d.form === 'fixed'
            ? this.symbols.resolve(d.size!)
            : depth > 6
              ? 0
              : Math.min(this.bound(d), rng.below(this.maxArray + 1));
        return Array.from({ length: n }, () => this.single(single, rng, depth + 1));
      }
    }
  }
}
