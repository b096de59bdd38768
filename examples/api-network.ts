/**
 * Network and NetworkPort: a network looked up, its bridge and leases read, its ports listed.
 * Needs a real daemon (the simulator has no networks): libvirt's test driver behind a
 * libvirtd will do. Usage: tsx examples/api-network.ts [uri] [network]
 */
// runs on: hosts
import { connect, isNoSupport } from 'virtwire';

const [uri = process.env['VIRTWIRE_TEST_URI'] ?? 'test+tcp://127.0.0.1/default', name = 'default'] =
  process.argv.slice(2);
await using conn = await connect(uri);

const net = await conn.networkLookupByName(name);
console.log(net.name, net.uuid, await net.getBridgeName(), await net.isActive());
try {
  console.log(await net.getDHCPLeases(null)); // every lease, as objects
  for (const port of await net.listAllPorts()) console.log(port.uuid, await port.getParameters());
} catch (err) {
  if (!isNoSupport(err)) throw err;
  console.log('leases and ports: not kept by this driver'); // libvirt's test driver, for one
}
