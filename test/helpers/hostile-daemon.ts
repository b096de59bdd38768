/**
 * A scriptable fake libvirt daemon for the hostile-peer suite. It listens on
 * TCP or a unix socket, answers the open sequence as libvirtd does
 * (AUTH_LIST, CONNECT_SUPPORTS_FEATURE, CONNECT_OPEN, CONNECT_GET_URI,
 * CONNECT_CLOSE, keepalive PINGs) with the generated codecs, and hands every
 * other call to the scenario's script, which then misbehaves: wrong headers,
 * lying lengths, floods, silence, a FIN or a RST in the middle of a reply.
 *
 * It answers by procedure, not by position in the sequence, so it keeps
 * working whatever order or probes a future client uses.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { remoteProgram } from '../../src/generated/remote.js';
import { encodeVirNetMessageError, type VirNetMessageError } from '../../src/generated/virnet.js';
import type { XdrWriter } from '../../src/xdr/index.js';
import type { ProcedureInfo } from '../../src/xdr/program.js';
import { XdrReader } from '../../src/xdr/reader.js';
import { KEEPALIVE, PING, PONG, type Received, Splitter, Status, Type } from './hostile-wire.js';
import { frame, type MessageHead } from './packets.js';

const byName = new Map(remoteProgram.procedures.map((p) => [p.name, p]));
export const remoteProc = (name: string): ProcedureInfo => {
  const p = byName.get(name);
  if (!p) throw new Error(`no remote procedure ${name}`);
  return p;
};

const OPEN_SEQUENCE = new Set([
  'AUTH_LIST',
  'CONNECT_SUPPORTS_FEATURE',
  'CONNECT_OPEN',
  'CONNECT_GET_URI',
  'CONNECT_CLOSE',
]);
const PROGRAM_KEEPALIVE = 10;
/** Messages a peer keeps for its script and for inspection. */
const KEEP = 1000;

export interface HostileDaemonOptions {
  /** Listen on a unix socket (in a fresh temporary directory) instead of TCP 127.0.0.1. */
  readonly unix?: boolean;
  /**
   * `answer` (default): serve the open sequence; `silent`: accept and never
   * send a byte (nor read); `script`: hand every message to the script.
   */
  readonly open?: 'answer' | 'silent' | 'script';
  /** What CONNECT_SUPPORTS_FEATURE(PROGRAM_KEEPALIVE) answers (default true). */
  readonly keepalive?: boolean;
  /** Answer the client's PINGs with PONGs (default true). */
  readonly answerPings?: boolean;
  /** Runs for each accepted connection once it is set up. */
  readonly script?: (peer: HostilePeer) => void | Promise<void>;
}

/**
 * The daemon's end of one connection, as a script drives it: calls the
 * daemon did not answer itself arrive in `nextCall()`; everything it sends
 * is under the script's control.
 */
export class HostilePeer {
  /** The last whole messages received (at most KEEP), in order; `receivedCount` counts them all. */
  readonly received: Received[] = [];
  receivedCount = 0;
  /** Bytes received so far. */
  bytesIn = 0;
  /** Bytes handed to the socket so far. */
  bytesOut = 0;
  private readonly queue: Received[] = [];
  /** Calls no script took before KEEP others piled up, dropped. */
  dropped = 0;
  private waiter: ((m: Received) => void) | null = null;
  private readonly splitter: Splitter;
  /** Settles when the client's side closed the connection (or it broke). */
  readonly closed: Promise<void>;

  constructor(
    readonly socket: Socket,
    private readonly opts: HostileDaemonOptions,
  ) {
    this.splitter = new Splitter((m) => this.onMessage(m));
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => {});
    if (opts.open === 'silent') {
      socket.pause();
      return;
    }
    socket.on('data', (chunk: Buffer) => {
      this.bytesIn += chunk.length;
      this.splitter.push(chunk);
    });
  }

  private onMessage(m: Received): void {
    this.receivedCount++;
    this.received.push(m);
    // Floods must not make the daemon the one that holds the memory.
    if (this.received.length > KEEP) this.received.splice(0, this.received.length - KEEP / 2);
    if (this.opts.open !== 'script') {
      if (m.head.prog === KEEPALIVE) {
        if (m.head.proc === PING && this.opts.answerPings !== false) {
          this.send(frame({ ...m.head, proc: PONG, type: Type.MESSAGE, serial: 0 }));
        }
        return;
      }
      const proc = remoteProcByNumber(m.head);
      if (proc && OPEN_SEQUENCE.has(proc.name)) {
        this.answerOpen(m, proc);
        return;
      }
    }
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(m);
    } else if (this.queue.length < KEEP) this.queue.push(m);
    else this.dropped++;
  }

  private answerOpen(m: Received, proc: ProcedureInfo): void {
    switch (proc.name) {
      case 'AUTH_LIST':
        this.reply(m, proc, { types: [0] });
        return;
      case 'CONNECT_SUPPORTS_FEATURE': {
        const { feature } = proc.args!.decode(new XdrReader(m.payload)) as { feature: number };
        const yes = feature === PROGRAM_KEEPALIVE ? this.opts.keepalive !== false : feature !== 0;
        this.reply(m, proc, { supported: yes ? 1 : 0 });
        return;
      }
      case 'CONNECT_GET_URI':
        this.reply(m, proc, { uri: 'qemu:///system' });
        return;
      default:
        this.reply(m, proc, undefined);
    }
  }

  /** The next message the daemon did not answer itself (waits for it). */
  nextCall(): Promise<Received> {
    const m = this.queue.shift();
    if (m) return Promise.resolve(m);
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  /** Writes raw bytes; returns socket.write's answer. */
  send(bytes: Uint8Array): boolean {
    if (this.socket.destroyed) return false;
    this.bytesOut += bytes.length;
    return this.socket.write(bytes);
  }

  /** A REPLY with status OK to `m`, its body encoded by `proc`'s ret codec; `over` changes header fields. */
  reply(m: Received, proc: ProcedureInfo, value: unknown, over: Partial<MessageHead> = {}): void {
    const ret = proc.ret;
    this.send(
      frame(
        { ...m.head, type: Type.REPLY, status: Status.OK, ...over },
        ret ? (w) => ret.encode(w, value) : undefined,
      ),
    );
  }

  /** A REPLY to `m` whose body `body` writes (or none), with header fields from `over`. */
  replyRaw(m: Received, body?: (w: XdrWriter) => void, over: Partial<MessageHead> = {}): Buffer {
    const b = frame({ ...m.head, type: Type.REPLY, status: Status.OK, ...over }, body);
    this.send(b);
    return b;
  }

  /** A REPLY with status ERROR carrying `err`. */
  replyError(m: Received, err: VirNetMessageError): void {
    this.send(
      frame({ ...m.head, type: Type.REPLY, status: Status.ERROR }, (w) =>
        encodeVirNetMessageError(w, err),
      ),
    );
  }

  /**
   * Writes `count` messages from `make()`. Small ones go out in writes of up
   * to 64 KiB (the bytes on the wire are the same), so that the garbage of
   * this daemon's own write requests does not blur the memory measured for
   * the client in the same process.
   */
  async flood(make: () => Uint8Array, opts: { count: number; respectBackpressure?: boolean }) {
    const batch: Uint8Array[] = [];
    let bytes = 0;
    for (let i = 0; i < opts.count && !this.socket.destroyed; i++) {
      const m = make();
      batch.push(m);
      bytes += m.length;
      if (bytes < 64 * 1024 && i + 1 < opts.count) continue;
      const more = this.send(batch.length === 1 ? m : Buffer.concat(batch, bytes));
      batch.length = 0;
      bytes = 0;
      if (!more && opts.respectBackpressure) await this.drained();
      await new Promise((r) => setImmediate(r));
    }
  }

  /** Resolves when the socket takes more data (or is gone). */
  drained(): Promise<void> {
    if (!this.socket.writableNeedDrain || this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  /** Stops reading: what the client writes piles up in its own buffers. */
  stopReading(): void {
    this.socket.pause();
  }

  /** Ends the connection with a FIN after what was written. */
  end(): void {
    this.socket.end();
  }

  /** Ends the connection with a RST (a unix socket, which has none, is just destroyed). */
  reset(): void {
    if (this.opts.unix) this.socket.destroy();
    else this.socket.resetAndDestroy();
  }
}

function remoteProcByNumber(h: MessageHead): ProcedureInfo | undefined {
  if (h.prog !== remoteProgram.program || h.type !== Type.CALL) return undefined;
  return numbered.get(h.proc);
}
const numbered = new Map(remoteProgram.procedures.map((p) => [p.number, p]));

/** A fake daemon; `await using d = await HostileDaemon.start({...})`. */
export class HostileDaemon implements AsyncDisposable {
  readonly peers: HostilePeer[] = [];
  /** Errors a script threw (a broken test, not a hostile act). */
  readonly scriptErrors: unknown[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    /** The URI a client connects with. */
    readonly uri: string,
    private readonly dir: string | null,
  ) {}

  static async start(opts: HostileDaemonOptions = {}): Promise<HostileDaemon> {
    let daemon: HostileDaemon | null = null;
    const server = createServer({ pauseOnConnect: false }, (socket) => {
      if (!daemon) {
        socket.destroy();
        return;
      }
      daemon.sockets.add(socket);
      socket.once('close', () => daemon?.sockets.delete(socket));
      if (!opts.unix) socket.setNoDelay(true);
      const peer = new HostilePeer(socket, opts);
      daemon.peers.push(peer);
      Promise.resolve()
        .then(() => opts.script?.(peer))
        .catch((err: unknown) => daemon?.scriptErrors.push(err));
    });
    let uri: string;
    let dir: string | null = null;
    if (opts.unix) {
      dir = mkdtempSync(join(tmpdir(), 'vw-hostile-'));
      const path = join(dir, 'sock');
      await new Promise<void>((r) => server.listen(path, r));
      uri = `qemu+unix:///system?socket=${path}`;
    } else {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const a = server.address();
      if (!a || typeof a !== 'object') throw new Error('no address');
      uri = `qemu+tcp://127.0.0.1:${a.port}/system`;
    }
    daemon = new HostileDaemon(server, uri, dir);
    return daemon;
  }

  /** The first connection's peer, once a client has connected. */
  async firstPeer(): Promise<HostilePeer> {
    while (this.peers.length === 0) await new Promise((r) => setTimeout(r, 1));
    return this.peers[0]!;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** A remote_error as libvirtd sends it, for scripts that answer with one. */
export function remoteErrorValue(code: number, message: string | null): VirNetMessageError {
  return {
    code,
    domain: 7,
    message,
    level: 2,
    dom: null,
    str1: null,
    str2: null,
    str3: null,
    int1: -1,
    int2: -1,
    net: null,
  };
}
