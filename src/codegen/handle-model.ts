/**
 * From the facts (protocol/functions.json: C signatures and carrying procedures) and the .x
 * structs to one model per generated handle method: its TypeScript parameters in C order, how
 * each wire field of the procedure's arguments is filled, and how the reply becomes the result.
 *
 * C arguments and wire fields are matched by name (letters and digits, case-insensitive), then
 * by position among what is left (C order against .x field order, kinds checked); anything that
 * does not fit fails loudly with the function's name. The few functions whose calls no rule
 * explains are in OVERRIDES below.
 */
import type { Declaration } from './ast.js';
import type { ApiFunction } from './handle-facts.js';
import { HANDLE_CLASSES, type HandleClass, handleMethodName } from './handle-names.js';
import { familyTypeName, STRING_PARAM_GETTERS } from './handle-params.js';
import type { SymbolTable } from './model.js';
import { camelCase, pascalCase } from './names.js';

/** A wire field's shape, reduced to what the handle layer treats differently. */
export type WireKind =
  | { readonly k: 'handle'; readonly cls: HandleClass }
  | { readonly k: 'string' }
  | { readonly k: 'int' }
  | { readonly k: 'hyper' }
  | { readonly k: 'bytes'; readonly uuid: boolean }
  | { readonly k: 'typed' }
  | { readonly k: 'stats' }
  /** `char x[N]` / `char x<N>`: a C string sent as one 4-byte int per character. */
  | { readonly k: 'chars' }
  | { readonly k: 'other' }
  | { readonly k: 'array'; readonly of: WireKind }
  | { readonly k: 'nullable'; readonly of: WireKind };

const HANDLE_BY_WIRE = new Map(
  HANDLE_CLASSES.filter((c) => c.wire !== null).map((c) => [c.wire!, c]),
);

/** Classifies a struct field of a .x file. */
export function wireKind(d: Declaration, symbols: SymbolTable): WireKind {
  if (d.type.kind === 'prim') {
    switch (d.type.prim) {
      case 'string':
        return { k: 'string' };
      case 'opaque':
        return { k: 'bytes', uuid: false };
      case 'hyper':
      case 'uhyper':
        return d.form === 'var' || d.form === 'fixed'
          ? { k: 'array', of: { k: 'hyper' } }
          : { k: 'hyper' };
      default: {
        if (d.type.spelled === 'char' && (d.form === 'var' || d.form === 'fixed')) {
          return { k: 'chars' };
        }
        const one: WireKind = d.type.prim === 'void' ? { k: 'other' } : { k: 'int' };
        // `char label<N>` and friends are arrays of 4-byte ints on the wire.
        return d.form === 'var' || d.form === 'fixed' ? { k: 'array', of: one } : one;
      }
    }
  }
  const name = d.type.name;
  const single = (): WireKind => {
    const cls = HANDLE_BY_WIRE.get(name);
    if (cls) return { k: 'handle', cls };
    if (/_typed_param$/.test(name)) return { k: 'typed' };
    if (name === 'remote_domain_stats_record') return { k: 'stats' };
    const def = symbols.lookup(name).def;
    if (def.kind === 'typedef') {
      const inner = wireKind(def.decl, symbols);
      return inner.k === 'bytes' && /_uuid$/.test(name) ? { k: 'bytes', uuid: true } : inner;
    }
    if (def.kind === 'enum') return { k: 'int' };
    return { k: 'other' };
  };
  const one = single();
  if (d.form === 'optional') return { k: 'nullable', of: one };
  if (d.form === 'var' || d.form === 'fixed') {
    if (one.k === 'typed') return one; // a typed-parameter list is one record to the user
    return { k: 'array', of: one };
  }
  return one;
}

const normal = (s: string): string => s.replace(/[^A-Za-z0-9]/g, '').toLowerCase();

/** C argument kinds, for checking a positional match. */
function cKind(type: string): 'string' | 'int' | 'other' {
  const t = type.replace(/\bconst\b/g, '').trim();
  if (/^(?:unsigned\s+)?char\s*\*$/.test(t)) return 'string';
  if (/^(?:unsigned\s+|signed\s+)?(?:int|long|long long|short|size_t|char)$|^unsigned$/.test(t)) {
    return 'int';
  }
  return 'other';
}

function compatible(w: WireKind, cType: string): boolean {
  const base = w.k === 'nullable' ? w.of : w;
  const c = cKind(cType);
  if (base.k === 'string') return c === 'string';
  if (base.k === 'int' || base.k === 'hyper') return c === 'int';
  return c === 'other' || (base.k === 'bytes' && c === 'string');
}

const JS_RESERVED = new Set(['new', 'delete', 'default', 'function', 'class', 'in', 'var', 'this']);

function paramName(cName: string): string {
  const n = camelCase(cName);
  return JS_RESERVED.has(n) ? `${n}_` : n;
}

export interface ParamModel {
  readonly name: string;
  readonly type: string;
  /** Default value expression, for a trailing `flags`. */
  readonly init?: string;
}

/** What the model needs to know about typed parameters and the count procedures. */
export interface ModelContext {
  readonly symbols: SymbolTable;
  /** All public functions, to find the count function of a legacy list. */
  readonly functions: Readonly<Record<string, ApiFunction>>;
  /** Typed-parameter family of a function: its TS type name and constant prefix. */
  readonly family: (cName: string) => { typeName: string; prefix: string } | null;
  /** Stream direction of a procedure (by enum name), or null. */
  readonly stream: (proc: string) => 'read' | 'write' | 'duplex' | null;
}

export interface MethodModel {
  readonly cName: string;
  readonly header: string;
  readonly since: string;
  readonly cls: HandleClass;
  readonly method: string;
  readonly program: string;
  readonly proc: string;
  readonly procNumber: number;
  /** The procedure's method in the generated tables, e.g. `domainGetBlockInfo`. */
  readonly procMethod: string;
  /** TS type of the procedure's args struct, null when it takes none. */
  readonly argsType: string | null;
  readonly retType: string | null;
  readonly params: readonly ParamModel[];
  /** Wire field (TS name) -> expression. */
  readonly args: ReadonlyArray<readonly [string, string]>;
  /** A call made first whose reply sizes the real one: [field, how to get the count]. */
  readonly count:
    | { readonly kind: 'probe'; readonly field: string; readonly from: string }
    | {
        readonly kind: 'call';
        readonly field: string;
        readonly procMethod: string;
        readonly args: ReadonlyArray<readonly [string, string]>;
        readonly from: string;
      }
    | null;
  readonly stream: 'read' | 'write' | 'duplex' | null;
  /** Result expression over the reply `r` (null: nothing); `pass` returns the reply as is. */
  readonly result: string | null | 'pass';
  /** Adds VIR_TYPED_PARAM_STRING_OKAY to `flags` when the daemon supports string parameters. */
  readonly stringParams: boolean;
}

interface Override {
  /** Wire fields filled without a C argument. */
  readonly fill?: Readonly<Record<string, string>>;
  /** Defaults of arguments before `flags` (parameter name -> expression). */
  readonly defaults?: Readonly<Record<string, string>>;
  /** The count comes from another procedure: [field, procMethod, reply field]. */
  readonly countFrom?: readonly [string, string, string];
  /** Result expression over `r` (and `n`, the probe reply). */
  readonly result?: string;
}

/** Calls no general rule explains. Keep this short; each entry says why. */
const OVERRIDES: Readonly<Record<string, Override>> = {
  // Shares its procedure with virDomainListGetStats, which passes the domains; none = all.
  // `stats` 0 asks for every group the daemon knows, the common call.
  virConnectGetAllDomainStats: { fill: { doms: '[]' }, defaults: { stats: '0' } },
  virDomainListGetStats: { defaults: { stats: '0' } },
  // The reply carries no count: libvirt's own client asks GetSchedulerType for it first.
  virDomainGetSchedulerParameters: {
    countFrom: ['nparams', 'domainGetSchedulerType', 'nparams'],
  },
  virDomainGetSchedulerParametersFlags: {
    countFrom: ['nparams', 'domainGetSchedulerType', 'nparams'],
  },
  // Its return value is the number of host CPUs, which the map's byte length cannot tell.
  virNodeGetCPUMap: { result: '{ cpus: r.ret, cpumap: r.cpumap, online: r.online }' },
  // Each label is a C string sent as one int per character, as in virDomainGetSecurityLabel.
  virDomainGetSecurityLabelList: {
    result: 'r.labels.map((l) => ({ label: cString(l.label), enforcing: l.enforcing }))',
  },
  // The reply holds `ncpus` runs of the probed count, one per CPU.
  virDomainGetCPUStats: {
    result: `perCpu<${familyTypeName('VIR_DOMAIN_CPU_STATS_')}>(r.params, n.nparams)`,
  },
};

/** The generator could not map a function; the message names it. */
export class MappingError extends Error {}

/** The model of one generated method; throws naming the function when it cannot map it. */
export function methodModel(cName: string, fn: ApiFunction, ctx: ModelContext): MethodModel {
  const fail = (msg: string): never => {
    throw new MappingError(`${cName}: ${msg}`);
  };
  const carrier = fn.carrier;
  if (carrier.via !== 'procedure') return fail('not carried by one procedure');
  const named = handleMethodName({ name: cName, args: fn.args }) ?? fail('belongs to no handle');
  const { cls } = named;
  const program = carrier.program;
  const procName = carrier.procedure.slice(`${program.toUpperCase()}_PROC_`.length);
  const base = `${program}_${procName.toLowerCase()}`;
  const argsStruct = ctx.symbols.has(`${base}_args`) ? `${base}_args` : null;
  const retStruct = ctx.symbols.has(`${base}_ret`) ? `${base}_ret` : null;
  const fields = (s: string | null): readonly Declaration[] => {
    if (s === null) return [];
    const d = ctx.symbols.lookup(s).def;
    return d.kind === 'struct' ? d.fields : fail(`${s} is not a struct`);
  };
  const wireArgs = fields(argsStruct);
  const wireRet = fields(retStruct);
  const override = OVERRIDES[cName] ?? {};
  const retNames = new Set(wireRet.map((f) => normal(f.name)));

  // The C arguments the method takes: all but the handle itself (which `this` is).
  const selfArg = fn.args[0]?.type.trim() === cls.cType ? 0 : -1;
  const cArgs = fn.args.map((a, i) => ({ ...a, i })).filter((a) => a.i !== selfArg);
  const used = new Map<number, string>(); // C arg index -> wire field it fills
  const fill = new Map<string, string>(); // wire field -> expression
  let count: MethodModel['count'] = null;

  const rpc = cls.name === 'Connection' || cls.name === 'AdminConnection' ? 'this' : 'this.conn';
  const probeOf: Record<string, string> = { nparams: 'nparams', maxerrors: 'nerrors' };
  const pending: Declaration[] = [];
  for (const [idx, f] of wireArgs.entries()) {
    const kind = wireKind(f, ctx.symbols);
    const cMatch = cArgs.find((a) => normal(a.name) === normal(f.name) && !used.has(a.i));
    if (idx === 0 && cls.wire !== null) {
      if (kind.k === 'handle' && kind.cls === cls) fill.set(f.name, 'this.wire');
      // Node devices travel by name alone.
      else if (cls.name === 'NodeDevice' && f.name === 'name') fill.set(f.name, 'this.wire.name');
      else fail(`first wire field ${f.name} is not the ${cls.name} itself`);
      continue;
    }
    if (override.fill?.[f.name] !== undefined) {
      fill.set(f.name, override.fill[f.name]!);
      continue;
    }
    if (/^need_/.test(f.name)) {
      fill.set(f.name, '1');
      continue;
    }
    const partner = probeOf[f.name];
    if (override.countFrom?.[0] === f.name) {
      if (cMatch) used.set(cMatch.i, f.name);
      fill.set(f.name, 'count');
      count = {
        kind: 'call',
        field: camelCase(f.name),
        procMethod: override.countFrom[1],
        args: cls.wire === null ? [] : [[camelCase(wireArgs[0]!.name), 'this.wire']],
        from: override.countFrom[2],
      };
      continue;
    }
    if (partner !== undefined && wireRet.some((r) => r.name === partner)) {
      if (cMatch) used.set(cMatch.i, f.name);
      fill.set(f.name, 'count');
      count = { kind: 'probe', field: camelCase(f.name), from: partner };
      continue;
    }
    if (/^max(?:names|ids|uuids)$/.test(f.name)) {
      if (cMatch) used.set(cMatch.i, f.name);
      fill.set(f.name, 'count');
      count = { kind: 'call', field: camelCase(f.name), procMethod: '', args: [], from: 'num' };
      continue;
    }
    if (cMatch) {
      used.set(cMatch.i, f.name);
      continue;
    }
    pending.push(f);
  }
  // What names did not pair, pairs by position among the plain inputs left.
  const candidates = cArgs.filter(
    (a) => !used.has(a.i) && a.dir === 'in' && !retNames.has(normal(a.name)),
  );
  for (const f of pending) {
    const c = candidates.shift();
    if (!c) fail(`no C argument for wire field ${f.name}`);
    if (!compatible(wireKind(f, ctx.symbols), c!.type)) {
      fail(`wire field ${f.name} cannot take C argument ${c!.type} ${c!.name}`);
    }
    used.set(c!.i, f.name);
  }

  // Parameters in C order; the C arguments left over must be results or counts.
  const params: ParamModel[] = [];
  let previousArray = false;
  for (const a of cArgs) {
    const field = used.get(a.i);
    const wf = field === undefined ? undefined : wireArgs.find((f) => f.name === field);
    if (field === undefined || wf === undefined || fill.get(field) === 'count') {
      const isInt = cKind(a.type) === 'int' && a.dir === 'in';
      const companion = isInt && (previousArray || /^n[a-z_]|len$|size$|^max/i.test(a.name));
      if (field !== undefined || companion || a.dir !== 'in' || /virStreamPtr/.test(a.type)) {
        previousArray = a.dir !== 'in' || /\*/.test(a.type);
        continue;
      }
      fail(`C argument ${a.type} ${a.name} has no wire field`);
    }
    const kind = wireKind(wf!, ctx.symbols);
    previousArray = kind.k === 'array' || kind.k === 'bytes' || kind.k === 'typed';
    const p = paramName(a.name);
    const { type, expr } = argShape(kind, p, a.type, cName, field!, ctx, argsStruct);
    const init = override.defaults?.[p];
    params.push(init === undefined ? { name: p, type } : { name: p, type, init });
    fill.set(field!, expr);
  }
  for (const name of Object.keys(override.defaults ?? {})) {
    if (!params.some((x) => x.name === name)) fail(`a default for ${name}, which it does not take`);
  }
  const last = params.at(-1);
  const lastC = cArgs.filter((a) => used.has(a.i)).at(-1);
  if (last?.name === 'flags' && lastC?.name === 'flags' && lastC.type === 'unsigned int') {
    params[params.length - 1] = { name: last.name, type: last.type, init: '0' };
  }
  for (const f of wireArgs) if (!fill.has(f.name)) fail(`wire field ${f.name} is never filled`);

  if (count?.kind === 'call' && count.procMethod === '') {
    const countFn =
      [
        cName.replace('List', 'NumOf'),
        cName.replace('ListNames', 'Num'),
        cName.replace('ListChildrenNames', 'NumChildren'),
      ].find((n) => n !== cName && ctx.functions[n]?.carrier.via === 'procedure') ??
      fail('legacy list without a NumOf function to size it');
    const c = ctx.functions[countFn]!.carrier;
    const countProc = c.via === 'procedure' ? c.procedure : fail(`${countFn} has no procedure`);
    const countBase = `${program}_${countProc.slice(`${program.toUpperCase()}_PROC_`.length).toLowerCase()}`;
    const countArgs = fields(ctx.symbols.has(`${countBase}_args`) ? `${countBase}_args` : null);
    count = {
      kind: 'call',
      field: count.field,
      procMethod: camelCase(countBase.slice(program.length + 1)),
      args: countArgs.map((f) => {
        const e = fill.get(f.name);
        if (e === undefined || e === 'count') fail(`${countFn}: wire field ${f.name} unknown`);
        return [camelCase(f.name), e!] as const;
      }),
      from: 'num',
    };
  }

  const stream = ctx.stream(carrier.procedure);
  const result = override.result ?? resultExpr(wireRet, count, cName, rpc, ctx);
  return {
    cName,
    header: fn.header,
    since: fn.since,
    cls,
    method: named.method,
    program,
    proc: carrier.procedure,
    procNumber: carrier.number,
    procMethod: camelCase(procName),
    argsType: argsStruct === null ? null : pascalCase(argsStruct),
    retType: retStruct === null ? null : pascalCase(retStruct),
    params,
    args: wireArgs.map((f) => [camelCase(f.name), fill.get(f.name)!] as const),
    count,
    stream,
    result,
    stringParams: stringParams(cName, params),
  };
}

function stringParams(cName: string, params: readonly ParamModel[]): boolean {
  if (!STRING_PARAM_GETTERS.has(cName)) return false;
  if (params.at(-1)?.name !== 'flags') {
    throw new MappingError(`${cName}: adds VIR_TYPED_PARAM_STRING_OKAY but takes no flags`);
  }
  return true;
}

function argShape(
  kind: WireKind,
  p: string,
  cType: string,
  cName: string,
  field: string,
  ctx: ModelContext,
  argsStruct: string | null,
): { type: string; expr: string } {
  const k = kind.k === 'nullable' ? kind.of : kind;
  const nullable = kind.k === 'nullable';
  switch (k.k) {
    case 'handle':
      return nullable
        ? { type: `H['${k.cls.name}'] | null`, expr: `${p} === null ? null : ${p}.wire` }
        : { type: `H['${k.cls.name}']`, expr: `${p}.wire` };
    case 'string':
      return { type: nullable ? 'string | null' : 'string', expr: p };
    case 'int':
      return { type: 'number', expr: p };
    case 'hyper':
      return { type: 'number | bigint', expr: `BigInt(${p})` };
    case 'bytes':
      if (k.uuid && cKind(cType) === 'string' && !/unsigned/.test(cType)) {
        return { type: 'string', expr: `uuidArg(${p}, '${p}')` };
      }
      return { type: 'Uint8Array', expr: p };
    case 'typed': {
      const fam = ctx.family(cName);
      if (fam === null) return { type: 'TypedParams', expr: `toTypedParams(${p}, {}, '${p}')` };
      return {
        type: `ParamsIn<${fam.typeName}>`,
        expr: `toTypedParams(${p}, schema('${fam.prefix}'), '${p}')`,
      };
    }
    case 'array': {
      const of = k.of;
      if (of.k === 'handle') {
        return { type: `readonly H['${of.cls.name}'][]`, expr: `${p}.map((x) => x.wire)` };
      }
      if (of.k === 'string') return { type: 'readonly string[]', expr: `[...${p}]` };
      if (of.k === 'int') return { type: 'readonly number[]', expr: `[...${p}]` };
      if (of.k === 'hyper') {
        return { type: 'readonly (number | bigint)[]', expr: `${p}.map((x) => BigInt(x))` };
      }
      break;
    }
    default:
      break;
  }
  const T = argsStruct === null ? 'never' : pascalCase(argsStruct);
  return { type: `${T}['${camelCase(field)}']`, expr: p };
}

function resultExpr(
  wireRet: readonly Declaration[],
  count: MethodModel['count'],
  cName: string,
  rpc: string,
  ctx: ModelContext,
): string | null | 'pass' {
  const factory = `${rpc}.handles`;
  const hasArray = wireRet.some((f) => f.form === 'var' && f.name !== 'ret');
  const kept = wireRet.filter(
    (f) =>
      !(f.name === 'ret' && hasArray) &&
      !(count?.kind === 'probe' && f.name === count.from) &&
      !(count?.kind === 'call' && f.name === 'nparams'),
  );
  if (kept.length === 0) return null;
  const fam = ctx.family(cName);
  const famType = fam === null ? 'TypedParams' : fam.typeName;
  const exprs = kept.map((f): [string, string, boolean] => {
    const v = `r.${camelCase(f.name)}`;
    const kind = wireKind(f, ctx.symbols);
    const k = kind.k === 'nullable' ? kind.of : kind;
    const wrap = (x: string, c: HandleClass): string => `${factory}.${c.name}(${x})`;
    let e = v;
    if (k.k === 'handle') {
      e = kind.k === 'nullable' ? `${v} === null ? null : ${wrap(v, k.cls)}` : wrap(v, k.cls);
    } else if (k.k === 'typed') e = `fromTypedParams(${v}) as ${famType}`;
    else if (k.k === 'chars') e = `cString(${v})`;
    else if (k.k === 'array' && k.of.k === 'handle') e = `${v}.map((x) => ${wrap('x', k.of.cls)})`;
    else if (k.k === 'array' && k.of.k === 'stats') {
      const domain = HANDLE_CLASSES.find((c) => c.name === 'Domain')!;
      e = `${v}.map((x) => ({ domain: ${wrap('x.dom', domain)}, stats: fromTypedParams(x.params) as ${famType} }))`;
    }
    return [camelCase(f.name), e, e === v];
  });
  if (exprs.length === 1) return exprs[0]![1];
  if (kept.length === wireRet.length && exprs.every(([, , plain]) => plain)) return 'pass';
  return `{ ${exprs.map(([n, e]) => (e === `r.${n}` ? `${n}: r.${n}` : `${n}: ${e}`)).join(', ')} }`;
}
