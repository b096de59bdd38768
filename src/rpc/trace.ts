/**
 * Protocol trace lines, one per RPC message, with programs and procedures by
 * name: `virtwire: -> CALL remote.DOMAIN_LOOKUP_BY_NAME(23) serial=7 OK 36 bytes`.
 * The RPC client writes them to stderr when NODE_DEBUG names `virtwire` (as
 * Node's debuglog matches sections); the CLI's --debug uses the same lines.
 */
import type { ProgramInfo } from '../xdr/program.js';

const TYPES = [
  'CALL',
  'REPLY',
  'MESSAGE',
  'STREAM',
  'CALL_WITH_FDS',
  'REPLY_WITH_FDS',
  'STREAM_HOLE',
];
const STATUS = ['OK', 'ERROR', 'CONTINUE'];

/** Programs whose procedures trace lines can name: every program bound to a client. */
const programs = new Map<number, { name: string; procs: Map<number, string> }>();

export function registerProgramNames(p: ProgramInfo): void {
  if (programs.has(p.program)) return;
  programs.set(p.program, {
    name: p.name,
    procs: new Map(p.procedures.map((x) => [x.number, x.name])),
  });
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
  const prog = programs.get(h.prog);
  const procName = prog?.procs.get(h.proc);
  const where = prog
    ? `${prog.name}.${procName ?? '?'}(${h.proc})`
    : `0x${h.prog.toString(16)}.${h.proc}`;
  const type = TYPES[h.type] ?? `type${h.type}`;
  const status = STATUS[h.status] ?? `status${h.status}`;
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
