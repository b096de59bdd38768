/**
 * JSON for the CLI's output: libvirt values carry bigints (hyper) and byte
 * arrays (opaque), which JSON has no form for. bigints become decimal
 * strings; 16-byte arrays under a key naming a UUID become canonical UUIDs,
 * every other byte array lower-case hex. `call` accepts the same forms back.
 */
import { formatUuid } from '../api/names.js';

const UUID_KEY = /uuid$/i;

/** A deep copy of `v` that JSON.stringify can print without losing anything. */
export function toJsonValue(v: unknown, key = ''): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) {
    return v.length === 16 && UUID_KEY.test(key)
      ? formatUuid(v)
      : Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
  }
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map((x) => toJsonValue(x, key));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined || typeof x === 'function') continue;
      out[k] = toJsonValue(x, k);
    }
    return out;
  }
  return v;
}

/** One line of JSON (for --json streams: one object per line). */
export function jsonLine(v: unknown): string {
  return JSON.stringify(toJsonValue(v));
}

/** Indented JSON, for a single result. */
export function jsonPretty(v: unknown): string {
  return JSON.stringify(toJsonValue(v), null, 2);
}
