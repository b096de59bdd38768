import { VirtwireError } from '../errors.js';
import { type TypedParameterKind, typedParameterFields } from '../generated/api.js';
import type { RemoteTypedParam } from '../generated/remote.js';

/** A typed parameter's value as a plain JS value: int/uint/double -> number, llong/ullong -> bigint. */
export type TypedValue = number | bigint | string | boolean;

/** A parameter name or value was refused before anything was sent. */
export class TypedParamError extends VirtwireError {
  override name = 'TypedParamError';
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * libvirt's typed parameter list as a plain record keyed by field name. A
 * field repeated in the list keeps its first value; use the raw list for
 * multi-valued fields.
 */
export function fromTypedParams(params: readonly RemoteTypedParam[]): Record<string, TypedValue> {
  const out: Record<string, TypedValue> = {};
  for (const p of params) {
    if (Object.hasOwn(out, p.field)) continue;
    const v = p.value;
    switch (v.type) {
      case 1:
        out[p.field] = v.i;
        break;
      case 2:
        out[p.field] = v.ui;
        break;
      case 3:
        out[p.field] = v.l;
        break;
      case 4:
        out[p.field] = v.ul;
        break;
      case 5:
        out[p.field] = v.d;
        break;
      case 6:
        out[p.field] = v.b !== 0;
        break;
      case 7:
        out[p.field] = v.s;
        break;
    }
  }
  return out;
}

/** The schema of a family of typed parameters: field name -> type, and whether it may repeat. */
export type ParamSchema = ReadonlyMap<
  string,
  { readonly type: TypedParameterKind; readonly multiple: boolean }
>;

/** Builds the schema of every typed-parameter field whose constant starts with `prefix` (e.g. `VIR_MIGRATE_PARAM_`). */
export function paramSchema(prefix: string): ParamSchema {
  const m = new Map<string, { type: TypedParameterKind; multiple: boolean }>();
  for (const [k, f] of Object.entries(typedParameterFields)) {
    if (k.startsWith(prefix)) m.set(f.field, { type: f.type, multiple: f.multiple === true });
  }
  return m;
}

const INT_MIN = -0x80000000;
const INT_MAX = 0x7fffffff;

function one(field: string, type: TypedParameterKind, v: unknown, what: string): RemoteTypedParam {
  const bad = (want: string): never => {
    throw new TypedParamError(field, `${what} ${field} must be ${want}, got ${describe(v)}`);
  };
  switch (type) {
    case 'int':
      if (typeof v !== 'number' || !Number.isInteger(v) || v < INT_MIN || v > INT_MAX)
        bad('a 32-bit integer');
      return { field, value: { type: 1, i: v as number } };
    case 'uint':
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff)
        bad('an unsigned 32-bit integer');
      return { field, value: { type: 2, ui: v as number } };
    case 'llong': {
      const b = typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : v;
      if (typeof b !== 'bigint' || BigInt.asIntN(64, b) !== b)
        bad('a 64-bit integer (bigint or safe integer)');
      return { field, value: { type: 3, l: b as bigint } };
    }
    case 'ullong': {
      const b = typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : v;
      if (typeof b !== 'bigint' || BigInt.asUintN(64, b) !== b)
        bad('an unsigned 64-bit integer (bigint or safe integer)');
      return { field, value: { type: 4, ul: b as bigint } };
    }
    case 'double':
      if (typeof v !== 'number') bad('a number');
      return { field, value: { type: 5, d: v as number } };
    case 'boolean':
      if (typeof v !== 'boolean') bad('a boolean');
      return { field, value: { type: 6, b: v ? 1 : 0 } };
    case 'string':
      if (typeof v !== 'string') bad('a string');
      return { field, value: { type: 7, s: v as string } };
  }
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (Array.isArray(v)) return `an array`;
  return v === null ? 'null' : `${typeof v} ${String(v)}`;
}

/**
 * Checks a record of parameters against a schema and turns it into libvirt's
 * typed parameter list. Unknown names, wrong types and repeated values for a
 * single-valued field are refused with a TypedParamError naming the field.
 */
export function toTypedParams(
  values: Readonly<Record<string, TypedValue | readonly string[] | undefined>>,
  schema: ParamSchema,
  what = 'parameter',
): RemoteTypedParam[] {
  const out: RemoteTypedParam[] = [];
  for (const [field, v] of Object.entries(values)) {
    if (v === undefined) continue;
    const s = schema.get(field);
    if (!s) {
      throw new TypedParamError(
        field,
        `unknown ${what} ${JSON.stringify(field)}; known: ${[...schema.keys()].join(', ')}`,
      );
    }
    if (Array.isArray(v)) {
      if (!s.multiple)
        throw new TypedParamError(field, `${what} ${field} takes one value, got a list`);
      for (const x of v) out.push(one(field, s.type, x, what));
    } else {
      out.push(one(field, s.type, v, what));
    }
  }
  return out;
}

/** Replaces (or adds) one string parameter in a typed parameter list. */
export function replaceString(
  params: readonly RemoteTypedParam[],
  field: string,
  value: string,
): RemoteTypedParam[] {
  return [...params.filter((p) => p.field !== field), { field, value: { type: 7, s: value } }];
}

/** The first string value of `field`, if present. */
export function getString(params: readonly RemoteTypedParam[], field: string): string | undefined {
  for (const p of params) if (p.field === field && p.value.type === 7) return p.value.s;
  return undefined;
}
