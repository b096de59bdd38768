/**
 * StoragePool and StorageVol: a volume created in a pool, read, written and deleted.
 * Needs a real daemon (the simulator has no storage): libvirt's test driver behind a
 * libvirtd will do. Usage: tsx examples/api-storage.ts [uri] [pool]
 */
// runs on: hosts
import { connect } from 'virtwire';

const [
  uri = process.env['VIRTWIRE_TEST_URI'] ?? 'test+tcp://127.0.0.1/default',
  name = 'default-pool',
] = process.argv.slice(2);
await using conn = await connect(uri);

const pool = await conn.storagePoolLookupByName(name);
console.log(pool.name, pool.uuid, await pool.getInfo()); // { state, capacity, allocation, available }
const vol = await pool.storageVolCreateXML(
  "<volume><name>vw-example.img</name><capacity unit='MiB'>1</capacity></volume>",
);
console.log(vol.name, vol.key, vol.poolName, await vol.getInfo()); // { type, capacity, allocation }
for (const v of await pool.listAllVolumes()) console.log(v.name, await v.getPath());
await vol.delete();
