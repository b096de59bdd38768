import { VirConnectCloseReason } from '../generated/api.js';
import {
  type DomainEventPayloads,
  domainEventRegistration,
  domainEvents,
  type NetworkEventPayloads,
  type NodeDeviceEventPayloads,
  networkEventRegistration,
  networkEvents,
  nodeDeviceEventRegistration,
  nodeDeviceEvents,
  type SecretEventPayloads,
  type StoragePoolEventPayloads,
  secretEventRegistration,
  secretEvents,
  storagePoolEventRegistration,
  storagePoolEvents,
} from '../generated/events.js';
import { QEMU_PROGRAM, qemuProgram } from '../generated/qemu.js';
import {
  decodeRemoteConnectEventConnectionClosedMsg,
  REMOTE_PROGRAM,
  type RemoteNonnullDomain,
  remoteProgram,
} from '../generated/remote.js';
import type { CloseInfo, MessageHeader, RpcClient } from '../rpc/client.js';
import { findProcedure } from '../rpc/descriptor.js';
import { ConnectionClosedError } from '../rpc/errors.js';
import type { Caller } from '../rpc/methods.js';
import type { XdrReader } from '../xdr/reader.js';
import {
  type ConnectionClosedEvent,
  type DomainEvent,
  type NetworkEvent,
  type NodeDeviceEvent,
  type QemuMonitorEvent,
  qemuEventRoutes,
  type Route,
  remoteEventRoutes,
  type SecretEvent,
  type StoragePoolEvent,
} from './event-shapes.js';
import { enumName, formatUuid } from './names.js';
import { BoundedQueue } from './queue.js';
import { type EventGap, type SubscribeOptions, Subscription } from './subscription.js';

export {
  type ConnectionClosedEvent,
  type DomainEvent,
  type DomainRef,
  domainEvent,
  domainRef,
  type LifecycleNames,
  lifecycleNames,
  type NetworkEvent,
  type NodeDeviceEvent,
  type ObjectEvent,
  objectEvent,
  type QemuMonitorEvent,
  type SecretEvent,
  type StoragePoolEvent,
} from './event-shapes.js';
export { EventOverflowError, type OverflowPolicy } from './queue.js';
export { type EventGap, isEventGap, type SubscribeOptions, Subscription } from './subscription.js';

const CLOSE_EVENT = findProcedure(remoteProgram, 'CONNECT_EVENT_CONNECTION_CLOSED').number;
const REGISTER_CLOSE = findProcedure(remoteProgram, 'CONNECT_REGISTER_CLOSE_CALLBACK');
const UNREGISTER_CLOSE = findProcedure(remoteProgram, 'CONNECT_UNREGISTER_CLOSE_CALLBACK');
const QEMU_REGISTER = findProcedure(qemuProgram, 'CONNECT_DOMAIN_MONITOR_EVENT_REGISTER');
const QEMU_DEREGISTER = findProcedure(qemuProgram, 'CONNECT_DOMAIN_MONITOR_EVENT_DEREGISTER');
/** The close callback has no callback id: its registration is keyed by this. */
const CLOSE_KEY = 'close';

function objectKey(o: unknown): string {
  if (o === null || o === undefined) return '*';
  const r = o as { uuid?: Uint8Array; name?: string };
  return r.uuid ? formatUuid(r.uuid) : (r.name ?? '?');
}

/**
 * One daemon registration and the local subscriptions that share it. On a
 * supervised connection it outlives links: registered again on each new one.
 */
interface Registration {
  readonly key: string;
  /** `domain`, `network`, ..., `qemu`, or `close` for the close callback. */
  readonly family: string;
  readonly queues: Set<BoundedQueue<unknown>>;
  /** Registers on the current link (through the connection's caller); the callback id. */
  readonly register: () => Promise<number>;
  /** Deregisters callback `id` on `rpc`, the link it was registered on. */
  readonly deregister: (rpc: RpcClient, id: number) => Promise<unknown>;
  /** The live callback id and its link; null while (re-)registering. */
  callbackId: number | null;
  link: RpcClient | null;
  /** Bumped by every attempt, so a late reply of a superseded one is recognised. */
  attempt: number;
  /** When events may have started to be missed (the old link's last message), until re-registered. */
  lostSince: number | null;
  lostInfo: CloseInfo | null;
  /** Settles with the first registration, or its definitive failure. */
  readonly ready: Promise<void>;
  settle: ((err?: Error) => void) | null;
}

/**
 * Event subscriptions of one connection. Each subscription registers its own
 * callback on the daemon (the `*_REGISTER_ANY` procedures), optionally for
 * one object, and receives exactly the events the daemon sends for it.
 *
 * On a supervised connection (`G` = EventGap), a link that ends suspends the
 * registrations; the next link registers each again with its filters, and
 * each of its subscriptions yields one {@link EventGap}.
 */
export class Events<G extends EventGap = never> {
  private readonly registrations = new Map<string, Registration>();
  private readonly byCallback = new Map<string, Registration>();
  private readonly leaving = new Map<string, Promise<void>>();
  /** Events that arrived for a callback ID before its registration reply (kept briefly, bounded). */
  private early: Array<{ key: string; event: unknown }> = [];
  private registering = 0;
  private rpc: RpcClient | null = null;
  private detach: Array<() => void> = [];
  private finished: CloseInfo | null = null;
  /**
   * Counters, for monitoring: events delivered to subscriptions, events no
   * subscription claimed, gaps after reconnects, and events dropped because
   * they did not decode (a malformed event is one whole message: dropping it
   * leaves the connection and every call on it intact).
   */
  readonly stats = { delivered: 0, unclaimed: 0, gaps: 0, malformed: 0 };

  /**
   * @param caller Where registration calls go: the link, or a supervised connection's supervisor.
   * @param supervised Suspend registrations when a link ends instead of ending the subscriptions.
   */
  constructor(
    private readonly caller: Caller,
    private readonly supervised = false,
  ) {}

  /**
   * Receives events from `rpc`, the connection's current link. On a
   * supervised connection's new link, registers every live subscription again.
   * @internal
   */
  attach(rpc: RpcClient): void {
    for (const off of this.detach) off();
    this.rpc = rpc;
    const remote = remoteEventRoutes();
    const qemu = qemuEventRoutes();
    this.detach = [
      rpc.onEvent(REMOTE_PROGRAM, (h, r) => this.dispatch(h, r, remote)),
      rpc.onEvent(QEMU_PROGRAM, (h, r) => this.dispatch(h, r, qemu)),
    ];
    if (!this.supervised) {
      this.detach.push(rpc.onClose((info) => this.end(info)));
      return;
    }
    for (const reg of this.registrations.values()) void this.establish(reg);
  }

  /** The link ended and the connection reconnects: suspend every registration. @internal */
  linkLost(info: CloseInfo, since: number): void {
    this.byCallback.clear();
    this.early = [];
    for (const reg of this.registrations.values()) {
      reg.callbackId = null;
      reg.link = null;
      reg.lostSince ??= since;
      reg.lostInfo ??= info;
    }
  }

  /** No more links: every subscription ends (with an error unless closed by the client). @internal */
  end(info: CloseInfo): void {
    if (this.finished) return;
    this.finished = info;
    for (const off of this.detach) off();
    this.detach = [];
    const err =
      info.reason === 'client'
        ? undefined
        : new ConnectionClosedError(
            info.reason,
            `event subscription ended: connection closed (${info.reason})${info.error ? `: ${info.error.message}` : ''}`,
            { cause: info.error },
          );
    for (const reg of this.registrations.values()) {
      for (const q of reg.queues) q.end(err);
      reg.settle?.(err ?? new ConnectionClosedError('client', 'the connection was closed'));
    }
    this.registrations.clear();
    this.byCallback.clear();
  }

  private dispatch(h: MessageHeader, r: XdrReader, routes: ReadonlyMap<number, Route>): void {
    try {
      this.route(h, r, routes);
    } catch {
      this.stats.malformed++;
    }
  }

  private route(h: MessageHeader, r: XdrReader, routes: ReadonlyMap<number, Route>): void {
    if (h.prog === REMOTE_PROGRAM && h.proc === CLOSE_EVENT) {
      const m = decodeRemoteConnectEventConnectionClosedMsg(r);
      const reg = this.registrations.get(CLOSE_KEY);
      const event: ConnectionClosedEvent = {
        reason: enumName(VirConnectCloseReason, 'VIR_CONNECT_CLOSE_REASON_', m.reason),
        reasonCode: m.reason,
      };
      if (reg) for (const q of reg.queues) q.push(event);
      return;
    }
    const route = routes.get(h.proc);
    if (!route) return; // a legacy (non-callback) event nobody registered for
    const payload = route.decode(r);
    const key = `${route.family}:${payload.callbackID as number}`;
    const event = route.shape(payload);
    const reg = this.byCallback.get(key);
    if (reg) {
      this.stats.delivered++;
      for (const q of reg.queues) q.push(event);
    } else if (this.registering > 0 && this.early.length < 1024) this.early.push({ key, event });
    else this.stats.unclaimed++;
  }

  /** Registers `reg` on the current link; on success delivers what came early and any gap marker. */
  private async establish(reg: Registration): Promise<void> {
    const attempt = ++reg.attempt;
    this.registering++;
    try {
      await this.leaving.get(reg.key); // the daemon must have dropped an old registration first
      const id = await reg.register();
      const rpc = this.rpc;
      if (reg.attempt !== attempt || this.registrations.get(reg.key) !== reg) {
        // superseded (a newer link) or unsubscribed meanwhile: drop this registration again
        if (rpc?.isOpen && id >= 0) await reg.deregister(rpc, id).catch(() => {});
        return;
      }
      reg.callbackId = id;
      reg.link = rpc;
      if (reg.family !== 'close') {
        const cbKey = `${reg.family}:${id}`;
        this.byCallback.set(cbKey, reg);
        const early = this.early.filter((e) => e.key === cbKey);
        this.early = this.early.filter((e) => e.key !== cbKey);
        for (const e of early) for (const q of reg.queues) q.push(e.event);
      }
      if (reg.lostSince !== null) this.markGap(reg);
      reg.settle?.();
    } catch (err) {
      if (reg.attempt !== attempt || this.registrations.get(reg.key) !== reg) return;
      // The link went while registering: the next link registers it again.
      if (this.supervised && err instanceof ConnectionClosedError && !this.finished) return;
      this.registrations.delete(reg.key);
      const e = err instanceof Error ? err : new Error(String(err));
      for (const q of reg.queues) q.end(e);
      reg.settle?.(e);
    } finally {
      this.registering--;
      if (this.registering === 0) this.early = [];
    }
  }

  private markGap(reg: Registration): void {
    const since = reg.lostSince ?? Date.now();
    const until = Date.now();
    const info = reg.lostInfo;
    const gap: EventGap = {
      type: 'gap',
      since: new Date(since),
      until: new Date(until),
      durationMs: until - since,
      reason: info?.reason ?? 'eof',
      ...(info?.error ? { error: info.error } : {}),
    };
    reg.lostSince = null;
    reg.lostInfo = null;
    this.stats.gaps++;
    for (const q of reg.queues) q.push(gap);
  }

  /**
   * One daemon registration per (family, event, object filter), shared by every
   * local subscription with the same key, as libvirt's own client does: the
   * daemon refuses a second identical registration on one connection.
   */
  private subscribe<T>(
    key: string,
    family: string,
    register: () => Promise<number>,
    deregister: (rpc: RpcClient, id: number) => Promise<unknown>,
    opts: SubscribeOptions,
    queueSize = 1024,
  ): Subscription<T> {
    if (this.finished) {
      // A subscription to a closed connection is one that has ended: its `ready` and its
      // iterator reject with the reason, as for one whose connection closes a moment later.
      const err = new ConnectionClosedError(
        this.finished.reason,
        `cannot subscribe: the connection is closed (${this.finished.reason})`,
      );
      const ended = Promise.reject(err);
      ended.catch(() => {});
      const queue = new BoundedQueue<T>(1, 'drop-oldest', () => {});
      queue.end(err);
      return new Subscription<T>(queue, ended, () => Promise.resolve());
    }
    let reg = this.registrations.get(key);
    if (!reg) {
      let settle!: (err?: Error) => void;
      const ready = new Promise<void>((resolve, reject) => {
        settle = (err) => (err ? reject(err) : resolve());
      });
      const r: Registration = {
        key,
        family,
        queues: new Set(),
        register,
        deregister,
        callbackId: null,
        link: null,
        attempt: 0,
        lostSince: null,
        lostInfo: null,
        ready,
        settle: (err) => {
          r.settle = null;
          settle(err);
        },
      };
      ready.catch(() => {});
      this.registrations.set(key, r);
      reg = r;
      void this.establish(r);
    }
    const entry = reg;
    let stopping: Promise<void> | null = null;
    const queue = new BoundedQueue<unknown>(
      opts.queueSize ?? queueSize,
      opts.overflow ?? 'drop-oldest',
      () => {
        void stop();
      },
    );
    const stop = (): Promise<void> => {
      stopping ??= (async () => {
        entry.queues.delete(queue);
        if (entry.queues.size > 0 || this.registrations.get(key) !== entry) return;
        this.registrations.delete(key);
        entry.attempt++; // a registration still on its way is dropped when its reply comes
        const { callbackId: id, link } = entry;
        if (id === null || link === null) return;
        if (entry.family !== 'close') this.byCallback.delete(`${entry.family}:${id}`);
        if (!link.isOpen) return;
        const done = deregister(link, id).then(
          () => {},
          () => {},
        );
        this.leaving.set(key, done);
        await done;
        if (this.leaving.get(key) === done) this.leaving.delete(key);
      })();
      return stopping;
    };
    entry.queues.add(queue);
    if (opts.signal) {
      const signal = opts.signal;
      if (signal.aborted) void queue.return();
      else signal.addEventListener('abort', () => void queue.return(), { once: true });
    }
    return new Subscription<T>(queue as BoundedQueue<T>, entry.ready, stop);
  }

  /** Registration through the connection's caller (waits for a new link while reconnecting). */
  private callbackId(proc: ReturnType<typeof findProcedure>, args: unknown): Promise<number> {
    return this.caller.call(proc, args).then((r) => (r as { callbackID: number }).callbackID);
  }

  private remoteRegistration(
    reg: { register: number; deregister: number },
    args: Record<string, unknown>,
  ) {
    const register = findProcedure(remoteProgram, reg.register);
    const deregister = findProcedure(remoteProgram, reg.deregister);
    return {
      register: () => this.callbackId(register, args),
      deregister: (rpc: RpcClient, id: number) => rpc.call(deregister, { callbackID: id }),
    };
  }

  /**
   * Domain events of one type, for every domain or for `opts.domain` only.
   *
   * ```ts
   * for await (const ev of conn.events.domain('lifecycle', { domain: dom })) {
   *   console.log(ev.domain.name, ev.event, ev.detail); // e.g. vm1 suspended postcopy
   * }
   * ```
   */
  domain<K extends keyof DomainEventPayloads>(
    type: K,
    opts: SubscribeOptions & { readonly domain?: { readonly wire: RemoteNonnullDomain } } = {},
  ): Subscription<DomainEvent<K> | G> {
    const e = domainEvents[type];
    if (!e)
      throw new TypeError(
        `unknown domain event ${String(type)}; known: ${Object.keys(domainEvents).join(', ')}`,
      );
    const filter = opts.domain ? formatUuid(opts.domain.wire.uuid) : '*';
    const r = this.remoteRegistration(domainEventRegistration, {
      eventID: e.id,
      dom: opts.domain?.wire ?? null,
    });
    return this.subscribe(`domain:${e.id}:${filter}`, 'domain', r.register, r.deregister, opts);
  }

  /** Subscribes to network events of the given types (all when none are named). */
  network<K extends keyof NetworkEventPayloads>(
    type: K,
    opts: SubscribeOptions & { readonly network?: { name: string; uuid: Uint8Array } } = {},
  ): Subscription<NetworkEvent<K> | G> {
    return this.objectFamily(
      'network',
      networkEvents,
      networkEventRegistration,
      type,
      'net',
      opts.network,
      opts,
    );
  }

  /** Subscribes to storage pool events of the given types (all when none are named). */
  storagePool<K extends keyof StoragePoolEventPayloads>(
    type: K,
    opts: SubscribeOptions & { readonly pool?: { name: string; uuid: Uint8Array } } = {},
  ): Subscription<StoragePoolEvent<K> | G> {
    return this.objectFamily(
      'storagePool',
      storagePoolEvents,
      storagePoolEventRegistration,
      type,
      'pool',
      opts.pool,
      opts,
    );
  }

  /** Subscribes to node device events of the given types (all when none are named). */
  nodeDevice<K extends keyof NodeDeviceEventPayloads>(
    type: K,
    opts: SubscribeOptions & { readonly device?: { name: string } } = {},
  ): Subscription<NodeDeviceEvent<K> | G> {
    return this.objectFamily(
      'nodeDevice',
      nodeDeviceEvents,
      nodeDeviceEventRegistration,
      type,
      'dev',
      opts.device,
      opts,
    );
  }

  /** Subscribes to secret events of the given types (all when none are named). */
  secret<K extends keyof SecretEventPayloads>(
    type: K,
    opts: SubscribeOptions & {
      readonly secret?: { uuid: Uint8Array; usageType: number; usageID: string };
    } = {},
  ): Subscription<SecretEvent<K> | G> {
    return this.objectFamily(
      'secret',
      secretEvents,
      secretEventRegistration,
      type,
      'secret',
      opts.secret,
      opts,
    );
  }

  private objectFamily<T>(
    family: string,
    table: Record<string, { id: number }>,
    reg: { register: number; deregister: number },
    type: PropertyKey,
    field: string,
    object: unknown,
    opts: SubscribeOptions,
  ): Subscription<T> {
    const e = table[type as string];
    if (!e)
      throw new TypeError(
        `unknown ${family} event ${String(type)}; known: ${Object.keys(table).join(', ')}`,
      );
    const r = this.remoteRegistration(reg, { eventID: e.id, [field]: object ?? null });
    return this.subscribe(
      `${family}:${e.id}:${objectKey(object)}`,
      family,
      r.register,
      r.deregister,
      opts,
    );
  }

  /** QEMU monitor (QMP) events, optionally for one domain and one event name (QEMU driver only). */
  qemuMonitor(
    opts: SubscribeOptions & {
      readonly domain?: { readonly wire: RemoteNonnullDomain };
      readonly event?: string;
      readonly flags?: number;
    } = {},
  ): Subscription<QemuMonitorEvent | G> {
    const filter = `${opts.domain ? formatUuid(opts.domain.wire.uuid) : '*'}:${opts.event ?? '*'}:${opts.flags ?? 0}`;
    const args = {
      dom: opts.domain?.wire ?? null,
      event: opts.event ?? null,
      flags: opts.flags ?? 0,
    };
    return this.subscribe(
      `qemu:${filter}`,
      'qemu',
      () => this.callbackId(QEMU_REGISTER, args),
      (rpc, id) => rpc.call(QEMU_DEREGISTER, { callbackID: id }),
      opts,
    );
  }

  /** The daemon's close callback (CONNECT_REGISTER_CLOSE_CALLBACK): why the hypervisor connection closed. */
  connectionClosed(opts: SubscribeOptions = {}): Subscription<ConnectionClosedEvent | G> {
    if (this.registrations.has(CLOSE_KEY))
      throw new TypeError('a connectionClosed() subscription is already open on this connection');
    return this.subscribe(
      CLOSE_KEY,
      'close',
      () => this.caller.call(REGISTER_CLOSE, undefined).then(() => 0),
      (rpc) => rpc.call(UNREGISTER_CLOSE, undefined),
      opts,
      16,
    );
  }
}
