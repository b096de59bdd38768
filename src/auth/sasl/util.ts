import { randomBytes, timingSafeEqual } from 'node:crypto';

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

export const utf8 = (s: string): Uint8Array => enc.encode(s);

/** Decodes UTF-8, returning null for invalid input. */
export function fromUtf8(b: Uint8Array): string | null {
  try {
    return dec.decode(b);
  } catch {
    return null;
  }
}

/** A printable nonce of `bytes` random bytes (base64 without `,`, which SCRAM forbids). */
export const makeNonce = (bytes = 18): string => randomBytes(bytes).toString('base64');

export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Constant-time comparison of two byte strings of possibly different length. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * SASL data travels as rpcgen `char data<>`: one XDR int per byte, signed
 * on the C side (x86 char). The daemon sends -128..127; mask to bytes.
 */
export const bytesFromXdrChars = (data: readonly number[]): Uint8Array =>
  Uint8Array.from(data, (c) => c & 0xff);

/** The reverse of {@link bytesFromXdrChars}: sign-extended as a C client sends them. */
export const xdrCharsFromBytes = (b: Uint8Array): number[] => Array.from(b, (x) => (x << 24) >> 24);
