/**
 * Shared by the update-protocol scripts: the error they fail with, and a C lexer that tells
 * comments from code (comments are read for facts, never copied).
 */

export class UpdateError extends Error {}

export function fail(message: string): never {
  throw new UpdateError(message);
}

export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// C-like lexing: separate comments (and rpcgen `%` passthrough lines) from code.

export interface Segment {
  kind: 'code' | 'comment' | 'percent';
  start: number;
  end: number;
}

export function lexC(text: string, percentLines: boolean): Segment[] {
  const segments: Segment[] = [];
  let codeStart = 0;
  let i = 0;
  const pushCode = (end: number) => {
    if (end > codeStart) segments.push({ kind: 'code', start: codeStart, end });
  };
  while (i < text.length) {
    const c = text[i];
    const atLineStart = i === 0 || text[i - 1] === '\n';
    if (percentLines && atLineStart && c === '%') {
      pushCode(i);
      let end = text.indexOf('\n', i);
      if (end === -1) end = text.length;
      segments.push({ kind: 'percent', start: i, end });
      i = end;
      codeStart = i;
    } else if (c === '/' && text[i + 1] === '*') {
      pushCode(i);
      const close = text.indexOf('*/', i + 2);
      if (close === -1) fail(`unterminated comment at offset ${i}`);
      segments.push({ kind: 'comment', start: i, end: close + 2 });
      i = close + 2;
      codeStart = i;
    } else if (c === '/' && text[i + 1] === '/') {
      pushCode(i);
      let end = text.indexOf('\n', i);
      if (end === -1) end = text.length;
      segments.push({ kind: 'comment', start: i, end });
      i = end;
      codeStart = i;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < text.length && text[j] !== c && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
      if (text[j] !== c) fail(`unterminated ${c} literal at offset ${i}`);
      i = j + 1;
    } else {
      i++;
    }
  }
  pushCode(text.length);
  return segments;
}

/** Code with every comment and `%` line replaced by spaces: offsets and line breaks are kept. */
export function blankComments(text: string, segments: readonly Segment[]): string {
  let out = '';
  for (const s of segments) {
    const part = text.slice(s.start, s.end);
    out += s.kind === 'code' ? part : part.replace(/[^\n]/g, ' ');
  }
  return out;
}
