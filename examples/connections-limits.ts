/**
 * Connection limits: the open sequence's time bound and what a daemon can
 * make one connection hold (docs/connections.md, Limits).
 * Runs against the simulator (`virtwire/testing`); pass a URI to run it against a real daemon.
 */
// runs on: simulator
import { connect, DEFAULT_OPEN_TIMEOUT_MS } from 'virtwire';
import { Simulator } from 'virtwire/testing';

await using sim = await Simulator.start({ domains: [{ name: 'vm1', state: 'running' }] });
const uri = process.argv[2];
const options = {
  timeoutMs: DEFAULT_OPEN_TIMEOUT_MS, // the open sequence (30 s); 0 waits without a limit
  limits: {
    maxMessage: 32 * 1024 * 1024, // bytes after the length word (libvirt's VIR_NET_MESSAGE_MAX)
    maxAbandoned: 4096, // timed-out or aborted calls whose serials are remembered
  },
};
await using conn = uri
  ? await connect(uri, options)
  : await connect(sim.uri, { ...options, transport: sim.transport() });

// A call that runs out of time rejects with TimeoutError; its late reply is dropped quietly.
console.log(await conn.getHostname({ timeoutMs: 2000 }).catch((err: Error) => err.name));
// Events that did not decode were dropped and counted, the connection went on.
console.log(conn.events.stats); // { delivered, unclaimed, malformed }
