import { defineConfig } from 'vitest/config';

// Three projects, by what they need from the machine:
// - unit: nothing (no root, no libvirt): codec, RPC, transports against in-process
//   peers, the CLI and the simulator. `npm run test:unit`.
// - integration: real libvirtd hosts started by scripts/test-hosts.sh (root, Debian).
// - e2e: live migrations of a real QEMU guest between two real libvirt hosts.
// Both real-daemon projects share the global setup that starts the hosts.
const realHosts = {
  globalSetup: ['test/helpers/global-setup.ts'],
  // One real guest at a time on a 2-core machine: files run one after another.
  fileParallelism: false,
  // One more attempt for a test that failed against a real daemon: a guest's boot, a QEMU job or
  // an event can be late on a loaded machine, which no unit test has to allow for. A test that
  // passed only on its retry keeps its first error in the JSON report, and CI's summary names it
  // (scripts/lib/vitest-counts.mjs), so a flake is seen and fixed rather than hidden; a test that
  // fails twice fails CI.
  retry: 1,
};

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          sequence: { groupOrder: 0 },
          ...realHosts,
        },
      },
      {
        extends: true,
        // After the integration files: never two real guests' hosts busy at once.
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          sequence: { groupOrder: 1 },
          ...realHosts,
        },
      },
    ],
  },
});
