import type { Duplex } from 'node:stream';
import { domainEvents } from '../generated/events.js';
import { KEEPALIVE_PROGRAM, KEEPALIVE_PROTOCOL_VERSION } from '../generated/keepalive.js';
import { LXC_PROGRAM, lxcProgram } from '../generated/lxc.js';
import { QEMU_PROGRAM, qemuProgram } from '../generated/qemu.js';
import {
  REMOTE_PROGRAM,
  type RemoteMethods,
  type RemoteNonnullDomain,
  remoteProgram,
} from '../generated/remote.js';
import {
  decodeVirNetMessageHeader,
  encodeVirNetMessageError,
  encodeVirNetMessageHeader,
  type VirNetMessageHeader,
  VirNetMessageStatus,
  VirNetMessageType,
} from '../generated/virnet.js';
import { Framer, LENGTH_WORD } from '../rpc/framer.js';
import type { ProcedureInfo, ProgramInfo } from '../xdr/program.js';
import { XdrReader } from '../xdr/reader.js';
import { XdrWriter } from '../xdr/writer.js';
import { unserved } from './calls.js';
import { internalError, rpcError, SimError } from './errors.js';
import type { HostEvent, SimHost } from './host.js';
import { knowsProcedure, type SimProfile } from './profile.js';

const PING = 1;
const PONG = 2;

/** Keepalive as libvirtd runs it for a client that probed PROGRAM_KEEPALIVE. */
export interface KeepaliveOptions {
  /** Seconds of silence before a PING (libvirtd's keepalive_interval, default 5; 0 disables). */
  readonly interval: number;
  /** Unanswered PINGs after which the client is dropped (keepalive_count, default 5). */
  readonly count: number;
}

/** A procedure handler: decoded arguments in, the result to encode out (or a SimError thrown). */
export type Handler = (args: unknown, conn: SimConnection) => unknown;

/** A handler of the remote program's method `K`, typed by its arguments and reply. */
export type Fn<K extends keyof RemoteMethods> = (
  args: RemoteMethods[K][0],
  c: SimConnection,
) => Result<RemoteMethods[K][1]>;
type Result<R> = [R] extends [undefined] ? void | Promise<void> : R | Promise<R>;

/** What a connection needs from the simulator that accepted it. */
export interface ServerContext {
  readonly host: SimHost;
  readonly handlers: ReadonlyMap<string, Handler>;
  readonly keepalive: KeepaliveOptions;
  /** The libvirt release the daemon answers as: procedures it did not have are unknown to it. */
  readonly profile: SimProfile;
  /**
   * Bytes written to a client but not yet taken by its socket beyond which
   * the client is dropped: what a client that stops reading may cost.
   */
  readonly backlogBytes: number;
  /** Records one received call (`sim.calls`). */
  record(name: string): void;
  /** Records the name a client opened (`sim.opened`). */
  opened(name: string): void;
  /** The connection ended. */
  closed(conn: SimConnection): void;
}

interface Registration {
  readonly eventId: number;
  /** Only events of this domain (its UUID), or all. */
  readonly uuid: string | null;
}

const PROGRAMS: ReadonlyMap<number, ProgramInfo> = new Map([
  [REMOTE_PROGRAM, remoteProgram],
  [QEMU_PROGRAM, qemuProgram],
  [LXC_PROGRAM, lxcProgram],
]);
/** Each program's procedures by number: a table built once, never changed. */
const BY_NUMBER: ReadonlyMap<ProgramInfo, ReadonlyMap<number, ProcedureInfo>> = new Map(
  [...PROGRAMS.values()].map((p) => [p, new Map(p.procedures.map((x) => [x.number, x]))]),
);

const EVENT_PROC: ReadonlyMap<string, { procedure: number; id: number }> = new Map(
  Object.entries(domainEvents).map(([k, v]) => [k, { procedure: v.procedure, id: v.id }]),
);

/**
 * One client of the simulated daemon: reads libvirt messages with the same
 * framer and header codec the client uses, answers CALLs with REPLYs,
 * answers and sends keepalive PINGs, and delivers the host's events to the
 * callbacks this client registered.
 */
export class SimConnection {
  /** CONNECT_OPEN was called (with this name). */
  openName: string | null = null;
  readonly = false;
  private closedOnce = false;
  private readonly framer: Framer;
  private readonly reader = new XdrReader();
  private readonly writer = new XdrWriter(4096);
  private readonly registrations = new Map<number, Registration>();
  private readonly offEvents: () => void;
  private keepaliveTimer: NodeJS.Timeout | null = null;
  private lastReceived = Date.now();
  private unanswered = 0;
  /** Reading stopped until the socket drains (its peer is not taking our replies). */
  private readingHeld = false;

  constructor(
    private readonly socket: Duplex,
    private readonly ctx: ServerContext,
    /** Numbers callback IDs across the whole daemon, as libvirtd does. */
    private readonly nextCallbackId: () => number,
  ) {
    this.framer = new Framer((msg) => this.dispatch(msg));
    socket.on('data', (chunk: Uint8Array) => {
      if (this.closedOnce) return;
      try {
        // A plain view: Buffer's own slice() would alias the socket's memory.
        this.framer.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      } catch {
        // A length word libvirtd would refuse: the peer is out of sync, drop it.
        this.close();
      }
    });
    socket.on('error', () => this.close());
    socket.on('end', () => this.close());
    socket.on('close', () => this.close());
    this.offEvents = ctx.host.onEvent((e) => this.deliver(e));
  }

  get host(): SimHost {
    return this.ctx.host;
  }

  get isOpen(): boolean {
    return !this.closedOnce;
  }

  /** Drops the client (the daemon closing the socket). */
  close(): void {
    if (this.closedOnce) return;
    this.closedOnce = true;
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    this.offEvents();
    this.registrations.clear();
    this.socket.destroy();
    this.ctx.closed(this);
  }

  private dispatch(msg: Uint8Array): void {
    this.lastReceived = Date.now();
    this.unanswered = 0;
    const r = this.reader.reset(msg, LENGTH_WORD, msg.length);
    let h: VirNetMessageHeader;
    try {
      h = decodeVirNetMessageHeader(r);
    } catch {
      this.close(); // an unknown message type or status: libvirtd drops such a client
      return;
    }
    if (h.prog === KEEPALIVE_PROGRAM) {
      if (h.type === VirNetMessageType.VIR_NET_MESSAGE && h.proc === PING) this.sendKeepalive(PONG);
      return;
    }
    if (
      h.type !== VirNetMessageType.VIR_NET_CALL &&
      h.type !== VirNetMessageType.VIR_NET_CALL_WITH_FDS
    ) {
      return; // replies, events and stream packets from a client: nothing of ours to answer
    }
    const program = PROGRAMS.get(h.prog);
    if (!program || h.vers !== program.version) {
      this.replyError(h, rpcError(`Cannot find program ${h.prog} version ${h.vers}`));
      return;
    }
    const proc = BY_NUMBER.get(program)!.get(h.proc);
    if (!proc || proc.event || !knowsProcedure(this.ctx.profile, program.name, h.proc)) {
      this.ctx.record(`${program.name === 'remote' ? '' : `${program.name}.`}#${h.proc}`);
      this.replyError(h, rpcError(`unknown procedure: ${h.proc}`));
      return;
    }
    this.ctx.record(program.name === 'remote' ? proc.name : `${program.name}.${proc.name}`);
    if (h.type === VirNetMessageType.VIR_NET_CALL_WITH_FDS) {
      this.replyError(h, rpcError('the simulator cannot receive file descriptors'));
      return;
    }
    let args: unknown;
    try {
      args = proc.args ? proc.args.decode(r) : undefined;
    } catch {
      this.replyError(h, rpcError('Unable to decode message payload'));
      return;
    }
    // Like libvirtd, bytes after the arguments are ignored.
    const handler = program === remoteProgram ? this.ctx.handlers.get(proc.method) : undefined;
    // libvirtd's dispatchers look for the open connection first; only then
    // does the public function refuse read-only clients or find no driver.
    if (!this.openName && !BEFORE_OPEN.has(proc.name)) {
      this.replyError(h, internalError('connection not open', 'VIR_FROM_RPC'));
      return;
    }
    if (!handler) {
      this.replyError(h, unserved(program, proc, this.readonly));
      return;
    }
    let result: unknown;
    try {
      result = handler(args, this);
    } catch (err) {
      this.replyError(h, asSimError(err));
      return;
    }
    if (result instanceof Promise) {
      result
        .then(
          (v) => this.reply(h, proc, v),
          (err: unknown) => this.replyError(h, asSimError(err)),
        )
        // Neither path throws; should one ever, the client goes, not the process.
        .catch(() => this.close());
    } else {
      this.reply(h, proc, result);
    }
  }

  /**
   * Encodes and sends one message; throws only if it does not encode. Like
   * libvirtd, which reads no more calls from a client while its replies wait
   * to be sent, this stops reading the client until its socket drains, so a
   * client that floods calls without reading the replies pushes back on
   * itself instead of filling the simulator's memory. A client that leaves
   * more than `backlogBytes` unread anyway (events keep coming) is dropped.
   */
  private write(h: VirNetMessageHeader, body: ((w: XdrWriter) => void) | null): void {
    if (this.closedOnce) return;
    const w = this.writer.reset();
    const at = w.reserve(LENGTH_WORD);
    encodeVirNetMessageHeader(w, h);
    if (body) body(w);
    w.patchUint(at, w.pos);
    const sock = this.socket;
    const more = sock.write(w.finish());
    if (sock.writableLength > this.ctx.backlogBytes) {
      this.close();
      return;
    }
    if (!more && !this.readingHeld) {
      this.readingHeld = true;
      sock.pause();
      sock.once('drain', () => {
        this.readingHeld = false;
        if (!this.closedOnce) sock.resume();
      });
    }
  }

  private reply(h: VirNetMessageHeader, proc: ProcedureInfo, value: unknown): void {
    const ret = proc.ret;
    let bytes: ((w: XdrWriter) => void) | null = null;
    if (ret) bytes = (w) => ret.encode(w, value);
    try {
      this.write(
        { ...h, type: VirNetMessageType.VIR_NET_REPLY, status: VirNetMessageStatus.VIR_NET_OK },
        bytes,
      );
    } catch (err) {
      // A result that does not encode is the simulator's bug: report it as the daemon would.
      this.replyError(
        h,
        internalError(`cannot encode the reply: ${(err as Error).message}`, 'VIR_FROM_RPC'),
      );
    }
  }

  /**
   * Answers a call with an error; never throws. The error's strings are
   * bounded (SimError.toWire), so it encodes; if it still does not, a bare
   * RPC error goes instead, and if even that fails the client is dropped.
   */
  private replyError(h: VirNetMessageHeader, err: SimError): void {
    const head = {
      ...h,
      type: VirNetMessageType.VIR_NET_REPLY,
      status: VirNetMessageStatus.VIR_NET_ERROR,
    };
    try {
      this.write(head, (w) => encodeVirNetMessageError(w, err.toWire()));
      return;
    } catch {
      // fall through to the bare error
    }
    try {
      const bare = rpcError('Unable to encode message payload').toWire();
      this.write(head, (w) => encodeVirNetMessageError(w, bare));
    } catch {
      this.close();
    }
  }

  private sendKeepalive(proc: number): void {
    this.write(
      {
        prog: KEEPALIVE_PROGRAM,
        vers: KEEPALIVE_PROTOCOL_VERSION,
        proc,
        type: VirNetMessageType.VIR_NET_MESSAGE,
        serial: 0,
        status: VirNetMessageStatus.VIR_NET_OK,
      },
      null,
    );
  }

  /**
   * libvirtd starts watching a client once it probed PROGRAM_KEEPALIVE: a
   * PING after `interval` seconds of silence, the client dropped after
   * `count` PINGs without anything received.
   */
  startKeepalive(): void {
    const { interval, count } = this.ctx.keepalive;
    if (interval <= 0 || this.keepaliveTimer || this.closedOnce) return;
    const ms = interval * 1000;
    this.lastReceived = Date.now();
    this.keepaliveTimer = setInterval(
      () => {
        if (Date.now() - this.lastReceived < ms - 5) return;
        if (this.unanswered >= count) {
          this.close();
          return;
        }
        this.unanswered++;
        this.sendKeepalive(PING);
      },
      Math.max(10, ms / 4),
    );
    this.keepaliveTimer.unref();
  }

  /** CONNECT_OPEN succeeded with this name. */
  opened(name: string): void {
    this.ctx.opened(name);
  }

  /** CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY. */
  register(eventId: number, dom: RemoteNonnullDomain | null): number {
    const id = this.nextCallbackId();
    this.registrations.set(id, {
      eventId,
      uuid: dom ? Buffer.from(dom.uuid).toString('hex') : null,
    });
    return id;
  }

  /** CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY; false when no such callback is registered. */
  deregister(id: number): boolean {
    return this.registrations.delete(id);
  }

  private deliver(e: HostEvent): void {
    if (this.closedOnce || !this.openName) return;
    const info = EVENT_PROC.get(e.kind)!;
    const uuid = Buffer.from(e.dom.uuid).toString('hex');
    for (const [callbackID, reg] of this.registrations) {
      if (reg.eventId !== info.id || (reg.uuid !== null && reg.uuid !== uuid)) continue;
      const codec = domainEvents[e.kind].payload;
      const header: VirNetMessageHeader = {
        prog: REMOTE_PROGRAM,
        vers: remoteProgram.version,
        proc: info.procedure,
        type: VirNetMessageType.VIR_NET_MESSAGE,
        serial: 0,
        status: VirNetMessageStatus.VIR_NET_OK,
      };
      if (e.kind === 'lifecycle') {
        const c = codec as (typeof domainEvents)['lifecycle']['payload'];
        this.write(header, (w) =>
          c.encode(w, { callbackID, msg: { dom: e.dom, event: e.event, detail: e.detail } }),
        );
      } else if (e.kind === 'migration_iteration') {
        const c = codec as (typeof domainEvents)['migration_iteration']['payload'];
        this.write(header, (w) => c.encode(w, { callbackID, dom: e.dom, iteration: e.iteration }));
      } else {
        const c = codec as (typeof domainEvents)['job_completed']['payload'];
        this.write(header, (w) => c.encode(w, { callbackID, dom: e.dom, params: e.params }));
      }
    }
  }
}

/** Procedures libvirtd serves before CONNECT_OPEN. */
const BEFORE_OPEN: ReadonlySet<string> = new Set([
  'AUTH_LIST',
  'AUTH_POLKIT',
  'AUTH_SASL_INIT',
  'AUTH_SASL_START',
  'AUTH_SASL_STEP',
  'CONNECT_OPEN',
  'CONNECT_SUPPORTS_FEATURE',
  'CONNECT_CLOSE',
]);

function asSimError(err: unknown): SimError {
  if (err instanceof SimError) return err;
  // A bug in the simulator: say so, as libvirtd says an internal error.
  return internalError(err instanceof Error ? err.message : String(err), 'VIR_FROM_RPC');
}
