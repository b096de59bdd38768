/**
 * Emits src/generated/handles.ts: one abstract base class per libvirt object type, generic over
 * the hand-written classes that extend them, with one method per public C function that RPC
 * carries (see handle-model.ts for how each call is mapped, handle-names.ts for the names).
 */
import type { ApiFacts } from './api.js';
import { GENERATOR_VERSION, type ProcedureAnnotations } from './emit.js';
import { type ApiFunctions, disposition } from './handle-facts.js';
import { type MethodModel, methodModel } from './handle-model.js';
import { HANDLE_CLASSES, type HandleClass } from './handle-names.js';
import {
  familyTypeName,
  type ParamFamily,
  paramFamily,
  TYPED_PARAM_FAMILIES,
} from './handle-params.js';
import type { SymbolTable } from './model.js';
import { camelCase, pascalCase } from './names.js';

export interface HandlesInput {
  readonly functions: ApiFunctions;
  readonly api: ApiFacts;
  readonly symbols: SymbolTable;
  readonly annotations: Readonly<Record<string, Readonly<Record<string, ProcedureAnnotations>>>>;
  readonly libvirtVersion: string;
}

export interface HandlesOutput {
  readonly code: string;
  readonly methods: readonly MethodModel[];
}

const RPC_TABLES: Readonly<Record<string, string>> = {
  remote: 'RemoteMethods',
  qemu: 'QemuMethods',
  lxc: 'LxcMethods',
  admin: 'AdminMethods',
};

/** Every method of every class; fails listing each function it cannot map. */
export function buildMethods(input: HandlesInput): MethodModel[] {
  const families = new Map<string, { typeName: string; prefix: string }>();
  const family = (cName: string) => {
    const prefix = TYPED_PARAM_FAMILIES[cName];
    if (prefix === undefined) return null;
    if (prefix === null) return null;
    let f = families.get(prefix);
    if (!f) {
      f = { typeName: familyTypeName(prefix), prefix };
      families.set(prefix, f);
    }
    return f;
  };
  const stream = (proc: string): 'read' | 'write' | 'duplex' | null => {
    for (const table of Object.values(input.annotations)) {
      const a = table[proc];
      if (!a) continue;
      if (a.readstream !== undefined && a.writestream !== undefined) return 'duplex';
      if (a.readstream === 2) return 'duplex'; // console and channel: read and written
      if (a.readstream !== undefined) return 'read';
      if (a.writestream !== undefined) return 'write';
    }
    return null;
  };
  const ctx = { symbols: input.symbols, functions: input.functions.functions, family, stream };
  const out: MethodModel[] = [];
  const problems: string[] = [];
  for (const [name, fn] of Object.entries(input.functions.functions)) {
    if (disposition(name, fn).kind !== 'generate') continue;
    const hasTyped = fn.args.some((a) => /virTypedParameterPtr/.test(a.type));
    if (hasTyped && !(name in TYPED_PARAM_FAMILIES)) {
      problems.push(`${name}: takes typed parameters but has no entry in TYPED_PARAM_FAMILIES`);
      continue;
    }
    try {
      out.push(methodModel(name, fn, ctx));
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  if (problems.length > 0) {
    throw new Error(`cannot map ${problems.length} function(s):\n  ${problems.join('\n  ')}`);
  }
  return out;
}

/** libvirt's reference page of a function: one page per header. */
export function referenceUrl(header: string, cName: string): string {
  return `https://libvirt.org/html/libvirt-${header.replace(/\.h$/, '')}.html#${cName}`;
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const TS_TYPES: Readonly<Record<string, string>> = {
  int: 'number',
  uint: 'number',
  double: 'number',
  llong: 'bigint',
  ullong: 'bigint',
  boolean: 'boolean',
  string: 'string',
};

function emitFamily(f: ParamFamily): string[] {
  const out = [
    `/** Typed parameters \`${f.prefix}*\` (${f.header}), by libvirt's field names. */`,
    `export interface ${f.typeName} {`,
    '  readonly [field: string]: TypedValue | readonly string[] | undefined;',
  ];
  for (const x of f.fields) {
    const key = IDENT.test(x.field) ? x.field : JSON.stringify(x.field);
    const t = TS_TYPES[x.type] ?? 'TypedValue';
    out.push(`  readonly ${key}?: ${x.multiple ? `${t} | readonly ${t}[]` : t};`);
  }
  out.push('}', '');
  return out;
}

function emitMethod(m: MethodModel): string[] {
  const url = referenceUrl(m.header, m.cName);
  const since = m.since === '' ? '' : ` (libvirt ${m.since})`;
  const doc = [
    '  /**',
    `   * [${m.cName}](${url})${since}, over \`${m.proc}\` (${m.procNumber}).`,
    '   */',
  ];
  const optsType = m.stream === null ? 'CallOptions' : 'OpenStreamOptions';
  const params = [
    ...m.params.map((p) =>
      p.init === undefined ? `${p.name}: ${p.type}` : `${p.name} = ${p.init}`,
    ),
    `opts?: ${optsType}`,
  ].join(', ');
  const self =
    m.cls.name === 'Connection' || m.cls.name === 'AdminConnection' ? 'this' : 'this.conn';
  const table = m.program === 'admin' ? 'admin' : m.program;
  const rpc = `${self}.${table}`;
  const argsObj = (countExpr: string): string =>
    `{ ${m.args.map(([k, v]) => (v === 'count' ? `${k}: ${countExpr}` : k === v ? k : `${k}: ${v}`)).join(', ')} }`;
  const body: string[] = [];
  if (m.stringParams) {
    const conn = self === 'this' ? 'this' : 'this.conn';
    body.push(
      '    // as libvirt: string parameters are asked for when the daemon can send them',
      `    if (await ${conn}.supportsFeature(9 /* VIR_DRV_FEATURE_TYPED_PARAM_STRING */, opts)) flags |= 4 /* VIR_TYPED_PARAM_STRING_OKAY */;`,
    );
  }
  if (m.stream !== null) {
    const retT = m.retType ?? 'undefined';
    const args = m.argsType === null ? 'undefined' : `${argsObj('0')} satisfies ${m.argsType}`;
    const procName = m.proc.slice(`${m.program.toUpperCase()}_PROC_`.length);
    const got = m.retType === null ? '{ stream }' : '{ stream, result: r }';
    body.push(
      `    const ${got} = await ${self}.openStream<${retT}>(${m.program}Program, '${procName}', ${args}, opts);`,
    );
    body.push(m.retType === null ? '    return stream;' : '    return { stream, ...r };');
  } else {
    const noArgs = m.argsType === null;
    if (m.count?.kind === 'probe') {
      body.push(`    const a = ${argsObj('0')};`);
      body.push(`    const n = await ${rpc}.${m.procMethod}(a, opts);`);
      body.push(
        `    const r = n.${camelCase(m.count.from)} === 0 ? n : await ${rpc}.${m.procMethod}({ ...a, ${m.count.field}: n.${camelCase(m.count.from)} }, opts);`,
      );
    } else if (m.count?.kind === 'call') {
      const cargs =
        m.count.args.length === 0
          ? 'undefined'
          : `{ ${m.count.args.map(([k, v]) => (k === v ? k : `${k}: ${v}`)).join(', ')} }`;
      body.push(`    const c = await ${rpc}.${m.count.procMethod}(${cargs}, opts);`);
      body.push(
        `    const r = await ${rpc}.${m.procMethod}(${argsObj(`c.${camelCase(m.count.from)}`)}, opts);`,
      );
    } else {
      const call = `await ${rpc}.${m.procMethod}(${noArgs ? 'undefined' : argsObj('0')}, opts)`;
      body.push(m.result === null ? `    ${call};` : `    const r = ${call};`);
    }
    if (m.result === 'pass') body.push('    return r;');
    else if (m.result !== null) body.push(`    return ${m.result};`);
  }
  return [...doc, `  async ${m.method}(${params}) {`, ...body, '  }', ''];
}

function emitClass(cls: HandleClass, methods: readonly MethodModel[]): string[] {
  const admin = cls.program === 'admin';
  const T = admin ? 'AdminHandleTypes' : 'HandleTypes';
  const out = [
    `/** Generated methods of ${cls.name}: extend it with the hand-written class. */`,
    `export abstract class ${cls.name}Base<H extends ${T}> {`,
  ];
  if (cls.name === 'Connection') {
    out.push(
      '  abstract readonly remote: MethodsOf<RemoteMethods>;',
      '  abstract readonly qemu: MethodsOf<QemuMethods>;',
      '  abstract readonly lxc: MethodsOf<LxcMethods>;',
      '  /** The one way handles are made from wire identities. */',
      '  abstract readonly handles: HandleFactory<H>;',
      '  /** Opens a stream with a procedure the protocol tables mark as one. */',
      '  abstract openStream<R = unknown>(program: ProgramInfo, procedure: string, args: unknown, opts?: OpenStreamOptions): Promise<{ stream: VirStream; result: R }>;',
      "  /** Whether the daemon supports a feature (libvirt's VIR_DRV_FEATURE_* numbers). */",
      '  abstract supportsFeature(feature: number, opts?: CallOptions): Promise<boolean>;',
      '',
    );
  } else if (cls.name === 'AdminConnection') {
    out.push(
      '  abstract readonly admin: MethodsOf<AdminMethods>;',
      '  /** The one way handles are made from wire identities. */',
      '  abstract readonly handles: AdminHandleFactory<H>;',
      '',
    );
  } else {
    out.push(
      `  abstract readonly conn: ${admin ? 'AdminConnectionBase' : 'ConnectionBase'}<H>;`,
      `  abstract readonly wire: ${pascalCase(cls.wire!)};`,
      '',
    );
  }
  for (const m of methods) out.push(...emitMethod(m));
  if (out.at(-1) === '') out.pop();
  out.push('}', '');
  return out;
}

export function emitHandles(input: HandlesInput): HandlesOutput {
  const methods = buildMethods(input);
  const byClass = new Map<string, MethodModel[]>();
  for (const m of methods) byClass.set(m.cls.name, [...(byClass.get(m.cls.name) ?? []), m]);
  for (const list of byClass.values()) list.sort((a, b) => (a.method < b.method ? -1 : 1));
  const classes = HANDLE_CLASSES.filter((c) => c.name !== 'Stream');
  const remoteHandles = classes.filter((c) => c.program === 'remote' && c.wire !== null);
  const adminHandles = classes.filter((c) => c.program === 'admin' && c.wire !== null);

  // Types the code refers to, by the module that defines them.
  const text = methods.map((m) => emitMethod(m).join('\n')).join('\n');
  const prefixes = [
    ...new Set(methods.map((m) => TYPED_PARAM_FAMILIES[m.cName]).filter((p) => p != null)),
  ].sort();
  const families = prefixes.map((p) => paramFamily(input.api, p));
  const wanted = (module: string, prefix: string): string[] => {
    const names = new Set<string>();
    for (const m of text.matchAll(new RegExp(`\\b${prefix}[A-Z][A-Za-z0-9]*\\b`, 'g')))
      names.add(m[0]);
    for (const c of classes) if (c.wire?.startsWith(module)) names.add(pascalCase(c.wire));
    names.add(RPC_TABLES[module]!);
    return [...names].filter((n) => input.symbols.has(snake(n)) || n === RPC_TABLES[module]).sort();
  };
  const snake = (n: string): string => n.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
  const usesStream = methods.some((m) => m.stream !== null);

  const out: string[] = [
    `// Code generated by virtwire's generator v${GENERATOR_VERSION} (src/codegen/handles.ts) from`,
    `// protocol/functions.json and protocol/*.x (libvirt ${input.libvirtVersion}). DO NOT EDIT: run \`npm run generate\`.`,
    '',
    "import { type TypedValue, fromTypedParams, paramSchema, type ParamSchema, toTypedParams } from '../api/typed-params.js';",
    "import { InvalidArgumentError } from '../errors.js';",
    "import type { CallOptions } from '../rpc/client.js';",
    "import type { MethodsOf } from '../rpc/methods.js';",
    "import type { VirStream, VirStreamOptions } from '../rpc/stream.js';",
    "import type { ProgramInfo } from '../xdr/program.js';",
    `import type { ${wanted('admin', 'Admin').join(', ')} } from './admin.js';`,
    `import type { ${wanted('lxc', 'Lxc').join(', ')} } from './lxc.js';`,
    `import type { ${wanted('qemu', 'Qemu').join(', ')} } from './qemu.js';`,
    `import { ${usesStream ? 'remoteProgram, ' : ''}${wanted('remote', 'Remote')
      .map((n) => `type ${n}`)
      .join(', ')} } from './remote.js';`,
    '',
    '/** A typed-parameter record whose fields libvirt names no constants for. */',
    'export type TypedParams = Readonly<Record<string, TypedValue>>;',
    '',
    '/** What a setter takes: every field optional; 64-bit fields also as safe-integer numbers. */',
    'export type ParamsIn<T> = { readonly [K in keyof T]?: T[K] extends bigint | undefined ? bigint | number : T[K] };',
    '',
    ...families.flatMap(emitFamily),
    'function uuidArg(s: string, argument: string): Uint8Array {',
    "  const hex = s.trim().replace(/-/g, '');",
    '  if (!/^[0-9a-fA-F]{32}$/.test(hex)) {',
    "    throw new InvalidArgumentError(argument, argument + ' must be a UUID, got ' + JSON.stringify(s));",
    '  }',
    '  const out = new Uint8Array(16);',
    '  for (let i = 0; i < 16; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);',
    '  return out;',
    '}',
    '',
    'const schemas = new Map<string, ParamSchema>();',
    'function schema(prefix: string): ParamSchema {',
    '  let s = schemas.get(prefix);',
    '  if (!s) {',
    '    s = paramSchema(prefix);',
    '    schemas.set(prefix, s);',
    '  }',
    '  return s;',
    '}',
    '',
    '/** A C string that travelled as one int per character, up to its terminating NUL. */',
    'function cString(chars: readonly number[]): string {',
    '  const end = chars.indexOf(0);',
    '  return String.fromCharCode(...(end < 0 ? chars : chars.slice(0, end)).map((c) => c & 0xff));',
    '}',
    '',
    '/** Splits a per-CPU statistics reply: `count` parameters for each CPU in turn. */',
    'function perCpu<T>(params: readonly Parameters<typeof fromTypedParams>[0][number][], count: number): T[] {',
    '  const out: T[] = [];',
    '  for (let i = 0; count > 0 && i < params.length; i += count) out.push(fromTypedParams(params.slice(i, i + count)) as T);',
    '  return out;',
    '}',
    '',
    '/** Wire identity of each handle type. */',
    'export interface HandleWires {',
    ...remoteHandles.map((c) => `  readonly ${c.name}: ${pascalCase(c.wire!)};`),
    '}',
    '',
    '/** The hand-written classes of the handles: each exposes its wire identity. */',
    'export type HandleTypes = { readonly [K in keyof HandleWires]: { readonly wire: HandleWires[K] } };',
    '',
    '/** Makes the handle of each type from its wire identity. */',
    'export type HandleFactory<H extends HandleTypes> = { readonly [K in keyof HandleWires]: (wire: HandleWires[K]) => H[K] };',
    '',
    'export interface AdminHandleWires {',
    ...adminHandles.map((c) => `  readonly ${c.name}: ${pascalCase(c.wire!)};`),
    '}',
    '',
    'export type AdminHandleTypes = { readonly [K in keyof AdminHandleWires]: { readonly wire: AdminHandleWires[K] } };',
    '',
    '/** Makes the admin handle of each admin object type from its wire form. */',
    'export type AdminHandleFactory<H extends AdminHandleTypes> = { readonly [K in keyof AdminHandleWires]: (wire: AdminHandleWires[K]) => H[K] };',
    '',
    "/** Options of a call that opens a stream: the call's own and the stream's. */",
    'export type OpenStreamOptions = CallOptions & VirStreamOptions;',
    '',
  ];
  for (const c of classes) out.push(...emitClass(c, byClass.get(c.name) ?? []));
  while (out.at(-1) === '') out.pop();
  return { code: `${out.join('\n')}\n`, methods };
}
