import type { ProgramInfo } from '../xdr/program.js';
import type { CallOptions, RpcClient } from './client.js';
import { registerProgramNames } from './trace.js';

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

/** Builds the typed method object of one program over one client. */
export function bindProgram<M>(client: RpcClient, program: ProgramInfo): MethodsOf<M> {
  registerProgramNames(program); // so protocol traces name its procedures
  const out: Record<string, (args?: unknown, opts?: CallOptions) => Promise<unknown>> = {};
  for (const proc of program.procedures) {
    if (proc.event) continue;
    out[proc.method] = (args?: unknown, opts?: CallOptions) =>
      client.call(program, proc, args, opts);
  }
  return Object.freeze(out) as unknown as MethodsOf<M>;
}
