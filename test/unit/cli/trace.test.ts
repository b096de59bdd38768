/**
 * Protocol tracing (--debug, NODE_DEBUG=virtwire): message headers decoded
 * into named lines, and the tap on a transport's stream in both directions,
 * through 'data' events and through the tcp transport's raw-data hook.
 */
import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { describeMessage, nodeDebugEnabled, tapStream, traceLine } from '../../../src/cli/trace.js';
import { REMOTE_PROGRAM } from '../../../src/generated/remote.js';
import {
  encodeVirNetMessageError,
  type VirNetMessageHeader,
} from '../../../src/generated/virnet.js';
import { RAW_DATA, type RawDataSource } from '../../../src/rpc/raw.js';
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

function fakeSocket(): Duplex & { written: Uint8Array[] } {
  const written: Uint8Array[] = [];
  const d = new Duplex({
    read() {},
    write(chunk, _enc, cb) {
      written.push(chunk);
      cb();
    },
  }) as Duplex & { written: Uint8Array[] };
  d.written = written;
  return d;
}

describe('tapStream', () => {
  it('traces writes and data events, messages split across chunks included', async () => {
    const s = fakeSocket();
    const lines: string[] = [];
    tapStream(s, (l) => lines.push(l));
    expect(s.write(lookupCall)).toBe(true);
    expect(s.written).toHaveLength(1); // still written through
    s.push(errorReply.subarray(0, 10));
    s.push(errorReply.subarray(10));
    await new Promise((r) => setImmediate(r));
    expect(lines).toEqual([traceLine('send', lookupCall), traceLine('recv', errorReply)]);
  });

  it('traces the raw-data hook the tcp transport reads through, and stops at a SASL layer', () => {
    const s = fakeSocket() as Duplex & RawDataSource & { written: Uint8Array[] };
    // as the tcp transport does: an accessor the client sets its hook through
    let hook: ((c: Uint8Array) => void) | undefined;
    Object.defineProperty(s, RAW_DATA, {
      configurable: true,
      get: () => hook,
      set: (fn) => {
        hook = fn;
      },
    });
    const lines: string[] = [];
    tapStream(s, (l) => lines.push(l));
    const got: Uint8Array[] = [];
    s[RAW_DATA] = (c) => got.push(c); // the RPC client attaching
    hook!(errorReply); // the socket's onread delivering
    expect(got).toEqual([errorReply]); // the client still receives everything
    expect(lines).toEqual([traceLine('recv', errorReply)]);
    s[RAW_DATA] = (c) => got.push(c); // the client's upgrade to a security layer
    hook!(new Uint8Array([0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
    expect(lines[1]).toBe(
      'virtwire: (trace stopped: a SASL security layer encrypts the rest of the session)',
    );
    expect(lines).toHaveLength(2);
  });

  it('stops, saying why, when the bytes are not libvirt messages', () => {
    const s = fakeSocket();
    const lines: string[] = [];
    tapStream(s, (l) => lines.push(l));
    s.write(new Uint8Array([0, 0, 0, 3, 0, 0, 0, 0]));
    s.write(lookupCall);
    expect(lines).toEqual([
      'virtwire: (trace stopped: message length 3 cannot hold a 28-byte header)',
    ]);
  });
});
