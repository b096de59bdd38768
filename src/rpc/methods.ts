import type { CallDescriptor, ProgramInfo } from '../xdr/program.js';
import type { CallOptions, RpcClient } from './client.js';

/**
 * Turns a generated `XxxMethods` map (`{ connectOpen: [args: A, ret: R] }`)
 * into callable signatures: `(args: A, opts?) => Promise<R>`; procedures
 * without arguments take none.
 */
export type MethodsOf<M> = {
  readonly [K in keyof M]: M[K] extends [args: infer A, ret: infer R]
    ? [A] extends [undefined]
      ? (args?: undefined, opts?: CallOptions) => Promise<R>
      : (args: A, opts?: CallOptions) => Promise<R>
    : never;
};

/**
 * What a method table calls through: an RpcClient, or anything that routes
 * calls to one (a supervised connection sends them to its current link).
 */
export interface Caller {
  call(d: CallDescriptor, args: unknown, opts?: CallOptions): Promise<unknown>;
}

/** Where a method table keeps its caller: a symbol, so the table lists only procedures. */
const CLIENT = Symbol('virtwire.client');

interface Bound {
  readonly [CLIENT]: Caller;
}

/**
 * One prototype per program, holding a method per callable procedure; built
 * the first time a connection binds the program and shared by every
 * connection after it, so a connection's table is an object holding only its
 * client (not a closure per procedure per connection).
 */
const prototypes = new WeakMap<ProgramInfo, object>();

function method(d: CallDescriptor, name: string) {
  return function (this: Bound | undefined, args?: unknown, opts?: CallOptions): Promise<unknown> {
    const client = this?.[CLIENT];
    if (client === undefined) {
      return Promise.reject(
        new TypeError(
          `${d.program.name}.${name} was called without its method table: call it as conn.${d.program.name}.${name}(...), or bind it first`,
        ),
      );
    }
    return client.call(d, args, opts);
  };
}

function prototypeOf(program: ProgramInfo): object {
  let proto = prototypes.get(program);
  if (proto) return proto;
  const methods: PropertyDescriptorMap = {};
  for (const proc of program.procedures) {
    if (proc.event) continue;
    methods[proc.method] = { value: method(proc, proc.method), enumerable: true };
  }
  proto = Object.freeze(Object.create(null, methods) as object);
  prototypes.set(program, proto);
  return proto;
}

/**
 * The typed method object of one program over one client (or caller).
 * Methods read their client from `this`: call them on the table
 * (`conn.remote.x()`), or bind them before passing them around.
 */
export function bindProgram<M>(client: Caller | RpcClient, program: ProgramInfo): MethodsOf<M> {
  const table = Object.create(prototypeOf(program)) as Bound;
  Object.defineProperty(table, CLIENT, { value: client });
  return Object.freeze(table) as unknown as MethodsOf<M>;
}
