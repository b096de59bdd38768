/** The generator's output for small.x (the golden file's input), shared by the tests that need it. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { emitModule } from '../../../src/codegen/emit.js';
import { SymbolTable } from '../../../src/codegen/model.js';
import { parseXdr } from '../../../src/codegen/parser.js';

const dir = import.meta.dirname;

export function generateSmall(): string {
  const spec = parseXdr(readFileSync(join(dir, 'small.x'), 'utf8'), 'small.x');
  // virnet.x gives the message types the procedure table names.
  const virnet = parseXdr(
    readFileSync(join(dir, '../../../protocol/virnet.x'), 'utf8'),
    'virnet.x',
  );
  const symbols = new SymbolTable([
    { id: 'virnet', spec: virnet },
    { id: 'small', spec },
  ]);
  return emitModule({
    module: { id: 'small', spec },
    symbols,
    sourcePath: 'test/unit/codegen/small.x',
    libvirtVersion: 'test',
    program: {
      id: 'small',
      procPrefix: 'SMALL_PROC_',
      structPrefix: 'small_',
      programConst: 'SMALL_PROGRAM',
      versionConst: 'SMALL_PROTOCOL_VERSION',
      procEnum: 'small_procedure',
      annotations: {
        SMALL_PROC_GET_ITEMS: { number: 1, priority: 'high', acl: ['small:read'] },
        SMALL_PROC_PING: { number: 2 },
        SMALL_PROC_EVENT_CHANGED: { number: 3 },
      },
    },
  });
}
