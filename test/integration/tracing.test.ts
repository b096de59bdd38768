/**
 * The diagnostics channels against a real libvirtd (the first host of each
 * generation, test:///default over TCP), subscribed by name as an APM agent would: the connection
 * opening and closing, every call with its sizes and outcome, every message
 * in and out with the daemon's error names, and a data stream (the test
 * driver's screenshot) opening and closing with the bytes it carried. The
 * trace subscriber (NODE_DEBUG / --debug) prints one line per message.
 */
import dc from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { domainScreenshot } from '../../src/api/streams.js';
import {
  CHANNELS,
  type ConnectionCloseMessage,
  type ConnectionOpenMessage,
  connect,
  RemoteError,
  type RpcCallMessage,
  type RpcWireMessage,
  type StreamCloseMessage,
  type StreamOpenMessage,
} from '../../src/index.js';
import { subscribeDebugLog } from '../../src/rpc/trace.js';
import { generations, hostOf } from '../helpers/hosts.js';

describe.each(generations())('diagnostics channels against a real libvirtd: $label', (gen) => {
  it('trace a test:///default session: open, calls, an error, a screenshot stream, close', async () => {
    const calls: Array<{ event: string; ctx: RpcCallMessage }> = [];
    const messages: RpcWireMessage[] = [];
    const opened: ConnectionOpenMessage[] = [];
    const closed: ConnectionCloseMessage[] = [];
    const streamsOpened: StreamOpenMessage[] = [];
    const streamsClosed: StreamCloseMessage[] = [];
    const lines: string[] = [];
    const tracing = dc.tracingChannel<unknown, RpcCallMessage>(CHANNELS.call);
    const on = (event: string) => (ctx: RpcCallMessage) => {
      calls.push({ event, ctx });
    };
    const handlers = {
      start: on('start'),
      end: on('end'),
      asyncStart: on('asyncStart'),
      asyncEnd: on('asyncEnd'),
      error: on('error'),
    };
    const plain: Array<[string, (m: unknown) => void]> = [
      [CHANNELS.message, (m) => messages.push(m as RpcWireMessage)],
      [CHANNELS.connectionOpen, (m) => opened.push(m as ConnectionOpenMessage)],
      [CHANNELS.connectionClose, (m) => closed.push(m as ConnectionCloseMessage)],
      [CHANNELS.streamOpen, (m) => streamsOpened.push(m as StreamOpenMessage)],
      [CHANNELS.streamClose, (m) => streamsClosed.push(m as StreamCloseMessage)],
    ];
    tracing.subscribe(handlers);
    for (const [name, fn] of plain) dc.subscribe(name, fn);
    const stopLog = subscribeDebugLog((l) => lines.push(l));
    try {
      const uri = hostOf(gen, 0, 'TEST');
      const conn = await connect(uri);
      const id = conn.rpc.id;
      expect(opened).toEqual([
        { connectionId: id, uri, transport: 'tcp', auth: 'none', durationMs: expect.any(Number) },
      ]);

      const { hostname } = await conn.remote.connectGetHostname();
      const ok = calls.filter((c) => c.ctx.procedure === 'CONNECT_GET_HOSTNAME').map((c) => c);
      expect(ok.map((c) => c.event)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
      const ctx = ok[0]!.ctx;
      const sent = messages.find((m) => m.direction === 'send' && m.serial === ctx.serial)!;
      const reply = messages.find((m) => m.direction === 'recv' && m.serial === ctx.serial)!;
      expect(ctx).toMatchObject({
        connectionId: id,
        program: 'remote',
        proc: 59,
        requestBytes: sent.size,
        replyBytes: reply.size,
        status: 'ok',
        result: { hostname },
      });

      const err = await conn.remote
        .domainLookupByName({ name: 'vw-no-such-domain' })
        .catch((e) => e);
      expect(err).toBeInstanceOf(RemoteError);
      const failed = calls.filter((c) => c.ctx.procedure === 'DOMAIN_LOOKUP_BY_NAME');
      expect(failed.map((c) => c.event)).toEqual([
        'start',
        'end',
        'error',
        'asyncStart',
        'asyncEnd',
      ]);
      expect(failed[0]!.ctx).toMatchObject({ status: 'error', errorCode: 'VIR_ERR_NO_DOMAIN' });
      const errorReply = messages.find(
        (m) => m.direction === 'recv' && m.serial === failed[0]!.ctx.serial,
      );
      expect(errorReply).toMatchObject({ type: 1, status: 1, errorCode: 'VIR_ERR_NO_DOMAIN' });
      expect(lines).toContainEqual(
        expect.stringMatching(
          /^virtwire: <- REPLY remote\.DOMAIN_LOOKUP_BY_NAME\(23\) serial=\d+ ERROR VIR_ERR_NO_DOMAIN \d+ bytes$/,
        ),
      );

      const shot = await domainScreenshot(await conn.lookupDomain('test'));
      expect(shot.mime).toBe('image/png');
      expect(streamsOpened).toEqual([
        {
          connectionId: id,
          program: 'remote',
          procedure: 'DOMAIN_SCREENSHOT',
          serial: expect.any(Number),
          direction: 'read',
        },
      ]);
      const serial = streamsOpened[0]!.serial;
      expect(streamsClosed).toEqual([
        { connectionId: id, serial, outcome: 'finished', bytes: shot.data.length },
      ]);
      const packets = messages.filter((m) => m.type === 3 && m.serial === serial);
      expect(packets.filter((m) => m.direction === 'recv').length).toBeGreaterThan(1);
      expect(packets.filter((m) => m.direction === 'send')).toHaveLength(1); // our finish

      await conn.close();
      expect(closed).toEqual([{ connectionId: id, reason: 'client' }]);
      // one line per message, in the documented format
      expect(lines).toHaveLength(messages.length);
      for (const l of lines) {
        expect(l).toMatch(
          /^virtwire: (->|<-) [A-Z_]+ [a-z]+\.[A-Z_0-9?]+\(\d+\) serial=\d+ (OK|ERROR|CONTINUE)( VIR_ERR_\w+)? \d+ bytes$/,
        );
      }
      expect(lines.at(-1)).toMatch(/^virtwire: <- REPLY remote\.CONNECT_CLOSE\(2\)/);
    } finally {
      stopLog();
      tracing.unsubscribe(handlers);
      for (const [name, fn] of plain) dc.unsubscribe(name, fn);
    }
  });
});
