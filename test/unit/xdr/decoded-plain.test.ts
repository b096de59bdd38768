import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  type AdminTypedParamValue,
  decodeAdminTypedParamValue,
  encodeAdminTypedParamValue,
} from '../../../src/generated/admin.js';
import {
  decodeRemoteConnectListAllDomainsRet,
  decodeRemoteDomainGetJobStatsRet,
  decodeRemoteDomainGetPerfEventsArgs,
  decodeRemoteDomainUndefineFlagsArgs,
  decodeRemoteTypedParamValue,
  encodeRemoteConnectListAllDomainsRet,
  encodeRemoteDomainGetJobStatsRet,
  encodeRemoteDomainGetPerfEventsArgs,
  encodeRemoteDomainUndefineFlagsArgs,
  encodeRemoteTypedParamValue,
  type RemoteConnectListAllDomainsRet,
  type RemoteDomainGetJobStatsRet,
  type RemoteTypedParamValue,
} from '../../../src/generated/remote.js';
import { XdrReader, XdrWriter } from '../../../src/xdr/index.js';

// Generated decoders build structs and union arms with `new` on module-private
// constructors rather than object literals (so V8 has no allocation site to
// pretenure); what they hand out must still be plain objects: Object.prototype
// as their prototype, their own fields in declaration order (a union arm's
// discriminant first, then its field) and nothing else.

function roundTrip<T>(encode: (w: XdrWriter, v: T) => void, decode: (r: XdrReader) => T, v: T): T {
  const w = new XdrWriter();
  encode(w, v);
  const r = new XdrReader(w.finish());
  const out = decode(r);
  r.done();
  return out;
}

describe('decoded structs are plain objects', () => {
  it('a domain list: every struct has Object.prototype and exactly its fields', () => {
    const v: RemoteConnectListAllDomainsRet = {
      domains: [
        { name: 'vm-1', uuid: new Uint8Array(16).fill(1), id: 1 },
        { name: 'vm-2', uuid: new Uint8Array(16).fill(2), id: -1 },
      ],
      ret: 2,
    };
    const out = roundTrip(
      encodeRemoteConnectListAllDomainsRet,
      decodeRemoteConnectListAllDomainsRet,
      v,
    );
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['domains', 'ret']);
    for (const d of out.domains) {
      expect(Object.getPrototypeOf(d)).toBe(Object.prototype);
      expect(Object.keys(d)).toEqual(['name', 'uuid', 'id']);
      expect(d.constructor).toBe(Object);
    }
    // isDeepStrictEqual compares prototypes too.
    expect(isDeepStrictEqual(out, v)).toBe(true);
    expect(JSON.stringify(out.domains[0]!)).toBe(
      JSON.stringify({ name: 'vm-1', uuid: v.domains[0]!.uuid, id: 1 }),
    );
  });

  it('typed parameters: the struct around a union is plain too', () => {
    const v: RemoteDomainGetJobStatsRet = {
      type: 2,
      params: [
        { field: 'time_elapsed', value: { type: 4, ul: 12345n } },
        { field: 'error_message', value: { type: 7, s: 'aborted' } },
      ],
    };
    const out = roundTrip(encodeRemoteDomainGetJobStatsRet, decodeRemoteDomainGetJobStatsRet, v);
    for (const p of out.params) {
      expect(Object.getPrototypeOf(p)).toBe(Object.prototype);
      expect(Object.keys(p)).toEqual(['field', 'value']);
    }
    expect(isDeepStrictEqual(out, v)).toBe(true);
    expect({ ...out.params[0]! }).toStrictEqual(v.params[0]);
  });
});

describe('structs of one shape', () => {
  // remote_domain_get_perf_events_args and remote_domain_undefine_flags_args are
  // both { dom, flags }: the generator gives them one constructor.
  it('decode to distinct plain objects with their fields in order', () => {
    const dom = { name: 'vm', uuid: new Uint8Array(16).fill(7), id: 3 };
    const a = roundTrip(encodeRemoteDomainGetPerfEventsArgs, decodeRemoteDomainGetPerfEventsArgs, {
      dom,
      flags: 1,
    });
    const b = roundTrip(encodeRemoteDomainUndefineFlagsArgs, decodeRemoteDomainUndefineFlagsArgs, {
      dom,
      flags: 2,
    });
    for (const [out, flags] of [
      [a, 1],
      [b, 2],
    ] as const) {
      expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
      expect(Object.keys(out)).toEqual(['dom', 'flags']);
      expect(isDeepStrictEqual(out, { dom, flags })).toBe(true);
    }
    expect(a).not.toBe(b);
  });
});

const bigintAsString = (_k: string, x: unknown): unknown => (typeof x === 'bigint' ? String(x) : x);

/** One value of every arm of a typed parameter's union (remote and admin declare the same). */
const everyArm: ReadonlyArray<RemoteTypedParamValue & AdminTypedParamValue> = [
  { type: 1, i: -7 },
  { type: 2, ui: 4_000_000_000 },
  { type: 3, l: -(2n ** 40n) },
  { type: 4, ul: 2n ** 63n },
  { type: 5, d: 0.5 },
  { type: 6, b: 1 },
  { type: 7, s: 'aborted' },
];

describe('decoded union arms are plain objects', () => {
  const unions = [
    ['remote_typed_param_value', encodeRemoteTypedParamValue, decodeRemoteTypedParamValue],
    ['admin_typed_param_value', encodeAdminTypedParamValue, decodeAdminTypedParamValue],
  ] as const;
  for (const [name, encode, decode] of unions) {
    it(`${name}: every arm has Object.prototype, its discriminant, then its field`, () => {
      const seen = new Set<unknown>();
      for (const v of everyArm) {
        const out = roundTrip<typeof v>(encode, decode, v);
        expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
        expect(out.constructor).toBe(Object);
        expect(Object.keys(out)).toEqual(Object.keys(v));
        expect(Object.keys(out)[0]).toBe('type');
        expect(isDeepStrictEqual(out, v)).toBe(true);
        // serialised alike, key order included (bigints as decimal strings)
        expect(JSON.stringify(out, bigintAsString)).toBe(JSON.stringify(v, bigintAsString));
        seen.add(out.type);
      }
      expect(seen.size).toBe(7);
    });
  }
});
