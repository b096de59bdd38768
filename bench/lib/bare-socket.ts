// The floor under any Node.js client, for bench/rpc.ts: a bare net.Socket that keeps
// pre-encoded calls in flight and only counts the replies.

import { connect as netConnect, type Socket } from 'node:net';
import {
  encodeRemoteConnectOpenArgs,
  REMOTE_PROGRAM,
  REMOTE_PROTOCOL_VERSION,
  RemoteProcedure,
} from '../../src/generated/remote.js';
import { XdrWriter } from '../../src/xdr/index.js';
import { measureWindow, type Run } from './procstat.js';

/** One call of the remote program, its body given as XDR bytes, as bytes. */
function bareMessage(proc: number, serial: number, body: Uint8Array = new Uint8Array(0)): Buffer {
  const b = Buffer.alloc(28 + body.length);
  b.writeUInt32BE(b.length, 0);
  b.writeUInt32BE(REMOTE_PROGRAM, 4);
  b.writeUInt32BE(REMOTE_PROTOCOL_VERSION, 8);
  b.writeInt32BE(proc, 12);
  b.writeInt32BE(0, 16); // CALL
  b.writeUInt32BE(serial, 20);
  b.writeInt32BE(0, 24); // OK
  b.set(body, 28);
  return b;
}

/**
 * How the bare socket replaces answered calls:
 * - `tick`: the calls answered by one read go out together in one write, on the next tick
 *   (what virtwire's outbox does);
 * - `each`: every answered call is replaced at once by its own write, one call per segment
 *   (what the wire shows libvirt's C client doing).
 */
export type BarePattern = 'tick' | 'each';

/**
 * The floor of any Node.js client: a bare net.Socket to the same daemon that
 * writes pre-encoded connectGetLibVersion calls (as many in flight as `conc`,
 * replaced as `pattern` says) and only counts the replies by their length
 * words, decoding nothing. Not a client (no serial routing, no errors): it
 * shows what Node's socket I/O alone costs per call.
 */
export async function runBareSocket(
  host: string,
  port: number,
  name: string,
  conc: number,
  pid: number | null,
  warmupMs: number,
  durationMs: number,
  pattern: BarePattern = 'tick',
): Promise<Run> {
  const sock: Socket = netConnect({ host, port, noDelay: true });
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    let onReply: (status: number) => void = () => {};
    let acc: Buffer = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      acc = acc.length === 0 ? d : Buffer.concat([acc, d]);
      while (acc.length >= 28 && acc.length >= acc.readUInt32BE(0)) {
        const status = acc.readInt32BE(24);
        acc = acc.subarray(acc.readUInt32BE(0));
        onReply(status);
      }
    });
    const once = (b: Buffer) =>
      new Promise<void>((resolve, reject) => {
        onReply = (status) =>
          status === 0 ? resolve() : reject(new Error(`bare call ${b.readInt32BE(12)} failed`));
        sock.write(b);
      });
    await once(bareMessage(RemoteProcedure.REMOTE_PROC_AUTH_LIST, 1));
    const w = new XdrWriter();
    encodeRemoteConnectOpenArgs(w, { name, flags: 0 });
    await once(bareMessage(RemoteProcedure.REMOTE_PROC_CONNECT_OPEN, 2, w.finish()));
    const call = bareMessage(RemoteProcedure.REMOTE_PROC_CONNECT_GET_LIB_VERSION, 3); // serials may repeat
    let done = 0;
    let owed = 0;
    let failed = false;
    const flush = () => {
      const n = owed;
      owed = 0;
      sock.write(n === 1 ? call : Buffer.concat(Array.from({ length: n }, () => call)));
    };
    onReply =
      pattern === 'each'
        ? (status) => {
            if (status !== 0) failed = true;
            done++;
            sock.write(call);
          }
        : (status) => {
            if (status !== 0) failed = true;
            done++;
            if (owed++ === 0) process.nextTick(flush);
          };
    if (pattern === 'each') for (let i = 0; i < conc; i++) sock.write(call);
    else sock.write(Buffer.concat(Array.from({ length: conc }, () => call)));
    const run = await measureWindow(() => done, pid, warmupMs, durationMs);
    if (failed) throw new Error('a bare connectGetLibVersion call failed');
    return run;
  } finally {
    sock.destroy();
  }
}
