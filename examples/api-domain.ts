/**
 * Domain: every virDomain* function whose first argument is a domain is a method of `Domain`.
 * Runs against the simulator (`virtwire/testing`); pass a URI and a domain name to run it
 * against a real daemon.
 */
// runs on: simulator
import { connect } from 'virtwire';
import { Simulator } from 'virtwire/testing';

await using sim = await Simulator.start({ domains: [{ name: 'vm1', state: 'running' }] });
const [uri, name = 'vm1'] = process.argv.slice(2);
await using conn = uri
  ? await connect(uri)
  : await connect(sim.uri, { transport: sim.transport() });

const dom = await conn.lookupDomain(name); // a name or a UUID
console.log(dom.name, dom.uuid, dom.id); // identity, no call
console.log(await dom.getInfo()); // virDomainGetInfo: { state, maxMem, memory, nrVirtCpu, cpuTime }
console.log(await dom.state()); // hand-written: the state and reason by name
await dom.suspend();
await dom.resume();
console.log(await dom.getAutostart(), await dom.getOSType(), await dom.getMaxMemory());
