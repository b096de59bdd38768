import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiFacts } from './api.js';
import type { ProcedureAnnotations, ProgramSpec } from './emit.js';
import { type Module, SymbolTable } from './model.js';
import { parseXdr } from './parser.js';

/** The .x files of protocol/, in the order they are emitted. */
export const PROTOCOL_FILES = ['virnet', 'keepalive', 'remote', 'qemu', 'lxc', 'admin'] as const;

/** How each RPC program names its procedures, argument structs, number and version. */
export const PROGRAMS: Readonly<Record<string, Omit<ProgramSpec, 'annotations'>>> =
  Object.fromEntries(
    (['keepalive', 'remote', 'qemu', 'lxc', 'admin'] as const).map((id) => {
      const up = id.toUpperCase();
      return [
        id,
        {
          id,
          procPrefix: `${up}_PROC_`,
          structPrefix: `${id}_`,
          programConst: `${up}_PROGRAM`,
          versionConst: `${up}_PROTOCOL_VERSION`,
          procEnum: `${id}_procedure`,
          // PING and PONG travel as MESSAGE: neither side answers them with a REPLY.
          ...(id === 'keepalive' ? { oneWay: true } : {}),
        },
      ];
    }),
  );

export interface Protocol {
  readonly version: string;
  readonly modules: readonly Module[];
  readonly symbols: SymbolTable;
  readonly api: ApiFacts;
  readonly annotations: Readonly<Record<string, Readonly<Record<string, ProcedureAnnotations>>>>;
}

/** Reads and parses everything under protocol/ (or another directory of the same layout). */
export function loadProtocol(dir: string): Protocol {
  const source = readFileSync(join(dir, 'SOURCE'), 'utf8');
  const version = /^libvirt (\S+)/m.exec(source)?.[1];
  if (!version) throw new Error(`${dir}/SOURCE does not name a libvirt version`);
  const annotations = JSON.parse(
    readFileSync(join(dir, 'procedures.json'), 'utf8'),
  ) as Protocol['annotations'];
  const api = JSON.parse(readFileSync(join(dir, 'api.json'), 'utf8')) as ApiFacts;
  const modules: Module[] = PROTOCOL_FILES.map((id) => ({
    id,
    spec: parseXdr(readFileSync(join(dir, `${id}.x`), 'utf8'), `protocol/${id}.x`),
  }));
  // Constants from libvirt's C headers that .x files use (e.g. VIR_TYPED_PARAM_INT as case labels).
  const external = new Map<string, number>();
  for (const e of Object.values(api.enums)) {
    for (const [k, v] of Object.entries(e.members)) external.set(k, v);
  }
  for (const [k, v] of Object.entries(api.constants)) external.set(k, v);
  return { version, modules, symbols: new SymbolTable(modules, external), api, annotations };
}
