import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  decodeRemoteConnectListAllDomainsRet,
  decodeRemoteDomainGetJobStatsRet,
  encodeRemoteConnectListAllDomainsRet,
  encodeRemoteDomainGetJobStatsRet,
  type RemoteConnectListAllDomainsRet,
  type RemoteDomainGetJobStatsRet,
} from '../../../src/generated/remote.js';
import { XdrReader, XdrWriter } from '../../../src/xdr/index.js';

// Generated decoders build structs with `new` on a module-private constructor
// rather than an object literal (so V8 has no allocation site to pretenure);
// what they hand out must still be plain objects: Object.prototype as their
// prototype, their own fields in declaration order and nothing else.

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
