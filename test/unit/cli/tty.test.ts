/**
 * The live progress line on a real pseudo-terminal: the CLI runs under
 * util-linux `script`, so its stdout is a TTY of a known width, and the
 * captured bytes show the cursor hidden, the line redrawn in place (never
 * wider than the terminal), the phases, and the summary.
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { CLEAR_LINE, HIDE_CURSOR, SHOW_CURSOR } from '../../../src/cli/reporter.js';
import { Simulator } from '../../../src/testing/index.js';
import { tsEntryCommand } from '../../helpers/runtime.js';
import { cliEnv, MAIN, postcopyMigrateArgs, ROOT } from './run-cli.js';

/** Runs the CLI on a pseudo-terminal `cols` wide; resolves with everything the terminal received. */
function onTerminal(
  args: readonly string[],
  cols: number,
): Promise<{ code: number | null; out: string }> {
  const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const run = tsEntryCommand(MAIN).join(' ');
  const cmd = `stty cols ${cols} rows 40; exec ${run} ${quoted}`;
  return new Promise((resolve, reject) => {
    const p = spawn('script', ['-qfec', cmd, '/dev/null'], {
      cwd: ROOT,
      env: cliEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s;
    });
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, out }));
  });
}

/** `s` up to a carriage return, a newline or the next escape sequence. */
function lineOf(s: string): string {
  const ends = ['\r', '\n', '\x1b'].map((c) => s.indexOf(c)).filter((i) => i >= 0);
  return s.slice(0, ends.length ? Math.min(...ends) : s.length);
}

/** The progress lines drawn in place: what follows each erase-line up to the next control. */
function redraws(out: string): string[] {
  return out
    .split(CLEAR_LINE)
    .slice(1)
    .map(lineOf)
    .filter((s) => s.startsWith('['));
}

let sims: Simulator[] = [];
afterEach(async () => {
  await Promise.all(sims.map((s) => s.close()));
  sims = [];
});

describe('progress on a terminal', () => {
  it('virtwire demo redraws one line in place, then prints the summary', async () => {
    const { code, out } = await onTerminal(['demo'], 120);
    expect(code).toBe(0);
    const hide = out.indexOf(HIDE_CURSOR);
    const show = out.indexOf(SHOW_CURSOR);
    expect(hide).toBeGreaterThan(0);
    expect(show).toBeGreaterThan(hide);
    const lines = redraws(out);
    expect(lines.length).toBeGreaterThanOrEqual(4);
    for (const l of lines) {
      expect(l.length).toBeLessThan(120);
      expect(l).toMatch(/^\[[#.]+\] +\d+\.\d% {2}(pre-copy |post-copy)/);
    }
    // the demo switches after the first pass, whose dirty rate QEMU does not know yet
    expect(lines.some((l) => l.includes('pre-copy') && l.includes('dirty ?'))).toBe(true);
    expect(lines.some((l) => l.includes('pre-copy') && l.includes('ETA ?'))).toBe(true);
    expect(lines.some((l) => l.includes('post-copy'))).toBe(true);
    // a fixed-width bar: it closes at the same column on every redraw
    expect(new Set(lines.map((l) => l.indexOf(']'))).size).toBe(1);
    // redrawn, not scrolled: no newline between consecutive redraws
    const between = out.slice(hide, show);
    expect(between).toMatch(new RegExp(`\\][^\\n]*${CLEAR_LINE.replace(/[[\]\\]/g, '\\$&')}\\[`));
    // the post-copy switch is announced above the live line
    expect(between).toContain(`${CLEAR_LINE}source: suspended (postcopy)\r\n`);
    expect(
      between
        .split(CLEAR_LINE)
        .some((l) => /^switched to post-copy at \d+\.\d s \(latency \d+(\.\d+)? ms\)\r\n/.test(l)),
    ).toBe(true);
    const summary = out.slice(show + SHOW_CURSOR.length);
    expect(summary).toMatch(/^Migration of demo-vm completed \(post-copy\) in \d/);
    expect(summary).toMatch(/ {2}post-copy requests: [1-9]\d*\r\n/);
    expect(summary).toMatch(/ {2}downtime: +\d+ ms\r\n/);
    expect(out).not.toContain('migration: '); // no plain-mode lines on a terminal
  });

  it('fits a narrow terminal, and --json stays plain JSON on a terminal', async () => {
    const a = await Simulator.start({
      tcp: true,
      timeScale: 10,
      domains: [
        { name: 'vm', state: 'running', persistent: false, memoryMiB: 1024, dirtyRateMiBps: 300 },
      ],
    });
    const b = await Simulator.start({ tcp: true, timeScale: 10 });
    sims = [a, b];
    const narrow = await onTerminal(postcopyMigrateArgs(a.uri, 'vm', b.uri), 50);
    expect(narrow.code).toBe(0);
    const lines = redraws(narrow.out);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(49);
    expect(narrow.out).toContain('Migration of vm completed (post-copy)');

    // back again, as JSON
    const back = await onTerminal(postcopyMigrateArgs(b.uri, 'vm', a.uri, '--json'), 80);
    expect(back.code).toBe(0);
    expect(back.out).not.toContain('\x1b');
    const objs = back.out
      .split('\r\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { type: string });
    expect(objs.at(-1)).toMatchObject({ type: 'summary', result: 'completed', postcopy: true });
  });
});
