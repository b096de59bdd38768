// The floor of bench/xdr.ts: the least work any codec must do for the same result.
//
// Hand-written loops for exactly the three messages of bench/xdr-messages.ts
// that skip everything a real codec may skip at best: no type, range or bound
// checks, no error paths. They write the values into memory the caller may keep
// (fresh, as XdrWriter.finish() and js-xdr's toXDR() give), or build the decoded
// objects, bigints and one Uint8Array per UUID. How they get their strings is
// `--floor-strings` (read, map or oracle, below). With `read`, no correct
// codec that reads its strings beats the floor; with `oracle`, no codec at all.
//
// bench/xdr.ts times the floor beside virtwire and js-xdr in the same rounds,
// after floorCheck() has proven that it gives js-xdr's bytes and the original
// values back.

import { isDeepStrictEqual } from 'node:util';
import type {
  RemoteConnectGetAllDomainStatsRet,
  RemoteConnectListAllDomainsRet,
  RemoteDomainGetJobStatsRet,
  RemoteNonnullDomain,
  RemoteTypedParam,
  RemoteTypedParamValue,
} from '../src/generated/remote.js';

/**
 * `--floor-strings=read|map|oracle`: how the floor gets its strings.
 * - read (the default): as a correct codec without an encoder cache must. Encoding
 *   writes each string a character at a time (TextEncoder above 32 characters);
 *   decoding looks each short string up in a cache keyed by a hash of its bytes
 *   and proves the hit by comparing them (a new string on a miss).
 * - map: encoding looks each string up in a Map of wire forms that holds every
 *   string of the messages (a caching encoder that always hits); decoding as read.
 * - oracle: every string comes ready-made, in wire order, from the value itself:
 *   no codec can do less.
 *
 * Read here, at load, so that the string functions below are constants V8 can inline.
 */
export const FLOOR_STRINGS = (() => {
  const a = process.argv.find((x) => x.startsWith('--floor-strings='));
  const v = a?.slice('--floor-strings='.length) ?? 'read';
  if (v !== 'read' && v !== 'map' && v !== 'oracle') {
    throw new Error(`bad ${a}: read (the default), map or oracle`);
  }
  return v;
})();

let floorChunk = new Uint8Array(65536);
let floorView = new DataView(floorChunk.buffer);
let floorAt = 0;
/** The oracle's cursor: the next string to take. */
let floorK = 0;

/** Where a message of at most `max` bytes starts in memory nothing else writes over later. */
function floorStart(max: number): number {
  if (floorChunk.length - floorAt < max) {
    floorChunk = new Uint8Array(Math.max(65536, 2 * max));
    floorView = new DataView(floorChunk.buffer);
    floorAt = 0;
  }
  floorK = 0;
  return floorAt;
}

function floorFinish(start: number, end: number): Uint8Array {
  floorAt = (end + 7) & ~7;
  return new Uint8Array(floorChunk.buffer, start, end - start);
}

/** Copies the oracle's next string, already in its wire form (length, bytes, padding). */
function floorOracleString(dv: DataView, p: number, wire: Int32Array[]): number {
  return floorCopyWords(dv, p, wire[floorK++]!);
}

function floorCopyWords(dv: DataView, p: number, words: Int32Array): number {
  for (let i = 0; i < words.length; i++, p += 4) dv.setInt32(p, words[i]!);
  return p;
}

const floorUtf8 = new TextEncoder();

/** `--floor-strings=read`: writes the value's string itself, ASCII a character at a time. */
function floorCharsString(dv: DataView, p: number, s: string): number {
  const b = floorChunk;
  const n = s.length;
  if (n > 32) {
    const k = floorUtf8.encodeInto(s, b.subarray(p + 4)).written;
    dv.setUint32(p, k);
    p += 4 + k;
  } else {
    dv.setUint32(p, n);
    p += 4;
    for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
  }
  while ((p & 3) !== 0) b[p++] = 0;
  return p;
}

/** `--floor-strings=map`: every string of every message variant -> its wire form. */
const floorWireForms = new Map<string, Int32Array>();

function floorMapString(dv: DataView, p: number, s: string): number {
  return floorCopyWords(dv, p, floorWireForms.get(s)!);
}

/** Writes string `s` at `p` the `--floor-strings` way; returns the offset after it. */
const floorString =
  FLOOR_STRINGS === 'read'
    ? (dv: DataView, p: number, s: string, _wire: Int32Array[]) => floorCharsString(dv, p, s)
    : FLOOR_STRINGS === 'map'
      ? (dv: DataView, p: number, s: string, _wire: Int32Array[]) => floorMapString(dv, p, s)
      : (dv: DataView, p: number, _s: string, wire: Int32Array[]) => floorOracleString(dv, p, wire);

function floorParams(dv: DataView, p: number, a: RemoteTypedParam[], wire: Int32Array[]): number {
  dv.setUint32(p, a.length);
  p += 4;
  for (let i = 0; i < a.length; i++) {
    const e = a[i]!;
    p = floorString(dv, p, e.field, wire);
    const v = e.value;
    dv.setInt32(p, v.type);
    p += 4;
    switch (v.type) {
      case 1:
        dv.setInt32(p, v.i);
        p += 4;
        break;
      case 2:
        dv.setUint32(p, v.ui);
        p += 4;
        break;
      case 3:
        dv.setBigInt64(p, v.l);
        p += 8;
        break;
      case 4:
        dv.setBigUint64(p, v.ul);
        p += 8;
        break;
      case 5:
        dv.setFloat64(p, v.d);
        p += 8;
        break;
      case 6:
        dv.setInt32(p, v.b);
        p += 4;
        break;
      case 7:
        p = floorString(dv, p, v.s, wire);
        break;
    }
  }
  return p;
}

function floorDomain(dv: DataView, p: number, d: RemoteNonnullDomain, wire: Int32Array[]): number {
  p = floorString(dv, p, d.name, wire);
  const u = d.uuid;
  dv.setInt32(p, (u[0]! << 24) | (u[1]! << 16) | (u[2]! << 8) | u[3]!);
  dv.setInt32(p + 4, (u[4]! << 24) | (u[5]! << 16) | (u[6]! << 8) | u[7]!);
  dv.setInt32(p + 8, (u[8]! << 24) | (u[9]! << 16) | (u[10]! << 8) | u[11]!);
  dv.setInt32(p + 12, (u[12]! << 24) | (u[13]! << 16) | (u[14]! << 8) | u[15]!);
  dv.setInt32(p + 16, d.id);
  return p + 20;
}

function floorEncodeJobStats(
  v: RemoteDomainGetJobStatsRet,
  max: number,
  wire: Int32Array[],
): Uint8Array {
  const start = floorStart(max);
  const dv = floorView;
  dv.setInt32(start, v.type);
  return floorFinish(start, floorParams(dv, start + 4, v.params, wire));
}

function floorEncodeListAll(
  v: RemoteConnectListAllDomainsRet,
  max: number,
  wire: Int32Array[],
): Uint8Array {
  const start = floorStart(max);
  const dv = floorView;
  const a = v.domains;
  dv.setUint32(start, a.length);
  let p = start + 4;
  for (let i = 0; i < a.length; i++) p = floorDomain(dv, p, a[i]!, wire);
  dv.setUint32(p, v.ret);
  return floorFinish(start, p + 4);
}

function floorEncodeAllStats(
  v: RemoteConnectGetAllDomainStatsRet,
  max: number,
  wire: Int32Array[],
): Uint8Array {
  const start = floorStart(max);
  const dv = floorView;
  const a = v.retStats;
  dv.setUint32(start, a.length);
  let p = start + 4;
  for (let i = 0; i < a.length; i++) {
    const r = a[i]!;
    p = floorDomain(dv, p, r.dom, wire);
    p = floorParams(dv, p, r.params, wire);
  }
  return floorFinish(start, p);
}

// Decoded structs are made by `new` on these constructors, as virtwire's
// generated decoders make them, not by object literals: V8 gives a literal an
// allocation site and may decide once per process to allocate all of its
// objects in the old generation, which made the side it fell on 2-6 times
// slower for the whole process (bench/README.md, "Per-process spread"). Their
// prototype is Object.prototype: the same plain objects. Union arms too have a
// constructor each (`FloorI` ... `FloorS`), as in virtwire.
type Make<T, A extends unknown[]> = new (...args: A) => T;
/** A constructor of plain objects (prototype Object.prototype) from `init`. */
function plain<T, A extends unknown[]>(init: (this: T, ...args: A) => void): Make<T, A> {
  init.prototype = Object.prototype;
  return init as unknown as Make<T, A>;
}
export const FloorDomain = plain(function (
  this: RemoteNonnullDomain,
  name: string,
  uuid: Uint8Array,
  id: number,
) {
  this.name = name;
  this.uuid = uuid;
  this.id = id;
});
export const FloorParam = plain(function (
  this: RemoteTypedParam,
  field: string,
  value: RemoteTypedParamValue,
) {
  this.field = field;
  this.value = value;
});
export const FloorRecord = plain(function (
  this: RemoteConnectGetAllDomainStatsRet['retStats'][number],
  dom: RemoteNonnullDomain,
  params: RemoteTypedParam[],
) {
  this.dom = dom;
  this.params = params;
});
export const FloorJobStats = plain(function (
  this: RemoteDomainGetJobStatsRet,
  type: number,
  params: RemoteTypedParam[],
) {
  this.type = type;
  this.params = params;
});
export const FloorListAll = plain(function (
  this: RemoteConnectListAllDomainsRet,
  domains: RemoteNonnullDomain[],
  ret: number,
) {
  this.domains = domains;
  this.ret = ret;
});
export const FloorAllStats = plain(function (
  this: RemoteConnectGetAllDomainStatsRet,
  retStats: RemoteConnectGetAllDomainStatsRet['retStats'],
) {
  this.retStats = retStats;
});

export const FloorI = plain(function (
  this: Extract<RemoteTypedParamValue, { type: 1 }>,
  x: number,
) {
  this.type = 1;
  this.i = x;
});
export const FloorUi = plain(function (
  this: Extract<RemoteTypedParamValue, { type: 2 }>,
  x: number,
) {
  this.type = 2;
  this.ui = x;
});
export const FloorL = plain(function (
  this: Extract<RemoteTypedParamValue, { type: 3 }>,
  x: bigint,
) {
  this.type = 3;
  this.l = x;
});
export const FloorUl = plain(function (
  this: Extract<RemoteTypedParamValue, { type: 4 }>,
  x: bigint,
) {
  this.type = 4;
  this.ul = x;
});
export const FloorD = plain(function (
  this: Extract<RemoteTypedParamValue, { type: 5 }>,
  x: number,
) {
  this.type = 5;
  this.d = x;
});
export const FloorB = plain(function (
  this: Extract<RemoteTypedParamValue, { type: 6 }>,
  x: number,
) {
  this.type = 6;
  this.b = x;
});
export const FloorS = plain(function (
  this: Extract<RemoteTypedParamValue, { type: 7 }>,
  x: string,
) {
  this.type = 7;
  this.s = x;
});

/** Where the next string ends: skips its length word, bytes and padding. */
const floorSkip = (dv: DataView, p: number) => p + 4 + ((dv.getUint32(p) + 3) & ~3);

/**
 * `--floor-strings=read|map`, decoding: the least a decoder without an oracle
 * does for a string, a cache keyed by a hash of its words and proven by
 * comparing them (a new string on a miss). Its geometry is virtwire's (two-way
 * sets, 16 words a slot, the newest string first in its set) and so is its
 * size, by default: the size is a memory budget, not work, and a larger cache
 * turns `--cold`'s misses into hits (`--floor-cache=65536`, the size earlier
 * sessions gave the floor, shows that).
 */
export const FLOOR_CACHE = (() => {
  const a = process.argv.find((x) => x.startsWith('--floor-cache='));
  const v = a === undefined ? 4096 : Number(a.slice('--floor-cache='.length));
  if (!Number.isInteger(v) || v < 2 || (v & (v - 1)) !== 0) {
    throw new Error(`bad ${a}: a power of two, at least 2 (default 4096)`);
  }
  return v;
})();
const floorCacheLength = new Int32Array(FLOOR_CACHE).fill(-1);
const floorCacheWords = new Int32Array(FLOOR_CACHE * 16);
const floorCacheString: string[] = new Array<string>(FLOOR_CACHE).fill('');
const floorUtf8Decoder = new TextDecoder();
let floorBytes: Uint8Array = new Uint8Array(0);

/** The cached string whose wire bytes are the words `[from, stop)` (`n` bytes, hash `h`), if any. */
export function floorCacheGet(
  dv: DataView,
  from: number,
  stop: number,
  n: number,
  h: number,
): string | undefined {
  const set = h & (FLOOR_CACHE - 2);
  for (let slot = set; slot <= set + 1; slot++) {
    if (floorCacheLength[slot] !== n) continue;
    let k = slot * 16;
    let i = from;
    while (i < stop && floorCacheWords[k] === dv.getInt32(i)) {
      k++;
      i += 4;
    }
    if (i === stop) return floorCacheString[slot];
  }
  return undefined;
}

/** Caches `s`, made from the words `[from, stop)`, first in its set. */
export function floorCachePut(
  dv: DataView,
  from: number,
  stop: number,
  n: number,
  h: number,
  s: string,
): void {
  const set = h & (FLOOR_CACHE - 2);
  if (floorCacheLength[set] !== -1) {
    floorCacheString[set + 1] = floorCacheString[set]!;
    floorCacheLength[set + 1] = floorCacheLength[set]!;
    floorCacheWords.copyWithin((set + 1) * 16, set * 16, (set + 1) * 16);
  }
  floorCacheLength[set] = n;
  floorCacheString[set] = s;
  for (let i = from, k = set * 16; i < stop; i += 4, k++) floorCacheWords[k] = dv.getInt32(i);
}

/** A new string of `n` bytes at `start`: ASCII four characters per call, else TextDecoder. */
function floorNewString(start: number, n: number): string {
  const b = floorBytes;
  const end = start + n;
  let high = 0;
  for (let i = start; i < end; i++) high |= b[i]!;
  if (high > 0x7f) return floorUtf8Decoder.decode(b.subarray(start, end));
  let s = '';
  let i = start;
  for (; i + 4 <= end; i += 4) s += String.fromCharCode(b[i]!, b[i + 1]!, b[i + 2]!, b[i + 3]!);
  for (; i < end; i++) s += String.fromCharCode(b[i]!);
  return s;
}

function floorCachedString(dv: DataView, p: number): string {
  const n = dv.getUint32(p);
  const start = p + 4;
  const stop = start + ((n + 3) & ~3);
  if (n > 64) return floorUtf8Decoder.decode(floorBytes.subarray(start, start + n));
  let h = n;
  for (let i = start; i < stop; i += 4) {
    h = Math.imul(h ^ dv.getInt32(i), 0x9e3779b1);
    h ^= h >>> 16;
  }
  const hit = floorCacheGet(dv, start, stop, n, h);
  if (hit !== undefined) return hit;
  const s = floorNewString(start, n);
  floorCachePut(dv, start, stop, n, h, s);
  return s;
}

/** The string at `p`: the cache's, or with `--floor-strings=oracle` the oracle's next one. */
const floorTake =
  FLOOR_STRINGS === 'oracle'
    ? (_dv: DataView, _p: number, strings: string[]) => strings[floorK++]!
    : (dv: DataView, p: number, _strings: string[]) => floorCachedString(dv, p);

/** Typed parameters at `p` into `out`; returns the offset after them. */
function floorReadParams(
  dv: DataView,
  p: number,
  strings: string[],
  out: RemoteTypedParam[],
): number {
  const n = dv.getUint32(p);
  p += 4;
  for (let i = 0; i < n; i++) {
    const field = floorTake(dv, p, strings);
    p = floorSkip(dv, p);
    const t = dv.getInt32(p);
    p += 4;
    let value: RemoteTypedParamValue;
    switch (t) {
      case 1:
        value = new FloorI(dv.getInt32(p));
        p += 4;
        break;
      case 2:
        value = new FloorUi(dv.getUint32(p));
        p += 4;
        break;
      case 3:
        value = new FloorL(dv.getBigInt64(p));
        p += 8;
        break;
      case 4:
        value = new FloorUl(dv.getBigUint64(p));
        p += 8;
        break;
      case 5:
        value = new FloorD(dv.getFloat64(p));
        p += 8;
        break;
      case 6:
        value = new FloorB(dv.getInt32(p));
        p += 4;
        break;
      default:
        value = new FloorS(floorTake(dv, p, strings));
        p = floorSkip(dv, p);
    }
    out.push(new FloorParam(field, value));
  }
  return p;
}

function floorDecodeJobStats(bytes: Uint8Array, strings: string[]): RemoteDomainGetJobStatsRet {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  floorK = 0;
  floorBytes = bytes;
  const params: RemoteTypedParam[] = [];
  floorReadParams(dv, 4, strings, params);
  return new FloorJobStats(dv.getInt32(0), params);
}

function floorDecodeListAll(bytes: Uint8Array, strings: string[]): RemoteConnectListAllDomainsRet {
  // One copy of the message, so UUIDs can be views that never alias the input.
  const copy = bytes.slice().buffer;
  const dv = new DataView(copy);
  floorK = 0;
  floorBytes = bytes;
  const n = dv.getUint32(0);
  const domains: RemoteNonnullDomain[] = new Array(n);
  let p = 4;
  for (let i = 0; i < n; i++) {
    const name = floorTake(dv, p, strings);
    p = floorSkip(dv, p);
    domains[i] = new FloorDomain(name, new Uint8Array(copy, p, 16), dv.getInt32(p + 16));
    p += 20;
  }
  return new FloorListAll(domains, dv.getUint32(p));
}

function floorDecodeAllStats(
  bytes: Uint8Array,
  strings: string[],
): RemoteConnectGetAllDomainStatsRet {
  const copy = bytes.slice().buffer;
  const dv = new DataView(copy);
  floorK = 0;
  floorBytes = bytes;
  const n = dv.getUint32(0);
  const retStats: RemoteConnectGetAllDomainStatsRet['retStats'] = new Array(n);
  let p = 4;
  for (let i = 0; i < n; i++) {
    const name = floorTake(dv, p, strings);
    p = floorSkip(dv, p);
    const dom = new FloorDomain(name, new Uint8Array(copy, p, 16), dv.getInt32(p + 16));
    const params: RemoteTypedParam[] = [];
    p = floorReadParams(dv, p + 20, strings, params);
    retStats[i] = new FloorRecord(dom, params);
  }
  return new FloorAllStats(retStats);
}

/** A string's XDR form (length, UTF-8 bytes, zero padding) as big-endian int32 words. */
function wireForm(s: string): Int32Array {
  const bytes = Buffer.from(s, 'utf8');
  const padded = Buffer.alloc(4 + ((bytes.length + 3) & ~3));
  padded.writeUInt32BE(bytes.length, 0);
  bytes.copy(padded, 4);
  const words = new Int32Array(padded.length / 4);
  for (let i = 0; i < words.length; i++) words[i] = padded.readInt32BE(i * 4);
  return words;
}

/** A value's strings in wire order (our objects list their fields in declaration order). */
function stringsInWireOrder(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) stringsInWireOrder(x, out);
  else if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
    for (const x of Object.values(v)) stringsInWireOrder(x, out);
  }
  return out;
}

// ---------------------------------------------------------------------------
// What bench/xdr.ts uses

/** What the floor knows of one value besides the value: its strings in wire order and their wire forms. */
export interface FloorOracle {
  readonly strings: string[];
  readonly wire: Int32Array[];
}

/** The oracle of `v`; with `--floor-strings=map` also enters its strings in that mode's table. */
export function floorOracle(v: unknown): FloorOracle {
  const strings = stringsInWireOrder(v);
  const wire = strings.map(wireForm);
  if (FLOOR_STRINGS === 'map') {
    for (let i = 0; i < strings.length; i++) floorWireForms.set(strings[i]!, wire[i]!);
  }
  return { strings, wire };
}

/** The floor's encoder and decoder of one message. */
export interface FloorCodec<T> {
  /** `v` into fresh memory, with room for `max` bytes. */
  encode(v: T, oracle: FloorOracle, max: number): Uint8Array;
  decode(bytes: Uint8Array, oracle: FloorOracle): T;
}

export const floorJobStats: FloorCodec<RemoteDomainGetJobStatsRet> = {
  encode: (v, o, max) => floorEncodeJobStats(v, max, o.wire),
  decode: (bytes, o) => floorDecodeJobStats(bytes, o.strings),
};

export const floorListAll: FloorCodec<RemoteConnectListAllDomainsRet> = {
  encode: (v, o, max) => floorEncodeListAll(v, max, o.wire),
  decode: (bytes, o) => floorDecodeListAll(bytes, o.strings),
};

export const floorAllStats: FloorCodec<RemoteConnectGetAllDomainStatsRet> = {
  encode: (v, o, max) => floorEncodeAllStats(v, max, o.wire),
  decode: (bytes, o) => floorDecodeAllStats(bytes, o.strings),
};

/**
 * The floor's self-check: encoding `value` must give `expected` (js-xdr's
 * bytes) and decoding them must give `value` back. Returns what is wrong, or null.
 */
export function floorCheck<T>(
  floor: FloorCodec<T>,
  value: T,
  oracle: FloorOracle,
  expected: Uint8Array,
): string | null {
  const bytes = floor.encode(value, oracle, expected.length);
  if (Buffer.compare(Buffer.from(bytes), expected) !== 0)
    return 'the floor encoder gives other bytes';
  // A plain copy: the floor's decoders copy their input with slice(), a view on a Buffer.
  if (!isDeepStrictEqual(floor.decode(Uint8Array.from(expected), oracle), value)) {
    return 'the floor decoder does not give back the value';
  }
  return null;
}
