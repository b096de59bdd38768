import { VirtwireError } from '../errors.js';

/**
 * Raised for any XDR encode or decode failure: a value out of range, a length
 * over its declared bound, non-zero padding, truncated or left-over bytes.
 *
 * `path` names where it happened, outermost type first, e.g.
 * `remote_domain_get_job_stats_ret.params[3].value.s`.
 */
export class XdrError extends VirtwireError {
  override name = 'XdrError';
  /** Byte offset in the buffer being read or written, when known. */
  readonly offset: number;
  /** What failed, without the location. */
  readonly reason: string;
  private segments: string[] = [];
  private outer = '';

  constructor(reason: string, offset = -1, options?: ErrorOptions) {
    super(reason, options);
    this.reason = reason;
    this.offset = offset;
  }

  /** Type and field path of the failure, e.g. `remote_typed_param.value.s`. */
  get path(): string {
    let p = this.outer;
    for (let i = this.segments.length - 1; i >= 0; i--) p += this.segments[i];
    return p;
  }

  /**
   * Records one more level of the path while the error unwinds through
   * generated codecs: `field` is the member being processed in `type`, and
   * `index` the array element (-1 for none).
   */
  within(type: string, field: string, index = -1): this {
    if (field !== '') this.segments.push(index >= 0 ? `.${field}[${index}]` : `.${field}`);
    else if (index >= 0) this.segments.push(`[${index}]`);
    this.outer = type;
    const where = this.path;
    const at = this.offset >= 0 ? ` (byte ${this.offset})` : '';
    this.message = `${where}: ${this.reason}${at}`;
    return this;
  }
}

/**
 * Used by generated codecs in their catch blocks: adds the location to an
 * XdrError, and wraps anything else (a TypeError from a malformed value
 * given to an encoder, say) in an XdrError so callers see one error class.
 */
export function xdrAt(err: unknown, type: string, field: string, index: number): XdrError {
  const e =
    err instanceof XdrError
      ? err
      : new XdrError(err instanceof Error ? err.message : String(err), -1, { cause: err });
  return e.within(type, field, index);
}
