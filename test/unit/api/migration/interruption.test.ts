/**
 * A migration whose link ends while it runs, between two simulated hosts:
 * the destination's link during pre-copy (the source job is aborted at once,
 * the guest stays on the source), the source's link (never a success it did
 * not see), and supervised connections that come back (the report says what
 * the daemons say afterwards).
 */
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { postcopyAdvice } from '../../../../src/api/migration/interruption.js';
import {
  type AnyConnection,
  connect,
  type Migration,
  MigrationInterruptedError,
  PostcopyFailedError,
} from '../../../../src/index.js';
import { SimNetwork, Simulator } from '../../../../src/testing/index.js';
import type { Transport } from '../../../../src/transport/types.js';

const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const x of opened.splice(0).reverse()) await x.close();
});

/** A transport to `sim` whose newest link the test can cut. */
function cuttable(sim: Simulator): { transport: Transport; cut(): void } {
  let last: Duplex | null = null;
  return {
    transport: async (uri, opts) => {
      last = (await sim.transport()(uri, opts)) as Duplex;
      return last;
    },
    cut: () => last?.destroy(new Error('connection reset by peer')),
  };
}

async function hosts(supervised: boolean) {
  const network = new SimNetwork();
  // 1 GiB dirtying 200 MiB/s over a 100 MiB/s link: pre-copy never converges on its own
  const a = await Simulator.start({
    network,
    hostname: 'host-a',
    timeScale: 20,
    bandwidthMiBps: 100,
    domains: [{ name: 'vm', state: 'running', dirtyRateMiBps: 200, memoryMiB: 1024 }],
  });
  const b = await Simulator.start({ network, hostname: 'host-b', timeScale: 20 });
  opened.push(a, b);
  const ta = cuttable(a);
  const tb = cuttable(b);
  const reconnect = supervised ? { initialDelayMs: 10, maxDelayMs: 50, jitter: 0 } : undefined;
  const ca: AnyConnection = await connect(a.uri, {
    transport: ta.transport,
    ...(reconnect ? { reconnect } : {}),
  });
  const cb: AnyConnection = await connect(b.uri, {
    transport: tb.transport,
    ...(reconnect ? { reconnect } : {}),
  });
  opened.push(ca, cb);
  return { a, b, ca, cb, cutA: ta.cut, cutB: tb.cut };
}

/** Resolves once the migration's source job has moved some memory. */
async function transferring(m: Migration): Promise<void> {
  for await (const p of m.progress()) if ((p.memoryProcessed ?? 0) > 0) return;
}

describe('a migration whose link ends', () => {
  it('destination link ends in pre-copy: the source job is aborted at once, the guest stays on the source', async () => {
    const { a, b, ca, cb, cutB } = await hosts(false);
    const dom = await ca.lookupDomain('vm');
    const m = dom.migrate(cb, { live: true });
    await transferring(m);
    expect(m.phase).toBe('perform');
    const t0 = Date.now();
    cutB();
    const err = await m.done.then(
      () => null,
      (e: unknown) => e,
    );
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(err).toBeInstanceOf(MigrationInterruptedError);
    const e = err as MigrationInterruptedError;
    expect(e.phase).toBe('perform');
    expect(e.losses[0]).toMatchObject({ side: 'destination', phase: 'perform', postcopy: false });
    expect(e.message).toMatch(/destination's connection ended during perform/);
    // the simulated destination drops the incoming side when its client goes, which may end the job first
    expect(e.message).toMatch(/source job (was aborted|had already ended)/);
    expect(e.sourceState?.state).toBe('running');
    expect(a.domain('vm')?.state).toBe('running');
    expect(b.domain('vm')).toBeUndefined();
    // the source was not told to Confirm (Perform failed) and Finish was not sent to a dead link
    expect(a.calls).toContain('DOMAIN_ABORT_JOB');
    expect(b.calls).not.toContain('DOMAIN_MIGRATE_FINISH3_PARAMS');
  });

  it('source link ends: no success is claimed, and the report says what the daemons say', async () => {
    const { a, ca, cb, cutA } = await hosts(true);
    const dom = await ca.lookupDomain('vm');
    const m = dom.migrate(cb, { live: true });
    await transferring(m);
    cutA();
    const err = (await m.done.then(
      () => null,
      (e: unknown) => e,
    )) as MigrationInterruptedError;
    expect(err).toBeInstanceOf(MigrationInterruptedError);
    expect(err.losses[0]).toMatchObject({ side: 'source', phase: 'perform' });
    // the supervised source is back: its daemon was asked
    expect(err.message).toMatch(/afterwards the source reports/);
    expect(err.sourceState).toEqual(await (await ca.lookupDomain('vm')).state());
    expect(a.domain('vm')).toBeDefined();
  });

  it('supervised destination that comes back: still a failure, with both sides asked', async () => {
    const { ca, cb, cutB } = await hosts(true);
    const dom = await ca.lookupDomain('vm');
    const m = dom.migrate(cb, { live: true });
    await transferring(m);
    cutB();
    const err = (await m.done.then(
      () => null,
      (e: unknown) => e,
    )) as MigrationInterruptedError;
    expect(err).toBeInstanceOf(MigrationInterruptedError);
    expect(err.message).toMatch(/source job (was aborted|had already ended)/);
    expect(err.message).toMatch(/the destination reports/);
    expect(err.sourceState?.state).toBe('running');
    expect(cb.state).toBe('open');
  });

  it('destination link ends after the switch to post-copy: no abort, a PostcopyFailedError', async () => {
    const { a, ca, cb, cutB } = await hosts(false);
    const dom = await ca.lookupDomain('vm');
    const m = dom.migrate(cb, { live: true, postcopy: true, postcopyBandwidth: 5 });
    await transferring(m);
    await m.startPostCopy();
    cutB();
    const err = await m.done.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PostcopyFailedError);
    expect((err as Error).message).toMatch(/destination's connection ended/);
    expect(a.calls).not.toContain('DOMAIN_ABORT_JOB');
  });

  it('supervised destination back after the switch: both sides asked, and the advice follows what the destination says', async () => {
    const { ca, cb, cutB } = await hosts(true);
    const dom = await ca.lookupDomain('vm');
    const m = dom.migrate(cb, { live: true, postcopy: true, postcopyBandwidth: 5 });
    await transferring(m);
    await m.startPostCopy();
    cutB();
    const err = (await m.done.then(
      () => null,
      (e: unknown) => e,
    )) as PostcopyFailedError;
    expect(err).toBeInstanceOf(PostcopyFailedError);
    // both sides were asked, and the advice is the one for what the destination said
    expect(err.destinationState).not.toBeNull();
    expect(err.sourceState).not.toBeNull();
    expect(err.message.endsWith(`; ${postcopyAdvice(err.destinationState)}`)).toBe(true);
  });

  it('a destination still running the guest in post-copy (its daemon restarted, its QEMU alive) is waited for, not resumed', () => {
    const running = { state: 'running', reason: 'postcopy', stateCode: 1, reasonCode: 10 } as const;
    expect(postcopyAdvice(running)).toMatch(/still runs the guest in post-copy/);
    expect(postcopyAdvice(running)).toMatch(/wait for the destination to report running\/migrated/);
    const failed = {
      state: 'paused',
      reason: 'postcopy_failed',
      stateCode: 3,
      reasonCode: 13,
    } as const;
    expect(postcopyAdvice(failed)).toMatch(/^recover with migrate/);
    expect(postcopyAdvice(null)).toMatch(/^recover with migrate/);
  });
});
