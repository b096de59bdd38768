// docs/connections.md: connect()'s options and the end of a connection.
// runs on: simulator, hosts
import { connect } from 'virtwire';

const uri = process.env['VIRTWIRE_URI'] ?? 'qemu:///system';
const signal = AbortSignal.timeout(30_000);

const conn = await connect(uri, {
  readonly: true, // VIR_CONNECT_RO: read-only socket, RO flag in CONNECT_OPEN
  keepalive: { interval: 5, count: 5 }, // libvirt's defaults; interval 0 disables
  timeoutMs: 10_000, // for the whole open sequence (default 30 s): TimeoutError when it runs out
  signal, // abandons the attempt: AbortError
});
conn.closed.then(({ reason }) => console.log('closed:', reason)); // client | eof | error | keepalive
await conn.close(); // or `await using`
