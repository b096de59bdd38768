/**
 * Temporary directories that the tests remove themselves.
 *
 * - `tempDir(prefix)`: called inside a test, the directory goes when that
 *   test finishes; called while a file's tests are being collected (a
 *   describe body, the top level), it goes after that block's tests.
 * - `suiteTempDir(prefix)`: for a describe block whose setup is costly or
 *   may be filtered out (-t): the directory is made in a beforeAll, so not
 *   at all when none of the block's tests run, and removed in its afterAll.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, onTestFinished } from 'vitest';

const make = (prefix: string): string => mkdtempSync(join(tmpdir(), prefix));
const remove = (dir: string): void => rmSync(dir, { recursive: true, force: true });

export function tempDir(prefix: string): string {
  const dir = make(prefix);
  try {
    onTestFinished(() => remove(dir));
  } catch {
    // not inside a test: vitest refuses onTestFinished here, and afterAll is the block's end
    afterAll(() => remove(dir));
  }
  return dir;
}

/** The block's directory: call the returned function from its hooks and tests. */
export function suiteTempDir(prefix: string): () => string {
  let dir: string | null = null;
  beforeAll(() => {
    dir = make(prefix);
  });
  afterAll(() => {
    if (dir !== null) remove(dir);
    dir = null;
  });
  return () => {
    if (dir === null)
      throw new Error(`suiteTempDir(${prefix}) used outside its block's hooks and tests`);
    return dir;
  };
}
