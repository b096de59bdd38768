import { describe, expect, it } from 'vitest';
import {
  encodeEachRemoteNonnullDomain,
  encodeRemoteConnectListAllDomainsRet,
  encodeRemoteDomainGetJobStatsRet,
  encodeRemoteNonnullDomain,
  encodeRemoteTypedParam,
  type RemoteNonnullDomain,
  type RemoteTypedParam,
} from '../../../src/generated/remote.js';
import { XdrWriter } from '../../../src/xdr/index.js';
import { caught } from '../../helpers/xdr-error.js';

// Arrays of small structs and unions are written by the generated encodeEachX():
// each element in its short form at a local cursor, and any element without
// one (a long or non-ASCII string, an arm not covered, a bad value) by the
// type's own encoder. Whatever mix of the two an array holds, the bytes must be
// those of the element encoders called one by one, and an error must name the
// element and its field as before.

const uuid = (k: number) => Uint8Array.from({ length: 16 }, (_, i) => (i * 31 + k) & 0xff);

/** A writer whose buffer holds 0xff bytes where the next message goes. */
function dirtyWriter(size = 65536): XdrWriter {
  const w = new XdrWriter(size);
  for (let i = 0; i < Math.min(size, 4096) / 4; i++) w.writeInt(-1);
  return w.reset();
}

function referenceDomains(ds: RemoteNonnullDomain[], ret: number): Buffer {
  const r = new XdrWriter();
  r.writeLength(ds.length, 16384);
  for (const d of ds) encodeRemoteNonnullDomain(r, d);
  r.writeUint(ret);
  return Buffer.from(r.finish());
}

const names = [
  'vm-00001',
  '',
  'a',
  'abc',
  'x'.repeat(32),
  'x'.repeat(33), // longer than the short form
  'é', // not ASCII
  `${'y'.repeat(30)}é`,
  '\u{1F600}',
  'z'.repeat(200),
  'abcd',
];

const domains: RemoteNonnullDomain[] = Array.from({ length: 300 }, (_, i) => ({
  name: names[i % names.length]!,
  uuid: uuid(i),
  id: i % 7 === 0 ? -1 : i,
}));

describe('arrays written in their short form', () => {
  it('give the element encoders’ bytes for any mix of short and other elements', () => {
    const ref = referenceDomains(domains, 300);
    // 65536: room all along; 8 and 100: the room runs out again and again mid-array
    for (const size of [65536, 100, 8]) {
      const w = dirtyWriter(size);
      encodeRemoteConnectListAllDomainsRet(w, { domains, ret: 300 });
      expect(Buffer.from(w.finish()).equals(ref), `initial size ${size}`).toBe(true);
    }
  });

  it('leave the cursor after the last element, whichever way it was written', () => {
    for (const last of ['short', 'é'.repeat(3)]) {
      const w = new XdrWriter();
      w.writeInt(7);
      encodeEachRemoteNonnullDomain(w, [{ name: last, uuid: uuid(1), id: 2 }]);
      const r = new XdrWriter();
      r.writeInt(7);
      encodeRemoteNonnullDomain(r, { name: last, uuid: uuid(1), id: 2 });
      expect(w.pos).toBe(r.pos);
      expect(Buffer.from(w.finish()).equals(Buffer.from(r.finish()))).toBe(true);
    }
  });

  it('grow the buffer only when the message does not fit', () => {
    const ds = domains.filter((d) => d.name.length <= 8 && /^[ -~]*$/.test(d.name));
    const size = referenceDomains(ds, 0).length;
    const w = new XdrWriter(size); // room for exactly this message
    const buffer = w.raw;
    encodeRemoteConnectListAllDomainsRet(w, { domains: ds, ret: 0 });
    expect(w.pos).toBe(size);
    expect(w.raw).toBe(buffer); // no short form's worth of room asked for past the end
  });

  it('give the element encoders’ bytes for typed parameters of every arm', () => {
    const params: RemoteTypedParam[] = [
      { field: 'i', value: { type: 1, i: -5 } },
      { field: 'ui', value: { type: 2, ui: 0xffffffff } },
      { field: 'l', value: { type: 3, l: -(2n ** 63n) } },
      { field: 'ul', value: { type: 4, ul: 2n ** 64n - 1n } },
      { field: 'd', value: { type: 5, d: -0.5 } },
      { field: 'b', value: { type: 6, b: 1 } },
      { field: 's', value: { type: 7, s: 'short' } },
      { field: 'long string value', value: { type: 7, s: 'v'.repeat(57) } },
      { field: 'f'.repeat(40), value: { type: 1, i: 3 } },
      { field: 'ünïcode', value: { type: 7, s: 'ß' } },
      { field: 'after', value: { type: 2, ui: 9 } },
    ];
    const r = new XdrWriter();
    r.writeInt(2);
    r.writeLength(params.length, 64);
    for (const p of params) encodeRemoteTypedParam(r, p);
    const ref = Buffer.from(r.finish());
    for (const size of [65536, 16]) {
      const w = dirtyWriter(size);
      encodeRemoteDomainGetJobStatsRet(w, { type: 2, params });
      expect(Buffer.from(w.finish()).equals(ref), `initial size ${size}`).toBe(true);
    }
  });

  it('name the element, its field and the offset of a bad value', () => {
    const w = new XdrWriter();
    const list = (ds: RemoteNonnullDomain[]) => () =>
      encodeRemoteConnectListAllDomainsRet(w.reset(), { domains: ds, ret: ds.length });
    const ok = (i: number): RemoteNonnullDomain => ({ name: 'ab', uuid: uuid(i), id: i });
    const badId = caught(list([ok(0), ok(1), { name: 'ab', uuid: uuid(2), id: 0.5 }]));
    expect(badId.path).toBe('remote_connect_list_all_domains_ret.domains[2].id');
    expect(badId.offset).toBe(4 + 2 * 28 + 8 + 16); // count, two elements, name and UUID
    const badUuid = caught(list([ok(0), { name: 'ab', uuid: uuid(1).subarray(2), id: 1 }]));
    expect(badUuid.path).toBe('remote_connect_list_all_domains_ret.domains[1].uuid');
    const badName = caught(list([ok(0), ok(1), ok(2), { name: 7 as never, uuid: uuid(3), id: 3 }]));
    expect(badName.path).toBe('remote_connect_list_all_domains_ret.domains[3].name');
    const longName = caught(list([ok(0), { name: 'n'.repeat(4194305), uuid: uuid(1), id: 1 }]));
    expect(longName.path).toBe('remote_connect_list_all_domains_ret.domains[1].name');
  });

  it('name the element and field when an element or a nested value is null', () => {
    const w = new XdrWriter();
    const nullElement = caught(() =>
      encodeRemoteConnectListAllDomainsRet(w.reset(), {
        domains: [{ name: 'a', uuid: uuid(0), id: 0 }, null as never],
        ret: 2,
      }),
    );
    expect(nullElement.path).toBe('remote_connect_list_all_domains_ret.domains[1].name');
    const nullValue = caught(() =>
      encodeRemoteDomainGetJobStatsRet(w.reset(), {
        type: 0,
        params: [
          { field: 'a', value: { type: 1, i: 1 } },
          { field: 'b', value: null as never },
        ],
      }),
    );
    // as the element's own encoder says it: reading the discriminant of null failed
    expect(nullValue.path).toBe('remote_domain_get_job_stats_ret.params[1].value.type');
    const noArm = caught(() =>
      encodeRemoteDomainGetJobStatsRet(w.reset(), {
        type: 0,
        params: [{ field: 'a', value: { type: 8, i: 1 } as never }],
      }),
    );
    expect(noArm.path).toBe('remote_domain_get_job_stats_ret.params[0].value.type');
  });
});
