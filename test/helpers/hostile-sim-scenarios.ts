/**
 * Scenarios against the simulator: a hostile client (hostile-client.ts)
 * sends oversized strings to every handler, malformed frames, floods it
 * never reads the answers to, thousands of connections that vanish, and
 * documents built to make a parser work too hard. Throughout, a well-behaved
 * virtwire client stays connected to the same simulator and must still be
 * answered afterwards.
 */
import { VirDomainMigrateFlags } from '../../src/generated/api.js';
import { remoteProgram } from '../../src/generated/remote.js';
import { type Connection, connect, RemoteError } from '../../src/index.js';
import type { HostMigrations } from '../../src/testing/migration/index.js';
import { remoteHandlers } from '../../src/testing/procedures.js';
import { Simulator, type SimulatorOptions } from '../../src/testing/simulator.js';
import { addressOf, HostileClient, stringCases } from './hostile-client.js';
import {
  describeOutcome,
  type Outcome,
  type Scenario,
  settle,
  sleep,
  until,
} from './hostile-scenarios.js';
import { lengthWord, REMOTE, Type } from './hostile-wire.js';
import { collectGarbage, MiB } from './measure.js';
import { frame } from './packets.js';
import { Rng } from './random.js';

const proc = (name: string) => remoteProgram.procedures.find((p) => p.name === name)!;
const DEFINE = proc('DOMAIN_DEFINE_XML_FLAGS');
const LOOKUP = proc('DOMAIN_LOOKUP_BY_NAME');
const HOSTNAME = proc('CONNECT_GET_HOSTNAME');
const CAPS = proc('CONNECT_GET_CAPABILITIES');
const REGISTER_ANY = proc('CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY');
const PERFORM3 = proc('DOMAIN_MIGRATE_PERFORM3_PARAMS');

/** The protocol's string bound: the largest string a client may legally send. */
const AT_BOUND = 'x'.repeat(4 * MiB);

/**
 * Starts a simulator with one running guest, keeps a polite virtwire client
 * connected to it while `attack` runs, and then checks that the polite
 * client is still answered and the guest still listed.
 */
async function besidePolite(
  opts: SimulatorOptions,
  attack: (sim: Simulator, polite: Connection) => Promise<Outcome>,
): Promise<Outcome> {
  const sim = await Simulator.start({
    tcp: true,
    domains: [{ name: 'vm1', state: 'running' }],
    ...opts,
  });
  let polite: Connection | null = null;
  try {
    polite = await connect(sim.uri, { timeoutMs: 5000 });
    const out = await attack(sim, polite);
    const problems = [...out.problems];
    const after = await settle(() =>
      polite!.remote.connectGetHostname(undefined, { timeoutMs: 2000 }),
    );
    if (after !== 'ok') problems.push(`the polite client was not answered afterwards: ${after}`);
    return { outcome: out.outcome, problems };
  } finally {
    await polite?.close().catch(() => {});
    await sim.close();
  }
}

/** How a hostile client's call was answered. */
function answer(r: Awaited<ReturnType<HostileClient['call']>>): string {
  if (r === null) return 'ConnectionClosedError(eof)';
  if (r.error) return describeOutcome(new RemoteError(r.error, ''));
  return 'ok';
}

const vm1Uuid = (sim: Simulator): Uint8Array =>
  Uint8Array.from(Buffer.from(sim.domain('vm1')!.uuid.replaceAll('-', ''), 'hex'));

export function stringScenarios(): Scenario[] {
  return [
    {
      name: 'a 4 MiB string in every string argument of every handler',
      side: 'simulator',
      // Each case holds a 4 MiB argument and an 8 MiB error reply on both sides at once.
      expect: { outcome: ['ok'], withinMs: 120_000, peakMiB: 384 },
      run: () =>
        besidePolite({}, async (sim) => {
          const cases = stringCases(
            // only the procedure names are read: no handler runs, so no migrations are needed
            remoteHandlers({} as HostMigrations).keys(),
            AT_BOUND,
            vm1Uuid(sim),
          );
          const problems: string[] = [];
          let c = await HostileClient.connect(addressOf(sim.uri));
          await c.open();
          for (const [i, k] of cases.entries()) {
            // Each case leaves ~40 MiB of garbage (4 MiB strings, reply buffers) that V8
            // collects when it pleases: measure the working set, not the collector's mood.
            if (i % 8 === 7) collectGarbage();
            const r = await c.call(k.proc, k.args);
            if (r === null) {
              problems.push(`${k.proc.method}(${k.path}): connection dropped`);
              c = await HostileClient.connect(addressOf(sim.uri));
              await c.open();
            }
          }
          c.destroy();
          if (cases.length < 50) problems.push(`only ${cases.length} cases`);
          return {
            outcome: problems.length === 0 ? 'ok' : 'dropped',
            problems: problems.slice(0, 10),
          };
        }),
    },
    {
      name: 'DOMAIN_LOOKUP_BY_NAME with a 4 MiB name (a synchronous handler)',
      side: 'simulator',
      expect: { outcome: ['RemoteError(VIR_ERR_NO_DOMAIN)'], withinMs: 5000, peakMiB: 128 },
      run: () =>
        besidePolite({}, async (sim) => {
          const c = await HostileClient.connect(addressOf(sim.uri));
          await c.open();
          const outcome = answer(await c.call(LOOKUP, { name: AT_BOUND }));
          c.destroy();
          return { outcome, problems: [] };
        }),
    },
    {
      name: 'DOMAIN_LOOKUP_BY_NAME with a name over the bound (4 MiB + 1)',
      side: 'simulator',
      expect: { outcome: ['RemoteError(VIR_ERR_RPC)'], withinMs: 5000, peakMiB: 96 },
      run: () =>
        besidePolite({}, async (sim) => {
          const c = await HostileClient.connect(addressOf(sim.uri));
          await c.open();
          const outcome = answer(await c.call(LOOKUP, { name: `${AT_BOUND}x` }));
          c.destroy();
          return { outcome, problems: [] };
        }),
    },
    {
      name: 'peer-to-peer PERFORM3_PARAMS with a 4 MiB dconnuri (an async handler)',
      side: 'simulator',
      expect: {
        outcome: [
          'RemoteError(VIR_ERR_OPERATION_FAILED)',
          'RemoteError(VIR_ERR_SYSTEM_ERROR)',
          'RemoteError(VIR_ERR_INTERNAL_ERROR)',
        ],
        withinMs: 5000,
        peakMiB: 128,
      },
      run: () =>
        besidePolite({}, async (sim) => {
          const c = await HostileClient.connect(addressOf(sim.uri));
          await c.open();
          const dom = sim.domain('vm1')!;
          const outcome = answer(
            await c.call(PERFORM3, {
              dom: { name: 'vm1', uuid: vm1Uuid(sim), id: dom.id },
              dconnuri: `qemu+tcp://${'h'.repeat(4 * MiB - 20)}/system`,
              params: [],
              cookieIn: new Uint8Array(0),
              flags:
                VirDomainMigrateFlags.VIR_MIGRATE_PEER2PEER |
                VirDomainMigrateFlags.VIR_MIGRATE_LIVE,
            }),
          );
          c.destroy();
          return { outcome, problems: [] };
        }),
    },
  ];
}

/** A domain definition for DEFINE_XML_FLAGS. */
const domainXml = (name: string, extra = ''): string =>
  `<domain type='qemu'${extra}><name>${name}</name><memory unit='MiB'>64</memory></domain>`;

function defineScenario(name: string, xml: () => string, expect: string, limitMs = 5000): Scenario {
  return {
    name,
    side: 'simulator',
    expect: { outcome: [expect], withinMs: limitMs, peakMiB: 128 },
    run: () =>
      besidePolite({}, async (sim) => {
        const c = await HostileClient.connect(addressOf(sim.uri));
        await c.open();
        const outcome = answer(await c.call(DEFINE, { xml: xml(), flags: 0 }));
        c.destroy();
        return { outcome, problems: [] };
      }),
  };
}

export function xmlScenarios(): Scenario[] {
  const attrs = (n: number) => Array.from({ length: n }, (_, i) => ` a${i}='${i}'`).join('');
  return [
    defineScenario(
      'a domain element with 40,000 attributes',
      () => domainXml('attrs', attrs(40_000)),
      'ok',
    ),
    defineScenario(
      '100,000 nested elements',
      () =>
        `<domain><name>deep</name><memory>1</memory>${'<a>'.repeat(100_000)}${'</a>'.repeat(100_000)}</domain>`,
      'RemoteError(VIR_ERR_XML_DETAIL)',
    ),
    defineScenario(
      'a character reference to U+110000',
      () => domainXml('a&#x110000;b'),
      'RemoteError(VIR_ERR_XML_DETAIL)',
    ),
    defineScenario(
      'a character reference to NUL',
      () => domainXml('a&#x0;b'),
      'RemoteError(VIR_ERR_XML_DETAIL)',
    ),
    defineScenario(
      'a name of 4 MiB - 200 bytes',
      () => domainXml('n'.repeat(4 * MiB - 200)),
      'RemoteError(VIR_ERR_SYSTEM_ERROR)',
    ),
  ];
}

export function frameScenarios(): Scenario[] {
  return [
    {
      name: 'length words 0, 27 and 2^32-1 from 3 clients',
      side: 'simulator',
      expect: { outcome: ['ConnectionClosedError(eof)'], withinMs: 3000, peakMiB: 16 },
      run: () =>
        besidePolite({}, async (sim) => {
          const outcomes = await Promise.all(
            [0, 27, 2 ** 32 - 1].map(async (n) => {
              const c = await HostileClient.connect(addressOf(sim.uri));
              c.send(Buffer.concat([lengthWord(n), Buffer.alloc(28)]));
              const ended = await Promise.race([
                c.closed.then(() => true),
                sleep(2000).then(() => false),
              ]);
              c.destroy();
              return ended ? 'ConnectionClosedError(eof)' : 'still open';
            }),
          );
          const other = outcomes.find((o) => o !== outcomes[0]);
          return { outcome: outcomes[0]!, problems: other ? [`one client: ${other}`] : [] };
        }),
    },
    {
      name: '200 clients sending 50 random frames each',
      side: 'simulator',
      expect: { outcome: ['ok'], withinMs: 20_000, peakMiB: 64 },
      run: () =>
        besidePolite({}, async (sim) => {
          const rng = new Rng(0x5eed19);
          await Promise.all(
            Array.from({ length: 200 }, async () => {
              const c = await HostileClient.connect(addressOf(sim.uri));
              if (rng.below(2)) await c.open();
              for (let i = 0; i < 50; i++) {
                const body = Buffer.alloc(rng.below(96));
                for (let j = 0; j < body.length; j++) body[j] = rng.below(256);
                const head = {
                  prog: [REMOTE, rng.next(), 0x6b656570][rng.below(3)]!,
                  vers: rng.below(4) ? 1 : rng.next(),
                  proc: rng.below(460),
                  type: rng.below(8),
                  serial: rng.next(),
                  status: rng.below(4),
                };
                c.send(frame(head, (w) => w.writeFixedOpaque(body, body.length)));
              }
              await sleep(100);
              c.destroy();
            }),
          );
          const settled = await until(() => sim.connectionCount === 1, 3000);
          return {
            outcome: 'ok',
            problems: settled ? [] : [`${sim.connectionCount - 1} hostile connections still held`],
          };
        }),
    },
    {
      name: '3,000 connections dropped mid-call (FIN, RST, half a frame)',
      side: 'simulator',
      expect: { outcome: ['ok'], withinMs: 60_000, peakMiB: 64 },
      run: () =>
        besidePolite({}, async (sim) => {
          const call = frame({
            prog: REMOTE,
            vers: 1,
            proc: HOSTNAME.number,
            type: Type.CALL,
            serial: 1,
            status: 0,
          });
          for (let i = 0; i < 3000; i += 100) {
            await Promise.all(
              Array.from({ length: 100 }, async (_, k) => {
                const c = await HostileClient.connect(addressOf(sim.uri));
                const how = (i + k) % 3;
                if (how === 0) c.send(call.subarray(0, 13));
                else c.send(call);
                if (how === 1) c.reset();
                else c.end();
              }),
            );
          }
          const settled = await until(() => sim.connectionCount === 1, 5000);
          return {
            outcome: 'ok',
            problems: settled ? [] : [`${sim.connectionCount - 1} dropped connections still held`],
          };
        }),
    },
    {
      name: '8 clients announce the largest legal length and trickle',
      side: 'simulator',
      expect: { outcome: ['ok'], withinMs: 5000, peakMiB: 16 },
      run: () =>
        besidePolite({}, async (sim) => {
          const cs = await Promise.all(
            Array.from({ length: 8 }, () => HostileClient.connect(addressOf(sim.uri))),
          );
          for (const c of cs) c.send(Buffer.concat([lengthWord(32 * MiB + 4), Buffer.alloc(100)]));
          await sleep(500);
          for (const c of cs) c.destroy();
          return { outcome: 'ok', problems: [] };
        }),
    },
  ];
}

export function floodScenarios(): Scenario[] {
  return [
    {
      name: 'a client floods 200,000 calls and never reads a reply',
      side: 'simulator',
      expect: { outcome: ['ok'], withinMs: 60_000, peakMiB: 48 },
      run: () =>
        besidePolite({}, async (sim) => {
          const c = await HostileClient.connect(addressOf(sim.uri));
          await c.open();
          c.stopReading();
          const batch: Buffer[] = [];
          for (let i = 0; i < 256; i++) {
            batch.push(
              frame({
                prog: REMOTE,
                vers: 1,
                proc: CAPS.number,
                type: Type.CALL,
                serial: 100 + i,
                status: 0,
              }),
            );
          }
          const chunk = Buffer.concat(batch);
          // The flooder honours its own socket's backpressure: once the simulator stops
          // reading it, the kernel buffers fill and the flood waits (at most 1 s).
          for (let sent = 0; sent < 200_000; sent += 256) {
            if (!c.send(chunk)) {
              const moved = await Promise.race([
                c.drained().then(() => true),
                sleep(1000).then(() => false),
              ]);
              if (!moved) break;
            }
          }
          c.destroy();
          return { outcome: 'ok', problems: [] };
        }),
    },
    {
      name: 'events for a client that stopped reading (unix socket, backlog limit 4 MiB)',
      side: 'simulator',
      expect: { outcome: ['ConnectionClosedError(eof)'], withinMs: 60_000, peakMiB: 48 },
      run: async () => {
        const path = `/tmp/vw-hostile-${process.pid}-${Date.now()}.sock`;
        return besidePolite(
          { tcp: false, unix: path, limits: { backlogBytes: 4 * MiB } },
          async (sim, polite) => {
            const c = await HostileClient.connect({ path });
            await c.open();
            await c.call(REGISTER_ANY, { eventID: 0, dom: null });
            c.stopReading();
            const name = 'e'.repeat(200);
            // A paused socket does not see its end: watch the simulator's side instead.
            const gone = () => sim.connectionCount < 2;
            let n = 0;
            for (; n < 20_000 && !gone(); n++) {
              const d = await polite.domainDefineXML(domainXml(`${name}${n}`));
              await d.undefine();
            }
            const dropped = await until(gone, 2000);
            c.destroy();
            return {
              outcome: dropped
                ? 'ConnectionClosedError(eof)'
                : `still connected after ${n} defines`,
              problems: [],
            };
          },
        );
      },
    },
  ];
}

export function limitScenarios(): Scenario[] {
  return [
    {
      name: '30,000 calls: sim.calls keeps the last 10,000',
      side: 'simulator',
      expect: { outcome: ['ok'], withinMs: 60_000, peakMiB: 96 },
      run: () =>
        besidePolite({}, async (sim) => {
          const c = await HostileClient.connect(addressOf(sim.uri));
          await c.open();
          for (let i = 0; i < 30_000; i += 500) {
            await Promise.all(Array.from({ length: 500 }, () => c.call(HOSTNAME, undefined)));
          }
          c.destroy();
          const n = sim.calls.length;
          return { outcome: 'ok', problems: n > 10_000 ? [`sim.calls holds ${n} entries`] : [] };
        }),
    },
    {
      name: '100 clients open with a 1 MiB name each: sim.opened stays small',
      side: 'simulator',
      expect: { outcome: ['ok'], withinMs: 60_000, peakMiB: 192 },
      run: () =>
        besidePolite({}, async (sim) => {
          const name = `qemu:///system?x=${'y'.repeat(MiB)}`;
          for (let i = 0; i < 100; i++) {
            const c = await HostileClient.connect(addressOf(sim.uri));
            await c.open(name);
            c.destroy();
          }
          const held = sim.opened.reduce((a, s) => a + s.length, 0);
          return {
            outcome: 'ok',
            problems: held > 2 * MiB ? [`sim.opened holds ${(held / MiB).toFixed(0)} MiB`] : [],
          };
        }),
    },
    {
      name: '20,000 defines: listing still works for every client',
      side: 'simulator',
      expect: { outcome: ['ok'], withinMs: 60_000, peakMiB: 192 },
      run: () =>
        besidePolite({}, async (sim, polite) => {
          let refused = 0;
          for (let i = 0; i < 20_000; i++) {
            try {
              sim.addDomain({ name: `d${i}` });
            } catch {
              refused++;
            }
          }
          const outcome = await settle(() => polite.listAllDomains(0, { timeoutMs: 20_000 }));
          return { outcome, problems: refused === 0 ? ['no define was refused'] : [] };
        }),
    },
    {
      name: 'limits.domains 20,000: listing more than REMOTE_DOMAIN_LIST_MAX fails as libvirtd fails',
      side: 'simulator',
      expect: { outcome: ['RemoteError(VIR_ERR_INTERNAL_ERROR)'], withinMs: 60_000, peakMiB: 192 },
      run: () =>
        besidePolite({ limits: { domains: 20_000 } }, async (sim, polite) => {
          for (let i = 0; i < 16_400; i++) sim.addDomain({ name: `d${i}` });
          const outcome = await settle(() => polite.listAllDomains(0, { timeoutMs: 20_000 }));
          return { outcome, problems: [] };
        }),
    },
  ];
}
