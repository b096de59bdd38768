/**
 * The diagnostics channels as a subscriber sees them, subscribed by name the
 * way an APM agent does: every call traced (start/end around queueing,
 * asyncStart/asyncEnd/error at settlement) with its sizes and outcome, every
 * message in and out (keepalive and events included), connections opening
 * and closing, data streams opening and closing. Against the simulator in
 * process, and a scripted peer for what the simulator does not do (streams,
 * garbage). Nothing is published while nobody listens.
 */
import dc from 'node:diagnostics_channel';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Channel, ChannelSink } from '../../src/channel.js';
import {
  CHANNELS,
  type ConnectionCloseMessage,
  type ConnectionOpenMessage,
  callChannel,
  messageChannel,
  type RpcCallMessage,
  type RpcWireMessage,
  type StreamCloseMessage,
  type StreamOpenMessage,
} from '../../src/diagnostics.js';
import { KEEPALIVE_PROGRAM } from '../../src/generated/keepalive.js';
import { REMOTE_PROGRAM, remoteProgram } from '../../src/generated/remote.js';
import { connect, ProtocolError, RemoteError, XdrError } from '../../src/index.js';
import { RpcClient } from '../../src/rpc/client.js';
import { findProcedure } from '../../src/rpc/descriptor.js';
import { Framer } from '../../src/rpc/framer.js';
import { openStreamCall } from '../../src/rpc/stream-open.js';
import { Simulator } from '../../src/testing/index.js';
import { frame, type MessageHead, readHead } from '../helpers/packets.js';

type CallEvent = 'start' | 'end' | 'asyncStart' | 'asyncEnd' | 'error';

/** Everything published while it is subscribed, by channel. */
class Recorder {
  readonly calls: Array<{ event: CallEvent; ctx: RpcCallMessage; copy: RpcCallMessage }> = [];
  readonly messages: RpcWireMessage[] = [];
  readonly opened: ConnectionOpenMessage[] = [];
  readonly closed: ConnectionCloseMessage[] = [];
  readonly streamsOpened: StreamOpenMessage[] = [];
  readonly streamsClosed: StreamCloseMessage[] = [];
  private readonly off: Array<() => void> = [];

  constructor() {
    const tracing = dc.tracingChannel<unknown, RpcCallMessage>(CHANNELS.call);
    const on = (event: CallEvent) => (ctx: RpcCallMessage) =>
      this.calls.push({ event, ctx, copy: { ...ctx } });
    const handlers = {
      start: on('start'),
      end: on('end'),
      asyncStart: on('asyncStart'),
      asyncEnd: on('asyncEnd'),
      error: on('error'),
    };
    tracing.subscribe(handlers);
    this.off.push(() => tracing.unsubscribe(handlers));
    const plain = <T>(name: string, into: T[]): void => {
      const fn = (m: unknown): void => {
        into.push(m as T);
      };
      dc.subscribe(name, fn);
      this.off.push(() => dc.unsubscribe(name, fn));
    };
    plain(CHANNELS.message, this.messages);
    plain(CHANNELS.connectionOpen, this.opened);
    plain(CHANNELS.connectionClose, this.closed);
    plain(CHANNELS.streamOpen, this.streamsOpened);
    plain(CHANNELS.streamClose, this.streamsClosed);
  }

  /** The events of the call whose context is `ctx`, in order. */
  eventsOf(ctx: RpcCallMessage): CallEvent[] {
    return this.calls.filter((c) => c.ctx === ctx).map((c) => c.event);
  }

  /** The context of the last call of `procedure`. */
  lastCall(procedure: string): RpcCallMessage {
    const c = this.calls.filter((x) => x.ctx.procedure === procedure).at(-1);
    if (!c) throw new Error(`no call of ${procedure} was traced`);
    return c.ctx;
  }

  stop(): void {
    for (const f of this.off.splice(0)) f();
  }
}

const cleanup: Array<() => Promise<unknown> | undefined> = [];
let rec: Recorder | null = null;
afterEach(async () => {
  rec?.stop();
  rec = null;
  for (const f of cleanup.splice(0).reverse()) await f();
});
function record(): Recorder {
  rec = new Recorder();
  return rec;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, test: () => boolean, ms = 3000): Promise<void> {
  for (const end = Date.now() + ms; !test(); await sleep(10)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
  }
}

describe('diagnostics channels against the simulator', () => {
  it('trace the open sequence, calls, errors, events, keepalive and the close', async () => {
    const sim = await Simulator.start({
      hostname: 'diag',
      keepalive: { interval: 0.1, count: 50 },
      domains: [{ name: 'vm1', state: 'running' }],
    });
    cleanup.push(() => sim.close());
    const r = record();
    const uri = sim.uri.replace('://', '://alice:s3cret@');
    const conn = await connect(uri, { transport: sim.transport() });
    cleanup.push(() => conn.close());
    const id = conn.rpc.id;

    // connection:open, the password replaced
    expect(r.opened).toEqual([
      {
        connectionId: id,
        uri: sim.uri.replace('://', '://alice:***@'),
        transport: 'custom',
        auth: 'none',
        durationMs: expect.any(Number),
      },
    ]);
    expect(r.opened[0]!.durationMs).toBeGreaterThanOrEqual(0);
    // the open sequence went out as traced calls, the first being AUTH_LIST with serial 1
    expect(r.calls[0]).toMatchObject({ event: 'start', ctx: { procedure: 'AUTH_LIST' } });
    expect(r.messages[0]).toEqual({
      connectionId: id,
      direction: 'send',
      prog: REMOTE_PROGRAM,
      vers: 1,
      proc: findProcedure(remoteProgram, 'AUTH_LIST').number,
      type: 0,
      serial: 1,
      status: 0,
      size: 28,
    });

    // a call: start/end around queueing, asyncStart/asyncEnd at the reply, one context
    const got = await conn.remote.connectGetHostname();
    const ok = r.lastCall('CONNECT_GET_HOSTNAME');
    expect(r.eventsOf(ok)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
    const atStart = r.calls.find((c) => c.ctx === ok && c.event === 'start')!.copy;
    expect(atStart).toEqual({
      connectionId: id,
      program: 'remote',
      procedure: 'CONNECT_GET_HOSTNAME',
      proc: findProcedure(remoteProgram, 'CONNECT_GET_HOSTNAME').number,
      serial: 0,
      requestBytes: 0,
    });
    const sent = r.messages.find((m) => m.direction === 'send' && m.serial === ok.serial)!;
    const answer = r.messages.find((m) => m.direction === 'recv' && m.serial === ok.serial)!;
    expect(r.calls.find((c) => c.ctx === ok && c.event === 'end')!.copy).toMatchObject({
      serial: sent.serial,
      requestBytes: sent.size,
    });
    expect(ok).toMatchObject({ replyBytes: answer.size, status: 'ok', result: got });
    expect(ok).not.toHaveProperty('error');
    expect(answer).toMatchObject({ connectionId: id, type: 1, status: 0 });
    expect(answer).not.toHaveProperty('errorCode');

    // an error reply: the error event, the code on the call and on the message
    const missing = await conn.remote.domainLookupByName({ name: 'nosuch' }).catch((e) => e);
    expect(missing).toBeInstanceOf(RemoteError);
    const bad = r.lastCall('DOMAIN_LOOKUP_BY_NAME');
    expect(r.eventsOf(bad)).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
    expect(bad).toMatchObject({ status: 'error', errorCode: 'VIR_ERR_NO_DOMAIN', error: missing });
    expect(r.messages.find((m) => m.direction === 'recv' && m.serial === bad.serial)).toMatchObject(
      { type: 1, status: 1, errorCode: 'VIR_ERR_NO_DOMAIN' },
    );

    // a call that fails before it is sent: never on the wire, serial and size stay 0
    const before = r.messages.length;
    const unsent = await conn.remote
      .domainLookupByName({ name: 5 as unknown as string })
      .catch((e) => e);
    expect(unsent).toBeInstanceOf(XdrError);
    const early = r.lastCall('DOMAIN_LOOKUP_BY_NAME');
    expect(early).not.toBe(bad);
    expect(r.eventsOf(early)).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
    expect(early).toMatchObject({ serial: 0, requestBytes: 0, error: unsent });
    expect(r.messages.length).toBe(before);

    // events arrive as MESSAGE
    const vm1 = await conn.lookupDomain('vm1');
    const sub = conn.events.domain('lifecycle', { domain: vm1 });
    cleanup.push(() => sub.close());
    await sub.ready;
    await vm1.suspend();
    const lifecycle = findProcedure(remoteProgram, 'DOMAIN_EVENT_CALLBACK_LIFECYCLE').number;
    await until('the lifecycle event message', () =>
      r.messages.some((m) => m.direction === 'recv' && m.type === 2 && m.proc === lifecycle),
    );

    // the daemon's keepalive PING and our PONG
    await until('a PING and its PONG', () =>
      r.messages.some(
        (m) => m.prog === KEEPALIVE_PROGRAM && m.proc === 2 && m.direction === 'send',
      ),
    );
    expect(r.messages).toContainEqual({
      connectionId: id,
      direction: 'recv',
      prog: KEEPALIVE_PROGRAM,
      vers: 1,
      proc: 1,
      type: 2,
      serial: 0,
      status: 0,
      size: 28,
    });

    // connection:close, once, by the client
    await sub.close();
    await conn.close();
    expect(r.closed).toEqual([{ connectionId: id, reason: 'client' }]);
    expect(r.messages.every((m) => m.connectionId === id)).toBe(true);
  });
});

/** A channel whose far end is this test: what the client wrote, decoded, and a way to answer. */
class Peer implements Channel {
  sink: ChannelSink | null = null;
  readonly got: MessageHead[] = [];
  readonly needsDrain = false;
  private readonly framer = new Framer((m) => this.got.push(readHead(m)));
  open(sink: ChannelSink): void {
    this.sink = sink;
  }
  write(bytes: Uint8Array): boolean {
    this.framer.push(bytes);
    return true;
  }
  pause(): void {}
  resume(): void {}
  close(error?: Error): void {
    this.sink?.end(error);
  }
  send(h: MessageHead, payload?: Uint8Array): void {
    const head = frame(h);
    const out = Buffer.concat([head, payload ?? new Uint8Array(0)]);
    out.writeUInt32BE(out.length, 0);
    this.sink!.data(out);
  }
}

const DOWNLOAD = findProcedure(remoteProgram, 'STORAGE_VOL_DOWNLOAD');
const VOL = { vol: { pool: 'p', name: 'v', key: 'k' }, offset: 0n, length: 0n, flags: 0 };

describe('diagnostics channels of streams and failures', () => {
  it('open and close a stream once, with how it ended and the bytes it carried', async () => {
    const r = record();
    const peer = new Peer();
    const rpc = new RpcClient(peer);
    cleanup.push(() => rpc.close());
    const opening = openStreamCall(rpc, { procedure: DOWNLOAD, sparse: false }, VOL);
    await until('the CALL', () => peer.got.length === 1);
    const call = peer.got[0]!;
    const h = (type: number, status: number): MessageHead => ({ ...call, type, status });
    peer.send(h(1, 0));
    const { stream } = await opening;
    expect(r.streamsOpened).toEqual([
      {
        connectionId: rpc.id,
        program: 'remote',
        procedure: 'STORAGE_VOL_DOWNLOAD',
        serial: call.serial,
        direction: 'read',
      },
    ]);
    peer.send(h(3, 2), new Uint8Array(1000));
    peer.send(h(3, 2), new Uint8Array(24));
    peer.send(h(3, 2)); // end of stream
    const reading = stream.readAll();
    await until('the finish', () => peer.got.some((m) => m.type === 3 && m.status === 0));
    peer.send(h(3, 0)); // the daemon confirms
    expect((await reading).length).toBe(1024);
    expect(r.streamsClosed).toEqual([
      { connectionId: rpc.id, serial: call.serial, outcome: 'finished', bytes: 1024 },
    ]);
    // the stream's packets are messages like any other
    expect(
      r.messages.filter((m) => m.type === 3 && m.direction === 'recv').map((m) => m.size),
    ).toEqual([28 + 1000, 28 + 24, 28, 28]);

    const second = openStreamCall(rpc, { procedure: DOWNLOAD, sparse: false }, VOL);
    await until('the second CALL', () => peer.got.filter((m) => m.type === 0).length === 2);
    const call2 = peer.got.filter((m) => m.type === 0)[1]!;
    peer.send({ ...call2, type: 1, status: 0 });
    const aborting = (await second).stream.abort();
    await until('the abort', () =>
      peer.got.some((m) => m.serial === call2.serial && m.status === 1),
    );
    peer.send({ ...call2, type: 3, status: 0 });
    await aborting;
    expect(r.streamsClosed[1]).toEqual({
      connectionId: rpc.id,
      serial: call2.serial,
      outcome: 'aborted',
      bytes: 0,
    });
  });

  it('closes with the reason and the error when the peer breaks the protocol', async () => {
    const r = record();
    const peer = new Peer();
    const rpc = new RpcClient(peer);
    peer.sink!.data(new Uint8Array([0, 0, 0, 3]));
    const info = await rpc.closed;
    expect(r.closed).toEqual([{ connectionId: rpc.id, reason: 'error', error: info.error }]);
    expect(info.error).toBeInstanceOf(ProtocolError);
  });

  it('publishes nothing, and traces no call, while nobody subscribes', async () => {
    const trace = vi.spyOn(callChannel, 'tracePromise');
    const publish = vi.spyOn(messageChannel, 'publish');
    cleanup.push(async () => {
      trace.mockRestore();
      publish.mockRestore();
    });
    const peer = new Peer();
    const rpc = new RpcClient(peer);
    cleanup.push(() => rpc.close());
    const hostname = findProcedure(remoteProgram, 'CONNECT_GET_HOSTNAME');
    const quiet = rpc.call(hostname, undefined);
    await until('the CALL', () => peer.got.length === 1);
    peer.send({ ...peer.got[0]!, type: 1, status: 0 }, new Uint8Array([0, 0, 0, 1, 120, 0, 0, 0]));
    expect(await quiet).toEqual({ hostname: 'x' });
    expect(trace).not.toHaveBeenCalled();
    expect(publish).not.toHaveBeenCalled();
    // and the same call with a subscriber goes through both
    record();
    const loud = rpc.call(hostname, undefined);
    await until('the second CALL', () => peer.got.length === 2);
    peer.send({ ...peer.got[1]!, type: 1, status: 0 }, new Uint8Array([0, 0, 0, 1, 121, 0, 0, 0]));
    expect(await loud).toEqual({ hostname: 'y' });
    expect(trace).toHaveBeenCalledTimes(1);
    expect(publish).toHaveBeenCalledTimes(2);
  });
});
