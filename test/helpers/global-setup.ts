/**
 * Vitest global setup for tests against real daemons: starts the project's
 * two libvirt hosts (scripts/test-hosts.sh up, which installs what is missing)
 * and hands their addresses to the tests. Stops them afterwards, unless they
 * were already running before the suite started (a developer's hosts).
 */
import type { TestProject } from 'vitest/node';
import { runHarness as harness, parseHarnessEnv } from '../../scripts/lib/harness.js';

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
  project.provide('hosts', parseHarnessEnv(harness('env').stdout));
  return () => {
    if (!wasUp) harness('down');
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    hosts: Record<string, string>;
  }
}
