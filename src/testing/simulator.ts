import { existsSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type ConnectOptions, connect } from '../api/connect.js';
import type { Connection } from '../api/handles.js';
import { parseUuid } from '../api/names.js';
import { VirDomainCreateFlags } from '../generated/api.js';
import { TransportError } from '../transport/index.js';
import type { Transport } from '../transport/types.js';
import { duplexPair } from './duplex.js';
import { boundString, SimError } from './errors.js';
import { RecentLog } from './history.js';
import { type SimDomainSnapshot, SimHost } from './host.js';
import { describeJob, HostMigrations } from './migration/index.js';
import { type NetworkSeat, SimNetwork } from './network.js';
import { remoteHandlers } from './procedures.js';
import { DEFAULT_PROFILE, SIM_PROFILES, type SimProfile, type SimProfileName } from './profile.js';
import { type KeepaliveOptions, type ServerContext, SimConnection } from './server.js';
import { specXml } from './xml.js';

/** A guest for `Simulator.start({ domains })` or `sim.addDomain()`. */
export interface SimDomainSpec {
  name: string;
  /** Canonical UUID; generated when absent. */
  uuid?: string;
  /** Guest memory, MiB (default 1024). */
  memoryMiB?: number;
  /** Virtual CPUs (default 1). */
  vcpus?: number;
  /** Guest memory dirtied per second (MiB/s): above the bandwidth, pre-copy never converges. */
  dirtyRateMiBps?: number;
  /**
   * The memory the dirtying touches (MiB, default all of it), as a guest's
   * working set: never more than this is dirty at once, so pre-copy's first
   * pass makes progress even when the dirty rate defeats convergence.
   */
  dirtySetMiB?: number;
  /** Defined (default) or transient. A transient domain must be running or paused. */
  persistent?: boolean;
  /** Initial state (default `shutoff` for persistent domains, `running` for transient ones). */
  state?: 'shutoff' | 'running' | 'paused';
}

/** How a simulated host is set up: what it listens on, its guests, its clock and link. */
export interface SimulatorOptions {
  /**
   * The simulators this one can reach, and that can reach it, for
   * peer-to-peer and managed migrations (default {@link SimNetwork.default},
   * shared by every simulator started without one).
   */
  network?: SimNetwork;
  /**
   * The libvirt release to answer as (default the newest modelled, `'12.9'`):
   * its version numbers, feature answers, procedures and domain event IDs;
   * `'9.0'` is Debian 12's libvirt with QEMU 7.2, `'11.3'` Debian 13's with
   * QEMU 10.0. See {@link SIM_PROFILES}.
   */
  profile?: SimProfileName;
  /** What CONNECT_GET_HOSTNAME answers (default `sim-N`, numbered per network). */
  hostname?: string;
  /** Default migration bandwidth MiB/s: the host's link, and the limit when none is set. */
  bandwidthMiBps?: number;
  /** Simulated seconds per real second (default 1): 10 runs a 20 s migration in 2 s. */
  timeScale?: number;
  /** Listen on TCP: `true` for 127.0.0.1 on a free port, or where. */
  tcp?: boolean | { host?: string; port?: number };
  /** Listen on this unix socket path. */
  unix?: string;
  domains?: SimDomainSpec[];
  /**
   * The daemon's keepalive towards clients that probed for it, in real
   * seconds (libvirtd's defaults: interval 5, count 5; interval 0 disables it).
   */
  keepalive?: { interval?: number; count?: number };
  /** What one simulator may hold, so that no client can make it grow without end. */
  limits?: SimulatorLimits;
}

/** Bounds on what a simulator keeps (see `SimulatorOptions.limits`). */
export interface SimulatorLimits {
  /**
   * Domains the host holds at most (default 16384, REMOTE_DOMAIN_LIST_MAX,
   * the most one CONNECT_LIST_ALL_DOMAINS reply can carry). Defining or
   * creating one more fails with VIR_ERR_OPERATION_FAILED.
   */
  domains?: number;
  /**
   * Longest domain name in UTF-8 bytes (default 247): the QEMU driver saves
   * `<name>.xml.new` next to its configuration, and a file name has at most
   * 255 bytes. Longer names fail with the error libvirt then reports
   * (VIR_ERR_SYSTEM_ERROR, "File name too long").
   */
  nameBytes?: number;
  /** Entries `calls` and `opened` keep, the most recent (default 10000 each). */
  history?: number;
  /**
   * Bytes a client may leave unread (replies and events written to it that
   * its socket has not taken) before the simulator drops it (default 64 MiB,
   * twice the largest message). Reading a client stops as soon as its
   * socket is full, so only events can pile up this far.
   */
  backlogBytes?: number;
}

/** The limits used when `SimulatorOptions.limits` leaves one out. */
export const DEFAULT_LIMITS: Required<SimulatorLimits> = {
  domains: 16384,
  nameBytes: 247,
  history: 10_000,
  backlogBytes: 64 * 1024 * 1024,
};

/** UTF-8 bytes of each CONNECT_OPEN name `opened` keeps. */
const OPENED_NAME_KEEP = 4096;

const bad = (what: string): never => {
  throw new TypeError(what);
};

function checkOptions(o: SimulatorOptions): void {
  if (typeof o !== 'object' || o === null) bad('simulator options must be an object');
  if (o.profile !== undefined && !Object.hasOwn(SIM_PROFILES, o.profile)) {
    bad(
      `profile must be one of ${Object.keys(SIM_PROFILES).join(', ')}, got ${JSON.stringify(o.profile)}`,
    );
  }
  if (o.network !== undefined && !(o.network instanceof SimNetwork))
    bad('network must be a SimNetwork (new SimNetwork())');
  if (
    o.hostname !== undefined &&
    (typeof o.hostname !== 'string' || !/^[A-Za-z0-9.-]+$/.test(o.hostname))
  ) {
    bad(`hostname must be letters, digits, dots and dashes, got ${JSON.stringify(o.hostname)}`);
  }
  if (
    o.bandwidthMiBps !== undefined &&
    !(
      typeof o.bandwidthMiBps === 'number' &&
      o.bandwidthMiBps > 0 &&
      Number.isFinite(o.bandwidthMiBps)
    )
  ) {
    bad(`bandwidthMiBps must be a positive number, got ${String(o.bandwidthMiBps)}`);
  }
  if (
    o.timeScale !== undefined &&
    !(typeof o.timeScale === 'number' && o.timeScale > 0 && Number.isFinite(o.timeScale))
  ) {
    bad(`timeScale must be a positive number, got ${String(o.timeScale)}`);
  }
  if (typeof o.tcp === 'object' && o.tcp !== null && o.tcp.port !== undefined) {
    const p = o.tcp.port;
    if (!Number.isInteger(p) || p < 0 || p > 65535)
      bad(`tcp.port must be an integer 0-65535, got ${String(p)}`);
  }
  if (o.unix !== undefined && (typeof o.unix !== 'string' || o.unix === ''))
    bad('unix must be a socket path');
  const k = o.keepalive;
  if (k?.interval !== undefined && !(typeof k.interval === 'number' && k.interval >= 0)) {
    bad(`keepalive.interval must be a number of seconds >= 0, got ${String(k.interval)}`);
  }
  if (k?.count !== undefined && !(Number.isInteger(k.count) && k.count >= 0)) {
    bad(`keepalive.count must be a whole number >= 0, got ${String(k.count)}`);
  }
  if (o.limits !== undefined) {
    if (typeof o.limits !== 'object' || o.limits === null) bad('limits must be an object');
    for (const key of Object.keys(DEFAULT_LIMITS) as Array<keyof SimulatorLimits>) {
      const v = o.limits[key];
      if (v !== undefined && !(Number.isSafeInteger(v) && v >= 0)) {
        bad(`limits.${key} must be a whole number >= 0, got ${String(v)}`);
      }
    }
  }
}

function checkSpec(s: SimDomainSpec): void {
  if (typeof s !== 'object' || s === null) bad('a domain spec must be an object');
  if (typeof s.name !== 'string' || s.name === '' || s.name.includes('/')) {
    bad(`domain name must be a non-empty string without '/', got ${JSON.stringify(s.name)}`);
  }
  if (s.uuid !== undefined && parseUuid(s.uuid) === null)
    bad(`domain ${s.name}: uuid ${JSON.stringify(s.uuid)} is not a UUID`);
  if (
    s.memoryMiB !== undefined &&
    !(typeof s.memoryMiB === 'number' && s.memoryMiB > 0 && Number.isFinite(s.memoryMiB))
  ) {
    bad(`domain ${s.name}: memoryMiB must be a positive number, got ${String(s.memoryMiB)}`);
  }
  if (s.vcpus !== undefined && !(Number.isInteger(s.vcpus) && s.vcpus >= 1)) {
    bad(`domain ${s.name}: vcpus must be a whole number >= 1, got ${String(s.vcpus)}`);
  }
  if (
    s.dirtyRateMiBps !== undefined &&
    !(
      typeof s.dirtyRateMiBps === 'number' &&
      s.dirtyRateMiBps >= 0 &&
      Number.isFinite(s.dirtyRateMiBps)
    )
  ) {
    bad(`domain ${s.name}: dirtyRateMiBps must be a number >= 0, got ${String(s.dirtyRateMiBps)}`);
  }
  if (
    s.dirtySetMiB !== undefined &&
    !(typeof s.dirtySetMiB === 'number' && s.dirtySetMiB > 0 && Number.isFinite(s.dirtySetMiB))
  ) {
    bad(`domain ${s.name}: dirtySetMiB must be a positive number, got ${String(s.dirtySetMiB)}`);
  }
  if (s.state !== undefined && !['shutoff', 'running', 'paused'].includes(s.state)) {
    bad(
      `domain ${s.name}: state must be shutoff, running or paused, got ${JSON.stringify(s.state)}`,
    );
  }
  if (s.persistent === false && s.state === 'shutoff') {
    bad(`domain ${s.name}: a transient domain cannot be shut off (it would not exist)`);
  }
}

/**
 * An embedded libvirt host for tests and demos: a daemon that speaks the
 * real remote protocol (over TCP, a unix socket or an in-memory pipe) with
 * the same generated codecs as the client, in front of a simulated QEMU
 * host whose guests define, start, pause and migrate (pre-copy iterations
 * driven by each guest's dirty rate and the bandwidth, post-copy, abort,
 * post-copy failure and recovery). Guests migrate between the simulators of
 * one {@link SimNetwork}: the one given as `network`, else the default one.
 *
 * ```ts
 * await using sim = await Simulator.start({ domains: [{ name: 'vm1', state: 'running' }] });
 * await using conn = await sim.connect();
 * console.log(await (await conn.lookupDomain('vm1')).state());
 * ```
 */
export class Simulator implements AsyncDisposable {
  /** Where clients reach it: the TCP URI, else the unix one, else the in-memory name. */
  readonly uri: string;
  /** Every URI it answers to. */
  readonly uris: { readonly tcp?: string; readonly unix?: string; readonly memory: string };
  readonly hostname: string;
  /** The network this simulator is on, for its whole life. */
  readonly network: SimNetwork;
  /** The libvirt release it answers as. */
  readonly profile: SimProfile;
  private readonly host: SimHost;
  private readonly seat: NetworkSeat;
  private readonly migrations: HostMigrations;
  private readonly servers: Server[] = [];
  private readonly conns = new Set<SimConnection>();
  private readonly sockets = new Set<Socket>();
  private readonly log: RecentLog;
  private readonly openLog: RecentLog;
  private readonly ctx: ServerContext;
  private callbacks = 0;
  private closing: Promise<void> | null = null;
  private readonly unixPath: string | undefined;

  private constructor(
    opts: SimulatorOptions,
    uris: { tcp?: string; unix?: string },
    servers: Server[],
    host: SimHost,
    network: SimNetwork,
    seat: NetworkSeat,
  ) {
    this.host = host;
    this.network = network;
    this.seat = seat;
    this.migrations = new HostMigrations(host, seat);
    this.hostname = host.hostname;
    this.profile = SIM_PROFILES[opts.profile ?? DEFAULT_PROFILE];
    this.servers = servers;
    this.unixPath = opts.unix;
    const memory = `qemu://${host.hostname}/system`;
    this.uris = { ...uris, memory };
    this.uri = uris.tcp ?? uris.unix ?? memory;
    const limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.log = new RecentLog(limits.history);
    this.openLog = new RecentLog(limits.history);
    this.ctx = {
      host,
      handlers: remoteHandlers(this.migrations, this.profile),
      profile: this.profile,
      keepalive: {
        interval: opts.keepalive?.interval ?? 5,
        count: opts.keepalive?.count ?? 5,
      } satisfies KeepaliveOptions,
      backlogBytes: limits.backlogBytes,
      record: (name) => {
        this.log.push(name);
      },
      opened: (name) => {
        // A client may open with a name of megabytes: keep the start of it.
        this.openLog.push(boundString(name, OPENED_NAME_KEEP));
      },
      closed: (c) => {
        this.conns.delete(c);
        if (this.closing) return;
        this.migrations.onClientClosed(c);
        this.autodestroy(c);
      },
    };
    seat.publish({
      uris: [uris.tcp, uris.unix, memory].filter((u): u is string => u !== undefined),
      transport: () => this.transport(),
    });
  }

  /** Starts a simulated host: listeners first, then the initial domains. */
  static async start(opts: SimulatorOptions = {}): Promise<Simulator> {
    checkOptions(opts);
    for (const d of opts.domains ?? []) checkSpec(d);
    const network = opts.network ?? SimNetwork.default;
    const seat = network.join(opts.hostname);
    const host = new SimHost({
      hostname: seat.hostname,
      timeScale: opts.timeScale ?? 1,
      bandwidthMiBps: opts.bandwidthMiBps ?? 1000,
      maxDomains: opts.limits?.domains ?? DEFAULT_LIMITS.domains,
      maxNameBytes: opts.limits?.nameBytes ?? DEFAULT_LIMITS.nameBytes,
      profile: SIM_PROFILES[opts.profile ?? DEFAULT_PROFILE],
    });
    host.describeJob = describeJob;
    const servers: Server[] = [];
    const uris: { tcp?: string; unix?: string } = {};
    let sim: Simulator | null = null;
    const onSocket = (s: Socket) => {
      if (sim) sim.accept(s, s);
      else s.destroy();
    };
    try {
      if (opts.tcp) {
        const want = typeof opts.tcp === 'object' ? opts.tcp : {};
        const server = createServer(onSocket);
        servers.push(server);
        const addr = await listen(server, { host: want.host ?? '127.0.0.1', port: want.port ?? 0 });
        const h = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
        uris.tcp = `qemu+tcp://${h}:${addr.port}/system`;
      }
      if (opts.unix) {
        removeStaleSocket(opts.unix);
        const server = createServer(onSocket);
        servers.push(server);
        await listen(server, { path: opts.unix });
        uris.unix = `qemu+unix:///system?socket=${opts.unix}`;
      }
    } catch (err) {
      for (const s of servers) s.close();
      seat.leave();
      throw err;
    }
    sim = new Simulator(opts, uris, servers, host, network, seat);
    for (const d of opts.domains ?? []) sim.addDomain(d);
    return sim;
  }

  /** Procedure names received from every client, in order (`qemu.` / `lxc.` prefix for other programs). */
  get calls(): readonly string[] {
    return this.log.toArray();
  }

  /** The names clients gave CONNECT_OPEN, in order ('' when they let the daemon choose). */
  get opened(): readonly string[] {
    return this.openLog.toArray();
  }

  /** Clients connected now. */
  get connectionCount(): number {
    return this.conns.size;
  }

  /**
   * An in-memory transport to this host, for `connect(sim.uri, { transport: sim.transport() })`.
   * Nothing goes through the operating system.
   */
  transport(): Transport {
    return async (_uri, opts) => {
      if (this.closing) throw new TransportError(`the simulated host ${this.hostname} is closed`);
      if (opts.signal?.aborted)
        throw new TransportError('connection attempt aborted', { cause: opts.signal.reason });
      const [client, server] = duplexPair();
      this.accept(server, null);
      return client;
    };
  }

  /** Connects the virtwire client to this host through the in-memory transport (`opts.transport` is replaced). */
  connect(opts: ConnectOptions = {}): Promise<Connection> {
    return connect(this.uri, { ...opts, transport: this.transport() });
  }

  private accept(stream: Duplex, socket: Socket | null): void {
    if (this.closing) {
      stream.destroy();
      return;
    }
    if (socket) {
      socket.setNoDelay(true);
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    }
    const c = new SimConnection(stream, this.ctx, () => ++this.callbacks);
    this.conns.add(c);
  }

  /** A client that started domains with VIR_DOMAIN_START_AUTODESTROY went away: they go too. */
  private autodestroy(owner: SimConnection): void {
    for (const d of this.host.all()) {
      if (d.autodestroyOwner === owner && d.active) {
        this.migrations.onDestroy(d);
        this.host.destroy(d);
      }
    }
  }

  /**
   * Adds a domain as if a client had defined it (and started or paused it):
   * the same events are sent to connected clients.
   */
  addDomain(spec: SimDomainSpec): void {
    checkSpec(spec);
    const xml = specXml(spec);
    const persistent = spec.persistent ?? true;
    const state = spec.state ?? (persistent ? 'shutoff' : 'running');
    try {
      if (persistent) {
        const d = this.host.define(xml);
        if (state !== 'shutoff') {
          this.host.start(
            d,
            state === 'paused' ? VirDomainCreateFlags.VIR_DOMAIN_START_PAUSED : 0,
            null,
          );
        }
      } else {
        this.host.createXml(
          xml,
          state === 'paused' ? VirDomainCreateFlags.VIR_DOMAIN_START_PAUSED : 0,
          null,
        );
      }
    } catch (err) {
      if (err instanceof SimError)
        throw new TypeError(`cannot add domain ${spec.name}: ${err.message}`);
      throw err;
    }
  }

  /** The state of a domain by name, as tests inspect it; undefined when there is none. */
  domain(name: string): SimDomainSnapshot | undefined {
    const d = this.host.byName(name);
    return d ? this.host.snapshot(d) : undefined;
  }

  /** Every domain of this host. */
  domains(): SimDomainSnapshot[] {
    return this.host.all().map((d) => this.host.snapshot(d));
  }

  /**
   * Test hook: breaks the post-copy stream of the outgoing migration of
   * `name` (call it on the source host). In post-copy it breaks after
   * `afterMs` simulated ms (default at once); earlier, it breaks that long
   * after the switch. Both sides then pause in POSTCOPY_FAILED, as with a
   * real network failure; migrating again with `postcopyResume` recovers.
   */
  failPostcopy(name: string, opts: { afterMs?: number } = {}): void {
    const d = this.host.byName(name);
    if (!d) throw new TypeError(`no domain ${name} on ${this.hostname}`);
    const after = opts.afterMs ?? 0;
    if (!(typeof after === 'number' && after >= 0 && Number.isFinite(after))) {
      throw new TypeError(`afterMs must be a number >= 0, got ${String(after)}`);
    }
    this.migrations.failPostcopy(d, after);
  }

  /** Closes the listeners and every connection; migrations in flight fail. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.seat.leave();
      this.migrations.stopAll();
      for (const c of [...this.conns]) c.close();
      for (const s of this.sockets) s.destroy();
      await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
      if (this.unixPath) removeStaleSocket(this.unixPath);
    })();
    return this.closing;
  }

  /** `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function listen(
  server: Server,
  where: { host: string; port: number } | { path: string },
): Promise<{ address: string; family: string; port: number }> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(where, () => {
      server.off('error', reject);
      const a = server.address();
      if (a && typeof a === 'object')
        resolve({ address: a.address, family: a.family, port: a.port });
      else resolve({ address: '', family: 'unix', port: 0 });
    });
  });
}

/** A socket file left by a simulator that did not close; anything else at the path is kept. */
function removeStaleSocket(path: string): void {
  if (existsSync(path) && lstatSync(path).isSocket()) unlinkSync(path);
}
