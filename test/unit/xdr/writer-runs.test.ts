import { describe, expect, it } from 'vitest';
import {
  encodeRemoteConnectListAllDomainsRet,
  encodeRemoteNonnullDomain,
  encodeRemoteTypedParam,
} from '../../../src/generated/remote.js';
import { XdrWriter } from '../../../src/xdr/index.js';
import { caught } from '../../helpers/xdr-error.js';

// Generated encoders write runs of fixed-size fields through one claim() and
// the *At calls: the same bytes as field by field, every value still checked,
// and an error still names the field and its own offset.

const uuid = Uint8Array.from({ length: 16 }, (_, i) => i * 17);

describe('XdrWriter runs of fixed-size fields', () => {
  it('claim() moves the cursor and the *At calls write at their offsets', () => {
    const w = new XdrWriter(8); // small: the claim has to grow the buffer
    w.writeInt(7);
    const p = w.claim(36);
    const dv = w.data;
    w.intAt(dv, p, -2);
    w.uintAt(dv, p + 4, 0xffffffff);
    w.hyperAt(dv, p + 8, -3n);
    w.uhyperAt(dv, p + 16, 2n ** 64n - 1n);
    w.boolAt(dv, p + 24, true);
    w.fixedOpaqueAt(dv, p + 28, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), 8);
    expect(w.pos).toBe(40);
    const ref = new XdrWriter();
    ref.writeInt(7);
    ref.writeInt(-2);
    ref.writeUint(0xffffffff);
    ref.writeHyper(-3n);
    ref.writeUhyper(2n ** 64n - 1n);
    ref.writeBool(true);
    ref.writeFixedOpaque(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), 8);
    expect(Buffer.from(w.finish()).equals(Buffer.from(ref.finish()))).toBe(true);
  });

  it('float and double at an offset read back', () => {
    const w = new XdrWriter();
    const p = w.claim(12);
    w.floatAt(w.data, p, 1.5);
    w.doubleAt(w.data, p + 4, -0.25);
    const dv = new DataView(w.finish().slice().buffer);
    expect(dv.getFloat32(0)).toBe(1.5);
    expect(dv.getFloat64(4)).toBe(-0.25);
  });

  it('checks every value of a run, naming the field and the offset it was to go to', () => {
    const w = new XdrWriter();
    const badId = caught(() => encodeRemoteNonnullDomain(w.reset(), { name: 'ab', uuid, id: 1.5 }));
    expect(badId.path).toBe('remote_nonnull_domain.id');
    expect(badId.offset).toBe(8 + 16); // after "ab" (4 + 4 bytes) and the UUID
    const badUuid = caught(() =>
      encodeRemoteNonnullDomain(w.reset(), { name: 'ab', uuid: uuid.subarray(1), id: 1 }),
    );
    expect(badUuid.path).toBe('remote_nonnull_domain.uuid');
    expect(badUuid.offset).toBe(8);
    const notBytes = caught(() =>
      encodeRemoteNonnullDomain(w.reset(), {
        name: 'ab',
        uuid: [...uuid] as unknown as Uint8Array,
        id: 1,
      }),
    );
    expect(notBytes.path).toBe('remote_nonnull_domain.uuid');
    const inList = caught(() =>
      encodeRemoteConnectListAllDomainsRet(w.reset(), {
        domains: [
          { name: 'a', uuid, id: 1 },
          { name: 'b', uuid, id: 2 ** 31 },
        ],
        ret: 2,
      }),
    );
    expect(inList.path).toBe('remote_connect_list_all_domains_ret.domains[1].id');
  });

  it('checks a union arm written together with its discriminant', () => {
    const w = new XdrWriter();
    const e = caught(() =>
      encodeRemoteTypedParam(w.reset(), { field: 'x', value: { type: 3, l: 2n ** 63n } }),
    );
    expect(e.path).toBe('remote_typed_param.value.l');
    expect(e.offset).toBe(8 + 4);
    const noArm = caught(() =>
      encodeRemoteTypedParam(w.reset(), {
        field: 'x',
        value: { type: 99, i: 1 } as never,
      }),
    );
    expect(noArm.path).toBe('remote_typed_param.value.type');
    // and the bytes: discriminant then value, as field-by-field writes give them
    encodeRemoteTypedParam(w.reset(), { field: 'x', value: { type: 2, ui: 0xfffffffe } });
    const ref = new XdrWriter();
    ref.writeString('x', 100);
    ref.writeInt(2);
    ref.writeUint(0xfffffffe);
    expect(Buffer.from(w.finish()).equals(Buffer.from(ref.finish()))).toBe(true);
  });
});
