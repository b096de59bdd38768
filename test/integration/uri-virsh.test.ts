/**
 * The default socket, compared with the machine's own virsh (libvirt-clients,
 * installed by `scripts/test-hosts.sh install`): virsh logs the socket it
 * chose under LIBVIRT_DEBUG=1 before it connects, so no daemon is needed.
 * Session URIs run virsh as an unprivileged user over a runtime directory
 * holding each layout of sockets; the system URIs see this machine's
 * /var/run/libvirt, whatever it holds.
 */
// generations: none, because no daemon answers here: the machine's own virsh is the referee
// for which socket a URI means, and it only logs its choice.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { localSocketPath, parseUri } from '../../src/uri/index.js';
import { tempDir } from '../helpers/tmp.js';

const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;

function virshSocket(uri: string, env: Record<string, string>, readonly = false): string {
  const argv = ['virsh', '-c', uri, ...(readonly ? ['-r'] : []), 'list'];
  // As root, session URIs mean the system daemon; drop to nobody to see the user's choice.
  const cmd =
    asRoot && env.XDG_RUNTIME_DIR
      ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', ...argv]
      : argv;
  const r = spawnSync(cmd[0]!, cmd.slice(1), {
    env: {
      PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
      LIBVIRT_DEBUG: '1',
      LIBVIRT_AUTOSTART: '0',
      ...env,
    },
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (r.error)
    throw new Error(`cannot run ${cmd[0]} (install libvirt-clients): ${r.error.message}`);
  const m = /Chosen UNIX sockname=(\S+)/.exec(r.stderr);
  if (!m) throw new Error(`virsh did not log its socket choice:\n${r.stderr.slice(-2000)}`);
  return m[1]!;
}

describe('the default socket is the one virsh chooses', () => {
  it('virsh is installed', () => {
    expect(execFileSync('virsh', ['--version'], { encoding: 'utf8' })).toMatch(/^\d+\.\d+/);
  });

  it.each([false, true])('qemu:///system (read-only: %s), on this machine as it is', (readonly) => {
    const ours = localSocketPath(parseUri('qemu:///system'), { uid: 0 }, existsSync, { readonly });
    expect(ours.path).toBe(virshSocket('qemu:///system', {}, readonly));
  });

  const layouts: Array<[string, string[]]> = [
    ['no daemon', []],
    ['only the monolithic daemon', ['libvirt-sock']],
    ['only the modular daemons', ['virtqemud-sock']],
    ['both', ['libvirt-sock', 'virtqemud-sock']],
  ];
  it.each(layouts)('qemu:///session with %s', (_label, sockets) => {
    const dir = tempDir('vw-session-');
    const run = join(dir, 'run');
    mkdirSync(join(run, 'libvirt'), { recursive: true });
    // existence is all the client checks; nobody must be able to look
    for (const s of sockets) writeFileSync(join(run, 'libvirt', s), '');
    for (const p of [dir, run, join(run, 'libvirt')]) chmodSync(p, 0o755);
    const uid = asRoot ? NOBODY : process.getuid!();
    const ours = localSocketPath(
      parseUri('qemu:///session'),
      { uid, XDG_RUNTIME_DIR: run },
      existsSync,
      { readonly: false },
    );
    expect(ours.path).toBe(virshSocket('qemu:///session', { XDG_RUNTIME_DIR: run, HOME: dir }));
  });
});
