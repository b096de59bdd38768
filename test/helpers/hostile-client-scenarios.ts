/**
 * Scenarios against the client library: a fake daemon (hostile-daemon.ts)
 * answers the open sequence, then lies, floods or stalls while a call is
 * pending. Each scenario also keeps a second connection, to a polite
 * daemon, open throughout: it must still answer afterwards (one hostile
 * connection must not disturb the others).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { QEMU_PROGRAM } from '../../src/generated/qemu.js';
import { type Connection, type ConnectOptions, connect } from '../../src/index.js';
import type { XdrWriter } from '../../src/xdr/index.js';
import {
  HostileDaemon,
  type HostileDaemonOptions,
  type HostilePeer,
  remoteProc,
} from './hostile-daemon.js';
import {
  type Expectation,
  type Outcome,
  type Scenario,
  settle,
  timed,
} from './hostile-scenarios.js';
import {
  KEEPALIVE,
  LARGEST_LEGAL_LENGTH,
  lengthWord,
  type Received,
  Status,
  Type,
  unboundedFrame,
} from './hostile-wire.js';
import { MiB } from './measure.js';
import { frame } from './packets.js';
import { Rng } from './random.js';

const HOSTNAME = remoteProc('CONNECT_GET_HOSTNAME');
const LIST_ALL = remoteProc('CONNECT_LIST_ALL_DOMAINS');

/** A daemon that answers every call correctly: the connection that must survive the others. */
async function politeDaemon(): Promise<HostileDaemon> {
  return HostileDaemon.start({
    script: async (peer) => {
      for (;;) {
        const m = await peer.nextCall();
        if (m.head.proc === HOSTNAME.number) peer.reply(m, HOSTNAME, { hostname: 'polite' });
      }
    },
  });
}

/**
 * Runs `attack` with a polite connection open beside it, then checks that
 * the polite connection still answers within a second.
 */
export async function besidePolite(attack: () => Promise<Outcome>): Promise<Outcome> {
  const polite = await politeDaemon();
  let conn: Connection | null = null;
  try {
    conn = await connect(polite.uri, { timeoutMs: 5000 });
    const out = await attack();
    const after = await settle(() =>
      conn!.remote.connectGetHostname(undefined, { timeoutMs: 1000 }),
    );
    const problems = [...out.problems];
    if (after !== 'ok') problems.push(`the polite connection failed afterwards: ${after}`);
    return { ...out, problems };
  } finally {
    await conn?.close().catch(() => {});
    await polite.close();
  }
}

/** Connects to a hostile daemon running `script`, calls CONNECT_GET_HOSTNAME, and reports how it settled. */
export function hostnameCall(
  daemon: HostileDaemonOptions,
  opts: {
    connect?: ConnectOptions;
    timeoutMs?: number;
    /** Extra checks once the call settled, with the connection (if it opened). */
    after?: (conn: Connection, d: HostileDaemon) => Promise<string[]>;
  } = {},
): () => Promise<Outcome> {
  return () =>
    besidePolite(async () => {
      await using d = await HostileDaemon.start(daemon);
      const box: { conn: Connection | null } = { conn: null };
      const { outcome, ms } = await timed(async () => {
        box.conn = await connect(d.uri, { timeoutMs: 5000, ...opts.connect });
        await box.conn.remote.connectGetHostname(undefined, { timeoutMs: opts.timeoutMs });
      });
      const problems: string[] = d.scriptErrors.map((e) => `daemon script failed: ${String(e)}`);
      if (box.conn && opts.after) problems.push(...(await opts.after(box.conn, d)));
      await box.conn?.close().catch(() => {});
      return { outcome, problems, ms };
    });
}

/** A script that waits for the first call and answers it with `fn`. */
export const onCall =
  (fn: (peer: HostilePeer, m: Received) => void | Promise<void>) =>
  async (peer: HostilePeer): Promise<void> => {
    const m = await peer.nextCall();
    await fn(peer, m);
  };

/** A script that answers every later call properly (after the first one, done by `first`). */
const thenPolite =
  (first: (peer: HostilePeer, m: Received) => void) =>
  async (peer: HostilePeer): Promise<void> => {
    first(peer, await peer.nextCall());
    for (;;) {
      const m = await peer.nextCall();
      if (m.head.proc === HOSTNAME.number) peer.reply(m, HOSTNAME, { hostname: 'fine' });
    }
  };

/** After the call, the same connection must still answer one: it was not torn down. */
const stillOpen = async (conn: Connection): Promise<string[]> => {
  const r = await settle(() => conn.remote.connectGetHostname(undefined, { timeoutMs: 1000 }));
  return r === 'ok' ? [] : [`the connection did not answer the next call: ${r}`];
};

export const CLOSED_PROTOCOL = 'ConnectionClosedError(error, ProtocolError)';
export const quick = (outcome: string | string[], peakMiB = 16): Expectation => ({
  outcome: Array.isArray(outcome) ? outcome : [outcome],
  withinMs: 2000,
  peakMiB,
});

export const hostnameBody = (name: string) => (w: XdrWriter) => w.writeString(name, 0xffffffff);

/** Length words a peer may send: too small for a header, the limits, and absurd ones. */
const BAD_LENGTHS = [0, 1, 4, 27, LARGEST_LEGAL_LENGTH + 1, 2 ** 31, 2 ** 32 - 1];

function lengthScenarios(transport: 'tcp' | 'unix'): Scenario[] {
  const prefix = transport === 'unix' ? 'unix: ' : '';
  return BAD_LENGTHS.map((n) => ({
    name: `${prefix}length word ${n} in reply to a pending call`,
    side: 'client' as const,
    expect: quick(CLOSED_PROTOCOL),
    run: hostnameCall({
      unix: transport === 'unix',
      script: onCall((peer) => {
        peer.send(Buffer.concat([lengthWord(n), Buffer.alloc(28)]));
      }),
    }),
  }));
}

/** Replies to the pending call with one header field changed. */
function headerLie(name: string, over: Partial<Received['head']>, expect: Expectation): Scenario {
  return {
    name,
    side: 'client',
    expect,
    run: hostnameCall({
      script: onCall((peer, m) => {
        peer.replyRaw(m, hostnameBody('liar'), over);
      }),
    }),
  };
}

/** The largest legal length word and a header for the pending serial, then nothing. */
const largestThenSilence = (peer: HostilePeer, m: Received): void => {
  const head = frame({ ...m.head, type: Type.REPLY, status: Status.OK });
  head.writeUInt32BE(LARGEST_LEGAL_LENGTH, 0);
  peer.send(head);
};

/** Sees every message the client publishes on `virtwire:rpc:message` while `fn` runs. */
async function withMessages<T>(
  fn: (seen: Array<Record<string, unknown>>) => Promise<T>,
): Promise<T> {
  const seen: Array<Record<string, unknown>> = [];
  const onMessage = (m: unknown): void => {
    seen.push(m as Record<string, unknown>);
  };
  subscribe('virtwire:rpc:message', onMessage);
  try {
    return await fn(seen);
  } finally {
    unsubscribe('virtwire:rpc:message', onMessage);
  }
}

/**
 * A packet of `type` carrying the pending call's serial. libvirt's client
 * hands a STREAM packet to the stream with that serial and a MESSAGE to the
 * program's event handler; with neither, the packet is dropped and the call
 * keeps waiting. virtwire must do the same, and say so in a trace (the
 * `virtwire:rpc:message` channel shows the packet); the call then ends by
 * its own timeout.
 */
function pendingSerialPacket(type: number, label: string): Scenario {
  return {
    name: `${label} packet carrying a pending call's serial`,
    side: 'client',
    expect: quick('TimeoutError'),
    run: () =>
      withMessages((seen) =>
        hostnameCall(
          {
            script: onCall((peer, m) => {
              peer.send(frame({ ...m.head, type, status: Status.OK }, hostnameBody('x')));
            }),
          },
          {
            timeoutMs: 300,
            after: async () =>
              seen.some((s) => s.direction === 'recv' && s.type === type)
                ? []
                : [`no virtwire:rpc:message trace of the ${label} packet`],
          },
        )(),
      ),
  };
}

export function framingScenarios(): Scenario[] {
  return [
    ...lengthScenarios('tcp'),
    ...lengthScenarios('unix').filter(
      (s) => s.name.includes(' 0 ') || s.name.includes('4294967295'),
    ),
    {
      name: 'length word 28 (a header, no payload) for a call that returns a string',
      side: 'client',
      expect: quick('ProtocolError'),
      run: hostnameCall(
        { script: thenPolite((peer, m) => peer.replyRaw(m)) },
        { after: stillOpen },
      ),
    },
    {
      name: 'largest legal length, then silence (call timeout 500 ms)',
      side: 'client',
      expect: { outcome: ['TimeoutError'], withinMs: 2000, peakMiB: 8 },
      run: hostnameCall({ script: onCall(largestThenSilence) }, { timeoutMs: 500 }),
    },
    {
      name: 'largest legal length, then silence, keepalive 1 s x 1',
      side: 'client',
      expect: { outcome: ['ConnectionClosedError(keepalive)'], withinMs: 4000, peakMiB: 8 },
      run: hostnameCall(
        { answerPings: false, script: onCall(largestThenSilence) },
        { connect: { keepalive: { interval: 1, count: 1 } } },
      ),
    },
    {
      name: '8 connections each announced the largest legal length',
      side: 'client',
      expect: { outcome: ['TimeoutError'], withinMs: 3000, peakMiB: 16 },
      run: () =>
        besidePolite(async () => {
          await using d = await HostileDaemon.start({ script: onCall(largestThenSilence) });
          const conns = await Promise.all(
            Array.from({ length: 8 }, () => connect(d.uri, { timeoutMs: 5000 })),
          );
          const outcomes = await Promise.all(
            conns.map((c) =>
              settle(() => c.remote.connectGetHostname(undefined, { timeoutMs: 800 })),
            ),
          );
          await Promise.all(conns.map((c) => c.close().catch(() => {})));
          const other = outcomes.find((o) => o !== outcomes[0]);
          return {
            outcome: outcomes[0]!,
            problems: other ? [`connections ended differently: ${other}`] : [],
          };
        }),
    },
  ];
}

export function headerScenarios(): Scenario[] {
  return [
    headerLie(
      'reply naming another program for a pending serial',
      { prog: QEMU_PROGRAM },
      quick(CLOSED_PROTOCOL),
    ),
    headerLie(
      'reply naming another version for a pending serial',
      { vers: 2 },
      quick(CLOSED_PROTOCOL),
    ),
    // libvirt matches replies on program, version and serial, not on the procedure.
    headerLie('reply naming another procedure for a pending serial', { proc: 999 }, quick('ok')),
    headerLie(
      'a CALL from the daemon with a pending serial',
      { type: Type.CALL },
      quick(CLOSED_PROTOCOL),
    ),
    headerLie('message type 99 for a pending serial', { type: 99 }, quick(CLOSED_PROTOCOL)),
    headerLie('status 7 for a pending serial', { status: 7 }, quick(CLOSED_PROTOCOL)),
    headerLie(
      'status CONTINUE for a pending serial',
      { status: Status.CONTINUE },
      quick('ProtocolError'),
    ),
    headerLie(
      'reply for a serial no call is waiting for',
      { serial: 0x7fff0000 },
      quick(CLOSED_PROTOCOL),
    ),
    pendingSerialPacket(Type.STREAM, 'STREAM'),
    pendingSerialPacket(Type.MESSAGE, 'MESSAGE'),
    pendingSerialPacket(Type.STREAM_HOLE, 'STREAM_HOLE'),
  ];
}

export function payloadScenarios(): Scenario[] {
  return [
    {
      name: 'truncated payload (string length 100, 10 bytes sent)',
      side: 'client',
      expect: quick('ProtocolError'),
      run: hostnameCall(
        {
          script: thenPolite((peer, m) =>
            peer.replyRaw(m, (w) => {
              w.writeUint(100);
              for (let i = 0; i < 10; i++) w.writeUint(0x61616161);
            }),
          ),
        },
        { after: stillOpen },
      ),
    },
    {
      name: 'trailing payload (8 bytes after the result)',
      side: 'client',
      expect: quick('ProtocolError'),
      run: hostnameCall(
        {
          script: thenPolite((peer, m) =>
            peer.replyRaw(m, (w) => {
              w.writeString('host', 100);
              w.writeUhyper(0n);
            }),
          ),
        },
        { after: stillOpen },
      ),
    },
    {
      name: 'string over its bound (4 MiB + 1)',
      side: 'client',
      expect: quick('ProtocolError', 48),
      run: hostnameCall(
        {
          script: thenPolite((peer, m) =>
            peer.send(
              unboundedFrame(
                { ...m.head, type: Type.REPLY, status: Status.OK },
                hostnameBody('x'.repeat(4 * MiB + 1)),
              ),
            ),
          ),
        },
        { after: stillOpen },
      ),
    },
    {
      name: 'array count 2^32-1 in a list reply',
      side: 'client',
      expect: quick('ProtocolError'),
      run: () =>
        besidePolite(async () => {
          await using d = await HostileDaemon.start({
            script: onCall((peer, m) => {
              peer.replyRaw(m, (w) => {
                w.writeUint(0xffffffff);
                w.writeUint(1);
              });
            }),
          });
          const conn = await connect(d.uri, { timeoutMs: 5000 });
          const outcome = await settle(() =>
            conn.remote.connectListAllDomains({ needResults: 1, flags: 0 }, { timeoutMs: 1000 }),
          );
          await conn.close();
          return { outcome, problems: LIST_ALL.ret ? [] : ['no codec'] };
        }),
    },
    {
      name: 'ERROR reply whose remote_error is cut short',
      side: 'client',
      expect: quick('ProtocolError'),
      run: hostnameCall({
        script: onCall((peer, m) => {
          peer.replyRaw(m, (w) => w.writeInt(42), { status: Status.ERROR });
        }),
      }),
    },
    {
      name: '2000 random frames while a call is pending',
      side: 'client',
      expect: quick(['TimeoutError', 'ProtocolError', 'ok', CLOSED_PROTOCOL], 32),
      run: hostnameCall(
        {
          script: onCall((peer, m) => {
            const rng = new Rng(0x19);
            for (let i = 0; i < 2000; i++) {
              const body = Buffer.alloc(rng.below(64));
              for (let j = 0; j < body.length; j++) body[j] = rng.below(256);
              const types = [Type.REPLY, Type.MESSAGE, Type.STREAM, Type.STREAM_HOLE, 9];
              const head = {
                prog: [m.head.prog, KEEPALIVE, QEMU_PROGRAM, rng.next()][rng.below(4)]!,
                vers: rng.below(2) ? 1 : rng.next(),
                proc: rng.below(500),
                type: types[rng.below(types.length)]!,
                serial: rng.below(2) ? m.head.serial : rng.next(),
                status: rng.below(4),
              };
              peer.send(frame(head, (w) => w.writeFixedOpaque(body, body.length)));
            }
          }),
        },
        { timeoutMs: 500 },
      ),
    },
  ];
}
