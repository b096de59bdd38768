import { AuthConfig, findAuthConfigPath } from './auth-conf.js';
import { CredentialsError } from './errors.js';
import type { SaslCredentials } from './sasl/mechanism.js';

/** libvirt's virConnectCredentialType. */
export const CredentialType = {
  USERNAME: 1,
  AUTHNAME: 2,
  LANGUAGE: 3,
  CNONCE: 4,
  PASSPHRASE: 5,
  ECHOPROMPT: 6,
  NOECHOPROMPT: 7,
  REALM: 8,
  EXTERNAL: 9,
} as const;
export type CredentialType = (typeof CredentialType)[keyof typeof CredentialType];

/** One question for the user, as virConnectCredential. */
export interface CredentialRequest {
  readonly type: CredentialType;
  readonly prompt: string;
  readonly challenge?: string;
  /** Suggested answer (e.g. the URI's user name). */
  readonly defresult?: string;
}

/**
 * Answers credential requests, as virConnectOpenAuth's callback: one answer
 * per request, in order; null (or a missing entry) leaves it unanswered.
 */
export type AuthCallback = (
  creds: readonly CredentialRequest[],
) => Promise<ReadonlyArray<string | null>>;

/** The `auth` option of connect: fixed credentials or a callback. */
export type AuthOption = { readonly username: string; readonly password: string } | AuthCallback;

export interface CredentialSources {
  readonly auth?: AuthOption | undefined;
  /** The URI host; null for unix sockets (looked up as `localhost`). */
  readonly host: string | null;
  /** The URI's user, offered as the default authname. */
  readonly user?: string | null | undefined;
  /** The URI's `authfile=` parameter. */
  readonly authfile?: string | undefined;
  readonly env?: NodeJS.ProcessEnv | undefined;
  /** Names the mechanism in error messages. */
  readonly mechanism: string;
}

/**
 * The authname and password for a SASL mechanism: from `auth` when it is an
 * object, else libvirt's auth.conf (`[auth-libvirt-HOST]` or
 * `[auth-libvirt-default]`), then the callback for whatever is still missing.
 */
export async function saslCredentials(src: CredentialSources): Promise<SaslCredentials> {
  const auth = src.auth;
  if (auth && typeof auth === 'object') {
    return { authname: auth.username, password: auth.password };
  }
  let authname: string | undefined;
  let password: string | undefined;
  const path = findAuthConfigPath(src.authfile, src.env ?? process.env);
  if (path !== null) {
    const conf = AuthConfig.load(path);
    authname = conf.lookup('libvirt', src.host, 'authname');
    password = conf.lookup('libvirt', src.host, 'password');
  }
  if ((authname === undefined || password === undefined) && typeof auth === 'function') {
    const host = src.host ?? 'localhost';
    const ask: CredentialRequest[] = [];
    if (authname === undefined) {
      ask.push({
        type: CredentialType.AUTHNAME,
        prompt: `Please enter your authentication name for ${host}`,
        ...(src.user ? { defresult: src.user } : {}),
      });
    }
    if (password === undefined) {
      ask.push({
        type: CredentialType.PASSPHRASE,
        prompt: `Please enter your password for ${host}`,
      });
    }
    let answers: ReadonlyArray<string | null>;
    try {
      answers = await auth(ask);
    } catch (err) {
      throw new CredentialsError('the authentication callback failed', { cause: err });
    }
    ask.forEach((q, i) => {
      const a = answers[i] ?? null;
      if (a === null) return;
      if (q.type === CredentialType.AUTHNAME) authname = a === '' && q.defresult ? q.defresult : a;
      else password = a;
    });
  }
  authname ??= src.user ?? undefined;
  if (authname === undefined || password === undefined) {
    throw new CredentialsError(
      `SASL ${src.mechanism} needs ${authname === undefined ? 'a user name and ' : ''}a password: ` +
        'pass the auth option of connect (credentials or a callback) or provide an auth.conf',
    );
  }
  return { authname, password };
}
