/**
 * In-process fuzzers for issue 19: mutated replies, events and stream
 * packets thrown at the client library through an in-memory pipe, and
 * mutated calls thrown at the simulator. The oracle is the same for all:
 * every call and read settles, with a value or a VirtwireError (never
 * another error, never a hang), the process sees no unhandled rejection or
 * uncaught exception, and memory does not grow with the number of runs.
 *
 * A run sends a batch of messages and then a keepalive PING: when the PONG
 * comes back, the peer has handled everything before it, so a call still
 * pending at that moment was swallowed by a mutated packet (counted as
 * `dropped` and aborted, as libvirt would leave it to its timeout).
 */
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { loadProtocol } from '../../src/codegen/load.js';
import { domainEvents } from '../../src/generated/events.js';
import { remoteProgram } from '../../src/generated/remote.js';
import { type Connection, connect, VirtwireError } from '../../src/index.js';
import { duplexPair } from '../../src/testing/duplex.js';
import type { Codec } from '../../src/xdr/index.js';
import type { ProcedureInfo } from '../../src/xdr/program.js';
import { XdrReader } from '../../src/xdr/reader.js';
import { XdrWriter } from '../../src/xdr/writer.js';
import { KEEPALIVE, PING, PONG, type Received, Splitter, Status, Type } from './hostile-wire.js';
import { collectGarbage, MiB } from './measure.js';
import { dissect, loadFixtures, type MessageHead } from './packets.js';
import { RandomValues, type Rng } from './random.js';

/** What a fuzz run found. */
export interface FuzzReport {
  readonly target: string;
  readonly runs: number;
  readonly ms: number;
  /** How the runs ended: `ok`, an error class, `dropped`, `connection closed`... */
  readonly outcomes: Record<string, number>;
  /** Anything the oracle forbids (a non-Virtwire error, a process-level error, a hang). */
  readonly bugs: string[];
  /** Heap + external growth over the run, after a GC, MiB. */
  readonly retainedMiB: number;
}

/** Counts outcomes and collects what the oracle forbids, including process-level errors. */
export class Oracle {
  readonly outcomes: Record<string, number> = {};
  readonly bugs: string[] = [];
  private readonly onCrash = (err: unknown): void => {
    this.bug(
      `process-level: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`,
    );
  };

  constructor(readonly target: string) {
    process.on('unhandledRejection', this.onCrash);
    process.on('uncaughtException', this.onCrash);
  }

  count(what: string, n = 1): void {
    this.outcomes[what] = (this.outcomes[what] ?? 0) + n;
  }

  bug(what: string): void {
    if (this.bugs.length < 20) this.bugs.push(what);
    this.count('BUG');
  }

  /** Classifies a settled call or read: a value, a VirtwireError by class, or a bug. */
  settled(r: PromiseSettledResult<unknown>, context: () => string): void {
    if (r.status === 'fulfilled') this.count('ok');
    else if (r.reason instanceof VirtwireError) this.count(r.reason.name);
    else this.bug(`${String(r.reason)} (${context()})`);
  }

  finish(runs: number, t0: number, heap0: number): FuzzReport {
    process.off('unhandledRejection', this.onCrash);
    process.off('uncaughtException', this.onCrash);
    collectGarbage();
    const m = process.memoryUsage();
    return {
      target: this.target,
      runs,
      ms: performance.now() - t0,
      outcomes: this.outcomes,
      bugs: this.bugs,
      retainedMiB: (m.heapUsed + m.external - heap0) / MiB,
    };
  }
}

/** One line per target, for logs and the issue's closing note. */
export function describeReport(r: FuzzReport): string {
  const outcomes = Object.entries(r.outcomes)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const bugs = r.bugs.length === 0 ? 'no findings' : `FINDINGS: ${r.bugs.join(' | ')}`;
  return `${r.target}: ${r.runs} runs in ${(r.ms / 1000).toFixed(1)} s (${((r.ms * 1000) / r.runs).toFixed(0)} µs/run); ${outcomes}; retained ${r.retainedMiB.toFixed(1)} MiB; ${bugs}`;
}

export const baseline = (): number => {
  collectGarbage();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
};

// ---------------------------------------------------------------------------
// Mutations

/** Values that break lengths, counts and discriminants. */
const EDGES = [0xffffffff, 0x7fffffff, 0x80000000, 0x01000000, 0x00400001, 0, 1, 2, 3, 64, 65];

/** A mutated copy of `src`: flipped bits, edge values in aligned words, cuts, insertions. */
export function mutate(src: Uint8Array, rng: Rng): Uint8Array {
  let b: Uint8Array = src.slice();
  const n = 1 + rng.below(3);
  for (let k = 0; k < n; k++) {
    switch (rng.below(6)) {
      case 0:
        if (b.length) b[rng.below(b.length)]! ^= 1 << rng.below(8);
        break;
      case 1:
        if (b.length) b[rng.below(b.length)] = rng.below(256);
        break;
      case 2:
        b = b.slice(0, rng.below(b.length + 1));
        break;
      case 3:
        if (b.length >= 4) {
          const at = rng.below(b.length >>> 2) * 4;
          new DataView(b.buffer, b.byteOffset).setUint32(at, EDGES[rng.below(EDGES.length)]!);
        }
        break;
      case 4: {
        const at = rng.below(b.length + 1);
        const extra = Uint8Array.from({ length: 1 + rng.below(8) }, () => rng.below(256));
        const out = new Uint8Array(b.length + extra.length);
        out.set(b.subarray(0, at));
        out.set(extra, at);
        out.set(b.subarray(at), at + extra.length);
        b = out;
        break;
      }
      default: {
        const at = rng.below(b.length + 1);
        const len = Math.min(rng.below(9), b.length - at);
        const out = new Uint8Array(b.length - len);
        out.set(b.subarray(0, at));
        out.set(b.subarray(at + len), at);
        b = out;
      }
    }
  }
  return b;
}

/** Usually `h`; sometimes one field changed to something a peer should not send. */
export function mutateHead(h: MessageHead, rng: Rng): MessageHead {
  if (rng.below(8) !== 0) return h;
  const out = { ...h };
  switch (rng.below(6)) {
    case 0:
      out.prog = [KEEPALIVE, 0x20008087, 0x00068000, rng.next()][rng.below(4)]!;
      break;
    case 1:
      out.vers = rng.below(2) ? 2 : rng.next();
      break;
    case 2:
      out.proc = rng.below(2) ? rng.below(500) : rng.next() | 0;
      break;
    case 3:
      out.type = rng.below(8);
      break;
    case 4:
      out.serial = rng.below(2) ? h.serial + 1 : rng.next();
      break;
    default:
      out.status = rng.below(5);
  }
  return out;
}

/** A framed message: `h` then `payload`, its length word right. */
export function framed(h: MessageHead, payload: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(28 + payload.length);
  b.writeUInt32BE(b.length, 0);
  b.writeUInt32BE(h.prog >>> 0, 4);
  b.writeUInt32BE(h.vers >>> 0, 8);
  b.writeInt32BE(h.proc | 0, 12);
  b.writeInt32BE(h.type | 0, 16);
  b.writeUInt32BE(h.serial >>> 0, 20);
  b.writeInt32BE(h.status | 0, 24);
  b.set(payload, 28);
  return b;
}

const PING_FRAME = framed(
  { prog: KEEPALIVE, vers: 1, proc: PING, type: Type.MESSAGE, serial: 0, status: 0 },
  new Uint8Array(0),
);

// ---------------------------------------------------------------------------
// Corpus

let symbolsCache: ReturnType<typeof loadProtocol>['symbols'] | null = null;
export const symbols = () => {
  symbolsCache ??= loadProtocol(join(import.meta.dirname, '../../protocol')).symbols;
  return symbolsCache;
};

/** What the PipeDaemon answers itself (the open sequence, registrations, stream opening). */
const ANSWERED = new Set([
  'AUTH_LIST',
  'CONNECT_SUPPORTS_FEATURE',
  'CONNECT_OPEN',
  'CONNECT_CLOSE',
  'STORAGE_VOL_DOWNLOAD',
  'CONNECT_GET_URI',
  'CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY',
  'CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY',
]);

/** A remote procedure the client can call, with arguments from a real capture and its real reply payload. */
export interface ReplyCase {
  readonly proc: ProcedureInfo;
  readonly args: unknown;
  readonly status: number;
  readonly payload: Uint8Array;
}

/** Captured replies (OK and ERROR) of remote procedures whose call was captured too. */
export function replyCorpus(): ReplyCase[] {
  const fx = loadFixtures().map((f) => ({ f, d: dissect(f.bytes) }));
  const calls = new Map<string, unknown>();
  for (const { f, d } of fx) {
    if (d.program !== remoteProgram || d.header.type !== Type.CALL) continue;
    const args = d.procedure.args?.decode(new XdrReader(f.bytes, d.payloadOffset, f.bytes.length));
    calls.set(d.procedure.name, args);
  }
  const out: ReplyCase[] = [];
  for (const { f, d } of fx) {
    if (d.program !== remoteProgram || d.header.type !== Type.REPLY) continue;
    const p = d.procedure;
    if (!calls.has(p.name) || p.stream !== null || p.event || ANSWERED.has(p.name)) continue;
    out.push({
      proc: p,
      args: calls.get(p.name),
      status: d.header.status,
      payload: f.bytes.slice(d.payloadOffset),
    });
  }
  return out;
}

// ---------------------------------------------------------------------------
// The client side: a responder at the daemon's end of an in-memory pipe

/** The daemon's end of the pipe: answers the open sequence, then lets the fuzzer speak. */
export class PipeDaemon {
  readonly calls: Received[] = [];
  private pongWaiter: (() => void) | null = null;
  private callWaiter: (() => void) | null = null;
  private nextCallback = 1;
  /** Callback IDs handed out for event registrations, by event ID. */
  readonly callbacks = new Map<number, number>();
  /** The serial of the last call that opened a stream: its packets carry it. */
  lastStreamSerial = 0;
  private readonly w = new XdrWriter(4096);

  constructor(readonly end: Duplex) {
    const s = new Splitter((m) => this.onMessage(m));
    end.on('data', (c: Buffer) => s.push(c));
    end.on('error', () => {});
  }

  private onMessage(m: Received): void {
    if (m.head.prog === KEEPALIVE) {
      if (m.head.proc === PONG) {
        const w = this.pongWaiter;
        this.pongWaiter = null;
        w?.();
      } else if (m.head.proc === PING) {
        this.send(framed({ ...m.head, proc: PONG }, new Uint8Array(0)));
      }
      return;
    }
    if (m.head.type !== Type.CALL) return; // the client's stream packets
    const p = byNumber.get(m.head.proc);
    const reply = (value: unknown): void => {
      const w = this.w.reset();
      if (p?.ret) p.ret.encode(w, value);
      this.send(framed({ ...m.head, type: Type.REPLY, status: Status.OK }, w.finish()));
    };
    switch (p?.name) {
      case 'AUTH_LIST':
        reply({ types: [0] });
        return;
      case 'CONNECT_SUPPORTS_FEATURE':
        reply({ supported: 1 });
        return;
      case 'STORAGE_VOL_DOWNLOAD':
        this.lastStreamSerial = m.head.serial;
        reply(undefined);
        return;
      case 'CONNECT_OPEN':
      case 'CONNECT_CLOSE':
        reply(undefined);
        return;
      case 'CONNECT_GET_URI':
        reply({ uri: 'qemu:///system' });
        return;
      case 'CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY': {
        const args = p.args!.decode(new XdrReader(m.payload)) as { eventID: number };
        const id = this.nextCallback++;
        this.callbacks.set(args.eventID, id);
        reply({ callbackID: id });
        return;
      }
      case 'CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY':
        reply(undefined);
        return;
    }
    this.calls.push(m);
    const w = this.callWaiter;
    this.callWaiter = null;
    w?.();
  }

  send(b: Uint8Array): void {
    if (!this.end.destroyed) this.end.write(b);
  }

  /** Resolves once `n` calls are waiting to be answered. */
  async waitCalls(n: number): Promise<void> {
    while (this.calls.length < n && !this.end.destroyed) {
      await new Promise<void>((r) => {
        this.callWaiter = r;
        setTimeout(r, 200);
      });
    }
  }

  /**
   * Sends a PING; resolves true once the client answered it (all sent before
   * is handled), false when the pipe closes or nothing comes in `timeoutMs`.
   */
  sync(timeoutMs = 2000): Promise<boolean> {
    if (this.end.destroyed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(t);
        this.end.off('close', onClose);
        this.pongWaiter = null;
        resolve(ok);
      };
      const onClose = () => done(false);
      const t = setTimeout(() => done(false), timeoutMs);
      this.end.once('close', onClose);
      this.pongWaiter = () => done(true);
      this.send(PING_FRAME);
    });
  }
}

const byNumber = new Map(remoteProgram.procedures.map((p) => [p.number, p]));

/** A client connected to a PipeDaemon through an in-memory pipe. */
export async function pipeClient(): Promise<{ conn: Connection; daemon: PipeDaemon }> {
  const [client, server] = duplexPair();
  const daemon = new PipeDaemon(server);
  const conn = await connect('qemu+tcp://fuzz.invalid/system', {
    transport: async () => client,
    keepalive: { interval: 0 },
    timeoutMs: 5000,
  });
  return { conn, daemon };
}

/** Random valid payloads of the domain events, to mutate. */
export function eventCorpus(
  rng: Rng,
): Array<{ eventID: number; proc: number; payload: Uint8Array }> {
  const random = new RandomValues(symbols());
  const out: Array<{ eventID: number; proc: number; payload: Uint8Array }> = [];
  for (const e of Object.values(domainEvents) as Array<{
    id: number;
    procedure: number;
    payload: Codec<unknown>;
  }>) {
    for (let i = 0; i < 4; i++) {
      const w = new XdrWriter(256);
      e.payload.encode(w, random.of(e.payload.name, rng));
      out.push({ eventID: e.id, proc: e.procedure, payload: w.finish().slice() });
    }
  }
  return out;
}
