/**
 * What one simulator may hold (issue 19): domains, name lengths, the call
 * and open-name history, and error strings cut to the protocol's bound so
 * that every error reply encodes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { VirErrorNumber } from '../../../src/generated/api.js';
import { VIR_NET_MESSAGE_STRING_MAX } from '../../../src/generated/virnet.js';
import { type Connection, hasErrorCode, RemoteError } from '../../../src/index.js';
import { boundString, internalError, TRUNCATED } from '../../../src/testing/errors.js';
import { RecentLog } from '../../../src/testing/history.js';
import { Simulator } from '../../../src/testing/index.js';
import { DEFAULT_LIMITS, type SimulatorOptions } from '../../../src/testing/simulator.js';

const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const x of opened.splice(0).reverse()) await x.close();
});
async function start(opts: SimulatorOptions = {}): Promise<[Simulator, Connection]> {
  const s = await Simulator.start(opts);
  opened.push(s);
  const c = await s.connect();
  opened.push(c);
  return [s, c];
}
const XML = (name: string, uuid = '') =>
  `<domain type='qemu'><name>${name}</name>${uuid && `<uuid>${uuid}</uuid>`}<memory unit='MiB'>64</memory></domain>`;
const UUID_B = '0f4a7c2e-3b1d-4e5f-8a9b-0c1d2e3f4a5b';
const failure = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => e,
  );

describe('boundString', () => {
  it('leaves a string that fits alone', () => {
    expect(boundString('abc', 3)).toBe('abc');
    expect(boundString('é', 2)).toBe('é');
  });

  it('cuts between characters and says it did, within the bound', () => {
    const limit = 20;
    for (const s of ['a'.repeat(50), 'é'.repeat(50), '日本'.repeat(30), '🙂'.repeat(30)]) {
      const b = boundString(s, limit);
      expect(b.endsWith(TRUNCATED)).toBe(true);
      expect(Buffer.byteLength(b)).toBeLessThanOrEqual(limit);
      expect(s.startsWith(b.slice(0, -TRUNCATED.length))).toBe(true);
      expect(b).not.toContain('\ufffd');
    }
  });

  it('makes every string of a SimError fit the protocol bound', () => {
    const huge = 'x'.repeat(VIR_NET_MESSAGE_STRING_MAX + 10);
    const w = internalError(huge).toWire();
    for (const s of [w.message, w.str1, w.str2]) {
      expect(Buffer.byteLength(s ?? '')).toBeLessThanOrEqual(VIR_NET_MESSAGE_STRING_MAX);
    }
    expect(w.message?.endsWith(TRUNCATED)).toBe(true);
  });
});

describe('RecentLog', () => {
  it('keeps the most recent entries, oldest first', () => {
    const log = new RecentLog(3);
    for (const x of ['a', 'b', 'c', 'd', 'e']) log.push(x);
    expect(log.toArray()).toEqual(['c', 'd', 'e']);
    const none = new RecentLog(0);
    none.push('a');
    expect(none.toArray()).toEqual([]);
  });
});

describe('simulator limits', () => {
  it('has safe defaults', () => {
    expect(DEFAULT_LIMITS).toEqual({
      domains: 16384,
      nameBytes: 247,
      history: 10_000,
      backlogBytes: 64 * 1024 * 1024,
    });
  });

  it('checks the limits it is given', async () => {
    await expect(Simulator.start({ limits: { domains: -1 } })).rejects.toThrow(
      'limits.domains must be a whole number >= 0, got -1',
    );
    await expect(Simulator.start({ limits: { history: 1.5 } })).rejects.toThrow(
      'limits.history must be a whole number >= 0',
    );
  });

  it('keeps the last `history` calls and open names', async () => {
    const [s, c] = await start({ limits: { history: 4 } });
    for (let i = 0; i < 10; i++) await c.remote.connectGetHostname();
    expect(s.calls).toEqual(Array(4).fill('CONNECT_GET_HOSTNAME'));
    expect(s.opened).toEqual(['qemu:///system']);
  });

  it('refuses a domain past `domains`, as an operation that failed', async () => {
    const [s, c] = await start({ limits: { domains: 2 } });
    await c.domainDefineXML(XML('a'));
    await c.domainDefineXML(XML('b', UUID_B));
    // redefining one that exists is still fine
    await c.domainDefineXML(XML('b', UUID_B));
    const e = await failure(c.domainDefineXML(XML('c')));
    expect(hasErrorCode(e, 'VIR_ERR_OPERATION_FAILED')).toBe(true);
    expect((e as RemoteError).message).toContain('holds at most 2 domains');
    expect(() => s.addDomain({ name: 'd' })).toThrow(TypeError);
    expect(s.domains().map((d) => d.name)).toEqual(['a', 'b']);
  });

  it('refuses a name too long for the QEMU driver’s files, with the error libvirt reports', async () => {
    const [, c] = await start();
    await c.domainDefineXML(XML('n'.repeat(247)));
    const e = await failure(c.domainDefineXML(XML('m'.repeat(248))));
    expect(e).toBeInstanceOf(RemoteError);
    expect((e as RemoteError).code).toBe(VirErrorNumber.VIR_ERR_SYSTEM_ERROR);
    expect((e as RemoteError).message).toMatch(
      /^Failed to create file '\/etc\/libvirt\/qemu\/m+\.xml\.new': File name too long$/,
    );
    const t = await failure(c.domainCreateXML(XML('t'.repeat(300))));
    expect((t as RemoteError).message).toContain("'/run/libvirt/qemu/");
  });

  it('answers a listing over REMOTE_DOMAIN_LIST_MAX with libvirtd’s error', async () => {
    const [s, c] = await start({ limits: { domains: 16385 } });
    for (let i = 0; i < 16385; i++) s.addDomain({ name: `d${i}` });
    const e = await failure(c.listAllDomains());
    expect(hasErrorCode(e, 'VIR_ERR_INTERNAL_ERROR')).toBe(true);
    expect((e as RemoteError).message).toBe(
      "internal error: Too many domains '16385' for limit '16384'",
    );
    expect((e as RemoteError).domainName).toBe('VIR_FROM_RPC');
  });
});
