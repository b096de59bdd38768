// docs/simulator.md: code that branches on the daemon's version, tested
// against every libvirt release the simulator models (its version profiles).
// runs on: simulator
import { type Connection, RemoteError } from 'virtwire';
import { SIM_PROFILES, type SimProfileName, Simulator } from 'virtwire/testing';

const LIFECYCLE = 0;
const NIC_MAC_CHANGE = 27; // a domain event ID libvirt 11.2 added

// the code under test: watch NIC MAC changes where the daemon has them
async function watch(conn: Connection): Promise<number[]> {
  const { libVer } = await conn.remote.connectGetLibVersion();
  const ids = libVer >= 11_002_000n ? [LIFECYCLE, NIC_MAC_CHANGE] : [LIFECYCLE];
  for (const eventID of ids)
    await conn.remote.connectDomainEventCallbackRegisterAny({ eventID, dom: null });
  return ids;
}

for (const profile of Object.keys(SIM_PROFILES) as SimProfileName[]) {
  await using sim = await Simulator.start({ profile });
  await using conn = await sim.connect();
  console.log(`libvirt ${profile}: watching event IDs ${(await watch(conn)).join(', ')}`);
  // the same registration without the version check fails on the older daemon, as libvirtd's does
  const unguarded = await conn.remote
    .connectDomainEventCallbackRegisterAny({ eventID: NIC_MAC_CHANGE, dom: null })
    .then(
      () => 'accepted',
      (e: unknown) => (e instanceof RemoteError ? e.message : String(e)),
    );
  console.log(`  NIC_MAC_CHANGE unguarded: ${unguarded}`);
}
