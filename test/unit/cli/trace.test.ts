/**
 * Protocol tracing (--debug, NODE_DEBUG=virtwire): message headers decoded
 * into named lines, and the one trace subscriber of `virtwire:rpc:message`
 * seeing every message of an RPC client in both directions: through a
 * channel's lent read buffer, split across chunks, and above a SASL layer.
 */
import { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { SecurityLayerChannel } from '../../../src/auth/sasl/layer.js';
import type { SecurityLayer } from '../../../src/auth/sasl/mechanism.js';
import type { Channel, ChannelSink } from '../../../src/channel.js';
import { DuplexChannel } from '../../../src/channel.js';
import {
  describeMessage,
  nodeDebugEnabled,
  startTrace,
  traceLine,
} from '../../../src/cli/trace.js';
import { REMOTE_PROGRAM, remoteProgram } from '../../../src/generated/remote.js';
import {
  encodeVirNetMessageError,
  type VirNetMessageHeader,
} from '../../../src/generated/virnet.js';
import { RpcClient } from '../../../src/rpc/client.js';
import { findProcedure } from '../../../src/rpc/descriptor.js';
import type { XdrWriter } from '../../../src/xdr/writer.js';
import { frame } from '../../helpers/packets.js';

/** A whole message (version 1): length word, header, payload. */
const message = (
  h: { prog: number; proc: number; type: number; serial: number; status: number },
  payload?: (w: XdrWriter) => void,
): Uint8Array => new Uint8Array(frame({ ...h, vers: 1 }, payload));

const lookupCall = message({ prog: REMOTE_PROGRAM, proc: 23, type: 0, serial: 7, status: 0 }, (w) =>
  w.writeString('vm1', 100),
);
const NO_DOMAIN = {
  code: 42,
  domain: 10,
  message: 'Domain not found',
  level: 2,
  dom: null,
  str1: null,
  str2: null,
  str3: null,
  int1: -1,
  int2: -1,
  net: null,
};
const errorReplyTo = (serial: number): Uint8Array =>
  message({ prog: REMOTE_PROGRAM, proc: 23, type: 1, serial, status: 1 }, (w) =>
    encodeVirNetMessageError(w, NO_DOMAIN),
  );
const errorReply = message({ prog: REMOTE_PROGRAM, proc: 23, type: 1, serial: 7, status: 1 }, (w) =>
  encodeVirNetMessageError(w, {
    code: 42,
    domain: 10,
    message: 'Domain not found',
    level: 2,
    dom: null,
    str1: null,
    str2: null,
    str3: null,
    int1: -1,
    int2: -1,
    net: null,
  }),
);

describe('trace lines', () => {
  it('names the program, procedure, type and status, and the error of an error reply', () => {
    expect(traceLine('send', lookupCall)).toBe(
      `virtwire: -> CALL remote.DOMAIN_LOOKUP_BY_NAME(23) serial=7 OK ${lookupCall.length} bytes`,
    );
    expect(traceLine('recv', errorReply)).toBe(
      `virtwire: <- REPLY remote.DOMAIN_LOOKUP_BY_NAME(23) serial=7 ERROR VIR_ERR_NO_DOMAIN ${errorReply.length} bytes`,
    );
    expect(
      describeMessage(
        'recv',
        { prog: 0x6b656570, vers: 1, proc: 1, type: 2, serial: 0, status: 0 },
        28,
      ),
    ).toBe('virtwire: <- MESSAGE keepalive.PING(1) serial=0 OK 28 bytes');
    expect(
      describeMessage(
        'recv',
        {
          prog: 0x1234,
          vers: 1,
          proc: 9,
          type: 9,
          serial: 1,
          status: 7,
        } as unknown as VirNetMessageHeader,
        28,
      ),
    ).toBe('virtwire: <- type9 0x1234.9 serial=1 status7 28 bytes');
  });

  it('is enabled by NODE_DEBUG as Node matches sections', () => {
    expect(nodeDebugEnabled({ NODE_DEBUG: 'virtwire' })).toBe(true);
    expect(nodeDebugEnabled({ NODE_DEBUG: 'net,VIRTWIRE' })).toBe(true);
    expect(nodeDebugEnabled({ NODE_DEBUG: 'virt*' })).toBe(true);
    expect(nodeDebugEnabled({ NODE_DEBUG: '*' })).toBe(true);
    expect(nodeDebugEnabled({ NODE_DEBUG: 'net http' })).toBe(false);
    expect(nodeDebugEnabled({ NODE_DEBUG: 'virtwirex' })).toBe(false);
    expect(nodeDebugEnabled({})).toBe(false);
  });
});

/** The peer's side of a channel: what the client wrote, and a way to deliver bytes to it. */
class ScriptedChannel implements Channel {
  readonly written: Uint8Array[] = [];
  sink: ChannelSink | null = null;
  readonly needsDrain = false;
  open(sink: ChannelSink): void {
    this.sink = sink;
  }
  write(bytes: Uint8Array): boolean {
    this.written.push(bytes.slice());
    return true;
  }
  pause(): void {}
  resume(): void {}
  close(error?: Error): void {
    this.sink?.end(error);
  }
}

const LOOKUP = findProcedure(remoteProgram, 'DOMAIN_LOOKUP_BY_NAME');
const tick = () => new Promise((r) => setImmediate(r));

let stop: (() => void) | null = null;
afterEach(() => {
  stop?.();
  stop = null;
});
function traced(): string[] {
  const lines: string[] = [];
  stop = startTrace((l) => lines.push(l));
  return lines;
}

describe('the trace subscriber', () => {
  it('traces what the client writes and reads, messages split across chunks included', async () => {
    const lines = traced();
    const ch = new ScriptedChannel();
    const client = new RpcClient(ch);
    const call = client.call(LOOKUP, { name: 'vm1' }).catch((e: unknown) => e);
    await tick();
    expect(ch.written).toHaveLength(1); // written through
    const sent = ch.written[0]!;
    const reply = errorReplyTo(1);
    ch.sink!.data(reply.subarray(0, 10));
    ch.sink!.data(reply.subarray(10));
    await call;
    expect(lines).toEqual([traceLine('send', sent), traceLine('recv', reply)]);
    expect(lines[0]).toBe(
      `virtwire: -> CALL remote.DOMAIN_LOOKUP_BY_NAME(23) serial=1 OK ${sent.length} bytes`,
    );
    expect(lines[1]).toMatch(/ ERROR VIR_ERR_NO_DOMAIN \d+ bytes$/);
    await client.close();
  });

  it('traces bytes lent from a reused read buffer, and goes on in plaintext above a SASL layer', async () => {
    const lines = traced();
    // as the tcp transport reads: one buffer, lent to the channel and overwritten after each read
    const socket = new Duplex({ read() {}, write: (_c, _e, cb) => cb() });
    const ch = new DuplexChannel(socket, { external: true });
    const readBuffer = new Uint8Array(4096);
    const read = (bytes: Uint8Array): void => {
      readBuffer.set(bytes);
      ch.receive(readBuffer.subarray(0, bytes.length));
      readBuffer.fill(0xee);
    };
    const client = new RpcClient(ch);
    const first = client.call(LOOKUP, { name: 'vm1' }).catch((e: unknown) => e);
    await tick();
    read(errorReplyTo(1));
    await first;
    expect(lines[1]).toBe(traceLine('recv', errorReplyTo(1)));
    // a toy security layer: every byte inverted, behind a 4-byte length
    const layer: SecurityLayer = {
      maxPlain: 1 << 16,
      wrap: (plain) => {
        const out = new Uint8Array(4 + plain.length);
        new DataView(out.buffer).setUint32(0, plain.length);
        for (let i = 0; i < plain.length; i++) out[4 + i] = plain[i]! ^ 0xff;
        return out;
      },
      unwrap: (f) => f.subarray(4).map((b) => b ^ 0xff),
    };
    client.upgrade((inner) => new SecurityLayerChannel(inner, layer));
    const second = client.call(LOOKUP, { name: 'vm1' }).catch((e: unknown) => e);
    await tick();
    read(layer.wrap(errorReplyTo(2)));
    await second;
    expect(lines).toHaveLength(4);
    expect(lines[2]).toMatch(/^virtwire: -> CALL remote\.DOMAIN_LOOKUP_BY_NAME\(23\) serial=2 OK/);
    expect(lines[3]).toBe(traceLine('recv', errorReplyTo(2)));
    await client.close();
  });

  it('says why, when the bytes are not libvirt messages', async () => {
    const lines = traced();
    const ch = new ScriptedChannel();
    const client = new RpcClient(ch);
    ch.sink!.data(new Uint8Array([0, 0, 0, 3, 0, 0, 0, 0]));
    await client.closed;
    expect(lines).toEqual([
      'virtwire: (connection closed: error: message length 3 cannot hold a 28-byte header)',
    ]);
  });

  it('stops when asked', async () => {
    const lines = traced();
    stop?.();
    stop = null;
    const ch = new ScriptedChannel();
    const client = new RpcClient(ch);
    void client.call(LOOKUP, { name: 'vm1' }).catch(() => {});
    await tick();
    expect(ch.written).toHaveLength(1);
    expect(lines).toEqual([]);
    await client.close();
  });
});
