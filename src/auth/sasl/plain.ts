import { SaslError } from './errors.js';
import type { SaslCredentials, SaslMechanism } from './mechanism.js';
import { utf8 } from './util.js';

/**
 * PLAIN (RFC 4616): the password in the clear, so only over TLS or a unix
 * socket. Complete once sent; no security layer.
 */
export class PlainMechanism implements SaslMechanism {
  readonly name = 'PLAIN';
  readonly ssf = 0;
  readonly layer = null;
  complete = false;

  constructor(private readonly creds: SaslCredentials) {
    if (`${creds.authname}${creds.password}${creds.authzid ?? ''}`.includes('\0'))
      throw new SaslError('PLAIN: credentials must not contain NUL');
  }

  start(): Uint8Array {
    this.complete = true;
    return utf8(`${this.creds.authzid ?? ''}\0${this.creds.authname}\0${this.creds.password}`);
  }

  step(challenge: Uint8Array | null): Uint8Array | null {
    if (challenge && challenge.length > 0)
      throw new SaslError('PLAIN: unexpected server challenge');
    return null;
  }
}
