// docs/events-and-streams.md: the other event families (the simulator has no
// networks, pools, devices or secrets, and runs no QEMU).
// runs on: hosts
import { connect } from 'virtwire';

const uri = process.env['VIRTWIRE_URI'] ?? 'qemu:///system';
const name = process.env['VIRTWIRE_DOMAIN'] ?? 'vm1';

await using conn = await connect(uri);
const dom = await conn.lookupDomain(name);

const subscriptions = [
  conn.events.network('lifecycle'),
  conn.events.storagePool('refresh'),
  conn.events.nodeDevice('update'),
  conn.events.secret('value_changed'),
  conn.events.qemuMonitor({ domain: dom, event: 'STOP' }), // QMP events
  conn.events.connectionClosed(), // the daemon's close callback
];
for (const s of subscriptions) await s.ready;

// a QMP event: pausing the guest makes QEMU send STOP
const stops = subscriptions[4]!;
await dom.suspend();
console.log(await stops.next({ signal: AbortSignal.timeout(30_000) }));
await dom.resume();
for (const s of subscriptions) await s.close();
