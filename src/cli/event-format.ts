/**
 * Text and JSON forms of domain events for `virtwire events` (a migration's
 * events are records of its timeline: see reporter.ts).
 */
import type { DomainEvent } from '../api/events.js';
import { fromTypedParams, type TypedValue } from '../api/typed-params.js';
import type { RemoteTypedParam } from '../generated/remote.js';
import { jsonTypedValue } from './job-info.js';
import { toJsonValue } from './json.js';

type AnyDomainEvent = DomainEvent;

/** An event's own fields (without type and domain), as the event object has them. */
function ownFields(ev: AnyDomainEvent): Record<string, unknown> {
  const { type: _t, domain: _d, ...rest } = ev as unknown as Record<string, unknown>;
  return rest;
}

/** A typed parameter list (tunable, job_completed) as the wire carries it. */
function isTypedParams(v: unknown): v is RemoteTypedParam[] {
  return (
    Array.isArray(v) &&
    v.every(
      (p) =>
        p !== null &&
        typeof p === 'object' &&
        typeof (p as { field?: unknown }).field === 'string' &&
        typeof (p as { value?: { type?: unknown } }).value?.type === 'number',
    )
  );
}

const scalar = (v: unknown): string => {
  const j = toJsonValue(v);
  return typeof j === 'string' ? j : JSON.stringify(j);
};

/**
 * The event's details after `for domain 'x':`. Lifecycle: `suspended (postcopy)`;
 * migration_iteration: `iteration 2`; an event carrying typed parameters
 * (job_completed, tunable): every parameter on a line of its own, tab-indented
 * `name: value` as virsh lists them; any other: every field as `key=value`.
 */
export function eventDetails(ev: AnyDomainEvent): string {
  if (ev.type === 'lifecycle') {
    const l = ev as DomainEvent<'lifecycle'>;
    return `${l.event} (${l.detail})`;
  }
  if (ev.type === 'migration_iteration')
    return `iteration ${(ev as DomainEvent<'migration_iteration'>).iteration}`;
  const f = ownFields(ev);
  const inline: string[] = [];
  const lines: string[] = [];
  for (const [k, v] of Object.entries(f)) {
    if (k === 'stats') continue; // job_completed's params by name: the list itself is printed
    if (isTypedParams(v)) {
      for (const p of v) lines.push(`\t${p.field}: ${String(fromTypedParams([p])[p.field])}`);
    } else {
      inline.push(`${k}=${scalar(v)}`);
    }
  }
  return [inline.join(' '), ...lines].join('\n');
}

/** virsh's form: `event 'lifecycle' for domain 'vm1': suspended (postcopy)`. */
export function domainEventText(ev: AnyDomainEvent): string {
  const d = eventDetails(ev);
  return `event '${ev.type}' for domain '${ev.domain.name}':${d.startsWith('\n') ? '' : ' '}${d}`;
}

/** A typed parameter list as `{ name: value }`, numbers as JSON numbers. */
function typedParamsJson(params: readonly RemoteTypedParam[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fromTypedParams(params)))
    out[k] = jsonTypedValue(v as TypedValue);
  return out;
}

/**
 * One --json object for a domain event: `{ type: 'event', event, domain: {name, uuid, id}, details }`,
 * the event's own fields under `details` (a lifecycle event has an `event` field of its own;
 * block jobs say `jobType`, metadata changes `metadataType`). Typed parameter lists
 * (job_completed's `stats`, tunable's `params`) are objects by parameter name with typed values.
 */
export function domainEventJson(ev: AnyDomainEvent): Record<string, unknown> {
  const details: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(ownFields(ev))) {
    if (ev.type === 'job_completed' && k === 'params') continue; // `stats` has them by name
    if (k === 'stats' && v !== null && typeof v === 'object') {
      const stats: Record<string, unknown> = {};
      for (const [sk, sv] of Object.entries(v as Record<string, TypedValue>))
        stats[sk] = jsonTypedValue(sv);
      details[k] = stats;
    } else if (isTypedParams(v)) details[k] = typedParamsJson(v);
    else details[k] = toJsonValue(v, k);
  }
  return {
    type: 'event',
    event: ev.type,
    domain: { name: ev.domain.name, uuid: ev.domain.uuid, id: ev.domain.id },
    details,
  };
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/**
 * virsh's event timestamp, `2026-12-06 08:10:38.006+0000`: local time with
 * milliseconds and the UTC offset as `+hhmm`.
 */
export function virshTimestamp(d: Date): string {
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const a = Math.abs(off);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}` +
    `${sign}${pad(Math.floor(a / 60))}${pad(a % 60)}`
  );
}
