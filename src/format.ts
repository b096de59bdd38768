/**
 * Sizes, rates and durations for people, shared by the CLI and the migration
 * timeline's views (summary, chart). Sizes are binary (KiB, MiB, GiB) as
 * libvirt and virsh report them.
 */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** `1536` -> `1.5 KiB`; whole bytes below 1 KiB; one decimal above, none from 100 up. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return '?';
  let v = Math.abs(n);
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  const sign = n < 0 ? '-' : '';
  if (u === 0) return `${sign}${Math.round(v)} B`;
  // 1023.96 MiB would print as "1024.0 MiB": round first, then choose the precision.
  const digits = v >= 99.95 ? 0 : 1;
  return `${sign}${v.toFixed(digits)} ${UNITS[u]}`;
}

/** Bytes per second as `12.3 MiB/s`. */
export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

/**
 * A duration for humans: `850 ms`, `4.2 s`, `1:05` (m:ss), `1:02:03` (h:mm:ss).
 * Below ten seconds milliseconds matter (downtime, switch latency).
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** A clock for progress lines: always m:ss (or h:mm:ss), so the line does not jump. */
export function formatClock(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-:--';
  const total = Math.floor(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** A short latency: `1.8 ms`, `0.42 ms`; from 10 ms on as formatDuration. */
export function formatLatency(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  return formatDuration(ms);
}
