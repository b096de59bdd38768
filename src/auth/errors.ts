import { VirtwireError } from '../errors.js';

/** Credentials could not be found or the auth config file is unusable. Never carries a secret. */
export class CredentialsError extends VirtwireError {
  override name = 'CredentialsError';
}

/** The daemon asked for an authentication this client cannot do, or authentication failed. */
export class AuthError extends VirtwireError {
  override name = 'AuthError';
}
