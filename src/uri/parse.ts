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

import { type RawUri, Scanner } from './grammar.js';
import { formatForDaemon, type Param, splitQuery } from './query.js';
import {
  type KnownHostsVerify,
  LIBSSH_DEFAULT_PORT,
  LIBVIRTD_TCP_PORT,
  LIBVIRTD_TLS_PORT,
  type LibvirtUri,
  type ParseOptions,
  type ProxyMode,
  type RemoteMode,
  type RemoteParams,
  TRANSPORTS,
  type TransportName,
  UriError,
} from './types.js';

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
