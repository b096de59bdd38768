// docs/api.md: the QEMU program's procedures, here a monitor command (needs a
// real QEMU guest: the simulator runs no QEMU).
// runs on: hosts
import { connect } from 'virtwire';

const uri = process.env['VIRTWIRE_URI'] ?? 'qemu:///system';
const name = process.env['VIRTWIRE_DOMAIN'] ?? 'vm1';

await using conn = await connect(uri);
const dom = await conn.lookupDomain(name);

const { result } = await conn.qemu.domainMonitorCommand({
  dom: dom.wire,
  cmd: 'info status',
  flags: 1,
});
console.log(result); // VM status: running
