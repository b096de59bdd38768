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

// ---------------------------------------------------------------------------------------------
// Integer constant expressions (enum values, numeric #defines).

export type Resolver = (name: string) => bigint;

function tokenizeExpr(expr: string): string[] {
  const tokens: string[] = [];
  let rest = expr.trim();
  while (rest.length > 0) {
    const m =
      /^(?:0[xX][0-9a-fA-F]+|[0-9]+)[uUlL]*/.exec(rest) ??
      /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest) ??
      /^(?:<<|>>|[|&^+\-~*/%()])/.exec(rest);
    if (!m) fail(`cannot evaluate ${JSON.stringify(expr)}`);
    tokens.push(m[0]);
    rest = rest.slice(m[0].length).trimStart();
  }
  return tokens;
}

function parseIntLiteral(token: string): bigint {
  const digits = token.replace(/[uUlL]+$/, '');
  if (/^0[xX]/.test(digits)) return BigInt(digits);
  if (/^0[0-7]+$/.test(digits)) return BigInt(`0o${digits.slice(1)}`);
  if (/^[0-9]+$/.test(digits)) return BigInt(digits);
  return fail(`bad integer literal ${token}`);
}

/** Evaluates a C integer constant expression; names are looked up through `resolve`. */
export function evaluate(expr: string, resolveName: Resolver): bigint {
  const tokens = tokenizeExpr(expr);
  if (tokens.length === 0) fail('empty expression');
  let pos = 0;
  const peek = () => tokens[pos];
  const binaryLevels: readonly (readonly string[])[] = [
    ['|'],
    ['^'],
    ['&'],
    ['<<', '>>'],
    ['+', '-'],
    ['*', '/', '%'],
  ];
  const apply = (op: string, a: bigint, b: bigint): bigint => {
    switch (op) {
      case '|':
        return a | b;
      case '^':
        return a ^ b;
      case '&':
        return a & b;
      case '<<':
        return a << b;
      case '>>':
        return a >> b;
      case '+':
        return a + b;
      case '-':
        return a - b;
      case '*':
        return a * b;
      case '/':
        if (b === 0n) fail(`division by zero in ${JSON.stringify(expr)}`);
        return a / b;
      case '%':
        if (b === 0n) fail(`division by zero in ${JSON.stringify(expr)}`);
        return a % b;
      default:
        return fail(`unknown operator ${op}`);
    }
  };
  const binary = (level: number): bigint => {
    const ops = binaryLevels[level];
    if (!ops) return unary();
    let value = binary(level + 1);
    for (let op = peek(); op !== undefined && ops.includes(op); op = peek()) {
      pos++;
      value = apply(op, value, binary(level + 1));
    }
    return value;
  };
  const unary = (): bigint => {
    const t = peek();
    if (t === '-' || t === '+' || t === '~') {
      pos++;
      const v = unary();
      return t === '-' ? -v : t === '~' ? ~v : v;
    }
    return primary();
  };
  const primary = (): bigint => {
    const t = tokens[pos++];
    if (t === undefined) return fail(`unexpected end of ${JSON.stringify(expr)}`);
    if (t === '(') {
      const v = binary(0);
      if (tokens[pos++] !== ')') fail(`missing ) in ${JSON.stringify(expr)}`);
      return v;
    }
    if (/^[0-9]/.test(t)) return parseIntLiteral(t);
    if (/^[A-Za-z_]/.test(t)) return resolveName(t);
    return fail(`unexpected ${t} in ${JSON.stringify(expr)}`);
  };
  const value = binary(0);
  if (pos !== tokens.length) fail(`trailing tokens in ${JSON.stringify(expr)}`);
  return value;
}

export function toJsonNumber(name: string, v: bigint): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) fail(`${name} = ${v} does not fit in a JSON number`);
  return n;
}
