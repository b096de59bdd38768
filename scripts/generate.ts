/**
 * `npm run generate`: protocol/*.x + protocol/procedures.json + protocol/api.json
 * -> src/generated/*.ts. Deterministic: same inputs, same bytes.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ApiFacts, emitApi } from '../src/codegen/api.js';
import { emitModule, type ProcedureAnnotations, type ProgramSpec } from '../src/codegen/emit.js';
import { type Module, SymbolTable } from '../src/codegen/model.js';
import { parseXdr } from '../src/codegen/parser.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = args[i + 1];
  if (v === undefined) throw new Error(`${name} needs a directory`);
  return resolve(v);
};
const protoDir = option('--protocol', join(root, 'protocol'));
const outDir = option('--out', join(root, 'src/generated'));

const source = readFileSync(join(protoDir, 'SOURCE'), 'utf8');
const version = /^libvirt (\S+)/m.exec(source)?.[1];
if (!version) throw new Error('protocol/SOURCE does not name a libvirt version');
const annotations = JSON.parse(readFileSync(join(protoDir, 'procedures.json'), 'utf8')) as Record<
  string,
  Record<string, ProcedureAnnotations>
>;
const api = JSON.parse(readFileSync(join(protoDir, 'api.json'), 'utf8')) as ApiFacts;

// Order matters only for readability; references resolve across all modules.
const files = ['virnet', 'keepalive', 'remote', 'qemu', 'lxc', 'admin'] as const;
const modules: Module[] = files.map((id) => ({
  id,
  spec: parseXdr(readFileSync(join(protoDir, `${id}.x`), 'utf8'), `protocol/${id}.x`),
}));

// Constants from libvirt's C headers that .x files use (e.g. VIR_TYPED_PARAM_INT as case labels).
const external = new Map<string, number>();
for (const e of Object.values(api.enums)) {
  for (const [k, v] of Object.entries(e.members)) external.set(k, v);
}
for (const [k, v] of Object.entries(api.constants)) external.set(k, v);
const symbols = new SymbolTable(modules, external);

const programs: Record<string, Omit<ProgramSpec, 'annotations'>> = {
  keepalive: {
    id: 'keepalive',
    procPrefix: 'KEEPALIVE_PROC_',
    structPrefix: 'keepalive_',
    programConst: 'KEEPALIVE_PROGRAM',
    versionConst: 'KEEPALIVE_PROTOCOL_VERSION',
    procEnum: 'keepalive_procedure',
  },
  remote: {
    id: 'remote',
    procPrefix: 'REMOTE_PROC_',
    structPrefix: 'remote_',
    programConst: 'REMOTE_PROGRAM',
    versionConst: 'REMOTE_PROTOCOL_VERSION',
    procEnum: 'remote_procedure',
  },
  qemu: {
    id: 'qemu',
    procPrefix: 'QEMU_PROC_',
    structPrefix: 'qemu_',
    programConst: 'QEMU_PROGRAM',
    versionConst: 'QEMU_PROTOCOL_VERSION',
    procEnum: 'qemu_procedure',
  },
  lxc: {
    id: 'lxc',
    procPrefix: 'LXC_PROC_',
    structPrefix: 'lxc_',
    programConst: 'LXC_PROGRAM',
    versionConst: 'LXC_PROTOCOL_VERSION',
    procEnum: 'lxc_procedure',
  },
  admin: {
    id: 'admin',
    procPrefix: 'ADMIN_PROC_',
    structPrefix: 'admin_',
    programConst: 'ADMIN_PROGRAM',
    versionConst: 'ADMIN_PROTOCOL_VERSION',
    procEnum: 'admin_procedure',
  },
};

mkdirSync(outDir, { recursive: true });
const written: string[] = [];
for (const m of modules) {
  const p = programs[m.id];
  const program = p ? { ...p, annotations: annotations[m.id] ?? {} } : undefined;
  const code = emitModule({
    module: m,
    symbols,
    sourcePath: `protocol/${m.id}.x`,
    libvirtVersion: version,
    ...(program ? { program } : {}),
  });
  writeFileSync(join(outDir, `${m.id}.ts`), code);
  written.push(`${m.id}.ts`);
}
writeFileSync(join(outDir, 'api.ts'), emitApi(api, version));
written.push('api.ts');
console.log(
  `generated ${written.map((f) => `src/generated/${f}`).join(', ')} from libvirt ${version}`,
);
