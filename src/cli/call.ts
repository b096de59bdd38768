/**
 * `virtwire call`: any procedure of the generated tables, by name, with JSON
 * arguments fitted to the procedure's argument type by the generated type
 * table (see call-types.ts): the values JSON cannot express (hyper, opaque)
 * are converted from their JSON spellings (numbers or decimal strings; hex or
 * UUID strings), and anything that does not fit is refused by its path.
 */
import { camelCase } from '../codegen/names.js';
import { adminProgram } from '../generated/admin.js';
import { keepaliveProgram } from '../generated/keepalive.js';
import { lxcProgram } from '../generated/lxc.js';
import { qemuProgram } from '../generated/qemu.js';
import { remoteProgram } from '../generated/remote.js';
import { XdrError } from '../xdr/errors.js';
import type { ProcedureInfo, ProgramInfo } from '../xdr/program.js';
import { XdrReader } from '../xdr/reader.js';
import { XdrWriter } from '../xdr/writer.js';
import { FitError, fitValue } from './call-types.js';
import { UsageError } from './errors.js';

/** The programs `call` knows, by the name used before the dot. */
export const PROGRAMS: Readonly<Record<string, ProgramInfo>> = {
  remote: remoteProgram,
  qemu: qemuProgram,
  lxc: lxcProgram,
  admin: adminProgram,
  keepalive: keepaliveProgram,
};

export interface ResolvedProcedure {
  readonly programName: string;
  readonly program: ProgramInfo;
  readonly proc: ProcedureInfo;
}

/** Lower case without underscores: `DOMAIN_LOOKUP_BY_NAME` and `domainLookupByName` meet here. */
const norm = (s: string): string => s.toLowerCase().replace(/_/g, '');

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** Up to three procedure names close to what was typed. */
function suggest(program: ProgramInfo, programName: string, wanted: string): string[] {
  const w = norm(wanted);
  return program.procedures
    .map((p) => {
      const n = norm(p.name);
      const d = n.includes(w) || w.includes(n) ? 0 : editDistance(w, n);
      return { p, d };
    })
    .filter((x) => x.d <= Math.max(2, Math.floor(w.length / 4)))
    .sort((x, y) => x.d - y.d || x.p.name.length - y.p.name.length)
    .slice(0, 3)
    .map((x) => `${programName}.${x.p.method}`);
}

/**
 * Finds a procedure from `program.procedure` (method or libvirt name, any
 * case, or its number), a libvirt constant such as
 * `REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME` / `QEMU_PROC_DOMAIN_MONITOR_COMMAND`,
 * or a bare name, which means the remote program.
 */
export function resolveProcedure(spec: string): ResolvedProcedure {
  const s = spec.trim();
  if (s === '') throw new UsageError('call: no procedure named (e.g. remote.connectGetLibVersion)');
  let programName = 'remote';
  let name = s;
  const dot = s.indexOf('.');
  if (dot >= 0) {
    programName = s.slice(0, dot).toLowerCase();
    name = s.slice(dot + 1);
    if (!PROGRAMS[programName]) {
      throw new UsageError(
        `call: unknown program ${JSON.stringify(s.slice(0, dot))} (known: ${Object.keys(PROGRAMS).join(', ')})`,
      );
    }
  } else {
    const m = /^(remote|qemu|lxc|admin|keepalive)_proc_/i.exec(s);
    if (m) {
      programName = m[1]!.toLowerCase();
      name = s.slice(m[0].length);
    }
  }
  const program = PROGRAMS[programName]!;
  const prefix = `${programName}_proc_`;
  if (name.toLowerCase().startsWith(prefix)) name = name.slice(prefix.length);
  let proc: ProcedureInfo | undefined;
  if (/^\d+$/.test(name)) proc = program.procedures.find((p) => p.number === Number(name));
  else {
    const n = norm(name);
    proc = program.procedures.find((p) => norm(p.name) === n);
  }
  if (!proc) {
    const close = /^\d+$/.test(name) ? [] : suggest(program, programName, name);
    throw new UsageError(
      `call: ${programName} has no procedure ${JSON.stringify(name)}` +
        (close.length ? ` (did you mean ${close.join(', ')}?)` : '') +
        `; see: virtwire call --list ${programName}`,
    );
  }
  return { programName, program, proc };
}

/** Why a procedure cannot be called through `call`, or null when it can. */
export function notCallable(r: ResolvedProcedure): string | null {
  const label = `${r.programName}.${r.proc.method}`;
  if (r.programName === 'keepalive')
    return `${label} is a keepalive message the connection exchanges by itself, not a call`;
  if (r.proc.event)
    return `${label} is an event the daemon sends, not a procedure to call (see: virtwire events)`;
  if (r.proc.stream !== null)
    return `${label} opens a data stream, which call cannot carry (use the library's streams API)`;
  return null;
}

/** One line per procedure: number, method, libvirt name, and markers for events and streams. */
export function listProcedures(programName?: string): string {
  const names = programName ? [programName.toLowerCase()] : Object.keys(PROGRAMS);
  const out: string[] = [];
  for (const n of names) {
    const program = PROGRAMS[n];
    if (!program)
      throw new UsageError(
        `call --list: unknown program ${JSON.stringify(programName)} (known: ${Object.keys(PROGRAMS).join(', ')})`,
      );
    out.push(
      `${n} (program 0x${program.program.toString(16)}, version ${program.version}, ${program.procedures.length} procedures)`,
    );
    for (const p of program.procedures) {
      const mark = p.event ? ' [event]' : p.stream ? ` [stream ${p.stream}]` : '';
      out.push(`  ${String(p.number).padStart(4)}  ${n}.${p.method.padEnd(44)} ${p.name}${mark}`);
    }
  }
  return out.join('\n');
}

/** Parses the JSON argument text; a syntax error names itself. */
export function parseJsonArgs(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`call: the arguments are not valid JSON: ${(err as Error).message}`);
  }
}

type Key = string | number;

/** `remote_x_args.params[0].value.ul` -> ['params', 0, 'value', 'ul'] (TypeScript field names). */
export function pathKeys(path: string): Key[] {
  const keys: Key[] = [];
  const firstSep = path.search(/[.[]/);
  if (firstSep < 0) return keys;
  const re = /\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]/g;
  for (const m of path.slice(firstSep).matchAll(re)) {
    if (m[1] !== undefined) keys.push(camelCase(m[1]));
    else keys.push(Number(m[2]));
  }
  return keys;
}

/**
 * Fits parsed JSON to a procedure's argument type, by the generated type
 * table: converts bigints, bytes and enum names where the type wants them,
 * accepts snake_case or any-case field names, and refuses a missing,
 * mistyped, out-of-bounds or unknown field by its path (`args.dom.uuid`),
 * saying what it expects and what it got.
 */
export function prepareArgs(r: ResolvedProcedure, json: unknown): unknown {
  const label = `${r.programName}.${r.proc.method}`;
  const codec = r.proc.args;
  if (codec === null) {
    const empty =
      json === undefined ||
      json === null ||
      (typeof json === 'object' && !Array.isArray(json) && Object.keys(json).length === 0);
    if (!empty) throw new UsageError(`call: ${label} takes no arguments`);
    return undefined;
  }
  let value: unknown;
  try {
    value = fitValue(json === undefined ? {} : json, `#${codec.name}`, 'args');
  } catch (err) {
    if (!(err instanceof FitError)) throw err;
    const see = `; see: virtwire call --describe ${label}`;
    if (err.kind === 'missing') {
      const given = err.known.length ? `; given fields: ${err.known.join(', ')}` : '';
      throw new UsageError(
        `call: ${label}: missing field ${err.path} (expected ${err.expected}${given})${see}`,
      );
    }
    if (err.kind === 'unknown') {
      throw new UsageError(
        `call: ${label}: unknown field ${err.path} (fields: ${err.known.join(', ') || 'none'})`,
      );
    }
    throw new UsageError(`call: ${label}: ${err.message}${see}`);
  }
  // The table and the codec come from the same .x files; a disagreement is a generator bug.
  try {
    codec.encode(new XdrWriter(1024), value);
  } catch (err) {
    if (!(err instanceof XdrError)) throw err;
    const where = pathKeys(err.path).map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`));
    throw new UsageError(`call: ${label}: args${where.join('')} cannot be sent as given`);
  }
  return value;
}

/**
 * An example argument object: the type decoded from zero bytes (empty
 * strings and arrays, zero numbers, absent optional values), or null when
 * the type cannot be read that way (a union without a zero case).
 */
export function argsTemplate(proc: ProcedureInfo): unknown {
  if (!proc.args) return null;
  try {
    return proc.args.decode(new XdrReader(new Uint8Array(64 * 1024)));
  } catch {
    return null;
  }
}
