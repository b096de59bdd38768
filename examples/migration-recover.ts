// docs/migration.md: peer-to-peer migration, and recovering a post-copy
// migration that failed after the switch.
// runs on: simulator, hosts
import { connect, PostcopyFailedError, PostcopyResumeLostError } from 'virtwire';

const env = process.env;
const hostA = env['VIRTWIRE_URI'] ?? 'qemu+tcp://host-a/system';
const hostB = env['VIRTWIRE_DEST_URI'] ?? 'qemu+tcp://host-b/system';
const name = env['VIRTWIRE_DOMAIN'] ?? 'vm1';

await using src = await connect(hostA);
await using dst = await connect(hostB);
const dom = await src.lookupDomain(name);

// peer-to-peer (the source daemon connects to the destination itself) or tunnelled
const m = dom.migrateToURI(hostB, {
  live: true,
  peer2peer: true,
  postcopy: true,
  postcopyPolicy: 'after-precopy',
});

// after the switch to post-copy there is no rollback: a failure is a PostcopyFailedError
// naming both sides' states, and the same migration with postcopyResume recovers it
try {
  await m.done;
} catch (err) {
  if (!(err instanceof PostcopyFailedError)) throw err;
  console.log('post-copy failed:', err.message);
  if (err.destinationState?.reason === 'postcopy') {
    // the destination's daemon came back and found the guest's QEMU still pulling memory from
    // the source's: the migration completes by itself (a resume is refused until it has)
    const state = async () => (await (await dst.lookupDomain(name)).state()).reason;
    for (let i = 0; i < 120 && (await state()) !== 'migrated'; i++) {
      await new Promise((r) => setTimeout(r, 1000));
    }
  } else {
    try {
      await dom.migrate(dst, { live: true, postcopy: true, postcopyResume: true }).done;
    } catch (lost) {
      // the destination no longer has the guest (its host was lost): nothing to resume, the
      // source keeps it paused for the operator
      if (lost instanceof PostcopyResumeLostError) console.log(lost.message);
      throw lost;
    }
  }
}
console.log(await (await dst.lookupDomain(name)).state()); // { state: 'running', reason: 'migrated', ... }
