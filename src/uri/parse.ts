/**
 * Parsing of libvirt connection URIs, reproducing what the C library does
 * before its remote driver talks to a daemon:
 *
 * - the URI grammar and decoding of libxml2's `xmlParseURI` (RFC 3986, with
 *   its quirks), which libvirt uses through `virURIParse`;
 * - libvirt's own query-string splitting (`&`, or `;` when no `&` follows,
 *   no `+`-as-space decoding);
 * - the checks and rewrites of `virConnectOpenInternal` (the `xen` shortcuts,
 *   aliases, `qemu://system`, `/embed`);
 * - the remote driver's scheme split, parameter extraction and validation,
 *   and the name it sends in CONNECT_OPEN.
 *
 * Behaviour was read from libvirt 11.3.0 and libxml2 2.9.14/2.12.7, and
 * spot-checked against the C client (virsh 9.0 on libxml2 2.9.14).
 */

import { VirtwireError } from '../errors.js';
import { displayUri, redactUri } from './redact.js';

/** How the remote driver reaches the daemon. */
export type TransportName = 'unix' | 'tcp' | 'tls' | 'ssh' | 'libssh' | 'libssh2' | 'ext';

export const TRANSPORTS: readonly TransportName[] = [
  'unix',
  'tcp',
  'tls',
  'ssh',
  'libssh',
  'libssh2',
  'ext',
];

/** Port of the plain TCP listener (`listen_tcp`). */
export const LIBVIRTD_TCP_PORT = 16509;
/** Port of the TLS listener (`listen_tls`). */
export const LIBVIRTD_TLS_PORT = 16514;
/** Port the in-process SSH transports (libssh, libssh2) use when none is given. */
export const LIBSSH_DEFAULT_PORT = 22;
/** User the in-process SSH transports (libssh, libssh2) log in as when none is given. */
export const LIBSSH_DEFAULT_USER = 'root';

export type RemoteMode = 'auto' | 'legacy' | 'direct';
export type ProxyMode = 'auto' | 'netcat' | 'native';
export type KnownHostsVerify = 'normal' | 'auto' | 'ignore';

/**
 * Query parameters consumed by the remote driver. Names match
 * case-insensitively and the last occurrence wins, except `authfile`, which
 * is taken from the first parameter spelled exactly `authfile` (that is how
 * libvirt's auth-file lookup reads it).
 */
export interface RemoteParams {
  /** Name to send in CONNECT_OPEN instead of the one derived from the URI. */
  name?: string;
  /** ext: program to run; ssh: the ssh binary (default `ssh`). */
  command?: string;
  /** Unix socket path; for ssh transports the socket `nc` connects to remotely. */
  socket?: string;
  /** `sasl`, `sasl.<MECH>` or `polkit`: the auth type to insist on. */
  auth?: string;
  /** libssh/libssh2: comma-separated auth methods. */
  sshauth?: string;
  /** ssh transports: the netcat binary on the remote host. */
  netcat?: string;
  keyfile?: string;
  pkipath?: string;
  known_hosts?: string;
  /** libssh/libssh2 only; checked (case-insensitively) only for those transports. */
  known_hosts_verify?: KnownHostsVerify;
  tls_priority?: string;
  mode?: RemoteMode;
  proxy?: ProxyMode;
  /** Any integer is accepted; non-zero means true. */
  no_sanity?: boolean;
  no_verify?: boolean;
  no_tty?: boolean;
  authfile?: string;
}

export interface LibvirtUri {
  /** The string given to {@link parseUri}. */
  original: string;
  /** Scheme before `+transport`, case preserved (libvirt does not fold it). */
  driver: string;
  transport: TransportName;
  /** Whether the scheme named the transport (`qemu+tcp`) rather than it being implied. */
  transportExplicit: boolean;
  /**
   * Decoded user name: the user info up to its first `:`; null when absent
   * or empty. libvirt keeps `:password` in its user field (and so hands
   * `alice:pw` to `ssh -l`); virtwire splits it off, so that a password
   * never reaches a command line, a log-in name or a message.
   */
  user: string | null;
  /**
   * Decoded password: the user info after its first `:`, null when there is
   * none. No transport of virtwire uses it (ssh asks through its own prompt;
   * credentials go in `connect`'s `auth` option); it is kept only so that a
   * caller can tell one was given.
   */
  password: string | null;
  /** Decoded host, IPv6 brackets removed; null when absent. */
  host: string | null;
  /**
   * Host the transport connects to: `host`, or `localhost` when the URI has
   * none (libvirt's default for tcp, tls and the ssh transports).
   */
  connectHost: string;
  /**
   * The explicit port, else the transport's default: tcp 16509, tls 16514,
   * libssh/libssh2 22; null for ssh (left to ssh) and for unix and ext.
   * An explicit `:0` counts as absent, as in libvirt.
   */
  port: number | null;
  /** Decoded path; '' when the URI has none. */
  path: string;
  /** Decoded fragment; null when there is no `#`. */
  fragment: string | null;
  /** Parameters consumed by the remote driver, validated. */
  params: RemoteParams;
  /** All other parameters, in order, decoded; these travel on to the daemon. */
  passthrough: ReadonlyArray<readonly [string, string]>;
  /**
   * The name the C client sends in CONNECT_OPEN: the `name=` parameter if
   * given; '' for the `remote` driver (the daemon then picks its default);
   * otherwise `driver://` + path + the pass-through parameters + fragment, with
   * user, host, port and the transport dropped. The C client always sends a
   * string for a URI, so this is never null.
   */
  openName: string;
  /**
   * The URI the ssh transports hand to `virt-ssh-helper` on the remote host:
   * like {@link openName} but keeping the `mode` and `socket` parameters.
   */
  sshHelperUri: string;
}

export interface ParseOptions {
  /**
   * URI aliases, as `uri_aliases` in libvirt.conf (`name -> URI`). A string
   * equal to a name is replaced by its URI before parsing. Names may contain
   * only `A-Z a-z 0-9 _ -`.
   */
  aliases?: Readonly<Record<string, string>>;
}

/**
 * A libvirt URI that cannot be used, with what is wrong and, when known,
 * where. Neither the message nor `uri` holds the URI's password (see
 * `redactUri`); the message cuts a very long URI short.
 */
export class UriError extends VirtwireError {
  override readonly name = 'UriError';
  /** The URI as given, with its password replaced by `***`. */
  readonly uri: string;
  /** What is wrong, without the URI. */
  readonly reason: string;
  /** 0-based offset of the offending text in the URI as given (not in `uri`, if it was redacted), or -1. */
  readonly offset: number;

  constructor(uri: string, reason: string, offset = -1, options?: ErrorOptions) {
    super(`invalid libvirt URI ${JSON.stringify(displayUri(uri))}: ${reason}`, options);
    this.uri = redactUri(uri);
    this.reason = reason;
    this.offset = offset;
  }
}

// ---------------------------------------------------------------------------
// Character classes of libxml2's RFC 3986 parser.

const isAlpha = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isHex = (c: number): boolean =>
  isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
const isUnreserved = (c: number): boolean =>
  isAlpha(c) || isDigit(c) || c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e;
const SUB_DELIMS = "!$&'()*+,;=";
const SUB_DELIM_TABLE = new Uint8Array(128);
for (const ch of SUB_DELIMS) SUB_DELIM_TABLE[ch.charCodeAt(0)] = 1;
const isSubDelim = (c: number): boolean => c >= 0 && c < 128 && SUB_DELIM_TABLE[c] === 1;

/** Parsed but not yet interpreted pieces, as libxml2 would report them. */
interface RawUri {
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
const textEncoder = new TextEncoder();

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
class Scanner {
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
function percentDecode(text: string, uri: string, what: string, offset: number): string {
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
function percentDecodeLoose(text: string, uri: string, offset: number): string {
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

// ---------------------------------------------------------------------------
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

interface Param {
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
function formatForDaemon(
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
function splitQuery(query: string, uri: string, offset: number): Param[] {
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

const STRING_PARAMS = [
  'name',
  'command',
  'socket',
  'auth',
  'sshauth',
  'netcat',
  'keyfile',
  'pkipath',
  'known_hosts',
  'known_hosts_verify',
  'tls_priority',
  'mode',
  'proxy',
] as const;
const BOOL_PARAMS = ['no_sanity', 'no_verify', 'no_tty'] as const;
type StringParam = (typeof STRING_PARAMS)[number];
type BoolParam = (typeof BOOL_PARAMS)[number];

/**
 * Integer parsing as g_ascii_strtoll in base 10 with the whole string
 * consumed: leading ASCII white space, an optional sign, at least one digit,
 * and a result that fits a C int.
 */
function parseCInt(text: string): number | null {
  const m = /^[ \t\n\v\f\r]*([+-]?[0-9]+)$/.exec(text);
  if (m === null) return null;
  const v = Number(m[1]);
  return v >= -2147483648 && v <= 2147483647 ? v : null;
}

const MODES: readonly RemoteMode[] = ['auto', 'legacy', 'direct'];
const PROXIES: readonly ProxyMode[] = ['auto', 'netcat', 'native'];
const KNOWN_HOSTS_VERIFY: readonly KnownHostsVerify[] = ['normal', 'auto', 'ignore'];
const ALIAS_NAME = /^[A-Za-z0-9_-]+$/;

function isOneOf<T extends string>(list: readonly T[], v: string): v is T {
  return (list as readonly string[]).includes(v);
}

function resolveName(uri: string, options: ParseOptions | undefined): string {
  // virConnectOpenInternal's historical shortcuts for Xen.
  if (uri.toLowerCase() === 'xen' || uri === 'xen://') return 'xen:///system';
  const aliases = options?.aliases;
  if (aliases === undefined) return uri;
  for (const alias of Object.keys(aliases)) {
    if (!ALIAS_NAME.test(alias)) {
      throw new UriError(
        uri,
        `alias name ${JSON.stringify(alias)} may only contain A-Z, a-z, 0-9, "_" and "-"`,
      );
    }
  }
  return Object.hasOwn(aliases, uri) ? (aliases[uri] ?? uri) : uri;
}

/**
 * Parses a libvirt connection URI as the C client does, and works out what
 * its remote driver would do with it: transport, host and port, the
 * parameters it consumes and the name it sends to the daemon.
 *
 * @throws UriError for anything the C client would reject before connecting,
 *   and for a few things it would only trip over later (a port above 65535,
 *   NUL bytes or invalid UTF-8 in percent-encoded text, embedded-driver URIs).
 */
export function parseUri(uri: string, options?: ParseOptions): LibvirtUri {
  if (uri === '') {
    throw new UriError(
      uri,
      'empty URI (libvirt would fall back to LIBVIRT_DEFAULT_URI or probing; pass a URI)',
    );
  }
  // Errors name the URI actually parsed, which differs from `uri` for an alias.
  const text = resolveName(uri, options);
  const raw = new Scanner(text, text).parse();

  // virConnectOpenInternal: "qemu://system" is a missing slash, not a host.
  if (
    (raw.scheme === 'qemu' || raw.scheme === 'vbox' || raw.scheme === 'vz') &&
    (raw.server === 'system' || raw.server === 'session')
  ) {
    throw new UriError(
      text,
      `"${raw.server}" is in the host position (did you mean ${raw.scheme}:///${raw.server}?)`,
    );
  }

  const params = raw.query === null ? [] : splitQuery(raw.query, text, text.indexOf('?') + 1);

  if (raw.path === '/embed') checkEmbedded(text, raw, params);

  // remoteSplitURIScheme
  const plus = raw.scheme.indexOf('+');
  const driver = plus < 0 ? raw.scheme : raw.scheme.slice(0, plus);
  let transport: TransportName;
  if (plus >= 0) {
    const name = raw.scheme.slice(plus + 1).toLowerCase();
    if (!isOneOf(TRANSPORTS, name)) {
      throw new UriError(
        text,
        `unknown transport "${raw.scheme.slice(plus + 1)}" ` +
          '(expected unix, tcp, tls, ssh, libssh, libssh2 or ext)',
        plus + 1,
      );
    }
    transport = name;
    if (transport === 'unix' && raw.server !== null) {
      throw new UriError(
        text,
        `the unix transport cannot reach a remote host ("${raw.server}"); drop the host or use another transport`,
      );
    }
  } else {
    transport = raw.server !== null ? 'tls' : 'unix';
  }

  const remote = extractRemoteParams(text, params, transport);

  // The name sent in CONNECT_OPEN (doRemoteOpen).
  let openName: string;
  let sshHelperUri: string;
  if (remote.name !== undefined) {
    openName = sshHelperUri = remote.name;
  } else if (raw.scheme === 'remote' || raw.scheme.startsWith('remote+')) {
    openName = sshHelperUri = '';
  } else {
    openName = formatForDaemon(driver, raw.path, params, raw.fragment, (p) => !p.consumed);
    const modeOrSocket = (p: Param) => {
      const n = p.name.toLowerCase();
      return n === 'mode' || n === 'socket';
    };
    // Without a consumed mode= or socket= both names are the same string.
    sshHelperUri = params.some((p) => p.consumed && modeOrSocket(p))
      ? formatForDaemon(
          driver,
          raw.path,
          params,
          raw.fragment,
          (p) => !p.consumed || modeOrSocket(p),
        )
      : openName;
  }

  let port: number | null = raw.port > 0 ? raw.port : null;
  if (port === null) {
    if (transport === 'tcp') port = LIBVIRTD_TCP_PORT;
    else if (transport === 'tls') port = LIBVIRTD_TLS_PORT;
    else if (transport === 'libssh' || transport === 'libssh2') port = LIBSSH_DEFAULT_PORT;
  }

  return {
    original: uri,
    driver,
    transport,
    transportExplicit: plus >= 0,
    user: raw.user,
    password: raw.password,
    host: raw.server,
    connectHost: raw.server ?? 'localhost',
    port,
    path: raw.path,
    fragment: raw.fragment,
    params: remote,
    passthrough: params.filter((p) => !p.consumed).map((p) => [p.name, p.value] as const),
    openName,
    sshHelperUri,
  };
}

/**
 * `/embed` URIs run the driver inside the calling process. Report what
 * libvirt would object to first, and otherwise that the remote protocol
 * cannot do it (libvirt skips its remote driver for them).
 */
function checkEmbedded(uri: string, raw: RawUri, params: readonly Param[]): never {
  if (!/^[a-z]+$/.test(raw.scheme)) {
    throw new UriError(
      uri,
      `embedded driver URIs need a lower-case driver name without a transport, not "${raw.scheme}"`,
    );
  }
  const root = params.find((p) => p.name.toLowerCase() === 'root');
  if (root === undefined) {
    throw new UriError(uri, 'embedded driver URIs need a root= parameter');
  }
  if (!root.value.startsWith('/')) {
    throw new UriError(uri, `root= must be an absolute path, not "${root.value}"`);
  }
  throw new UriError(
    uri,
    'embedded mode (/embed) runs the driver inside the calling process; it cannot be used over the remote protocol',
  );
}

/** doRemoteOpenExtractURIArgs plus the checks doRemoteOpen makes on the values. */
function extractRemoteParams(uri: string, params: Param[], transport: TransportName): RemoteParams {
  const strings: Partial<Record<StringParam, string>> = {};
  const bools: Partial<Record<BoolParam, boolean>> = {};
  let authfile: string | undefined;
  for (const p of params) {
    const lower = p.name.toLowerCase();
    if (isOneOf(STRING_PARAMS, lower)) {
      strings[lower] = p.value;
      p.consumed = true;
    } else if (isOneOf(BOOL_PARAMS, lower)) {
      const v = parseCInt(p.value);
      if (v === null) {
        throw new UriError(
          uri,
          `${p.name}=${JSON.stringify(p.value)} is not an integer (use 0 or 1)`,
        );
      }
      bools[lower] = v !== 0;
      p.consumed = true;
    } else if (lower === 'authfile') {
      if (p.name === 'authfile' && authfile === undefined) authfile = p.value;
      p.consumed = true;
    }
  }

  const out: RemoteParams = {};
  for (const key of STRING_PARAMS) {
    const v = strings[key];
    if (v === undefined || key === 'mode' || key === 'proxy' || key === 'known_hosts_verify')
      continue;
    out[key] = v;
  }
  for (const key of BOOL_PARAMS) {
    const v = bools[key];
    if (v !== undefined) out[key] = v;
  }
  if (authfile !== undefined) out.authfile = authfile;

  const mode = strings.mode;
  if (mode !== undefined) {
    if (!isOneOf(MODES, mode)) {
      throw new UriError(uri, `unknown mode "${mode}" (expected auto, legacy or direct)`);
    }
    out.mode = mode;
  }
  const proxy = strings.proxy;
  if (proxy !== undefined) {
    if (!isOneOf(PROXIES, proxy)) {
      throw new UriError(uri, `unknown proxy "${proxy}" (expected auto, netcat or native)`);
    }
    out.proxy = proxy;
  }
  if (transport === 'ext' && out.command === undefined) {
    throw new UriError(uri, 'the ext transport needs a command= parameter');
  }
  const sshFamily = transport === 'ssh' || transport === 'libssh' || transport === 'libssh2';
  if (sshFamily && out.socket === undefined && out.mode === 'direct') {
    throw new UriError(
      uri,
      `mode=direct needs a local unix socket; it cannot be used with the ${transport} transport`,
    );
  }
  if (sshFamily && out.proxy === 'native' && out.netcat !== undefined) {
    throw new UriError(uri, 'netcat= cannot be combined with proxy=native');
  }
  const khv = strings.known_hosts_verify;
  if (khv !== undefined) {
    const v = khv.toLowerCase();
    if (isOneOf(KNOWN_HOSTS_VERIFY, v)) {
      out.known_hosts_verify = v;
    } else if (transport === 'libssh' || transport === 'libssh2') {
      // The other transports never look at it, so libvirt accepts anything there.
      throw new UriError(
        uri,
        `unknown known_hosts_verify "${khv}" (expected normal, auto or ignore)`,
      );
    }
  }
  return out;
}

/**
 * Names the driver inside libvirt's client library that would take this URI
 * instead of the remote driver (when built in), or null when the C client
 * would go to a daemon as virtwire does. For example `test:///default` runs
 * the test driver in-process in the C client, while virtwire sends it to a
 * daemon.
 */
export function inProcessDriver(uri: LibvirtUri): string | null {
  if (uri.transportExplicit) return null;
  const d = uri.driver;
  if (d === 'vpx' || d === 'esx' || d === 'gsx') return 'esx';
  if (d === 'hyperv') return 'hyperv';
  if (uri.host !== null) return null;
  if (d === 'test') return 'test';
  if (d === 'openvz') return 'openvz';
  if (d === 'vmwareplayer' || d === 'vmwarews' || d === 'vmwarefusion') return 'vmware';
  return null;
}
