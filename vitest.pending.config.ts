import { defineConfig } from 'vitest/config';

/**
 * The hostile-peer scenarios still waiting for an RPC-client fix (issue 19):
 * `npm run test:hostile-pending`. They fail today by design, so they stay out
 * of vitest.config.ts (and `npm test`); when a fix lands, its scenarios lose
 * their `waitsFor` and join test/unit/hostile.
 */
export default defineConfig({
  test: {
    name: 'hostile-pending',
    include: ['test/hostile-pending/**/*.test.ts'],
    testTimeout: 120_000,
    // Memory is measured per process: one scenario file at a time.
    fileParallelism: false,
  },
});
