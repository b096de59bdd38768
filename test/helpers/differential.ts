/**
 * Differential testing against libvirt's C client: the same getters are called on the same
 * objects of the same daemon through virtwire's handles and through libvirt's Python binding
 * (test/helpers/pylibvirt.py, a thin layer over the C library), and the results compared after
 * one normalisation of both sides: integers (number or bigint, Python int) as decimal strings,
 * bytes as hex, libvirt objects as their kind and identity, errors by libvirt's code and domain.
 *
 * A getter names the virtwire call, the Python call, and how virtwire's result maps onto the
 * binding's shape where they differ (the binding returns C structs as lists, for example).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { AdminClient, AdminServer } from '../../src/api/admin.js';
import {
  Connection,
  Domain,
  DomainCheckpoint,
  DomainSnapshot,
  Interface,
  Network,
  NetworkPort,
  NodeDevice,
  NWFilter,
  NWFilterBinding,
  Secret,
  StoragePool,
  StorageVol,
} from '../../src/api/handles.js';
import { RemoteError } from '../../src/rpc/errors.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./pylibvirt.py', import.meta.url));

/** Anything a differential test calls getters on. */
export type Subject =
  | Connection
  | Domain
  | DomainSnapshot
  | DomainCheckpoint
  | Network
  | NetworkPort
  | StoragePool
  | StorageVol
  | NodeDevice
  | Secret
  | NWFilter
  | NWFilterBinding
  | Interface;

/** How the Python side finds an object: its kind and identity. */
export type Target = { readonly kind: string } & Readonly<Record<string, string>>;

export type PyArg =
  | string
  | number
  | boolean
  | null
  | readonly PyArg[]
  | { readonly $target: Target }
  | { readonly $bytes: string };

export interface Getter<T> {
  /** The virtwire member compared, e.g. `getInfo`. */
  readonly name: string;
  /** Calls virtwire and gives the value to compare (already in the binding's shape). */
  readonly ts: (subject: T) => unknown;
  /** The binding's method and arguments. */
  readonly py: readonly [string, ...PyArg[]];
  /**
   * Paths whose values change between two calls, compared by kind only: keys joined by `/`,
   * `*` for any one key, `` for the whole value.
   */
  readonly volatile?: readonly string[];
  /**
   * The binding gives None where the C call fails instead of raising (libvirt-python's
   * guestVcpus): a virtwire error then agrees with the binding's null, nothing else does.
   */
  readonly bindingNullOnError?: boolean;
  /**
   * The binding raises where the C call succeeds with an empty list (libvirt-python's
   * securityLabelList with no label): an empty list from virtwire agrees with that error.
   */
  readonly bindingFailsOnEmpty?: boolean;
}

/** A getter: virtwire's call (and the map onto the binding's shape), the binding's call. */
export function getter<T, R>(
  name: string,
  ts: (subject: T) => R | Promise<R>,
  py: readonly [string, ...PyArg[]],
  opts: {
    shape?: (r: R) => unknown;
    volatile?: readonly string[];
    bindingNullOnError?: boolean;
    bindingFailsOnEmpty?: boolean;
  } = {},
): Getter<T> {
  const { shape } = opts;
  return {
    name,
    ts: shape ? async (s: T) => shape(await ts(s)) : ts,
    py,
    ...(opts.volatile ? { volatile: opts.volatile } : {}),
    ...(opts.bindingNullOnError ? { bindingNullOnError: true } : {}),
    ...(opts.bindingFailsOnEmpty ? { bindingFailsOnEmpty: true } : {}),
  };
}

/** The Python side's address of a virtwire handle. */
export function targetOf(s: Subject): Target {
  if (s instanceof Connection) return { kind: 'Connection' };
  if (s instanceof Domain) return { kind: 'Domain', uuid: s.uuid };
  if (s instanceof DomainSnapshot)
    return { kind: 'DomainSnapshot', domain: s.domain.uuid, name: s.name };
  if (s instanceof DomainCheckpoint)
    return { kind: 'DomainCheckpoint', domain: s.domain.uuid, name: s.name };
  if (s instanceof Network) return { kind: 'Network', uuid: s.uuid };
  if (s instanceof NetworkPort)
    return { kind: 'NetworkPort', network: s.network.uuid, uuid: s.uuid };
  if (s instanceof StoragePool) return { kind: 'StoragePool', uuid: s.uuid };
  if (s instanceof StorageVol) return { kind: 'StorageVol', key: s.key };
  if (s instanceof NodeDevice) return { kind: 'NodeDevice', name: s.name };
  if (s instanceof Secret) return { kind: 'Secret', uuid: s.uuid };
  if (s instanceof NWFilter) return { kind: 'NWFilter', uuid: s.uuid };
  if (s instanceof NWFilterBinding) return { kind: 'NWFilterBinding', portdev: s.portDev };
  return { kind: 'Interface', name: s.name };
}

/** The identity a normalised handle is compared by (what pylibvirt.py's identity() gives). */
function handleId(v: object): [string, string] | null {
  if (v instanceof Domain) return ['Domain', v.uuid.toLowerCase()];
  if (v instanceof DomainSnapshot) return ['DomainSnapshot', v.name];
  if (v instanceof DomainCheckpoint) return ['DomainCheckpoint', v.name];
  if (v instanceof Network) return ['Network', v.uuid];
  if (v instanceof NetworkPort) return ['NetworkPort', v.uuid];
  if (v instanceof StoragePool) return ['StoragePool', v.uuid];
  if (v instanceof StorageVol) return ['StorageVol', v.key];
  if (v instanceof NodeDevice) return ['NodeDevice', v.name];
  if (v instanceof Secret) return ['Secret', v.uuid];
  if (v instanceof NWFilter) return ['NWFilter', v.uuid];
  if (v instanceof NWFilterBinding) return ['NWFilterBinding', v.portDev];
  if (v instanceof Interface) return ['Interface', v.name];
  if (v instanceof AdminServer) return ['AdminServer', v.name];
  if (v instanceof AdminClient) return ['AdminClient', String(v.id)];
  return null;
}

/** JSON both sides agree on. */
export type Norm = null | boolean | string | number | Norm[] | { [k: string]: Norm };

/** virtwire's value in the normal form pylibvirt.py writes. */
export function normalize(v: unknown): Norm {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'bigint') return { $int: v.toString() };
  if (typeof v === 'number') return Number.isInteger(v) ? { $int: String(v) } : v;
  if (v instanceof Uint8Array) return { $bytes: Buffer.from(v).toString('hex') };
  if (Array.isArray(v)) return v.map(normalize);
  if (typeof v === 'object') {
    const h = handleId(v);
    if (h) return { $handle: h[0], id: h[1] };
    const out: { [k: string]: Norm } = {};
    for (const [k, x] of Object.entries(v)) out[k] = normalize(x);
    return out;
  }
  throw new TypeError(`cannot normalise a ${typeof v}`);
}

function isInt(v: Norm): v is { $int: string } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof v.$int === 'string';
}

/** What kind a value is, for volatile paths (compared by kind, not value). */
function kindOf(v: Norm): string {
  if (isInt(v) || typeof v === 'number') return 'number';
  if (Array.isArray(v)) return 'array';
  return v === null ? 'null' : typeof v;
}

function matches(path: readonly string[], pattern: string): boolean {
  if (pattern === '') return path.length === 0;
  const p = pattern.split('/');
  return p.length === path.length && p.every((x, i) => x === '*' || x === path[i]);
}

/** Compares normal forms; gives one line per difference and counts the leaves compared. */
export function compare(
  a: Norm,
  b: Norm,
  volatile: readonly string[] = [],
  path: string[] = [],
  leaves = { n: 0 },
): string[] {
  const where = path.join('/') || '(value)';
  if (volatile.some((p) => matches(path, p))) {
    leaves.n++;
    return kindOf(a) === kindOf(b) ? [] : [`${where}: ${kindOf(a)} vs ${kindOf(b)}`];
  }
  // A Python float that holds an integer against a JavaScript number: compare the numbers.
  if ((isInt(a) || typeof a === 'number') && (isInt(b) || typeof b === 'number')) {
    leaves.n++;
    const x = isInt(a) ? a.$int : String(a);
    const y = isInt(b) ? b.$int : String(b);
    return x === y || Number(x) === Number(y) ? [] : [`${where}: ${x} vs ${y}`];
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return [`${where}: ${a.length} items vs ${b.length}`];
    return a.flatMap((x, i) => compare(x, b[i]!, volatile, [...path, String(i)], leaves));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a)) {
    if (Array.isArray(b)) return [`${where}: object vs array`];
    const oa: { [k: string]: Norm } = a;
    const ob: { [k: string]: Norm } = b;
    const ka = Object.keys(oa).sort();
    const kb = Object.keys(ob).sort();
    if (ka.join('\0') !== kb.join('\0'))
      return [`${where}: keys ${ka.join(',')} vs ${kb.join(',')}`];
    return ka.flatMap((k) => compare(oa[k]!, ob[k]!, volatile, [...path, k], leaves));
  }
  leaves.n++;
  return a === b ? [] : [`${where}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`];
}

interface PyResult {
  readonly ok?: Norm;
  readonly error?: { code: number; domain: number; message: string };
  readonly pyerror?: string;
}

interface Probe {
  readonly id: string;
  readonly target: Target;
  readonly method: string;
  readonly args: readonly PyArg[];
}

/** Runs the probes through the binding, in one Python process on one connection. */
export async function runPython(
  uri: string,
  probes: readonly Probe[],
): Promise<{ version: number; results: Record<string, PyResult> }> {
  const child = spawn(PYTHON, [SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  const exit = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  child.stdin.end(JSON.stringify({ uri, probes }));
  const code = await exit;
  if (code !== 0) {
    throw new Error(`pylibvirt.py exited with ${code}: ${Buffer.concat(err).toString()}`);
  }
  return JSON.parse(Buffer.concat(out).toString());
}

/** One compared call: where, what, and the differences found (none when they agree). */
export interface Comparison {
  readonly id: string;
  readonly differences: readonly string[];
  /** Both sides failed, with the same libvirt error. */
  readonly bothFailed: boolean;
}

export interface DifferentialReport {
  readonly comparisons: readonly Comparison[];
  readonly leaves: number;
  /** libvirt version of the Python binding (the C library). */
  readonly bindingVersion: number;
}

/**
 * Calls every getter on every subject through virtwire and through the binding (connected to
 * `pyUri`, the same daemon and driver) and compares. Subjects are given with their getters.
 */
export async function differential(
  pyUri: string,
  subjects: ReadonlyArray<readonly [Subject, readonly Getter<never>[]]>,
): Promise<DifferentialReport> {
  const probes: Array<Probe & { subject: Subject; getter: Getter<never> }> = [];
  for (const [subject, getters] of subjects) {
    const target = targetOf(subject);
    const label = `${target.kind}(${Object.values(target).slice(1).join('/')})`;
    for (const g of getters) {
      const [method, ...args] = g.py;
      probes.push({ id: `${label}.${g.name}`, target, method, args, subject, getter: g });
    }
  }
  const ids = new Set<string>();
  for (const p of probes) {
    if (ids.has(p.id)) throw new Error(`two probes are both ${p.id}`);
    ids.add(p.id);
  }
  const py = await runPython(
    pyUri,
    probes.map(({ id, target, method, args }) => ({ id, target, method, args })),
  );
  const leaves = { n: 0 };
  const comparisons: Comparison[] = [];
  for (const p of probes) {
    const theirs = py.results[p.id];
    let ours: PyResult;
    try {
      ours = { ok: normalize(await (p.getter.ts as (s: Subject) => unknown)(p.subject)) };
    } catch (e) {
      if (!(e instanceof RemoteError)) throw e;
      ours = { error: { code: e.code, domain: e.domain, message: e.message } };
    }
    let differences: string[];
    let bothFailed = false;
    if (!theirs) differences = ['no result from the binding'];
    else if (theirs.pyerror) differences = [`the binding failed: ${theirs.pyerror}`];
    else if (theirs.error && ours.error) {
      bothFailed = true;
      leaves.n++;
      const same =
        theirs.error.code === ours.error.code && theirs.error.domain === ours.error.domain;
      differences = same
        ? []
        : [`errors differ: ${JSON.stringify(ours.error)} vs ${JSON.stringify(theirs.error)}`];
    } else if (ours.error && p.getter.bindingNullOnError && theirs.ok === null) {
      bothFailed = true;
      leaves.n++;
      differences = [];
    } else if (
      theirs.error &&
      p.getter.bindingFailsOnEmpty &&
      Array.isArray(ours.ok) &&
      ours.ok.length === 0
    ) {
      leaves.n++;
      differences = [];
    } else if (theirs.error || ours.error) {
      const say = (r: PyResult): string =>
        r.error ? `error ${r.error.code} (${r.error.message})` : JSON.stringify(r.ok);
      differences = [`virtwire ${say(ours)} vs binding ${say(theirs)}`];
    } else {
      differences = compare(ours.ok ?? null, theirs.ok ?? null, p.getter.volatile, [], leaves);
    }
    comparisons.push({ id: p.id, differences, bothFailed });
  }
  return { comparisons, leaves: leaves.n, bindingVersion: py.version };
}

/** The bits of `count` CPUs from a byte map, starting at byte `offset` (VIR_CPU_USABLE). */
export function cpuBits(map: Uint8Array, count: number, offset = 0): boolean[] {
  return Array.from(
    { length: count },
    (_, i) => ((map[offset + (i >> 3)] ?? 0) & (1 << (i & 7))) !== 0,
  );
}
