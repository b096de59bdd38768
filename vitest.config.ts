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
