/**
 * The `libssh` and `libssh2` transports: SSH inside this process, through the
 * pure-JavaScript `ssh2` package (an optional dependency, loaded on first
 * use), with the reference client's behaviour for both names:
 *
 * - user `root` and port 22 unless the URI says otherwise;
 * - host keys checked against `known_hosts=` (default
 *   `$XDG_CONFIG_HOME/libvirt/known_hosts`, else `~/.config/libvirt/known_hosts`),
 *   parsed here (plain, hashed `|1|salt|hash`, `[host]:port`, wildcards and
 *   negation, `@revoked`); `known_hosts_verify=normal` refuses unknown and
 *   changed keys (the reference client could ask through its credential
 *   callback; virtwire has none), `auto` adds unknown keys to the file and
 *   refuses changed ones, `ignore` checks nothing;
 * - authentication methods in the order of `sshauth=` (default `agent,
 *   privkey, password, keyboard-interactive`, without privkey when there is no
 *   key): the agent at `$SSH_AUTH_SOCK`; the key from `keyfile=` or the first
 *   of `~/.ssh/identity, id_dsa, id_ecdsa, id_ed25519, id_rsa` that exists
 *   (an encrypted key's passphrase from the `auth` callback); the password
 *   from the `auth` option or auth.conf (`[auth-ssh-HOST]`), else the
 *   callback; keyboard-interactive prompts answered by the callback, else
 *   with that password;
 * - the same remote command as the `ssh` transport.
 */

import { createHash, createHmac } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname } from 'node:path';
import type { Duplex, Readable } from 'node:stream';
import { duplexChannel } from '../channel.js';
import { AbortError } from '../errors.js';
import type { KnownHostsVerify, LibvirtUri } from '../uri/index.js';
import { LIBSSH_DEFAULT_PORT, LIBSSH_DEFAULT_USER } from '../uri/index.js';
import { ProcessDuplex } from './child.js';
import { SshAuthError, SshHostKeyError, TransportError } from './errors.js';
import { remoteCommand } from './ssh.js';
import { SshCredentials, type SshPrompt } from './ssh-credentials.js';
import type { ChannelTransport, TransportOptions } from './types.js';

// ---------------------------------------------------------------------------
// known_hosts

/** One usable line of a known_hosts file. */
export interface KnownHostEntry {
  /** 1-based line number. */
  line: number;
  marker: 'cert-authority' | 'revoked' | null;
  /** Host patterns of a plain entry (lower-cased); empty for a hashed one. */
  patterns: string[];
  /** Salt and HMAC-SHA1 of a hashed (`|1|salt|hash`) entry. */
  hashed: { salt: Buffer; hash: Buffer } | null;
  keyType: string;
  /** The public key blob (SSH wire format), as the server sends it. */
  key: Buffer;
}

/** Reads the key type at the start of an SSH public key blob. */
export function keyBlobType(blob: Buffer): string | null {
  if (blob.length < 4) return null;
  const n = blob.readUInt32BE(0);
  if (n === 0 || n > 64 || blob.length < 4 + n) return null;
  return blob.subarray(4, 4 + n).toString('latin1');
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Parses known_hosts text as OpenSSH does; comments, blank and malformed
 * lines are skipped (they never match).
 */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const fields = lines[i]!.trim().split(/[ \t]+/);
    if (fields[0] === undefined || fields[0] === '' || fields[0].startsWith('#')) continue;
    let marker: KnownHostEntry['marker'] = null;
    if (fields[0].startsWith('@')) {
      const m = fields.shift()!;
      if (m === '@cert-authority') marker = 'cert-authority';
      else if (m === '@revoked') marker = 'revoked';
      else continue;
    }
    const [hosts, keyType, b64] = fields;
    if (hosts === undefined || keyType === undefined || b64 === undefined) continue;
    if (!BASE64.test(b64)) continue;
    const key = Buffer.from(b64, 'base64');
    // The blob names its own type; a line whose two disagree is corrupt.
    if (keyBlobType(key) !== keyType) continue;
    let hashed: KnownHostEntry['hashed'] = null;
    let patterns: string[] = [];
    if (hosts.startsWith('|1|')) {
      const [salt, hash] = hosts.slice(3).split('|');
      if (salt === undefined || hash === undefined) continue;
      const s = Buffer.from(salt, 'base64');
      const h = Buffer.from(hash, 'base64');
      if (s.length === 0 || h.length !== 20) continue;
      hashed = { salt: s, hash: h };
    } else {
      patterns = hosts
        .toLowerCase()
        .split(',')
        .filter((p) => p !== '');
      if (patterns.length === 0) continue;
    }
    out.push({ line: i + 1, marker, patterns, hashed, keyType, key });
  }
  return out;
}

/** The name a host is filed under: `host` for port 22, else `[host]:port` (as OpenSSH). */
export function knownHostName(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

/** OpenSSH's wildcard match: `*` any run, `?` any one character. */
function wildcardMatch(pattern: string, s: string): boolean {
  let p = 0;
  let i = 0;
  let star = -1;
  let mark = 0;
  while (i < s.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === s[i])) {
      p++;
      i++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      mark = i;
    } else if (star >= 0) {
      p = star + 1;
      i = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/** Whether an entry is for `name` (from {@link knownHostName}). */
export function entryMatches(entry: KnownHostEntry, name: string): boolean {
  if (entry.hashed) {
    const mac = createHmac('sha1', entry.hashed.salt).update(name).digest();
    return mac.equals(entry.hashed.hash);
  }
  let positive = false;
  for (const p of entry.patterns) {
    if (p.startsWith('!')) {
      if (wildcardMatch(p.slice(1), name)) return false;
    } else if (wildcardMatch(p, name)) {
      positive = true;
    }
  }
  return positive;
}

export type HostKeyVerdict =
  | { status: 'known'; entry: KnownHostEntry }
  | { status: 'unknown' }
  /** Entries exist for the host, none with this key (another key, or another key type). */
  | { status: 'changed'; entries: KnownHostEntry[] }
  | { status: 'revoked'; entry: KnownHostEntry };

/**
 * Looks a server's host key up. A key on an `@revoked` line is refused for every host, whatever
 * the line's host patterns (stricter than OpenSSH, never weaker). `@cert-authority` lines are
 * not used: host certificates are not supported.
 */
export function checkHostKey(
  entries: readonly KnownHostEntry[],
  host: string,
  port: number,
  key: Buffer,
): HostKeyVerdict {
  const name = knownHostName(host, port);
  const revoked = entries.find((e) => e.marker === 'revoked' && e.key.equals(key));
  if (revoked) return { status: 'revoked', entry: revoked };
  const mine = entries.filter((e) => e.marker === null && entryMatches(e, name));
  const same = mine.find((e) => e.key.equals(key));
  if (same) return { status: 'known', entry: same };
  return mine.length > 0 ? { status: 'changed', entries: mine } : { status: 'unknown' };
}

/** The line `auto` mode appends: plain host name, the key type and the key. */
export function knownHostLine(host: string, port: number, key: Buffer): string {
  const type = keyBlobType(key) ?? 'unknown';
  return `${knownHostName(host, port)} ${type} ${key.toString('base64')}`;
}

/** OpenSSH-style fingerprint, `SHA256:base64` without padding. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

// ---------------------------------------------------------------------------
// the optional ssh2 package, typed as far as it is used here

interface Ssh2Channel extends Duplex {
  readonly stderr: Readable;
  close(): void;
}

interface Ssh2Client {
  connect(config: Record<string, unknown>): unknown;
  exec(command: string, cb: (err: Error | undefined, channel: Ssh2Channel) => void): unknown;
  end(): unknown;
  on(event: 'ready', fn: () => void): unknown;
  on(event: 'error', fn: (err: Error & { level?: string }) => void): unknown;
  on(event: 'close', fn: () => void): unknown;
  removeAllListeners(event?: string): unknown;
}

interface Ssh2Module {
  Client: new () => Ssh2Client;
  utils: { parseKey(data: Buffer, passphrase?: string): unknown };
}

let ssh2Module: Promise<Ssh2Module> | undefined;

function loadSsh2(transport: string): Promise<Ssh2Module> {
  // A variable keeps bundlers and the type checker from requiring the package.
  const name = 'ssh2';
  // A CommonJS package: its module.exports is the default export (Node's guess at the named
  // exports misses `utils`).
  ssh2Module ??= import(name).then((m: { default?: Ssh2Module } & Partial<Ssh2Module>) =>
    m.default?.Client !== undefined ? m.default : (m as Ssh2Module),
  );
  return ssh2Module.catch((err: unknown) => {
    ssh2Module = undefined;
    throw new TransportError(
      `install ssh2 to use the ${transport} transport (npm install ssh2): ${(err as Error).message}`,
      { cause: err },
    );
  });
}

// ---------------------------------------------------------------------------
// configuration, as the reference client derives it

type AuthMethod = 'agent' | 'privkey' | 'password' | 'keyboard-interactive';
const AUTH_METHODS: readonly AuthMethod[] = [
  'agent',
  'privkey',
  'password',
  'keyboard-interactive',
];
const DEFAULT_KEYS = ['identity', 'id_dsa', 'id_ecdsa', 'id_ed25519', 'id_rsa'];

/** `$XDG_CONFIG_HOME/libvirt`, else `$HOME/.config/libvirt` (GLib's user config dir). */
function userConfigDir(env: NodeJS.ProcessEnv): string {
  const xdg = env.XDG_CONFIG_HOME;
  if (xdg !== undefined && xdg !== '') return `${xdg}/libvirt`;
  return `${userHome(env)}/.config/libvirt`;
}

function userHome(env: NodeJS.ProcessEnv): string {
  const h = env.HOME;
  return h !== undefined && h !== '' ? h : homedir();
}

export interface LibsshConfig {
  host: string;
  port: number;
  username: string;
  knownHosts: string;
  verify: KnownHostsVerify;
  /** Key file for `privkey`, or null when none was given or found. */
  keyfile: string | null;
  methods: AuthMethod[];
}

/** Works out what the in-process SSH transports use for a URI (no I/O but key lookup). */
export function libsshConfig(
  uri: LibvirtUri,
  env: NodeJS.ProcessEnv,
  exists: (path: string) => boolean = existsSync,
): LibsshConfig {
  const keyfile =
    uri.params.keyfile ??
    DEFAULT_KEYS.map((k) => `${userHome(env)}/.ssh/${k}`).find((p) => exists(p)) ??
    null;
  let methods: AuthMethod[];
  if (uri.params.sshauth !== undefined) {
    methods = uri.params.sshauth.split(',').map((m) => {
      const name = AUTH_METHODS.find((a) => a === m.toLowerCase());
      if (name === undefined) {
        throw new TransportError(
          `sshauth=${uri.params.sshauth}: unknown authentication method "${m}" ` +
            '(expected agent, privkey, password or keyboard-interactive)',
        );
      }
      return name;
    });
    if (uri.params.sshauth === '') methods = [];
  } else {
    methods =
      keyfile !== null
        ? ['agent', 'privkey', 'password', 'keyboard-interactive']
        : ['agent', 'password', 'keyboard-interactive'];
  }
  if (methods.length === 0) {
    throw new TransportError('sshauth= names no authentication method');
  }
  if (methods.includes('privkey') && keyfile === null) {
    throw new TransportError(
      'sshauth= asks for privkey, but no key file was given (keyfile=) or found in ~/.ssh',
    );
  }
  return {
    host: uri.connectHost,
    port: uri.port ?? LIBSSH_DEFAULT_PORT,
    username: uri.user ?? LIBSSH_DEFAULT_USER,
    knownHosts: uri.params.known_hosts ?? `${userConfigDir(env)}/known_hosts`,
    verify: uri.params.known_hosts_verify ?? 'normal',
    keyfile,
    methods,
  };
}

/** Host key algorithms in ssh2's default order, with what each known_hosts key type can use. */
const HOST_KEY_ALGOS: Readonly<Record<string, readonly string[]>> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

function readKnownHosts(path: string): KnownHostEntry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new TransportError(`cannot read known hosts file ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return parseKnownHosts(text);
}

function appendKnownHost(path: string, line: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    let prefix = '';
    if (existsSync(path)) {
      const old = readFileSync(path);
      if (old.length > 0 && old[old.length - 1] !== 0x0a) prefix = '\n';
    }
    appendFileSync(path, `${prefix}${line}\n`, { mode: 0o600 });
  } catch (err) {
    throw new TransportError(
      `failed to write known hosts file ${path}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

function transportName(uri: LibvirtUri): string {
  return uri.transport === 'libssh2' ? 'libssh2' : 'libssh';
}

/** The `libssh` and `libssh2` transports (the same implementation). */
export const libsshTransport: ChannelTransport = async (uri, opts: TransportOptions) => {
  const name = transportName(uri);
  const env = opts.env ?? process.env;
  const cfg = libsshConfig(uri, env);
  const command = remoteCommand(uri, { readonly: opts.readonly, env });
  const ssh2 = await loadSsh2(name);
  const where = `${cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host}:${cfg.port}`;
  if (opts.signal?.aborted) {
    throw new AbortError(`connecting to ${where} aborted`, { cause: opts.signal.reason });
  }

  // Host keys: read once, before connecting.
  const known = cfg.verify === 'ignore' ? [] : readKnownHosts(cfg.knownHosts);
  let hostKeyError: TransportError | null = null;
  const hostVerifier = (key: Buffer): boolean => {
    if (cfg.verify === 'ignore') return true;
    const fp = fingerprint(key);
    const v = checkHostKey(known, cfg.host, cfg.port, key);
    switch (v.status) {
      case 'known':
        return true;
      case 'revoked':
        hostKeyError = new SshHostKeyError(
          'revoked',
          fp,
          cfg.knownHosts,
          `the SSH host key of ${where} (${fp}) is marked @revoked in ${cfg.knownHosts} (line ${v.entry.line})`,
        );
        return false;
      case 'changed':
        hostKeyError = new SshHostKeyError(
          'changed',
          fp,
          cfg.knownHosts,
          `SSH HOST KEY VERIFICATION FAILED: the host key of ${where} (${keyBlobType(key)}, ${fp}) ` +
            `differs from the one stored in ${cfg.knownHosts} (line ${v.entries.map((e) => e.line).join(', ')}); ` +
            'someone may be intercepting the connection, or the host key was replaced',
        );
        return false;
      case 'unknown':
        if (cfg.verify === 'auto') {
          try {
            appendKnownHost(cfg.knownHosts, knownHostLine(cfg.host, cfg.port, key));
          } catch (err) {
            hostKeyError = err as TransportError;
            return false;
          }
          return true;
        }
        hostKeyError = new SshHostKeyError(
          'unknown',
          fp,
          cfg.knownHosts,
          `the SSH host key of ${where} (${keyBlobType(key)}, ${fp}) is not in ${cfg.knownHosts}; ` +
            'add it there, or use known_hosts_verify=auto to accept and store it, or known_hosts_verify=ignore',
        );
        return false;
    }
  };

  // Authentication: our plan in sshauth order; ssh2 asks for the next step.
  const attempts: string[] = [];
  const secrets = new SshCredentials({
    auth: opts.auth,
    host: uri.host ?? cfg.host,
    username: cfg.username,
    authfile: uri.params.authfile,
    env,
  });
  let keyData: Buffer | null = null;
  let keyProblem: string | null = null;
  let keyEncrypted = false;
  if (cfg.methods.includes('privkey') && cfg.keyfile !== null) {
    try {
      keyData = readFileSync(cfg.keyfile);
      const parsed = ssh2.utils.parseKey(keyData);
      if (parsed instanceof Error) {
        keyEncrypted = /passphrase/i.test(parsed.message);
        keyProblem = keyEncrypted
          ? `${cfg.keyfile} is encrypted and no passphrase was given (only an auth callback can give one)`
          : `${cfg.keyfile} cannot be used: ${parsed.message}`;
      }
    } catch (err) {
      keyProblem = `cannot read ${cfg.keyfile}: ${(err as Error).message}`;
    }
  }
  const agentSock = env.SSH_AUTH_SOCK;
  let step = 0;
  let sentNone = false;
  const authHandler = async (
    methodsLeft: string[] | null,
  ): Promise<Record<string, unknown> | false> => {
    if (!sentNone) {
      // As the reference client: "none" first, which also gets the list of methods.
      sentNone = true;
      return { type: 'none', username: cfg.username };
    }
    while (step < cfg.methods.length) {
      const m = cfg.methods[step++]!;
      const wire =
        m === 'agent' || m === 'privkey'
          ? 'publickey'
          : m === 'password'
            ? 'password'
            : 'keyboard-interactive';
      if (methodsLeft !== null && !methodsLeft.includes(wire)) {
        attempts.push(`${m}: not offered by the server (it offers ${methodsLeft.join(', ')})`);
        continue;
      }
      if (m === 'agent') {
        if (agentSock === undefined || agentSock === '') {
          attempts.push('agent: no SSH agent (SSH_AUTH_SOCK is not set)');
          continue;
        }
        attempts.push(`agent: no key of the agent at ${agentSock} was accepted`);
        return { type: 'agent', username: cfg.username, agent: agentSock };
      }
      if (m === 'privkey') {
        if (keyEncrypted && keyData !== null) {
          const passphrase = await secrets.keyPassphrase(cfg.keyfile!);
          const parsed = passphrase === null ? null : ssh2.utils.parseKey(keyData, passphrase);
          if (passphrase === null || parsed instanceof Error) {
            attempts.push(
              passphrase === null
                ? `privkey: ${keyProblem}`
                : `privkey: the passphrase for ${cfg.keyfile} is wrong`,
            );
            continue;
          }
          attempts.push(`privkey: the key ${cfg.keyfile} was refused`);
          return { type: 'publickey', username: cfg.username, key: keyData, passphrase };
        }
        if (keyProblem !== null || keyData === null) {
          attempts.push(`privkey: ${keyProblem ?? 'no key'}`);
          continue;
        }
        attempts.push(`privkey: the key ${cfg.keyfile} was refused`);
        return { type: 'publickey', username: cfg.username, key: keyData };
      }
      if (m === 'password') {
        const password = await secrets.password();
        if (password === null) {
          attempts.push(`password: no password given (${SshCredentials.HINT})`);
          continue;
        }
        attempts.push(`password: refused for ${cfg.username}`);
        return { type: 'password', username: cfg.username, password };
      }
      if (!(await secrets.canAnswerPrompts())) {
        attempts.push(
          `keyboard-interactive: nothing to answer the prompts with (${SshCredentials.HINT})`,
        );
        continue;
      }
      attempts.push(`keyboard-interactive: refused for ${cfg.username}`);
      const i = attempts.length - 1;
      return {
        type: 'keyboard-interactive',
        username: cfg.username,
        prompt: (
          _name: string,
          instructions: string,
          _lang: string,
          prompts: SshPrompt[],
          finish: (answers: string[]) => void,
        ) => {
          secrets.keyboardInteractive(instructions, prompts).then(
            (answers) => {
              if (answers === null) {
                attempts[i] =
                  `keyboard-interactive: no answer to ${JSON.stringify(prompts.map((p) => p.prompt.trim()).join(' '))} (${SshCredentials.HINT})`;
              }
              finish(answers ?? []);
            },
            (err: unknown) => {
              attempts[i] = `keyboard-interactive: ${(err as Error).message}`;
              finish([]);
            },
          );
        },
      };
    }
    return false;
  };

  const algorithms: Record<string, unknown> = {};
  const knownTypes = [
    ...new Set(
      known
        .filter((e) => e.marker === null && entryMatches(e, knownHostName(cfg.host, cfg.port)))
        .flatMap((e) => HOST_KEY_ALGOS[e.keyType] ?? []),
    ),
  ];
  // Ask first for the key type we know, as OpenSSH does, so a host with several keys is not
  // refused for offering another one.
  if (knownTypes.length > 0) algorithms.serverHostKey = { remove: knownTypes, prepend: knownTypes };

  const client = new ssh2.Client();
  const stream = await new Promise<ProcessDuplex>((resolve, reject) => {
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      client.end();
      reject(err);
    };
    const onAbort = () =>
      fail(new AbortError(`connecting to ${where} aborted`, { cause: opts.signal?.reason }));
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    client.on('error', (err) => {
      if (err.level === 'agent') {
        // ssh2 goes on with the next method; remember why the agent did not help.
        const i = attempts.findLastIndex((a) => a.startsWith('agent:'));
        if (i >= 0) attempts[i] = `agent: the agent at ${agentSock} failed: ${err.message}`;
        return;
      }
      if (hostKeyError !== null) {
        fail(hostKeyError);
      } else if (err.level === 'client-authentication') {
        fail(
          new SshAuthError(
            `SSH authentication as ${cfg.username} on ${where} failed: ${attempts.length > 0 ? attempts.join('; ') : 'no method to try'}`,
            attempts,
          ),
        );
      } else {
        fail(
          new TransportError(`${name}: cannot connect to ${where}: ${err.message}`, { cause: err }),
        );
      }
    });
    client.on('close', () => {
      fail(
        attempts.length > 0
          ? new SshAuthError(
              `SSH authentication as ${cfg.username} on ${where} failed (the server closed the connection): ${attempts.join('; ')}`,
              attempts,
            )
          : new TransportError(`${name}: the SSH connection to ${where} closed during setup`),
      );
    });
    client.on('ready', () => {
      client.exec(command, (err, channel) => {
        if (settled) {
          channel?.close();
          return;
        }
        if (err) {
          fail(
            new TransportError(
              `${name}: cannot run the remote command on ${where}: ${err.message}`,
              {
                cause: err,
              },
            ),
          );
          return;
        }
        settled = true;
        opts.signal?.removeEventListener('abort', onAbort);
        client.removeAllListeners('close');
        client.removeAllListeners('error');
        let code: number | null = null;
        let signal: string | null = null;
        let channelClosed = false;
        const duplex = new ProcessDuplex({
          program: `the remote command on ${where} (${name})`,
          stdin: channel,
          stdout: channel,
          stderr: channel.stderr,
          onClose: (cb) => {
            channel.on('exit', (c: number | null, s?: string) => {
              code = c ?? null;
              signal = s ?? null;
            });
            channel.once('close', () => {
              channelClosed = true;
              client.end();
              cb(code, signal);
            });
          },
          kill: () => {
            channel.close();
            client.end();
          },
        });
        client.on('error', (e) => {
          if (!duplex.destroyed) {
            duplex.destroy(
              new TransportError(`${name}: the SSH connection to ${where} failed: ${e.message}`, {
                cause: e,
              }),
            );
          }
        });
        client.on('close', () => {
          if (!channelClosed && !duplex.destroyed) {
            duplex.destroy(new TransportError(`${name}: the SSH connection to ${where} closed`));
          }
        });
        resolve(duplex);
      });
    });

    const config: Record<string, unknown> = {
      host: cfg.host,
      port: cfg.port,
      username: cfg.username,
      hostVerifier,
      authHandler: (left: string[] | null, _partial: boolean | null, cb: (a: unknown) => void) => {
        authHandler(left).then(cb, (err: unknown) => {
          attempts.push(`credentials: ${(err as Error).message}`);
          cb(false);
        });
      },
      keepaliveInterval: 0,
    };
    if (Object.keys(algorithms).length > 0) config.algorithms = algorithms;
    try {
      client.connect(config);
    } catch (err) {
      fail(
        new TransportError(`${name}: cannot connect to ${where}: ${(err as Error).message}`, {
          cause: err,
        }),
      );
    }
  });
  return duplexChannel(stream);
};
