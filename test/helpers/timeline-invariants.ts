/**
 * What must hold of every recorded migration timeline, real or simulated,
 * at any moment of the migration (any prefix of it) and after thinning:
 * - time never goes backwards;
 * - percent never goes down within a phase (a pre-copy pass, or post-copy):
 *   QEMU's remaining memory only grows at a dirty-bitmap sync, which starts
 *   the next pass;
 * - remaining memory is never above the total, percent stays within 0-100;
 * - no ETA before it is computable: in pre-copy only from the second pass
 *   (a measured dirty rate) and only when converging; in post-copy only
 *   from a measured post-copy rate; never a dirty rate in the first pass;
 * - once the switch to post-copy was asked for (and took effect), no sample
 *   says pre-copy;
 * - at most one end, and it is the last record.
 * Returns the violations found, each naming the record (empty when none).
 */
import type { ProgressRecord, TimelineRecord } from '../../src/api/migration/index.js';

export function timelineViolations(records: readonly TimelineRecord[]): string[] {
  const bad: string[] = [];
  let lastT = Number.NEGATIVE_INFINITY;
  let prev: ProgressRecord | null = null;
  let switched = false;
  let ends = 0;
  const sw = records.find((r) => r.type === 'switch' && r.ok);
  const switchAt = sw?.type === 'switch' ? (sw.requestedT ?? sw.t) : Number.POSITIVE_INFINITY;
  records.forEach((r, i) => {
    const at = `record ${i} (${r.type} at t=${Math.round(r.t)})`;
    if (r.t < lastT) bad.push(`${at}: time went backwards from ${lastT}`);
    lastT = Math.max(lastT, r.t);
    if (ends > 0) bad.push(`${at}: after the end record`);
    if (r.type === 'end') ends++;
    if (r.type === 'switch' && r.ok) switched = true;
    if (r.type !== 'progress') return;
    if (r.memoryRemaining !== null && r.memoryTotal !== null && r.memoryRemaining > r.memoryTotal)
      bad.push(`${at}: remaining ${r.memoryRemaining} above the total ${r.memoryTotal}`);
    if (r.percent !== null && (r.percent < 0 || r.percent > 100))
      bad.push(`${at}: percent ${r.percent} outside 0-100`);
    if ((switched || r.t > switchAt) && r.phase === 'precopy')
      bad.push(`${at}: a pre-copy sample after the switch`);
    if (r.phase === 'precopy' && (r.iteration ?? 0) < 2 && r.dirtyBps !== null)
      bad.push(`${at}: a dirty rate during the first pass`);
    if (r.etaMs !== null && r.memoryRemaining !== 0) {
      if (r.phase === 'precopy' && (r.dirtyBps === null || r.converging !== true))
        bad.push(`${at}: an ETA in pre-copy without a measured dirty rate and convergence`);
      if (r.rateBps === null) bad.push(`${at}: an ETA without a rate`);
      if (r.phase === 'postcopy' && (prev === null || prev.phase !== 'postcopy'))
        bad.push(`${at}: an ETA on the first post-copy sample (no post-copy rate measured yet)`);
    }
    if (
      prev &&
      prev.phase === r.phase &&
      prev.iteration === r.iteration &&
      prev.percent !== null &&
      r.percent !== null &&
      r.percent < prev.percent - 1e-9
    ) {
      bad.push(
        `${at}: percent fell from ${prev.percent} to ${r.percent} within ${r.phase} pass ${r.iteration}`,
      );
    }
    prev = r;
  });
  return bad;
}
