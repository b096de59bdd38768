// docs/connections.md: SASL credentials, given or asked for, as
// virConnectOpenAuth takes them.
// runs on: hosts
import { CredentialType, connect } from 'virtwire';

const uri = process.env['VIRTWIRE_SASL_URI'] ?? 'qemu+tcp://host/system';
const user = process.env['VIRTWIRE_SASL_USER'] ?? 'alice';
const secret = process.env['VIRTWIRE_SASL_PASSWORD'] ?? '';

// static credentials
await using a = await connect(uri, { auth: { username: user, password: secret } });
// or a callback with libvirt's credential types, like virConnectOpenAuth's
await using b = await connect(uri, {
  auth: async (creds) => creds.map((c) => (c.type === CredentialType.AUTHNAME ? user : secret)),
});
// or libvirt's auth.conf: authfile=, $LIBVIRT_AUTH_FILE, ~/.config/libvirt/auth.conf, /etc/libvirt/auth.conf
console.log(a.auth, b.auth); // e.g. sasl.SCRAM-SHA-256
