/**
 * virtwire/testing: an embedded libvirt host for tests and demos. It speaks
 * libvirt's real remote protocol (TCP, unix socket or in-memory) in front of
 * a simulated QEMU host, so code written against `virtwire` runs unchanged.
 *
 * ```ts
 * import { connect } from 'virtwire';
 * import { Simulator } from 'virtwire/testing';
 *
 * await using sim = await Simulator.start({ domains: [{ name: 'vm1', state: 'running' }] });
 * await using conn = await connect(sim.uri, { transport: sim.transport() });
 * ```
 *
 * Simulators migrate guests to the others on their {@link SimNetwork}.
 * Without `network` they all join {@link SimNetwork.default}; a group of
 * simulators that must not meet any other (the same hostnames, tests run in
 * parallel) gets a network of its own:
 *
 * ```ts
 * const network = new SimNetwork();
 * await using a = await Simulator.start({ network, hostname: 'a', domains: [{ name: 'vm1', state: 'running' }] });
 * await using b = await Simulator.start({ network, hostname: 'b' });
 * ```
 *
 * The migrations of one network share its links: each host's
 * `bandwidthMiBps` out and in, split fairly, each migration also held to its
 * own speed limit.
 *
 * A simulator answers as one libvirt release: the newest modelled unless
 * told otherwise. `profile: '9.0'` gives libvirt 9.0's versions, feature
 * answers and procedures (those added later are unknown to it), for code
 * that branches on the daemon's version:
 *
 * ```ts
 * await using old = await Simulator.start({ profile: '9.0' });
 * ```
 *
 * Everything a simulator knows lives in it and in its network: nothing is
 * kept at module level.
 */
export type { SimDomainSnapshot, SimJobSnapshot } from './host.js';
export { SimNetwork } from './network.js';
export { SIM_PROFILES, type SimProfile, type SimProfileName } from './profile.js';
export {
  DEFAULT_LIMITS,
  type SimDomainSpec,
  Simulator,
  type SimulatorLimits,
  type SimulatorOptions,
} from './simulator.js';
