// The volumes bench/stream.ts moves, and the checks that a transfer moved them right.
// Dense: random bytes throughout. Sparse: a fixed, seeded layout of random-data extents and real
// holes (never written, so SEEK_DATA/SEEK_HOLE find them, as virsh and libvirtd use them).

import { randomFillSync } from 'node:crypto';
import { statSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';

const KiB = 1024;
const MiB = 1024 * KiB;
/** Extents start and end on this boundary (a multiple of any file system's block size). */
const ALIGN = 64 * KiB;

export interface Extent {
  readonly offset: number;
  readonly length: number;
}

/** mulberry32: a small seeded generator, so every run gets the same layout. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The data extents of the sparse volume of `size` bytes: runs of 64 KiB to
 * 4 MiB of data between holes of 64 KiB to 12 MiB (about a quarter of the
 * volume is data, in a few hundred extents per GiB, like a freshly installed
 * guest image), starting with data and ending with a hole.
 */
export function sparseLayout(size: number): Extent[] {
  const next = rng(0x5eed);
  const units = (lo: number, hi: number) => (lo + Math.floor(next() * (hi - lo + 1))) * ALIGN;
  const out: Extent[] = [];
  for (let at = 0; at < size; ) {
    const length = Math.min(units(1, (4 * MiB) / ALIGN), size - at);
    out.push({ offset: at, length });
    at += length + units(1, (12 * MiB) / ALIGN);
  }
  const last = out[out.length - 1]!;
  if (last.offset + last.length >= size) out.pop(); // end with a hole
  return out;
}

/** Bytes of data in a layout. */
export const dataBytes = (layout: readonly Extent[]): number =>
  layout.reduce((n, e) => n + e.length, 0);

async function writeRandom(fh: FileHandle, offset: number, length: number, block: Buffer) {
  for (let at = 0; at < length; at += block.length) {
    const n = Math.min(block.length, length - at);
    randomFillSync(block, 0, n);
    await fh.write(block, 0, n, offset + at);
  }
}

/** Fills an existing volume file: random bytes everywhere (dense) or in the layout's extents. */
export async function fillVolume(path: string, size: number, sparse: boolean): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.truncate(0); // drop whatever blocks were there: holes must be real
    await fh.truncate(size);
    const block = Buffer.allocUnsafe(4 * MiB);
    if (!sparse) await writeRandom(fh, 0, size, block);
    else for (const e of sparseLayout(size)) await writeRandom(fh, e.offset, e.length, block);
    // on disk before the first round: not written back while transfers are timed
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Checks that `copy` holds the bytes of `source` (same size, same content)
 * and, when `sparse`, that its holes stayed holes (it allocates at most what
 * the source does, plus slack for file-system metadata). Throws if not.
 */
export async function checkCopy(source: string, copy: string, sparse: boolean): Promise<void> {
  const a = statSync(source);
  const b = statSync(copy);
  if (a.size !== b.size) throw new Error(`${copy} has ${b.size} bytes, ${source} ${a.size}`);
  if (sparse && b.blocks * 512 > a.blocks * 512 * 1.05 + 4 * MiB) {
    throw new Error(
      `${copy} allocates ${b.blocks * 512} bytes, its sparse source ${a.blocks * 512}: holes were filled`,
    );
  }
  const fa = await open(source, 'r');
  const fb = await open(copy, 'r');
  try {
    const ba = Buffer.allocUnsafe(4 * MiB);
    const bb = Buffer.allocUnsafe(4 * MiB);
    for (let at = 0; at < a.size; at += ba.length) {
      const n = Math.min(ba.length, a.size - at);
      await fa.read(ba, 0, n, at);
      await fb.read(bb, 0, n, at);
      if (ba.compare(bb, 0, n, 0, n) !== 0) {
        throw new Error(`${copy} differs from ${source} in the 4 MiB at offset ${at}`);
      }
    }
  } finally {
    await fa.close();
    await fb.close();
  }
}
