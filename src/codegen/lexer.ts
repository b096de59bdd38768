/** Tokens of the XDR language; comments and rpcgen `%` pass-through lines are dropped. */

export type TokenKind = 'ident' | 'number' | 'punct' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly line: number;
  readonly col: number;
}

export class XdrSyntaxError extends Error {
  override readonly name = 'XdrSyntaxError';
  constructor(
    readonly file: string,
    readonly line: number,
    readonly col: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}:${col}: ${reason}`);
  }
}

const PUNCT = new Set(['{', '}', '(', ')', '[', ']', '<', '>', ';', ',', '=', ':', '*', '-']);

export function tokenize(src: string, file = '<input>'): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const n = src.length;
  const fail = (msg: string): never => {
    throw new XdrSyntaxError(file, line, i - lineStart + 1, msg);
  };
  while (i < n) {
    const c = src[i]!;
    if (c === '\n') {
      line++;
      i++;
      lineStart = i;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f') {
      i++;
      continue;
    }
    if (c === '%' && src.slice(lineStart, i).trim() === '') {
      while (i < n && src[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      if (end < 0) fail('unterminated comment');
      for (let k = i; k < end; k++) {
        if (src[k] === '\n') {
          line++;
          lineStart = k + 1;
        }
      }
      i = end + 2;
      continue;
    }
    if (c === '/' && src[i + 1] === '/') {
      while (i < n && src[i] !== '\n') i++;
      continue;
    }
    const col = i - lineStart + 1;
    if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_]/.test(src[j]!)) j++;
      out.push({ kind: 'ident', text: src.slice(i, j), line, col });
      i = j;
      continue;
    }
    if (/[0-9]/.test(c)) {
      let j = i + 1;
      while (j < n && /[0-9A-Fa-fxX]/.test(src[j]!)) j++;
      const text = src.slice(i, j);
      if (!/^(0[xX][0-9A-Fa-f]+|[0-9]+)$/.test(text)) fail(`bad number ${text}`);
      out.push({ kind: 'number', text, line, col });
      i = j;
      continue;
    }
    if (PUNCT.has(c)) {
      out.push({ kind: 'punct', text: c, line, col });
      i++;
      continue;
    }
    fail(`unexpected character ${JSON.stringify(c)}`);
  }
  out.push({ kind: 'eof', text: '', line, col: i - lineStart + 1 });
  return out;
}
