/**
 * Debian's Chromium, headless, as a test looks at a page: a screenshot of a
 * local file, with every background connection switched off (the machine's
 * network is closed) and a fresh profile. The harness installs the package
 * (scripts/test-hosts.sh).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export const CHROMIUM = process.env.VIRTWIRE_CHROMIUM ?? '/usr/bin/chromium';

/** A PNG screenshot of `file` (an .html or .svg), `width` x `height` pixels. */
export function screenshot(file: string, width = 1200, height = 800): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'vw-chromium-'));
  try {
    const png = join(dir, 'shot.png');
    const r = spawnSync(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--user-data-dir=${join(dir, 'profile')}`,
        `--screenshot=${png}`,
        `--window-size=${width},${height}`,
        pathToFileURL(resolve(file)).href,
      ],
      { encoding: 'utf8', timeout: 90_000 },
    );
    if (r.status !== 0)
      throw new Error(`chromium failed (${r.status ?? r.signal}): ${r.stderr.slice(-2000)}`);
    return readFileSync(png);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
