/**
 * AdminConnection, AdminServer, AdminClient: libvirt-admin's functions as methods.
 * Needs a real daemon's admin socket (the simulator has none).
 * Usage: tsx examples/api-admin.ts [admin-socket-path]
 */
// runs on: hosts
import { connectAdmin } from 'virtwire';

const [path = process.env['VIRTWIRE_ADMIN_SOCKET'] ?? '/run/libvirt/libvirt-admin-sock'] =
  process.argv.slice(2);
await using adm = await connectAdmin(path);

for (const srv of await adm.listServers()) {
  console.log(srv.name, await srv.getThreadPoolParameters()); // { minWorkers, maxWorkers, nWorkers, ... }
  for (const c of await srv.listClients()) console.log(c.id, c.transport, await c.getInfo());
}
console.log(await adm.getLoggingFilters());
