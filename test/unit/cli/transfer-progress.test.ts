/**
 * The volume transfer display: one line redrawn in place on a terminal (bar
 * width set by the terminal alone, never wider than it), a plain line a
 * second elsewhere, and the last figures always drawn at the end.
 */
import { describe, expect, it } from 'vitest';
import { CLEAR_LINE, HIDE_CURSOR, SHOW_CURSOR } from '../../../src/cli/terminal.js';
import { transferLine, transferProgress } from '../../../src/cli/transfer-progress.js';

const MiB = 1024n * 1024n;

describe('transferLine', () => {
  it('shows percent, bytes of total and rate; a bar when the terminal is wide enough', () => {
    expect(transferLine('vol-download', 4n * MiB, 8n * MiB, 2000, undefined)).toBe(
      'vol-download:  50.0%  4.0 MiB of 8.0 MiB  2.0 MiB/s',
    );
    const wide = transferLine('vol-download', 4n * MiB, 8n * MiB, 2000, 99);
    expect(wide).toBe('vol-download [##########..........]  50.0%  4.0 MiB of 8.0 MiB  2.0 MiB/s');
    const narrow = transferLine('vol-download', 4n * MiB, 8n * MiB, 2000, 45);
    expect(narrow).toBe('vol-download:  50.0%  4.0 MiB of 8.0 MiB');
    expect(narrow.length).toBeLessThanOrEqual(45);
    expect(transferLine('vol-upload', 3n, 0n, 0, undefined)).toBe('vol-upload: 3 B  ?');
  });
});

describe('transferProgress', () => {
  const capture = (isTTY: boolean) => {
    const writes: string[] = [];
    return { out: { write: (s: string) => writes.push(s), isTTY, columns: 100 }, writes };
  };

  it('on a terminal: hides the cursor, redraws at most every 100 ms, ends with the last figures', () => {
    const { out, writes } = capture(true);
    let now = 0;
    const p = transferProgress(out, { TERM: 'xterm' }, 'vol-download', 10n * MiB, () => now);
    expect(writes).toEqual([HIDE_CURSOR]);
    p.update(1n * MiB);
    now = 50;
    p.update(2n * MiB); // too soon: not drawn
    now = 150;
    p.update(3n * MiB);
    now = 160;
    p.update(10n * MiB);
    p.done();
    const draws = writes.filter((w) => w.startsWith(CLEAR_LINE));
    expect(draws.map((d) => /(\d+\.\d)%/.exec(d)![1])).toEqual(['10.0', '30.0', '100.0']);
    expect(writes.slice(-2)).toEqual(['\n', SHOW_CURSOR]);
  });

  it('elsewhere: plain lines, one a second, no escape codes', () => {
    const { out, writes } = capture(false);
    let now = 0;
    const p = transferProgress(out, {}, 'vol-upload', 4n * MiB, () => now);
    for (let t = 0; t <= 2500; t += 500) {
      now = t;
      p.update(BigInt(t) * 1024n);
    }
    p.done();
    expect(writes.every((w) => !w.includes('\x1b'))).toBe(true);
    expect(writes).toHaveLength(4); // t = 0, 1000, 2000, and the end
    expect(writes.at(-1)).toMatch(/^vol-upload: +\d+\.\d% /);
  });
});
