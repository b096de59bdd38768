import { defineConfig } from 'tsup';

/**
 * ESM only; scripts/cjs-entries.js then adds the CommonJS entry points, which
 * load these same modules through require(esm).
 *
 * No source maps: they were two thirds of the tarball, and the JS is not
 * minified, so stack traces into dist/ read as the sources do.
 */
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    protocol: 'src/protocol.ts',
    testing: 'src/testing/index.ts',
    cli: 'src/cli/main.ts',
  },
  format: ['esm'],
  // the CLI is a program, not an API: no declarations for it
  dts: {
    entry: { index: 'src/index.ts', protocol: 'src/protocol.ts', testing: 'src/testing/index.ts' },
  },
  sourcemap: false,
  clean: true,
  target: 'node20',
  splitting: true,
  treeshake: true,
});
