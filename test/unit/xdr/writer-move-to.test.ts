import { describe, expect, it } from 'vitest';
import { XdrError, XdrWriter } from '../../../src/xdr/index.js';
import { caught } from '../../helpers/xdr-error.js';

// moveTo() is public: generated encodeEach*() functions hand their own cursor
// back through it, and a cursor outside the message would silently corrupt
// every later write. It refuses such an offset with an XdrError, leaving the
// cursor where it was.

describe('XdrWriter.moveTo', () => {
  it('moves the cursor to an offset in the buffer: later writes land there', () => {
    const w = new XdrWriter(64);
    w.writeInt(1);
    w.moveTo(w.cursor + 8);
    w.writeInt(2);
    expect(w.pos).toBe(16);
    const dv = new DataView(w.finish().slice().buffer);
    expect(dv.getInt32(0)).toBe(1);
    expect(dv.getInt32(12)).toBe(2);
  });

  it('takes the end of the buffer, and the next write grows it', () => {
    const w = new XdrWriter(16);
    w.moveTo(w.raw.length);
    expect(w.cursor).toBe(16);
    w.writeUint(0xdeadbeef);
    expect(w.pos).toBe(20);
    expect(w.raw.length).toBeGreaterThanOrEqual(20);
    expect(new DataView(w.finish().slice().buffer).getUint32(16)).toBe(0xdeadbeef);
  });

  it('refuses a negative offset', () => {
    const w = new XdrWriter(16);
    w.writeInt(5);
    const e = caught(() => w.moveTo(-4));
    expect(e.message).toContain('-4');
    expect(e.offset).toBe(4);
    expect(w.cursor).toBe(4);
  });

  it('refuses a fractional offset, NaN and Infinity', () => {
    const w = new XdrWriter(16);
    for (const p of [1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      const e = caught(() => w.moveTo(p));
      expect(e.message).toContain(String(p));
      expect(e.message).toContain('not a whole number');
    }
    expect(w.cursor).toBe(0);
  });

  it('refuses an offset past the end of the buffer', () => {
    const w = new XdrWriter(16);
    const e = caught(() => w.moveTo(w.raw.length + 1));
    expect(e.message).toContain('17');
    expect(e.message).toContain('16 bytes');
    expect(w.cursor).toBe(0);
  });

  it('refuses an offset before the current message (bytes finish() already handed out)', () => {
    const w = new XdrWriter(256);
    w.writeInt(7);
    const first = w.finish();
    w.reset();
    const start = w.cursor;
    expect(start).toBeGreaterThan(0); // the next message starts after the one handed out
    const e = caught(() => w.moveTo(0));
    expect(e.message).toContain(`starts at ${start}`);
    expect(w.cursor).toBe(start);
    w.writeInt(8);
    expect(new DataView(first.slice().buffer).getInt32(0)).toBe(7);
  });

  it('refuses a value that is not a number at all', () => {
    const w = new XdrWriter(16);
    expect(() => w.moveTo('8' as unknown as number)).toThrow(XdrError);
    expect(w.cursor).toBe(0);
  });
});
