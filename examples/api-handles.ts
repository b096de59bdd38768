// docs/api.md: the everyday handles and the typed procedure tables.
// runs on: simulator, hosts
import { readFileSync } from 'node:fs';
import { connect, isNoDomain } from 'virtwire';

const uri = process.env['VIRTWIRE_URI'] ?? 'qemu:///system';
const name = process.env['VIRTWIRE_DOMAIN'] ?? 'vm1';
// a domain definition to define and create (its name must be free on the host)
const xml = readFileSync(process.env['VIRTWIRE_GUEST_XML'] ?? 'guest.xml', 'utf8');

await using conn = await connect(uri);

// Handles: libvirt's functions as methods (see "The object API" below)
const dom = await conn.lookupDomain(name); // a name or a UUID
console.log(dom.name, dom.uuid, dom.id);
console.log(await dom.state()); // { state: 'paused', reason: 'postcopy', stateCode: 3, reasonCode: 12 }
console.log(await dom.getInfo()); // { state: 3, maxMem: 1048576n, memory: 1048576n, nrVirtCpu: 2, cpuTime: 48210000000n }
await dom.suspend();
await dom.resume();
for (const d of await conn.listAllDomains()) console.log(d.name);

const defined = await conn.domainDefineXML(xml); // persistent: .create(), .destroy(), .undefine()
await defined.undefine();
const transient = await conn.domainCreateXML(xml); // started at once, gone once destroyed
await transient.destroy();

// Every procedure of every program, typed (args and results are the .x
// structs with camelCase field names; a void result is undefined)
const { libVer } = await conn.remote.connectGetLibVersion();
const { domains } = await conn.remote.connectListAllDomains({ needResults: 1, flags: 0 });
console.log(libVer, domains.length);

// Errors are classes; the daemon's error keeps every remote_error field
try {
  await conn.lookupDomain('nope');
} catch (err) {
  if (isNoDomain(err))
    console.log(err.codeName, err.domainName, err.message); // VIR_ERR_NO_DOMAIN VIR_FROM_QEMU ...
  else throw err;
}
