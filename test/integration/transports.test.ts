/**
 * Every transport against host A of the real test harness (scripts/test-hosts.sh): libvirtd
 * with TCP, a unix socket and TLS (client certificates from our CA), and an sshd living in
 * host A's mount namespace; TCP, unix and TLS also against the first host of every newer
 * generation (ssh and ext reach A's sockets only: the sshd is A's). Each successful connection proves which daemon answered by reading
 * host A's UUID from its capabilities. The only stand-in servers are small Node TLS servers
 * presenting bad certificates, which the client must refuse before any libvirt traffic.
 */

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect as netConnect } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CredentialRequest, CredentialType } from '../../src/auth/credentials.js';
import type { Channel } from '../../src/channel.js';
import {
  AbortError,
  type Connection,
  ConnectionClosedError,
  connect,
  RemoteError,
  TimeoutError,
  TransportError,
  VirtwireError,
} from '../../src/index.js';
import {
  ChildExitError,
  SshAuthError,
  SshHostKeyError,
  TlsVerificationError,
} from '../../src/transport/errors.js';
import {
  connectTls,
  locateTlsFiles,
  tlsPriorityVersions,
  tlsTransport,
} from '../../src/transport/tls.js';
import { parseUri } from '../../src/uri/index.js';
import { generations, host, hostOf, onHostsAB } from '../helpers/hosts.js';

const A_UUID = () => host('VIRTWIRE_HOST_A_UUID');
const enc = encodeURIComponent;

/** The host with this UUID answered: it is in the capabilities, and calls keep working. */
async function expectHostWith(conn: Connection, uuid: string): Promise<void> {
  const caps = await conn.remote.connectGetCapabilities();
  expect(caps.capabilities).toContain(`<uuid>${uuid}</uuid>`);
  const { hostname: name } = await conn.remote.connectGetHostname();
  expect(name).toBe(hostname());
  expect(conn.uri).toBe('qemu:///system');
}

/** Host A answered. */
const expectHostA = (conn: Connection): Promise<void> => expectHostWith(conn, A_UUID());

/**
 * The transport's error. Transports that run a program (ssh, ext, the remote command of libssh)
 * can only see it fail once the RPC layer talks through it, so connect() reports their
 * TransportError as the cause of the closed connection.
 */
function transportError(err: unknown): TransportError {
  if (err instanceof TransportError) return err;
  if (err instanceof ConnectionClosedError && err.cause instanceof TransportError) return err.cause;
  throw err;
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure, got a connection');
}

const scratch = mkdtempSync(join(tmpdir(), 'virtwire-transports-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** PIDs of live processes whose command line contains `marker`. */
function processesWith(marker: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'latin1');
      const stat = readFileSync(`/proc/${d}/stat`, 'latin1');
      if (cmd.includes(marker) && !/\) Z /.test(stat)) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

async function eventually(check: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

// What every generation's daemon offers: its first host by TCP, by its unix socket and by TLS
// (certificates from the generation's own CA).
describe.each(generations())('tcp, unix and tls: $label', (gen) => {
  const expectHost = (conn: Connection) => expectHostWith(conn, hostOf(gen, 0, 'UUID'));

  it('tcp reaches the host', async () => {
    await using conn = await connect(hostOf(gen, 0, 'TCP'));
    await expectHost(conn);
  });

  it('unix (socket=) reaches the host', async () => {
    await using conn = await connect(hostOf(gen, 0, 'UNIX'));
    await expectHost(conn);
  });

  it('tls connects with pkipath= (the address is in the certificate)', async () => {
    await using conn = await connect(hostOf(gen, 0, 'TLS'));
    await expectHost(conn);
  });

  it('consumes the verdict byte itself and hands a TLS channel to the RPC layer', async () => {
    const { socket: sock, channel } = await connectTls(parseUri(hostOf(gen, 0, 'TLS')), {
      readonly: false,
    });
    try {
      expect(sock.authorized).toBe(true);
      expect(sock.getProtocol()).toBe('TLSv1.3');
      // the verdict byte is not handed on: the daemon says nothing more until asked
      const got: number[] = [];
      channel.open({ data: (c) => got.push(c.length), drain: () => {}, end: () => {} });
      await new Promise((r) => setTimeout(r, 100));
      expect(got).toEqual([]);
    } finally {
      channel.close();
    }
  });

  it('honours the protocol versions of tls_priority', async () => {
    const uri = `${hostOf(gen, 0, 'TLS')}&tls_priority=${enc('NORMAL:-VERS-ALL:+VERS-TLS1.2')}`;
    const { socket: sock } = await connectTls(parseUri(uri), { readonly: false });
    try {
      expect(sock.getProtocol()).toBe('TLSv1.2');
    } finally {
      sock.destroy();
    }
    await using conn = await connect(uri);
    await expectHost(conn);
    const none = await failure(connect(`${hostOf(gen, 0, 'TLS')}&tls_priority=NONE`));
    expect(none).toBeInstanceOf(TransportError);
    expect((none as Error).message).toMatch(/enables no TLS protocol version/);
  });
});

// Host A only (libvirt 9.0): localhost is A's address, and the refusals use the PKI sets made
// against A's CA (a wrong CA, a client certificate from another CA, none); what they check is
// the client's verification and the daemon's TLS handshake, not anything a libvirt version
// changes. The newer generations' TLS is covered above.
const onA = onHostsAB("ssh, ext and A's PKI are set up for host A");
describe.each(onA)('tls against the real libvirtd: $label', () => {
  const pki = (name: string) => host(`VIRTWIRE_PKI_${name}`);
  const tlsUri = (query: string, h = '127.0.0.1') => `qemu+tls://${h}/system?${query}`;

  it('connects with pkipath= by address and by DNS name (both are in the certificate)', async () => {
    await using conn = await connect(host('VIRTWIRE_HOST_A_TLS'));
    await expectHostA(conn);
    await using byName = await connect(tlsUri(`pkipath=${pki('CLIENT')}`, 'localhost'));
    await expectHostA(byName);
  });

  it('refuses a server certificate from an unknown CA, naming the failure', async () => {
    // no_sanity=1: our own certificate is not from that CA either, which the sanity check would
    // report first (see below)
    const err = await failure(connect(tlsUri(`pkipath=${pki('WRONGCA')}&no_sanity=1`)));
    expect(err).toBeInstanceOf(TlsVerificationError);
    const e = err as TlsVerificationError;
    expect(e.failure).toBe('unknown-ca');
    expect(e.message).toContain(`${pki('WRONGCA')}/cacert.pem`);
    expect(e.message).toMatch(/127\.0\.0\.1:16514/);
  });

  it('checks its own files first, as the reference client does (no_sanity=1 skips that)', async () => {
    for (const q of [`pkipath=${pki('WRONGCA')}`, `pkipath=${pki('WRONGCA')}&no_verify=1`]) {
      const err = await failure(connect(tlsUri(q)));
      expect(err).toBeInstanceOf(TlsVerificationError);
      expect((err as TlsVerificationError).failure).toBe('local-certificate');
      expect((err as Error).message).toContain(`${pki('WRONGCA')}/clientcert.pem`);
    }
  });

  it('no_verify=1 relaxes only our checks: the wrong CA is accepted, the daemon still checks us', async () => {
    await using conn = await connect(tlsUri(`pkipath=${pki('WRONGCA')}&no_verify=1&no_sanity=1`));
    await expectHostA(conn);
  });

  it('reports the daemon refusing our client certificate (no 0x01 verdict)', async () => {
    const err = await failure(connect(tlsUri(`pkipath=${pki('WRONGCLIENT')}&no_sanity=1`)));
    expect(err).toBeInstanceOf(TlsVerificationError);
    expect((err as TlsVerificationError).failure).toBe('client-rejected');
    expect((err as Error).message).toMatch(/rejected our client certificate/);
  });

  it('reports the daemon refusing a client without certificate', async () => {
    const err = await failure(connect(tlsUri(`pkipath=${pki('NOCERT')}`)));
    expect(err).toBeInstanceOf(TlsVerificationError);
    expect((err as TlsVerificationError).failure).toBe('client-rejected');
  });

  it('names a missing CA file', async () => {
    const dir = join(scratch, 'empty-pki');
    const err = await failure(connect(tlsUri(`pkipath=${dir}`)));
    expect(err).toBeInstanceOf(TransportError);
    expect((err as Error).message).toContain(`cannot read CA certificate ${dir}/cacert.pem`);
    // without pkipath=, root uses the system locations
    if (!existsSync('/etc/pki/CA/cacert.pem')) {
      const sys = await failure(connect(tlsUri('')));
      expect((sys as Error).message).toContain('cannot read CA certificate /etc/pki/CA/cacert.pem');
    }
  });

  it('names the files when the client key does not belong to the certificate', async () => {
    const dir = join(scratch, 'mismatched-pki');
    spawnSync('mkdir', ['-p', dir]);
    copyFileSync(`${pki('CLIENT')}/cacert.pem`, `${dir}/cacert.pem`);
    copyFileSync(`${pki('CLIENT')}/clientcert.pem`, `${dir}/clientcert.pem`);
    copyFileSync(host('VIRTWIRE_TLS_SERVER_KEY'), `${dir}/clientkey.pem`);
    const err = await failure(connect(tlsUri(`pkipath=${dir}`)));
    expect(err).toBeInstanceOf(TransportError);
    expect((err as Error).message).toContain(`${dir}/clientcert.pem, ${dir}/clientkey.pem`);
    expect((err as Error).message).toMatch(/key values mismatch/);
  });
});

/**
 * A TLS server on a free loopback port presenting `cert`. Per connection: `onSecure` decides
 * what to do after the handshake; `received` counts application bytes it got.
 */
async function tlsTestServer(
  cert: string,
  key: string,
  onSecure: (s: TLSSocket) => void,
): Promise<{ port: number; received: () => number; handshakes: () => number; close: () => void }> {
  let received = 0;
  let handshakes = 0;
  const server = createServer({ cert: readFileSync(cert), key: readFileSync(key) }, (s) => {
    handshakes++;
    s.on('data', (d: Buffer) => {
      received += d.length;
    });
    s.on('error', () => {});
    onSecure(s);
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    port,
    received: () => received,
    handshakes: () => handshakes,
    close: () => server.close(),
  };
}

/** After the handshake: send 0x01, then relay to host A's plain TCP listener. */
function relayToHostA(s: TLSSocket): void {
  s.pause();
  s.write(Buffer.from([1]));
  const up = netConnect(16509, host('VIRTWIRE_HOST_A_ADDR'));
  up.on('error', () => s.destroy());
  s.on('close', () => up.destroy());
  up.on('close', () => s.destroy());
  s.pipe(up);
  up.pipe(s);
  s.resume();
}

describe.each(onA)('tls refusing bad server certificates (Node test servers): $label', () => {
  const clientPki = () => host('VIRTWIRE_PKI_CLIENT');

  for (const [name, failureName] of [
    ['BADNAME', 'hostname-mismatch'],
    ['EXPIRED', 'expired'],
  ] as const) {
    it(`refuses the ${failureName} certificate during the handshake, before any libvirt traffic`, async () => {
      const srv = await tlsTestServer(
        host(`VIRTWIRE_TLS_${name}_CERT`),
        host(`VIRTWIRE_TLS_${name}_KEY`),
        relayToHostA,
      );
      try {
        const err = await failure(
          connect(`qemu+tls://127.0.0.1:${srv.port}/system?pkipath=${clientPki()}`),
        );
        expect(err).toBeInstanceOf(TlsVerificationError);
        const e = err as TlsVerificationError;
        expect(e.failure).toBe(failureName);
        if (failureName === 'hostname-mismatch') {
          expect(e.message).toMatch(/127\.0\.0\.1.*other\.example/);
        }
        if (failureName === 'expired') expect(e.code).toBe('CERT_HAS_EXPIRED');
        expect(e.message).toContain('no_verify=1');
        expect(srv.received()).toBe(0);
      } finally {
        srv.close();
      }
    });

    it(`accepts the ${failureName} certificate with no_verify=1 (relayed to host A)`, async () => {
      const srv = await tlsTestServer(
        host(`VIRTWIRE_TLS_${name}_CERT`),
        host(`VIRTWIRE_TLS_${name}_KEY`),
        relayToHostA,
      );
      try {
        await using conn = await connect(
          `qemu+tls://127.0.0.1:${srv.port}/system?pkipath=${clientPki()}&no_verify=1`,
        );
        await expectHostA(conn);
        expect(srv.received()).toBeGreaterThan(0);
      } finally {
        srv.close();
      }
    });
  }

  const goodCert = () =>
    [host('VIRTWIRE_TLS_SERVER_CERT'), host('VIRTWIRE_TLS_SERVER_KEY')] as const;

  it('treats any verdict byte other than 0x01 as a refusal', async () => {
    const srv = await tlsTestServer(...goodCert(), (s) => s.write(Buffer.from([0])));
    try {
      const err = await failure(
        connect(`qemu+tls://127.0.0.1:${srv.port}/system?pkipath=${clientPki()}`),
      );
      expect(err).toBeInstanceOf(TlsVerificationError);
      expect((err as TlsVerificationError).failure).toBe('client-rejected');
      expect((err as Error).message).toMatch(/0x00 instead of 0x01/);
    } finally {
      srv.close();
    }
  });

  it('treats a close without verdict as a refusal', async () => {
    const srv = await tlsTestServer(...goodCert(), (s) => s.end());
    try {
      const err = await failure(
        connect(`qemu+tls://127.0.0.1:${srv.port}/system?pkipath=${clientPki()}`),
      );
      expect(err).toBeInstanceOf(TlsVerificationError);
      expect((err as TlsVerificationError).failure).toBe('client-rejected');
    } finally {
      srv.close();
    }
  });

  it('keeps bytes that arrive with the verdict for the RPC layer', async () => {
    const srv = await tlsTestServer(...goodCert(), (s) => s.write(Buffer.from([1, 0xaa, 0xbb])));
    let channel: Channel | undefined;
    try {
      channel = await tlsTransport(
        parseUri(`qemu+tls://127.0.0.1:${srv.port}/system?pkipath=${clientPki()}`),
        { readonly: false },
      );
      const c = channel;
      // what the channel lends is only valid during the call: keep a copy
      const first = await new Promise<Buffer>((resolve) =>
        c.open({ data: (b) => resolve(Buffer.from(b)), drain: () => {}, end: () => {} }),
      );
      expect([...first]).toEqual([0xaa, 0xbb]);
    } finally {
      channel?.close();
      srv.close();
    }
  });

  it('honours an AbortSignal and a timeout while waiting for the verdict', async () => {
    const srv = await tlsTestServer(...goodCert(), () => {});
    try {
      const uri = `qemu+tls://127.0.0.1:${srv.port}/system?pkipath=${clientPki()}`;
      const aborted = await failure(connect(uri, { signal: AbortSignal.timeout(300) }));
      expect(aborted).toBeInstanceOf(AbortError);
      // connect's own timeoutMs running out is a TimeoutError, not an abort
      const timedOut = await failure(connect(uri, { timeoutMs: 300 }));
      expect(timedOut).toBeInstanceOf(TimeoutError);
    } finally {
      srv.close();
    }
  });
});

describe('tls helpers', () => {
  it('locates files as the reference client does', () => {
    const none = () => false;
    expect(locateTlsFiles('/p/', { uid: 1000, home: '/h' }, none)).toEqual({
      cacert: '/p/cacert.pem',
      cacrl: '/p/cacrl.pem',
      cert: '/p/clientcert.pem',
      key: '/p/clientkey.pem',
    });
    const system = {
      cacert: '/etc/pki/CA/cacert.pem',
      cacrl: '/etc/pki/CA/cacrl.pem',
      cert: '/etc/pki/libvirt/clientcert.pem',
      key: '/etc/pki/libvirt/private/clientkey.pem',
    };
    const all = () => true;
    expect(locateTlsFiles(undefined, { uid: 0, home: '/root' }, all)).toEqual(system);
    expect(locateTlsFiles(undefined, { uid: 1000, home: '/h' }, none)).toEqual(system);
    expect(locateTlsFiles(undefined, { uid: 1000, home: '/h' }, all)).toEqual({
      cacert: '/h/.pki/libvirt/cacert.pem',
      cacrl: '/h/.pki/libvirt/cacrl.pem',
      cert: '/h/.pki/libvirt/clientcert.pem',
      key: '/h/.pki/libvirt/clientkey.pem',
    });
    // each CA file falls back on its own; certificate and key only as a pair
    const some = new Set(['/h/.pki/libvirt/cacert.pem', '/h/.pki/libvirt/clientcert.pem']);
    expect(locateTlsFiles(undefined, { uid: 1000, home: '/h' }, (p) => some.has(p))).toEqual({
      ...system,
      cacert: '/h/.pki/libvirt/cacert.pem',
    });
  });

  it('maps GnuTLS priority strings to protocol versions', () => {
    expect(tlsPriorityVersions('NORMAL')).toEqual({});
    expect(tlsPriorityVersions('@SYSTEM')).toEqual({});
    expect(tlsPriorityVersions('NORMAL:-VERS-TLS1.3')).toEqual({
      minVersion: 'TLSv1',
      maxVersion: 'TLSv1.2',
    });
    expect(tlsPriorityVersions('SECURE256:-VERS-ALL:+VERS-TLS1.3:%COMPAT')).toEqual({
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
    });
    expect(tlsPriorityVersions('NONE:+VERS-TLS1.2:+AES-256-GCM:+SHA384')).toEqual({
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.2',
    });
    expect(tlsPriorityVersions('NORMAL:!VERS-TLS1.0:!VERS-TLS1.1')).toEqual({
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.3',
    });
    expect(() => tlsPriorityVersions('NONE')).toThrow(TransportError);
    expect(() => tlsPriorityVersions('BOGUS:+VERS-TLS1.2')).toThrow(/unknown base keyword/);
  });
});

describe.each(onA)('ssh (the system ssh client): $label', () => {
  const key = () => host('VIRTWIRE_SSH_KEY');
  const base = (query = '') =>
    `qemu+ssh://root@${host('VIRTWIRE_SSH_ADDR')}:${host('VIRTWIRE_SSH_PORT')}/system?keyfile=${key()}` +
    `&command=${host('VIRTWIRE_SSH_COMMAND')}&no_tty=1${query}`;

  it('reaches host A through nc on socket=', async () => {
    await using conn = await connect(base(`&socket=${host('VIRTWIRE_HOST_A_SOCKET')}`));
    await expectHostA(conn);
  });

  it('reaches host A through virt-ssh-helper without socket=', async () => {
    await using conn = await connect(base());
    await expectHostA(conn);
  });

  it('reaches host A through nc on the default socket with proxy=netcat', async () => {
    await using conn = await connect(base('&proxy=netcat'));
    await expectHostA(conn);
  });

  it('opens read-only through virt-ssh-helper -r', async () => {
    await using conn = await connect(base(), { readonly: true });
    await expectHostA(conn);
    const err = await failure(
      conn.domainDefineXML(readFileSync(host('VIRTWIRE_GUEST_XML'), 'utf8')),
    );
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as RemoteError).codeName).toBe('VIR_ERR_OPERATION_DENIED');
  });

  /** A wrapper like the harness's, but with its own known_hosts file. */
  function sshWithKnownHosts(knownHosts: string): string {
    const wrapper = join(scratch, `ssh-${randomBytes(4).toString('hex')}`);
    writeFileSync(
      wrapper,
      `#!/bin/sh\nexec ssh -F /dev/null -o UserKnownHostsFile='${knownHosts}' -o GlobalKnownHostsFile=/dev/null "$@"\n`,
    );
    chmodSync(wrapper, 0o755);
    return wrapper;
  }

  it('refuses an unknown host key (ssh exits 255 and its stderr is reported), unless no_verify=1', async () => {
    const kh = join(scratch, 'ssh-empty-known-hosts');
    writeFileSync(kh, '');
    const ssh = sshWithKnownHosts(kh);
    const uri = `qemu+ssh://root@${host('VIRTWIRE_SSH_ADDR')}:${host('VIRTWIRE_SSH_PORT')}/system?keyfile=${key()}&command=${ssh}&no_tty=1`;
    const err = transportError(await failure(connect(uri)));
    expect(err).toBeInstanceOf(ChildExitError);
    const e = err as ChildExitError;
    expect(e.exitCode).toBe(255);
    expect(e.stderr).toMatch(/Host key verification failed/);
    expect(e.message).toMatch(/exited with status 255: .*Host key verification failed/s);

    await using conn = await connect(`${uri}&no_verify=1`);
    await expectHostA(conn);
    // ssh's own side effect of StrictHostKeyChecking=no
    expect(readFileSync(kh, 'utf8')).toContain('ssh-ed25519');
  });

  it('reports an authentication failure with ssh stderr', async () => {
    const other = join(scratch, 'ssh-unknown-key');
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    const uri = base().replace(`keyfile=${key()}`, `keyfile=${other}`);
    const err = transportError(
      await failure(connect(uri, { env: { PATH: process.env.PATH, HOME: scratch } })),
    );
    expect(err).toBeInstanceOf(ChildExitError);
    expect((err as ChildExitError).stderr).toMatch(/Permission denied/);
  });

  it('passes hostile URI parameters to the remote side as data', async () => {
    const pwned = join(scratch, `pwned-${randomBytes(4).toString('hex')}`);
    const payload =
      `/nonexistent/virtwire sock'"; touch ${pwned}; echo '$(touch ${pwned}) ` +
      `\`touch ${pwned}\` && touch ${pwned} | touch ${pwned} \${IFS}`;
    const err = transportError(await failure(connect(base(`&socket=${enc(payload)}`))));
    expect(err).toBeInstanceOf(ChildExitError);
    // nc got the whole string as one path, and could not connect to it
    expect((err as ChildExitError).stderr).toMatch(/No such file|File name too long/);
    expect((err as ChildExitError).exitCode).not.toBe(0);

    const name = `qemu:///system'; touch ${pwned}; echo '$(touch ${pwned})\`touch ${pwned}\``;
    const err2 = transportError(await failure(connect(base(`&proxy=native&name=${enc(name)}`))));
    expect(err2).toBeInstanceOf(ChildExitError);
    // a netcat= "path" with a command in it is a (missing) program name, not a command
    const err3 = transportError(
      await failure(connect(base(`&netcat=${enc(`nc; touch ${pwned}`)}`))),
    );
    expect(err3).toBeInstanceOf(ChildExitError);
    expect(existsSync(pwned)).toBe(false);
  });

  it('kills ssh when the connection is closed or the attempt aborted', async () => {
    const marker = join(scratch, `key-${randomBytes(4).toString('hex')}`);
    copyFileSync(key(), marker);
    chmodSync(marker, 0o600);
    const uri = base().replace(`keyfile=${key()}`, `keyfile=${marker}`);
    const conn = await connect(uri);
    await expectHostA(conn);
    expect(processesWith(marker).length).toBeGreaterThan(0);
    await conn.close();
    expect(await eventually(() => processesWith(marker).length === 0)).toBe(true);

    const ac = new AbortController();
    const p = connect(uri, { signal: ac.signal });
    await eventually(() => processesWith(marker).length > 0, 2000);
    ac.abort();
    const err = await failure(p);
    expect(err).toBeInstanceOf(VirtwireError);
    expect(await eventually(() => processesWith(marker).length === 0)).toBe(true);
  });
});

describe.each(onA)('libssh and libssh2 (in-process, ssh2 package): $label', () => {
  const addr = () => `${host('VIRTWIRE_SSH_ADDR')}:${host('VIRTWIRE_SSH_PORT')}`;
  // no agent, a HOME without keys: only what the URI names is used
  const env = () => ({ HOME: scratch, PATH: process.env.PATH });

  for (const transport of ['libssh', 'libssh2'] as const) {
    const uri = (query: string) =>
      `qemu+${transport}://root@${addr()}/system?keyfile=${host('VIRTWIRE_SSH_KEY')}` +
      `&known_hosts=${host('VIRTWIRE_SSH_KNOWN_HOSTS')}${query}`;

    it(`${transport}: reaches host A through nc on socket=`, async () => {
      await using conn = await connect(uri(`&socket=${host('VIRTWIRE_HOST_A_SOCKET')}`), {
        env: env(),
      });
      await expectHostA(conn);
    });

    it(`${transport}: reaches host A through virt-ssh-helper, default auth order`, async () => {
      await using conn = await connect(uri(''), { env: env() });
      await expectHostA(conn);
    });

    it(`${transport}: passes hostile parameters as data`, async () => {
      const pwned = join(scratch, `pwned-${transport}`);
      const payload = `/nonexistent/x'; touch ${pwned}; '$(touch ${pwned})\`touch ${pwned}\``;
      const err = transportError(
        await failure(connect(uri(`&socket=${enc(payload)}`), { env: env() })),
      );
      expect(err).toBeInstanceOf(ChildExitError);
      expect((err as ChildExitError).stderr).toMatch(/No such file|File name too long/);
      expect(existsSync(pwned)).toBe(false);
    });
  }

  const bare = (query: string) =>
    `qemu+libssh2://root@${addr()}/system?keyfile=${host('VIRTWIRE_SSH_KEY')}${query}`;

  it('known_hosts_verify=normal refuses an unknown host key', async () => {
    const kh = join(scratch, 'libssh-unknown');
    const err = await failure(connect(bare(`&known_hosts=${kh}`), { env: env() }));
    expect(err).toBeInstanceOf(SshHostKeyError);
    expect((err as SshHostKeyError).reason).toBe('unknown');
    expect((err as Error).message).toContain(kh);
    expect(existsSync(kh)).toBe(false);
  });

  it('known_hosts_verify=auto stores an unknown key, which normal then accepts', async () => {
    const kh = join(scratch, 'auto', 'known_hosts');
    {
      await using conn = await connect(bare(`&known_hosts=${kh}&known_hosts_verify=auto`), {
        env: env(),
      });
      await expectHostA(conn);
    }
    const stored = readFileSync(kh, 'utf8');
    const hostKey = readFileSync(host('VIRTWIRE_SSH_KNOWN_HOSTS'), 'utf8')
      .split('\n')[0]!
      .split(' ')[2]!
      .trim();
    expect(stored).toBe(
      `[${host('VIRTWIRE_SSH_ADDR')}]:${host('VIRTWIRE_SSH_PORT')} ssh-ed25519 ${hostKey}\n`,
    );
    await using again = await connect(bare(`&known_hosts=${kh}`), { env: env() });
    await expectHostA(again);
  });

  it('refuses a changed host key, even with auto; ignore checks nothing', async () => {
    const kh = join(scratch, 'libssh-changed');
    const other = join(scratch, 'libssh-other-hostkey');
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    const pub = readFileSync(`${other}.pub`, 'utf8').split(' ');
    writeFileSync(
      kh,
      `[${host('VIRTWIRE_SSH_ADDR')}]:${host('VIRTWIRE_SSH_PORT')} ${pub[0]} ${pub[1]}\n`,
    );
    for (const mode of ['normal', 'auto']) {
      const err = await failure(
        connect(bare(`&known_hosts=${kh}&known_hosts_verify=${mode}`), { env: env() }),
      );
      expect(err).toBeInstanceOf(SshHostKeyError);
      expect((err as SshHostKeyError).reason).toBe('changed');
      expect((err as Error).message).toMatch(/VERIFICATION FAILED/);
    }
    await using conn = await connect(bare(`&known_hosts=${kh}&known_hosts_verify=ignore`), {
      env: env(),
    });
    await expectHostA(conn);
  });

  it('lists what each authentication method did when none succeeds', async () => {
    const kh = `&known_hosts=${host('VIRTWIRE_SSH_KNOWN_HOSTS')}`;
    const err = await failure(
      connect(bare(`${kh}&sshauth=agent,password,keyboard-interactive`), { env: env() }),
    );
    expect(err).toBeInstanceOf(SshAuthError);
    const attempts = (err as SshAuthError).attempts;
    expect(attempts[0]).toMatch(/^agent: no SSH agent/);
    expect(attempts[1]).toMatch(/^password: not offered by the server/);
    expect(attempts[2]).toMatch(/^keyboard-interactive: not offered/);

    const other = join(scratch, 'libssh-unknown-key');
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    const err2 = await failure(
      connect(`qemu+libssh://root@${addr()}/system?keyfile=${other}${kh}&sshauth=privkey`, {
        env: env(),
      }),
    );
    expect(err2).toBeInstanceOf(SshAuthError);
    expect((err2 as SshAuthError).attempts).toEqual([`privkey: the key ${other} was refused`]);
  });

  describe('password, keyboard-interactive and key passphrase (sshd port 2223: PAM, password only)', () => {
    const pw = (query: string) =>
      `qemu+libssh2://root@${host('VIRTWIRE_SSH_ADDR')}:${host('VIRTWIRE_SSH_PASSWORD_PORT')}/system` +
      `?known_hosts=${host('VIRTWIRE_SSH_KNOWN_HOSTS')}${query}`;
    const password = () => host('VIRTWIRE_SSH_PASSWORD');

    it('password from the auth option', async () => {
      await using conn = await connect(pw('&sshauth=password'), {
        env: env(),
        auth: { username: 'ignored-for-ssh', password: password() },
      });
      await expectHostA(conn);
    });

    it('a wrong password is refused, and never appears in the error', async () => {
      const secret = `wrong-${randomBytes(6).toString('hex')}`;
      const err = await failure(
        connect(pw('&sshauth=password'), { env: env(), auth: { username: 'x', password: secret } }),
      );
      expect(err).toBeInstanceOf(SshAuthError);
      expect((err as SshAuthError).attempts).toEqual(['password: refused for root']);
      expect(JSON.stringify(err) + String(err) + (err as Error).stack).not.toContain(secret);
    });

    it('keyboard-interactive asks the callback one NOECHOPROMPT per server prompt', async () => {
      const asked: CredentialRequest[][] = [];
      await using conn = await connect(pw('&sshauth=keyboard-interactive'), {
        env: env(),
        auth: async (reqs) => {
          asked.push([...reqs]);
          return reqs.map(() => password());
        },
      });
      await expectHostA(conn);
      expect(asked).toHaveLength(1);
      expect(asked[0]).toEqual([
        { type: CredentialType.NOECHOPROMPT, prompt: expect.stringMatching(/^Password:?$/) },
      ]);
    });

    it('the default order falls through to password; the callback gets a PASSPHRASE request', async () => {
      const asked: number[] = [];
      await using conn = await connect(pw(''), {
        env: env(),
        auth: async (reqs) => {
          asked.push(...reqs.map((r) => r.type));
          return reqs.map(() => password());
        },
      });
      await expectHostA(conn);
      expect(asked).toEqual([CredentialType.PASSPHRASE]);
    });

    it('password from auth.conf ([auth-ssh-HOST])', async () => {
      const conf = join(scratch, 'ssh-auth.conf');
      writeFileSync(
        conf,
        `[credentials-lab]\npassword=${password()}\n\n[auth-ssh-${host('VIRTWIRE_SSH_ADDR')}]\ncredentials=lab\n`,
      );
      await using conn = await connect(pw(`&sshauth=password&authfile=${conf}`), { env: env() });
      await expectHostA(conn);
    });

    it('without any credential source both methods say why they were skipped', async () => {
      const err = await failure(
        connect(pw('&sshauth=password,keyboard-interactive'), { env: env() }),
      );
      expect(err).toBeInstanceOf(SshAuthError);
      const attempts = (err as SshAuthError).attempts;
      expect(attempts[0]).toMatch(/^password: no password given \(pass the auth option/);
      expect(attempts[1]).toMatch(/^keyboard-interactive: nothing to answer the prompts with/);
    });

    it('an encrypted private key is opened with the passphrase from the callback', async () => {
      const key = host('VIRTWIRE_SSH_KEY_ENCRYPTED');
      const encUri = `qemu+libssh://root@${addr()}/system?keyfile=${key}&sshauth=privkey&known_hosts=${host('VIRTWIRE_SSH_KNOWN_HOSTS')}`;
      const err = await failure(connect(encUri, { env: env() }));
      expect(err).toBeInstanceOf(SshAuthError);
      expect((err as SshAuthError).attempts[0]).toMatch(/is encrypted and no passphrase was given/);
      const wrong = await failure(connect(encUri, { env: env(), auth: async () => ['nope'] }));
      expect((wrong as SshAuthError).attempts).toEqual([
        `privkey: the passphrase for ${key} is wrong`,
      ]);
      const prompts: string[] = [];
      await using conn = await connect(encUri, {
        env: env(),
        auth: async (reqs) => {
          prompts.push(...reqs.map((r) => r.prompt));
          return [host('VIRTWIRE_SSH_KEY_PASSPHRASE')];
        },
      });
      await expectHostA(conn);
      expect(prompts).toEqual([`Enter the passphrase for key ${key}`]);
    });
  });

  it('ends the SSH session when the connection is closed', async () => {
    // sessions are children of the harness's sshd (the listener)
    const sshd = Number(
      readFileSync(join(host('VIRTWIRE_HOSTS_DIR'), 'ssh', 'sshd.pid'), 'utf8').trim(),
    );
    const sessions = () =>
      readdirSync(`/proc/${sshd}/task`)
        .flatMap((t) => readFileSync(`/proc/${sshd}/task/${t}/children`, 'utf8').split(' '))
        .filter((p) => p.trim() !== '').length;
    expect(await eventually(() => sessions() === 0)).toBe(true);
    const conn = await connect(bare(`&known_hosts=${host('VIRTWIRE_SSH_KNOWN_HOSTS')}`), {
      env: env(),
    });
    await expectHostA(conn);
    expect(sessions()).toBe(1);
    await conn.close();
    expect(await eventually(() => sessions() === 0)).toBe(true);
  });
});

describe.each(onA)('ext: $label', () => {
  let tunnel: string;
  beforeAll(() => {
    tunnel = join(scratch, 'tunnel to A');
    writeFileSync(tunnel, `#!/bin/sh\nexec nc -U '${host('VIRTWIRE_HOST_A_SOCKET')}'\n`);
    chmodSync(tunnel, 0o755);
  });

  it('runs command= and talks to host A through its stdio', async () => {
    await using conn = await connect(`qemu+ext:///system?command=${enc(tunnel)}`);
    await expectHostA(conn);
  });

  it('runs the program itself, without a shell or arguments', async () => {
    const err = await failure(connect(`qemu+ext:///system?command=${enc(`${tunnel} -x`)}`));
    expect(err).toBeInstanceOf(TransportError);
    expect((err as Error).message).toMatch(/cannot run command .*tunnel to A -x.*ENOENT/);
  });

  it('reports the exit status and stderr of a failing command', async () => {
    const bad = join(scratch, 'failing-tunnel');
    writeFileSync(bad, '#!/bin/sh\necho "tunnel: no route to the daemon" >&2\nexit 3\n');
    chmodSync(bad, 0o755);
    const err = transportError(await failure(connect(`qemu+ext:///system?command=${enc(bad)}`)));
    expect(err).toBeInstanceOf(ChildExitError);
    expect((err as ChildExitError).exitCode).toBe(3);
    expect((err as ChildExitError).stderr).toBe('tunnel: no route to the daemon');
  });
});
