/**
 * Short ASCII strings at most this long are written by the generated encoder
 * itself; longer or other strings go through `XdrWriter.writeString`.
 */
export const INLINE_STRING_MAX = 32;

/**
 * The statements that encode the string `expr` (bound `max`). Names and
 * field names (short ASCII: the bulk of libvirt's strings) are written inline,
 * a character at a time into room claimed for exactly their wire form; a string
 * that is longer, not ASCII or not a string at all is left to `writeString`,
 * which checks it and names what is wrong (the cursor is moved back first if
 * a non-ASCII character turns up). Written out in the encoder rather than
 * called from a writer method: V8 compiled the same loop, inlined from a
 * method, into slower code (an in-process A/B on bench/xdr.ts's messages:
 * list of 1,000 domains +1-10%, job stats +3-6%, all-domain stats +1-3%).
 */
export function shortString(expr: string, max: number): string[] {
  return ['{', ...stringThenRoom(expr, max, 0), '}'];
}

/**
 * shortString() followed by room for `extra` bytes (a run of fixed-size
 * fields), claimed together with a short string's: declares `p`, their
 * offset, for the statements that come after these in the same block.
 */
export function stringThenRoom(expr: string, max: number, extra: number): string[] {
  const limit = Math.min(INLINE_STRING_MAX, max);
  const more = extra === 0 ? '' : ` + ${extra}`;
  const room = extra === 0 ? [] : [`p = w.claim(${extra});`];
  return [
    ...(extra === 0 ? [] : ['let p: number;']),
    `const sv = ${expr};`,
    `if (typeof sv === 'string' && sv.length <= ${limit}) {`,
    'const sn = sv.length;',
    'const sw = (sn + 7) & ~3;',
    `let sp = w.claim(sw${more});`,
    'const sb = w.raw;',
    'let si = 0;',
    'for (; si < sn; si++) {',
    'const c = sv.charCodeAt(si);',
    'if (c > 0x7f) break;',
    'sb[sp + 4 + si] = c;',
    '}',
    'if (si < sn) {',
    `w.pos -= sw${more};`,
    `w.writeString(sv, ${max});`,
    ...room,
    '} else {',
    'w.data.setUint32(sp, sn);',
    ...(extra === 0 ? [] : ['p = sp + sw;']),
    'const se = sp + sw;',
    'for (sp += 4 + sn; sp < se; sp++) sb[sp] = 0;',
    '}',
    '} else {',
    `w.writeString(sv, ${max});`,
    ...room,
    '}',
  ];
}
