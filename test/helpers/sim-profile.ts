/** The simulator's version profile that models a libvirt generation of the test hosts. */
import { SIM_PROFILES, type SimProfileName } from '../../src/testing/index.js';
import type { Generation } from './hosts.js';

/** The profile with the generation's libvirt major and minor; an error names a missing one. */
export function profileOf(gen: Generation): SimProfileName {
  const minor = gen.libVer / 1000n;
  const name = (Object.keys(SIM_PROFILES) as SimProfileName[]).find(
    (p) => SIM_PROFILES[p].libVersion / 1000n === minor,
  );
  if (!name) {
    throw new Error(
      `no simulator profile models libvirt ${gen.libvirt} (${gen.label}): add one to src/testing/profile.ts`,
    );
  }
  return name;
}
