import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { XdrReader, XdrWriter } from '../../../src/xdr/index.js';
import { generateSmall } from './small-fixture.js';

// The generator's output for small.x, run: its union has the arm shapes that
// libvirt's protocols lack (several cases, void, default), so what their
// decoders make is checked here. Decoded values must be plain objects whatever
// builds them: Object.prototype, the discriminant first, then the arm's field.

type SmallValue = { kind: number; [field: string]: unknown };
interface SmallModule {
  encodeSmallValue(w: XdrWriter, v: SmallValue): void;
  decodeSmallValue(r: XdrReader): SmallValue;
}

const src = join(import.meta.dirname, '../../../src');
let scratch = '';
let small: SmallModule;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'vw-small-'));
  const file = join(scratch, 'small.ts');
  // the module's imports, made absolute: it runs from a scratch directory
  const code = generateSmall()
    .replaceAll("from '../xdr/", `from '${src}/xdr/`)
    .replaceAll("from './", `from '${src}/generated/`);
  writeFileSync(file, code);
  small = (await import(pathToFileURL(file).href)) as SmallModule;
});
afterAll(() => {
  if (scratch !== '') rmSync(scratch, { recursive: true, force: true });
});

function roundTrip(v: SmallValue): SmallValue {
  const w = new XdrWriter();
  small.encodeSmallValue(w, v);
  const r = new XdrReader(w.finish());
  const out = small.decodeSmallValue(r);
  r.done();
  return out;
}

describe('small.x union arms, decoded', () => {
  const values: SmallValue[] = [
    { kind: 1, i: 42 }, // one case
    { kind: 2, s: 'two' }, // several cases: the discriminant is the one read
    { kind: 3, s: null },
    { kind: 4 }, // void
    { kind: 9, raw: new Uint8Array([1, 2, 3]) }, // default
  ];
  for (const v of values) {
    it(`kind ${v.kind}: a plain object, ${Object.keys(v).join(' then ')}`, () => {
      const out = roundTrip(v);
      expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
      expect(out.constructor).toBe(Object);
      expect(Object.keys(out)).toEqual(Object.keys(v));
      expect(isDeepStrictEqual(out, v)).toBe(true);
    });
  }

  it('two values of one arm are distinct objects', () => {
    const a = roundTrip({ kind: 4 });
    const b = roundTrip({ kind: 4 });
    expect(a).not.toBe(b);
    expect(isDeepStrictEqual(a, b)).toBe(true);
  });
});
