/**
 * NWFilter and NWFilterBinding: network filters and the bindings of filters to ports.
 * Needs a real daemon with the nwfilter driver (the QEMU driver's libvirtd; the simulator
 * and the test driver have none). Usage: tsx examples/api-nwfilter.ts [uri]
 */
// runs on: hosts
import { connect } from 'virtwire';

const [uri = process.env['VIRTWIRE_URI'] ?? 'qemu+tcp://127.0.0.1/system'] = process.argv.slice(2);
await using conn = await connect(uri);

for (const f of await conn.listAllNWFilters()) console.log(f.name, f.uuid);
const filter = await conn.nwFilterDefineXML(
  "<filter name='vw-example' chain='root'><rule action='drop' direction='in'><all/></rule></filter>",
);
console.log((await filter.getXMLDesc()).length);
for (const b of await conn.listAllNWFilterBindings()) console.log(b.portDev, b.filterName);
await filter.undefine();
