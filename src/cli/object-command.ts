/**
 * `virtwire <object> <method> [args]`: any generated handle method from the
 * command line. The object's words (object-specs.ts) name a handle class; its
 * methods, their parameters and the kind of value each takes come from the
 * generated metadata (src/generated/handle-methods.ts), so every method the
 * library has is reachable and every argument is checked against its type
 * before anything is sent.
 */
import type { AdminConnection } from '../api/admin.js';
import type { Connection } from '../api/handles.js';
import * as api from '../generated/api.js';
import {
  type HandleMethodMeta,
  type HandleParamMeta,
  handleMethods,
} from '../generated/handle-methods.js';
import { isNoStorageVol } from '../rpc/errors.js';
import { DEFAULT_ADMIN_SOCKET } from './constants.js';
import type { CliContext } from './context.js';
import { UsageError } from './errors.js';
import { jsonPretty } from './json.js';
import { nearest, OBJECT_SPECS, type ObjectSpec } from './object-specs.js';
import { network, pool, UUID } from './virsh-util.js';

/** A method as this object's word shows it: `node getInfo` is `nodeGetInfo`. */
interface Entry {
  readonly shown: string;
  readonly meta: HandleMethodMeta;
}

function entries(spec: ObjectSpec): Entry[] {
  const all = handleMethods[spec.cls] ?? [];
  const p = spec.prefix;
  if (p === undefined) return all.map((meta) => ({ shown: meta.method, meta }));
  return all
    .filter((m) => m.method.startsWith(p) && m.method.length > p.length)
    .map((meta) => {
      const rest = meta.method.slice(p.length);
      return { shown: rest[0]!.toLowerCase() + rest.slice(1), meta };
    });
}

/** `getXMLDesc DOMAIN [flags:int]`. */
export function signature(spec: ObjectSpec, e: Entry): string {
  const ps = e.meta.params.map((p) =>
    p.default === undefined ? `${p.name}:${p.kind}` : `[${p.name}:${p.kind}]`,
  );
  return [e.shown, ...spec.identity, ...ps].join(' ');
}

let constants: Map<string, number> | undefined;
/** Every VIR_* constant of the generated API, by name. */
function constantValue(name: string): number | undefined {
  if (!constants) {
    constants = new Map();
    for (const table of Object.values(api)) {
      if (table === null || typeof table !== 'object') continue;
      for (const [k, v] of Object.entries(table))
        if (k.startsWith('VIR_') && typeof v === 'number') constants.set(k, v);
    }
  }
  return constants.get(name);
}

/** A parsed argument; handles are resolved once connected. */
type Parsed =
  | { readonly value: unknown }
  | { readonly handle: string; readonly names: readonly string[]; readonly many: boolean };

const isInt = (s: string): boolean => /^-?\d+$/.test(s);

function parseArg(where: string, p: HandleParamMeta, raw: string): Parsed {
  const bad = (expected: string): never => {
    throw new UsageError(`${where}: ${p.name} (${p.kind}): expected ${expected}, got '${raw}'`);
  };
  const json = (): unknown => {
    try {
      return JSON.parse(raw);
    } catch {
      return bad('JSON');
    }
  };
  const [kind, cls] = p.kind.split(':') as [string, string | undefined];
  switch (kind) {
    case 'string':
      return { value: raw };
    case 'string?':
      return { value: raw === 'null' ? null : raw };
    case 'int': {
      if (isInt(raw)) {
        const n = Number(raw);
        if (n < -(2 ** 31) || n > 2 ** 32 - 1) bad('a 32-bit integer');
        return { value: n };
      }
      // flags by name: VIR_DOMAIN_XML_INACTIVE|VIR_DOMAIN_XML_SECURE
      let n = 0;
      for (const name of raw.split('|')) {
        const v = constantValue(name.trim());
        if (v === undefined) bad('an integer or VIR_* constants joined by |');
        n |= v!;
      }
      return { value: n >>> 0 };
    }
    case 'hyper':
      return isInt(raw) ? { value: BigInt(raw) } : bad('a whole number');
    case 'bytes':
      return /^(?:[0-9a-f]{2})*$/i.test(raw)
        ? { value: Uint8Array.from(Buffer.from(raw, 'hex')) }
        : bad('hex bytes');
    case 'typed': {
      const v = json();
      return v !== null && typeof v === 'object' && !Array.isArray(v)
        ? { value: v }
        : bad('a JSON object of typed parameters');
    }
    case 'strings':
      return { value: raw === '' ? [] : raw.split(',') };
    case 'ints':
    case 'hypers': {
      const parts = raw === '' ? [] : raw.split(',');
      if (!parts.every(isInt)) bad('comma-separated whole numbers');
      return { value: parts.map((x) => (kind === 'ints' ? Number(x) : BigInt(x))) };
    }
    case 'handle':
    case 'handle?':
      if (kind === 'handle?' && raw === 'null') return { value: null };
      return { handle: cls!, names: [raw], many: false };
    case 'handles':
      return { handle: cls!, names: raw === '' ? [] : raw.split(','), many: true };
    default:
      return { value: json() };
  }
}

const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i;

/** The handle of class `cls` that `names` name, looked up as virsh looks such names up. */
async function resolve(conn: Connection, cls: string, names: readonly string[]): Promise<unknown> {
  const [a = '', b = ''] = names;
  switch (cls) {
    case 'Connection':
      return conn;
    case 'Domain':
      return conn.lookupDomain(a);
    case 'DomainSnapshot':
      return (await conn.lookupDomain(a)).snapshotLookupByName(b);
    case 'DomainCheckpoint':
      return (await conn.lookupDomain(a)).checkpointLookupByName(b);
    case 'Network':
      return network(conn, a);
    case 'NetworkPort':
      return (await network(conn, a)).portLookupByUUIDString(b);
    case 'StoragePool':
      return pool(conn, a);
    case 'StorageVol': {
      const slash = a.indexOf('/');
      if (slash > 0)
        return (await pool(conn, a.slice(0, slash))).storageVolLookupByName(a.slice(slash + 1));
      try {
        return await conn.storageVolLookupByKey(a);
      } catch (err) {
        if (!isNoStorageVol(err)) throw err;
        return conn.storageVolLookupByPath(a);
      }
    }
    case 'NodeDevice':
      return conn.nodeDeviceLookupByName(a);
    case 'Secret':
      return conn.secretLookupByUUIDString(a);
    case 'NWFilter':
      return UUID.test(a) ? conn.nwFilterLookupByUUIDString(a) : conn.nwFilterLookupByName(a);
    case 'NWFilterBinding':
      return conn.nwFilterBindingLookupByPortDev(a);
    case 'Interface':
      return MAC.test(a) ? conn.interfaceLookupByMACString(a) : conn.interfaceLookupByName(a);
    default:
      throw new UsageError(`cannot name a ${cls} on the command line`);
  }
}

/** Handles in a result print as their wire identity (name, uuid...), not their connection. */
function plain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
    if ('wire' in v && 'conn' in v) return plain((v as { wire: unknown }).wire);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = plain(x);
    return out;
  }
  return v;
}

function listing(spec: ObjectSpec): string {
  return entries(spec)
    .map((e) => `  ${signature(spec, e)}`)
    .join('\n');
}

export async function objectCommand(
  ctx: CliContext,
  object: string,
  method: string | undefined,
  args: readonly string[],
  opts: { json?: boolean; list?: boolean; adminSocket?: string },
): Promise<void> {
  const spec = OBJECT_SPECS.find((s) => s.name === object);
  if (!spec) throw new UsageError(`no object named ${object}`);
  if (opts.list || method === undefined) {
    if (method === undefined && !opts.list)
      throw new UsageError(
        `${object}: name a method; its methods:\n${listing(spec)}\n(virtwire ${object} --list prints them)`,
      );
    ctx.out(listing(spec));
    return;
  }
  const all = entries(spec);
  const entry =
    all.find((e) => e.shown === method) ??
    all.find((e) => e.shown.toLowerCase() === method.toLowerCase());
  if (!entry) {
    const near = nearest(
      method,
      all.map((e) => e.shown),
    );
    throw new UsageError(
      `${object}: no method ${method}${near.length ? ` (nearest: ${near.join(', ')})` : ''}; virtwire ${object} --list shows them all`,
    );
  }
  const where = `${object} ${entry.shown}`;
  const usage = `usage: virtwire ${object} ${signature(spec, entry)}`;
  if (entry.meta.stream !== null)
    throw new UsageError(
      `${where} opens a data stream, which a command line cannot carry; use vol-upload/vol-download, events, or the library's streams API`,
    );
  const identity = args.slice(0, spec.identity.length);
  if (identity.length < spec.identity.length)
    throw new UsageError(`${where}: missing ${spec.identity[identity.length]}\n${usage}`);
  const rest = args.slice(spec.identity.length);
  const params = entry.meta.params;
  if (rest.length > params.length)
    throw new UsageError(
      `${where}: ${rest.length - params.length} argument(s) too many (from '${rest[params.length]}')\n${usage}`,
    );
  const parsed = params.map((p, i): Parsed | undefined => {
    const raw = rest[i];
    if (raw === undefined) {
      if (p.default === undefined)
        throw new UsageError(`${where}: missing ${p.name} (${p.kind})\n${usage}`);
      return undefined;
    }
    return parseArg(where, p, raw);
  });

  if (spec.admin) {
    // the client's id is a whole number: refused here, before the socket is opened
    const id = identity[1];
    if (id !== undefined && !isInt(id))
      throw new UsageError(`${where}: CLIENT-ID: expected a whole number, got '${id}'\n${usage}`);
    const adm = await ctx.openAdmin(opts.adminSocket ?? DEFAULT_ADMIN_SOCKET);
    try {
      // no admin method takes a handle argument: every parsed argument is a value
      const values = parsed.map((a) => (a !== undefined && 'value' in a ? a.value : undefined));
      await callAndPrint(
        ctx,
        where,
        spec,
        entry,
        await resolveAdmin(adm, spec.cls, identity),
        values,
        opts,
      );
    } finally {
      await adm.close();
    }
    return;
  }
  const conn = await ctx.open();
  try {
    const self = await resolve(conn, spec.cls, identity);
    const values: unknown[] = [];
    for (const a of parsed) {
      if (a === undefined) values.push(undefined);
      else if ('value' in a) values.push(a.value);
      else if (a.many)
        values.push(await Promise.all(a.names.map((n) => resolve(conn, a.handle, [n]))));
      else values.push(await resolve(conn, a.handle, a.names));
    }
    await callAndPrint(ctx, where, spec, entry, self, values, opts);
  } finally {
    await conn.close();
  }
}

/** The admin object of class `cls` that `names` name: a server by name, a client by server and id. */
async function resolveAdmin(
  adm: AdminConnection,
  cls: string,
  names: readonly string[],
): Promise<unknown> {
  const [a = '', b = ''] = names;
  switch (cls) {
    case 'AdminConnection':
      return adm;
    case 'AdminServer':
      return adm.lookupServer(a);
    case 'AdminClient':
      return (await adm.lookupServer(a)).lookupClient(BigInt(b));
    default:
      throw new UsageError(`cannot name a ${cls} on the command line`);
  }
}

/** Calls the method on `self` and prints its result: text for a scalar, else (or --json) JSON. */
async function callAndPrint(
  ctx: CliContext,
  where: string,
  spec: ObjectSpec,
  entry: Entry,
  self: unknown,
  values: readonly unknown[],
  opts: { json?: boolean },
): Promise<void> {
  const fn = (self as Record<string, unknown>)[entry.meta.method];
  if (typeof fn !== 'function') throw new UsageError(`${where}: not a method of ${spec.cls}`);
  const result = plain(
    await (fn as (...a: unknown[]) => Promise<unknown>).apply(self, [...values]),
  );
  if (opts.json) ctx.out(jsonPretty(result ?? null));
  else if (result === undefined) return;
  else if (result === null || typeof result !== 'object') ctx.out(String(result));
  else ctx.out(jsonPretty(result));
}
