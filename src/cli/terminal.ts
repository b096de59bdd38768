/**
 * What the CLI does to a terminal, and undoing it whatever happens: the
 * cursor hidden under the live line is shown again on a normal end, on an
 * exception, and on SIGINT, SIGTERM and SIGHUP (main.ts calls
 * restoreTerminal() on its way out). Also: which output gets the live line,
 * and help text wrapped to the terminal's width.
 */
import { SHOW_CURSOR } from './constants.js';
import type { Output } from './context.js';

export { SHOW_CURSOR };
/** Carriage return + erase line: redraw in place. */
export const CLEAR_LINE = '\r\x1b[2K';
export const HIDE_CURSOR = '\x1b[?25l';

const hidden = new Set<Output>();

export function hideCursor(out: Output): void {
  if (hidden.has(out)) return;
  hidden.add(out);
  out.write(HIDE_CURSOR);
}

export function showCursor(out: Output): void {
  if (!hidden.delete(out)) return;
  out.write(SHOW_CURSOR);
}

/** Shows the cursor again on every output that hid it; safe to call at any time, and twice. */
export function restoreTerminal(): void {
  for (const out of [...hidden]) showCursor(out);
}

/**
 * True when `out` can take escape codes and a line redrawn in place: a
 * terminal, and not one that says it cannot (TERM=dumb, as Emacs shells do).
 */
export function isLiveTerminal(out: Output, env: NodeJS.ProcessEnv): boolean {
  return out.isTTY === true && env.TERM !== 'dumb';
}

/**
 * Wraps prose to `width` columns. Lines that start with spaces (examples,
 * tables) are kept as they are, since breaking a command line makes it
 * useless to copy; blank lines separate paragraphs.
 */
export function wrapText(text: string, width: number): string {
  const w = Math.max(20, width - 1);
  const out: string[] = [];
  let para: string[] = [];
  const flush = (): void => {
    if (!para.length) return;
    let line = '';
    for (const word of para.join(' ').split(/\s+/).filter(Boolean)) {
      if (line && line.length + 1 + word.length > w) {
        out.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    if (line) out.push(line);
    para = [];
  };
  for (const l of text.split('\n')) {
    if (l.trim() === '' || /^\s/.test(l) || /^[A-Z][\w ]*:$/.test(l)) {
      flush();
      out.push(l);
    } else para.push(l);
  }
  flush();
  return out.join('\n');
}
