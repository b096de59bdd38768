/**
 * `npm run coverage:handles`: how much of libvirt's RPC-carried public API the generated
 * handles cover. Prints `N/M functions, K excluded` (M: carried functions that are neither
 * event registration nor excluded) and exits non-zero below 100%, listing what is missing.
 * Options: --protocol DIR (default protocol/), --list (print every excluded function and why).
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type ApiFunctions,
  coverage,
  coverageLine,
  EXCLUDED,
} from '../src/codegen/handle-facts.js';
import { buildMethods } from '../src/codegen/handles.js';
import { loadProtocol } from '../src/codegen/load.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const at = args.indexOf('--protocol');
const dir = at >= 0 && args[at + 1] !== undefined ? resolve(args[at + 1]!) : join(root, 'protocol');
const proto = loadProtocol(dir);
const functions = JSON.parse(readFileSync(join(dir, 'functions.json'), 'utf8')) as ApiFunctions;
const methods = buildMethods({
  functions,
  api: proto.api,
  symbols: proto.symbols,
  annotations: proto.annotations,
  libvirtVersion: proto.version,
});
const c = coverage(functions, new Set(methods.map((m) => m.cName)));
console.log(coverageLine(c));
if (args.includes('--list')) {
  for (const name of c.excluded) console.log(`  excluded ${name}: ${EXCLUDED[name]}`);
}
let failed = false;
if (c.missing.length > 0) {
  console.error(`without a method: ${c.missing.join(', ')}`);
  failed = true;
}
if (c.staleExclusions.length > 0) {
  console.error(`exclusions that name no RPC-carried function: ${c.staleExclusions.join(', ')}`);
  failed = true;
}
process.exitCode = failed ? 1 : 0;
