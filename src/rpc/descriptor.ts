/**
 * Finding call descriptors: the generated tables hold one per procedure;
 * these helpers look them up by name (indexes built once per program) and
 * make one for a procedure no table knows (a newer daemon's, or a test's).
 */
import { VirNetMessageType } from '../generated/virnet.js';
import type { Codec } from '../xdr/index.js';
import type { CallDescriptor, ProcedureInfo, ProgramId, ProgramInfo } from '../xdr/program.js';

const indexes = new WeakMap<ProgramInfo, Map<string | number, ProcedureInfo>>();

/**
 * The procedure of `program` named `name` (`DOMAIN_GET_INFO`) or `method`
 * (`domainGetInfo`), or numbered `number`; a TypeError when there is none.
 */
export function findProcedure(program: ProgramInfo, key: string | number): ProcedureInfo {
  let index = indexes.get(program);
  if (!index) {
    index = new Map();
    for (const p of program.procedures) {
      index.set(p.name, p);
      index.set(p.method, p);
      index.set(p.number, p);
    }
    indexes.set(program, index);
  }
  const p = index.get(key);
  if (!p) throw new TypeError(`${program.name} has no procedure ${key}`);
  return p;
}

/**
 * A descriptor for procedure `number` of `program`, for procedures the
 * generated tables do not list. Without codecs it sends no arguments and
 * expects an empty reply.
 */
export function callDescriptor<A = unknown, R = unknown>(
  program: ProgramId,
  number: number,
  opts: {
    readonly name?: string;
    readonly args?: Codec<A> | null;
    readonly ret?: Codec<R> | null;
    readonly priority?: 'high' | 'low';
    readonly stream?: 'read' | 'write' | null;
    readonly type?: number;
  } = {},
): CallDescriptor<A, R> {
  const name = opts.name ?? String(number);
  return {
    program,
    name,
    number,
    label: `${program.name}.${name}`,
    type: opts.type ?? VirNetMessageType.VIR_NET_CALL,
    args: opts.args ?? null,
    ret: opts.ret ?? null,
    priority: opts.priority ?? 'low',
    stream: opts.stream ?? null,
  };
}
