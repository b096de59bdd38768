import {
  VirConnectCloseReason,
  VirDomainEventCrashedDetailType,
  VirDomainEventDefinedDetailType,
  VirDomainEventPMSuspendedDetailType,
  VirDomainEventResumedDetailType,
  VirDomainEventShutdownDetailType,
  VirDomainEventStartedDetailType,
  VirDomainEventStoppedDetailType,
  VirDomainEventSuspendedDetailType,
  VirDomainEventType,
  VirDomainEventUndefinedDetailType,
  VirNetworkEventLifecycleType,
  VirNodeDeviceEventLifecycleType,
  VirSecretEventLifecycleType,
  VirStoragePoolEventLifecycleType,
} from '../generated/api.js';
import {
  type DomainEventFields,
  type DomainEventPayloads,
  domainEventRegistration,
  domainEvents,
  type NetworkEventFields,
  type NetworkEventPayloads,
  type NodeDeviceEventFields,
  type NodeDeviceEventPayloads,
  networkEventRegistration,
  networkEvents,
  nodeDeviceEventRegistration,
  nodeDeviceEvents,
  type SecretEventFields,
  type SecretEventPayloads,
  type StoragePoolEventFields,
  type StoragePoolEventPayloads,
  secretEventRegistration,
  secretEvents,
  storagePoolEventRegistration,
  storagePoolEvents,
} from '../generated/events.js';
import { QEMU_PROGRAM, type QemuDomainMonitorEventMsg, qemuProgram } from '../generated/qemu.js';
import {
  decodeRemoteConnectEventConnectionClosedMsg,
  REMOTE_PROGRAM,
  type RemoteNonnullDomain,
  type RemoteTypedParam,
  remoteProgram,
} from '../generated/remote.js';
import type { CallOptions, MessageHeader, RpcClient } from '../rpc/client.js';
import { findProcedure } from '../rpc/descriptor.js';
import { ConnectionClosedError } from '../rpc/errors.js';
import type { Codec } from '../xdr/index.js';
import type { XdrReader } from '../xdr/reader.js';
import { enumName, formatUuid } from './names.js';
import { BoundedQueue, type OverflowPolicy } from './queue.js';
import { fromTypedParams, type TypedValue } from './typed-params.js';

export { EventOverflowError, type OverflowPolicy } from './queue.js';

/** Options of every subscription. */
export interface SubscribeOptions {
  /** Events kept for a slow consumer before the overflow policy applies (default 1024). */
  readonly queueSize?: number;
  /** `drop-oldest` (default; `dropped` counts what was lost) or `error` (the loop throws EventOverflowError). */
  readonly overflow?: OverflowPolicy;
  /** Ends the subscription (and deregisters it) when the signal fires. */
  readonly signal?: AbortSignal;
}

/** The identity of a domain as events carry it. */
export interface DomainRef {
  readonly name: string;
  readonly uuid: string;
  readonly id: number;
  /** The wire form, for calls: `conn.remote.domainGetInfo({ dom: ev.domain.wire })`. */
  readonly wire: RemoteNonnullDomain;
}

/** Names for a lifecycle event: `{ event: 'suspended', detail: 'postcopy' }`, with the numbers. */
export interface LifecycleNames {
  readonly event: string;
  readonly detail: string;
  readonly eventCode: number;
  readonly detailCode: number;
}

/**
 * A domain event as a subscription yields it: its `type`, the `domain`, and
 * its own fields (the generated {@link DomainEventFields}: every payload field,
 * including those outside the nested message such as the pm events' `reason`;
 * a wire field named `type` is `jobType` or `metadataType`). Without a type
 * argument it is the union of every event, narrowed by `ev.type`.
 */
export type DomainEvent<K extends keyof DomainEventPayloads = keyof DomainEventPayloads> =
  K extends keyof DomainEventPayloads
    ? { readonly type: K; readonly domain: DomainRef } & (K extends 'lifecycle'
        ? LifecycleNames
        : K extends 'job_completed'
          ? Omit<DomainEventFields[K], 'dom'> & { readonly stats: Record<string, TypedValue> }
          : Omit<DomainEventFields[K], 'dom'>)
    : never;

/**
 * An event of the network, storage pool, node device or secret families: its
 * `type` and its fields `F[K]` (lifecycle events name their `event`).
 */
export type ObjectEvent<F, K extends keyof F> = K extends keyof F
  ? { readonly type: K } & Omit<F[K], 'event'> &
      (F[K] extends { event: number }
        ? { readonly event: string; readonly eventCode: number }
        : unknown)
  : never;

export type NetworkEvent<K extends keyof NetworkEventPayloads = keyof NetworkEventPayloads> =
  ObjectEvent<NetworkEventFields, K>;
export type StoragePoolEvent<
  K extends keyof StoragePoolEventPayloads = keyof StoragePoolEventPayloads,
> = ObjectEvent<StoragePoolEventFields, K>;
export type NodeDeviceEvent<
  K extends keyof NodeDeviceEventPayloads = keyof NodeDeviceEventPayloads,
> = ObjectEvent<NodeDeviceEventFields, K>;
export type SecretEvent<K extends keyof SecretEventPayloads = keyof SecretEventPayloads> =
  ObjectEvent<SecretEventFields, K>;

/** A QEMU monitor event (QMP), from `events.qemuMonitor()`. */
export interface QemuMonitorEvent {
  readonly domain: DomainRef;
  readonly event: string;
  /** When QEMU emitted it. */
  readonly timestamp: Date;
  readonly seconds: bigint;
  readonly micros: number;
  /** The event's JSON `data`, as text, or null. */
  readonly details: string | null;
}

/** Why the daemon connection closed, from `events.connectionClosed()`. */
export interface ConnectionClosedEvent {
  readonly reason: string;
  readonly reasonCode: number;
}

const DETAIL_ENUMS: Record<number, readonly [Readonly<Record<string, number>>, string]> = {
  0: [VirDomainEventDefinedDetailType, 'VIR_DOMAIN_EVENT_DEFINED_'],
  1: [VirDomainEventUndefinedDetailType, 'VIR_DOMAIN_EVENT_UNDEFINED_'],
  2: [VirDomainEventStartedDetailType, 'VIR_DOMAIN_EVENT_STARTED_'],
  3: [VirDomainEventSuspendedDetailType, 'VIR_DOMAIN_EVENT_SUSPENDED_'],
  4: [VirDomainEventResumedDetailType, 'VIR_DOMAIN_EVENT_RESUMED_'],
  5: [VirDomainEventStoppedDetailType, 'VIR_DOMAIN_EVENT_STOPPED_'],
  6: [VirDomainEventShutdownDetailType, 'VIR_DOMAIN_EVENT_SHUTDOWN_'],
  7: [VirDomainEventPMSuspendedDetailType, 'VIR_DOMAIN_EVENT_PMSUSPENDED_'],
  8: [VirDomainEventCrashedDetailType, 'VIR_DOMAIN_EVENT_CRASHED_'],
};

/** `suspended` + 7 -> `postcopy`: the names of a lifecycle event and its detail. */
export function lifecycleNames(event: number, detail: number): LifecycleNames {
  const d = DETAIL_ENUMS[event];
  return {
    event: enumName(VirDomainEventType, 'VIR_DOMAIN_EVENT_', event),
    detail: d ? enumName(d[0], d[1], detail) : `unknown(${detail})`,
    eventCode: event,
    detailCode: detail,
  };
}

export function domainRef(d: RemoteNonnullDomain): DomainRef {
  return { name: d.name, uuid: formatUuid(d.uuid), id: d.id, wire: d };
}

const LIFECYCLE_ENUMS: Record<string, readonly [Readonly<Record<string, number>>, string]> = {
  network: [VirNetworkEventLifecycleType, 'VIR_NETWORK_EVENT_'],
  storagePool: [VirStoragePoolEventLifecycleType, 'VIR_STORAGE_POOL_EVENT_'],
  nodeDevice: [VirNodeDeviceEventLifecycleType, 'VIR_NODE_DEVICE_EVENT_'],
  secret: [VirSecretEventLifecycleType, 'VIR_SECRET_EVENT_'],
};

type Flatten = (payload: never) => Record<string, unknown>;
const FAMILY_TABLES: Record<string, Record<string, { readonly flatten: Flatten }>> = {
  domain: domainEvents,
  network: networkEvents,
  storagePool: storagePoolEvents,
  nodeDevice: nodeDeviceEvents,
  secret: secretEvents,
};

/** The generated flattening of one event's payload (its fields, renamed off `type` and `domain`). */
function flatten(family: string, type: string, payload: Record<string, unknown>) {
  const e = FAMILY_TABLES[family]?.[type];
  if (!e) throw new TypeError(`unknown ${family} event ${type}`);
  return (e.flatten as (p: Record<string, unknown>) => Record<string, unknown>)(payload);
}

/**
 * Turns a decoded domain-event payload into the event a subscription yields.
 * No payload field can replace `type` or `domain`: the generator renames
 * those that would (src/codegen/events.ts) and a test checks every event.
 * @internal exported for the tests over every generated event.
 */
export function domainEvent(type: string, payload: Record<string, unknown>): unknown {
  const { dom, ...fields } = flatten('domain', type, payload) as { dom: RemoteNonnullDomain };
  const base = { type, domain: domainRef(dom) };
  if (type === 'lifecycle') {
    const f = fields as unknown as { event: number; detail: number };
    return { ...base, ...lifecycleNames(f.event, f.detail) };
  }
  if (type === 'job_completed') {
    const params = (fields as { params: RemoteTypedParam[] }).params;
    return { ...base, ...fields, stats: fromTypedParams(params) };
  }
  return { ...base, ...fields };
}

/**
 * Turns a decoded network, storage pool, node device or secret event payload
 * into the event a subscription yields.
 * @internal exported for the tests over every generated event.
 */
export function objectEvent(
  family: string,
  type: string,
  payload: Record<string, unknown>,
): unknown {
  const fields = flatten(family, type, payload);
  if (type === 'lifecycle' && typeof fields.event === 'number') {
    const e = LIFECYCLE_ENUMS[family];
    const code = fields.event;
    return {
      type,
      ...fields,
      event: e ? enumName(e[0], e[1], code) : `unknown(${code})`,
      eventCode: code,
    };
  }
  return { type, ...fields };
}

function objectKey(o: unknown): string {
  if (o === null || o === undefined) return '*';
  const r = o as { uuid?: Uint8Array; name?: string };
  return r.uuid ? formatUuid(r.uuid) : (r.name ?? '?');
}

interface Route {
  readonly family: string;
  readonly type: string;
  readonly decode: (r: XdrReader) => Record<string, unknown>;
  readonly shape: (payload: Record<string, unknown>) => unknown;
}

interface Shared {
  readonly queues: Set<BoundedQueue<unknown>>;
  ready: Promise<number>;
  callbackId: number | null;
}

/** A live event subscription: an async iterable over a bounded queue. Leaving the loop deregisters it. */
export class Subscription<T> implements AsyncIterable<T>, AsyncDisposable {
  /** Resolves once the daemon has registered the callback (events before that cannot be missed after it). */
  readonly ready: Promise<void>;

  constructor(
    private readonly queue: BoundedQueue<T>,
    ready: Promise<void>,
    private readonly stop: () => Promise<void>,
  ) {
    this.ready = ready;
    // A failed registration surfaces from the loop; avoid an unhandled rejection meanwhile.
    ready.catch(() => {});
  }

  /** Events lost to the drop-oldest policy. */
  get dropped(): number {
    return this.queue.dropped;
  }

  /** Events waiting to be consumed. */
  get pending(): number {
    return this.queue.length;
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this.queue;
  }

  /** The next event; rejects with AbortError when `signal` fires first. */
  async next(opts?: { signal?: AbortSignal }): Promise<T> {
    const r = await (opts?.signal ? this.queue.nextWithSignal(opts.signal) : this.queue.next());
    if (r.done) throw new ConnectionClosedError('client', 'the subscription has ended');
    return r.value;
  }

  /** Deregisters the callback on the daemon and ends the loop. */
  close(): Promise<void> {
    this.queue.return();
    return this.stop();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Event subscriptions of one connection. Each subscription registers its own
 * callback on the daemon (the `*_REGISTER_ANY` procedures), optionally for
 * one object, and receives exactly the events the daemon sends for it.
 */
export class Events {
  private readonly routes = new Map<number, Route>();
  private readonly qemuRoutes = new Map<number, Route>();
  private readonly byCallback = new Map<string, Shared>();
  private readonly shared = new Map<string, Shared>();
  private readonly leaving = new Map<string, Promise<void>>();
  /** Events that arrived for a callback ID before its registration reply (kept briefly, bounded). */
  private early: Array<{ key: string; event: unknown }> = [];
  private registering = 0;
  private closeRegistration: { readonly queue: BoundedQueue<unknown> } | null = null;
  /**
   * Counters, for monitoring: events delivered to subscriptions, events no
   * subscription claimed, and events dropped because they did not decode (a
   * malformed event is one whole message: dropping it leaves the connection
   * and every call on it intact).
   */
  readonly stats = { delivered: 0, unclaimed: 0, malformed: 0 };

  constructor(private readonly rpc: RpcClient) {
    const families: Array<
      [string, Record<string, { procedure: number; payload: Codec<unknown> }>, boolean]
    > = [
      ['domain', domainEvents, true],
      ['network', networkEvents, false],
      ['storagePool', storagePoolEvents, false],
      ['nodeDevice', nodeDeviceEvents, false],
      ['secret', secretEvents, false],
    ];
    for (const [family, table, isDomain] of families) {
      for (const [type, e] of Object.entries(table)) {
        this.routes.set(e.procedure, {
          family,
          type,
          decode: (r) => e.payload.decode(r) as Record<string, unknown>,
          shape: isDomain ? (p) => domainEvent(type, p) : (p) => objectEvent(family, type, p),
        });
      }
    }
    const monitor = findProcedure(qemuProgram, 'DOMAIN_MONITOR_EVENT');
    this.qemuRoutes.set(monitor.number, {
      family: 'qemu',
      type: 'monitor',
      decode: (r) => monitor.args!.decode(r) as Record<string, unknown>,
      shape: (p) => {
        const m = p as unknown as QemuDomainMonitorEventMsg;
        return {
          domain: domainRef(m.dom),
          event: m.event,
          timestamp: new Date(Number(m.seconds) * 1000 + Math.floor(m.micros / 1000)),
          seconds: m.seconds,
          micros: m.micros,
          details: m.details,
        } satisfies QemuMonitorEvent;
      },
    });
    const closedProc = findProcedure(remoteProgram, 'CONNECT_EVENT_CONNECTION_CLOSED').number;
    rpc.onEvent(REMOTE_PROGRAM, (h, r) => this.dispatch(h, r, this.routes, closedProc));
    rpc.onEvent(QEMU_PROGRAM, (h, r) => this.dispatch(h, r, this.qemuRoutes, -1));
    rpc.onClose((info) => {
      const err =
        info.reason === 'client'
          ? undefined
          : new ConnectionClosedError(
              info.reason,
              `event subscription ended: connection closed (${info.reason})`,
              {
                cause: info.error,
              },
            );
      for (const reg of this.shared.values()) for (const q of reg.queues) q.end(err);
      for (const reg of this.byCallback.values()) for (const q of reg.queues) q.end(err);
      this.byCallback.clear();
      this.shared.clear();
      this.closeRegistration?.queue.end(err);
    });
  }

  private dispatch(
    h: MessageHeader,
    r: XdrReader,
    routes: Map<number, Route>,
    closedProc: number,
  ): void {
    try {
      this.route(h, r, routes, closedProc);
    } catch {
      this.stats.malformed++;
    }
  }

  private route(
    h: MessageHeader,
    r: XdrReader,
    routes: Map<number, Route>,
    closedProc: number,
  ): void {
    if (h.proc === closedProc) {
      const m = decodeRemoteConnectEventConnectionClosedMsg(r);
      this.closeRegistration?.queue.push({
        reason: enumName(VirConnectCloseReason, 'VIR_CONNECT_CLOSE_REASON_', m.reason),
        reasonCode: m.reason,
      } satisfies ConnectionClosedEvent);
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

  /**
   * One daemon registration per (family, event, object filter), shared by every
   * local subscription with the same key, as libvirt's own client does: the
   * daemon refuses a second identical registration on one connection.
   */
  private subscribe<T>(
    key: string,
    family: string,
    register: () => Promise<number>,
    deregister: (id: number) => Promise<unknown>,
    opts: SubscribeOptions,
  ): Subscription<T> {
    let shared = this.shared.get(key);
    if (!shared) {
      const entry: Shared = { queues: new Set(), ready: Promise.resolve(-1), callbackId: null };
      const previous = this.leaving.get(key) ?? Promise.resolve();
      this.registering++;
      entry.ready = (async () => {
        try {
          await previous; // the daemon must have dropped the old registration first
          const id = await register();
          entry.callbackId = id;
          const cbKey = `${family}:${id}`;
          this.byCallback.set(cbKey, entry);
          const early = this.early.filter((e) => e.key === cbKey);
          this.early = this.early.filter((e) => e.key !== cbKey);
          for (const e of early) for (const q of entry.queues) q.push(e.event);
          return id;
        } catch (err) {
          if (this.shared.get(key) === entry) this.shared.delete(key);
          for (const q of entry.queues) q.end(err as Error);
          throw err;
        } finally {
          this.registering--;
          if (this.registering === 0) this.early = [];
        }
      })();
      this.shared.set(key, entry);
      shared = entry;
    }
    const entry = shared;
    let stopping: Promise<void> | null = null;
    const queue = new BoundedQueue<unknown>(
      opts.queueSize ?? 1024,
      opts.overflow ?? 'drop-oldest',
      () => {
        void stop();
      },
    );
    const stop = (): Promise<void> => {
      stopping ??= (async () => {
        entry.queues.delete(queue);
        if (entry.queues.size > 0 || this.shared.get(key) !== entry) return;
        this.shared.delete(key);
        const done = (async () => {
          const id = await entry.ready.catch(() => null);
          if (id === null) return;
          this.byCallback.delete(`${family}:${id}`);
          if (this.rpc.isOpen) await deregister(id).catch(() => {});
        })();
        this.leaving.set(key, done);
        await done;
        if (this.leaving.get(key) === done) this.leaving.delete(key);
      })();
      return stopping;
    };
    entry.queues.add(queue);
    const ready = entry.ready.then(() => undefined);
    if (opts.signal) {
      const signal = opts.signal;
      if (signal.aborted) void queue.return();
      else signal.addEventListener('abort', () => void queue.return(), { once: true });
    }
    return new Subscription<T>(queue as BoundedQueue<T>, ready, stop);
  }

  private call(proc: number, args: unknown, opts?: CallOptions): Promise<unknown> {
    return this.rpc.call(findProcedure(remoteProgram, proc), args, opts);
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
  ): Subscription<DomainEvent<K>> {
    const e = domainEvents[type];
    if (!e)
      throw new TypeError(
        `unknown domain event ${String(type)}; known: ${Object.keys(domainEvents).join(', ')}`,
      );
    const filter = opts.domain ? formatUuid(opts.domain.wire.uuid) : '*';
    return this.subscribe(
      `domain:${e.id}:${filter}`,
      'domain',
      async () =>
        (
          (await this.call(domainEventRegistration.register, {
            eventID: e.id,
            dom: opts.domain?.wire ?? null,
          })) as {
            callbackID: number;
          }
        ).callbackID,
      (id) => this.call(domainEventRegistration.deregister, { callbackID: id }),
      opts,
    );
  }

  network<K extends keyof NetworkEventPayloads>(
    type: K,
    opts: SubscribeOptions & { readonly network?: { name: string; uuid: Uint8Array } } = {},
  ): Subscription<NetworkEvent<K>> {
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

  storagePool<K extends keyof StoragePoolEventPayloads>(
    type: K,
    opts: SubscribeOptions & { readonly pool?: { name: string; uuid: Uint8Array } } = {},
  ): Subscription<StoragePoolEvent<K>> {
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

  nodeDevice<K extends keyof NodeDeviceEventPayloads>(
    type: K,
    opts: SubscribeOptions & { readonly device?: { name: string } } = {},
  ): Subscription<NodeDeviceEvent<K>> {
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

  secret<K extends keyof SecretEventPayloads>(
    type: K,
    opts: SubscribeOptions & {
      readonly secret?: { uuid: Uint8Array; usageType: number; usageID: string };
    } = {},
  ): Subscription<SecretEvent<K>> {
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
    return this.subscribe(
      `${family}:${e.id}:${objectKey(object)}`,
      family,
      async () =>
        (
          (await this.call(reg.register, { eventID: e.id, [field]: object ?? null })) as {
            callbackID: number;
          }
        ).callbackID,
      (id) => this.call(reg.deregister, { callbackID: id }),
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
  ): Subscription<QemuMonitorEvent> {
    const reg = findProcedure(qemuProgram, 'CONNECT_DOMAIN_MONITOR_EVENT_REGISTER');
    const dereg = findProcedure(qemuProgram, 'CONNECT_DOMAIN_MONITOR_EVENT_DEREGISTER');
    const filter = `${opts.domain ? formatUuid(opts.domain.wire.uuid) : '*'}:${opts.event ?? '*'}:${opts.flags ?? 0}`;
    return this.subscribe(
      `qemu:${filter}`,
      'qemu',
      async () =>
        (
          (await this.rpc.call(reg, {
            dom: opts.domain?.wire ?? null,
            event: opts.event ?? null,
            flags: opts.flags ?? 0,
          })) as { callbackID: number }
        ).callbackID,
      (id) => this.rpc.call(dereg, { callbackID: id }),
      opts,
    );
  }

  /** The daemon's close callback (CONNECT_REGISTER_CLOSE_CALLBACK): why the hypervisor connection closed. */
  connectionClosed(opts: SubscribeOptions = {}): Subscription<ConnectionClosedEvent> {
    const register = findProcedure(remoteProgram, 'CONNECT_REGISTER_CLOSE_CALLBACK');
    const unregister = findProcedure(remoteProgram, 'CONNECT_UNREGISTER_CLOSE_CALLBACK');
    const queue = new BoundedQueue<ConnectionClosedEvent>(
      opts.queueSize ?? 16,
      opts.overflow ?? 'drop-oldest',
      () => {
        void stop();
      },
    );
    if (this.closeRegistration)
      throw new TypeError('a connectionClosed() subscription is already open on this connection');
    this.closeRegistration = { queue: queue as BoundedQueue<unknown> };
    const ready = this.rpc.call(register, undefined).then(() => undefined);
    let stopping: Promise<void> | null = null;
    const stop = (): Promise<void> => {
      stopping ??= (async () => {
        this.closeRegistration = null;
        await ready.catch(() => {});
        if (this.rpc.isOpen) await this.rpc.call(unregister, undefined).catch(() => {});
      })();
      return stopping;
    };
    return new Subscription(queue, ready, stop);
  }
}
