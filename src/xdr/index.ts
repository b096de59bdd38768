export { XdrError, xdrAt } from './errors.js';
export { XdrReader } from './reader.js';
export { XdrWriter } from './writer.js';

import type { XdrReader } from './reader.js';
import type { XdrWriter } from './writer.js';

/** An encode/decode pair for one XDR type, as emitted by the generator. */
export interface Codec<T> {
  /** The XDR type name, e.g. `remote_domain_get_info_ret`. */
  readonly name: string;
  /** Appends `v`; an XdrError names the field that does not fit the type. */
  encode(w: XdrWriter, v: T): void;
  /** Reads one value; an XdrError names the field that is malformed. */
  decode(r: XdrReader): T;
}
