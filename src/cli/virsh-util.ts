/**
 * What the virsh command tables (virsh-commands.ts, virsh-more.ts) share: the
 * shape of a command's implementation, virsh's `Label:  value` lines and sizes,
 * and looking objects up by name or UUID as virsh does.
 */
import type { Connection, Network, StoragePool } from '../api/handles.js';
import { enumName } from '../api/names.js';
import type { CliContext } from './context.js';

export type Opts = Readonly<Record<string, string | boolean | undefined>>;

/** A command's result: its data (the --json form) and the text virsh would print. */
export interface Output {
  readonly json: unknown;
  readonly text: string;
}

/** One command: `ctx` is there for what goes beside the result (progress on stderr, Ctrl-C). */
export type Impl = (
  conn: Connection,
  args: readonly string[],
  opts: Opts,
  ctx: CliContext,
) => Promise<Output>;

export const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
export const yesNo = (n: number): string => (n ? 'yes' : 'no');

/** `Label:  value` lines, labels padded as virsh pads them. */
export const fields = (rows: ReadonlyArray<readonly [string, string]>, width = 16): string =>
  rows.map(([k, v]) => `${`${k}:`.padEnd(width)}${v}`.trimEnd()).join('\n');

export const arg = (args: readonly string[], i: number): string => args[i] ?? '';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

/** A size in the largest binary unit that keeps it >= 1, with `decimals` digits. */
function scaled(bytes: bigint, decimals: number): string {
  let v = Number(bytes);
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(decimals)} ${UNITS[u]}`;
}

/** A size as virsh prints capacities (pool-info, vol-info): two decimals. */
export const virshSize = (bytes: bigint): string => scaled(bytes, 2);

/** A size as virsh's --human prints it (domblkinfo): three decimals, whole bytes below 1 KiB. */
export const virshHuman = (bytes: bigint): string =>
  bytes < 1024n ? `${bytes} B` : scaled(bytes, 3);

export const lower = (e: Readonly<Record<string, number>>, prefix: string, v: number): string =>
  enumName(e, prefix, v).toLowerCase().replace(/_/g, ' ');

export const network = (c: Connection, n: string): Promise<Network> =>
  UUID.test(n) ? c.networkLookupByUUIDString(n) : c.networkLookupByName(n);
export const pool = (c: Connection, n: string): Promise<StoragePool> =>
  UUID.test(n) ? c.storagePoolLookupByUUIDString(n) : c.storagePoolLookupByName(n);

/**
 * The elements named `tag` in an XML text, each as its own text (no nesting of the same tag):
 * an empty element `<tag .../>`, or `<tag ...>` up to its `</tag>`, whatever empty children
 * (`<mac .../>`) it holds.
 */
export function elements(xml: string, tag: string): string[] {
  return xml.match(new RegExp(`<${tag}\\b(?:[^>]*/>|[^>]*>[\\s\\S]*?</${tag}>)`, 'g')) ?? [];
}
export const attr = (el: string, child: string, name: string): string | undefined =>
  new RegExp(`<${child}\\b[^>]*\\b${name}=(["'])(.*?)\\1`).exec(el)?.[2];
