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
 */
export type { SimDomainSnapshot, SimJobSnapshot } from './host.js';
export {
  DEFAULT_LIMITS,
  type SimDomainSpec,
  Simulator,
  type SimulatorLimits,
  type SimulatorOptions,
} from './simulator.js';
