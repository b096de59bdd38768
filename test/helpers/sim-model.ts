/**
 * The simulator's migration model without RPC, on a clock the test drives:
 * hosts on a network, guests, and managed migrations through the same
 * phase functions the daemon's procedures call (Begin, Prepare, Perform,
 * Finish, Confirm). Simulated time moves only when the test moves it, so
 * durations and statistics are exact and independent of the machine's load.
 */
import { VirDomainMigrateFlags as F, VirDomainCreateFlags } from '../../src/generated/api.js';
import type { RemoteTypedParam } from '../../src/generated/remote.js';
import { SimHost } from '../../src/testing/host.js';
import { describeJob, HostMigrations } from '../../src/testing/migration/index.js';
import { OutgoingJob, outgoingOf } from '../../src/testing/migration/job.js';
import type { SimNetwork } from '../../src/testing/network.js';
import type { SimDomainSpec } from '../../src/testing/simulator.js';
import { specXml } from '../../src/testing/xml.js';

/** Real milliseconds, moved by hand. */
export class ManualClock {
  t = 1000;
  readonly now = (): number => this.t;
}

export interface ModelHost {
  readonly host: SimHost;
  readonly mig: HostMigrations;
}

export function modelHost(
  network: SimNetwork,
  clock: ManualClock,
  opts: { name: string; bandwidthMiBps: number; timeScale?: number },
): ModelHost {
  const seat = network.join(opts.name);
  const host = new SimHost({
    hostname: seat.hostname,
    timeScale: opts.timeScale ?? 1,
    bandwidthMiBps: opts.bandwidthMiBps,
    clock: clock.now,
  });
  host.describeJob = describeJob;
  seat.publish({
    uris: [`model://${opts.name}`],
    transport: () => {
      throw new Error('model hosts are reached without RPC');
    },
  });
  return { host, mig: new HostMigrations(host, seat) };
}

/** A running (or paused) persistent guest on `h`. */
export function addGuest(h: ModelHost, spec: SimDomainSpec): void {
  const d = h.host.define(specXml(spec));
  h.host.start(d, spec.state === 'paused' ? VirDomainCreateFlags.VIR_DOMAIN_START_PAUSED : 0, null);
}

const str = (field: string, s: string): RemoteTypedParam => ({ field, value: { type: 7, s } });
const ull = (field: string, ul: number): RemoteTypedParam => ({
  field,
  value: { type: 4, ul: BigInt(ul) },
});

/** One managed migration in flight: its source job and how it ends. */
export interface ModelMigration {
  readonly job: OutgoingJob;
  /** Settles when Confirm ran (or with the first error). */
  readonly done: Promise<void>;
  /** Perform has returned (the transfer is over, or switched to post-copy). */
  readonly performed: () => boolean;
  /** The migration is over, Confirm run or failed. */
  readonly ended: () => boolean;
}

/**
 * Starts a managed live migration of `name` from `src` to `dst`, as libvirt's
 * client drives one (change protection, Begin, Prepare, Perform, Finish,
 * Confirm); the transfer runs as the clock moves.
 */
export function migrate(
  src: ModelHost,
  dst: ModelHost,
  name: string,
  opts: { bandwidthMiBps?: number; postcopy?: boolean; autoConverge?: boolean } = {},
): ModelMigration {
  const d = src.host.byName(name);
  if (!d) throw new Error(`no guest ${name}`);
  const owner = {};
  const flags =
    F.VIR_MIGRATE_LIVE |
    F.VIR_MIGRATE_PERSIST_DEST |
    F.VIR_MIGRATE_UNDEFINE_SOURCE |
    (opts.postcopy ? F.VIR_MIGRATE_POSTCOPY : 0) |
    (opts.autoConverge ? F.VIR_MIGRATE_AUTO_CONVERGE : 0);
  const params = opts.bandwidthMiBps ? [ull('bandwidth', opts.bandwidthMiBps)] : [];
  const begun = src.mig.begin(d, params, flags | F.VIR_MIGRATE_CHANGE_PROTECTION, owner);
  const destFlags = flags & ~F.VIR_MIGRATE_AUTO_CONVERGE;
  const prepared = dst.mig.prepare(
    [...params, str('destination_xml', begun.xml)],
    begun.cookieOut,
    destFlags,
    owner,
  );
  const job = outgoingOf(d);
  if (!job) throw new Error('Begin with change protection starts the job');
  let performed = false;
  const done = (async () => {
    let cookie: Uint8Array;
    try {
      cookie = (
        await src.mig.perform(
          d,
          null,
          params,
          prepared.cookieOut,
          flags | F.VIR_MIGRATE_CHANGE_PROTECTION,
          owner,
        )
      ).cookieOut;
    } catch (err) {
      await dst.mig
        .finish([str('destination_name', name)], new Uint8Array(0), destFlags, 1)
        .catch(() => {});
      throw err;
    } finally {
      performed = true;
    }
    const fin = await dst.mig.finish([str('destination_name', name)], cookie, destFlags, 0);
    src.mig.confirm(d, flags, 0);
    void fin;
  })();
  let ended = false;
  done.then(
    () => {
      ended = true;
    },
    () => {
      ended = true;
    },
  );
  return { job, done, performed: () => performed, ended: () => ended };
}

/** Lets promise callbacks run (Perform returning, Finish, Confirm). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}

/** Moves the clock by `realMs` and runs every transfer of the network up to it. */
export async function tick(clock: ManualClock, jobs: readonly OutgoingJob[], realMs: number) {
  clock.t += realMs;
  for (const j of jobs) j.step();
  await settle();
}

export { OutgoingJob };
