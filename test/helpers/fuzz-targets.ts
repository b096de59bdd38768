import { Duplex } from 'node:stream';
/**
 * The four fuzz targets of issue 19 (see fuzz-hostile.ts for the oracle):
 * replies to pending calls, events, stream packets (client side), and
 * calls to the simulator. Each takes a number of runs and a seed, and
 * returns a FuzzReport; a failing run can be replayed with its seed.
 */
import { domainEvents } from '../../src/generated/events.js';
import { remoteProgram } from '../../src/generated/remote.js';
import { encodeVirNetMessageError } from '../../src/generated/virnet.js';
import type { Connection } from '../../src/index.js';
import { Simulator } from '../../src/testing/simulator.js';
import { XdrWriter } from '../../src/xdr/writer.js';
import {
  baseline,
  eventCorpus,
  type FuzzReport,
  framed,
  mutate,
  mutateHead,
  Oracle,
  type PipeDaemon,
  pipeClient,
  replyCorpus,
  symbols,
} from './fuzz-hostile.js';
import {
  KEEPALIVE,
  PING,
  PONG,
  REMOTE,
  type Received,
  Splitter,
  Status,
  Type,
} from './hostile-wire.js';
import { RandomValues, Rng } from './random.js';

/** True if `p` settles within `ms`. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([
    p.then(
      () => true,
      () => true,
    ),
    new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    }),
  ]);
  clearTimeout(timer);
  return r;
}

/** Calls per batch: one PING after each batch tells when the client has handled them all. */
const BATCH = 8;

/** Opens a client on a fresh pipe, counting reconnections. */
async function session(o: Oracle): Promise<{ conn: Connection; daemon: PipeDaemon }> {
  o.count('connections');
  return pipeClient();
}

/** Ends a batch: after the PING's PONG, calls still pending were swallowed; abort them. */
async function settleBatch(
  o: Oracle,
  daemon: PipeDaemon,
  pending: Array<{ p: Promise<unknown>; abort: AbortController; label: string }>,
): Promise<void> {
  const synced = await daemon.sync();
  let done = 0;
  const marks = pending.map((x) =>
    x.p.then(
      () => done++,
      () => done++,
    ),
  );
  await new Promise((r) => setImmediate(r));
  if (synced && done < pending.length) o.count('dropped', pending.length - done);
  if (!synced) o.count('no PONG (connection ended)');
  for (const x of pending) x.abort.abort();
  const results = await Promise.allSettled(pending.map((x) => x.p));
  for (const [i, r] of results.entries()) o.settled(r, () => pending[i]!.label);
  await Promise.all(marks);
}

/** Mutated replies (payload, header, sometimes the length word) to calls the client made. */
export async function fuzzReplies(runs: number, seed: number): Promise<FuzzReport> {
  const o = new Oracle('replies');
  const corpus = replyCorpus();
  const rng = new Rng(seed);
  const heap0 = baseline();
  const t0 = performance.now();
  let s = await session(o);
  for (let done = 0; done < runs; ) {
    if (!s.conn.isOpen) s = await session(o);
    const n = Math.min(BATCH, runs - done);
    const batch = Array.from({ length: n }, () => corpus[rng.below(corpus.length)]!);
    const pending = batch.map((c) => {
      const abort = new AbortController();
      const method = (
        s.conn.remote as unknown as Record<string, (a: unknown, o: unknown) => Promise<unknown>>
      )[c.proc.method]!;
      return {
        p: method.call(s.conn.remote, c.args, { signal: abort.signal }),
        abort,
        label: c.proc.name,
      };
    });
    for (const x of pending) x.p.catch(() => {});
    s.daemon.calls.length = 0;
    await s.daemon.waitCalls(n);
    const calls = s.daemon.calls.splice(0);
    let lied = false;
    calls.forEach((m, i) => {
      const c = batch[i]!;
      const head = mutateHead({ ...m.head, type: Type.REPLY, status: c.status }, rng);
      const body = rng.below(4) === 0 ? c.payload : mutate(c.payload, rng);
      const bytes = framed(head, body);
      if (rng.below(64) === 0) {
        // The length word lies: the client must fail the connection, not wait or overrun.
        bytes.writeUInt32BE(rng.below(2) ? rng.next() : bytes.length + 1 + rng.below(64), 0);
        lied = true;
      }
      s.daemon.send(bytes);
    });
    if (lied) s.daemon.end.end();
    await settleBatch(o, s.daemon, pending);
    done += n;
  }
  await s.conn.close().catch(() => {});
  return o.finish(runs, t0, heap0);
}

/** Mutated events for registered (and unregistered) callbacks, consumed by live subscriptions. */
export async function fuzzEvents(runs: number, seed: number): Promise<FuzzReport> {
  const o = new Oracle('events');
  const rng = new Rng(seed);
  const corpus = eventCorpus(rng);
  const heap0 = baseline();
  const t0 = performance.now();
  const open = async () => {
    const s = await session(o);
    const subs = Object.keys(domainEvents).map((k) =>
      s.conn.events.domain(k as keyof typeof domainEvents, { queueSize: 64 }),
    );
    await Promise.all(subs.map((x) => x.ready));
    // Consume everything, as an application would: shaping the event runs too.
    for (const sub of subs) {
      (async () => {
        try {
          for await (const _ of sub) o.count('delivered');
        } catch (err) {
          o.settled({ status: 'rejected', reason: err }, () => 'subscription loop');
        }
      })();
    }
    return s;
  };
  let s = await open();
  for (let done = 0; done < runs; ) {
    if (!s.conn.isOpen) {
      o.count('connection closed by an event');
      s = await open();
    }
    const n = Math.min(BATCH * 4, runs - done);
    for (let i = 0; i < n; i++) {
      const e = corpus[rng.below(corpus.length)]!;
      const payload = e.payload.slice();
      // Mostly for a callback that exists, so that decoding and shaping go deep.
      if (payload.length >= 4 && rng.below(8) !== 0) {
        new DataView(payload.buffer).setUint32(0, s.daemon.callbacks.get(e.eventID) ?? 0);
      }
      const head = mutateHead(
        { prog: REMOTE, vers: 1, proc: e.proc, type: Type.MESSAGE, serial: 0, status: Status.OK },
        rng,
      );
      s.daemon.send(framed(head, rng.below(4) === 0 ? payload : mutate(payload, rng)));
    }
    const synced = await s.daemon.sync();
    if (!synced && s.conn.isOpen) o.bug('the client neither answered the PING nor closed');
    done += n;
  }
  await s.conn.close().catch(() => {});
  await new Promise((r) => setTimeout(r, 10));
  return o.finish(runs, t0, heap0);
}

/** Mutated STREAM and STREAM_HOLE packets for an open volume download that is being read. */
export async function fuzzStreams(runs: number, seed: number): Promise<FuzzReport> {
  const o = new Oracle('streams');
  const rng = new Rng(seed);
  const { volumeDownload } = await import('../../src/api/streams.js');
  const heap0 = baseline();
  const t0 = performance.now();
  const errorPayload = (() => {
    const w = new XdrWriter(128);
    encodeVirNetMessageError(w, {
      code: 1,
      domain: 18,
      message: 'stream failed',
      level: 2,
      dom: null,
      str1: null,
      str2: null,
      str3: null,
      int1: -1,
      int2: -1,
      net: null,
    });
    return w.finish().slice();
  })();
  const hole = (len: bigint): Uint8Array => {
    const w = new XdrWriter(16);
    w.writeHyper(len);
    w.writeUint(0);
    return w.finish().slice();
  };
  let s = await session(o);
  let stream: Awaited<ReturnType<typeof volumeDownload>> | null = null;
  let reading: Promise<void> = Promise.resolve();
  const openStream = async () => {
    stream = await volumeDownload(s.conn, { pool: 'p', name: 'v', key: 'k' }, { sparse: true });
    const st = stream;
    reading = (async () => {
      for (;;) {
        const r = await Promise.allSettled([st.read()]);
        o.settled(r[0]!, () => 'stream read');
        if (r[0]!.status === 'rejected' || r[0]!.value === null) return;
      }
    })();
  };
  for (let done = 0; done < runs; ) {
    if (!s.conn.isOpen) {
      s = await session(o);
      stream = null;
    }
    if (stream === null) {
      if (!(await settlesWithin(reading, 2000))) {
        // A read that never settles, although its connection is gone: the stream hung.
        o.bug(`a stream read hung after its connection closed (seed ${seed}, run ${done})`);
      }
      try {
        await openStream();
      } catch (err) {
        o.settled({ status: 'rejected', reason: err }, () => 'opening the stream');
        continue;
      }
    }
    const n = Math.min(BATCH, runs - done);
    for (let i = 0; i < n; i++) {
      const kind = rng.below(8);
      const status = kind === 0 ? Status.OK : kind === 1 ? Status.ERROR : Status.CONTINUE;
      const type = rng.below(4) === 0 ? Type.STREAM_HOLE : Type.STREAM;
      const base =
        status === Status.ERROR
          ? errorPayload
          : type === Type.STREAM_HOLE
            ? hole(BigInt(rng.below(1 << 20)))
            : Uint8Array.from({ length: rng.below(512) }, () => rng.below(256));
      const head = mutateHead(
        { prog: REMOTE, vers: 1, proc: 209, type, serial: s.daemon.lastStreamSerial, status },
        rng,
      );
      s.daemon.send(framed(head, rng.below(2) ? base : mutate(base, rng)));
    }
    await s.daemon.sync();
    // A stream ended (finished, failed, aborted): open the next one.
    const settledNow = await Promise.race([reading.then(() => true), Promise.resolve(false)]);
    if (settledNow) stream = null;
    done += n;
  }
  await (stream as { abort(): Promise<void> } | null)?.abort().catch(() => {});
  await s.conn.close().catch(() => {});
  if (!(await settlesWithin(reading, 2000))) o.bug('the last stream read hung after close');
  return o.finish(runs, t0, heap0);
}

/** Mutated calls (captured arguments and random ones for every handler) to a simulator. */
export async function fuzzSimulator(runs: number, seed: number): Promise<FuzzReport> {
  const o = new Oracle('simulator');
  const rng = new Rng(seed);
  const random = new RandomValues(symbols());
  const sim = await Simulator.start({ domains: [{ name: 'vm1', state: 'running' }] });
  const procs = remoteProgram.procedures.filter((p) => !p.event);
  const heap0 = baseline();
  const t0 = performance.now();
  const vm1 = Uint8Array.from(Buffer.from(sim.domain('vm1')!.uuid.replaceAll('-', ''), 'hex'));
  let serial = 0;
  const openPipe = async () => {
    o.count('connections');
    const end = await sim.transport()({} as never, { readonly: false });
    // The simulator's in-memory transport hands out a Node stream, not a Channel.
    if (!(end instanceof Duplex)) throw new Error('the simulator transport gave no Duplex');
    const replies = new Map<number, (m: Received | null) => void>();
    let pong: (() => void) | null = null;
    const split = new Splitter((m) => {
      if (m.head.prog === KEEPALIVE) {
        if (m.head.proc === PONG) pong?.();
        return;
      }
      replies.get(m.head.serial)?.(m);
      replies.delete(m.head.serial);
    });
    end.on('data', (c: Buffer) => split.push(c));
    end.on('error', () => {});
    end.on('close', () => {
      for (const r of replies.values()) r(null);
      replies.clear();
      pong?.();
    });
    const call = (bytes: Uint8Array, s: number) =>
      new Promise<Received | null>((resolve) => {
        replies.set(s, resolve);
        end.write(bytes);
      });
    const sync = () =>
      new Promise<void>((resolve) => {
        pong = resolve;
        end.write(
          framed(
            { prog: KEEPALIVE, vers: 1, proc: PING, type: Type.MESSAGE, serial: 0, status: 0 },
            new Uint8Array(0),
          ),
        );
      });
    const enc = (p: (typeof procs)[number], v: unknown) => {
      const w = new XdrWriter(256);
      p.args?.encode(w, v);
      return w.finish().slice();
    };
    await call(
      framed(
        { prog: REMOTE, vers: 1, proc: 66, type: 0, serial: ++serial, status: 0 },
        new Uint8Array(0),
      ),
      serial,
    );
    const open = procs.find((p) => p.name === 'CONNECT_OPEN')!;
    await call(
      framed(
        { prog: REMOTE, vers: 1, proc: 1, type: 0, serial: ++serial, status: 0 },
        enc(open, { name: 'qemu:///system', flags: 0 }),
      ),
      serial,
    );
    return { end, call, sync, enc };
  };
  let pipe = await openPipe();
  for (let done = 0; done < runs; done++) {
    if (pipe.end.destroyed) pipe = await openPipe();
    const p = procs[rng.below(procs.length)]!;
    let args: unknown;
    try {
      args = p.args ? withDomain(random.of(p.args.name, rng), vm1, rng) : undefined;
    } catch {
      args = undefined;
    }
    let payload: Uint8Array;
    try {
      payload = pipe.enc(p, args);
    } catch {
      payload = new Uint8Array(0);
    }
    if (rng.below(2)) payload = mutate(payload, rng);
    const head = mutateHead(
      { prog: REMOTE, vers: 1, proc: p.number, type: Type.CALL, serial: ++serial, status: 0 },
      rng,
    );
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      pipe.call(framed(head, payload), head.serial),
      // Not a CALL of a program the simulator serves, or not for this serial: no answer is due.
      new Promise<'none'>((resolve) => {
        if (head.type !== Type.CALL || head.serial !== serial || head.prog === KEEPALIVE) {
          resolve('none');
        }
      }),
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), 5000);
      }),
    ]);
    clearTimeout(timer);
    if (r === 'timeout') o.bug(`no answer to ${p.name} (seed ${seed}, run ${done})`);
    else if (r === 'none') {
      await pipe.sync();
      o.count('not a call: ignored');
    } else if (r === null) o.count('connection dropped');
    else o.count(r.head.status === Status.ERROR ? 'error reply' : 'ok');
  }
  pipe.end.destroy();
  await sim.close();
  return o.finish(runs, t0, heap0);
}

/** Random arguments name the running guest now and then, so handlers go past their lookup. */
function withDomain(v: unknown, uuid: Uint8Array, rng: Rng): unknown {
  if (Array.isArray(v)) return v.map((x) => withDomain(x, uuid, rng));
  if (v && typeof v === 'object' && !(v instanceof Uint8Array)) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = withDomain(x, uuid, rng);
    if ('uuid' in o && 'name' in o && 'id' in o && rng.below(2)) o.uuid = uuid;
    if ('flags' in o && rng.below(4) !== 0) o.flags = typeof o.flags === 'bigint' ? 0n : 0;
    return o;
  }
  return v;
}

/** Every target by name, for the script and the test. */
export const TARGETS = {
  replies: fuzzReplies,
  events: fuzzEvents,
  streams: fuzzStreams,
  simulator: fuzzSimulator,
} as const;
