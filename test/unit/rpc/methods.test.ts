/**
 * Typed method tables: one prototype per program, built once and shared by
 * every connection, so a connection's table holds nothing but its client.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { remoteProgram } from '../../../src/generated/remote.js';
import type { Connection } from '../../../src/index.js';
import { findProcedure } from '../../../src/rpc/descriptor.js';
import { Simulator } from '../../../src/testing/index.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const x of open.splice(0).reverse()) await x.close();
});

async function host(name: string): Promise<Connection> {
  const sim = await Simulator.start({ hostname: name });
  open.push(sim);
  const conn = await sim.connect();
  open.push(conn);
  return conn;
}

describe('method tables', () => {
  it('share one prototype per program across connections and keep only the client', async () => {
    const a = await host('tables-a');
    const b = await host('tables-b');
    for (const key of ['remote', 'qemu', 'lxc'] as const) {
      expect(Object.getPrototypeOf(a[key])).toBe(Object.getPrototypeOf(b[key]));
      expect(Object.keys(a[key])).toEqual([]);
      expect(Reflect.ownKeys(a[key])).toHaveLength(1); // the client, under a symbol
      expect(Object.isFrozen(a[key])).toBe(true);
    }
    expect(Object.getPrototypeOf(a.remote)).not.toBe(Object.getPrototypeOf(a.qemu));
    expect(a.remote.connectGetHostname).toBe(b.remote.connectGetHostname);
    // detached from its table, a method has no client: a clear error, not a crash
    const detached = a.remote.connectGetHostname;
    await expect(detached()).rejects.toThrow(
      /^remote\.connectGetHostname was called without its method table: call it as conn\.remote\.connectGetHostname\(\.\.\.\), or bind it first$/,
    );
    expect((await detached.call(b.remote)).hostname).toBe('tables-b');
    // the same method, each table's own client
    expect((await a.remote.connectGetHostname()).hostname).toBe('tables-a');
    expect((await b.remote.connectGetHostname()).hostname).toBe('tables-b');
  });

  it('offers every callable procedure and no event', async () => {
    const a = await host('tables-c');
    expect(typeof a.remote.domainGetInfo).toBe('function');
    expect('connectOpen' in a.remote).toBe(true);
    expect(findProcedure(remoteProgram, 'domainEventLifecycle').event).toBe(true);
    expect('domainEventLifecycle' in a.remote).toBe(false);
    expect('domainMonitorEvent' in a.qemu).toBe(false);
  });
});
