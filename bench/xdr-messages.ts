// The three messages bench/xdr.ts measures, and their twins in @stellar/js-xdr:
// deterministic test values, js-xdr type definitions of the same wire layout
// (through js-xdr's own config() DSL), and conversions between the two shapes.

import { createRequire } from 'node:module';
import {
  decodeRemoteConnectGetAllDomainStatsRet,
  decodeRemoteConnectListAllDomainsRet,
  decodeRemoteDomainGetJobStatsRet,
  encodeRemoteConnectGetAllDomainStatsRet,
  encodeRemoteConnectListAllDomainsRet,
  encodeRemoteDomainGetJobStatsRet,
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
import type { XdrReader, XdrWriter } from '../src/xdr/index.js';

// ---------------------------------------------------------------------------
// js-xdr (untyped JS package): a minimal local typing of the API we use.

export interface JsXdrType {
  toXDR(value: unknown, format?: 'raw'): Buffer;
  fromXDR(input: Buffer, format?: 'raw'): unknown;
}
interface JsXdrStructClass extends JsXdrType {
  new (attributes: Record<string, unknown>): unknown;
}
interface JsXdrUnionClass extends JsXdrType {
  new (aSwitch: number, value: unknown): unknown;
}
interface JsXdrUnion {
  switch(): number;
  value(): unknown;
}
interface JsXdrLargeInt {
  toBigInt(): bigint;
}
type Ref = unknown;
interface JsXdrBuilder {
  struct(name: string, fields: [string, Ref][]): void;
  union(
    name: string,
    cfg: {
      switchOn: Ref;
      switchName: string;
      switches: [number, string][];
      arms: Record<string, Ref>;
    },
  ): void;
  typedef(name: string, type: Ref): void;
  int(): Ref;
  uint(): Ref;
  hyper(): Ref;
  uhyper(): Ref;
  double(): Ref;
  string(max: number): Ref;
  opaque(length: number): Ref;
  varArray(child: Ref, max: number): Ref;
  lookup(name: string): Ref;
}
interface JsXdrModule {
  config(fn: (xdr: JsXdrBuilder) => void): Record<string, unknown>;
}

const require = createRequire(import.meta.url);
const jsXdr = require('@stellar/js-xdr') as JsXdrModule;
export const jsXdrVersion = (require('@stellar/js-xdr/package.json') as { version: string })
  .version;

// The same declarations as protocol/remote.x, bounds included.
const J = jsXdr.config((xdr) => {
  xdr.typedef('remote_nonnull_string', xdr.string(REMOTE_STRING_MAX));
  xdr.typedef('remote_uuid', xdr.opaque(16));
  xdr.struct('remote_nonnull_domain', [
    ['name', xdr.lookup('remote_nonnull_string')],
    ['uuid', xdr.lookup('remote_uuid')],
    ['id', xdr.int()],
  ]);
  xdr.union('remote_typed_param_value', {
    switchOn: xdr.int(),
    switchName: 'type',
    switches: [
      [1, 'i'],
      [2, 'ui'],
      [3, 'l'],
      [4, 'ul'],
      [5, 'd'],
      [6, 'b'],
      [7, 's'],
    ],
    arms: {
      i: xdr.int(),
      ui: xdr.uint(),
      l: xdr.hyper(),
      ul: xdr.uhyper(),
      d: xdr.double(),
      b: xdr.int(),
      s: xdr.lookup('remote_nonnull_string'),
    },
  });
  xdr.struct('remote_typed_param', [
    ['field', xdr.lookup('remote_nonnull_string')],
    ['value', xdr.lookup('remote_typed_param_value')],
  ]);
  xdr.struct('remote_domain_get_job_stats_ret', [
    ['type', xdr.int()],
    ['params', xdr.varArray(xdr.lookup('remote_typed_param'), REMOTE_DOMAIN_JOB_STATS_MAX)],
  ]);
  xdr.struct('remote_connect_list_all_domains_ret', [
    ['domains', xdr.varArray(xdr.lookup('remote_nonnull_domain'), REMOTE_DOMAIN_LIST_MAX)],
    ['ret', xdr.uint()],
  ]);
  xdr.struct('remote_domain_stats_record', [
    ['dom', xdr.lookup('remote_nonnull_domain')],
    [
      'params',
      xdr.varArray(xdr.lookup('remote_typed_param'), REMOTE_CONNECT_GET_ALL_DOMAIN_STATS_MAX),
    ],
  ]);
  xdr.struct('remote_connect_get_all_domain_stats_ret', [
    ['retStats', xdr.varArray(xdr.lookup('remote_domain_stats_record'), REMOTE_DOMAIN_LIST_MAX)],
  ]);
});

const JDomain = J['remote_nonnull_domain'] as JsXdrStructClass;
const JParamValue = J['remote_typed_param_value'] as JsXdrUnionClass;
const JParam = J['remote_typed_param'] as JsXdrStructClass;
const JJobStatsRet = J['remote_domain_get_job_stats_ret'] as JsXdrStructClass;
const JListAllDomainsRet = J['remote_connect_list_all_domains_ret'] as JsXdrStructClass;
const JStatsRecord = J['remote_domain_stats_record'] as JsXdrStructClass;
const JAllDomainStatsRet = J['remote_connect_get_all_domain_stats_ret'] as JsXdrStructClass;

// Our value -> the equivalent js-xdr value (strings as JS strings, opaque as
// Buffer, hypers as bigint: what js-xdr's writers take without conversion).

function jsParamValue(v: RemoteTypedParamValue): unknown {
  switch (v.type) {
    case 1:
      return new JParamValue(1, v.i);
    case 2:
      return new JParamValue(2, v.ui);
    case 3:
      return new JParamValue(3, v.l);
    case 4:
      return new JParamValue(4, v.ul);
    case 5:
      return new JParamValue(5, v.d);
    case 6:
      return new JParamValue(6, v.b);
    case 7:
      return new JParamValue(7, v.s);
  }
}
const jsParam = (p: RemoteTypedParam) =>
  new JParam({ field: p.field, value: jsParamValue(p.value) });
const jsDomain = (d: RemoteNonnullDomain) =>
  new JDomain({ name: d.name, uuid: Buffer.from(d.uuid), id: d.id });
const jsJobStats = (v: RemoteDomainGetJobStatsRet) =>
  new JJobStatsRet({ type: v.type, params: v.params.map(jsParam) });
const jsListAll = (v: RemoteConnectListAllDomainsRet) =>
  new JListAllDomainsRet({ domains: v.domains.map(jsDomain), ret: v.ret });
const jsAllStats = (v: RemoteConnectGetAllDomainStatsRet) =>
  new JAllDomainStatsRet({
    retStats: v.retStats.map(
      (r) => new JStatsRecord({ dom: jsDomain(r.dom), params: r.params.map(jsParam) }),
    ),
  });

// A decoded js-xdr value -> our shape, through js-xdr's public accessors
// (struct field methods, union switch()/value(), LargeInt.toBigInt()).

function attr(s: unknown, name: string): unknown {
  return (s as Record<string, () => unknown>)[name]!();
}
const str = (b: unknown) => (b as Buffer).toString('utf8');
const big = (x: unknown) => (x as JsXdrLargeInt).toBigInt();

function fromJsParamValue(u: unknown): RemoteTypedParamValue {
  const un = u as JsXdrUnion;
  const x = un.value();
  const t = un.switch();
  switch (t) {
    case 1:
      return { type: 1, i: x as number };
    case 2:
      return { type: 2, ui: x as number };
    case 3:
      return { type: 3, l: big(x) };
    case 4:
      return { type: 4, ul: big(x) };
    case 5:
      return { type: 5, d: x as number };
    case 6:
      return { type: 6, b: x as number };
    case 7:
      return { type: 7, s: str(x) };
    default:
      throw new Error(`js-xdr decoded an unknown union arm ${t}`);
  }
}
const fromJsParam = (p: unknown): RemoteTypedParam => ({
  field: str(attr(p, 'field')),
  value: fromJsParamValue(attr(p, 'value')),
});
const fromJsDomain = (d: unknown): RemoteNonnullDomain => ({
  name: str(attr(d, 'name')),
  uuid: new Uint8Array(attr(d, 'uuid') as Buffer),
  id: attr(d, 'id') as number,
});
const fromJsJobStats = (v: unknown): RemoteDomainGetJobStatsRet => ({
  type: attr(v, 'type') as number,
  params: (attr(v, 'params') as unknown[]).map(fromJsParam),
});
const fromJsListAll = (v: unknown): RemoteConnectListAllDomainsRet => ({
  domains: (attr(v, 'domains') as unknown[]).map(fromJsDomain),
  ret: attr(v, 'ret') as number,
});
const fromJsAllStats = (v: unknown): RemoteConnectGetAllDomainStatsRet => ({
  retStats: (attr(v, 'retStats') as unknown[]).map((r) => ({
    dom: fromJsDomain(attr(r, 'dom')),
    params: (attr(r, 'params') as unknown[]).map(fromJsParam),
  })),
});

// ---------------------------------------------------------------------------
// Test data (deterministic)

let seed = 0x5eed1234;
/** mulberry32 */
function rand(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const randInt = (n: number) => Math.floor(rand() * n);
/** A random unsigned value of up to `bits` bits (a mix of magnitudes, like real counters). */
const randU64 = (bits: number) =>
  BigInt(randInt(2 ** Math.min(bits, 26))) * BigInt(2 ** Math.max(0, bits - 26)) +
  BigInt(randInt(2 ** Math.min(26, Math.max(0, bits - 26))));
function randUuid(): Uint8Array {
  const u = new Uint8Array(16);
  for (let i = 0; i < 16; i++) u[i] = randInt(256);
  u[6] = (u[6]! & 0x0f) | 0x40;
  u[8] = (u[8]! & 0x3f) | 0x80;
  return u;
}
const vmName = (i: number) => `vm-${String(i).padStart(5, '0')}`;

type Kind = 'int' | 'uint' | 'llong' | 'ullong' | 'double' | 'boolean' | 'string';
function param(field: string, kind: Kind, arg?: string | number): RemoteTypedParam {
  let value: RemoteTypedParamValue;
  switch (kind) {
    case 'int':
      value = { type: 1, i: typeof arg === 'number' ? arg : randInt(100) };
      break;
    case 'uint':
      value = { type: 2, ui: typeof arg === 'number' ? arg : randInt(64) };
      break;
    case 'llong':
      value = { type: 3, l: randU64(34) - (1n << 33n) };
      break;
    case 'ullong':
      value = { type: 4, ul: randU64(typeof arg === 'number' ? arg : 40) };
      break;
    case 'double':
      value = { type: 5, d: rand() * 1000 };
      break;
    case 'boolean':
      value = { type: 6, b: typeof arg === 'number' ? arg : randInt(2) };
      break;
    case 'string':
      value = { type: 7, s: String(arg) };
      break;
  }
  return { field, value };
}

/** virDomainGetJobStats of an outgoing live migration (libvirt's VIR_DOMAIN_JOB_* names). */
function makeJobStats(): RemoteDomainGetJobStatsRet {
  const u: [string, Kind, (string | number)?][] = [
    ['operation', 'int', 5],
    ['time_elapsed', 'ullong', 24],
    ['time_elapsed_net', 'ullong', 24],
    ['time_remaining', 'ullong', 20],
    ['downtime', 'ullong', 10],
    ['downtime_net', 'ullong', 10],
    ['setup_time', 'ullong', 8],
    ['data_total', 'ullong', 36],
    ['data_processed', 'ullong', 35],
    ['data_remaining', 'ullong', 34],
    ['memory_total', 'ullong', 34],
    ['memory_processed', 'ullong', 34],
    ['memory_remaining', 'ullong', 32],
    ['memory_constant', 'ullong', 20],
    ['memory_normal', 'ullong', 20],
    ['memory_normal_bytes', 'ullong', 32],
    ['memory_bps', 'ullong', 30],
    ['memory_dirty_rate', 'ullong', 16],
    ['memory_page_size', 'ullong', 13],
    ['memory_iteration', 'ullong', 4],
    ['memory_postcopy_requests', 'ullong', 12],
    ['disk_total', 'ullong', 36],
    ['disk_processed', 'ullong', 35],
    ['disk_remaining', 'ullong', 34],
    ['disk_bps', 'ullong', 28],
    ['disk_temp_used', 'ullong', 30],
    ['disk_temp_total', 'ullong', 32],
    ['compression_cache', 'ullong', 26],
    ['compression_bytes', 'ullong', 30],
    ['compression_pages', 'ullong', 20],
    ['compression_cache_misses', 'ullong', 16],
    ['compression_overflow', 'ullong', 10],
    ['vfio_data_transferred', 'ullong', 28],
    ['auto_converge_throttle', 'int', 20],
    ['parallel_connections', 'uint', 4],
    ['compression_level', 'uint', 1],
    ['memory_dirty_rate_avg', 'double'],
    ['downtime_ratio', 'double'],
    ['success', 'boolean', 0],
    ['error_message', 'string', 'operation aborted: migration out job: canceled by client'],
  ];
  if (u.length !== 40) throw new Error('job stats must have 40 params');
  return { type: 2, params: u.map(([f, k, a]) => param(f, k, a)) };
}

function makeDomains(n: number): RemoteNonnullDomain[] {
  const out: RemoteNonnullDomain[] = [];
  let nextId = 1;
  for (let i = 0; i < n; i++) {
    const running = rand() < 0.7;
    out.push({ name: vmName(i), uuid: randUuid(), id: running ? nextId++ : -1 });
  }
  return out;
}

function makeListAll(): RemoteConnectListAllDomainsRet {
  const domains = makeDomains(1000);
  return { domains, ret: domains.length };
}

/** 50 virConnectGetAllDomainStats fields of one domain (state, cpu, balloon, vcpu, net, block). */
function domainStatsParams(dom: RemoteNonnullDomain): RemoteTypedParam[] {
  const p: RemoteTypedParam[] = [
    param('state.state', 'int', 1),
    param('state.reason', 'int', 1),
    param('cpu.time', 'ullong', 44),
    param('cpu.user', 'ullong', 42),
    param('cpu.system', 'ullong', 42),
    param('cpu.haltpoll.success.time', 'ullong', 36),
    param('cpu.haltpoll.fail.time', 'ullong', 30),
    param('balloon.current', 'ullong', 23),
    param('balloon.maximum', 'ullong', 23),
    param('balloon.swap_in', 'ullong', 12),
    param('balloon.swap_out', 'ullong', 12),
    param('balloon.major_fault', 'ullong', 14),
    param('balloon.minor_fault', 'ullong', 24),
    param('balloon.unused', 'ullong', 22),
    param('balloon.available', 'ullong', 23),
    param('balloon.usable', 'ullong', 22),
    param('balloon.last-update', 'ullong', 31),
    param('balloon.rss', 'ullong', 23),
    param('balloon.disk_caches', 'ullong', 21),
    param('vcpu.current', 'uint', 2),
    param('vcpu.maximum', 'uint', 4),
    param('vcpu.0.state', 'int', 1),
    param('vcpu.0.time', 'ullong', 42),
    param('vcpu.0.wait', 'ullong', 30),
    param('vcpu.0.halted', 'boolean'),
    param('vcpu.1.state', 'int', 1),
    param('vcpu.1.time', 'ullong', 42),
    param('vcpu.1.wait', 'ullong', 30),
    param('vcpu.1.halted', 'boolean'),
    param('dirtyrate.megabytes_per_second', 'llong'),
    param('net.count', 'uint', 1),
    param('net.0.name', 'string', `vnet${randInt(200)}`),
    param('net.0.rx.bytes', 'ullong', 36),
    param('net.0.rx.pkts', 'ullong', 28),
    param('net.0.rx.errs', 'ullong', 2),
    param('net.0.rx.drop', 'ullong', 6),
    param('net.0.tx.bytes', 'ullong', 34),
    param('net.0.tx.pkts', 'ullong', 26),
    param('net.0.tx.errs', 'ullong', 1),
    param('net.0.tx.drop', 'ullong', 1),
    param('block.count', 'uint', 1),
    param('block.0.name', 'string', 'vda'),
    param('block.0.path', 'string', `/var/lib/libvirt/images/${dom.name}.qcow2`),
    param('block.0.rd.reqs', 'ullong', 24),
    param('block.0.rd.bytes', 'ullong', 36),
    param('block.0.rd.times', 'ullong', 40),
    param('block.0.wr.reqs', 'ullong', 24),
    param('block.0.wr.bytes', 'ullong', 36),
    param('block.0.wr.times', 'ullong', 40),
    param('block.0.fl.reqs', 'ullong', 18),
  ];
  if (p.length !== 50) throw new Error('domain stats must have 50 params');
  return p;
}

function makeAllStats(): RemoteConnectGetAllDomainStatsRet {
  return {
    retStats: makeDomains(100).map((dom) => ({ dom, params: domainStatsParams(dom) })),
  };
}

// ---------------------------------------------------------------------------
// The messages, each with both libraries' codecs

/** One message of the bench: its value, both libraries' codecs and the conversions between them. */
export interface Message<T> {
  readonly name: string;
  readonly value: T;
  /** How many variants `--cold` rotates through (more distinct strings than virtwire's caches hold). */
  readonly coldVariants: number;
  readonly encode: (w: XdrWriter, v: T) => void;
  readonly decode: (r: XdrReader) => T;
  readonly jsType: JsXdrType;
  readonly toJs: (v: T) => unknown;
  readonly fromJs: (v: unknown) => T;
}

export const jobStats: Message<RemoteDomainGetJobStatsRet> = {
  name: 'job stats (40 params)',
  value: makeJobStats(),
  coldVariants: 256,
  encode: encodeRemoteDomainGetJobStatsRet,
  decode: decodeRemoteDomainGetJobStatsRet,
  jsType: JJobStatsRet,
  toJs: jsJobStats,
  fromJs: fromJsJobStats,
};

export const listAll: Message<RemoteConnectListAllDomainsRet> = {
  name: 'list all domains (1000)',
  value: makeListAll(),
  coldVariants: 16,
  encode: encodeRemoteConnectListAllDomainsRet,
  decode: decodeRemoteConnectListAllDomainsRet,
  jsType: JListAllDomainsRet,
  toJs: jsListAll,
  fromJs: fromJsListAll,
};

export const allStats: Message<RemoteConnectGetAllDomainStatsRet> = {
  name: 'all domain stats (100x50)',
  value: makeAllStats(),
  coldVariants: 32,
  encode: encodeRemoteConnectGetAllDomainStatsRet,
  decode: decodeRemoteConnectGetAllDomainStatsRet,
  jsType: JAllDomainStatsRet,
  toJs: jsAllStats,
  fromJs: fromJsAllStats,
};
