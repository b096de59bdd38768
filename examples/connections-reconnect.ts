// docs/connections.md: a supervised connection outlives its daemon. When the
// link ends it reconnects with backoff, registers its event subscriptions
// again, marks the gap in each of them, and its handles keep working.
// runs on: simulator
import { connect, isEventGap } from 'virtwire';
import { Simulator } from 'virtwire/testing';

const vm = { name: 'vm1', uuid: '7669727a-0000-4000-8000-00000000e001', state: 'shutoff' as const };

// a daemon on a TCP port that outlives it, so the second one answers the same URI
let daemon = await Simulator.start({ tcp: true, domains: [vm] });
const uri = daemon.uris.tcp!;
const port = Number(new URL(uri.replace(/^qemu\+tcp:/, 'tcp:')).port);

const conn = await connect(uri, { reconnect: { initialDelayMs: 50, maxDelayMs: 1000 } });
conn.onStateChange((c) => console.log(`state: ${c.from} -> ${c.to}`));

const dom = await conn.lookupDomain('vm1');
const events = conn.events.domain('lifecycle', { domain: dom });
await events.ready;
const next = events[Symbol.asyncIterator]();

// the daemon dies and a new one comes up in its place
await daemon.close();
daemon = await Simulator.start({ tcp: { port }, domains: [vm] });
await conn.whenOpen({ timeoutMs: 10_000 });

// the subscription's first item says events may have been missed, and for how long
const gap = (await next.next()).value;
if (!isEventGap(gap)) throw new Error('expected the gap marker first');
console.log(`gap of ${gap.durationMs} ms (${gap.reason}): resync what you track`);

// the handle from before the restart still works, and the events come again
// (libvirt sends resumed, then started, for a boot)
await dom.create();
for (;;) {
  const ev = (await next.next()).value;
  if (ev === undefined || isEventGap(ev)) throw new Error('expected lifecycle events');
  console.log(`${ev.domain.name}: ${ev.event}/${ev.detail}`);
  if (ev.event === 'started') break;
}

await next.return?.();
await conn.close();
await daemon.close();
