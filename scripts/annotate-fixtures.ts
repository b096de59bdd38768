/**
 * Rewrites fixtures/packets/*.hex with a comment on every field, decoded by the
 * syntax-tree interpreter (independent of the generated codecs). Idempotent:
 * existing annotations are dropped and rebuilt from the bytes.
 *   npx tsx scripts/annotate-fixtures.ts [--dir DIR] [FILE...]
 * DIR defaults to fixtures/packets (libvirt 9.0's); a newer generation's are in its libvirt-X.Y/.
 * A procedure this repository's tables do not know keeps its payload as bytes (an error reply's
 * payload is the same remote_error for every procedure, so that one is still decoded).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Interpreter, type Span } from '../src/codegen/interp.js';
import { loadProtocol } from '../src/codegen/load.js';
import { decodeVirNetMessageHeader } from '../src/generated/virnet.js';
import { messageStatusName, messageTypeName } from '../src/rpc/trace.js';
import { XdrReader } from '../src/xdr/reader.js';
import { dissect, FIXTURE_DIR, PROGRAMS, parseFixtureText } from '../test/helpers/packets.js';

const proto = loadProtocol(resolve(import.meta.dirname, '../protocol'));
const interp = new Interpreter(proto.symbols);
const HEX_WIDTH = 35;

function hexLines(bytes: Uint8Array, from: number, to: number): string[] {
  const out: string[] = [];
  for (let p = from; p < to; p += 16) {
    const words: string[] = [];
    for (let q = p; q < Math.min(p + 16, to); q += 4) {
      words.push(Buffer.from(bytes.subarray(q, Math.min(q + 4, to))).toString('hex'));
    }
    out.push(words.join(' '));
  }
  return out;
}

/** A message of a procedure the tables lack: header, then the payload as bytes (or remote_error). */
function annotateUnknown(
  b: Uint8Array,
  lines: string[],
  emit: (f: number, t: number, c: string) => void,
): void {
  const h = decodeVirNetMessageHeader(new XdrReader(b, 4, 28));
  const program = PROGRAMS.find((p) => p.program === h.prog);
  emit(0, 4, `length ${b.length} (counts itself)`);
  emit(4, 8, `program ${program?.name ?? '?'} (0x${h.prog.toString(16)})`);
  emit(8, 12, `version ${h.vers}`);
  emit(12, 16, `procedure ${h.proc}: not in protocol/ (libvirt 11.3.0's tables)`);
  emit(16, 20, `type ${messageTypeName(h.type) ?? '?'} (${h.type})`);
  emit(20, 24, `serial ${h.serial}`);
  emit(24, 28, `status ${messageStatusName(h.status) ?? '?'} (${h.status})`);
  if (h.status === 1) {
    const spans: Span[] = [];
    const r = new XdrReader(b, 28);
    interp.decode('remote_error', r, spans, 'remote_error');
    r.done();
    for (const s of spans) emit(s.offset, s.offset + s.length, `${s.path} = ${s.text}`);
  } else if (b.length > 28) {
    emit(28, b.length, `payload of an unknown procedure, ${b.length - 28} bytes`);
  } else {
    lines.push('# (empty payload)');
  }
}

function annotate(dir: string, file: string): void {
  const path = join(dir, file);
  const fx = parseFixtureText(file, readFileSync(path, 'utf8'));
  const b = fx.bytes;
  const lines = [...fx.preamble];
  const emit = (from: number, to: number, comment: string): void => {
    const hex = hexLines(b, from, to);
    hex.forEach((h, i) => {
      lines.push(i === 0 ? `${h.padEnd(HEX_WIDTH)} # ${comment}` : h);
    });
  };
  if (/-proc_\d+-/.test(file)) {
    annotateUnknown(b, lines, emit);
    writeFileSync(path, `${lines.join('\n')}\n`);
    return;
  }
  const d = dissect(fx.bytes);
  emit(0, 4, `length ${d.length} (counts itself)`);
  const hs: Span[] = [];
  interp.decode('virNetMessageHeader', new XdrReader(b, 4, 28), hs, 'header');
  const names: Record<string, string> = {
    'header.prog': `program ${d.program.name} (0x${d.header.prog.toString(16)})`,
    'header.vers': `version ${d.header.vers}`,
    'header.proc': `procedure ${d.procedure.name} (${d.header.proc})`,
    'header.type': `type ${messageTypeName(d.header.type) ?? '?'} (${d.header.type})`,
    'header.serial': `serial ${d.header.serial}`,
    'header.status': `status ${messageStatusName(d.header.status) ?? '?'} (${d.header.status})`,
  };
  for (const s of hs) emit(s.offset, s.offset + s.length, names[s.path] ?? `${s.path} = ${s.text}`);
  if (d.codec) {
    const spans: Span[] = [];
    const r = new XdrReader(b, d.payloadOffset);
    interp.decode(d.codec.name, r, spans, d.codec.name);
    r.done();
    for (const s of spans) emit(s.offset, s.offset + s.length, `${s.path} = ${s.text}`);
  } else if (b.length > d.payloadOffset) {
    emit(d.payloadOffset, b.length, `stream data, ${b.length - d.payloadOffset} bytes`);
  } else {
    lines.push('# (empty payload)');
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

const args = process.argv.slice(2);
let dir = FIXTURE_DIR;
const at = args.indexOf('--dir');
if (at >= 0) {
  const d = args[at + 1];
  if (d === undefined) throw new Error('--dir needs a directory');
  dir = resolve(d);
  args.splice(at, 2);
}
const files = args.map((f) => f.replace(/^.*\//, ''));
const targets = files.length
  ? files
  : readdirSync(dir)
      .filter((f) => f.endsWith('.hex'))
      .sort();
for (const f of targets) annotate(dir, f);
console.log(`annotated ${targets.length} fixtures`);
