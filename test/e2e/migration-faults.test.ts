/**
 * Live migrations between the real hosts (A -> B) whose destination daemon is
 * killed while they run, through supervised connections: during pre-copy (the
 * source job is aborted at once, the guest keeps running on A) and after the
 * post-copy switch (the migration reports what libvirt reports and claims no
 * success). Then what libvirt 9.0 does next depends on whether the guest's
 * QEMU on B survived: if it did, the restarted daemon finds it still pulling
 * pages and the migration completes between the two QEMUs; if host B was lost
 * (its QEMU killed too), the restarted daemon has no incoming guest, so a
 * postcopyResume has nothing to resume: it rejects with PostcopyResumeLostError
 * (Prepare answers VIR_ERR_NO_DOMAIN).
 */
// generations: 9.0 only, because the harness commands that kill and restart a daemon (restart-daemon) drive hosts A and B only
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runHarness } from '../../scripts/lib/harness.js';
import {
  type AnyConnection,
  connect,
  type Migration,
  MigrationInterruptedError,
  PostcopyFailedError,
  PostcopyResumeLostError,
  type RemoteError,
  type SupervisedConnection,
} from '../../src/index.js';
import { guestCounter, guestXml, removeDomains } from '../helpers/guest.js';
import { host } from '../helpers/hosts.js';

const NAME = 'vw-migfault';
const RECONNECT = { initialDelayMs: 100, maxDelayMs: 1000, jitter: 0.3, attemptTimeoutMs: 3000 };
let a: SupervisedConnection;
let b: SupervisedConnection;

function harness(...args: string[]): void {
  const r = runHarness(args);
  if (!r.ok) throw new Error(`test-hosts.sh ${args.join(' ')} failed: ${r.out}`);
}

/** B's libvirtd runs again, whatever a failed test left behind. */
function ensureBUp(): void {
  if (!runHarness('status').stdout.includes('host B: up')) harness('restart-daemon', 'B');
}

beforeAll(async () => {
  ensureBUp();
  a = await connect(host('VIRTWIRE_HOST_A_TCP'), { reconnect: RECONNECT });
  b = await connect(host('VIRTWIRE_HOST_B_TCP'), { reconnect: RECONNECT });
});

afterEach(async () => {
  ensureBUp();
  await b.whenOpen({ timeoutMs: 30_000 });
  await removeDomains([a, b], NAME);
}, 120_000);

afterAll(async () => {
  await a?.close();
  await b?.close();
});

/** "state/reason" of the test's guest on a host, or "absent". */
async function stateOn(conn: AnyConnection): Promise<string> {
  const d = (await conn.listAllDomains()).find((x) => x.name === NAME);
  if (!d) return 'absent';
  const s = await d.state();
  return `${s.state}/${s.reason}`;
}

async function movesOn(conn: AnyConnection): Promise<boolean> {
  const d = await conn.lookupDomain(NAME);
  const c1 = await guestCounter(conn, d.wire);
  await new Promise((r) => setTimeout(r, 300));
  return (await guestCounter(conn, d.wire)) !== c1;
}

/** Resolves once the source job has moved some memory. */
async function transferring(m: Migration): Promise<void> {
  for await (const p of m.progress({ intervalMs: 100 })) if ((p.memoryProcessed ?? 0) > 0) return;
}

function outcome(m: Migration): Promise<unknown> {
  return m.done.then(
    () => null,
    (e: unknown) => e,
  );
}

describe('the destination daemon killed during a migration', () => {
  it('pre-copy: the source job is aborted at once and the guest keeps running on the source', async () => {
    const dom = await a.domainCreateXML(guestXml(NAME));
    await new Promise((r) => setTimeout(r, 300));
    const m = dom.migrate(b, { live: true, bandwidth: 1 }); // never converges at 1 MiB/s
    const done = outcome(m);
    await transferring(m);
    expect(m.phase).toBe('perform');
    harness('kill-daemon', 'B');
    const killedAt = Date.now();
    // the source's job ends within seconds, not when the source daemon notices (it would not)
    let jobType = -1;
    while (Date.now() - killedAt < 10_000) {
      jobType = (await dom.jobStats()).type;
      if (jobType === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(jobType).toBe(0);
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    harness('restart-daemon', 'B');
    const err = await done;
    expect(err).toBeInstanceOf(MigrationInterruptedError);
    const e = err as MigrationInterruptedError;
    expect(e.losses[0]).toMatchObject({ side: 'destination', phase: 'perform', postcopy: false });
    expect(e.message).toMatch(/destination's connection ended during perform/);
    expect(e.message).toMatch(/source job was aborted/);
    expect(e.sourceState?.state).toBe('running');
    expect(await movesOn(a)).toBe(true);
    // B's restarted daemon dropped the half-received guest
    expect((await b.listAllDomains()).some((d) => d.name === NAME)).toBe(false);
  }, 120_000);

  /**
   * Starts a post-copy migration of a fresh guest from A to B whose destination has switched: B
   * runs the guest (running/postcopy) and pulls the rest of its memory from A at 3 MiB/s, which
   * leaves about 15 s of post-copy: time for a kill, a restart and the report, but no more. Waiting
   * for B's own report, not only the source's, is what makes the cases below deterministic: killed
   * any earlier, B's daemon has not recorded the incoming guest as running and forgets it.
   */
  async function switchedPostcopy() {
    const dom = await a.domainCreateXML(guestXml(NAME));
    await new Promise((r) => setTimeout(r, 300));
    const m = dom.migrate(b, {
      live: true,
      postcopy: true,
      bandwidth: 20,
      postcopyBandwidth: 3,
      postcopyPolicy: 'after-precopy',
    });
    const done = outcome(m);
    const t0 = Date.now();
    let onB = '';
    while (Date.now() - t0 < 60_000) {
      onB = await stateOn(b);
      if (m.postcopyStarted && onB === 'running/postcopy') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(m.postcopyStarted).toBe(true);
    expect(onB).toBe('running/postcopy');
    return { dom, m, done };
  }

  it("post-copy, B's daemon killed after the switch: rejects with what libvirt reports, claims no success, and the guest ends up running on B", async () => {
    const { m, done } = await switchedPostcopy();
    harness('kill-daemon', 'B');
    // back while the migration waits for its connections, so its report can ask B
    harness('restart-daemon', 'B');
    const err = await done;
    expect(err).toBeInstanceOf(PostcopyFailedError);
    const e = err as PostcopyFailedError;
    expect(e.message).toMatch(/destination's connection ended/);
    // no success was claimed: the source has the guest paused, post-copy failed in its view
    expect(e.sourceState?.state).toBe('paused');
    expect(m.phase).not.toBe('done');
    // the restarted daemon found the guest's QEMU still running and pulling pages from A's: in
    // libvirt 9.0 the migration goes on between the two QEMUs without either daemon
    expect(e.destinationState).toMatchObject({ state: 'running', reason: 'postcopy' });
    // so the error says to wait for it, not to resume (a resume is refused while QEMU migrates)
    expect(e.message).toMatch(/still runs the guest in post-copy/);
    // and completes there: B reports it migrated and A lets its paused copy go
    const t0 = Date.now();
    while (Date.now() - t0 < 120_000) {
      if ((await stateOn(b)) === 'running/migrated' && (await stateOn(a)) === 'absent') break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(await stateOn(b)).toBe('running/migrated');
    expect(await stateOn(a)).toBe('absent');
    expect(await movesOn(b)).toBe(true);
  }, 240_000);

  it('post-copy, host B lost after the switch (daemon and guest killed): the source keeps the guest paused and a resume says it is lost, typed', async () => {
    const { dom, done } = await switchedPostcopy();
    harness('kill-daemon', 'B');
    harness('kill-guest', 'B', NAME);
    harness('restart-daemon', 'B');
    const err = await done;
    expect(err).toBeInstanceOf(PostcopyFailedError);
    expect((err as PostcopyFailedError).sourceState?.state).toBe('paused');
    // B's daemon came back without the guest: the error advises a resume, which says it is lost
    expect((err as PostcopyFailedError).message).toMatch(/postcopyResume: true/);
    await b.whenOpen({ timeoutMs: 30_000 });
    // the restarted daemon found no QEMU for the incoming guest and dropped it
    expect(await stateOn(b)).toBe('absent');
    const resumed = await outcome(
      dom.migrate(b, { live: true, postcopy: true, postcopyResume: true }),
    );
    expect(resumed).toBeInstanceOf(PostcopyResumeLostError);
    expect((resumed as PostcopyResumeLostError).phase).toBe('prepare');
    expect(((resumed as PostcopyResumeLostError).cause as RemoteError).codeName).toBe(
      'VIR_ERR_NO_DOMAIN',
    );
    // the source still holds the guest, paused, for the operator to decide
    expect(await stateOn(a)).toBe('paused/postcopy_failed');
  }, 180_000);
});
