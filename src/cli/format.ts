/** Small pure formatters of the CLI's renderers; the unit formatters are shared with the library's views. */
export { formatBytes, formatClock, formatDuration, formatLatency, formatRate } from '../format.js';

/** A plain text table with a header row and a dashed rule, as virsh draws `list`. */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    ` ${cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('   ')}`.trimEnd();
  const head = line(headers);
  const rule = '-'.repeat(Math.max(head.length + 1, 4));
  return [head, rule, ...rows.map(line)].join('\n');
}
