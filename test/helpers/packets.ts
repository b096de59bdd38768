/**
 * Reading golden packets (fixtures/packets/*.hex) and finding the codec of a
 * message's payload from its header, the way the RPC layer dispatches.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { adminProgram } from '../../src/generated/admin.js';
import { keepaliveProgram } from '../../src/generated/keepalive.js';
import { lxcProgram } from '../../src/generated/lxc.js';
import { qemuProgram } from '../../src/generated/qemu.js';
import { remoteProgram } from '../../src/generated/remote.js';
import {
  decodeVirNetMessageError,
  decodeVirNetMessageHeader,
  decodeVirNetStreamHole,
  encodeVirNetMessageError,
  encodeVirNetStreamHole,
  type VirNetMessageHeader,
} from '../../src/generated/virnet.js';
import { type Codec, XdrWriter } from '../../src/xdr/index.js';
import type { ProcedureInfo, ProgramInfo } from '../../src/xdr/program.js';
import { XdrReader } from '../../src/xdr/reader.js';

export const FIXTURE_DIR = join(import.meta.dirname, '../../fixtures/packets');
export const PROGRAMS: readonly ProgramInfo[] = [
  remoteProgram,
  qemuProgram,
  lxcProgram,
  adminProgram,
  keepaliveProgram,
];

const errorCodec: Codec<unknown> = {
  name: 'virNetMessageError',
  encode: encodeVirNetMessageError as Codec<unknown>['encode'],
  decode: decodeVirNetMessageError,
};

const holeCodec: Codec<unknown> = {
  name: 'virNetStreamHole',
  encode: encodeVirNetStreamHole as Codec<unknown>['encode'],
  decode: decodeVirNetStreamHole,
};

export interface Fixture {
  readonly file: string;
  /** The comment lines before the first byte: what the packet is and where it came from. */
  readonly preamble: readonly string[];
  readonly bytes: Uint8Array;
}

/** Parses the annotated-hex format: `#` starts a comment, other hex digits are the bytes. */
export function parseFixtureText(file: string, text: string): Fixture {
  const preamble: string[] = [];
  let hex = '';
  let seenBytes = false;
  for (const line of text.split('\n')) {
    const hash = line.indexOf('#');
    const data = (hash >= 0 ? line.slice(0, hash) : line).replace(/\s+/g, '');
    if (!seenBytes && data === '' && line.trim().startsWith('#')) preamble.push(line.trim());
    if (data !== '') {
      if (!/^[0-9a-fA-F]*$/.test(data) || data.length % 2)
        throw new Error(`${file}: bad hex in ${JSON.stringify(line)}`);
      seenBytes = true;
      hex += data;
    }
  }
  return { file, preamble, bytes: Uint8Array.from(Buffer.from(hex, 'hex')) };
}

export function loadFixtures(): Fixture[] {
  return readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith('.hex'))
    .sort()
    .map((f) => parseFixtureText(f, readFileSync(join(FIXTURE_DIR, f), 'utf8')));
}

export interface Dissected {
  readonly length: number;
  readonly header: VirNetMessageHeader;
  readonly program: ProgramInfo;
  readonly procedure: ProcedureInfo;
  /** The payload's codec; null for an empty payload (void) or raw stream data. */
  readonly codec: Codec<unknown> | null;
  readonly payloadOffset: number;
}

/** Splits a whole message (length word included) into header and payload type. */
export function dissect(bytes: Uint8Array): Dissected {
  const r = new XdrReader(bytes);
  const length = r.readUint();
  if (length !== bytes.length) throw new Error(`length word ${length} but ${bytes.length} bytes`);
  const header = decodeVirNetMessageHeader(r);
  const program = PROGRAMS.find((p) => p.program === header.prog && p.version === header.vers);
  if (!program) throw new Error(`unknown program 0x${header.prog.toString(16)} v${header.vers}`);
  const procedure = program.procedures.find((p) => p.number === header.proc);
  if (!procedure) throw new Error(`unknown ${program.name} procedure ${header.proc}`);
  let codec: Codec<unknown> | null;
  if (header.type === 3)
    codec = header.status === 1 ? errorCodec : null; // raw stream data
  else if (header.type === 6) codec = holeCodec;
  else if (header.status === 1) codec = errorCodec;
  else if (header.type === 0 || header.type === 2 || header.type === 4) codec = procedure.args;
  else codec = procedure.ret;
  return { length, header, program, procedure, codec, payloadOffset: r.pos };
}

/** The header fields of one RPC message, as a test server sees or sends them. */
export interface MessageHead {
  prog: number;
  vers: number;
  proc: number;
  type: number;
  serial: number;
  status: number;
}

/** One framed message: length word, header, and what `body` writes. */
export function frame(h: MessageHead, body?: (w: XdrWriter) => void): Buffer {
  const w = new XdrWriter(64);
  const at = w.reserve(4);
  for (const v of [h.prog, h.vers]) w.writeUint(v);
  for (const v of [h.proc, h.type]) w.writeInt(v);
  w.writeUint(h.serial);
  w.writeInt(h.status);
  body?.(w);
  w.patchUint(at, w.pos);
  return Buffer.from(w.finish());
}

/** The header of a framed message (as `frame()` writes it, length word first). */
export function readHead(b: Uint8Array): MessageHead {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return {
    prog: v.getUint32(4),
    vers: v.getUint32(8),
    proc: v.getInt32(12),
    type: v.getInt32(16),
    serial: v.getUint32(20),
    status: v.getInt32(24),
  };
}
