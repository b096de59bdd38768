#!/usr/bin/env node
// The `virtwire` command. Installed from the package, it runs the built CLI
// (dist/cli.js). In a clone of the repository it runs the TypeScript sources
// through tsx, a dev dependency, so `npx virtwire` works right after `npm ci`
// and never runs a dist/ older than the sources.
import { existsSync } from 'node:fs';
import module from 'node:module';

// Node 22.1+ keeps compiled code between runs; on Node 20 this is a no-op.
module.enableCompileCache?.();

const source = new URL('../src/cli/main.ts', import.meta.url);
if (existsSync(source)) {
  let api;
  try {
    api = import.meta.resolve('tsx/esm/api');
  } catch {
    console.error('virtwire: running from the sources needs tsx: npm ci (or npm run build)');
    process.exit(1);
  }
  const { register } = await import(api);
  register();
  await import(source.href);
} else {
  await import('../dist/cli.js');
}
