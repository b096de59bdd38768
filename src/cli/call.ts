/**
 * `virtwire call`: any procedure of the generated tables, by name, with JSON
 * arguments. The generated codecs carry no runtime type description, so the
 * JSON is fitted to the argument type by encoding it: each XdrError names the
 * field path and the XDR type that was wanted there, and the values JSON
 * cannot express (hyper, opaque) are converted at exactly those places from
 * their JSON spellings (numbers or decimal strings; hex or UUID strings). A
 * field the type does not have is found by decoding what was encoded and
 * comparing.
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

const showPath = (keys: readonly Key[]): string =>
  keys.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('') ||
  '(the arguments)';

/** What a writer's complaint says was expected, for error messages. */
function expected(reason: string): string {
  if (/^unsigned hyper/.test(reason))
    return 'an unsigned 64-bit integer, as a JSON number or a decimal string';
  if (/^hyper/.test(reason)) return 'a 64-bit integer, as a JSON number or a decimal string';
  if (/^unsigned int/.test(reason)) return 'an unsigned 32-bit integer';
  if (/^int/.test(reason)) return 'a 32-bit integer';
  if (/opaque/.test(reason)) return 'bytes, as a hex string or, for a UUID, its canonical form';
  if (/^string/.test(reason)) return 'a string';
  if (/^bool/.test(reason)) return 'a boolean';
  if (/^(float|double)/.test(reason)) return 'a number';
  if (/^array expected|^length|fixed array/.test(reason)) return 'an array';
  return 'an object';
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function toBytes(v: unknown): Uint8Array | undefined {
  if (typeof v === 'string') {
    const hex = UUID_RE.test(v) ? v.replace(/-/g, '') : v.replace(/^0x/i, '');
    if (hex.length % 2 === 0 && /^[0-9a-f]*$/i.test(hex))
      return Uint8Array.from(Buffer.from(hex, 'hex'));
    return undefined;
  }
  if (Array.isArray(v) && v.every((x) => Number.isInteger(x) && x >= 0 && x <= 255))
    return Uint8Array.from(v as number[]);
  return undefined;
}

function toBigint(v: unknown): bigint | undefined {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^(-?\d+|0x[0-9a-f]+)$/i.test(v.trim())) return BigInt(v.trim());
  return undefined;
}

function toNumber(v: unknown): number | undefined {
  if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v.trim())) return Number(v);
  return undefined;
}

/** The value JSON cannot carry directly, converted for what the writer asked for; undefined if not convertible. */
function convert(reason: string, v: unknown): unknown {
  if (/^(unsigned )?hyper must be a bigint/.test(reason)) return toBigint(v);
  if (/^opaque must be a Uint8Array/.test(reason)) return toBytes(v);
  if (/^(unsigned )?int out of range/.test(reason)) {
    if (typeof v === 'boolean') return v ? 1 : 0;
    return toNumber(v);
  }
  if (/^(float|double) must be a number/.test(reason)) return toNumber(v);
  if (/^bool must be a boolean/.test(reason)) return v === 0 || v === 1 ? v === 1 : undefined;
  return undefined;
}

function describeJson(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'bigint') return v.toString(); // converted already, then refused (out of range)
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

/**
 * Fits parsed JSON to a procedure's argument type: converts bigints and
 * bytes where the type wants them, accepts snake_case or any-case field
 * names, and refuses a missing, mistyped or unknown field by its path.
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
  const root: { v: unknown } = { v: json === undefined ? {} : structuredClone(json) };
  const w = new XdrWriter(1024);
  for (let attempt = 0; ; attempt++) {
    let failure: XdrError;
    try {
      codec.encode(w.reset(), root.v);
      break;
    } catch (err) {
      if (!(err instanceof XdrError)) throw err;
      failure = err;
    }
    const keys = pathKeys(failure.path);
    const where = showPath(keys);
    if (attempt > 100_000)
      throw new UsageError(`call: ${label}: cannot fit the arguments (${failure.message})`);
    // Walk to the failing value, noting its holder; a field may be spelt cookie_in or CookieIn.
    let holder = root as Record<Key, unknown>;
    let key: Key = 'v';
    let renamed = false;
    for (let i = 0; i <= keys.length; i++) {
      if (holder[key] === undefined && typeof key === 'string') {
        const k = key;
        const alias = Object.keys(holder).find((x) => x !== k && norm(x) === norm(k));
        if (alias !== undefined) {
          holder[key] = holder[alias];
          delete holder[alias];
          renamed = true;
          break;
        }
      }
      const next = holder[key];
      if (next === undefined) {
        const given = Object.keys(holder).filter((k) => holder !== root && holder[k] !== undefined);
        throw new UsageError(
          `call: ${label}: missing field ${showPath(keys.slice(0, i))} ` +
            `(${i === keys.length ? expected(failure.reason) : 'an object'}` +
            `${given.length ? `; given fields: ${given.join(', ')}` : ''}); see: virtwire call --describe ${label}`,
        );
      }
      if (i === keys.length) break;
      if (next === null || typeof next !== 'object') {
        throw new UsageError(
          `call: ${label}: ${showPath(keys.slice(0, i))} must be an object, got ${describeJson(next)}`,
        );
      }
      holder = next as Record<Key, unknown>;
      key = keys[i]!;
    }
    if (renamed) continue;
    const h = holder;
    const value = h[key];
    const converted = convert(failure.reason, value);
    if (converted === undefined) {
      throw new UsageError(
        `call: ${label}: field ${where} must be ${expected(failure.reason)}, got ${describeJson(value)} (${failure.reason})`,
      );
    }
    h[key] = converted;
  }
  const bytes = w.finish();
  const decoded = codec.decode(new XdrReader(bytes));
  const extra = unknownField(root.v, decoded, []);
  if (extra) {
    const known =
      extra.known.length > 0
        ? ` (${showPath(extra.at) === '(the arguments)' ? 'fields' : `fields of ${showPath(extra.at)}`}: ${extra.known.join(', ')})`
        : '';
    throw new UsageError(
      `call: ${label}: unknown field ${showPath([...extra.at, extra.key])}${known}`,
    );
  }
  return root.v;
}

/** The first key of `given` that the decoded value does not have, with the keys it does have. */
function unknownField(
  given: unknown,
  decoded: unknown,
  at: Key[],
): { at: Key[]; key: Key; known: string[] } | null {
  if (Array.isArray(given) && Array.isArray(decoded)) {
    for (let i = 0; i < given.length; i++) {
      const r = unknownField(given[i], decoded[i], [...at, i]);
      if (r) return r;
    }
    return null;
  }
  if (
    given === null ||
    typeof given !== 'object' ||
    decoded === null ||
    typeof decoded !== 'object' ||
    decoded instanceof Uint8Array
  )
    return null;
  const d = decoded as Record<string, unknown>;
  for (const [k, v] of Object.entries(given as Record<string, unknown>)) {
    if (!Object.hasOwn(d, k)) return { at, key: k, known: Object.keys(d) };
    const r = unknownField(v, d[k], [...at, k]);
    if (r) return r;
  }
  return null;
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
