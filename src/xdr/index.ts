export { XdrError, xdrAt } from './errors.js';
export { XdrReader } from './reader.js';
export { XdrWriter } from './writer.js';

import type { XdrReader } from './reader.js';
import type { XdrWriter } from './writer.js';

/** An encode/decode pair for one XDR type, as emitted by the generator. */
export interface Codec<T> {
  /** The XDR type name, e.g. `remote_domain_get_info_ret`. */
  readonly name: string;
  encode(w: XdrWriter, v: T): void;
  decode(r: XdrReader): T;
}
