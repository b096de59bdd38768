/**
 * Rewrites fixtures/packets/*.hex with a comment on every field, decoded by the
 * syntax-tree interpreter (independent of the generated codecs). Idempotent:
 * existing annotations are dropped and rebuilt from the bytes.
 *   npx tsx scripts/annotate-fixtures.ts [FILE...]
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Interpreter, type Span } from '../src/codegen/interp.js';
import { loadProtocol } from '../src/codegen/load.js';
import { messageStatusName, messageTypeName } from '../src/rpc/trace.js';
import { XdrReader } from '../src/xdr/reader.js';
import { dissect, FIXTURE_DIR, parseFixtureText } from '../test/helpers/packets.js';

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

function annotate(file: string): void {
  const path = join(FIXTURE_DIR, file);
  const fx = parseFixtureText(file, readFileSync(path, 'utf8'));
  const d = dissect(fx.bytes);
  const b = fx.bytes;
  const lines = [...fx.preamble];
  const emit = (from: number, to: number, comment: string): void => {
    const hex = hexLines(b, from, to);
    hex.forEach((h, i) => {
      lines.push(i === 0 ? `${h.padEnd(HEX_WIDTH)} # ${comment}` : h);
    });
  };
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

const files = process.argv.slice(2).map((f) => f.replace(/^.*\//, ''));
const targets = files.length
  ? files
  : readdirSync(FIXTURE_DIR)
      .filter((f) => f.endsWith('.hex'))
      .sort();
for (const f of targets) annotate(f);
console.log(`annotated ${targets.length} fixtures`);
