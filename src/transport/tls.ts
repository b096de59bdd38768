/**
 * The `tls` transport: TCP (port 16514 by default) with TLS and X.509
 * certificates on both sides, found where the reference client looks for
 * them, then libvirt's one-byte verdict on our certificate.
 *
 * Differences from the reference client (GnuTLS there, OpenSSL here):
 * - `tls_priority` is a GnuTLS priority string. Only its protocol versions
 *   (`VERS-*` items, and `NONE` as a base) are honoured, as minVersion and
 *   maxVersion; a set with a hole (TLS 1.0 and 1.3 without 1.2) becomes the
 *   range around it. Cipher, key exchange, MAC, group, signature and `%FLAG`
 *   items cannot be translated to OpenSSL and are ignored.
 * - Key usage bits and critical key purposes of certificates are not checked
 *   (Node does not expose them); the reference client only refuses those when
 *   the extension is critical. Validity times, CA basic constraints, issuers,
 *   revocation (cacrl.pem) and the host name are checked as it does.
 * - No SNI is sent, as with the reference client.
 */

import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import {
  type ConnectionOptions,
  checkServerIdentity,
  connect,
  type PeerCertificate,
  type TLSSocket,
} from 'node:tls';
import type { DuplexChannel } from '../channel.js';
import { AbortError } from '../errors.js';
import type { LibvirtUri } from '../uri/index.js';
import { type TlsFailure, TlsVerificationError, TransportError } from './errors.js';
import { SharedReader } from './shared-read.js';
import type { ChannelTransport, TransportOptions } from './types.js';

/** Where the certificate files are. `cacrl`, `cert` and `key` may be missing. */
export interface TlsFiles {
  cacert: string;
  cacrl: string;
  cert: string;
  key: string;
}

const SYSTEM_FILES: TlsFiles = {
  cacert: '/etc/pki/CA/cacert.pem',
  cacrl: '/etc/pki/CA/cacrl.pem',
  cert: '/etc/pki/libvirt/clientcert.pem',
  key: '/etc/pki/libvirt/private/clientkey.pem',
};

/**
 * Locates the files as the reference client does: with `pkipath=DIR`,
 * DIR/{cacert,cacrl,clientcert,clientkey}.pem whether they exist or not.
 * Otherwise, when not root, each of `~/.pki/libvirt/cacert.pem` and
 * `cacrl.pem` that exists, and the client certificate and key from there
 * when both exist; whatever is left comes from the system locations
 * (/etc/pki/CA, /etc/pki/libvirt, /etc/pki/libvirt/private).
 */
export function locateTlsFiles(
  pkipath: string | undefined,
  user: { uid: number; home: string | undefined },
  exists: (path: string) => boolean,
): TlsFiles {
  if (pkipath !== undefined) {
    const dir = pkipath.replace(/\/+$/, '') || '/';
    const f = (name: string) => (dir === '/' ? `/${name}` : `${dir}/${name}`);
    return {
      cacert: f('cacert.pem'),
      cacrl: f('cacrl.pem'),
      cert: f('clientcert.pem'),
      key: f('clientkey.pem'),
    };
  }
  const files = { ...SYSTEM_FILES };
  if (user.uid !== 0 && user.home !== undefined && user.home !== '') {
    const dir = `${user.home.replace(/\/+$/, '')}/.pki/libvirt`;
    if (exists(`${dir}/cacert.pem`)) files.cacert = `${dir}/cacert.pem`;
    if (exists(`${dir}/cacrl.pem`)) files.cacrl = `${dir}/cacrl.pem`;
    if (exists(`${dir}/clientcert.pem`) && exists(`${dir}/clientkey.pem`)) {
      files.cert = `${dir}/clientcert.pem`;
      files.key = `${dir}/clientkey.pem`;
    }
  }
  return files;
}

type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
const VERSIONS: readonly TlsVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
const GNUTLS_VERSION: Readonly<Record<string, TlsVersion>> = {
  'TLS1.0': 'TLSv1',
  'TLS1.1': 'TLSv1.1',
  'TLS1.2': 'TLSv1.2',
  'TLS1.3': 'TLSv1.3',
};
/** GnuTLS base keywords; all of them start from every TLS version (the library's defaults). */
const BASE_KEYWORDS = new Set([
  'PERFORMANCE',
  'NORMAL',
  'LEGACY',
  'PFS',
  'SECURE128',
  'SECURE192',
  'SECURE256',
  'SUITEB128',
  'SUITEB192',
]);

/**
 * The protocol versions a GnuTLS priority string allows, as Node's
 * minVersion/maxVersion. Nothing is returned for a string that does not
 * restrict versions (Node's defaults then apply). Throws for a string whose
 * base keyword is unknown or that leaves no TLS version enabled.
 */
export function tlsPriorityVersions(priority: string): {
  minVersion?: TlsVersion;
  maxVersion?: TlsVersion;
} {
  const items = priority.split(':').map((s) => s.trim());
  const base = items[0] ?? '';
  let enabled: Set<TlsVersion> | null;
  if (base === 'NONE') {
    enabled = new Set();
  } else if (base.startsWith('@') || BASE_KEYWORDS.has(base)) {
    // @SYSTEM and friends name a system-wide configuration we cannot read: assume all.
    enabled = null;
  } else {
    throw new TransportError(
      `tls_priority "${priority}": unknown base keyword "${base}" (expected NORMAL, SECURE128, PERFORMANCE, NONE, @SYSTEM...)`,
    );
  }
  let touched = base === 'NONE';
  for (const item of items.slice(1)) {
    const m = /^([+\-!])VERS-(.+)$/.exec(item);
    if (!m) continue;
    const add = m[1] === '+';
    const what = m[2]!;
    let targets: readonly TlsVersion[];
    if (what === 'ALL' || what === 'TLS-ALL') targets = VERSIONS;
    else if (GNUTLS_VERSION[what] !== undefined) targets = [GNUTLS_VERSION[what]];
    else continue; // SSL3.0, DTLS*: nothing Node could use
    enabled ??= new Set(VERSIONS);
    touched = true;
    for (const v of targets) {
      if (add) enabled.add(v);
      else enabled.delete(v);
    }
  }
  if (!touched || enabled === null) return {};
  const on = VERSIONS.filter((v) => enabled.has(v));
  if (on.length === 0) {
    throw new TransportError(`tls_priority "${priority}" enables no TLS protocol version`);
  }
  return { minVersion: on[0]!, maxVersion: on[on.length - 1]! };
}

function readPem(what: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new TransportError(`cannot read ${what} ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

function tryRead(path: string): Buffer | null {
  try {
    return readFileSync(path);
  } catch {
    return null;
  }
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

function parseCerts(what: string, path: string, pem: Buffer): X509Certificate[] {
  const blocks = pem.toString('latin1').match(PEM_CERT) ?? [];
  if (blocks.length === 0) {
    throw new TlsVerificationError('local-certificate', `${what} ${path} holds no PEM certificate`);
  }
  try {
    return blocks.map((b) => new X509Certificate(b));
  } catch (err) {
    throw new TlsVerificationError(
      'local-certificate',
      `cannot parse ${what} ${path}: ${(err as Error).message}`,
      undefined,
      { cause: err },
    );
  }
}

function checkTimes(cert: X509Certificate, what: string, path: string, now: number): void {
  if (Date.parse(cert.validTo) < now) {
    throw new TlsVerificationError(
      'local-certificate',
      `the ${what} ${path} has expired (${cert.validTo})`,
    );
  }
  if (Date.parse(cert.validFrom) > now) {
    throw new TlsVerificationError(
      'local-certificate',
      `the ${what} ${path} is not yet active (from ${cert.validFrom})`,
    );
  }
}

/**
 * The reference client's check of its own files before connecting (skipped
 * with `no_sanity=1`): CA and client certificates in their validity period,
 * the CA a CA and the client certificate not one, and the client certificate
 * issued by one of the CAs. Unreadable files are left to the loading step.
 */
export function sanityCheck(files: TlsFiles, now = Date.now()): void {
  const caPem = tryRead(files.cacert);
  const certPem = tryRead(files.cert);
  const cas = caPem ? parseCerts('CA certificate', files.cacert, caPem) : [];
  const cert = certPem ? parseCerts('client certificate', files.cert, certPem)[0]! : null;
  if (cert) {
    checkTimes(cert, 'client certificate', files.cert, now);
    if (cert.ca) {
      throw new TlsVerificationError(
        'local-certificate',
        `the client certificate ${files.cert} is a CA certificate, not one for a client`,
      );
    }
  }
  for (const ca of cas) {
    checkTimes(ca, 'CA certificate', files.cacert, now);
    if (!ca.ca) {
      throw new TlsVerificationError(
        'local-certificate',
        `the CA certificate ${files.cacert} does not have the basic constraints of a CA`,
      );
    }
  }
  if (
    cert &&
    cas.length > 0 &&
    !cas.some((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey))
  ) {
    throw new TlsVerificationError(
      'local-certificate',
      `our own certificate ${files.cert} was not issued by the CA in ${files.cacert} ` +
        '(use the matching CA, or no_sanity=1 to skip this check)',
    );
  }
}

/** Reads the files: the CA must be there; the CRL and the certificate/key pair are optional. */
function loadCredentials(files: TlsFiles): {
  ca: Buffer;
  crl?: Buffer;
  cert?: Buffer;
  key?: Buffer;
} {
  const ca = readPem('CA certificate', files.cacert);
  const out: { ca: Buffer; crl?: Buffer; cert?: Buffer; key?: Buffer } = { ca };
  // Files that are there must be readable; missing ones are skipped.
  if (existsSync(files.cacrl)) out.crl = readPem('CA revocation list', files.cacrl);
  // A client without certificate is allowed (the server decides); the pair is used whole or not at all.
  if (existsSync(files.cert) && existsSync(files.key)) {
    out.cert = readPem('client certificate', files.cert);
    out.key = readPem('client private key', files.key);
  }
  return out;
}

const CODE_FAILURE: Readonly<Record<string, TlsFailure>> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unknown-ca',
  UNABLE_TO_GET_ISSUER_CERT: 'unknown-ca',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unknown-ca',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'unknown-ca',
  SELF_SIGNED_CERT_IN_CHAIN: 'unknown-ca',
  CERT_SIGNATURE_FAILURE: 'unknown-ca',
  CERT_UNTRUSTED: 'unknown-ca',
  CERT_HAS_EXPIRED: 'expired',
  CERT_NOT_YET_VALID: 'not-yet-valid',
  ERR_TLS_CERT_ALTNAME_INVALID: 'hostname-mismatch',
  CERT_REVOKED: 'revoked',
  VIRTWIRE_SERVER_CERT_IS_CA: 'not-a-server-certificate',
};

function describeFailure(failure: TlsFailure, files: TlsFiles, detail: string): string {
  switch (failure) {
    case 'unknown-ca':
      return `it is not issued by the CA in ${files.cacert} (${detail})`;
    case 'expired':
      return `it has expired (${detail})`;
    case 'not-yet-valid':
      return `it is not yet valid (${detail})`;
    case 'hostname-mismatch':
      return `host name mismatch: ${detail}`;
    case 'revoked':
      return `it is revoked by ${files.cacrl} (${detail})`;
    default:
      return detail;
  }
}

/** The URI host as the certificate must name it: no brackets, no IPv6 zone. */
function identityHost(host: string): string {
  const zone = host.indexOf('%');
  return zone > 0 && isIP(host.slice(0, zone)) === 6 ? host.slice(0, zone) : host;
}

/** Options for the TLS connection, from the URI and the located files. */
function tlsOptions(uri: LibvirtUri, files: TlsFiles) {
  const creds = loadCredentials(files);
  const verify = !uri.params.no_verify;
  const versions =
    uri.params.tls_priority !== undefined ? tlsPriorityVersions(uri.params.tls_priority) : {};
  return {
    ...creds,
    ...versions,
    rejectUnauthorized: verify,
    checkServerIdentity: (host: string, cert: PeerCertificate): Error | undefined => {
      if (!verify) return undefined;
      const err = checkServerIdentity(identityHost(host), cert);
      if (err) {
        // Node lists only the names of the kind asked for (IP or DNS): show them all.
        const names = cert.subjectaltname ?? `CN=${cert.subject?.CN ?? '?'}`;
        return Object.assign(
          new Error(`${err.message.replace(/:\s*$/, '')} (certificate: ${names})`),
          {
            code: (err as NodeJS.ErrnoException).code,
          },
        );
      }
      if (cert.ca) {
        return Object.assign(new Error('the server presented a CA certificate'), {
          code: 'VIRTWIRE_SERVER_CERT_IS_CA',
        });
      }
      return undefined;
    },
  };
}

/**
 * Waits for the server's verdict on our certificate: one byte, 1 = accepted.
 * `firstByte` settles with that byte (the socket's reader takes it off
 * before anything reaches the RPC layer).
 */
function readVerdict(
  sock: TLSSocket,
  where: string,
  firstByte: Promise<number>,
  signal?: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const rejected = (detail: string, cause?: unknown) =>
      new TlsVerificationError(
        'client-rejected',
        `${where}: the server rejected our client certificate or address (${detail})`,
        undefined,
        cause === undefined ? undefined : { cause },
      );
    const cleanup = () => {
      settled = true;
      sock.off('end', onEnd);
      sock.off('close', onEnd);
      sock.off('error', onError);
      signal?.removeEventListener('abort', onAbort);
    };
    const onByte = (b: number) => {
      if (settled) return;
      cleanup();
      if (b === 1) {
        resolve();
      } else {
        sock.destroy();
        reject(rejected(`it answered 0x${b.toString(16).padStart(2, '0')} instead of 0x01`));
      }
    };
    const onEnd = () => {
      cleanup();
      sock.destroy();
      reject(rejected('it closed the connection without confirming'));
    };
    const onError = (err: Error) => {
      cleanup();
      sock.destroy();
      reject(rejected(`connection failed while waiting for its answer: ${err.message}`, err));
    };
    const onAbort = () => {
      cleanup();
      sock.destroy();
      reject(new AbortError(`connecting to ${where} aborted`, { cause: signal?.reason }));
    };
    sock.once('end', onEnd);
    sock.once('close', onEnd);
    sock.once('error', onError);
    signal?.addEventListener('abort', onAbort, { once: true });
    void firstByte.then(onByte);
  });
}

/**
 * Connects and verifies as the `tls` transport does, and resolves once the
 * server's verdict byte is consumed, with the TLS socket and the channel over
 * it. Decrypted bytes go into the shared read buffer (`onread`) as tcp's do.
 */
export async function connectTls(
  uri: LibvirtUri,
  opts: TransportOptions,
): Promise<{ socket: TLSSocket; channel: DuplexChannel }> {
  const env = opts.env ?? process.env;
  const host = uri.connectHost;
  const port = uri.port ?? 16514;
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const files = locateTlsFiles(
    uri.params.pkipath,
    { uid: process.geteuid?.() ?? 0, home: env.HOME },
    existsSync,
  );
  if (!uri.params.no_sanity) sanityCheck(files);
  const options = tlsOptions(uri, files);
  if (opts.signal?.aborted) {
    throw new AbortError(`connecting to ${where} aborted`, { cause: opts.signal.reason });
  }

  // The verdict is the first byte read: the reader hands it here, not to the channel.
  let reader!: SharedReader;
  const firstByte = new Promise<number>((resolve) => {
    reader = new SharedReader(resolve);
  });
  const sock = await new Promise<TLSSocket>((resolve, reject) => {
    let s: TLSSocket;
    try {
      // `onread` is a documented option of tls.connect that @types/node's ConnectionOptions lacks
      const withRead: ConnectionOptions & { onread: SharedReader['onread'] } = {
        host,
        port,
        ...options,
        onread: reader.onread,
      };
      s = connect(withRead);
    } catch (err) {
      // e.g. a key that does not belong to the certificate, or a file that is not PEM
      reject(
        new TransportError(
          `cannot set up TLS with ${[files.cacert, options.cert ? `${files.cert}, ${files.key}` : null].filter(Boolean).join(', ')}: ${(err as Error).message}`,
          { cause: err },
        ),
      );
      return;
    }
    const onAbort = () => {
      s.destroy();
      reject(new AbortError(`connecting to ${where} aborted`, { cause: opts.signal?.reason }));
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    s.once('secureConnect', () => {
      opts.signal?.removeEventListener('abort', onAbort);
      s.off('error', onError);
      resolve(s);
    });
    const onError = (err: NodeJS.ErrnoException) => {
      opts.signal?.removeEventListener('abort', onAbort);
      s.destroy();
      const code = err.code ?? '';
      const failure = CODE_FAILURE[code];
      if (failure !== undefined) {
        reject(
          new TlsVerificationError(
            failure,
            `the TLS certificate of ${where} failed verification: ${describeFailure(failure, files, `${err.message}${code ? `, ${code}` : ''}`)}` +
              ' (no_verify=1 skips this check)',
            code,
            { cause: err },
          ),
        );
      } else {
        reject(
          new TransportError(`cannot connect to ${where} with TLS: ${err.message}`, { cause: err }),
        );
      }
    };
    s.once('error', onError);
  });
  sock.setNoDelay(true);
  try {
    await readVerdict(sock, where, firstByte, opts.signal);
  } catch (err) {
    sock.destroy();
    throw err;
  }
  return { socket: sock, channel: reader.attach(sock) };
}

/** The `tls` transport. */
export const tlsTransport: ChannelTransport = async (uri, opts) =>
  (await connectTls(uri, opts)).channel;
