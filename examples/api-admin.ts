// docs/api.md: the admin program through a daemon's admin socket (what
// virt-admin speaks; the simulator has no admin socket).
// runs on: hosts
import { connectAdmin } from 'virtwire';

const socket = process.env['VIRTWIRE_ADMIN_SOCKET'] ?? '/run/libvirt/libvirt-admin-sock';

await using adm = await connectAdmin(socket);
const { servers } = await adm.admin.connectListServers({ needResults: 1, flags: 0 });
const { clients } = await adm.admin.serverListClients({
  srv: servers[0]!,
  needResults: 1,
  flags: 0,
});
console.log(
  servers.map((s) => s.name),
  clients.length,
);
