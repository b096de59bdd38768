/**
 * A very small SVG (and HTML) emitter: elements as plain trees, serialised
 * with escaping. Written here rather than taken from a library: the chart
 * needs a dozen element kinds and no layout engine, and a tree of plain
 * objects is also what the tests inspect.
 */

export interface SvgNode {
  readonly tag: string;
  readonly attrs: Readonly<Record<string, string | number>>;
  readonly children: ReadonlyArray<SvgNode | string>;
}

/** An element; `undefined` and `false` children are left out (for optional parts). */
export function el(
  tag: string,
  attrs: Readonly<Record<string, string | number | undefined>> = {},
  ...children: ReadonlyArray<SvgNode | string | undefined | false>
): SvgNode {
  const a: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) a[k] = v;
  return {
    tag,
    attrs: a,
    children: children.filter((c): c is SvgNode | string => c !== undefined && c !== false),
  };
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** Coordinates with at most two decimals: smaller files, same picture. */
export function num(n: number): string {
  if (!Number.isFinite(n)) return '0';
  const r = Math.round(n * 100) / 100;
  return Object.is(r, -0) ? '0' : String(r);
}

/** The element as markup. Text children are escaped; attribute values too. */
export function render(node: SvgNode | string, indent = ''): string {
  if (typeof node === 'string') return escapeXml(node);
  const attrs = Object.entries(node.attrs)
    .map(([k, v]) => ` ${k}="${escapeXml(typeof v === 'number' ? num(v) : v)}"`)
    .join('');
  if (node.children.length === 0) return `${indent}<${node.tag}${attrs}/>`;
  // Elements holding text stay on one line, so that whitespace does not change the text.
  if (node.children.every((c) => typeof c === 'string')) {
    return `${indent}<${node.tag}${attrs}>${node.children.map((c) => render(c)).join('')}</${node.tag}>`;
  }
  const inner = node.children
    .map((c) => (typeof c === 'string' ? `${indent}  ${escapeXml(c)}` : render(c, `${indent}  `)))
    .join('\n');
  return `${indent}<${node.tag}${attrs}>\n${inner}\n${indent}</${node.tag}>`;
}

/** Every element of the tree, depth first (for tests and for finding parts). */
export function* walk(node: SvgNode): Generator<SvgNode> {
  yield node;
  for (const c of node.children) if (typeof c !== 'string') yield* walk(c);
}

/** The text of an element and its descendants. */
export function textOf(node: SvgNode): string {
  return node.children.map((c) => (typeof c === 'string' ? c : textOf(c))).join('');
}

/** An SVG path through points, as straight segments (`M x y L x y ...`). */
export function pathOf(points: ReadonlyArray<readonly [number, number]>): string {
  return points.map(([x, y], i) => `${i ? 'L' : 'M'}${num(x)} ${num(y)}`).join(' ');
}
