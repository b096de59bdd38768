/**
 * vol-download as a person sees it in a real terminal (tmux) against the
 * first real host: the progress line redrawn in place on stderr with the
 * cursor hidden, the result on stdout at the end, and Ctrl-C aborting the
 * transfer with exit 130 and the cursor shown again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Connection, connect } from '../../src/index.js';
import { generations, hostOf } from '../helpers/hosts.js';
import { TmuxSession } from '../helpers/tmux.js';
import { cliEnv, MAIN, ROOT } from '../unit/cli/run-cli.js';

const gen = generations({
  only: ['bookworm'],
  because: "it tests the CLI's own display in a terminal, which no daemon generation changes",
})[0]!;
const uri = (): string => hostOf(gen, 0, 'TCP');
const CLI = [process.execPath, '--import', 'tsx', MAIN];
const POOL = `vw-cli-tmux-${process.pid}`;
const GiB = 1024 ** 3;
let conn: Connection;
let poolDir = '';
const sessions: TmuxSession[] = [];

function term(args: readonly string[]): TmuxSession {
  const clean = Object.fromEntries(
    Object.entries(cliEnv()).filter(([k, v]) => v !== undefined && /^(PATH|HOME|TMPDIR)$/.test(k)),
  ) as Record<string, string>;
  const t = new TmuxSession([...CLI, '-c', uri(), ...args], {
    cols: 100,
    rows: 20,
    cwd: ROOT,
    env: clean,
  });
  sessions.push(t);
  return t.watch(100);
}

/** The progress lines seen on screen, in order, without repeats. */
function progressLines(frames: readonly string[]): string[] {
  const seen: string[] = [];
  for (const f of frames)
    for (const l of f.split('\n'))
      if (l.startsWith('vol-download [') && seen.at(-1) !== l) seen.push(l);
  return seen;
}
const percent = (l: string): number => Number(/(\d+\.\d)%/.exec(l)![1]);

beforeAll(async () => {
  conn = await connect(uri());
  poolDir = mkdtempSync('/tmp/vw-cli-tmux-pool-');
  const p = await conn.storagePoolDefineXML(
    `<pool type='dir'><name>${POOL}</name><target><path>${poolDir}</path></target></pool>`,
  );
  await p.create();
  // sparse files on the host: nothing is written to disk, the daemon reads zeros
  for (const [name, size] of [
    ['one.raw', GiB],
    ['big.raw', 16 * GiB],
  ] as const)
    await p.storageVolCreateXML(
      `<volume><name>${name}</name><capacity unit='bytes'>${size}</capacity><allocation>0</allocation><target><format type='raw'/></target></volume>`,
    );
}, 60_000);
afterEach(() => {
  for (const t of sessions.splice(0)) t.close();
});
afterAll(async () => {
  if (conn) {
    const p = await conn.storagePoolLookupByName(POOL).catch(() => null);
    if (p) {
      for (const v of await p.listAllVolumes().catch(() => [])) await v.delete().catch(() => {});
      await p.destroy().catch(() => {});
      await p.undefine().catch(() => {});
    }
    await conn.close();
  }
  if (poolDir) rmSync(poolDir, { recursive: true, force: true });
});

describe(`vol-download in a terminal (${gen.label})`, () => {
  it('redraws one progress line in place up to 100%, then prints the result', async () => {
    const t = term(['vol-download', '--pool', POOL, 'one.raw', '/dev/null']);
    expect(await t.exit()).toBe(0);
    const lines = progressLines(t.frames);
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l.length).toBeLessThan(100);
    for (let i = 1; i < lines.length; i++)
      expect(percent(lines[i]!)).toBeGreaterThanOrEqual(percent(lines[i - 1]!));
    const screen = t.history(true);
    expect(screen).toMatch(/vol-download \[#+\] 100\.0% {2}1\.0 GiB of 1\.0 GiB {2}\S+ \S+\/s/);
    expect(screen).toContain("Downloaded 1.0 GiB from volume 'one.raw' to /dev/null");
    // one line redrawn: no two progress lines stacked on the final screen
    expect(screen.split('\n').filter((l) => l.startsWith('vol-download ['))).toHaveLength(1);
    expect(t.cursorWasHidden).toBe(true);
    expect(t.cursorVisible).toBe(true);
  }, 120_000);

  it('Ctrl-C aborts the transfer: exit 130, the cursor shown, the daemon still answering', async () => {
    const t = term(['vol-download', '--pool', POOL, 'big.raw', '/dev/null']);
    await t.waitFor((s) => /vol-download \[[#.]+\]\s+\d+\.\d%/.test(s), 'the progress line');
    t.keys('C-c');
    expect(await t.exit(30_000)).toBe(130);
    const screen = t.history(true);
    expect(screen).toContain('error: vol-download interrupted; the transfer was aborted');
    expect(screen).not.toContain('Downloaded');
    const last = progressLines(t.frames).at(-1)!;
    expect(percent(last)).toBeLessThan(100);
    expect(t.cursorVisible).toBe(true);
    // the aborted stream left the daemon fine: the volume is there and answers
    const v = await (await conn.storagePoolLookupByName(POOL)).storageVolLookupByName('big.raw');
    expect((await v.getInfo()).capacity).toBe(BigInt(16 * GiB));
  }, 120_000);
});
