import { XdrError } from '../../src/xdr/index.js';

/** The XdrError `fn` throws; any other outcome fails the test. */
export function caught(fn: () => void): XdrError {
  try {
    fn();
  } catch (e) {
    if (e instanceof XdrError) return e;
    throw e;
  }
  throw new Error('expected an XdrError');
}
