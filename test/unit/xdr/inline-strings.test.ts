import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emitModule } from '../../../src/codegen/emit.js';
import { SymbolTable } from '../../../src/codegen/model.js';
import { parseXdr } from '../../../src/codegen/parser.js';
import {
  encodeRemoteNonnullDomain,
  type RemoteNonnullDomain,
} from '../../../src/generated/remote.js';
import { XdrWriter } from '../../../src/xdr/index.js';
import { caught } from '../../helpers/xdr-error.js';

// Generated encoders write short ASCII strings themselves (src/codegen/emit-string.ts)
// and hand every other string to writeString(). Both ways must give writeString()'s
// bytes, zero padding included over a reused buffer, and its errors.

const uuid = Uint8Array.from({ length: 16 }, (_, i) => 255 - i);

/** A writer whose buffer holds 0xff bytes where the next message goes. */
function dirtyWriter(size = 65536): XdrWriter {
  const w = new XdrWriter(size);
  for (let i = 0; i < 64; i++) w.writeInt(-1);
  return w.reset(); // no finish(): the next message reuses the same bytes
}

function reference(d: RemoteNonnullDomain): Buffer {
  const r = new XdrWriter();
  r.writeString(d.name, 4194304);
  r.writeFixedOpaque(d.uuid, 16);
  r.writeInt(d.id);
  return Buffer.from(r.finish());
}

const names = [
  '',
  'a',
  'ab',
  'abc',
  'abcd',
  'abcde',
  'x'.repeat(31),
  'x'.repeat(32),
  'x'.repeat(33),
  'é',
  'abcdé',
  `${'y'.repeat(31)}é`,
  '\u{1F600}',
  `${'z'.repeat(40)}é`,
  '\0\x7f',
];

describe('generated encoders: strings written inline', () => {
  it('give writeString() bytes for short, long, ASCII and non-ASCII strings over a dirty buffer', () => {
    for (const name of names) {
      for (const w of [dirtyWriter(), dirtyWriter(8)]) {
        encodeRemoteNonnullDomain(w, { name, uuid, id: -7 });
        const d = { name, uuid, id: -7 };
        expect(Buffer.from(w.finish()).equals(reference(d)), JSON.stringify(name)).toBe(true);
      }
    }
  });

  it('leave the cursor right after a non-ASCII string fell back to writeString()', () => {
    const w = dirtyWriter();
    encodeRemoteNonnullDomain(w, { name: 'ab€', uuid, id: 1 });
    // 4 (length) + 5 bytes of UTF-8 + 3 padding, then 16 + 4
    expect(w.pos).toBe(12 + 20);
    // and the fields claimed with the string start after it, on either path
    for (const name of ['ab€', 'abc']) {
      const bad = caught(() =>
        encodeRemoteNonnullDomain(dirtyWriter(), { name, uuid: uuid.subarray(4), id: 1 }),
      );
      expect(bad.path).toBe('remote_nonnull_domain.uuid');
      expect(bad.offset).toBe(name === 'abc' ? 8 : 12);
    }
  });

  it('report a value that is not a string, and a lone surrogate, at the string', () => {
    const w = new XdrWriter();
    w.writeInt(0);
    const notString = caught(() =>
      encodeRemoteNonnullDomain(w, { name: 42 as unknown as string, uuid, id: 1 }),
    );
    expect(notString.path).toBe('remote_nonnull_domain.name');
    expect(notString.offset).toBe(4);
    const surrogate = caught(() =>
      encodeRemoteNonnullDomain(w.reset(), { name: 'ab\uD800', uuid, id: 1 }),
    );
    expect(surrogate.path).toBe('remote_nonnull_domain.name');
    expect(surrogate.offset).toBe(0);
  });

  it('keep a bound under the inline limit: longer strings go to writeString(), which refuses them', async () => {
    const spec = parseXdr('struct bounded_name { string s<6>; int n; };', 'bounded.x');
    const code = emitModule({
      module: { id: 'bounded', spec },
      symbols: new SymbolTable([{ id: 'bounded', spec }]),
      sourcePath: 'bounded.x',
      libvirtVersion: 'test',
    });
    // the inline path stops at the bound, not at 32
    expect(code).toContain("typeof sv === 'string' && sv.length <= 6)");
    const xdrDir = resolve(import.meta.dirname, '../../../src/xdr/');
    const tmp = resolve(import.meta.dirname, '../../../.tmp/inline-strings');
    mkdirSync(tmp, { recursive: true });
    const file = join(tmp, 'bounded.ts');
    writeFileSync(file, code.replaceAll("'../xdr/", `'${xdrDir}/`));
    const m = (await import(file)) as {
      encodeBoundedName(w: XdrWriter, v: { s: string; n: number }): void;
    };
    for (const s of ['', 'abc', 'abcdef', 'abcdé']) {
      const w = dirtyWriter();
      m.encodeBoundedName(w, { s, n: 3 });
      const r = new XdrWriter();
      r.writeString(s, 6);
      r.writeInt(3);
      expect(Buffer.from(w.finish()).equals(Buffer.from(r.finish())), s).toBe(true);
    }
    for (const s of ['abcdefg', 'abcdeé']) {
      const e = caught(() => m.encodeBoundedName(new XdrWriter(), { s, n: 3 }));
      expect(e.path).toBe('bounded_name.s');
      expect(e.message).toMatch(/exceeds bound 6/);
    }
  });
});
