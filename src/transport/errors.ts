/** The errors of the transport layer: every one is a TransportError. */
import { VirtwireError } from '../errors.js';

/** The transport could not be set up (connection refused, host key rejected, helper failed...). */
export class TransportError extends VirtwireError {
  override name = 'TransportError';
}

/** Why the TLS connection was refused. */
export type TlsFailure =
  /** The server certificate is not signed by our CA (or the chain is incomplete). */
  | 'unknown-ca'
  | 'expired'
  | 'not-yet-valid'
  /** The server certificate names neither the URI's host name nor its address. */
  | 'hostname-mismatch'
  | 'revoked'
  /** The server certificate is a CA certificate. */
  | 'not-a-server-certificate'
  /** The server did not send its `\x01` verdict: it refused our certificate (or our address). */
  | 'client-rejected'
  /** Our own certificates failed the pre-connection sanity check. */
  | 'local-certificate'
  | 'other';

/** A certificate check failed, on our side or on the server's. */
export class TlsVerificationError extends TransportError {
  override name = 'TlsVerificationError';
  constructor(
    readonly failure: TlsFailure,
    message: string,
    /** OpenSSL's or Node's code for the failure, when there is one. */
    readonly code?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * The program behind the stream exited with a failure status or was killed by
 * a signal before the connection was closed from this side.
 */
export class ChildExitError extends TransportError {
  override name = 'ChildExitError';
  constructor(
    /** What ran, for messages: `ssh`, `command /usr/local/bin/tunnel`... */
    readonly program: string,
    /** The exit status, or null when the program died of a signal or none was reported. */
    readonly exitCode: number | null,
    /** The signal that ended it, if any. */
    readonly signal: string | null,
    /** The tail of what it wrote to stderr (at most STDERR_LIMIT bytes), trimmed. */
    readonly stderr: string,
  ) {
    const how =
      exitCode !== null
        ? `exited with status ${exitCode}`
        : signal !== null
          ? `was killed by signal ${signal}`
          : 'ended without an exit status';
    super(`${program} ${how}${stderr !== '' ? `: ${stderr}` : ' (nothing on stderr)'}`);
  }
}

/** The SSH server's host key was refused (libssh/libssh2 transports). */
export class SshHostKeyError extends TransportError {
  override name = 'SshHostKeyError';
  constructor(
    readonly reason: 'unknown' | 'changed' | 'revoked',
    readonly fingerprint: string,
    readonly knownHostsFile: string,
    message: string,
  ) {
    super(message);
  }
}

/** No SSH authentication method succeeded; `attempts` says what happened to each. */
export class SshAuthError extends TransportError {
  override name = 'SshAuthError';
  constructor(
    message: string,
    readonly attempts: readonly string[],
  ) {
    super(message);
  }
}
