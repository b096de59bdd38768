/** `virtwire call PROGRAM.PROCEDURE 'JSON'`, `call --list [PROGRAM]`, `call --describe PROCEDURE`. */
import { xdrTypes } from '../generated/xdr-types.js';
import type { XdrTypeMeta } from '../xdr/type-meta.js';
import {
  listProcedures,
  notCallable,
  parseJsonArgs,
  prepareArgs,
  type ResolvedProcedure,
  resolveProcedure,
} from './call.js';
import { exampleValue, fieldTree } from './call-types.js';
import type { CliContext } from './context.js';
import { UsageError } from './errors.js';
import { jsonPretty, toJsonValue } from './json.js';

export interface CallOptions {
  readonly list?: boolean;
  readonly describe?: boolean;
  readonly adminSocket?: string;
}

/** The admin socket of a system libvirtd (virt-admin's default). */
import { DEFAULT_ADMIN_SOCKET } from './constants.js';

export { DEFAULT_ADMIN_SOCKET };

/** The object references (domain, network, ...) a type holds somewhere inside, by XDR name. */
function objectRefs(t: XdrTypeMeta, seen = new Set<string>()): Set<string> {
  const refs = new Set<string>();
  const visit = (x: XdrTypeMeta): void => {
    if (typeof x === 'string') {
      if (!x.startsWith('#') || seen.has(x)) return;
      seen.add(x);
      const name = x.slice(1);
      if (/^remote_nonnull_(?!string$)/.test(name)) refs.add(name.slice('remote_nonnull_'.length));
      const def = xdrTypes[name];
      if (!def) return;
      if (def[0] === 'typedef') visit(def[1]);
      else if (def[0] === 'struct') for (const [, ft] of def[1]) visit(ft);
      else if (def[0] === 'union') {
        for (const [, f] of def[2]) if (f) visit(f[1]);
        if (def[3]) visit(def[3][1]);
      }
      return;
    }
    if (x[0] === 'array' || x[0] === 'array[]' || x[0] === 'optional') visit(x[1]);
  };
  visit(t);
  return refs;
}

/**
 * A procedure described: its names and number, the field tree of its
 * arguments and result with types and bounds, and an example call built from
 * the argument type (zeros and empty values, which procedures that take only
 * flags and counts accept as they are).
 */
export function describeProcedure(r: ResolvedProcedure): string {
  const p = r.proc;
  const label = `${r.programName}.${p.method}`;
  const lines = [
    label,
    `  libvirt name: ${r.programName.toUpperCase()}_PROC_${p.name}`,
    `  number:       ${p.number} (program 0x${r.program.program.toString(16)} version ${r.program.version})`,
    `  priority:     ${p.priority}`,
  ];
  if (p.stream) lines.push(`  stream:       ${p.stream}`);
  if (p.event) lines.push('  event:        yes (sent by the daemon)');
  if (p.acl.length) lines.push(`  access:       ${p.acl.join(', ')}`);
  lines.push(p.args ? 'arguments:' : 'arguments: none');
  if (p.args) lines.push(...fieldTree(`#${p.args.name}`));
  lines.push(p.ret ? 'result:' : 'result: none');
  if (p.ret) lines.push(...fieldTree(`#${p.ret.name}`));
  if (notCallable(r) === null) {
    const example = p.args
      ? ` '${JSON.stringify(toJsonValue(exampleValue(`#${p.args.name}`)))}'`
      : '';
    lines.push('example:', `  virtwire call ${label}${example}`);
    const refs = p.args ? [...objectRefs(`#${p.args.name}`)] : [];
    if (refs.length > 0)
      lines.push(
        `  (the ${refs.join(', ')} reference${refs.length > 1 ? 's' : ''} must name an existing object: ` +
          `a lookup prints one, e.g. virtwire call remote.domainLookupByName '{"name":"vm1"}')`,
      );
  }
  return lines.join('\n');
}

export async function callCommand(
  ctx: CliContext,
  spec: string | undefined,
  jsonText: string | undefined,
  opts: CallOptions,
): Promise<void> {
  if (opts.list) {
    if (jsonText !== undefined) throw new UsageError('call --list takes at most a program name');
    ctx.out(listProcedures(spec));
    return;
  }
  if (spec === undefined)
    throw new UsageError('call: name a procedure, e.g. remote.connectGetLibVersion (or --list)');
  const r = resolveProcedure(spec);
  if (opts.describe) {
    ctx.out(describeProcedure(r));
    return;
  }
  const why = notCallable(r);
  if (why) throw new UsageError(`call: ${why}`);
  const args = prepareArgs(r, parseJsonArgs(jsonText));
  let result: unknown;
  if (r.programName === 'admin') {
    const adm = await ctx.openAdmin(opts.adminSocket ?? DEFAULT_ADMIN_SOCKET);
    try {
      result = await adm.rpc.call(r.proc, args);
    } finally {
      await adm.close();
    }
  } else {
    const conn = await ctx.open();
    try {
      result = await conn.rpc.call(r.proc, args);
    } finally {
      await conn.close();
    }
  }
  if (result !== undefined) ctx.out(jsonPretty(result));
}
