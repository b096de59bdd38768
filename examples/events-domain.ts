// docs/events-and-streams.md: domain events as async iterables.
// runs on: simulator, hosts
import { connect } from 'virtwire';

const uri = process.env['VIRTWIRE_URI'] ?? 'qemu:///system';
const name = process.env['VIRTWIRE_DOMAIN'] ?? 'vm1';

await using conn = await connect(uri);

const dom = await conn.lookupDomain(name);
const lifecycle = conn.events.domain('lifecycle', { domain: dom });
await lifecycle.ready; // registered on the daemon: nothing from here on is missed
const changes = (async () => {
  await dom.suspend();
  await dom.resume();
  await dom.destroy();
})();
for await (const ev of lifecycle) {
  console.log(ev.domain.name, ev.event, ev.detail); // vm1 suspended paused
  if (ev.event === 'stopped') break; // leaving the loop deregisters
}
await changes;

// any domain event ID by name: reboot, rtc_change, watchdog, io_error, graphics, block_job,
// block_job_2, disk_change, tray_change, balloon_change, device_removed, tunable,
// agent_lifecycle, device_added, migration_iteration, job_completed, metadata_change,
// block_threshold, memory_failure, memory_device_size_change, nic_mac_change, ...
const started = conn.events.domain('lifecycle', { queueSize: 64, overflow: 'error' });
await started.ready;
await dom.create();
const signal = AbortSignal.timeout(60_000);
let ev = await started.next({ signal }); // QEMU reports resumed, then started
while (ev.event !== 'started') ev = await started.next({ signal });
console.log(ev.event, ev.detail); // started booted
await started.close();
