/** `virtwire call PROGRAM.PROCEDURE 'JSON'`, `call --list [PROGRAM]`, `call --describe PROCEDURE`. */
import {
  argsTemplate,
  listProcedures,
  notCallable,
  parseJsonArgs,
  prepareArgs,
  type ResolvedProcedure,
  resolveProcedure,
} from './call.js';
import type { CliContext } from './context.js';
import { UsageError } from './errors.js';
import { jsonPretty } from './json.js';

export interface CallOptions {
  readonly list?: boolean;
  readonly describe?: boolean;
  readonly adminSocket?: string;
}

/** The admin socket of a system libvirtd (virt-admin's default). */
import { DEFAULT_ADMIN_SOCKET } from './constants.js';

export { DEFAULT_ADMIN_SOCKET };

export function describeProcedure(r: ResolvedProcedure): string {
  const p = r.proc;
  const lines = [
    `${r.programName}.${p.method}`,
    `  libvirt name: ${r.programName.toUpperCase()}_PROC_${p.name}`,
    `  number:       ${p.number} (program 0x${r.program.program.toString(16)} version ${r.program.version})`,
    `  arguments:    ${p.args ? p.args.name : 'none'}`,
    `  result:       ${p.ret ? p.ret.name : 'none'}`,
    `  priority:     ${p.priority}`,
  ];
  if (p.stream) lines.push(`  stream:       ${p.stream}`);
  if (p.event) lines.push('  event:        yes (sent by the daemon)');
  if (p.acl.length) lines.push(`  access:       ${p.acl.join(', ')}`);
  const t = argsTemplate(p);
  if (t !== null)
    lines.push(`  example:      virtwire call ${r.programName}.${p.method} '${jsonLineOf(t)}'`);
  return lines.join('\n');
}

const jsonLineOf = (v: unknown): string => JSON.stringify(JSON.parse(jsonPretty(v)));

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
