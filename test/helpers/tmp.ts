/**
 * Temporary directories that the tests remove themselves. Called inside a
 * test, the directory goes when that test finishes; called while a file's
 * tests are being collected (a describe body, the top level), it goes when
 * the file's tests are done.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, onTestFinished } from 'vitest';

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    onTestFinished(remove);
  } catch {
    // not inside a test: vitest refuses onTestFinished here, afterAll is the file's end
    afterAll(remove);
  }
  return dir;
}
