/**
 * Every event of every family, from the generated tables: a random payload
 * goes through the wire codec and the same shaping a subscription uses, and
 * the event object keeps its discriminant and every field of the payload.
 */
import { describe, expect, it } from 'vitest';
import { domainEvent, objectEvent } from '../../../src/api/events.js';
import { formatUuid } from '../../../src/api/names.js';
import { fromTypedParams } from '../../../src/api/typed-params.js';
import { eventFields } from '../../../src/codegen/events.js';
import * as names from '../../../src/generated/event-names.js';
import * as tables from '../../../src/generated/events.js';
import { type Codec, XdrReader, XdrWriter } from '../../../src/xdr/index.js';
import { protocol, wirePayload } from '../../helpers/event-payloads.js';

const proto = protocol;

interface Entry {
  readonly payload: Codec<unknown>;
  readonly flatten: (p: never) => Record<string, unknown>;
}
const FAMILIES: ReadonlyArray<readonly [string, Record<string, Entry>]> = [
  ['domain', tables.domainEvents],
  ['network', tables.networkEvents],
  ['storagePool', tables.storagePoolEvents],
  ['nodeDevice', tables.nodeDeviceEvents],
  ['secret', tables.secretEvents],
];
const cases = FAMILIES.flatMap(([family, table]) =>
  Object.entries(table).map(([type, e]) => [family, type, e] as const),
);

/** Leaf fields of a payload with the path they sit at: the nested `msg` opened, `callbackID` left out. */
function wireFields(p: Record<string, unknown>): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (const [k, v] of Object.entries(p)) {
    if (k === 'callbackID') continue;
    if (k === 'msg') for (const [j, w] of Object.entries(v as object)) out.push([`msg.${j}`, w]);
    else out.push([k, v]);
  }
  return out;
}

describe('the generated event tables', () => {
  it('cover every family with the events libvirt 11.3 defines', () => {
    expect(cases.length).toBe(28 + 2 + 2 + 2 + 2);
  });

  it('name the same events in event-names.ts, which loads no codecs', () => {
    expect(names.domainEventNames).toEqual(Object.keys(tables.domainEvents));
    expect(names.networkEventNames).toEqual(Object.keys(tables.networkEvents));
    expect(names.storagePoolEventNames).toEqual(Object.keys(tables.storagePoolEvents));
    expect(names.nodeDeviceEventNames).toEqual(Object.keys(tables.nodeDeviceEvents));
    expect(names.secretEventNames).toEqual(Object.keys(tables.secretEvents));
  });

  it.each(cases)(
    '%s %s: no field is named like the discriminant or the domain',
    (family, type, e) => {
      const keys = Object.keys(e.flatten(wirePayload(e.payload, 1) as never));
      expect(keys).not.toContain('type');
      expect(keys).not.toContain('domain');
      expect(keys).not.toContain('callbackID');
      // as many fields as the wire payload has leaves: nothing dropped, nothing merged
      expect(keys).toHaveLength(wireFields(wirePayload(e.payload, 1)).length);
      expect(keys.length).toBeGreaterThan(0);
      void family;
      void type;
    },
  );

  it.each(cases)(
    '%s %s: the event object keeps its type and every payload field',
    (family, type, e) => {
      for (const seed of [1, 2, 3]) {
        const payload = wirePayload(e.payload, seed);
        const ev = (
          family === 'domain' ? domainEvent(type, payload) : objectEvent(family, type, payload)
        ) as Record<string, unknown>;
        expect(ev.type).toBe(type);
        const fields = eventFields(proto, family, type, e.payload.name);
        for (const [path, value] of wireFields(payload)) {
          const field = fields.find((f) => f.path.join('.') === path);
          expect(field, `${path} has a public name`).toBeDefined();
          const name = field!.name;
          if (family === 'domain' && name === 'dom') {
            const dom = value as { name: string; uuid: Uint8Array; id: number };
            expect(ev.domain).toEqual({
              name: dom.name,
              uuid: formatUuid(dom.uuid),
              id: dom.id,
              wire: dom,
            });
          } else if (
            type === 'lifecycle' &&
            (name === 'event' || (family === 'domain' && name === 'detail'))
          ) {
            // lifecycle events name these (other families only the event), numbers beside them
            expect(ev[`${name}Code`]).toBe(value);
            expect(typeof ev[name]).toBe('string');
          } else {
            expect(ev[name], `${family} ${type}: ${path} as ${name}`).toEqual(value);
          }
        }
        if (type === 'job_completed')
          expect(ev.stats).toEqual(fromTypedParams(payload.params as never));
      }
    },
  );
});

describe('the renamed and recovered fields', () => {
  const payloadOf = (codec: Codec<unknown>, value: unknown) => {
    const w = new XdrWriter();
    codec.encode(w, value);
    return codec.decode(new XdrReader(w.finish())) as Record<string, unknown>;
  };
  const dom = { name: 'vm1', uuid: new Uint8Array(16).fill(7), id: 3 };

  it('block_job: the job type is jobType, the event stays block_job', () => {
    const p = payloadOf(tables.domainEvents.block_job.payload, {
      callbackID: 1,
      msg: { dom, path: '/var/lib/vm1.qcow2', type: 2, status: 0 },
    });
    expect(domainEvent('block_job', p)).toMatchObject({
      type: 'block_job',
      jobType: 2,
      status: 0,
      path: '/var/lib/vm1.qcow2',
    });
  });

  it('block_job_2 and metadata_change (domain and network): jobType, metadataType', () => {
    const bj2 = payloadOf(tables.domainEvents.block_job_2.payload, {
      callbackID: 1,
      dom,
      dst: 'vda',
      type: 4,
      status: 1,
    });
    expect(domainEvent('block_job_2', bj2)).toMatchObject({
      type: 'block_job_2',
      jobType: 4,
      dst: 'vda',
    });
    const md = payloadOf(tables.domainEvents.metadata_change.payload, {
      callbackID: 1,
      dom,
      type: 2,
      nsuri: 'http://example.org/ns',
    });
    expect(domainEvent('metadata_change', md)).toMatchObject({
      type: 'metadata_change',
      metadataType: 2,
      nsuri: 'http://example.org/ns',
    });
    const net = { name: 'default', uuid: new Uint8Array(16) };
    const nmd = payloadOf(tables.networkEvents.metadata_change.payload, {
      callbackID: 1,
      net,
      type: 1,
      nsuri: null,
    });
    expect(objectEvent('network', 'metadata_change', nmd)).toEqual({
      type: 'metadata_change',
      net,
      metadataType: 1,
      nsuri: null,
    });
  });

  it.each(['pmwakeup', 'pmsuspend', 'pmsuspend_disk'] as const)(
    '%s keeps the reason that travels outside the nested message',
    (type) => {
      const p = payloadOf(tables.domainEvents[type].payload, {
        callbackID: 9,
        reason: 5,
        msg: { dom },
      });
      expect(domainEvent(type, p)).toEqual({
        type,
        domain: { name: 'vm1', uuid: formatUuid(dom.uuid), id: 3, wire: dom },
        reason: 5,
      });
    },
  );

  it('the generator refuses a field that would collide and has no new name', () => {
    expect(() =>
      eventFields(proto, 'domain', 'not_renamed', 'remote_domain_event_callback_block_job_msg'),
    ).toThrow(
      /field type collides with the event object's type; add a name for domain.not_renamed.type/,
    );
    expect(
      eventFields(proto, 'domain', 'block_job', 'remote_domain_event_callback_block_job_msg'),
    ).toEqual([
      { name: 'dom', path: ['msg', 'dom'] },
      { name: 'path', path: ['msg', 'path'] },
      { name: 'jobType', path: ['msg', 'type'] },
      { name: 'status', path: ['msg', 'status'] },
    ]);
  });
});
