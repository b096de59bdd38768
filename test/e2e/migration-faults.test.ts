/**
 * Live migrations between the real hosts (A -> B) whose destination daemon is
 * killed while they run, through supervised connections: during pre-copy (the
 * source job is aborted at once, the guest keeps running on A) and during
 * post-copy (the migration reports what libvirt reports and claims no
 * success). After the destination daemon's restart libvirt 9.0 no longer
 * lists the incoming guest, so a postcopyResume has nothing to resume: it
 * rejects with PostcopyResumeLostError (Prepare answers VIR_ERR_NO_DOMAIN).
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

  it('post-copy: the migration rejects with what libvirt reports, and claims no success', async () => {
    const dom = await a.domainCreateXML(guestXml(NAME));
    await new Promise((r) => setTimeout(r, 300));
    // post-copy at 1 MiB/s: the guest's 46 MiB working set takes long to pull over
    const m = dom.migrate(b, {
      live: true,
      postcopy: true,
      bandwidth: 20,
      postcopyBandwidth: 1,
      postcopyPolicy: 'after-precopy',
    });
    const done = outcome(m);
    const t0 = Date.now();
    while (!m.postcopyStarted && Date.now() - t0 < 60_000) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(m.postcopyStarted).toBe(true);
    harness('kill-daemon', 'B');
    const err = await done;
    expect(err).toBeInstanceOf(PostcopyFailedError);
    const e = err as PostcopyFailedError;
    expect(e.message).toMatch(/destination's connection ended/);
    // no success was claimed; the source says the guest is paused there (post-copy)
    expect(e.sourceState?.state).toBe('paused');
    expect(m.phase).not.toBe('done');
    harness('restart-daemon', 'B');
    await b.whenOpen({ timeoutMs: 30_000 });
    // the source still holds the guest, paused, for the operator to decide
    expect((await (await a.lookupDomain(NAME)).state()).state).toBe('paused');
    // the restarted daemon forgot the incoming guest: a resume says so, typed
    expect((await b.listAllDomains()).map((d) => d.name)).not.toContain(NAME);
    const resumed = await dom
      .migrate(b, { live: true, postcopy: true, postcopyResume: true })
      .done.then(
        () => null,
        (e: unknown) => e,
      );
    expect(resumed).toBeInstanceOf(PostcopyResumeLostError);
    expect((resumed as PostcopyResumeLostError).phase).toBe('prepare');
    expect(((resumed as PostcopyResumeLostError).cause as RemoteError).codeName).toBe(
      'VIR_ERR_NO_DOMAIN',
    );
    expect((await (await a.lookupDomain(NAME)).state()).state).toBe('paused');
  }, 180_000);
});
