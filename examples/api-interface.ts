/**
 * Interface: the host's network interfaces.
 * Needs a real daemon (the simulator has no interfaces): libvirt's test driver behind a
 * libvirtd will do. Usage: tsx examples/api-interface.ts [uri]
 */
// runs on: hosts
import { connect } from 'virtwire';

const [uri = process.env['VIRTWIRE_TEST_URI'] ?? 'test+tcp://127.0.0.1/default'] =
  process.argv.slice(2);
await using conn = await connect(uri);

for (const i of await conn.listAllInterfaces()) console.log(i.name, i.mac, await i.isActive());
