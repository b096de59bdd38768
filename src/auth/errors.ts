import { VirtwireError } from '../errors.js';

/** Credentials could not be found or the auth config file is unusable. Never carries a secret. */
export class CredentialsError extends VirtwireError {
  override name = 'CredentialsError';
}
