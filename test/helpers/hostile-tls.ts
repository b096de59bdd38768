/**
 * TLS scenarios: a daemon that completes the TLS handshake and then sends no
 * verdict byte (libvirt's `\1` that accepts our certificate), or a refusal.
 * Certificates come from the openssl command line, made once per process
 * into a temporary pkipath directory (a CA, a server certificate for
 * 127.0.0.1, a client certificate).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type TLSSocket } from 'node:tls';
import { connect } from '../../src/index.js';
import type { Outcome, Scenario } from './hostile-scenarios.js';
import { timed } from './hostile-scenarios.js';

interface Pki {
  /** pkipath= for the client: cacert.pem, clientcert.pem, clientkey.pem. */
  readonly dir: string;
  readonly serverKey: string;
  readonly serverCert: string;
  readonly ca: string;
}

let pki: Pki | null = null;

/** A throwaway PKI (CA, server for 127.0.0.1, client), made with openssl once per process. */
export function testPki(): Pki {
  if (pki) return pki;
  const dir = mkdtempSync(join(tmpdir(), 'vw-hostile-pki-'));
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=hostile CA',
    '-keyout',
    'cakey.pem',
    '-out',
    'cacert.pem',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  const leaf = (name: string, ext: string) => {
    ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      `${name}key.pem`,
      '-out',
      `${name}.csr`,
    );
    writeFileSync(join(dir, `${name}.ext`), ext);
    ssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'cacert.pem',
      '-CAkey',
      'cakey.pem',
      '-CAcreateserial',
      '-days',
      '2',
      '-out',
      `${name}cert.pem`,
      '-extfile',
      `${name}.ext`,
    );
  };
  leaf('server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  leaf('client', 'extendedKeyUsage=clientAuth\n');
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  pki = {
    dir,
    serverKey: read('serverkey.pem'),
    serverCert: read('servercert.pem'),
    ca: read('cacert.pem'),
  };
  return pki;
}

/** A TLS listener that accepts the handshake, then does `after` with the socket. */
async function tlsDaemon(after: (s: TLSSocket) => void) {
  const p = testPki();
  const server = createServer(
    {
      key: p.serverKey,
      cert: p.serverCert,
      ca: p.ca,
      requestCert: true,
      rejectUnauthorized: false,
    },
    (s) => {
      s.on('error', () => {});
      after(s);
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  if (!a || typeof a !== 'object') throw new Error('no address');
  return {
    uri: `qemu+tls://127.0.0.1:${a.port}/system?pkipath=${p.dir}`,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
      }),
    server,
  };
}

/** The TLS scenarios, each run beside a polite connection (`beside`). */
export function tlsScenarios(
  beside: (attack: () => Promise<Outcome>) => Promise<Outcome>,
): Scenario[] {
  const run = (after: (s: TLSSocket) => void, timeoutMs?: number) => (): Promise<Outcome> =>
    beside(async () => {
      const sockets: TLSSocket[] = [];
      const d = await tlsDaemon((s) => {
        sockets.push(s);
        after(s);
      });
      try {
        // The certificates were made before: only the connection attempt is timed.
        const { outcome, ms } = await timed(async () => {
          const c = await connect(d.uri, timeoutMs === undefined ? {} : { timeoutMs });
          await c.close();
        });
        return { outcome, problems: [], ms };
      } finally {
        for (const s of sockets) s.destroy();
        await d.close();
      }
    });
  return [
    {
      name: 'TLS: the server refuses our certificate (verdict byte 0)',
      side: 'client',
      expect: { outcome: ['TlsVerificationError'], withinMs: 3000, peakMiB: 16 },
      run: run((s) => s.write(Buffer.from([0]))),
    },
    {
      name: 'TLS: handshake done, then no verdict byte (no timeout given)',
      side: 'client',
      expect: {
        outcome: ['TlsVerificationError', 'TransportError', 'TimeoutError'],
        withinMs: 35_000,
        peakMiB: 16,
      },
      run: run(() => {}),
    },
  ];
}
