import { accessSync, constants, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CredentialsError } from './errors.js';

/**
 * libvirt's client auth config (auth.conf), a GLib key file:
 *
 * ```ini
 * [credentials-admin]
 * authname=alice
 * password=secret
 *
 * [auth-libvirt-myhost]
 * credentials=admin
 * ```
 */
export class AuthConfig {
  private constructor(
    readonly path: string,
    private readonly groups: Map<string, Map<string, string>>,
  ) {}

  /** Parses key-file text; `path` only names the file in error messages. */
  static parse(text: string, path = 'auth.conf'): AuthConfig {
    const groups = new Map<string, Map<string, string>>();
    let current: Map<string, string> | null = null;
    const lines = text.split(/\r?\n/);
    for (let n = 0; n < lines.length; n++) {
      const line = lines[n]!.replace(/^\s+/, '');
      if (line === '' || line.startsWith('#')) continue;
      if (line.startsWith('[')) {
        const end = line.indexOf(']');
        if (end < 0 || line.slice(end + 1).trim() !== '')
          throw new CredentialsError(`${path}:${n + 1}: malformed group header`);
        const name = line.slice(1, end);
        current = groups.get(name) ?? new Map<string, string>();
        groups.set(name, current);
        continue;
      }
      const eq = line.indexOf('=');
      if (eq < 0) throw new CredentialsError(`${path}:${n + 1}: expected key=value`);
      if (!current) throw new CredentialsError(`${path}:${n + 1}: key outside any group`);
      const key = line.slice(0, eq).trim();
      if (key === '' || /\[.*\]$/.test(key)) continue; // localised keys (key[lang]) are not used here
      current.set(key, unescapeValue(line.slice(eq + 1).replace(/^\s+/, '')));
    }
    return new AuthConfig(path, groups);
  }

  /** Reads and parses a file; a missing or unreadable file is a CredentialsError. */
  static load(path: string): AuthConfig {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new CredentialsError(`cannot read the auth config file ${path}`, { cause: err });
    }
    return AuthConfig.parse(text, path);
  }

  hasGroup(name: string): boolean {
    return this.groups.has(name);
  }

  /**
   * A credential for `service` on `host`, as libvirt's virAuthConfigLookup:
   * group `auth-SERVICE-HOST`, else `auth-SERVICE-default`, names a
   * `credentials-NAME` group holding `credname` (authname, username,
   * password, realm). Undefined when nothing applies.
   */
  lookup(service: string, host: string | null, credname: string): string | undefined {
    let group = `auth-${service}-${host ?? 'localhost'}`;
    if (!this.groups.has(group)) group = `auth-${service}-default`;
    const auth = this.groups.get(group);
    if (!auth) return undefined;
    const creds = auth.get('credentials');
    if (creds === undefined) {
      throw new CredentialsError(
        `missing item 'credentials' in group '${group}' in '${this.path}'`,
      );
    }
    const values = this.groups.get(`credentials-${creds}`);
    if (!values) {
      throw new CredentialsError(
        `missing group 'credentials-${creds}' referenced from group '${group}' in '${this.path}'`,
      );
    }
    return values.get(credname);
  }
}

/** GLib key-file string escapes: \s \n \t \r \\. */
function unescapeValue(v: string): string {
  const trimmed = v.replace(/\s+$/, '');
  return trimmed.replace(/\\(.)/g, (_m, c: string) =>
    c === 's' ? ' ' : c === 'n' ? '\n' : c === 't' ? '\t' : c === 'r' ? '\r' : c,
  );
}

const readable = (p: string): boolean => {
  try {
    accessSync(p, constants.R_OK);
    return true;
  } catch {
    return false;
  }
};

/**
 * Which auth config file applies, in libvirt's order (virAuthGetConfigFilePathURI):
 * `$LIBVIRT_AUTH_FILE`, then the URI's `authfile=`, then
 * `$XDG_CONFIG_HOME/libvirt/auth.conf` (default ~/.config) and
 * `/etc/libvirt/auth.conf` when readable. Null when none applies.
 */
export function findAuthConfigPath(
  authfile: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | null {
  if (env.LIBVIRT_AUTH_FILE) return env.LIBVIRT_AUTH_FILE;
  if (authfile) return authfile;
  const configHome = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  const user = join(configHome, 'libvirt', 'auth.conf');
  if (readable(user)) return user;
  const system = '/etc/libvirt/auth.conf';
  if (readable(system)) return system;
  return null;
}
