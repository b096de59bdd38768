// The README's short tour: look up a guest, read its state, list guests, call
// a procedure by its typed method, and tell a missing guest by its class.
// runs on: simulator, hosts
import { connect, isNoDomain } from 'virtwire';

const uri = process.env['VIRTWIRE_URI'] ?? 'qemu:///system';
const name = process.env['VIRTWIRE_DOMAIN'] ?? 'vm1';

await using conn = await connect(uri);

// libvirt's API as handles: every function of every object type (docs/api.md)
const dom = await conn.lookupDomain(name); // a name or a UUID
console.log(dom.name, dom.uuid, dom.id);
console.log(await dom.state()); // { state: 'paused', reason: 'postcopy', stateCode: 3, reasonCode: 12 }
console.log(await dom.getInfo()); // { state: 3, maxMem: 1048576n, memory: 1048576n, nrVirtCpu: 2, cpuTime: 48210000000n }
await dom.suspend();
await dom.resume();

for (const d of await conn.listAllDomains()) console.log(d.name);

// every procedure of every program, typed
const { libVer } = await conn.remote.connectGetLibVersion();
console.log(libVer);

// errors are classes; never match on message text
try {
  await conn.lookupDomain('nope');
} catch (err) {
  if (isNoDomain(err))
    console.log(err.codeName); // VIR_ERR_NO_DOMAIN
  else throw err;
}
