/**
 * DomainCheckpoint: checkpoints made, listed and deleted through their handles.
 * Needs a real daemon (the simulator has no checkpoints): libvirt's test driver behind a
 * libvirtd will do. Usage: tsx examples/api-checkpoint.ts [uri] [domain]
 */
// runs on: hosts
import { connect } from 'virtwire';

const [uri = process.env['VIRTWIRE_TEST_URI'] ?? 'test+tcp://127.0.0.1/default', name = 'test'] =
  process.argv.slice(2);
await using conn = await connect(uri);
const dom = await conn.lookupDomain(name);

const ckpt = await dom.checkpointCreateXML(
  '<domaincheckpoint><name>vw-example</name></domaincheckpoint>',
);
console.log(ckpt.name, ckpt.domain.name, (await ckpt.getParent().catch(() => null))?.name);
for (const c of await dom.listAllCheckpoints()) console.log(c.name);
await ckpt.delete();
