import type { RemoteTypedParam } from '../generated/remote.js';

/** A typed parameter's value as a plain JS value: int/uint/double -> number, llong/ullong -> bigint. */
export type TypedValue = number | bigint | string | boolean;

/**
 * libvirt's typed parameter list as a plain record keyed by field name. A
 * field repeated in the list keeps its first value; use the raw list for
 * multi-valued fields.
 */
export function fromTypedParams(params: readonly RemoteTypedParam[]): Record<string, TypedValue> {
  const out: Record<string, TypedValue> = {};
  for (const p of params) {
    if (Object.hasOwn(out, p.field)) continue;
    const v = p.value;
    switch (v.type) {
      case 1:
        out[p.field] = v.i;
        break;
      case 2:
        out[p.field] = v.ui;
        break;
      case 3:
        out[p.field] = v.l;
        break;
      case 4:
        out[p.field] = v.ul;
        break;
      case 5:
        out[p.field] = v.d;
        break;
      case 6:
        out[p.field] = v.b !== 0;
        break;
      case 7:
        out[p.field] = v.s;
        break;
    }
  }
  return out;
}
