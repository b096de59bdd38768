import type {
  Declaration,
  Definition,
  EnumDef,
  Primitive,
  Spec,
  StructDef,
  TypeSpec,
  UnionArm,
  UnionDef,
  Value,
} from './ast.js';
import { type Token, tokenize, XdrSyntaxError } from './lexer.js';

const KEYWORDS = new Set([
  'bool',
  'case',
  'char',
  'const',
  'default',
  'double',
  'enum',
  'float',
  'hyper',
  'int',
  'opaque',
  'quadruple',
  'short',
  'string',
  'struct',
  'switch',
  'typedef',
  'union',
  'unsigned',
  'void',
]);

/** Parses one .x source into its definitions, in order. */
export function parseXdr(src: string, file = '<input>'): Spec {
  const toks = tokenize(src, file);
  let i = 0;

  const peek = (): Token => toks[i]!;
  const fail = (t: Token, msg: string): never => {
    throw new XdrSyntaxError(file, t.line, t.col, msg);
  };
  const next = (): Token => {
    const t = toks[i]!;
    if (t.kind !== 'eof') i++;
    return t;
  };
  const isPunct = (p: string): boolean => peek().kind === 'punct' && peek().text === p;
  const isWord = (w: string): boolean => peek().kind === 'ident' && peek().text === w;
  const expect = (p: string): void => {
    const t = next();
    if (t.kind !== 'punct' || t.text !== p) fail(t, `expected '${p}', found ${show(t)}`);
  };
  const expectWord = (w: string): void => {
    const t = next();
    if (t.kind !== 'ident' || t.text !== w) fail(t, `expected '${w}', found ${show(t)}`);
  };
  const ident = (what: string): string => {
    const t = next();
    if (t.kind !== 'ident' || KEYWORDS.has(t.text)) fail(t, `expected ${what}, found ${show(t)}`);
    return t.text;
  };

  const value = (): Value => {
    let neg = false;
    if (isPunct('-')) {
      next();
      neg = true;
    }
    const t = next();
    if (t.kind === 'number') {
      const v = Number.parseInt(
        t.text,
        t.text.startsWith('0x') || t.text.startsWith('0X') ? 16 : 10,
      );
      return { num: neg ? -v : v };
    }
    if (t.kind === 'ident' && !KEYWORDS.has(t.text) && !neg) return { ref: t.text };
    return fail(t, `expected a number or constant name, found ${show(t)}`);
  };

  const prim = (p: Primitive, spelled: string): TypeSpec => ({ kind: 'prim', prim: p, spelled });

  const typeSpec = (): TypeSpec => {
    const t = next();
    if (t.kind !== 'ident') return fail(t, `expected a type, found ${show(t)}`);
    switch (t.text) {
      case 'unsigned': {
        if (isWord('int') || isWord('char') || isWord('short')) {
          const w = next().text;
          return prim('uint', `unsigned ${w}`);
        }
        if (isWord('hyper')) {
          next();
          return prim('uhyper', 'unsigned hyper');
        }
        return prim('uint', 'unsigned');
      }
      // rpcgen maps char and short to 4-byte XDR ints, as it does int.
      case 'int':
      case 'char':
      case 'short':
        return prim('int', t.text);
      case 'hyper':
        return prim('hyper', 'hyper');
      case 'float':
        return prim('float', 'float');
      case 'double':
        return prim('double', 'double');
      case 'bool':
        return prim('bool', 'bool');
      case 'quadruple':
        return fail(t, 'quadruple is not supported');
      case 'struct':
      case 'enum':
      case 'union':
        if (peek().kind === 'punct' && peek().text === '{') {
          return fail(peek(), `inline ${t.text} definitions are not supported`);
        }
        return { kind: 'named', name: ident(`${t.text} name`) };
      default:
        if (KEYWORDS.has(t.text)) return fail(t, `unexpected keyword ${t.text}`);
        return { kind: 'named', name: t.text };
    }
  };

  const declaration = (): Declaration => {
    if (isWord('void')) {
      next();
      return { name: '', type: prim('void', 'void'), form: 'single', size: null };
    }
    if (isWord('opaque') || isWord('string')) {
      const kw = next().text as 'opaque' | 'string';
      const name = ident('a name');
      if (isPunct('[')) {
        if (kw === 'string') fail(peek(), 'string cannot be a fixed-length array');
        next();
        const size = value();
        expect(']');
        return { name, type: prim(kw, kw), form: 'fixed', size };
      }
      expect('<');
      const size = isPunct('>') ? null : value();
      expect('>');
      return { name, type: prim(kw, kw), form: 'var', size };
    }
    const type = typeSpec();
    if (isPunct('*')) {
      next();
      return { name: ident('a name'), type, form: 'optional', size: null };
    }
    const name = ident('a name');
    if (isPunct('[')) {
      next();
      const size = value();
      expect(']');
      return { name, type, form: 'fixed', size };
    }
    if (isPunct('<')) {
      next();
      const size = isPunct('>') ? null : value();
      expect('>');
      return { name, type, form: 'var', size };
    }
    return { name, type, form: 'single', size: null };
  };

  const enumBody = (name: string): EnumDef => {
    expect('{');
    const members: Array<{ name: string; value: Value }> = [];
    for (;;) {
      const m = ident('an enum member');
      expect('=');
      members.push({ name: m, value: value() });
      if (isPunct(',')) {
        next();
        if (isPunct('}')) break;
        continue;
      }
      break;
    }
    expect('}');
    return { kind: 'enum', name, members };
  };

  const structBody = (name: string): StructDef => {
    expect('{');
    const fields: Declaration[] = [];
    while (!isPunct('}')) {
      fields.push(declaration());
      expect(';');
    }
    expect('}');
    if (fields.length === 0) fail(peek(), `struct ${name} has no members`);
    return { kind: 'struct', name, fields };
  };

  const unionBody = (name: string): UnionDef => {
    expectWord('switch');
    expect('(');
    const discriminant = declaration();
    expect(')');
    expect('{');
    const arms: UnionArm[] = [];
    let defaultArm: Declaration | null = null;
    while (!isPunct('}')) {
      if (isWord('default')) {
        const t = next();
        if (defaultArm) fail(t, 'two default arms');
        expect(':');
        defaultArm = declaration();
        expect(';');
        continue;
      }
      const cases: Value[] = [];
      while (isWord('case')) {
        next();
        cases.push(value());
        expect(':');
      }
      if (cases.length === 0) fail(peek(), `expected 'case' or 'default', found ${show(peek())}`);
      arms.push({ cases, decl: declaration() });
      expect(';');
    }
    expect('}');
    return { kind: 'union', name, discriminant, arms, defaultArm };
  };

  const definitions: Definition[] = [];
  while (peek().kind !== 'eof') {
    const t = next();
    if (t.kind !== 'ident') fail(t, `expected a definition, found ${show(t)}`);
    switch (t.text) {
      case 'const': {
        const name = ident('a constant name');
        expect('=');
        definitions.push({ kind: 'const', name, value: value() });
        break;
      }
      case 'typedef': {
        const decl = declaration();
        if (decl.name === '') fail(t, 'typedef of void');
        definitions.push({ kind: 'typedef', name: decl.name, decl });
        break;
      }
      case 'enum':
        definitions.push(enumBody(ident('an enum name')));
        break;
      case 'struct':
        definitions.push(structBody(ident('a struct name')));
        break;
      case 'union':
        definitions.push(unionBody(ident('a union name')));
        break;
      default:
        fail(t, `expected const, typedef, enum, struct or union, found ${show(t)}`);
    }
    expect(';');
  }
  return { file, definitions };
}

function show(t: Token): string {
  return t.kind === 'eof' ? 'end of file' : `'${t.text}'`;
}
