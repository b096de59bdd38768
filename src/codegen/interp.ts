/**
 * A slow, independent XDR codec that walks the syntax tree instead of running
 * generated code. It is not part of the runtime: tests use it to cross-check
 * the generated codecs byte for byte, and the fixture tools use its trace to
 * annotate captured packets field by field.
 */
import { XdrError } from '../xdr/errors.js';
import type { XdrReader } from '../xdr/reader.js';
import { XdrWriter } from '../xdr/writer.js';
import type { Declaration } from './ast.js';
import type { SymbolTable } from './model.js';
import { camelCase } from './names.js';

/** One decoded leaf: where it sits in the buffer, its field path and a printable value. */
export interface Span {
  readonly offset: number;
  readonly length: number;
  readonly path: string;
  readonly text: string;
}

const UNBOUNDED = 0xffffffff;

export class Interpreter {
  constructor(private readonly symbols: SymbolTable) {}

  private bound(d: Declaration): number {
    return d.size ? this.symbols.resolve(d.size) : UNBOUNDED;
  }

  /** Decodes a named type, recording a span for every primitive read. */
  decode(typeName: string, r: XdrReader, spans?: Span[], path = typeName): unknown {
    return this.decodeNamed(typeName, r, spans, path);
  }

  private decodeNamed(
    name: string,
    r: XdrReader,
    spans: Span[] | undefined,
    path: string,
  ): unknown {
    const def = this.symbols.lookup(name).def;
    switch (def.kind) {
      case 'typedef':
        return this.decodeDecl(def.decl, r, spans, path);
      case 'struct': {
        const out: Record<string, unknown> = {};
        for (const f of def.fields) {
          out[camelCase(f.name)] = this.decodeDecl(f, r, spans, `${path}.${f.name}`);
        }
        return out;
      }
      case 'enum': {
        const at = r.pos;
        const v = r.readInt();
        const m = def.members.find((x) => this.symbols.resolve(x.value) === v);
        if (!m) throw new XdrError(`${v} is not a member of enum ${name}`, at);
        spans?.push({ offset: at, length: 4, path, text: `${m.name} (${v})` });
        return v;
      }
      case 'union': {
        const dPath = `${path}.${def.discriminant.name}`;
        const d = this.decodeDecl(def.discriminant, r, spans, dPath) as number;
        const arm = def.arms.find((a) => a.cases.some((c) => this.symbols.resolve(c) === d));
        const decl = arm ? arm.decl : def.defaultArm;
        if (!decl) throw new XdrError(`no arm of union ${name} for ${d}`, r.pos);
        const out: Record<string, unknown> = { [camelCase(def.discriminant.name)]: d };
        if (decl.name !== '')
          out[camelCase(decl.name)] = this.decodeDecl(decl, r, spans, `${path}.${decl.name}`);
        return out;
      }
      case 'const':
        throw new Error(`${name} is a constant`);
    }
  }

  private decodeSingle(
    d: Declaration,
    r: XdrReader,
    spans: Span[] | undefined,
    path: string,
  ): unknown {
    const t = d.type;
    if (t.kind === 'named') return this.decodeNamed(t.name, r, spans, path);
    const at = r.pos;
    let v: unknown;
    let text: string;
    switch (t.prim) {
      case 'int':
        v = r.readInt();
        text = String(v);
        break;
      case 'uint':
        v = r.readUint();
        text = String(v);
        break;
      case 'hyper':
        v = r.readHyper();
        text = String(v);
        break;
      case 'uhyper':
        v = r.readUhyper();
        text = String(v);
        break;
      case 'float':
        v = r.readFloat();
        text = String(v);
        break;
      case 'double':
        v = r.readDouble();
        text = String(v);
        break;
      case 'bool':
        v = r.readBool();
        text = String(v);
        break;
      case 'void':
        return undefined;
      default:
        throw new Error(`unexpected ${t.prim}`);
    }
    spans?.push({ offset: at, length: r.pos - at, path, text });
    return v;
  }

  private decodeDecl(
    d: Declaration,
    r: XdrReader,
    spans: Span[] | undefined,
    path: string,
  ): unknown {
    const t = d.type;
    if (t.kind === 'prim' && (t.prim === 'opaque' || t.prim === 'string')) {
      const at = r.pos;
      let v: Uint8Array | string;
      if (t.prim === 'string') v = r.readString(this.bound(d));
      else if (d.form === 'fixed') v = r.readFixedOpaque(this.symbols.resolve(d.size!));
      else v = r.readOpaque(this.bound(d));
      const text =
        typeof v === 'string'
          ? JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v) +
            ` (${Buffer.byteLength(v)} bytes)`
          : `${v.length} bytes`;
      spans?.push({ offset: at, length: r.pos - at, path, text });
      return v;
    }
    const single: Declaration = { ...d, form: 'single', size: null };
    switch (d.form) {
      case 'single':
        return this.decodeSingle(d, r, spans, path);
      case 'optional': {
        const at = r.pos;
        const present = r.readPresent();
        spans?.push({ offset: at, length: 4, path, text: present ? 'present' : 'null' });
        return present ? this.decodeSingle(single, r, spans, path) : null;
      }
      case 'fixed':
      case 'var': {
        let n: number;
        if (d.form === 'fixed') n = this.symbols.resolve(d.size!);
        else {
          const at = r.pos;
          n = r.readLength(this.bound(d), Math.max(1, this.symbols.minSize(single)));
          spans?.push({ offset: at, length: 4, path, text: `count ${n}` });
        }
        const out: unknown[] = [];
        for (let i = 0; i < n; i++) out.push(this.decodeSingle(single, r, spans, `${path}[${i}]`));
        return out;
      }
    }
  }

  /** Encodes a value of a named type; the value uses the generated (camelCase) shape. */
  encode(typeName: string, value: unknown, w: XdrWriter = new XdrWriter(256)): XdrWriter {
    this.encodeNamed(typeName, value, w);
    return w;
  }

  private encodeNamed(name: string, v: unknown, w: XdrWriter): void {
    const def = this.symbols.lookup(name).def;
    switch (def.kind) {
      case 'typedef':
        this.encodeDecl(def.decl, v, w);
        return;
      case 'struct': {
        const o = v as Record<string, unknown>;
        for (const f of def.fields) this.encodeDecl(f, o[camelCase(f.name)], w);
        return;
      }
      case 'enum': {
        const ok = def.members.some((m) => this.symbols.resolve(m.value) === v);
        if (!ok) throw new XdrError(`${String(v)} is not a member of enum ${name}`);
        w.writeInt(v as number);
        return;
      }
      case 'union': {
        const o = v as Record<string, unknown>;
        const d = o[camelCase(def.discriminant.name)] as number;
        this.encodeDecl(def.discriminant, d, w);
        const arm = def.arms.find((a) => a.cases.some((c) => this.symbols.resolve(c) === d));
        const decl = arm ? arm.decl : def.defaultArm;
        if (!decl) throw new XdrError(`no arm of union ${name} for ${d}`);
        if (decl.name !== '') this.encodeDecl(decl, o[camelCase(decl.name)], w);
        return;
      }
      case 'const':
        throw new Error(`${name} is a constant`);
    }
  }

  private encodeSingle(d: Declaration, v: unknown, w: XdrWriter): void {
    const t = d.type;
    if (t.kind === 'named') {
      this.encodeNamed(t.name, v, w);
      return;
    }
    switch (t.prim) {
      case 'int':
        w.writeInt(v as number);
        return;
      case 'uint':
        w.writeUint(v as number);
        return;
      case 'hyper':
        w.writeHyper(v as bigint);
        return;
      case 'uhyper':
        w.writeUhyper(v as bigint);
        return;
      case 'float':
        w.writeFloat(v as number);
        return;
      case 'double':
        w.writeDouble(v as number);
        return;
      case 'bool':
        w.writeBool(v as boolean);
        return;
      case 'void':
        return;
      default:
        throw new Error(`unexpected ${t.prim}`);
    }
  }

  private encodeDecl(d: Declaration, v: unknown, w: XdrWriter): void {
    const t = d.type;
    if (t.kind === 'prim' && t.prim === 'string') {
      w.writeString(v as string, this.bound(d));
      return;
    }
    if (t.kind === 'prim' && t.prim === 'opaque') {
      if (d.form === 'fixed') w.writeFixedOpaque(v as Uint8Array, this.symbols.resolve(d.size!));
      else w.writeOpaque(v as Uint8Array, this.bound(d));
      return;
    }
    const single: Declaration = { ...d, form: 'single', size: null };
    switch (d.form) {
      case 'single':
        this.encodeSingle(d, v, w);
        return;
      case 'optional':
        if (w.writePresent(v)) this.encodeSingle(single, v, w);
        return;
      case 'fixed':
      case 'var': {
        const a = v as unknown[];
        if (d.form === 'fixed') w.checkFixed(a.length, this.symbols.resolve(d.size!));
        else w.writeLength(a.length, this.bound(d));
        for (const x of a) this.encodeSingle(single, x, w);
        return;
      }
    }
  }
}
