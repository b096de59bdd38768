/**
 * Time and peak memory of one hostile scenario: the process's heap,
 * external (ArrayBuffers, Buffers) and RSS, sampled every few milliseconds
 * and once more at the end, as deltas from a baseline taken after a full
 * garbage collection. Peaks are what a hostile peer made this process hold;
 * `retained*` is what is still held after the scenario and another GC.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** A full GC when the runtime allows one (exposed at run time, so no node flag is needed). */
export const collectGarbage: () => void = (() => {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return () => {};
  }
})();

export interface Measurement<T> {
  readonly value: T;
  readonly ms: number;
  /** Largest growth seen, bytes. */
  readonly peakHeap: number;
  readonly peakExternal: number;
  readonly peakRss: number;
  /** Growth still held after the scenario and a GC, bytes. */
  readonly retainedHeap: number;
  readonly retainedExternal: number;
}

interface Sample {
  heap: number;
  external: number;
  rss: number;
}

const sample = (): Sample => {
  const m = process.memoryUsage();
  return { heap: m.heapUsed, external: m.external, rss: m.rss };
};

/**
 * Runs `fn`, sampling memory every `everyMs` (default 5) while it runs; the
 * scenario's own synchronous stretches are caught by the final sample.
 */
export async function measure<T>(fn: () => Promise<T>, everyMs = 5): Promise<Measurement<T>> {
  collectGarbage();
  const base = sample();
  const peak = { ...base };
  const take = (): void => {
    const s = sample();
    if (s.heap > peak.heap) peak.heap = s.heap;
    if (s.external > peak.external) peak.external = s.external;
    if (s.rss > peak.rss) peak.rss = s.rss;
  };
  const timer = setInterval(take, everyMs);
  const t0 = performance.now();
  let value: T;
  try {
    value = await fn();
  } finally {
    clearInterval(timer);
    take();
  }
  const ms = performance.now() - t0;
  collectGarbage();
  const after = sample();
  return {
    value,
    ms,
    peakHeap: Math.max(0, peak.heap - base.heap),
    peakExternal: Math.max(0, peak.external - base.external),
    peakRss: Math.max(0, peak.rss - base.rss),
    retainedHeap: after.heap - base.heap,
    retainedExternal: after.external - base.external,
  };
}

export const MiB = 1024 * 1024;
