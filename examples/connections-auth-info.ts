// docs/connections.md: what the daemon and virtwire negotiated.
// runs on: simulator, hosts
import { connect } from 'virtwire';

const uri = process.env['VIRTWIRE_URI'] ?? 'qemu:///system';

const conn = await connect(uri);
console.log(conn.auth); // 'none', 'polkit' or e.g. 'sasl.SCRAM-SHA-256'
await conn.close();
