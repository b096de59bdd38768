/**
 * Vitest global setup for tests against real daemons: starts the project's
 * two libvirt hosts (scripts/test-hosts.sh up, which installs what is missing)
 * and hands their addresses to the tests. Stops them afterwards, unless they
 * were already running before the suite started (a developer's hosts).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

const HARNESS = join(import.meta.dirname, '../../scripts/test-hosts.sh');

function harness(cmd: string): { ok: boolean; out: string } {
  const r = spawnSync('bash', [HARNESS, cmd], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

export default function setup(project: TestProject): () => void {
  const wasUp = harness('status').ok;
  if (!wasUp) {
    const up = harness('up');
    if (!up.ok) {
      throw new Error(
        `could not start the real libvirt test hosts. These tests need root, Debian's libvirt-daemon, ` +
          `libvirt-daemon-driver-qemu and qemu-system-x86 (run: sudo bash scripts/test-hosts.sh install), ` +
          `then: bash scripts/test-hosts.sh up\n${up.out}`,
      );
    }
  }
  const env: Record<string, string> = {};
  for (const line of harness('env').out.split('\n')) {
    const m = /^(VIRTWIRE_[A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) env[m[1]!] = m[2]!.replace(/^'(.*)'$/, '$1');
  }
  project.provide('hosts', env);
  return () => {
    if (!wasUp) harness('down');
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    hosts: Record<string, string>;
  }
}
