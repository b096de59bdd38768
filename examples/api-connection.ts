/**
 * Connection: the connect, host and node functions of libvirt as methods of the connection.
 * Runs against the simulator (`virtwire/testing`); pass a URI to run it against a real daemon.
 */
// runs on: simulator
import { connect } from 'virtwire';
import { Simulator } from 'virtwire/testing';

await using sim = await Simulator.start({ domains: [{ name: 'vm1', state: 'running' }] });
const uri = process.argv[2];
await using conn = uri
  ? await connect(uri)
  : await connect(sim.uri, { transport: sim.transport() });

console.log(await conn.getHostname(), await conn.getLibVersion()); // virConnectGetHostname, virConnectGetLibVersion
console.log(await conn.nodeGetInfo()); // { model, memory, cpus, mhz, nodes, sockets, cores, threads }
for (const d of await conn.listAllDomains()) console.log(d.name, d.uuid, d.id);
