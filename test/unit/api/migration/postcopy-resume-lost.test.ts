/**
 * A post-copy resume whose destination no longer knows the incoming domain
 * rejects with PostcopyResumeLostError in Prepare, the destination's
 * VIR_ERR_NO_DOMAIN as its cause. As libvirt 9.0 behaves when the destination
 * daemon restarts during post-copy (test/e2e/migration-faults.test.ts holds
 * the real daemons to it): here the destination simulator stops mid
 * post-copy and a fresh one takes its place under the same name.
 */
import { describe, expect, it } from 'vitest';
import {
  MigrationError,
  PostcopyFailedError,
  PostcopyResumeLostError,
  RemoteError,
} from '../../../../src/index.js';
import { SimNetwork, Simulator } from '../../../../src/testing/index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('post-copy resume after the destination forgot the incoming domain', () => {
  it('rejects with PostcopyResumeLostError naming the destination error', async () => {
    const network = new SimNetwork();
    const opts = { network, timeScale: 10 };
    await using a = await Simulator.start({
      ...opts,
      hostname: 'ra',
      domains: [{ name: 'vm', state: 'running', memoryMiB: 4096 }],
    });
    const b = await Simulator.start({ ...opts, hostname: 'rb' });
    await using src = await a.connect();
    const dst = await b.connect();
    const dom = await src.lookupDomain('vm');
    const m = dom.migrate(dst, { live: true, postcopy: true, postcopyBandwidth: 10 });
    const first = m.done.then(
      () => null,
      (e: unknown) => e,
    );
    while (!m.postcopyStarted) {
      // refused until the outgoing transfer runs
      await m.startPostCopy().catch(() => sleep(5));
    }
    await b.close(); // the destination daemon goes away mid post-copy...
    expect(await first).toBeInstanceOf(PostcopyFailedError);
    await dst.close().catch(() => {});
    await using b2 = await Simulator.start({ ...opts, hostname: 'rb' }); // ...and comes back empty
    await using dst2 = await b2.connect();

    const err = await dom
      .migrate(dst2, { live: true, postcopy: true, postcopyResume: true })
      .done.then(
        () => null,
        (e: unknown) => e,
      );
    if (!(err instanceof PostcopyResumeLostError)) throw err;
    expect(err).toBeInstanceOf(MigrationError);
    expect(err.phase).toBe('prepare');
    expect(err.cause).toBeInstanceOf(RemoteError);
    expect((err.cause as RemoteError).codeName).toBe('VIR_ERR_NO_DOMAIN');
    // the source keeps its guest, paused by the failed post-copy
    expect(a.domain('vm')?.state).toBe('paused');
    expect(b2.domain('vm')).toBeUndefined();
  });
});
