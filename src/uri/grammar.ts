/**
 * libxml2's RFC 3986 URI grammar (as libvirt's virURIParse uses it), with
 * errors that say what failed and where, and the percent-decoding of parts.
 */

import { UriError } from './types.js';

// Character classes of libxml2's RFC 3986 parser.

export const isAlpha = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
export const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isHex = (c: number): boolean =>
  isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
const isUnreserved = (c: number): boolean =>
  isAlpha(c) || isDigit(c) || c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e;
const SUB_DELIMS = "!$&'()*+,;=";
const SUB_DELIM_TABLE = new Uint8Array(128);
for (const ch of SUB_DELIMS) SUB_DELIM_TABLE[ch.charCodeAt(0)] = 1;
const isSubDelim = (c: number): boolean => c >= 0 && c < 128 && SUB_DELIM_TABLE[c] === 1;

/** Parsed but not yet interpreted pieces, as libxml2 would report them. */
export interface RawUri {
  scheme: string;
  user: string | null;
  password: string | null;
  server: string | null;
  port: number;
  path: string;
  query: string | null;
  fragment: string | null;
}

/** Strict, and keeps a leading U+FEFF so decoding and re-encoding round-trip. */
const textDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
export const textEncoder = new TextEncoder();

/** Describes a code unit for an error message. */
function showChar(s: string, i: number): string {
  if (i >= s.length) return 'end of input';
  const cp = s.codePointAt(i) ?? 0;
  const ch = String.fromCodePoint(cp);
  if (cp < 0x20 || cp === 0x7f) return `control character U+${cp.toString(16).padStart(4, '0')}`;
  if (cp > 0x7e) return `"${ch}" (non-ASCII characters must be percent-encoded)`;
  if (ch === ' ') return 'space (spaces must be written %20)';
  return `"${ch}"`;
}

/**
 * Recursive-descent parser following libxml2's `xmlParse3986URI`, but
 * reporting what failed and where.
 */
export class Scanner {
  i = 0;
  constructor(
    readonly s: string,
    readonly uri: string,
  ) {}

  code(at = this.i): number {
    return at < this.s.length ? this.s.charCodeAt(at) : -1;
  }

  pctAt(at: number): boolean {
    return this.code(at) === 0x25 && isHex(this.code(at + 1)) && isHex(this.code(at + 2));
  }

  pcharAt(at: number): boolean {
    const c = this.code(at);
    return isUnreserved(c) || isSubDelim(c) || c === 0x3a || c === 0x40 || this.pctAt(at);
  }

  fail(reason: string, at = this.i): never {
    throw new UriError(this.uri, reason, at);
  }

  /** Error for the character at `at`, which ends the part named `where`. */
  unexpected(where: string, at = this.i): never {
    if (this.code(at) === 0x25) {
      const seq = this.s.slice(at, at + 3);
      this.fail(`bad percent-encoding "${seq}" at offset ${at} in the ${where}`, at);
    }
    this.fail(`unexpected ${showChar(this.s, at)} at offset ${at} in the ${where}`, at);
  }

  /** Advances over one character or one %XX triple. */
  step(): void {
    this.i += this.code() === 0x25 ? 3 : 1;
  }

  decode(start: number, end: number, what: string): string {
    return percentDecode(this.s.slice(start, end), this.uri, what, start);
  }

  parse(): RawUri {
    const s = this.s;
    if (!isAlpha(this.code())) this.noScheme();
    while (
      isAlpha(this.code()) ||
      isDigit(this.code()) ||
      this.code() === 0x2b ||
      this.code() === 0x2d ||
      this.code() === 0x2e
    )
      this.i++;
    if (this.code() !== 0x3a) this.noScheme();
    const scheme = s.slice(0, this.i);
    this.i++;

    const raw: RawUri = {
      scheme,
      user: null,
      password: null,
      server: null,
      port: 0,
      path: '',
      query: null,
      fragment: null,
    };

    if (this.code() === 0x2f && this.code(this.i + 1) === 0x2f) {
      this.i += 2;
      this.authority(raw);
      const start = this.i;
      while (this.code() === 0x2f) {
        this.i++;
        while (this.pcharAt(this.i)) this.step();
      }
      raw.path = this.decode(start, this.i, 'path');
      if (this.i < s.length && this.code() !== 0x3f && this.code() !== 0x23) {
        // Tell apart junk right after the authority from junk inside the path.
        this.unexpected(start === this.i ? 'host' : 'path');
      }
    } else {
      // path-absolute, path-rootless or path-empty: the same loop covers all
      // three because libxml2 only stores the text they span.
      const start = this.i;
      while (this.pcharAt(this.i) || this.code() === 0x2f) this.step();
      raw.path = this.decode(start, this.i, 'path');
      if (this.i < s.length && this.code() !== 0x3f && this.code() !== 0x23) {
        this.unexpected('path');
      }
    }

    if (this.code() === 0x3f) {
      this.i++;
      const start = this.i;
      while (this.pcharAt(this.i) || this.code() === 0x2f || this.code() === 0x3f) this.step();
      raw.query = s.slice(start, this.i);
      if (this.i < s.length && this.code() !== 0x23) this.unexpected('query');
    }
    if (this.code() === 0x23) {
      this.i++;
      const start = this.i;
      while (
        this.pcharAt(this.i) ||
        this.code() === 0x2f ||
        this.code() === 0x3f ||
        this.code() === 0x5b ||
        this.code() === 0x5d
      )
        this.step();
      if (this.i < s.length) this.unexpected('fragment');
      raw.fragment = this.decode(start, this.i, 'fragment');
    }
    return raw;
  }

  noScheme(): never {
    this.fail(
      'no driver name: expected driver[+transport]:// at the start ' +
        '(a driver name starts with a letter and may contain letters, digits, "+", "-" and ".")',
      0,
    );
  }

  authority(raw: RawUri): void {
    const begin = this.i;
    // userinfo "@", if there is one
    while (
      isUnreserved(this.code()) ||
      isSubDelim(this.code()) ||
      this.code() === 0x3a ||
      this.pctAt(this.i)
    )
      this.step();
    if (this.code() === 0x40) {
      // libxml2 turns an empty user ("//@host") into the rest of the URI;
      // treating it as "no user" is the only sensible reading. The name ends
      // at the first raw ':' (an encoded %3A belongs to the name).
      const colon = this.s.indexOf(':', begin);
      const nameEnd = colon >= 0 && colon < this.i ? colon : this.i;
      raw.user = nameEnd > begin ? this.decode(begin, nameEnd, 'user name') : null;
      raw.password = nameEnd < this.i ? this.decode(nameEnd + 1, this.i, 'password') : null;
      this.i++;
    } else {
      this.i = begin;
    }

    const hostStart = this.i;
    if (this.code() === 0x5b) {
      // libxml2 takes anything up to the closing bracket.
      const close = this.s.indexOf(']', this.i);
      if (close < 0) this.fail(`unterminated "[" at offset ${this.i} in the host`);
      this.i = close + 1;
    } else {
      while (isUnreserved(this.code()) || isSubDelim(this.code()) || this.pctAt(this.i))
        this.step();
    }
    if (this.i > hostStart) {
      let host = percentDecodeLoose(this.s.slice(hostStart, this.i), this.uri, hostStart);
      if (host.startsWith('[') && host.endsWith(']') && host.includes(':')) {
        host = host.slice(1, -1);
      }
      raw.server = host;
    }

    if (this.code() === 0x3a) {
      this.i++;
      const portStart = this.i;
      while (isDigit(this.code())) this.i++;
      if (this.i === portStart) {
        let end = portStart;
        while (end < this.s.length && !'/?#'.includes(this.s.charAt(end))) end++;
        const text = this.s.slice(portStart, end);
        this.fail(
          text === ''
            ? `empty port after ":" at offset ${portStart - 1}`
            : text.includes('@')
              ? // Most likely a password with a character that must be
                // percent-encoded: the text after ':' is a secret, not a port.
                `the text after ":" at offset ${portStart - 1} is neither a port nor the end of a password (percent-encode spaces and other special characters in a password)`
              : `port "${text}" at offset ${portStart} is not a number`,
          portStart,
        );
      }
      const digits = this.s.slice(portStart, this.i);
      const port = Number(digits);
      if (port > 65535) {
        this.fail(`port ${digits} at offset ${portStart} is out of range (1-65535)`, portStart);
      }
      // libvirt ignores a port given without a host.
      raw.port = raw.server === null ? 0 : port;
      if (this.i < this.s.length && !'/?#'.includes(this.s.charAt(this.i))) {
        this.unexpected('port');
      }
    }
  }
}

/**
 * Decodes %XX sequences (the caller has checked they are well formed) and
 * requires the bytes to be UTF-8 without NUL.
 */
export function percentDecode(text: string, uri: string, what: string, offset: number): string {
  if (!text.includes('%')) return text;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x25 && isHex(text.charCodeAt(i + 1)) && isHex(text.charCodeAt(i + 2))) {
      const b = Number.parseInt(text.slice(i + 1, i + 3), 16);
      if (b === 0) {
        throw new UriError(
          uri,
          `"%00" at offset ${offset + i} in the ${what}: NUL bytes are not allowed`,
          offset + i,
        );
      }
      bytes.push(b);
      i += 2;
    } else {
      // Callers pass ASCII only: the grammar admits nothing else here.
      bytes.push(c);
    }
  }
  try {
    return textDecoder.decode(Uint8Array.from(bytes));
  } catch (err) {
    throw new UriError(
      uri,
      `percent-encoded bytes in the ${what} at offset ${offset} are not valid UTF-8`,
      offset,
      { cause: err },
    );
  }
}

/**
 * Like {@link percentDecode}, for a host, where libxml2 accepts any
 * character between brackets: a `%` without two hex digits there stays
 * literal, so both `[fe80::1%25eth0]` and `[fe80::1%eth0]` name zone `eth0`.
 */
export function percentDecodeLoose(text: string, uri: string, offset: number): string {
  if (!text.includes('%')) return text;
  let out = '';
  let run = '';
  let runStart = 0;
  for (let i = 0; i < text.length; i++) {
    if (
      text.charCodeAt(i) === 0x25 &&
      isHex(text.charCodeAt(i + 1)) &&
      isHex(text.charCodeAt(i + 2))
    ) {
      if (run === '') runStart = i;
      run += text.slice(i, i + 3);
      i += 2;
    } else {
      if (run !== '') out += percentDecode(run, uri, 'host', offset + runStart);
      run = '';
      out += text.charAt(i);
    }
  }
  if (run !== '') out += percentDecode(run, uri, 'host', offset + runStart);
  return out;
}
