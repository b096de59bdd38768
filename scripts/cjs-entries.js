// Runs after tsup (npm run build): the CommonJS entry points of the package.
// virtwire is ESM; `require('virtwire')` loads the same ES modules through
// Node's require(esm) (unflagged since 20.19 and 22.12), so a process that
// both imports and requires sees one copy of every class and `instanceof`
// holds across the two. Each .cjs file only hands the ES module over, and its
// .d.cts re-exports the ESM declarations, so the types have one identity too.
import { writeFileSync } from 'node:fs';

for (const name of ['index', 'protocol', 'testing']) {
  writeFileSync(
    new URL(`../dist/${name}.cjs`, import.meta.url),
    `'use strict';\n// require(esm): the ES module itself, so both module systems share its classes.\nmodule.exports = require('./${name}.js');\n`,
  );
  writeFileSync(
    new URL(`../dist/${name}.d.cts`, import.meta.url),
    `export * from './${name}.js';\n`,
  );
}
