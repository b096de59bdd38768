/**
 * The event types as users read them. `tsc --noEmit -p .` compiles this file:
 * the handlers below read every field of every event after narrowing on
 * `ev.type`, which fails to compile if an event type reduces to `never` or
 * lacks a field. At run time the same handlers meet events built from every
 * generated payload, so a field the types forget is caught too.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { domainEvent, objectEvent } from '../../../src/api/events.js';
import type {
  DomainEventFields,
  NetworkEventFields,
  NodeDeviceEventFields,
  SecretEventFields,
  StoragePoolEventFields,
} from '../../../src/generated/events.js';
import * as tables from '../../../src/generated/events.js';
import type {
  DomainEvent,
  DomainRef,
  NetworkEvent,
  NodeDeviceEvent,
  SecretEvent,
  StoragePoolEvent,
  TypedValue,
} from '../../../src/index.js';
import { wirePayload } from '../../helpers/event-payloads.js';

const exhausted = (ev: never): never => {
  throw new Error(`unhandled event ${JSON.stringify(ev)}`);
};

/** Every field of every domain event but `type` and `domain`, read by name. */
function readDomainEvent(ev: DomainEvent): Record<string, unknown> {
  const dom: DomainRef = ev.domain;
  void dom;
  switch (ev.type) {
    case 'lifecycle':
      return {
        event: ev.event,
        detail: ev.detail,
        eventCode: ev.eventCode,
        detailCode: ev.detailCode,
      };
    case 'reboot':
    case 'control_error':
      return {};
    case 'rtc_change':
      return { offset: ev.offset };
    case 'watchdog':
      return { action: ev.action };
    case 'io_error':
      return { srcPath: ev.srcPath, devAlias: ev.devAlias, action: ev.action };
    case 'graphics':
      return {
        phase: ev.phase,
        local: ev.local,
        remote: ev.remote,
        authScheme: ev.authScheme,
        subject: ev.subject,
      };
    case 'io_error_reason':
      return {
        srcPath: ev.srcPath,
        devAlias: ev.devAlias,
        action: ev.action,
        reason: ev.reason,
      };
    case 'block_job':
      return { path: ev.path, jobType: ev.jobType, status: ev.status };
    case 'disk_change':
      return {
        oldSrcPath: ev.oldSrcPath,
        newSrcPath: ev.newSrcPath,
        devAlias: ev.devAlias,
        reason: ev.reason,
      };
    case 'tray_change':
      return { devAlias: ev.devAlias, reason: ev.reason };
    case 'pmwakeup':
    case 'pmsuspend':
    case 'pmsuspend_disk':
      return { reason: ev.reason };
    case 'balloon_change':
      return { actual: ev.actual };
    case 'device_removed':
    case 'device_added':
    case 'device_removal_failed':
      return { devAlias: ev.devAlias };
    case 'block_job_2':
      return { dst: ev.dst, jobType: ev.jobType, status: ev.status };
    case 'tunable':
      return { params: ev.params };
    case 'agent_lifecycle':
      return { state: ev.state, reason: ev.reason };
    case 'migration_iteration':
      return { iteration: ev.iteration };
    case 'job_completed': {
      const stats: Record<string, TypedValue> = ev.stats;
      return { params: ev.params, stats };
    }
    case 'metadata_change':
      return { metadataType: ev.metadataType, nsuri: ev.nsuri };
    case 'block_threshold':
      return { dev: ev.dev, path: ev.path, threshold: ev.threshold, excess: ev.excess };
    case 'memory_failure':
      return { recipient: ev.recipient, action: ev.action, flags: ev.flags };
    case 'memory_device_size_change':
      return { alias: ev.alias, size: ev.size };
    case 'nic_mac_change':
      return { alias: ev.alias, oldMAC: ev.oldMAC, newMAC: ev.newMAC };
    default:
      return exhausted(ev);
  }
}

function readNetworkEvent(ev: NetworkEvent): Record<string, unknown> {
  switch (ev.type) {
    case 'lifecycle':
      return { net: ev.net, event: ev.event, eventCode: ev.eventCode, detail: ev.detail };
    case 'metadata_change':
      return { net: ev.net, metadataType: ev.metadataType, nsuri: ev.nsuri };
    default:
      return exhausted(ev);
  }
}

function readStoragePoolEvent(ev: StoragePoolEvent): Record<string, unknown> {
  switch (ev.type) {
    case 'lifecycle':
      return { pool: ev.pool, event: ev.event, eventCode: ev.eventCode, detail: ev.detail };
    case 'refresh':
      return { pool: ev.pool };
    default:
      return exhausted(ev);
  }
}

function readNodeDeviceEvent(ev: NodeDeviceEvent): Record<string, unknown> {
  switch (ev.type) {
    case 'lifecycle':
      return { dev: ev.dev, event: ev.event, eventCode: ev.eventCode, detail: ev.detail };
    case 'update':
      return { dev: ev.dev };
    default:
      return exhausted(ev);
  }
}

function readSecretEvent(ev: SecretEvent): Record<string, unknown> {
  switch (ev.type) {
    case 'lifecycle':
      return { secret: ev.secret, event: ev.event, eventCode: ev.eventCode, detail: ev.detail };
    case 'value_changed':
      return { secret: ev.secret };
    default:
      return exhausted(ev);
  }
}

/** Event types that reduced to `never`, or whose `type` is not their name. */
type Broken<F, E extends { type: PropertyKey }> = {
  [K in keyof F]: [Extract<E, { type: K }>] extends [never] ? K : never;
}[keyof F];

/** `event.field` pairs whose type on the event differs from the generated field type. */
type Mismatched<F, E extends { type: PropertyKey }, Skip extends PropertyKey> = {
  [K in keyof F]: {
    [P in Exclude<keyof F[K], Skip>]: Extract<E, { type: K }> extends {
      readonly [Q in P]: F[K][P];
    }
      ? never
      : `${K & string}.${P & string}`;
  }[Exclude<keyof F[K], Skip>];
}[keyof F];

describe('event types', () => {
  it('no event type is never; each keeps the fields the generator lists', () => {
    expectTypeOf<Broken<DomainEventFields, DomainEvent>>().toEqualTypeOf<never>();
    expectTypeOf<Broken<NetworkEventFields, NetworkEvent>>().toEqualTypeOf<never>();
    expectTypeOf<Broken<StoragePoolEventFields, StoragePoolEvent>>().toEqualTypeOf<never>();
    expectTypeOf<Broken<NodeDeviceEventFields, NodeDeviceEvent>>().toEqualTypeOf<never>();
    expectTypeOf<Broken<SecretEventFields, SecretEvent>>().toEqualTypeOf<never>();
    // lifecycle's event and detail become names (the numbers move to eventCode, detailCode)
    expectTypeOf<
      Mismatched<Omit<DomainEventFields, 'lifecycle'>, DomainEvent, 'dom'>
    >().toEqualTypeOf<never>();
    expectTypeOf<Mismatched<NetworkEventFields, NetworkEvent, 'event'>>().toEqualTypeOf<never>();
    expectTypeOf<
      Mismatched<StoragePoolEventFields, StoragePoolEvent, 'event'>
    >().toEqualTypeOf<never>();
    expectTypeOf<
      Mismatched<NodeDeviceEventFields, NodeDeviceEvent, 'event'>
    >().toEqualTypeOf<never>();
    expectTypeOf<Mismatched<SecretEventFields, SecretEvent, 'event'>>().toEqualTypeOf<never>();
    expectTypeOf<DomainEvent<'block_job'>['type']>().toEqualTypeOf<'block_job'>();
    expectTypeOf<DomainEvent<'block_job'>['jobType']>().toEqualTypeOf<number>();
    expectTypeOf<DomainEvent<'metadata_change'>['metadataType']>().toEqualTypeOf<number>();
    expectTypeOf<DomainEvent<'pmsuspend'>['reason']>().toEqualTypeOf<number>();
    expectTypeOf<NetworkEvent<'metadata_change'>['type']>().toEqualTypeOf<'metadata_change'>();
  });

  const families = [
    ['domain', tables.domainEvents, (ev: unknown) => readDomainEvent(ev as DomainEvent)],
    ['network', tables.networkEvents, (ev: unknown) => readNetworkEvent(ev as NetworkEvent)],
    [
      'storagePool',
      tables.storagePoolEvents,
      (ev: unknown) => readStoragePoolEvent(ev as StoragePoolEvent),
    ],
    [
      'nodeDevice',
      tables.nodeDeviceEvents,
      (ev: unknown) => readNodeDeviceEvent(ev as NodeDeviceEvent),
    ],
    ['secret', tables.secretEvents, (ev: unknown) => readSecretEvent(ev as SecretEvent)],
  ] as const;

  it.each(families)(
    'the %s handler reads exactly the fields every event has at run time',
    (family, table, read) => {
      for (const [type, e] of Object.entries(table)) {
        const payload = wirePayload(e.payload as never, 7);
        const ev = (
          family === 'domain' ? domainEvent(type, payload) : objectEvent(family, type, payload)
        ) as Record<string, unknown>;
        const { type: t, domain: _d, ...own } = ev;
        expect(t).toBe(type);
        expect(read(ev), `${family} ${type}`).toEqual(own);
      }
    },
  );
});
