/**
 * DomainSnapshot: snapshots made, listed, reverted to and deleted through their handles.
 * Needs a real daemon (the simulator has no snapshots): libvirt's test driver behind a
 * libvirtd will do. Usage: tsx examples/api-snapshot.ts [uri] [domain]
 */
// runs on: hosts
import { connect } from 'virtwire';

const [uri = process.env['VIRTWIRE_TEST_URI'] ?? 'test+tcp://127.0.0.1/default', name = 'test'] =
  process.argv.slice(2);
await using conn = await connect(uri);
const dom = await conn.lookupDomain(name);

const snap = await dom.snapshotCreateXML(
  '<domainsnapshot><name>vw-example</name></domainsnapshot>',
);
for (const s of await dom.listAllSnapshots())
  console.log(s.name, s.domain.name, await s.isCurrent());
await snap.domainRevertToSnapshot(); // virDomainRevertToSnapshot: its first argument is the snapshot
await snap.delete();
