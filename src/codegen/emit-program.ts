import type { Module, SymbolTable } from './model.js';
import { camelCase, pascalCase, stripPrefix } from './names.js';

/** Annotations of one procedure, as kept in protocol/procedures.json. */
export interface ProcedureAnnotations {
  readonly number: number;
  readonly generate?: string;
  readonly acl?: readonly string[];
  readonly aclfilter?: readonly string[];
  readonly priority?: string;
  readonly readstream?: number;
  readonly writestream?: number;
  readonly sparseflag?: string;
}

/** Describes the RPC program a module defines, if it defines one. */
export interface ProgramSpec {
  /** e.g. `remote`; names the table export `remoteProgram`. */
  readonly id: string;
  /** Prefix of the procedure enum members, e.g. `REMOTE_PROC_`. */
  readonly procPrefix: string;
  /** Prefix of the argument structs, e.g. `remote_`. */
  readonly structPrefix: string;
  /** Names of the consts holding the program number and version. */
  readonly programConst: string;
  readonly versionConst: string;
  /** The enum listing the procedures. */
  readonly procEnum: string;
  /** Its procedures are one-way MESSAGEs that get no reply (keepalive's PING and PONG). */
  readonly oneWay?: boolean;
  readonly annotations: Readonly<Record<string, ProcedureAnnotations>>;
}

/** Appends a program's method map, procedure table and event table to a generated module. */
export function emitProgram(
  p: ProgramSpec,
  mod: Module,
  symbols: SymbolTable,
  body: string[],
  useType: (name: string) => string,
  useFn: (fn: string, name: string) => string,
): void {
  const procEnum = mod.spec.definitions.find((d) => d.kind === 'enum' && d.name === p.procEnum);
  if (procEnum?.kind !== 'enum') throw new Error(`${mod.id}: no enum ${p.procEnum}`);
  const program = symbols.resolve({ ref: p.programConst });
  const version = symbols.resolve({ ref: p.versionConst });
  const codec = (name: string): string => {
    if (!symbols.has(name)) return 'null';
    const T = useType(name);
    return `{ name: '${name}', encode: ${useFn(`encode${T}`, name)}, decode: ${useFn(`decode${T}`, name)} } satisfies Codec<${T}>`;
  };

  // Message types from virnet.x's virNetMessageType, resolved now so that a call needs no lookup.
  const CALL = symbols.resolve({ ref: 'VIR_NET_CALL' });
  const MESSAGE = symbols.resolve({ ref: 'VIR_NET_MESSAGE' });
  const rows: string[] = [];
  const events: string[] = [];
  const methods: string[] = [];
  for (const m of procEnum.members) {
    const name = stripPrefix(m.name, p.procPrefix);
    const number = symbols.resolve(m.value);
    const ann = p.annotations[m.name];
    if (!ann) throw new Error(`${m.name} has no entry in procedures.json`);
    if (ann.number !== number)
      throw new Error(`${m.name}: procedures.json says ${ann.number}, .x says ${number}`);
    const base = `${p.structPrefix}${name.toLowerCase()}`;
    const msg = symbols.has(`${base}_msg`) ? `${base}_msg` : null;
    const args = symbols.has(`${base}_args`) ? `${base}_args` : null;
    const ret = symbols.has(`${base}_ret`) ? `${base}_ret` : null;
    const method = camelCase(name);
    const stream =
      ann.readstream !== undefined ? "'read'" : ann.writestream !== undefined ? "'write'" : 'null';
    const priority = ann.priority === 'high' ? "'high'" : "'low'";
    const acl = `[${(ann.acl ?? []).map((a) => `'${a}'`).join(', ')}]`;
    const type = msg !== null || p.oneWay ? MESSAGE : CALL;
    rows.push(
      `  { program: programId, name: '${name}', number: ${number}, label: '${p.id}.${name}', type: ${type}, ` +
        `method: '${method}', args: ${codec(args ?? msg ?? '')}, ret: ${codec(ret ?? '')}, ` +
        `event: ${msg !== null}, priority: ${priority}, stream: ${stream}, sparseFlag: ${ann.sparseflag ? `'${ann.sparseflag}'` : 'null'}, acl: ${acl} },`,
    );
    if (msg) events.push(`  { name: '${name}', number: ${number}, payload: ${codec(msg)} },`);
    const a = args ? useType(args) : 'undefined';
    const r = ret ? useType(ret) : 'undefined';
    if (!msg)
      methods.push(`  /** \`${m.name}\` (${number}) */`, `  ${method}: [args: ${a}, ret: ${r}];`);
  }
  const P = pascalCase(p.id);
  body.push(`/** Argument and result types of every ${p.id} procedure, by method name. */`);
  body.push(`export interface ${P}Methods {`, ...methods, '}', '');
  body.push(
    `/** The ${p.id} program's identity, shared by the call descriptors of its procedures. */`,
  );
  body.push(
    `const programId: ProgramId = { name: '${p.id}', program: ${program}, version: ${version} };`,
    '',
  );
  body.push(
    `/** The ${p.id} program: number, version and every procedure with its call descriptor and codecs. */`,
  );
  body.push(`export const ${p.id}Program: ProgramInfo = {`);
  body.push(
    `  name: '${p.id}',`,
    `  program: ${program},`,
    `  version: ${version},`,
    '  procedures: [',
  );
  body.push(...rows.map((r) => `  ${r}`), '  ],', '};', '');
  body.push(
    `/** Events of the ${p.id} program: procedures the server sends as MESSAGE, with their payloads. */`,
  );
  // a declared type, not the literal one: the public table's shape is EventInfo
  body.push(`export const ${p.id}Events: readonly EventInfo[] = [`, ...events, '];', '');
}
