// docs/connections.md: libvirt URIs as virtwire reads them, and how they are
// printed with the password hidden.
// runs on: simulator
import { parseUri, redactUri } from 'virtwire';

const uri = parseUri('qemu+ssh://root@host.example/system?keyfile=/root/.ssh/id_ed25519&foo=bar');
console.log(uri.driver, uri.transport, uri.user, uri.host, uri.path); // qemu ssh root host.example /system
console.log(redactUri('qemu+ssh://alice:pw@host/system')); // qemu+ssh://alice:***@host/system
