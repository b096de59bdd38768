/**
 * A hostile client for the simulator: a raw socket that speaks just enough
 * of the protocol to open a connection, then sends what it likes (oversized
 * strings in any argument, malformed frames, floods it never reads the
 * answers to) and can vanish with a FIN or a RST at any moment. Also the
 * argument generator that puts an oversized string into every string
 * argument of every procedure the simulator serves.
 */

import { connect as netConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Declaration } from '../../src/codegen/ast.js';
import { loadProtocol } from '../../src/codegen/load.js';
import type { SymbolTable } from '../../src/codegen/model.js';
import { camelCase } from '../../src/codegen/names.js';
import { remoteProgram } from '../../src/generated/remote.js';
import { decodeVirNetMessageError, type VirNetMessageError } from '../../src/generated/virnet.js';
import type { ProcedureInfo } from '../../src/xdr/program.js';
import { XdrReader } from '../../src/xdr/reader.js';
import { REMOTE, type Received, Splitter, Status, Type, unboundedFrame } from './hostile-wire.js';

const byName = new Map(remoteProgram.procedures.map((p) => [p.name, p]));
const proc = (name: string): ProcedureInfo => byName.get(name)!;

/** Where a simulator listens: a TCP port on 127.0.0.1 or a unix socket path. */
export type Address = { readonly port: number } | { readonly path: string };

/** The address of a simulator URI (`qemu+tcp://127.0.0.1:P/...` or `...?socket=PATH`). */
export function addressOf(uri: string): Address {
  const socket = /[?&]socket=([^&]+)/.exec(uri);
  if (socket) return { path: decodeURIComponent(socket[1]!) };
  const port = /:(\d+)\//.exec(uri);
  if (!port) throw new Error(`no address in ${uri}`);
  return { port: Number(port[1]) };
}

/** A reply as the hostile client reads it. */
export interface Reply {
  readonly message: Received;
  /** The remote_error of an ERROR reply. */
  readonly error: VirNetMessageError | null;
}

export class HostileClient {
  private serial = 0;
  private readonly waiting = new Map<number, (r: Reply | null) => void>();
  private readonly splitter: Splitter;
  /** Settles when the connection ends (from either side). */
  readonly closed: Promise<void>;
  /** Messages that were no reply to a call (events, keepalive). */
  others = 0;
  /** Bytes written so far. */
  bytesOut = 0;

  private constructor(readonly socket: Socket) {
    this.splitter = new Splitter((m) => this.onMessage(m));
    socket.on('data', (c: Buffer) => this.splitter.push(c));
    socket.on('error', () => {});
    this.closed = new Promise((r) =>
      socket.once('close', () => {
        for (const w of this.waiting.values()) w(null);
        this.waiting.clear();
        r();
      }),
    );
  }

  static async connect(to: Address): Promise<HostileClient> {
    const socket = netConnect(
      'port' in to ? { port: to.port, host: '127.0.0.1' } : { path: to.path },
    );
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new HostileClient(socket);
  }

  private onMessage(m: Received): void {
    const w = this.waiting.get(m.head.serial);
    if (m.head.type !== Type.REPLY || !w) {
      this.others++;
      return;
    }
    this.waiting.delete(m.head.serial);
    const error =
      m.head.status === Status.ERROR ? decodeVirNetMessageError(new XdrReader(m.payload)) : null;
    w({ message: m, error });
  }

  /** Sends a CALL of `p` with `args` (bounds ignored); resolves with the reply, or null if the connection ends first. */
  call(p: ProcedureInfo, args: unknown): Promise<Reply | null> {
    const serial = ++this.serial;
    const bytes = unboundedFrame(
      { prog: REMOTE, vers: 1, proc: p.number, type: Type.CALL, serial, status: Status.OK },
      p.args ? (w) => p.args!.encode(w, args) : undefined,
    );
    if (this.socket.destroyed) return Promise.resolve(null);
    return new Promise((resolve) => {
      // One entry per call, removed by its reply or by the close: nothing is kept after.
      this.waiting.set(serial, resolve);
      this.send(bytes);
    });
  }

  /** AUTH_LIST and CONNECT_OPEN, as every client does first. */
  async open(name = 'qemu:///system'): Promise<Reply | null> {
    await this.call(proc('AUTH_LIST'), undefined);
    return this.call(proc('CONNECT_OPEN'), { name, flags: 0 });
  }

  send(bytes: Uint8Array): boolean {
    if (this.socket.destroyed) return false;
    this.bytesOut += bytes.length;
    return this.socket.write(bytes);
  }

  /** Resolves when what was written has gone to the kernel (or the socket is gone). */
  drained(): Promise<void> {
    if (!this.socket.writableNeedDrain || this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  /** Stops reading: replies pile up on the simulator's side. */
  stopReading(): void {
    this.socket.pause();
  }

  end(): void {
    this.socket.end();
  }

  /** A RST on TCP; a unix socket, which has none, is just destroyed. */
  reset(): void {
    if (this.socket.remoteAddress === undefined) this.socket.destroy();
    else this.socket.resetAndDestroy();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

// ---------------------------------------------------------------------------
// Arguments with an oversized string in each string position.

let symbols: SymbolTable | null = null;
const table = (): SymbolTable => {
  symbols ??= loadProtocol(join(import.meta.dirname, '../../protocol')).symbols;
  return symbols;
};

/** A path to one string inside an argument value. */
type Path = ReadonlyArray<string | number>;

/**
 * A full value of an XDR type: every optional present, every variable array
 * with one element, each union on an arm holding a string when it has one,
 * numbers 0, strings `s`. Every string position of the type then shows up.
 */
function full(typeName: string, s: string, depth = 0): unknown {
  const t = table();
  const def = t.lookup(typeName).def;
  switch (def.kind) {
    case 'typedef':
      return decl(def.decl, s, depth);
    case 'struct': {
      const o: Record<string, unknown> = {};
      for (const f of def.fields) o[camelCase(f.name)] = decl(f, s, depth + 1);
      return o;
    }
    case 'enum':
      return t.resolve(def.members[0]!.value);
    case 'union': {
      const arms = def.arms.filter((a) => a.cases.length > 0);
      const withString = arms.find((a) => holdsString(a.decl, depth));
      const arm = withString ?? arms[0]!;
      const o: Record<string, unknown> = {
        [camelCase(def.discriminant.name)]: t.resolve(arm.cases[0]!),
      };
      if (arm.decl.name !== '') o[camelCase(arm.decl.name)] = decl(arm.decl, s, depth + 1);
      return o;
    }
    case 'const':
      throw new Error(`${typeName} is a constant`);
  }
}

function holdsString(d: Declaration, depth: number): boolean {
  if (depth > 8) return false;
  if (d.type.kind === 'prim') return d.type.prim === 'string';
  const def = table().lookup(d.type.name).def;
  if (def.kind === 'typedef') return holdsString(def.decl, depth + 1);
  if (def.kind === 'struct') return def.fields.some((f) => holdsString(f, depth + 1));
  return false;
}

function decl(d: Declaration, s: string, depth: number): unknown {
  const t = d.type;
  const one = (): unknown => {
    if (t.kind === 'named') return full(t.name, s, depth);
    switch (t.prim) {
      case 'string':
        return s;
      case 'opaque':
        return new Uint8Array(d.form === 'fixed' ? table().resolve(d.size!) : 1);
      case 'hyper':
      case 'uhyper':
        return 0n;
      case 'bool':
        return false;
      default:
        return 0;
    }
  };
  if (t.kind === 'prim' && t.prim === 'opaque') return one();
  if (t.kind === 'prim' && t.prim === 'string') return d.form === 'optional' ? s : one();
  switch (d.form) {
    case 'single':
      return one();
    case 'optional':
      return depth > 8 ? null : one();
    case 'fixed':
      return Array.from({ length: table().resolve(d.size!) }, one);
    case 'var':
      return depth > 8 ? [] : [one()];
  }
}

/** Every path to a string in `v`. */
function stringPaths(v: unknown, at: Path = []): Path[] {
  if (typeof v === 'string') return [at];
  if (Array.isArray(v)) return v.flatMap((x, i) => stringPaths(x, [...at, i]));
  if (v && typeof v === 'object' && !(v instanceof Uint8Array)) {
    return Object.entries(v).flatMap(([k, x]) => stringPaths(x, [...at, k]));
  }
  return [];
}

/** `v` with `s` at `path` and the marker strings elsewhere replaced by `small`. */
function place(v: unknown, path: Path, s: string, small: string, at = 0): unknown {
  if (typeof v === 'string') return at === path.length ? s : small;
  if (Array.isArray(v))
    return v.map((x, i) => place(x, path[at] === i ? path : [], s, small, at + 1));
  if (v && typeof v === 'object' && !(v instanceof Uint8Array)) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v))
      o[k] = place(x, path[at] === k ? path : [], s, small, at + 1);
    return o;
  }
  return v;
}

export interface StringCase {
  readonly proc: ProcedureInfo;
  /** Where the big string sits, e.g. `dom.name`. */
  readonly path: string;
  /** The arguments, for HostileClient.call. */
  readonly args: unknown;
}

const MARK = '\u0000mark';

/**
 * For each procedure in `methods` and each string position of its
 * arguments, the arguments with `big` there. Domain arguments (`{name,
 * uuid, id}`) name `domainUuid`, so handlers look past the lookup.
 */
export function stringCases(
  methods: Iterable<string>,
  big: string,
  domainUuid: Uint8Array,
): StringCase[] {
  const out: StringCase[] = [];
  for (const method of methods) {
    const p = remoteProgram.procedures.find((x) => x.method === method);
    if (!p?.args) continue;
    const base = withDomain(full(p.args.name, MARK), domainUuid);
    for (const path of stringPaths(base)) {
      out.push({ proc: p, path: path.join('.'), args: place(base, path, big, 'x') });
    }
  }
  return out;
}

function withDomain(v: unknown, uuid: Uint8Array): unknown {
  if (Array.isArray(v)) return v.map((x) => withDomain(x, uuid));
  if (v && typeof v === 'object' && !(v instanceof Uint8Array)) {
    const o = v as Record<string, unknown>;
    const r: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) r[k] = withDomain(x, uuid);
    if ('uuid' in o && 'name' in o && 'id' in o) r.uuid = uuid;
    return r;
  }
  return v;
}
