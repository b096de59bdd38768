/**
 * NodeDevice: the host's devices and their capabilities.
 * Needs a real daemon (the simulator has no devices): libvirt's test driver behind a
 * libvirtd will do. Usage: tsx examples/api-nodedevice.ts [uri]
 */
// runs on: hosts
import { connect } from 'virtwire';

const [uri = process.env['VIRTWIRE_TEST_URI'] ?? 'test+tcp://127.0.0.1/default'] =
  process.argv.slice(2);
await using conn = await connect(uri);

for (const dev of await conn.listAllNodeDevices()) {
  console.log(dev.name, await dev.getParent().catch(() => null), await dev.listCaps());
}
