import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { isZeroRange, splitZeroRuns } from '../../../src/api/zero-test.js';

/** The plain definition the fast test must agree with. */
const slow = (b: Buffer, from: number, to: number): boolean => {
  for (let i = from; i < to; i++) if (b[i] !== 0) return false;
  return true;
};

describe('isZeroRange', () => {
  it('is true for an empty range and for zeros of every length around the 64-byte lead', () => {
    const b = Buffer.alloc(300);
    for (const len of [0, 1, 63, 64, 65, 127, 128, 129, 300]) {
      expect(isZeroRange(b, 0, len)).toBe(true);
    }
    expect(isZeroRange(b, 5, 5)).toBe(true);
  });

  it('finds one non-zero byte wherever it is in the range, and ignores bytes outside it', () => {
    const b = Buffer.alloc(4096 + 200);
    const from = 100;
    const to = 100 + 4096;
    for (const at of [
      from,
      from + 1,
      from + 63,
      from + 64,
      from + 65,
      from + 2048,
      to - 65,
      to - 64,
      to - 1,
    ]) {
      b[at] = 0x80;
      expect(isZeroRange(b, from, to), `byte ${at - from} of the range`).toBe(false);
      b[at] = 0;
    }
    b[from - 1] = 1;
    b[to] = 1;
    expect(isZeroRange(b, from, to)).toBe(true);
  });

  it('agrees with a byte-by-byte test on random ranges, including periodic non-zero content', () => {
    let seed = 12345;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const b = Buffer.alloc(1024);
    for (let k = 0; k < 2000; k++) {
      b.fill(0);
      const from = next(512);
      const to = from + next(512);
      const kind = next(4);
      if (kind === 1) b[from + next(to - from + 1)] = 1 + next(255); // maybe just outside
      if (kind === 2) for (let i = from; i < to; i += 64) b[i] = 7; // the same every 64 bytes
      if (kind === 3) for (let i = from + 64; i < to; i += 64) b[i] = 7; // zero lead, periodic after
      expect(isZeroRange(b, from, to), `kind ${kind}, [${from}, ${to})`).toBe(slow(b, from, to));
    }
  });
});

describe('splitZeroRuns', () => {
  /** The same split, page by page, the plain way. */
  const slowRuns = (b: Buffer, n: number, page: number): string[] => {
    const out: string[] = [];
    for (let at = 0; at < n; at += page) {
      const end = Math.min(n, at + page);
      const kind = slow(b, at, end) ? 'z' : 'd';
      const last = out[out.length - 1];
      if (last?.[0] === kind) {
        const [, from] = last.split(':');
        out[out.length - 1] = `${kind}:${from}:${end}`;
      } else out.push(`${kind}:${at}:${end}`);
    }
    return out;
  };

  it('reports data and zero runs of whole pages in order, as a page-by-page walk does', () => {
    let seed = 99;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const page = 64;
    const b = Buffer.alloc(2048);
    for (let k = 0; k < 500; k++) {
      b.fill(0);
      const n = next(2048 + 1);
      for (let i = next(6); i > 0; i--) b[next(2048)] = 1 + next(255);
      const got: string[] = [];
      let at = 0;
      splitZeroRuns(
        b,
        n,
        page,
        (from, to) => {
          expect(from).toBe(at);
          got.push(`d:${from}:${to}`);
          at = to;
        },
        (length) => {
          got.push(`z:${at}:${at + length}`);
          at += length;
        },
      );
      expect(got, `n ${n}`).toEqual(slowRuns(b, n, page));
    }
  });
});
