/**
 * polkit against a real libvirtd (host P of scripts/test-hosts.sh, started here
 * with `up-polkit` and stopped with `down-polkit` if this file started it): its
 * unix sockets demand polkit, checked by a real polkitd on a private D-Bus
 * system bus, whose rule allows the libvirt actions while the file
 * $VIRTWIRE_POLKIT_ALLOW exists and denies them otherwise.
 *
 * libvirtd lets uid 0 through without asking polkit, so the client runs in a
 * child process as the unprivileged user `nobody`; virsh (the C client), run the
 * same way, is the referee for the verdicts.
 */
// generations: 9.0 only, because host P needs a polkitd on a private D-Bus system bus, which
// the machine's own packages provide and the newer generations' roots (no D-Bus, no polkit)
// do not.
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHarness as harness, parseHarnessEnv } from '../../scripts/lib/harness.js';
import { connect } from '../../src/api/connect.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');
const NOBODY = 65534;

const P: Record<string, string> = {};
let startedHere = false;
/** The client bundled into one file nobody can read, wherever this checkout lives (e.g. under /root). */
let bundleDir = '';
let client = '';

beforeAll(async () => {
  bundleDir = mkdtempSync(join(tmpdir(), 'virtwire-polkit-'));
  chmodSync(bundleDir, 0o755);
  client = join(bundleDir, 'client.mjs');
  await build({
    entryPoints: [join(ROOT, 'test/helpers/as-user-client.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: client,
    logLevel: 'error',
  });
  chmodSync(client, 0o644);
  const up = harness('up-polkit');
  if (!up.ok) throw new Error(`could not start the polkit test host:\n${up.out}`);
  startedHere = !/already up/.test(up.out);
  for (const [k, v] of Object.entries(parseHarnessEnv(harness('env-polkit').stdout))) {
    if (k.startsWith('VIRTWIRE_POLKIT_')) P[k] = v;
  }
}, 120_000);

afterAll(() => {
  allow(true);
  if (startedHere) harness('down-polkit');
  if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
});

function allow(yes: boolean): void {
  const f = P.VIRTWIRE_POLKIT_ALLOW;
  if (!f) return;
  if (yes) writeFileSync(f, '');
  else rmSync(f, { force: true });
}

interface ClientResult {
  ok: boolean;
  uid: number;
  auth?: string;
  uri?: string;
  domains?: string[];
  name?: string;
  code?: string | null;
  domain?: string | null;
  message?: string;
}

/** virtwire in a child process running as `nobody`. */
async function asNobody(uri: string, ro = false): Promise<ClientResult> {
  const args = [client, uri];
  if (ro) args.push('ro');
  const { stdout } = await run(process.execPath, args, {
    cwd: bundleDir,
    uid: NOBODY,
    gid: NOBODY,
    env: { PATH: process.env.PATH, HOME: '/nonexistent' },
    timeout: 60_000,
  });
  return JSON.parse(stdout.trim()) as ClientResult;
}

/** virsh as `nobody`: exit code and stderr. */
async function virshAsNobody(uri: string, ro = false): Promise<{ code: number; stderr: string }> {
  const args = ['-q', ...(ro ? ['-r'] : []), '-c', uri, 'list', '--all', '--name'];
  try {
    await run('virsh', args, { uid: NOBODY, gid: NOBODY, timeout: 30_000 });
    return { code: 0, stderr: '' };
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    return { code: e.code ?? -1, stderr: e.stderr ?? '' };
  }
}

describe('polkit on the unix sockets', () => {
  it('the harness gives a polkit host whose policy file switch exists', () => {
    expect(P.VIRTWIRE_POLKIT_UNIX).toMatch(/^test\+unix:\/\/\/default\?socket=\//);
    expect(existsSync(P.VIRTWIRE_POLKIT_ALLOW!)).toBe(true);
  });

  it('an unprivileged client allowed by the policy authenticates with AUTH_POLKIT', async () => {
    allow(true);
    const r = await asNobody(P.VIRTWIRE_POLKIT_UNIX!);
    expect(r).toMatchObject({ ok: true, uid: NOBODY, auth: 'polkit', uri: 'test:///default' });
    expect(r.domains).toContain('test');
    expect((await virshAsNobody(P.VIRTWIRE_POLKIT_UNIX!)).code).toBe(0);
  });

  it('the read-only socket asks polkit too (monitor action)', async () => {
    allow(true);
    const r = await asNobody(P.VIRTWIRE_POLKIT_UNIX_RO!, true);
    expect(r).toMatchObject({ ok: true, uid: NOBODY, auth: 'polkit' });
  });

  it('a client the policy denies gets VIR_ERR_AUTH_FAILED from polkit, as virsh does', async () => {
    allow(false);
    try {
      const r = await asNobody(P.VIRTWIRE_POLKIT_UNIX!);
      expect(r).toMatchObject({
        ok: false,
        uid: NOBODY,
        name: 'RemoteError',
        code: 'VIR_ERR_AUTH_FAILED',
        domain: 'VIR_FROM_POLKIT',
      });
      const ro = await asNobody(P.VIRTWIRE_POLKIT_UNIX_RO!, true);
      expect(ro).toMatchObject({ ok: false, code: 'VIR_ERR_AUTH_FAILED' });
      const referee = await virshAsNobody(P.VIRTWIRE_POLKIT_UNIX!);
      expect(referee.code).not.toBe(0);
      expect(referee.stderr).toContain(r.message);
    } finally {
      allow(true);
    }
  });

  it('root is let through without polkit, as libvirtd does for uid 0', async () => {
    allow(false);
    try {
      await using conn = await connect(P.VIRTWIRE_POLKIT_UNIX!, { timeoutMs: 20_000 });
      expect(conn.auth).toBe('none');
      expect((await conn.listAllDomains()).map((d) => d.name)).toContain('test');
    } finally {
      allow(true);
    }
  });
});
