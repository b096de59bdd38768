/**
 * The `ssh` transport: the system's ssh client, run with the arguments the
 * reference client gives it, carrying the connection over its stdin/stdout.
 * On the remote host a small shell script connects that stream to the daemon:
 * `virt-ssh-helper` when available, else netcat on the daemon's unix socket.
 *
 * The remote side is reached through two shells (the remote login shell runs
 * `sh -c SCRIPT`), so every value from the URI is quoted for both; nothing a
 * URI holds can become a command there.
 */

import { duplexChannel } from '../channel.js';
import type { LibvirtUri } from '../uri/index.js';
import { localSocketPath, sshProxyMode } from '../uri/index.js';
import { childEnv, spawnDuplex } from './child.js';
import type { ChannelTransport, TransportOptions } from './types.js';

/** Characters that need no quoting in any POSIX shell word, wherever the word stands. */
const SHELL_SAFE = /^[A-Za-z0-9_./:@%+,-]+$/;

/**
 * Quotes `s` as one word for a POSIX shell (sh, bash, dash, zsh in sh mode):
 * unchanged when it is made of harmless characters only, else inside single
 * quotes, where nothing is special, with each `'` written as `'\''`.
 */
export function shellQuote(s: string): string {
  if (SHELL_SAFE.test(s)) return s;
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

export interface RemoteCommandOptions {
  /** Open read-only: `virt-ssh-helper -r`, the `-sock-ro` socket. */
  readonly readonly: boolean;
  /** Environment for the session socket path (default process.env). */
  readonly env?: NodeJS.ProcessEnv | undefined;
  /** Effective uid (default the process's): 0 never uses session sockets. */
  readonly uid?: number | undefined;
}

/**
 * The netcat part: `-q 0` (quit once stdin ends) only when this netcat knows
 * the option, which it shows by complaining that `-q` lacks its argument.
 */
function netcatScript(netcat: string, socket: string): string {
  const nc = shellQuote(netcat);
  return (
    `if ${nc} -q 2>&1 | grep 'requires an argument' >/dev/null 2>&1; then ARG=-q0; else ARG=; fi; ` +
    `${nc} $ARG -U ${shellQuote(socket)}`
  );
}

/**
 * The shell script run on the remote host, before the outer quoting: per the
 * proxy mode (`sshProxyMode`) it runs virt-ssh-helper with the URI, netcat on
 * the socket, or (auto) the helper if the remote host has one, else netcat.
 * The reference client tests for the helper with `which`; `command -v` is the
 * same test without needing `which` installed.
 */
export function remoteScript(uri: LibvirtUri, opts: RemoteCommandOptions): string {
  const env = opts.env ?? process.env;
  const uid = opts.uid ?? process.getuid?.() ?? 0;
  const proxy = sshProxyMode(uri, { uid });
  const helper = `virt-ssh-helper${opts.readonly ? ' -r' : ''} ${shellQuote(uri.sshHelperUri)}`;
  if (proxy === 'native') return helper;
  const { path } = localSocketPath(
    uri,
    {
      uid,
      XDG_RUNTIME_DIR: env.XDG_RUNTIME_DIR,
      XDG_CACHE_HOME: env.XDG_CACHE_HOME,
      HOME: env.HOME,
    },
    () => false,
    { readonly: opts.readonly },
  );
  const nc = netcatScript(uri.params.netcat ?? 'nc', path);
  if (proxy === 'netcat') return nc;
  return `if command -v virt-ssh-helper >/dev/null 2>&1; then ${helper}; else ${nc}; fi`;
}

/**
 * The command line handed to the remote login shell: `sh -c 'SCRIPT'`, so the
 * script runs under a POSIX shell whatever the account's shell is (a
 * POSIX-style login shell is still needed to parse this one line).
 */
export function remoteCommand(uri: LibvirtUri, opts: RemoteCommandOptions): string {
  return `sh -c ${shellQuote(remoteScript(uri, opts))}`;
}

/**
 * The ssh command the reference client runs, option for option:
 * `ssh [-p PORT] [-l USER] [-i KEYFILE] -T -e none [-o BatchMode=yes]
 * [-o StrictHostKeyChecking=no] -- HOST REMOTE_COMMAND`. `-p` only for an
 * explicit port, `BatchMode` for `no_tty=1`, `StrictHostKeyChecking=no` for
 * `no_verify=1`; `command=` replaces the `ssh` binary. `known_hosts=` is not
 * used (ssh reads its own configuration). `-l` gets the user name alone: a
 * password in the URI never reaches this command line (which `ps` shows to
 * every local user); ssh asks for it through its own prompt or askpass.
 */
export function sshCommand(
  uri: LibvirtUri,
  opts: RemoteCommandOptions,
): { file: string; args: string[] } {
  const args: string[] = [];
  if (uri.port !== null) args.push('-p', String(uri.port));
  if (uri.user !== null) args.push('-l', uri.user);
  if (uri.params.keyfile !== undefined) args.push('-i', uri.params.keyfile);
  args.push('-T', '-e', 'none');
  if (uri.params.no_tty) args.push('-o', 'BatchMode=yes');
  if (uri.params.no_verify) args.push('-o', 'StrictHostKeyChecking=no');
  args.push('--', uri.connectHost, remoteCommand(uri, opts));
  return { file: uri.params.command ?? 'ssh', args };
}

/** Variables ssh may need (agent, askpass, Kerberos, X11 askpass), as the reference client passes them. */
const SSH_ENV = [
  'XDG_RUNTIME_DIR',
  'KRB5CCNAME',
  'SSH_AUTH_SOCK',
  'SSH_ASKPASS',
  'SSH_ASKPASS_REQUIRE',
  'OPENSSL_CONF',
  'DISPLAY',
  'XAUTHORITY',
] as const;

/** The environment ssh runs with: a TTY-based prompt also needs GPG_TTY and TERM. */
export function sshEnv(uri: LibvirtUri, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return childEnv(env, uri.params.no_tty ? SSH_ENV : [...SSH_ENV, 'GPG_TTY', 'TERM']);
}

/** The `ssh` transport. */
export const sshTransport: ChannelTransport = async (uri, opts: TransportOptions) => {
  const env = opts.env ?? process.env;
  const { file, args } = sshCommand(uri, { readonly: opts.readonly, env });
  const child = await spawnDuplex(file, args, {
    env: sshEnv(uri, env),
    program: file === 'ssh' ? 'ssh' : `ssh (${file})`,
    signal: opts.signal,
  });
  return duplexChannel(child);
};
