import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { runHarness } from '../../scripts/lib/harness.js';
import {
  ConnectionClosedError,
  connect,
  connectAdmin,
  isNoDomain,
  RemoteError,
} from '../../src/index.js';
import { type Generation, generations, hostOf } from '../helpers/hosts.js';

/** The generations whose second host the kill tests took down. */
const damaged = new Set<Generation>();

/** Brings a generation's hosts back after a kill test: `up` restarts only what is down. */
function restore(gen: Generation): void {
  const r = runHarness(gen.key === 'bookworm' ? 'up' : ['up-gen', gen.key]);
  if (!r.ok) throw new Error(`could not restore the ${gen.key} test hosts: ${r.out}`);
  damaged.delete(gen);
}

afterAll(() => {
  // The kill test takes a second host's daemon down; bring it back for the files that follow.
  for (const gen of [...damaged]) restore(gen);
});

describe.each(generations())('$label', (gen) => {
  const daemonPid = (): number => Number(readFileSync(hostOf(gen, 1, 'PIDFILE'), 'utf8').trim());

  describe('RPC engine against a real libvirtd', () => {
    it('carries 500 concurrent calls of mixed procedures on one connection, each with its own result', async () => {
      await using conn = await connect(hostOf(gen, 0, 'TEST'));
      // sequential answers first: the reference for every concurrent call
      const libVer = (await conn.remote.connectGetLibVersion()).libVer;
      const hostname = (await conn.remote.connectGetHostname()).hostname;
      const features: boolean[] = [];
      for (let f = 0; f < 20; f++) features.push(await conn.supportsFeature(f));
      const doms = await conn.listAllDomains();
      expect(doms.length).toBeGreaterThan(0);

      const calls = Array.from({ length: 500 }, (_, i) => {
        switch (i % 4) {
          case 0:
            return conn.remote.connectGetLibVersion().then((r) => expect(r.libVer).toBe(libVer));
          case 1:
            return conn.remote.connectGetHostname().then((r) => expect(r.hostname).toBe(hostname));
          case 2:
            // the procedure itself: conn.supportsFeature() answers a feature it knows from memory
            return conn.remote
              .connectSupportsFeature({ feature: i % 20 })
              .then((r) => expect(r.supported !== 0).toBe(features[i % 20]));
          default:
            return conn.remote
              .domainLookupByName({ name: doms[0]!.name })
              .then((r) => expect(r.dom.name).toBe(doms[0]!.name));
        }
      });
      expect(conn.rpc.inFlight).toBe(500);
      await Promise.all(calls);
      expect(conn.rpc.inFlight).toBe(0);
    });

    it('reports daemon errors as RemoteError with every remote_error field', async () => {
      await using conn = await connect(hostOf(gen, 0, 'TCP'));
      const err = await conn.remote
        .domainLookupByName({ name: 'no-such-domain' })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RemoteError);
      expect(isNoDomain(err)).toBe(true);
      const e = err as RemoteError;
      expect(e.codeName).toBe('VIR_ERR_NO_DOMAIN');
      expect(e.domainName).toBe('VIR_FROM_QEMU');
      expect(e.levelName).toBe('VIR_ERR_ERROR');
      expect(e.str2).toContain('no-such-domain');
      expect(e.procedure).toBe('remote.DOMAIN_LOOKUP_BY_NAME');
      // the connection stays usable after an error reply
      expect((await conn.remote.connectGetLibVersion()).libVer).toBeGreaterThan(0n);
    });

    it('rejects every pending call with ConnectionClosedError within 1 s when libvirtd is killed', async () => {
      const conn = await connect(hostOf(gen, 1, 'TCP'), { keepalive: { interval: 0 } });
      const pid = daemonPid();
      damaged.add(gen);
      process.kill(pid, 'SIGSTOP'); // calls queue up unanswered...
      const pending = Array.from({ length: 20 }, () =>
        conn.remote.connectGetHostname().then(
          () => 'resolved',
          (e: unknown) => e,
        ),
      );
      await new Promise((r) => setTimeout(r, 200));
      expect(conn.rpc.inFlight).toBe(20);
      const t0 = performance.now();
      process.kill(pid, 'SIGKILL'); // ...then the daemon dies with them in flight
      const results = await Promise.all(pending);
      const elapsed = performance.now() - t0;
      expect(elapsed).toBeLessThan(1000);
      for (const r of results) {
        expect(r).toBeInstanceOf(ConnectionClosedError);
        expect((r as ConnectionClosedError).reason).toMatch(/^(eof|error)$/);
      }
      expect((await conn.closed).reason).toMatch(/^(eof|error)$/);
      await expect(conn.remote.connectGetHostname()).rejects.toBeInstanceOf(ConnectionClosedError);
    });

    it('keepalive closes the connection to a frozen daemon within interval x (count + 1) + 1 s', async () => {
      if (damaged.has(gen)) restore(gen);
      const interval = 1;
      const count = 2;
      const conn = await connect(hostOf(gen, 1, 'TCP'), { keepalive: { interval, count } });
      expect(conn.features.keepalive).toBe(true);
      const pid = daemonPid();
      const t0 = performance.now();
      process.kill(pid, 'SIGSTOP');
      try {
        const call = conn.remote.connectGetHostname().catch((e: unknown) => e);
        const info = await conn.closed;
        const elapsed = (performance.now() - t0) / 1000;
        expect(info.reason).toBe('keepalive');
        expect(elapsed).toBeLessThan(interval * (count + 1) + 1);
        expect(elapsed).toBeGreaterThan(interval * count);
        const err = await call;
        expect(err).toBeInstanceOf(ConnectionClosedError);
        expect((err as ConnectionClosedError).reason).toBe('keepalive');
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      // the daemon, thawed, still serves new connections
      await using again = await connect(hostOf(gen, 1, 'TCP'));
      expect((await again.remote.connectGetLibVersion()).libVer).toBeGreaterThan(0n);
    });
  });

  describe('admin program against a real libvirtd', () => {
    it('lists the daemon servers and their clients through the admin socket', async () => {
      await using adm = await connectAdmin(hostOf(gen, 0, 'ADMIN_SOCKET'));
      const { libVer } = await adm.admin.connectGetLibVersion();
      expect(libVer).toBe(gen.libVer); // the generation's own daemon answers
      const { servers } = await adm.admin.connectListServers({ needResults: 1, flags: 0 });
      const names = servers.map((s) => s.name);
      expect(names).toContain('libvirtd');
      expect(names).toContain('admin');
      // our own admin connection shows up as a client of the admin server
      const { clients } = await adm.admin.serverListClients({
        srv: servers.find((s) => s.name === 'admin')!,
        needResults: 1,
        flags: 0,
      });
      expect(clients.length).toBeGreaterThanOrEqual(1);
    });
  });
});
