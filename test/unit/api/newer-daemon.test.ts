/**
 * What a daemon newer than virtwire's tables (libvirt 11.3.0's protocol) may
 * send, handled as libvirt's own client of that age handles it. libvirt 12.x
 * added domain events (vcpu-removed, channel-lifecycle: event ids 28 and 29,
 * procedures after 453) that a client can register for by number; the 11.3 C
 * client, finding no entry for such an event procedure, logs it and drops the
 * message, and its connection and other callbacks carry on. virtwire must do
 * the same, not fail the connection.
 */
import { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { REMOTE_PROGRAM, remoteProgram } from '../../../src/generated/remote.js';
import { type Connection, connect, type Transport } from '../../../src/index.js';
import { duplexPair } from '../../../src/testing/duplex.js';
import { Simulator } from '../../../src/testing/index.js';
import { frame } from '../../helpers/packets.js';

const MESSAGE = 2;
/** After NIC_MAC_CHANGE (453), the last 11.3 procedure: where 12.x's new event procedures went. */
const NEWER_EVENT_PROCS = [454, 455];

let sim: Simulator | undefined;
let conn: Connection | undefined;
afterEach(async () => {
  await conn?.close();
  await sim?.close();
});

/**
 * The simulator's in-memory transport with a tap: `inject` puts a whole
 * message into the stream towards the client, between the simulator's own.
 */
function tapped(s: Simulator): { transport: Transport; inject: (b: Buffer) => void } {
  let toClient: ((b: Buffer) => void) | undefined;
  const transport: Transport = async (uri, opts) => {
    const inner = await s.transport()(uri, opts);
    // The simulator's in-memory transport hands out a Node stream, not a Channel.
    if (!(inner instanceof Duplex)) throw new Error('the simulator transport gave no Duplex');
    const [client, mine] = duplexPair();
    inner.on('data', (b: Buffer) => mine.write(b));
    mine.on('data', (b: Buffer) => inner.write(b));
    inner.on('close', () => mine.destroy());
    mine.on('close', () => inner.destroy());
    toClient = (b) => mine.write(b);
    return client;
  };
  return {
    transport,
    inject: (b) => {
      if (!toClient) throw new Error('not connected');
      toClient(b);
    },
  };
}

describe('an event procedure newer than the tables', () => {
  it('is not in the 11.3 tables (the premise)', () => {
    for (const p of NEWER_EVENT_PROCS)
      expect(remoteProgram.procedures.some((x) => x.number === p)).toBe(false);
    expect(Math.max(...remoteProgram.procedures.map((x) => x.number))).toBe(453);
  });

  it('is dropped, and the connection, its calls and its other subscriptions carry on', async () => {
    sim = await Simulator.start({ domains: [{ name: 'vm', state: 'running' }] });
    const tap = tapped(sim);
    conn = await connect(sim.uri, { transport: tap.transport });
    const sub = conn.events.domain('lifecycle');
    await sub.ready;
    const before = { ...conn.events.stats };
    // what a 12.x daemon sends for a registered event id 28/29: callbackID, domain, fields
    for (const proc of NEWER_EVENT_PROCS) {
      tap.inject(
        frame({ prog: REMOTE_PROGRAM, vers: 1, proc, type: MESSAGE, serial: 0, status: 0 }, (w) => {
          w.writeInt(0); // callbackID
          w.writeString('vm', 256);
          w.writeFixedOpaque(new Uint8Array(16), 16);
          w.writeInt(1);
          w.writeString('vcpu1', 256);
        }),
      );
    }
    const d = await conn.lookupDomain('vm');
    await d.suspend();
    const e = await sub.next({ signal: AbortSignal.timeout(2000) });
    expect(`${e.domain.name} ${e.event}`).toBe('vm suspended');
    const open = await Promise.race([
      conn.closed.then(() => false),
      new Promise<boolean>((r) => setTimeout(() => r(true), 50)),
    ]);
    expect(open).toBe(true);
    expect((await d.state()).state).toBe('paused');
    // nothing was delivered, or counted as unclaimed, for the unknown procedures
    expect(conn.events.stats.unclaimed).toBe(before.unclaimed);
    expect(conn.events.stats.delivered).toBe(before.delivered + 1);
  });
});
