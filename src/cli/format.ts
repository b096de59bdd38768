/** Small pure formatters of the CLI's renderers; the unit formatters are shared with the library's views. */
export { formatBytes, formatClock, formatDuration, formatLatency, formatRate } from '../format.js';

/**
 * A plain text table with a header row and a dashed rule, byte for byte as virsh draws `list`:
 * every cell but a row's last padded to its column's width, columns three spaces apart after one
 * leading space, and the rule two dashes longer than a row whose every cell is padded.
 */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    ` ${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('   ')}`;
  const full = 1 + widths.reduce((sum, w) => sum + w, 0) + 3 * (widths.length - 1);
  return [line(headers), '-'.repeat(full + 2), ...rows.map(line)].join('\n');
}

/** One node of a `tree()`: its name and its parent's (null, or a name not listed: a root). */
export interface TreeNode {
  readonly name: string;
  readonly parent: string | null;
}

/**
 * virsh's tree layout (`snapshot-list --tree`): each root at the left margin; below a node with
 * children a `|` line, then each child as `+- name`, its own subtree indented under a `|` while
 * siblings follow it; after the last child of a branch that has none, a line of the indentation
 * alone. Roots and children come in the order of `nodes`. Nodes no root leads to (parents in a
 * loop, which no daemon should send) are drawn as roots after the others rather than left out.
 */
export function tree(nodes: readonly TreeNode[]): string {
  const listed = new Set(nodes.map((n) => n.name));
  const children = new Map<string, string[]>();
  const roots: string[] = [];
  for (const n of nodes) {
    if (n.parent === null || !listed.has(n.parent)) roots.push(n.name);
    else children.set(n.parent, [...(children.get(n.parent) ?? []), n.name]);
  }
  const lines: string[] = [];
  const drawn = new Set<string>();
  const draw = (name: string, indent: string, root: boolean, last: boolean): void => {
    drawn.add(name);
    lines.push(root ? `${indent}${name}` : `${indent}+- ${name}`);
    const below = root ? indent : `${indent}${last ? ' ' : '|'} `;
    const kids = (children.get(name) ?? []).filter((k) => !drawn.has(k));
    if (kids.length > 0) lines.push(`${below}  |`);
    kids.forEach((k, i) => draw(k, `${below}  `, false, i === kids.length - 1));
    if (kids.length === 0 && last) lines.push(below);
  };
  for (const r of roots) draw(r, '', true, true);
  for (const n of nodes) if (!drawn.has(n.name)) draw(n.name, '', true, true);
  return lines.join('\n');
}
