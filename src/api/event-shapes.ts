/**
 * What event subscriptions yield: the public event types, and the functions
 * that turn a decoded payload into them (one route per event procedure,
 * built once per process and shared by every connection).
 */
import {
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
  domainEvents,
  type NetworkEventFields,
  type NetworkEventPayloads,
  type NodeDeviceEventFields,
  type NodeDeviceEventPayloads,
  networkEvents,
  nodeDeviceEvents,
  type SecretEventFields,
  type SecretEventPayloads,
  type StoragePoolEventFields,
  type StoragePoolEventPayloads,
  secretEvents,
  storagePoolEvents,
} from '../generated/events.js';
import { type QemuDomainMonitorEventMsg, qemuProgram } from '../generated/qemu.js';
import type { RemoteNonnullDomain, RemoteTypedParam } from '../generated/remote.js';
import { findProcedure } from '../rpc/descriptor.js';
import type { Codec } from '../xdr/index.js';
import type { XdrReader } from '../xdr/reader.js';
import { enumName, formatUuid } from './names.js';
import { fromTypedParams, type TypedValue } from './typed-params.js';

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
 * its own fields (the generated `DomainEventFields`: every payload field,
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

/** A network event, from `events.network()`; narrowed by `type`. */
export type NetworkEvent<K extends keyof NetworkEventPayloads = keyof NetworkEventPayloads> =
  ObjectEvent<NetworkEventFields, K>;
/** A storage pool event, from `events.storagePool()`; narrowed by `type`. */
export type StoragePoolEvent<
  K extends keyof StoragePoolEventPayloads = keyof StoragePoolEventPayloads,
> = ObjectEvent<StoragePoolEventFields, K>;
/** A node device event, from `events.nodeDevice()`; narrowed by `type`. */
export type NodeDeviceEvent<
  K extends keyof NodeDeviceEventPayloads = keyof NodeDeviceEventPayloads,
> = ObjectEvent<NodeDeviceEventFields, K>;
/** A secret event, from `events.secret()`; narrowed by `type`. */
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
  const domain = domainRef(dom);
  // Literal keys first, spreads after. A literal that opens with a spread of an object
  // (`{ ...base, ...more }`) clones base's hidden class, and V8 (Node 20) then builds a new
  // hidden class for every such event: 10x slower, and each one stays in the old
  // generation until a full GC (200,000 events held about 100 MiB of dead ones).
  if (type === 'lifecycle') {
    const f = fields as unknown as { event: number; detail: number };
    return { type, domain, ...lifecycleNames(f.event, f.detail) };
  }
  if (type === 'job_completed') {
    const params = (fields as { params: RemoteTypedParam[] }).params;
    return { type, domain, ...fields, stats: fromTypedParams(params) };
  }
  return { type, domain, ...fields };
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

/** How one event procedure's messages become the events a subscription yields. */
export interface Route {
  readonly family: string;
  readonly type: string;
  readonly decode: (r: XdrReader) => Record<string, unknown>;
  readonly shape: (payload: Record<string, unknown>) => unknown;
}

let remoteRoutes: Map<number, Route> | null = null;
let qemuRoutes: Map<number, Route> | null = null;

/** The routes of the remote program's callback events, by procedure number (built once). */
export function remoteEventRoutes(): ReadonlyMap<number, Route> {
  if (remoteRoutes) return remoteRoutes;
  const routes = new Map<number, Route>();
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
      routes.set(e.procedure, {
        family,
        type,
        decode: (r) => e.payload.decode(r) as Record<string, unknown>,
        shape: isDomain ? (p) => domainEvent(type, p) : (p) => objectEvent(family, type, p),
      });
    }
  }
  remoteRoutes = routes;
  return routes;
}

/** The route of the QEMU program's monitor events (built once). */
export function qemuEventRoutes(): ReadonlyMap<number, Route> {
  if (qemuRoutes) return qemuRoutes;
  const monitor = findProcedure(qemuProgram, 'DOMAIN_MONITOR_EVENT');
  qemuRoutes = new Map([
    [
      monitor.number,
      {
        family: 'qemu',
        type: 'monitor',
        decode: (r: XdrReader) => monitor.args!.decode(r) as Record<string, unknown>,
        shape: (p: Record<string, unknown>) => {
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
      },
    ],
  ]);
  return qemuRoutes;
}
