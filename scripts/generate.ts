/**
 * `npm run generate`: protocol/*.x + protocol/procedures.json + protocol/api.json
 * -> src/generated/*.ts. Deterministic: the same inputs give the same bytes.
 * Options: --protocol DIR (default protocol/), --out DIR (default src/generated/).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { emitApi } from '../src/codegen/api.js';
import { emitModule } from '../src/codegen/emit.js';
import { emitEventNames, emitEvents } from '../src/codegen/events.js';
import type { ApiFunctions } from '../src/codegen/handle-facts.js';
import { emitHandleMeta } from '../src/codegen/handle-meta.js';
import { emitHandles } from '../src/codegen/handles.js';
import { loadProtocol, PROGRAMS } from '../src/codegen/load.js';
import { emitProcedureApis } from '../src/codegen/procedure-apis.js';
import { emitXdrTypes } from '../src/codegen/xdr-types.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = args[i + 1];
  if (v === undefined) throw new Error(`${name} needs a directory`);
  return resolve(v);
};
const outDir = option('--out', join(root, 'src/generated'));
const proto = loadProtocol(option('--protocol', join(root, 'protocol')));

mkdirSync(outDir, { recursive: true });
const written: string[] = [];
for (const m of proto.modules) {
  const p = PROGRAMS[m.id];
  const code = emitModule({
    module: m,
    symbols: proto.symbols,
    sourcePath: `protocol/${m.id}.x`,
    libvirtVersion: proto.version,
    ...(p ? { program: { ...p, annotations: proto.annotations[m.id] ?? {} } } : {}),
  });
  writeFileSync(join(outDir, `${m.id}.ts`), code);
  written.push(`${m.id}.ts`);
}
writeFileSync(join(outDir, 'api.ts'), emitApi(proto.api, proto.version));
written.push('api.ts');
writeFileSync(join(outDir, 'events.ts'), emitEvents(proto));
written.push('events.ts');
const protocolDir = option('--protocol', join(root, 'protocol'));
const functions = JSON.parse(
  readFileSync(join(protocolDir, 'functions.json'), 'utf8'),
) as ApiFunctions;
const handles = emitHandles({
  functions,
  api: proto.api,
  symbols: proto.symbols,
  annotations: proto.annotations,
  libvirtVersion: proto.version,
});
writeFileSync(join(outDir, 'handles.ts'), handles.code);
written.push('handles.ts');
writeFileSync(join(outDir, 'handle-methods.ts'), emitHandleMeta(handles.methods, proto.version));
written.push('handle-methods.ts');
writeFileSync(
  join(outDir, 'procedure-apis.ts'),
  emitProcedureApis(functions, proto.annotations, proto.version),
);
written.push('procedure-apis.ts');
writeFileSync(join(outDir, 'event-names.ts'), emitEventNames(proto));
written.push('event-names.ts');
writeFileSync(
  join(outDir, 'xdr-types.ts'),
  emitXdrTypes(proto.modules, proto.symbols, proto.version),
);
written.push('xdr-types.ts');
console.log(`generated ${written.join(', ')} in ${outDir} from libvirt ${proto.version}`);
