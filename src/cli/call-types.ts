/**
 * `virtwire call`'s knowledge of argument and result shapes, from the
 * generated type table (src/generated/xdr-types.ts): the field tree that
 * `--describe` prints, the example built from it, and the fitting of JSON to
 * a type with an error that names the field's path, what it expects and what
 * it got (no XDR type names, no codec messages).
 */
import { VirtwireError } from '../errors.js';
import { xdrTypes } from '../generated/xdr-types.js';
import type { XdrDefMeta, XdrTypeMeta } from '../xdr/type-meta.js';

/** A JSON value that does not fit: where, what was expected, what was given. */
export class FitError extends VirtwireError {
  override name = 'FitError';
  constructor(
    readonly path: string,
    readonly expected: string,
    readonly got: string,
    readonly kind: 'mismatch' | 'missing' | 'unknown',
    readonly known: readonly string[] = [],
  ) {
    super(`${path}: expected ${expected}, got ${got}`);
  }
}

const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;
const UINT_MAX = 2 ** 32 - 1;
const HYPER_MIN = -(2n ** 63n);
const HYPER_MAX = 2n ** 63n - 1n;
const UHYPER_MAX = 2n ** 64n - 1n;

/** The definition behind `#name`, typedefs followed; the type itself otherwise. */
type Concrete = Exclude<XdrTypeMeta, `#${string}`>;
type Resolved =
  | { readonly t: Concrete; readonly name?: string }
  | { readonly def: Exclude<XdrDefMeta, readonly ['typedef', XdrTypeMeta]>; readonly name: string };

const isRef = (t: XdrTypeMeta): t is `#${string}` => typeof t === 'string' && t.startsWith('#');

export function resolveType(t: XdrTypeMeta): Resolved {
  let cur: XdrTypeMeta = t;
  let name: string | undefined;
  for (let guard = 0; guard < 64; guard++) {
    if (!isRef(cur)) {
      const c = cur as Concrete;
      return name ? { t: c, name } : { t: c };
    }
    const n = cur.slice(1);
    const def = xdrTypes[n];
    if (!def) throw new Error(`xdr-types has no ${n}`);
    name ??= n;
    if (def[0] === 'typedef') cur = def[1];
    else return { def, name: n };
  }
  throw new Error(`typedef chain too long at ${String(t)}`);
}

const isUuid = (r: Resolved): boolean =>
  'name' in r && r.name !== undefined && /uuid$/.test(r.name) && 't' in r && r.t[0] === 'opaque[]';

const bound = (max: number | null, unit: string): string =>
  max === null ? '' : ` of at most ${max} ${unit}`;

/** What a value of this type is, in words: `an unsigned int (0 to 4294967295)`. */
export function expectedOf(t: XdrTypeMeta): string {
  const r = resolveType(t);
  if ('def' in r) {
    const d = r.def;
    if (d[0] === 'struct')
      return `an object with fields ${d[1].map((f) => f[0]).join(', ') || '(none)'}`;
    if (d[0] === 'enum') return `one of ${d[1].map(([n, v]) => `${v} (${n})`).join(', ')}`;
    return `an object with field ${d[1][0]} (${d[2].flatMap((a) => a[0]).join(', ')}) and its arm`;
  }
  if (isUuid(r)) return 'a UUID (canonical form or 32 hex digits)';
  const x = r.t;
  if (typeof x === 'string') {
    switch (x) {
      case 'int':
        return `an int (${INT_MIN} to ${INT_MAX})`;
      case 'uint':
        return `an unsigned int (0 to ${UINT_MAX})`;
      case 'hyper':
        return 'a 64-bit integer (a JSON number or a decimal string)';
      case 'uhyper':
        return 'an unsigned 64-bit integer (a JSON number or a decimal string)';
      case 'bool':
        return 'a boolean';
      default:
        return 'a number';
    }
  }
  switch (x[0]) {
    case 'string':
      return `a string${bound(x[1], 'bytes')}`;
    case 'opaque':
      return `bytes as a hex string${bound(x[1], 'bytes')}`;
    case 'opaque[]':
      return `exactly ${x[1]} bytes as a hex string`;
    case 'array':
      return `an array${bound(x[2], 'items')}`;
    case 'array[]':
      return `an array of exactly ${x[2]} items`;
    case 'optional':
      return `null or ${expectedOf(x[1])}`;
  }
}

/** A JSON value in words for errors: `string "x"`, `number 1.5`, `an array`. */
export function describeJson(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length} items`;
  if (typeof v === 'object') return 'an object';
  const s = JSON.stringify(v);
  return `${typeof v} ${s.length > 40 ? `${s.slice(0, 40)}…` : s}`;
}

/** Lower case without underscores: `cookie_in`, `cookieIn` and `CookieIn` meet here. */
const norm = (s: string): string => s.toLowerCase().replace(/_/g, '');

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function toBytes(v: unknown): Uint8Array | undefined {
  if (typeof v === 'string') {
    const hex = UUID_RE.test(v) ? v.replace(/-/g, '') : v.replace(/^0x/i, '');
    if (hex.length % 2 === 0 && /^[0-9a-f]*$/i.test(hex))
      return Uint8Array.from(Buffer.from(hex, 'hex'));
    return undefined;
  }
  if (Array.isArray(v) && v.every((x) => Number.isInteger(x) && x >= 0 && x <= 255))
    return Uint8Array.from(v as number[]);
  return undefined;
}

function toInteger(v: unknown): number | undefined {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return Number.isInteger(v) ? v : undefined;
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v.trim());
  return undefined;
}

function toBigint(v: unknown): bigint | undefined {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^(-?\d+|0x[0-9a-f]+)$/i.test(v.trim())) return BigInt(v.trim());
  return undefined;
}

const utf8Length = (s: string): number => Buffer.byteLength(s, 'utf8');

/**
 * `v` as the value the codec of type `t` takes (bigints, bytes, enum values),
 * or a FitError naming the first thing that does not fit by its path.
 */
export function fitValue(v: unknown, t: XdrTypeMeta, path: string): unknown {
  const r = resolveType(t);
  const no = (): never => {
    throw new FitError(path, expectedOf(t), describeJson(v), 'mismatch');
  };
  if ('def' in r) {
    const d = r.def;
    if (d[0] === 'enum') {
      const byValue = d[1].find(([, x]) => x === toInteger(v));
      const byName = typeof v === 'string' ? d[1].find(([n]) => norm(n) === norm(v)) : undefined;
      const m = byValue ?? byName;
      return m ? m[1] : no();
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return no();
    const given = v as Record<string, unknown>;
    const fields: Array<readonly [string, XdrTypeMeta]> = [];
    if (d[0] === 'struct') fields.push(...d[1]);
    else {
      fields.push(d[1]);
      const disc = fitValue(pick(given, d[1][0]), d[1][1], `${path}.${d[1][0]}`);
      const arm = d[2].find((a) => a[0].includes(disc as number));
      const field = arm ? arm[1] : d[3];
      if (field === undefined) {
        throw new FitError(
          `${path}.${d[1][0]}`,
          `one of ${d[2].flatMap((a) => a[0]).join(', ')}`,
          describeJson(pick(given, d[1][0])),
          'mismatch',
        );
      }
      if (field !== null) fields.push(field);
    }
    const out: Record<string, unknown> = {};
    const used = new Set<string>();
    for (const [name, ft] of fields) {
      const key =
        Object.keys(given).find((k) => k === name) ??
        Object.keys(given).find((k) => norm(k) === norm(name));
      const p = `${path}.${name}`;
      if (key === undefined || given[key] === undefined) {
        const fr = resolveType(ft);
        if ('t' in fr && Array.isArray(fr.t) && fr.t[0] === 'optional') {
          out[name] = null;
          continue;
        }
        throw new FitError(p, expectedOf(ft), 'nothing', 'missing', Object.keys(given));
      }
      used.add(key);
      out[name] = fitValue(given[key], ft, p);
    }
    const extra = Object.keys(given).find((k) => !used.has(k));
    if (extra !== undefined)
      throw new FitError(
        `${path}.${extra}`,
        '',
        '',
        'unknown',
        fields.map((f) => f[0]),
      );
    return out;
  }
  const x = r.t;
  if (typeof x === 'string') {
    switch (x) {
      case 'int':
      case 'uint': {
        const n = toInteger(v);
        if (
          n === undefined ||
          n < (x === 'int' ? INT_MIN : 0) ||
          n > (x === 'int' ? INT_MAX : UINT_MAX)
        )
          return no();
        return n;
      }
      case 'hyper':
      case 'uhyper': {
        const n = toBigint(v);
        if (
          n === undefined ||
          n < (x === 'hyper' ? HYPER_MIN : 0n) ||
          n > (x === 'hyper' ? HYPER_MAX : UHYPER_MAX)
        )
          return no();
        return n;
      }
      case 'bool':
        if (typeof v === 'boolean') return v;
        return v === 0 || v === 1 ? v === 1 : no();
      default: {
        const n =
          typeof v === 'number'
            ? v
            : typeof v === 'string' && v.trim() !== ''
              ? Number(v)
              : Number.NaN;
        return Number.isFinite(n) ? n : no();
      }
    }
  }
  switch (x[0]) {
    case 'string': {
      if (typeof v !== 'string') return no();
      const len = utf8Length(v);
      if (x[1] !== null && len > x[1])
        throw new FitError(path, expectedOf(t), `a string of ${len} bytes`, 'mismatch');
      return v;
    }
    case 'opaque':
    case 'opaque[]': {
      const b = toBytes(v);
      if (b === undefined) return no();
      const fixed = x[0] === 'opaque[]';
      if (fixed ? b.length !== x[1] : x[1] !== null && b.length > x[1])
        throw new FitError(path, expectedOf(t), `${b.length} bytes`, 'mismatch');
      return b;
    }
    case 'array':
    case 'array[]': {
      if (!Array.isArray(v)) return no();
      const fixed = x[0] === 'array[]';
      if (fixed ? v.length !== x[2] : x[2] !== null && v.length > x[2])
        throw new FitError(path, expectedOf(t), describeJson(v), 'mismatch');
      return v.map((item, i) => fitValue(item, x[1], `${path}[${i}]`));
    }
    case 'optional':
      return v === null ? null : fitValue(v, x[1], path);
  }
}

/** A field of `given` by its name, or spelt another way (snake_case, any case). */
function pick(given: Record<string, unknown>, name: string): unknown {
  if (name in given) return given[name];
  const k = Object.keys(given).find((x) => norm(x) === norm(name));
  return k === undefined ? undefined : given[k];
}

/**
 * An example value: zeros, empty strings and arrays, null for optional data,
 * a union's first arm; what the daemon takes as-is for a procedure that only
 * needs flags and counts.
 */
export function exampleValue(t: XdrTypeMeta, depth = 0): unknown {
  const r = resolveType(t);
  if (depth > 16) return null;
  if ('def' in r) {
    const d = r.def;
    if (d[0] === 'enum') return d[1][0]?.[1] ?? 0;
    if (d[0] === 'struct')
      return Object.fromEntries(d[1].map(([n, ft]) => [n, exampleValue(ft, depth + 1)]));
    const first = d[2][0];
    const disc = first ? first[0][0] : 0;
    const out: Record<string, unknown> = { [d[1][0]]: disc };
    const f = first ? first[1] : d[3];
    if (f) out[f[0]] = exampleValue(f[1], depth + 1);
    return out;
  }
  if (isUuid(r)) return '00000000-0000-0000-0000-000000000000';
  const x = r.t;
  if (typeof x === 'string') return x === 'bool' ? false : 0;
  switch (x[0]) {
    case 'string':
    case 'opaque':
      return '';
    case 'opaque[]':
      return '00'.repeat(x[1]);
    case 'array':
      return [];
    case 'array[]':
      return Array.from({ length: x[2] }, () => exampleValue(x[1], depth + 1));
    case 'optional':
      return null;
  }
}

/** One line per field, indented by depth: `name: what (bounds)`; structs and unions open below. */
export function fieldTree(t: XdrTypeMeta, indent = '  ', depth = 0): string[] {
  const r = resolveType(t);
  if (depth > 12) return [`${indent}…`];
  if ('def' in r) {
    const d = r.def;
    if (d[0] === 'struct') {
      return d[1].flatMap(([n, ft]) => fieldLines(n, ft, indent, depth));
    }
    if (d[0] === 'union') {
      const lines = fieldLines(d[1][0], d[1][1], indent, depth);
      lines[0] += ', selects one of:';
      for (const [cases, f] of d[2]) {
        const when = `${indent}  when ${d[1][0]} is ${cases.join(' or ')}:`;
        lines.push(f ? `${when}` : `${when} nothing more`);
        if (f) lines.push(...fieldLines(f[0], f[1], `${indent}    `, depth + 1));
      }
      if (d[3] !== undefined) {
        lines.push(`${indent}  otherwise:${d[3] ? '' : ' nothing more'}`);
        if (d[3]) lines.push(...fieldLines(d[3][0], d[3][1], `${indent}    `, depth + 1));
      }
      return lines;
    }
  }
  return [`${indent}${shortOf(t)}`];
}

/** A type in a few words for the tree: `unsigned int`, `string (at most 4194304 bytes)`. */
function shortOf(t: XdrTypeMeta): string {
  const r = resolveType(t);
  if ('def' in r) {
    const d = r.def;
    if (d[0] === 'struct') return 'object';
    if (d[0] === 'union') return 'object (a union)';
    return expectedOf(t).replace(/^one of/, 'enum, one of');
  }
  if (isUuid(r)) return 'UUID (canonical form or 32 hex digits)';
  const x = r.t;
  if (typeof x === 'string') {
    return {
      int: `int (${INT_MIN} to ${INT_MAX})`,
      uint: `unsigned int (0 to ${UINT_MAX})`,
      hyper: '64-bit int (number or decimal string)',
      uhyper: 'unsigned 64-bit int (number or decimal string)',
      bool: 'boolean',
      float: 'number',
      double: 'number',
    }[x];
  }
  switch (x[0]) {
    case 'string':
      return `string${x[1] === null ? '' : ` (at most ${x[1]} bytes)`}`;
    case 'opaque':
      return `bytes as hex${x[1] === null ? '' : ` (at most ${x[1]})`}`;
    case 'opaque[]':
      return `bytes as hex (exactly ${x[1]})`;
    case 'array':
      return `array${x[2] === null ? '' : ` (at most ${x[2]} items)`} of ${shortOf(x[1])}`;
    case 'array[]':
      return `array (exactly ${x[2]} items) of ${shortOf(x[1])}`;
    case 'optional':
      return `${shortOf(x[1])} or null`;
  }
}

/** The element type under arrays and optionals, where a struct's fields would open. */
function inner(t: XdrTypeMeta): XdrTypeMeta {
  const r = resolveType(t);
  if ('t' in r && Array.isArray(r.t)) {
    const x = r.t;
    if (x[0] === 'array' || x[0] === 'array[]' || x[0] === 'optional') return inner(x[1]);
  }
  return t;
}

function fieldLines(name: string, t: XdrTypeMeta, indent: string, depth: number): string[] {
  const lines = [`${indent}${name}: ${shortOf(t)}`];
  const r = resolveType(inner(t));
  if ('def' in r && (r.def[0] === 'struct' || r.def[0] === 'union'))
    lines.push(...fieldTree(inner(t), `${indent}  `, depth + 1));
  return lines;
}
