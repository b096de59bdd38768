// The checked floor of bench/xdr.ts: the floor's loops (bench/xdr-floor.ts,
// strings `read`) plus every check a correct codec must keep, inlined where
// they apply and nothing else. Timed in the same rounds as the floor, it shows
// what those checks cost on each row: checked floor / floor is the most a
// codec that keeps them can reach of the floor.
//
// Decoding checks what XdrReader checks: every read within the input, each
// count against its declared bound and against the bytes left, each string's
// length against its bound, zero padding, UTF-8 for non-ASCII strings, the
// union discriminant, and that the input is consumed exactly. Encoding checks
// what XdrWriter checks of each value: its JS type and range (int, unsigned
// int, 64-bit bigint, number), Uint8Array and its fixed length, arrays and
// strings against their bounds, the union discriminant. Like the floor it
// writes into fresh memory sized for the message, so it makes no room checks:
// growing a buffer is a codec's own cost, not a check.
//
// floorCheck() (bench/xdr-floor.ts) proves it gives js-xdr's bytes and the
// original values back before anything is timed.

import {
  REMOTE_CONNECT_GET_ALL_DOMAIN_STATS_MAX,
  REMOTE_DOMAIN_JOB_STATS_MAX,
  REMOTE_DOMAIN_LIST_MAX,
  REMOTE_STRING_MAX,
  type RemoteConnectGetAllDomainStatsRet,
  type RemoteConnectListAllDomainsRet,
  type RemoteDomainGetJobStatsRet,
  type RemoteNonnullDomain,
  type RemoteTypedParam,
  type RemoteTypedParamValue,
} from '../src/generated/remote.js';
import {
  FloorAllStats,
  FloorB,
  type FloorCodec,
  FloorD,
  FloorDomain,
  FloorI,
  FloorJobStats,
  FloorL,
  FloorListAll,
  FloorParam,
  FloorRecord,
  FloorS,
  FloorUi,
  FloorUl,
  floorCacheGet,
  floorCachePut,
} from './xdr-floor.js';

/** What the checked floor throws: the checks are real, the messages short. */
class CheckFailed extends Error {}
const bad = (what: string): never => {
  throw new CheckFailed(what);
};

// ---------------------------------------------------------------------------
// Encoding

let chunk = new Uint8Array(65536);
let view = new DataView(chunk.buffer);
let chunkAt = 0;

function start(max: number): number {
  if (chunk.length - chunkAt < max) {
    chunk = new Uint8Array(Math.max(65536, 2 * max));
    view = new DataView(chunk.buffer);
    chunkAt = 0;
  }
  return chunkAt;
}

function finish(from: number, end: number): Uint8Array {
  chunkAt = (end + 7) & ~7;
  return new Uint8Array(chunk.buffer, from, end - from);
}

const utf8 = new TextEncoder();

function putString(dv: DataView, p: number, s: string, max: number): number {
  if (typeof s !== 'string') bad('string expected');
  const n = s.length;
  if (n > max) bad('string over its bound');
  const b = chunk;
  let k = 0;
  let i = 0;
  if (n <= 32) {
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) break;
      b[p + 4 + i] = c;
    }
    k = i;
  }
  if (i < n) {
    if (!s.isWellFormed()) bad('lone surrogate');
    k = utf8.encodeInto(s, b.subarray(p + 4)).written;
    if (k > max) bad('string over its bound');
  }
  dv.setUint32(p, k);
  p += 4 + k;
  while ((p & 3) !== 0) b[p++] = 0;
  return p;
}

function putInt(dv: DataView, p: number, v: number): void {
  if (typeof v !== 'number' || (v | 0) !== v) bad('int out of range');
  dv.setInt32(p, v);
}

function putParams(dv: DataView, p: number, a: RemoteTypedParam[], max: number): number {
  if (!Array.isArray(a) || a.length > max) bad('array over its bound');
  dv.setUint32(p, a.length);
  p += 4;
  for (let i = 0; i < a.length; i++) {
    const e = a[i]!;
    p = putString(dv, p, e.field, REMOTE_STRING_MAX);
    const v = e.value;
    const t = v.type;
    putInt(dv, p, t);
    p += 4;
    switch (t) {
      case 1:
        putInt(dv, p, v.i);
        p += 4;
        break;
      case 2:
        if (typeof v.ui !== 'number' || v.ui >>> 0 !== v.ui) bad('unsigned int out of range');
        dv.setUint32(p, v.ui);
        p += 4;
        break;
      case 3:
        if (typeof v.l !== 'bigint' || BigInt.asIntN(64, v.l) !== v.l) bad('hyper out of range');
        dv.setBigInt64(p, v.l);
        p += 8;
        break;
      case 4:
        if (typeof v.ul !== 'bigint' || BigInt.asUintN(64, v.ul) !== v.ul) {
          bad('unsigned hyper out of range');
        }
        dv.setBigUint64(p, v.ul);
        p += 8;
        break;
      case 5:
        if (typeof v.d !== 'number') bad('double expected');
        dv.setFloat64(p, v.d);
        p += 8;
        break;
      case 6:
        putInt(dv, p, v.b);
        p += 4;
        break;
      case 7:
        p = putString(dv, p, v.s, REMOTE_STRING_MAX);
        break;
      default:
        bad('no arm for this discriminant');
    }
  }
  return p;
}

function putDomain(dv: DataView, p: number, d: RemoteNonnullDomain): number {
  p = putString(dv, p, d.name, REMOTE_STRING_MAX);
  const u = d.uuid;
  if (!(u instanceof Uint8Array) || u.length !== 16) bad('uuid must be 16 bytes');
  dv.setInt32(p, (u[0]! << 24) | (u[1]! << 16) | (u[2]! << 8) | u[3]!);
  dv.setInt32(p + 4, (u[4]! << 24) | (u[5]! << 16) | (u[6]! << 8) | u[7]!);
  dv.setInt32(p + 8, (u[8]! << 24) | (u[9]! << 16) | (u[10]! << 8) | u[11]!);
  dv.setInt32(p + 12, (u[12]! << 24) | (u[13]! << 16) | (u[14]! << 8) | u[15]!);
  putInt(dv, p + 16, d.id);
  return p + 20;
}

function encodeJobStats(v: RemoteDomainGetJobStatsRet, max: number): Uint8Array {
  const s = start(max);
  const dv = view;
  putInt(dv, s, v.type);
  return finish(s, putParams(dv, s + 4, v.params, REMOTE_DOMAIN_JOB_STATS_MAX));
}

function encodeListAll(v: RemoteConnectListAllDomainsRet, max: number): Uint8Array {
  const s = start(max);
  const dv = view;
  const a = v.domains;
  if (!Array.isArray(a) || a.length > REMOTE_DOMAIN_LIST_MAX) bad('array over its bound');
  dv.setUint32(s, a.length);
  let p = s + 4;
  for (let i = 0; i < a.length; i++) p = putDomain(dv, p, a[i]!);
  if (typeof v.ret !== 'number' || v.ret >>> 0 !== v.ret) bad('unsigned int out of range');
  dv.setUint32(p, v.ret);
  return finish(s, p + 4);
}

function encodeAllStats(v: RemoteConnectGetAllDomainStatsRet, max: number): Uint8Array {
  const s = start(max);
  const dv = view;
  const a = v.retStats;
  if (!Array.isArray(a) || a.length > REMOTE_DOMAIN_LIST_MAX) bad('array over its bound');
  dv.setUint32(s, a.length);
  let p = s + 4;
  for (let i = 0; i < a.length; i++) {
    const r = a[i]!;
    p = putDomain(dv, p, r.dom);
    p = putParams(dv, p, r.params, REMOTE_CONNECT_GET_ALL_DOMAIN_STATS_MAX);
  }
  return finish(s, p);
}

// ---------------------------------------------------------------------------
// Decoding: strings through the floor's cache, with the checks.

const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The input being decoded and where it ends. */
let input: Uint8Array = new Uint8Array(0);
let end = 0;

function need(p: number, n: number): void {
  if (p + n > end) bad('truncated');
}

/** A count at `p` within `max` and within what is left at `minSize` bytes an element. */
function count(dv: DataView, p: number, max: number, minSize: number): number {
  need(p, 4);
  const n = dv.getUint32(p);
  if (n > max || n * minSize > end - p - 4) bad('count over its bound or the bytes left');
  return n;
}

function newString(from: number, n: number, high: number): string {
  const b = input;
  if ((high & 0x80808080) !== 0) return utf8Decoder.decode(b.subarray(from, from + n));
  let s = '';
  let i = from;
  const stop = from + n;
  for (; i + 4 <= stop; i += 4) s += String.fromCharCode(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!);
  for (; i < stop; i++) s += String.fromCharCode(b[i]!);
  return s;
}

/** The string at `p` (bounded by `max`); sets `next` to the offset after it. */
let next = 0;
function takeString(dv: DataView, p: number, max: number): string {
  need(p, 4);
  const n = dv.getUint32(p);
  const from = p + 4;
  if (n > max || n > end - from) bad('string over its bound or the bytes left');
  const stop = from + ((n + 3) & ~3);
  if (stop > end) bad('truncated padding');
  next = stop;
  if (n > 64) {
    for (let i = from + n; i < stop; i++) if (input[i] !== 0) bad('non-zero padding');
    return newString(from, n, 0x80);
  }
  let h = n;
  let high = 0;
  let w = 0;
  for (let i = from; i < stop; i += 4) {
    w = dv.getInt32(i);
    high |= w;
    h = Math.imul(h ^ w, 0x9e3779b1);
    h ^= h >>> 16;
  }
  if ((n & 3) !== 0 && (w & (0xffffffff >>> ((n & 3) * 8))) !== 0) bad('non-zero padding');
  if ((high & 0x80808080) !== 0) return newString(from, n, high);
  const hit = floorCacheGet(dv, from, stop, n, h);
  if (hit !== undefined) return hit;
  const s = newString(from, n, 0);
  floorCachePut(dv, from, stop, n, h, s);
  return s;
}

function readParams(dv: DataView, p: number, max: number, out: RemoteTypedParam[]): number {
  const n = count(dv, p, max, 12);
  p += 4;
  for (let i = 0; i < n; i++) {
    const field = takeString(dv, p, REMOTE_STRING_MAX);
    p = next;
    need(p, 4);
    const t = dv.getInt32(p);
    p += 4;
    let value: RemoteTypedParamValue;
    switch (t) {
      case 1:
        need(p, 4);
        value = new FloorI(dv.getInt32(p));
        p += 4;
        break;
      case 2:
        need(p, 4);
        value = new FloorUi(dv.getUint32(p));
        p += 4;
        break;
      case 3:
        need(p, 8);
        value = new FloorL(dv.getBigInt64(p));
        p += 8;
        break;
      case 4:
        need(p, 8);
        value = new FloorUl(dv.getBigUint64(p));
        p += 8;
        break;
      case 5:
        need(p, 8);
        value = new FloorD(dv.getFloat64(p));
        p += 8;
        break;
      case 6:
        need(p, 4);
        value = new FloorB(dv.getInt32(p));
        p += 4;
        break;
      case 7:
        value = new FloorS(takeString(dv, p, REMOTE_STRING_MAX));
        p = next;
        break;
      default:
        return bad('no arm for this discriminant');
    }
    out.push(new FloorParam(field, value));
  }
  return p;
}

function begin(bytes: Uint8Array): void {
  input = bytes;
  end = bytes.length;
}

function done(p: number): void {
  if (p !== end) bad('trailing bytes');
}

function decodeJobStats(bytes: Uint8Array): RemoteDomainGetJobStatsRet {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  begin(bytes);
  need(0, 4);
  const type = dv.getInt32(0);
  const params: RemoteTypedParam[] = [];
  done(readParams(dv, 4, REMOTE_DOMAIN_JOB_STATS_MAX, params));
  return new FloorJobStats(type, params);
}

/** A domain at `p`, UUID a view of `copy` (the floor's one private copy of the message). */
function readDomain(dv: DataView, p: number, copy: ArrayBuffer): RemoteNonnullDomain {
  const name = takeString(dv, p, REMOTE_STRING_MAX);
  p = next;
  need(p, 20);
  next = p + 20;
  return new FloorDomain(name, new Uint8Array(copy, p, 16), dv.getInt32(p + 16));
}

function decodeListAll(bytes: Uint8Array): RemoteConnectListAllDomainsRet {
  const copy = bytes.slice().buffer;
  const dv = new DataView(copy);
  begin(bytes);
  const n = count(dv, 0, REMOTE_DOMAIN_LIST_MAX, 24);
  const domains: RemoteNonnullDomain[] = new Array(n);
  let p = 4;
  for (let i = 0; i < n; i++) {
    domains[i] = readDomain(dv, p, copy);
    p = next;
  }
  need(p, 4);
  const ret = dv.getUint32(p);
  done(p + 4);
  return new FloorListAll(domains, ret);
}

function decodeAllStats(bytes: Uint8Array): RemoteConnectGetAllDomainStatsRet {
  const copy = bytes.slice().buffer;
  const dv = new DataView(copy);
  begin(bytes);
  const n = count(dv, 0, REMOTE_DOMAIN_LIST_MAX, 28);
  const retStats: RemoteConnectGetAllDomainStatsRet['retStats'] = new Array(n);
  let p = 4;
  for (let i = 0; i < n; i++) {
    const dom = readDomain(dv, p, copy);
    const params: RemoteTypedParam[] = [];
    p = readParams(dv, next, REMOTE_CONNECT_GET_ALL_DOMAIN_STATS_MAX, params);
    retStats[i] = new FloorRecord(dom, params);
  }
  done(p);
  return new FloorAllStats(retStats);
}

// ---------------------------------------------------------------------------
// What bench/xdr.ts uses (the oracle is not used: these read and write their strings).

export const checkedJobStats: FloorCodec<RemoteDomainGetJobStatsRet> = {
  encode: (v, _o, max) => encodeJobStats(v, max),
  decode: (bytes) => decodeJobStats(bytes),
};

export const checkedListAll: FloorCodec<RemoteConnectListAllDomainsRet> = {
  encode: (v, _o, max) => encodeListAll(v, max),
  decode: (bytes) => decodeListAll(bytes),
};

export const checkedAllStats: FloorCodec<RemoteConnectGetAllDomainStatsRet> = {
  encode: (v, _o, max) => encodeAllStats(v, max),
  decode: (bytes) => decodeAllStats(bytes),
};
