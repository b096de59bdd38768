import { VirtwireError } from '../../errors.js';

/**
 * SASL negotiation failed on this side: no usable mechanism, a malformed or
 * forged server message, a security layer that does not verify. Messages
 * never contain credentials.
 */
export class SaslError extends VirtwireError {
  override name = 'SaslError';
}
