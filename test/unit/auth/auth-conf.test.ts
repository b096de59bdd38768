/** libvirt's auth.conf: parsing, lookup as virAuthConfigLookup, file search order, credential gathering. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuthConfig, findAuthConfigPath } from '../../../src/auth/auth-conf.js';
import { CredentialType, saslCredentials } from '../../../src/auth/credentials.js';
import { CredentialsError } from '../../../src/auth/errors.js';
import { tempDir } from '../../helpers/tmp.js';

const FIXTURE = join(import.meta.dirname, '../../../fixtures/auth/auth.conf');

describe('AuthConfig', () => {
  const conf = AuthConfig.load(FIXTURE);

  it('finds credentials through auth-libvirt-HOST', () => {
    expect(conf.lookup('libvirt', '127.0.0.4', 'authname')).toBe('alice');
    expect(conf.lookup('libvirt', '127.0.0.4', 'password')).toBe('wonderland-42');
  });

  it('uses localhost for a URI without host', () => {
    expect(conf.lookup('libvirt', null, 'authname')).toBe('alice');
  });

  it('trims around = and unescapes GLib escapes', () => {
    expect(conf.lookup('libvirt', 'bobhost', 'authname')).toBe('bob');
    expect(conf.lookup('libvirt', 'bobhost', 'password')).toBe(
      '  leading space and a \\ backslash',
    );
  });

  it('falls back to auth-libvirt-default; a missing key is undefined', () => {
    expect(conf.lookup('libvirt', 'elsewhere', 'username')).toBe('nobody');
    expect(conf.lookup('libvirt', 'elsewhere', 'password')).toBeUndefined();
    expect(conf.lookup('other-service', 'x', 'authname')).toBeUndefined();
  });

  it('reports a missing credentials= key and a dangling reference', () => {
    expect(() => conf.lookup('libvirt', 'nocreds', 'authname')).toThrow(
      /missing item 'credentials'/,
    );
    expect(() => conf.lookup('libvirt', 'dangling', 'authname')).toThrow(
      /missing group 'credentials-missing'/,
    );
  });

  it('rejects malformed lines with the line number', () => {
    expect(() => AuthConfig.parse('[g]\njunk\n', 'x.conf')).toThrow('x.conf:2: expected key=value');
    expect(() => AuthConfig.parse('k=v\n')).toThrow(/outside any group/);
    expect(() => AuthConfig.parse('[broken\n')).toThrow(/group header/);
  });

  it('an unreadable file is a CredentialsError naming the file, not its content', () => {
    expect(() => AuthConfig.load('/nonexistent/auth.conf')).toThrow(CredentialsError);
  });
});

describe('findAuthConfigPath (libvirt order)', () => {
  const home = tempDir('virtwire-authconf-');
  const xdg = join(home, 'xdg');
  mkdirSync(join(xdg, 'libvirt'), { recursive: true });

  it('LIBVIRT_AUTH_FILE first, then authfile=', () => {
    expect(findAuthConfigPath('/uri/auth.conf', { LIBVIRT_AUTH_FILE: '/env/auth.conf' })).toBe(
      '/env/auth.conf',
    );
    expect(findAuthConfigPath('/uri/auth.conf', { HOME: home })).toBe('/uri/auth.conf');
  });

  it('then $XDG_CONFIG_HOME/libvirt/auth.conf or ~/.config/libvirt/auth.conf when readable', () => {
    const none = findAuthConfigPath(undefined, { HOME: home, XDG_CONFIG_HOME: xdg });
    expect(none === null || none === '/etc/libvirt/auth.conf').toBe(true);
    writeFileSync(join(xdg, 'libvirt', 'auth.conf'), '');
    expect(findAuthConfigPath(undefined, { HOME: home, XDG_CONFIG_HOME: xdg })).toBe(
      join(xdg, 'libvirt', 'auth.conf'),
    );
    mkdirSync(join(home, '.config', 'libvirt'), { recursive: true });
    writeFileSync(join(home, '.config', 'libvirt', 'auth.conf'), '');
    expect(findAuthConfigPath(undefined, { HOME: home })).toBe(
      join(home, '.config', 'libvirt', 'auth.conf'),
    );
  });
});

describe('saslCredentials', () => {
  const env = { HOME: '/nonexistent' };

  it('takes fixed credentials from the auth option', async () => {
    expect(
      await saslCredentials({
        auth: { username: 'u', password: 'p' },
        host: 'h',
        mechanism: 'PLAIN',
        env,
      }),
    ).toEqual({ authname: 'u', password: 'p' });
  });

  it('reads the auth file named by authfile=', async () => {
    expect(
      await saslCredentials({ host: '127.0.0.4', authfile: FIXTURE, mechanism: 'PLAIN', env }),
    ).toEqual({ authname: 'alice', password: 'wonderland-42' });
  });

  it('asks the callback for what the file leaves open, with the URI user as default', async () => {
    const asked: unknown[] = [];
    const creds = await saslCredentials({
      host: 'elsewhere',
      user: 'carol',
      authfile: FIXTURE,
      mechanism: 'PLAIN',
      env,
      auth: async (reqs) => {
        asked.push(...reqs);
        return reqs.map((r) => (r.type === CredentialType.PASSPHRASE ? 'sesame' : ''));
      },
    });
    expect(asked.map((r) => (r as { type: number }).type)).toEqual([
      CredentialType.AUTHNAME,
      CredentialType.PASSPHRASE,
    ]);
    expect(asked[0]).toMatchObject({ defresult: 'carol' });
    expect(creds).toEqual({ authname: 'carol', password: 'sesame' });
  });

  it('fails without a password, never echoing secrets', async () => {
    const err = await saslCredentials({
      host: 'h',
      user: 'u',
      mechanism: 'SCRAM-SHA-256',
      env,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredentialsError);
    const failing = await saslCredentials({
      host: 'h',
      mechanism: 'PLAIN',
      env,
      auth: async () => {
        throw new Error('user cancelled');
      },
    }).catch((e: unknown) => e);
    expect(failing).toBeInstanceOf(CredentialsError);
  });
});
