/**
 * Answers for the in-process SSH transports' password, keyboard-interactive
 * and key-passphrase steps, from the same sources as SASL: the `auth` option
 * of connect (fixed credentials or a callback), then libvirt's auth.conf
 * (`[auth-ssh-HOST]` / `[auth-ssh-default]`, item `password`), then the
 * callback. Secrets never reach a message or an error.
 */
import { AuthConfig, findAuthConfigPath } from '../auth/auth-conf.js';
import { type AuthOption, type CredentialRequest, CredentialType } from '../auth/credentials.js';
import { CredentialsError } from '../auth/errors.js';

/** One prompt of a keyboard-interactive round, as the server sent it. */
export interface SshPrompt {
  readonly prompt: string;
  readonly echo: boolean;
}

export interface SshCredentialSources {
  readonly auth?: AuthOption | undefined;
  /** The host as written in the URI, for auth.conf lookups and prompts. */
  readonly host: string;
  readonly username: string;
  readonly authfile?: string | undefined;
  readonly env: NodeJS.ProcessEnv;
}

export class SshCredentials {
  private passwordAnswer: Promise<string | null> | undefined;

  constructor(private readonly src: SshCredentialSources) {}

  /** Where a missing answer could come from, for the attempt log. */
  static readonly HINT =
    'pass the auth option of connect (credentials or a callback) or add [auth-ssh-HOST] to auth.conf';

  /** The login password (asked at most once per connection), or null when nothing provides one. */
  password(): Promise<string | null> {
    this.passwordAnswer ??= this.findPassword();
    return this.passwordAnswer;
  }

  private async findPassword(): Promise<string | null> {
    const { auth } = this.src;
    if (auth && typeof auth === 'object') return auth.password;
    const path = findAuthConfigPath(this.src.authfile, this.src.env);
    if (path !== null) {
      const p = AuthConfig.load(path).lookup('ssh', this.src.host, 'password');
      if (p !== undefined) return p;
    }
    if (typeof auth !== 'function') return null;
    const [answer] = await this.ask(auth, [
      {
        type: CredentialType.PASSPHRASE,
        prompt: `Enter ${this.src.username}'s password for ${this.src.host}`,
      },
    ]);
    return answer ?? null;
  }

  /**
   * Answers one keyboard-interactive round: the callback gets one request per
   * prompt (ECHOPROMPT or NOECHOPROMPT, the server's instructions as the
   * challenge); without a callback, the password answers hidden prompts and
   * the user name visible ones. Null when a prompt stays unanswered.
   */
  async keyboardInteractive(
    instructions: string,
    prompts: readonly SshPrompt[],
  ): Promise<string[] | null> {
    if (prompts.length === 0) return [];
    const { auth } = this.src;
    if (typeof auth === 'function') {
      const answers = await this.ask(
        auth,
        prompts.map((p) => ({
          type: p.echo ? CredentialType.ECHOPROMPT : CredentialType.NOECHOPROMPT,
          prompt: p.prompt.trim(),
          ...(instructions !== '' ? { challenge: instructions } : {}),
        })),
      );
      const out: string[] = [];
      for (let i = 0; i < prompts.length; i++) {
        const a = answers[i];
        if (a === undefined || a === null) return null;
        out.push(a);
      }
      return out;
    }
    const password = await this.password();
    if (password === null) return null;
    return prompts.map((p) => (p.echo ? this.src.username : password));
  }

  /** Whether keyboard-interactive prompts can be answered at all (a callback, or a password). */
  async canAnswerPrompts(): Promise<boolean> {
    return typeof this.src.auth === 'function' || (await this.password()) !== null;
  }

  /** The passphrase of an encrypted key file: only a callback can give it. */
  async keyPassphrase(keyfile: string): Promise<string | null> {
    const { auth } = this.src;
    if (typeof auth !== 'function') return null;
    const [answer] = await this.ask(auth, [
      { type: CredentialType.PASSPHRASE, prompt: `Enter the passphrase for key ${keyfile}` },
    ]);
    return answer ?? null;
  }

  private async ask(
    auth: (creds: readonly CredentialRequest[]) => Promise<ReadonlyArray<string | null>>,
    requests: CredentialRequest[],
  ): Promise<ReadonlyArray<string | null>> {
    try {
      return await auth(requests);
    } catch (err) {
      throw new CredentialsError('the authentication callback failed', { cause: err });
    }
  }
}
