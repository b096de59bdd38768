/**
 * Text and JSON forms of domain events for `virtwire events` (a migration's
 * events are records of its timeline: see reporter.ts).
 */
import type { DomainEvent } from '../api/events.js';
import { toJsonValue } from './json.js';

type AnyDomainEvent = DomainEvent;

/** An event's own fields (without type and domain), JSON-ready. */
function fields(ev: AnyDomainEvent): Record<string, unknown> {
  const { type: _t, domain: _d, ...rest } = ev as unknown as Record<string, unknown>;
  return toJsonValue(rest) as Record<string, unknown>;
}

/** `suspended (postcopy)` for lifecycle events, `key=value ...` for the others. */
export function eventDetails(ev: AnyDomainEvent): string {
  if (ev.type === 'lifecycle') {
    const l = ev as DomainEvent<'lifecycle'>;
    return `${l.event} (${l.detail})`;
  }
  if (ev.type === 'migration_iteration')
    return `iteration ${(ev as DomainEvent<'migration_iteration'>).iteration}`;
  const f = fields(ev);
  if (ev.type === 'job_completed') {
    const stats = (f.stats ?? {}) as Record<string, unknown>;
    const keys = ['time_elapsed', 'downtime', 'memory_iteration', 'memory_postcopy_requests'];
    return keys
      .filter((k) => stats[k] !== undefined)
      .map((k) => `${k}=${String(stats[k])}`)
      .join(' ');
  }
  return Object.entries(f)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}

/** virsh's form: `event 'lifecycle' for domain 'vm1': suspended (postcopy)`. */
export function domainEventText(ev: AnyDomainEvent): string {
  return `event '${ev.type}' for domain '${ev.domain.name}': ${eventDetails(ev)}`;
}

/**
 * One --json object for a domain event: `{ type: 'event', event, domain: {name, uuid, id}, details }`,
 * the event's own fields under `details` (a lifecycle event has an `event` field of its own;
 * block jobs say `jobType`, metadata changes `metadataType`).
 */
export function domainEventJson(ev: AnyDomainEvent): Record<string, unknown> {
  const details = fields(ev);
  if (ev.type === 'job_completed') delete details.params; // `stats` has them by name
  return {
    type: 'event',
    event: ev.type,
    domain: { name: ev.domain.name, uuid: ev.domain.uuid, id: ev.domain.id },
    details,
  };
}
