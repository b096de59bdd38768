/**
 * libvirt's query-string splitting, and the re-encoding of the name the C
 * client sends on to the daemon.
 */

import { isAlpha, isDigit, percentDecode, textEncoder } from './grammar.js';

// Re-encoding, for the name sent to the daemon.

function escapeBytes(text: string, keep: (c: number) => boolean): string {
  // Most text needs no escaping: return it without encoding it to bytes.
  let plain = true;
  for (let i = 0; i < text.length && plain; i++) {
    const c = text.charCodeAt(i);
    plain = c < 0x80 && keep(c);
  }
  if (plain) return text;
  let out = '';
  for (const b of textEncoder.encode(text)) {
    out += keep(b) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const MARKS = "-_.!~*'()";
const isMark = (c: number): boolean => MARKS.includes(String.fromCharCode(c));
const isUnreservedOld = (c: number): boolean => isAlpha(c) || isDigit(c) || isMark(c);
/** Path characters libxml2's xmlSaveUri writes as they are. */
const keepInPath = (c: number): boolean =>
  isUnreservedOld(c) || '/;@&=+$,'.includes(String.fromCharCode(c));
/** Fragment characters libxml2's xmlSaveUri writes as they are. */
const keepInFragment = (c: number): boolean =>
  isUnreservedOld(c) || ';/?:@&=+$,[]'.includes(String.fromCharCode(c));
/** What GLib's g_string_append_uri_escaped leaves alone (used for parameter values). */
const keepInValue = (c: number): boolean =>
  isAlpha(c) || isDigit(c) || c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e;

export interface Param {
  name: string;
  value: string;
  /** Consumed by the remote driver, so left out of the name sent on. */
  consumed: boolean;
}

/**
 * Rebuilds the URI the C client sends on: scheme = driver, no authority, the
 * path, the parameters not consumed (names raw, values escaped) and the
 * fragment.
 */
export function formatForDaemon(
  driver: string,
  path: string,
  params: readonly Param[],
  fragment: string | null,
  keep: (p: Param) => boolean,
): string {
  const query = params
    .filter(keep)
    .map((p) => `${p.name}=${escapeBytes(p.value, keepInValue)}`)
    .join('&');
  let out = `${driver}://${escapeBytes(path, keepInPath)}`;
  if (query !== '') out += `?${query}`;
  if (fragment !== null) out += `#${escapeBytes(fragment, keepInFragment)}`;
  return out;
}

/**
 * Splits a raw query the way libvirt's virURIParseParams does: sections end
 * at the next `&`, or at the next `;` when no `&` follows; `name` alone has
 * the value ''; `=value` and empty sections are dropped; `+` is not a space.
 */
export function splitQuery(query: string, uri: string, offset: number): Param[] {
  const out: Param[] = [];
  // Next occurrence at or after `pos` of each separator, found once and kept
  // until `pos` passes it: the whole query is scanned a bounded number of
  // times, however many sections it has (rescanning the rest for every
  // section made a 1 MB query take seconds).
  // -2: not looked for yet; -1: none left.
  const next = { '&': -2, ';': -2, '=': -2 };
  const find = (ch: '&' | ';' | '=', pos: number): number => {
    const at = next[ch];
    if (at === -1 || at >= pos) return at;
    next[ch] = query.indexOf(ch, pos);
    return next[ch];
  };
  let pos = 0;
  while (pos < query.length) {
    let end = find('&', pos);
    if (end < 0) end = find(';', pos);
    if (end < 0) end = query.length;
    let eq = find('=', pos);
    if (eq >= end) eq = -1;
    if (end > pos && eq !== pos) {
      const nameEnd = eq < 0 ? end : eq;
      const name = percentDecode(
        query.slice(pos, nameEnd),
        uri,
        'query parameter name',
        offset + pos,
      );
      const value =
        eq < 0 ? '' : percentDecode(query.slice(eq + 1, end), uri, 'query', offset + eq + 1);
      out.push({ name, value, consumed: false });
    }
    pos = end < query.length ? end + 1 : end;
  }
  return out;
}
