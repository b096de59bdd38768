import { afterAll, describe, expect, it } from 'vitest';
import { type Connection, connect, isNoDomain, isOperationInvalid } from '../../src/index.js';
import { guestCounter, guestXml } from '../helpers/guest.js';
import { generations, hostOf } from '../helpers/hosts.js';

const NAME = 'vw-domain-test';
let conn: Connection | undefined;

/** Removes what a generation's run left and closes its connection. */
const cleanup = async (): Promise<void> => {
  if (!conn) return;
  try {
    const d = await conn.lookupDomain(NAME);
    if (d.id > 0 || (await d.state()).state !== 'shutoff') await d.destroy().catch(() => {});
    await d.undefine().catch(() => {});
  } catch (err) {
    if (!isNoDomain(err)) throw err;
  }
  await conn.close();
  conn = undefined;
};

describe.each(generations())('Domain handles on a real QEMU guest: $label', (gen) => {
  afterAll(cleanup);

  it('defines, starts, suspends, resumes, destroys and undefines with the right states and reasons', async () => {
    conn = await connect(hostOf(gen, 0, 'TCP'));
    const dom = await conn.domainDefineXML(guestXml(NAME));
    expect(dom.name).toBe(NAME);
    expect(dom.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(dom.id).toBe(-1);
    expect(await dom.state()).toMatchObject({ state: 'shutoff', stateCode: 5 });

    await dom.createWithFlags();
    expect(dom.id).toBeGreaterThan(0);
    expect(await dom.state()).toEqual({
      state: 'running',
      reason: 'booted',
      stateCode: 1,
      reasonCode: 1,
    });
    const info = await dom.getInfo();
    expect(info).toMatchObject({ state: 1 /* RUNNING */, maxMem: 131072n, nrVirtCpu: 1 });

    // the guest really runs: its memory counter moves
    const c1 = await guestCounter(conn, dom.wire);
    await new Promise((r) => setTimeout(r, 300));
    const c2 = await guestCounter(conn, dom.wire);
    expect(c2).not.toBe(c1);

    await dom.suspend();
    expect(await dom.state()).toEqual({
      state: 'paused',
      reason: 'user',
      stateCode: 3,
      reasonCode: 1,
    });
    const frozen = await guestCounter(conn, dom.wire);
    await new Promise((r) => setTimeout(r, 200));
    expect(await guestCounter(conn, dom.wire)).toBe(frozen);

    await dom.resume();
    expect(await dom.state()).toMatchObject({ state: 'running', reason: 'unpaused' });

    // lookups by name, UUID and id find the same domain
    expect((await conn.lookupDomain(dom.uuid)).name).toBe(NAME);
    expect((await conn.domainLookupByID(dom.id)).uuid).toBe(dom.uuid);
    expect((await conn.listAllDomains(1 /* ACTIVE */)).map((d) => d.name)).toContain(NAME);
    expect(await dom.getXMLDesc()).toContain(`<name>${NAME}</name>`);

    // starting a running domain is refused with the daemon's own error
    const again = await dom.createWithFlags().catch((e: unknown) => e);
    expect(isOperationInvalid(again)).toBe(true);

    await dom.destroy();
    expect(await dom.state()).toEqual({
      state: 'shutoff',
      reason: 'destroyed',
      stateCode: 5,
      reasonCode: 2,
    });
    await dom.undefine();
    const gone = await conn.lookupDomain(NAME).catch((e: unknown) => e);
    expect(isNoDomain(gone)).toBe(true);
  });

  it('creates a transient domain that disappears when destroyed', async () => {
    conn ??= await connect(hostOf(gen, 0, 'TCP'));
    const dom = await conn.domainCreateXML(guestXml(`${NAME}-t`));
    try {
      expect(dom.id).toBeGreaterThan(0);
      expect((await dom.state()).state).toBe('running');
    } finally {
      await dom.destroy();
    }
    expect(isNoDomain(await conn.lookupDomain(`${NAME}-t`).catch((e: unknown) => e))).toBe(true);
  });
});
