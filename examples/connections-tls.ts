// docs/connections.md: TLS with the CA and client certificate from pkipath=
// (or ~/.pki/libvirt, /etc/pki); the server's certificate is checked.
// runs on: hosts
import { connect, TlsVerificationError } from 'virtwire';

const uri =
  process.env['VIRTWIRE_TLS_URI'] ?? 'qemu+tls://host.example/system?pkipath=/etc/virtwire/pki';

try {
  await using conn = await connect(uri);
  console.log(conn.uri, (await conn.remote.connectGetHostname()).hostname);
} catch (err) {
  // unknown-ca, expired, hostname-mismatch, client-rejected...
  if (err instanceof TlsVerificationError) console.log('TLS refused:', err.failure);
  throw err;
}
