/**
 * Protocol trace lines, one per RPC message, with programs and procedures by
 * name: `virtwire: -> CALL remote.DOMAIN_LOOKUP_BY_NAME(23) serial=7 OK 36 bytes`.
 * The RPC client writes them to stderr when NODE_DEBUG names `virtwire` (as
 * Node's debuglog matches sections); the CLI's --debug uses the same lines.
 */
import { VirNetMessageStatus, VirNetMessageType } from '../generated/virnet.js';
import type { ProgramInfo } from '../xdr/program.js';

/** libvirt's enum member names without the `VIR_NET_` prefix, by value. */
function names(e: Readonly<Record<string, number>>): Map<number, string> {
  return new Map(Object.entries(e).map(([k, v]) => [v, k.replace(/^VIR_NET_/, '')]));
}
const TYPES = names(VirNetMessageType);
const STATUS = names(VirNetMessageStatus);

/** `CALL`, `REPLY`, ... for a message type; undefined for one libvirt does not define. */
export const messageTypeName = (type: number): string | undefined => TYPES.get(type);
/** `OK`, `ERROR` or `CONTINUE`; undefined for a status libvirt does not define. */
export const messageStatusName = (status: number): string | undefined => STATUS.get(status);

/**
 * Programs whose procedures trace lines can name: every program bound to a
 * client. The procedure map is built on the first trace line that needs it.
 */
const programs = new Map<number, { info: ProgramInfo; procs: Map<number, string> | null }>();

export function registerProgramNames(p: ProgramInfo): void {
  if (!programs.has(p.program)) programs.set(p.program, { info: p, procs: null });
}

function procedureName(prog: number, proc: number): { program: string; proc: string } | null {
  const p = programs.get(prog);
  if (!p) return null;
  p.procs ??= new Map(p.info.procedures.map((x) => [x.number, x.name]));
  return { program: p.info.name, proc: p.procs.get(proc) ?? '?' };
}

/** The header fields a trace line shows. */
export interface TracedHeader {
  readonly prog: number;
  readonly vers?: number;
  readonly proc: number;
  readonly type: number;
  readonly serial: number;
  readonly status: number;
}

/**
 * One trace line: direction, type, `program.PROCEDURE(number)`, serial,
 * status, size; for an error reply also libvirt's error name.
 */
export function describeMessage(
  direction: 'send' | 'recv',
  h: TracedHeader,
  size: number,
  errorName?: string,
): string {
  const named = procedureName(h.prog, h.proc);
  const where = named
    ? `${named.program}.${named.proc}(${h.proc})`
    : `0x${h.prog.toString(16)}.${h.proc}`;
  const type = TYPES.get(h.type) ?? `type${h.type}`;
  const status = STATUS.get(h.status) ?? `status${h.status}`;
  const arrow = direction === 'send' ? '->' : '<-';
  const err = errorName ? ` ${errorName}` : '';
  return `virtwire: ${arrow} ${type} ${where} serial=${h.serial} ${status}${err} ${size} bytes`;
}

/** True when NODE_DEBUG names virtwire (comma or space separated, `*` wildcards, as Node matches). */
export function nodeDebugEnabled(env: NodeJS.ProcessEnv): boolean {
  const v = env.NODE_DEBUG;
  if (!v) return false;
  return v
    .split(/[\s,]+/)
    .filter(Boolean)
    .some((pat) =>
      new RegExp(`^${pat.replace(/[|\\{}()[\]^$+?.]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i').test(
        'virtwire',
      ),
    );
}

/** Whether the RPC client traces (read once, at load, as Node's debuglog does). */
export const tracing = nodeDebugEnabled(process.env);

export function trace(line: string): void {
  process.stderr.write(`${line}\n`);
}
