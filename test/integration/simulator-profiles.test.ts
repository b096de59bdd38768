/**
 * Each version profile of the simulator against the real daemon it models:
 * for every generation of test hosts that is up (libvirt 9.0, 11.3, 12.x),
 * a simulator started with that release's profile must report the same
 * libvirt version, the same QEMU major and minor, the same answers to the
 * feature probes, and accept and refuse the same domain event IDs (libvirt
 * refuses an ID its release does not have yet with "unsupported event ID").
 */
import { afterAll, describe, expect, it } from 'vitest';
import { type Connection, connect, RemoteError } from '../../src/index.js';
import { Simulator } from '../../src/testing/index.js';
import { generations, hostOf } from '../helpers/hosts.js';
import { profileOf } from '../helpers/sim-profile.js';

/** What a daemon says about its release, as the profile sets it. */
async function release(c: Connection) {
  const { libVer } = await c.remote.connectGetLibVersion();
  const { hvVer } = await c.remote.connectGetVersion();
  const features: number[] = [];
  for (let f = 1; f <= 20; f++)
    features.push((await c.remote.connectSupportsFeature({ feature: f })).supported);
  // domain event IDs 25..32 bracket every release's last one (9.0: 26, 11.3: 27, 12.9: 29)
  const eventIds: Record<number, string> = {};
  for (let eventID = 25; eventID <= 32; eventID++) {
    eventIds[eventID] = await c.remote
      .connectDomainEventCallbackRegisterAny({ eventID, dom: null })
      .then(
        async ({ callbackID }) => {
          await c.remote.connectDomainEventCallbackDeregisterAny({ callbackID });
          return 'accepted';
        },
        (e: unknown) => (e instanceof RemoteError ? `${e.codeName}: ${e.message}` : String(e)),
      );
  }
  return { libVer, qemu: hvVer / 1000n, features, eventIds };
}

const sims: Simulator[] = [];
afterAll(async () => {
  for (const s of sims) await s.close();
});

describe.each(generations())('$label', (gen) => {
  it("a simulator with the release's profile reports what the daemon reports", async () => {
    const profile = profileOf(gen);
    await using real = await connect(hostOf(gen, 0, 'TCP'));
    const sim = await Simulator.start({ profile });
    sims.push(sim);
    await using simulated = await sim.connect();
    const [want, got] = [await release(real), await release(simulated)];
    expect(got).toEqual(want);
    expect(want.libVer).toBe(gen.libVer);
  });
});
