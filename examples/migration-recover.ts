// docs/migration.md: peer-to-peer migration, and recovering a post-copy
// migration that failed after the switch.
// runs on: simulator, hosts
import { connect, PostcopyFailedError } from 'virtwire';

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
  if (err instanceof PostcopyFailedError) {
    console.log('post-copy failed:', err.message);
    await dom.migrate(dst, { live: true, postcopy: true, postcopyResume: true }).done;
  } else throw err;
}
console.log(await (await dst.lookupDomain(name)).state()); // { state: 'running', reason: 'migrated', ... }
