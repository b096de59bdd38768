import type { Buffer } from 'node:buffer';

/** Bytes the zero test compares with zeros; the rest of a range is compared with itself this far on. */
const LEAD = 64;
const LEAD_ZEROS = new Uint8Array(LEAD);

/**
 * True when `buf[from, to)` holds only zero bytes.
 *
 * The first 64 bytes are compared with zeros, then the range with itself
 * shifted by 64: when every byte equals the one 64 bytes before it and the
 * first 64 are zero, all are. Both are one native comparison, and the second
 * reads the range's own memory once, where comparing with a zero buffer as
 * large as the range reads twice as much and needs that buffer: a 4 GiB
 * image's zero test measured about half the CPU. A range of data fails on
 * its first bytes, in the first comparison.
 */
export function isZeroRange(buf: Buffer, from: number, to: number): boolean {
  const lead = Math.min(LEAD, to - from);
  if (lead <= 0) return true;
  if (buf.compare(LEAD_ZEROS, 0, lead, from, from + lead) !== 0) return false;
  return lead < LEAD || buf.compare(buf, from + LEAD, to, from, to - LEAD) === 0;
}
