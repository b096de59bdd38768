import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TransportError } from '../../../src/transport/errors.js';
import {
  checkHostKey,
  entryMatches,
  fingerprint,
  keyBlobType,
  knownHostLine,
  knownHostName,
  libsshConfig,
  parseKnownHosts,
} from '../../../src/transport/libssh.js';
import { parseUri } from '../../../src/uri/index.js';

// Real keys (public halves only), and a file hashed by OpenSSH 9.2's `ssh-keygen -H`: the first
// line is "[127.0.0.1]:2222" with ED25519, the second "example.com" with ECDSA.
const ED25519 = 'AAAAC3NzaC1lZDI1NTE5AAAAIHuz12mOShjVrPxNPFqKR1IuxGg5zRUzKG0EV2Nd5HdT';
const ECDSA =
  'AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBG7tuCZ5GXk091bvE8jj+NINtwj5VKGmY8FV34ck0RLhVpV5XCWPJVtEeUNN7QEE8KCc/Y4BL8e1FwyhCxr819g=';
const HASHED_BY_SSH_KEYGEN = [
  `|1|v55a5NBioN2ORJRx2rQVSaLVmQU=|Qm7KOEI4fqRQ0XxvGCz0RYiglkk= ssh-ed25519 ${ED25519}`,
  `|1|UI7X+VJ8xR4GxKHX95qXi/fEIro=|Y8ZvDOAJydF9SitRGQ3IkkzC/Ek= ecdsa-sha2-nistp256 ${ECDSA}`,
].join('\n');
const ed = Buffer.from(ED25519, 'base64');
const ec = Buffer.from(ECDSA, 'base64');

describe('known_hosts parsing', () => {
  it('reads plain entries, skipping comments, blank and malformed lines', () => {
    const text = [
      '# a comment',
      '',
      `host1,Host2.Example ssh-ed25519 ${ED25519} alice@laptop`,
      'broken-line-without-key',
      `host3 ssh-rsa ${ED25519}`, // the blob says ed25519: corrupt, skipped
      `host4 ssh-ed25519 not*base64`,
      `@weird host5 ssh-ed25519 ${ED25519}`,
      `   [10.0.0.1]:2200\tecdsa-sha2-nistp256   ${ECDSA}`,
    ].join('\r\n');
    const entries = parseKnownHosts(text);
    expect(entries.map((e) => [e.line, e.patterns, e.keyType])).toEqual([
      [3, ['host1', 'host2.example'], 'ssh-ed25519'],
      [8, ['[10.0.0.1]:2200'], 'ecdsa-sha2-nistp256'],
    ]);
    expect(entries[0]!.key.equals(ed)).toBe(true);
    expect(entries[0]!.marker).toBeNull();
  });

  it('reads markers', () => {
    const entries = parseKnownHosts(
      `@revoked * ssh-ed25519 ${ED25519}\n@cert-authority *.example ecdsa-sha2-nistp256 ${ECDSA}\n`,
    );
    expect(entries.map((e) => e.marker)).toEqual(['revoked', 'cert-authority']);
  });

  it('matches entries hashed by ssh-keygen -H', () => {
    const [a, b] = parseKnownHosts(HASHED_BY_SSH_KEYGEN);
    expect(a!.hashed).not.toBeNull();
    expect(entryMatches(a!, '[127.0.0.1]:2222')).toBe(true);
    expect(entryMatches(a!, '127.0.0.1')).toBe(false);
    expect(entryMatches(a!, '[127.0.0.1]:22')).toBe(false);
    expect(entryMatches(b!, 'example.com')).toBe(true);
    expect(entryMatches(b!, 'example.org')).toBe(false);
    expect(checkHostKey([a!, b!], '127.0.0.1', 2222, ed).status).toBe('known');
    expect(checkHostKey([a!, b!], 'EXAMPLE.com', 22, ec).status).toBe('known');
  });

  it('matches hashed entries made here the same way', () => {
    const salt = randomBytes(20);
    const hash = createHmac('sha1', salt).update('[h.example]:2022').digest();
    const line = `|1|${salt.toString('base64')}|${hash.toString('base64')} ssh-ed25519 ${ED25519}`;
    expect(checkHostKey(parseKnownHosts(line), 'h.example', 2022, ed).status).toBe('known');
    expect(checkHostKey(parseKnownHosts(line), 'h.example', 22, ed).status).toBe('unknown');
  });

  it('files hosts as OpenSSH does: plain for port 22, [host]:port otherwise', () => {
    expect(knownHostName('Example.COM', 22)).toBe('example.com');
    expect(knownHostName('127.0.0.1', 2222)).toBe('[127.0.0.1]:2222');
    expect(knownHostName('::1', 2222)).toBe('[::1]:2222');
    const entries = parseKnownHosts(`127.0.0.1 ssh-ed25519 ${ED25519}`);
    expect(checkHostKey(entries, '127.0.0.1', 22, ed).status).toBe('known');
    // the entry without a port does not cover another port
    expect(checkHostKey(entries, '127.0.0.1', 2222, ed).status).toBe('unknown');
  });

  it('supports wildcards and negation', () => {
    const entries = parseKnownHosts(`*.example,!bad.example,h?st ssh-ed25519 ${ED25519}`);
    const e = entries[0]!;
    expect(entryMatches(e, 'a.example')).toBe(true);
    expect(entryMatches(e, 'a.b.example')).toBe(true);
    expect(entryMatches(e, 'bad.example')).toBe(false);
    expect(entryMatches(e, 'host')).toBe(true);
    expect(entryMatches(e, 'hoost')).toBe(false);
    expect(entryMatches(e, 'example')).toBe(false);
    // a negation alone matches nothing
    expect(entryMatches(parseKnownHosts(`!x ssh-ed25519 ${ED25519}`)[0]!, 'y')).toBe(false);
    // [host]:port patterns with wildcards
    const p = parseKnownHosts(`[10.0.0.*]:2222 ssh-ed25519 ${ED25519}`)[0]!;
    expect(entryMatches(p, '[10.0.0.7]:2222')).toBe(true);
    expect(entryMatches(p, '[10.0.0.7]:22')).toBe(false);
  });

  it('tells known, unknown, changed and revoked keys apart', () => {
    const entries = parseKnownHosts(
      [
        `a.example ssh-ed25519 ${ED25519}`,
        `b.example ecdsa-sha2-nistp256 ${ECDSA}`,
        `c.example ssh-ed25519 ${ED25519}`,
        `c.example ecdsa-sha2-nistp256 ${ECDSA}`,
      ].join('\n'),
    );
    expect(checkHostKey(entries, 'a.example', 22, ed)).toMatchObject({ status: 'known' });
    expect(checkHostKey(entries, 'nobody.example', 22, ed)).toEqual({ status: 'unknown' });
    // b is filed with another key: a changed key (the reference client refuses both kinds)
    const changed = checkHostKey(entries, 'b.example', 22, ed);
    expect(changed.status).toBe('changed');
    expect(changed.status === 'changed' && changed.entries.map((e) => e.line)).toEqual([2]);
    // c has both: either key is fine
    expect(checkHostKey(entries, 'c.example', 22, ed).status).toBe('known');
    expect(checkHostKey(entries, 'c.example', 22, ec).status).toBe('known');
    // @revoked wins over a matching entry, for any host
    const revoked = parseKnownHosts(
      `@revoked * ssh-ed25519 ${ED25519}\na.example ssh-ed25519 ${ED25519}`,
    );
    expect(checkHostKey(revoked, 'a.example', 22, ed).status).toBe('revoked');
    // @cert-authority lines are not host keys
    const ca = parseKnownHosts(`@cert-authority a.example ssh-ed25519 ${ED25519}`);
    expect(checkHostKey(ca, 'a.example', 22, ed).status).toBe('unknown');
  });

  it('writes lines it can read back', () => {
    const line = knownHostLine('127.0.0.1', 2222, ed);
    expect(line).toBe(`[127.0.0.1]:2222 ssh-ed25519 ${ED25519}`);
    expect(checkHostKey(parseKnownHosts(line), '127.0.0.1', 2222, ed).status).toBe('known');
    expect(knownHostLine('Host.Example', 22, ec)).toBe(`host.example ecdsa-sha2-nistp256 ${ECDSA}`);
  });

  it('reads key types from blobs and makes OpenSSH fingerprints', () => {
    expect(keyBlobType(ed)).toBe('ssh-ed25519');
    expect(keyBlobType(ec)).toBe('ecdsa-sha2-nistp256');
    expect(keyBlobType(Buffer.from([0, 0, 0]))).toBeNull();
    expect(keyBlobType(Buffer.from([0, 0, 0, 9, 0x61]))).toBeNull();
    // `ssh-keygen -lf` of that host key
    expect(fingerprint(ed)).toBe('SHA256:L4Q18exIbRlIm1Zu7i4vHfT0cQbpVPN261Bcda8IS8g');
  });
});

describe('libssh configuration', () => {
  const env = { HOME: '/home/u' };
  const none = () => false;

  it("defaults as the reference client: root, port 22, libvirt's known_hosts, normal checks", () => {
    const cfg = libsshConfig(parseUri('qemu+libssh2://h.example/system'), env, none);
    expect(cfg).toEqual({
      host: 'h.example',
      port: 22,
      username: 'root',
      knownHosts: '/home/u/.config/libvirt/known_hosts',
      verify: 'normal',
      keyfile: null,
      methods: ['agent', 'password', 'keyboard-interactive'],
    });
    const xdg = libsshConfig(
      parseUri('qemu+libssh://h/system'),
      { ...env, XDG_CONFIG_HOME: '/x' },
      none,
    );
    expect(xdg.knownHosts).toBe('/x/libvirt/known_hosts');
  });

  it('takes user, port, key, known_hosts and verification from the URI', () => {
    const cfg = libsshConfig(
      parseUri(
        'qemu+libssh://bob@h:2200/system?keyfile=/k/id&known_hosts=/kh&known_hosts_verify=AUTO',
      ),
      env,
      none,
    );
    expect(cfg).toMatchObject({
      username: 'bob',
      port: 2200,
      keyfile: '/k/id',
      knownHosts: '/kh',
      verify: 'auto',
      methods: ['agent', 'privkey', 'password', 'keyboard-interactive'],
    });
  });

  it('finds the first default key in the reference order', () => {
    const have = new Set(['/home/u/.ssh/id_rsa', '/home/u/.ssh/id_ecdsa']);
    const cfg = libsshConfig(parseUri('qemu+libssh://h/system'), env, (p) => have.has(p));
    expect(cfg.keyfile).toBe('/home/u/.ssh/id_ecdsa');
    expect(cfg.methods).toContain('privkey');
  });

  it('orders and limits methods with sshauth=, case-insensitively', () => {
    const cfg = libsshConfig(
      parseUri('qemu+libssh://h/system?keyfile=/k&sshauth=PrivKey,agent'),
      env,
      none,
    );
    expect(cfg.methods).toEqual(['privkey', 'agent']);
    expect(() =>
      libsshConfig(parseUri('qemu+libssh://h/system?sshauth=agent,gssapi'), env, none),
    ).toThrow(/unknown authentication method "gssapi"/);
    expect(() => libsshConfig(parseUri('qemu+libssh://h/system?sshauth='), env, none)).toThrow(
      TransportError,
    );
    expect(() =>
      libsshConfig(parseUri('qemu+libssh://h/system?sshauth=privkey'), env, none),
    ).toThrow(/no key file/);
  });
});
