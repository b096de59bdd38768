// A simulator in a process of its own, for benches that measure the client side alone
// (bench/scale.ts): listens on TCP (or --unix=PATH), prints its URI as one JSON line on
// stdout, and runs until its stdin closes.
//
//   node --import tsx bench/lib/sim-server.ts [--unix=PATH] [--domains=N] [--keepalive=SEC]

import { Simulator } from '../../src/testing/index.js';

const arg = (name: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const domains = Number(arg('domains') ?? 1);
const unix = arg('unix');
const keepalive = Number(arg('keepalive') ?? 5);

const sim = await Simulator.start({
  ...(unix ? { unix } : { tcp: true }),
  keepalive: { interval: keepalive },
  domains: Array.from({ length: domains }, (_, i) => ({
    name: `vm${i}`,
    state: 'running' as const,
  })),
});
process.stdout.write(`${JSON.stringify({ uri: sim.uri, pid: process.pid })}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  void sim.close().then(() => process.exit(0));
});
