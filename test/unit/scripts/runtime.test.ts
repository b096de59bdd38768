/**
 * Which JavaScript runtime runs these tests. scripts/runtimes.sh runs the unit
 * suite under each supported runtime with VIRTWIRE_EXPECT_RUNTIME set; this
 * test makes sure the suite did run inside that runtime (a test runner that
 * quietly fell back to another runtime's workers would prove nothing).
 */
import { describe, expect, it } from 'vitest';
import { currentRuntime } from '../../helpers/runtime.js';

describe('the runtime under test', () => {
  it('is a supported one, and the one the matrix asked for', () => {
    const rt = currentRuntime();
    expect(rt).toMatch(/^(node(20|22|24|26)|bun|deno)$/);
    const expected = process.env['VIRTWIRE_EXPECT_RUNTIME'];
    if (expected !== undefined) expect(rt).toBe(expected);
  });
});
