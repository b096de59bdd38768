/**
 * Capture golden packets from a real libvirtd.
 *
 *   npx tsx scripts/capture-fixtures.ts [--generation GEN] [--tshark] [--proto-dir DIR] [--out DIR]
 *                                       [--keep-work]
 *
 * Brings the test hosts up through scripts/test-hosts.sh when they are not up already (and takes
 * them down again at the end only in that case), puts a recording TCP proxy in front of host A,
 * lets libvirt's own C client (scripts/capture-client.py on python3-libvirt) call a wide set of
 * procedures through it, and writes the first message of each (program, procedure, kind) to
 * fixtures/packets/ as commented hex, plus fixtures/packets/index.json.
 *
 * Procedure names come from the protocol definitions: protocol/{remote,qemu,keepalive}.x in this
 * repository, else the directory given with --proto-dir (a libvirt source tree or a directory of
 * .x files).
 *
 * --generation (a key of scripts/gen-hosts.sh, or a libvirt version such as 11.3 or 12.9) captures
 * from that generation's first host instead, with that generation's own python3-libvirt and virsh
 * run inside its root (scripts/gen-hosts.sh run), so that calls 9.0's client cannot make are made;
 * the fixtures go to fixtures/packets/libvirt-<major.minor>/. A procedure this repository's
 * tables (libvirt 11.3.0's protocol/) do not know is written as <program>-proc_<number>-<kind>.
 *
 * --tshark records the proxied connection with tshark as well and compares libvirt-wireshark's
 * view of every message (program, procedure, type, status, serial, length) with ours, and looks
 * for packets the dissector marks malformed: an independent check that our framing is right.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type Generation,
  generationsFromEnv,
  generationWanted,
  HARNESS,
  parseHarnessEnv,
  runHarness,
} from './lib/harness.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLIENT = join(ROOT, 'scripts', 'capture-client.py');
const PYTHON = '/usr/bin/python3'; // Debian's python3-libvirt is only importable by this python
const GEN_HOSTS = join(dirname(HARNESS), 'gen-hosts.sh');

// ---------------------------------------------------------------------------------------------
// wire facts

const HEADER_BYTES = 28; // length word + 24-byte header
const MAX_MESSAGE = 4 + 33554432; // length word + VIR_NET_MESSAGE_MAX

const TYPE_NAMES: Record<number, string> = {
  0: 'call',
  1: 'reply',
  2: 'message',
  3: 'stream',
  4: 'call_with_fds',
  5: 'reply_with_fds',
  6: 'stream_hole',
};
const STATUS_OK = 0;
const STATUS_ERROR = 1;
const STATUS_CONTINUE = 2;

interface Program {
  name: string; // file-name prefix: remote, qemu, keepalive
  prefix: string; // enum prefix in the .x file: REMOTE, QEMU, KEEPALIVE
  number: number;
  procs: Map<number, string>;
}

interface Header {
  length: number;
  prog: number;
  vers: number;
  proc: number;
  type: number;
  serial: number;
  status: number;
}

type Direction = 'client->server' | 'server->client';

interface Recorded {
  seq: number;
  conn: number;
  transport: 'tcp' | 'unix';
  direction: Direction;
  header: Header;
  bytes: Buffer;
}

// ---------------------------------------------------------------------------------------------
// command line

interface Options {
  tshark: boolean;
  protoDir: string | undefined;
  out: string | undefined;
  keepWork: boolean;
  generation: string | undefined;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = {
    tshark: false,
    protoDir: undefined,
    out: undefined,
    keepWork: false,
    generation: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--tshark') opts.tshark = true;
    else if (arg === '--keep-work') opts.keepWork = true;
    else if (arg === '--proto-dir') opts.protoDir = resolve(value());
    else if (arg === '--out') opts.out = resolve(value());
    else if (arg === '--generation') opts.generation = value();
    else if (arg === '--help' || arg === '-h') {
      console.log(
        'usage: capture-fixtures.ts [--generation GEN] [--tshark] [--proto-dir DIR] [--out DIR] [--keep-work]',
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}`);
  }
  return opts;
}

// ---------------------------------------------------------------------------------------------
// procedure names from the .x files

const PROTOCOL_FILES: Record<string, string[]> = {
  // repository name first, then libvirt's own file name
  remote: ['remote.x', 'remote_protocol.x'],
  qemu: ['qemu.x', 'qemu_protocol.x'],
  keepalive: ['keepalive.x', 'virkeepaliveprotocol.x'],
};
const DEFAULT_PROGRAM_NUMBERS: Record<string, number> = {
  remote: 0x20008086,
  qemu: 0x20008087,
  keepalive: 0x6b656570,
};

function findProtocolFile(dirs: string[], names: string[]): string | undefined {
  for (const dir of dirs) {
    for (const sub of ['', 'src/remote', 'src/rpc']) {
      for (const name of names) {
        const p = join(dir, sub, name);
        if (existsSync(p)) return p;
      }
    }
  }
  return undefined;
}

function loadPrograms(protoDir: string | undefined): Program[] {
  const dirs = [join(ROOT, 'protocol')];
  if (protoDir) dirs.push(protoDir);
  const programs: Program[] = [];
  for (const [name, files] of Object.entries(PROTOCOL_FILES)) {
    const file = findProtocolFile(dirs, files);
    if (!file) {
      throw new Error(
        `no ${files.join(' or ')} in ${dirs.join(' or ')}: pass --proto-dir <libvirt source tree>`,
      );
    }
    const text = readFileSync(file, 'utf8');
    const prefix = name.toUpperCase();
    const procs = new Map<number, string>();
    for (const m of text.matchAll(
      new RegExp(`\\b${prefix}_PROC_([A-Z0-9_]+)\\s*=\\s*(\\d+)`, 'g'),
    )) {
      procs.set(Number(m[2]), m[1]!);
    }
    const progMatch = new RegExp(`const\\s+${prefix}_PROGRAM\\s*=\\s*(0x[0-9a-fA-F]+|\\d+)`).exec(
      text,
    );
    const number = progMatch ? Number(progMatch[1]) : DEFAULT_PROGRAM_NUMBERS[name]!;
    if (procs.size === 0) throw new Error(`no ${prefix}_PROC_* numbers in ${file}`);
    console.log(`[capture] ${procs.size} ${name} procedures from ${file}`);
    programs.push({ name, prefix, number, procs });
  }
  return programs;
}

// ---------------------------------------------------------------------------------------------
// the test hosts

// ---------------------------------------------------------------------------------------------
// the recording proxy

/** Splits one direction of a connection into messages by the self-counting length word. */
class Framer {
  private pending: Buffer = Buffer.alloc(0);
  private broken = false;

  constructor(
    private readonly label: string,
    private readonly onMessage: (bytes: Buffer) => void,
  ) {}

  push(chunk: Buffer): void {
    if (this.broken) return;
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 4) {
      const length = this.pending.readUInt32BE(0);
      if (length < HEADER_BYTES || length > MAX_MESSAGE) {
        // keep forwarding (the proxy must not change what the peers see) but stop recording
        console.error(`[capture] ${this.label}: impossible length ${length}; recording stopped`);
        this.broken = true;
        return;
      }
      if (this.pending.length < length) return;
      this.onMessage(Buffer.from(this.pending.subarray(0, length)));
      this.pending = this.pending.subarray(length);
    }
  }

  get leftover(): number {
    return this.pending.length;
  }
}

function readHeader(bytes: Buffer): Header {
  return {
    length: bytes.readUInt32BE(0),
    prog: bytes.readUInt32BE(4),
    vers: bytes.readUInt32BE(8),
    proc: bytes.readInt32BE(12),
    type: bytes.readInt32BE(16),
    serial: bytes.readUInt32BE(20),
    status: bytes.readInt32BE(24),
  };
}

class RecordingProxy {
  readonly records: Recorded[] = [];
  private seq = 0;
  private connCount = 0;
  private readonly open = new Set<net.Socket>();
  private readonly servers: net.Server[] = [];

  /** Listen on `listen` (a TCP port or a unix socket path) and forward to `target`. */
  async listen(
    listen: net.ListenOptions,
    target: net.NetConnectOpts,
    transport: 'tcp' | 'unix',
  ): Promise<net.Server> {
    const server = net.createServer((client) => this.accept(client, target, transport));
    this.servers.push(server);
    server.listen(listen);
    await once(server, 'listening');
    return server;
  }

  private accept(client: net.Socket, target: net.NetConnectOpts, transport: 'tcp' | 'unix') {
    const conn = ++this.connCount;
    const upstream = net.connect(target);
    this.open.add(client);
    this.open.add(upstream);
    const record = (direction: Direction) => (bytes: Buffer) => {
      this.records.push({
        seq: this.seq++,
        conn,
        transport,
        direction,
        header: readHeader(bytes),
        bytes,
      });
    };
    const up = new Framer(`conn ${conn} client->server`, record('client->server'));
    const down = new Framer(`conn ${conn} server->client`, record('server->client'));
    // pipe() keeps backpressure; the extra 'data' listeners see the very same chunks
    client.on('data', (chunk: Buffer) => up.push(chunk));
    upstream.on('data', (chunk: Buffer) => down.push(chunk));
    client.pipe(upstream);
    upstream.pipe(client);
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      client.destroy();
      upstream.destroy();
      for (const f of [up, down]) {
        if (f.leftover > 0) console.error(`[capture] conn ${conn}: ${f.leftover} bytes unframed`);
      }
    };
    for (const s of [client, upstream]) {
      s.on('error', finish);
      s.on('close', () => {
        this.open.delete(s);
        finish();
      });
    }
  }

  async close(): Promise<void> {
    // the client has exited by now; give the last replies a moment to drain through
    const deadline = Date.now() + 2000;
    while (this.open.size > 0 && Date.now() < deadline) await sleep(50);
    for (const s of this.open) s.destroy();
    await Promise.all(this.servers.map((s) => new Promise<void>((res) => s.close(() => res()))));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((res) => setTimeout(res, ms));
}

// ---------------------------------------------------------------------------------------------
// running the C client

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], env });
    child.on('error', rej);
    child.on('exit', (code, signal) => res(code ?? (signal ? 128 : 1)));
  });
}

/** Runs a command to its end without blocking the event loop; its stdout and stderr together. */
function output(cmd: string, args: string[]): Promise<{ status: number; out: string }> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', rej);
    child.on('close', (code, signal) => res({ status: code ?? (signal ? 128 : 1), out }));
  });
}

// ---------------------------------------------------------------------------------------------
// fixtures

function kindOf(h: Header): string {
  switch (h.type) {
    case 0:
      return 'call';
    case 1:
      return h.status === STATUS_ERROR ? 'error' : 'reply';
    case 2:
      return 'event'; // MESSAGE: domain events and keepalive PING/PONG alike
    case 3:
      if (h.status === STATUS_CONTINUE) return 'stream';
      return h.status === STATUS_OK ? 'stream_end' : 'stream_error';
    default:
      return TYPE_NAMES[h.type] ?? `type${h.type}`;
  }
}

function programOf(programs: Program[], h: Header): Program | undefined {
  return programs.find((p) => p.number === h.prog);
}

function procName(programs: Program[], h: Header): string {
  return programOf(programs, h)?.procs.get(h.proc) ?? `PROC_${h.proc}`;
}

function programName(programs: Program[], h: Header): string {
  return programOf(programs, h)?.name ?? `prog${h.prog.toString(16).padStart(8, '0')}`;
}

function word(bytes: Buffer, from: number, to: number): string {
  return bytes.subarray(from, to).toString('hex');
}

function hexBody(bytes: Buffer): string {
  const lines: string[] = [];
  const head: string[] = [];
  for (let i = 0; i < HEADER_BYTES; i += 4) head.push(word(bytes, i, i + 4));
  lines.push(head.join(' '));
  for (let off = HEADER_BYTES; off < bytes.length; off += 16) {
    const groups: string[] = [];
    for (let i = off; i < Math.min(off + 16, bytes.length); i += 4) {
      groups.push(word(bytes, i, Math.min(i + 4, bytes.length)));
    }
    lines.push(groups.join(' '));
  }
  return lines.join('\n');
}

/** The name a connection was opened with, from its CONNECT_OPEN call (remote_string name). */
function openedNames(records: Recorded[], programs: Program[]): Map<number, string> {
  const names = new Map<number, string>();
  for (const r of records) {
    const h = r.header;
    if (
      h.type !== 0 ||
      programName(programs, h) !== 'remote' ||
      procName(programs, h) !== 'CONNECT_OPEN'
    )
      continue;
    const p = r.bytes.subarray(HEADER_BYTES);
    if (p.length >= 8 && p.readUInt32BE(0) === 1) {
      const len = p.readUInt32BE(4);
      names.set(r.conn, p.subarray(8, 8 + len).toString('utf8'));
    } else names.set(r.conn, '');
  }
  return names;
}

interface IndexEntry {
  file: string;
  program: string;
  procedure: string;
  number: number;
  kind: string;
  direction: Direction;
  type: number;
  status: number;
  serial: number;
  length: number;
}

function writeFixtures(
  out: string,
  records: Recorded[],
  programs: Program[],
  origin: string,
): IndexEntry[] {
  mkdirSync(out, { recursive: true });
  // stale files from an earlier capture would otherwise survive next to the new ones
  for (const f of readdirSync(out)) {
    if (f.endsWith('.hex') || f === 'index.json') unlinkSync(join(out, f));
  }
  const names = openedNames(records, programs);
  const index: IndexEntry[] = [];
  const fileOf = (h: Header): string =>
    `${programName(programs, h)}-${procName(programs, h).toLowerCase()}-${kindOf(h)}.hex`;
  // One message per file: the first, except for successful replies, where the longest wins. A
  // typed-parameter getter is called twice, first to ask how many parameters there are (an empty
  // list comes back), then for them: the second reply is the one worth keeping.
  const chosen = new Map<string, Recorded>();
  for (const r of records) {
    const file = fileOf(r.header);
    const prev = chosen.get(file);
    if (!prev || (kindOf(r.header) === 'reply' && r.bytes.length > prev.bytes.length))
      chosen.set(file, r);
  }
  for (const [file, r] of chosen) {
    const h = r.header;
    const program = programName(programs, h);
    const procedure = procName(programs, h);
    const kind = kindOf(h);
    const opened = names.get(r.conn);
    const text = [
      `# virtwire fixture: ${program} ${procedure} ${kind}`,
      `# from: ${origin}; captured by scripts/capture-fixtures.ts`,
      `# direction: ${r.direction}`,
      ...(opened !== undefined
        ? [`# connection: ${r.transport}, opened as ${JSON.stringify(opened)}`]
        : []),
      hexBody(r.bytes),
      '',
    ].join('\n');
    writeFileSync(join(out, file), text);
    index.push({
      file,
      program,
      procedure,
      number: h.proc,
      kind,
      direction: r.direction,
      type: h.type,
      status: h.status,
      serial: h.serial,
      length: h.length,
    });
  }
  index.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  writeFileSync(join(out, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);
  // Comment every field, decoded by the syntax-tree interpreter (independent of generated code).
  const ann = spawnSync(
    'npx',
    ['tsx', join(import.meta.dirname, 'annotate-fixtures.ts'), '--dir', out],
    {
      stdio: 'inherit',
    },
  );
  if (ann.status !== 0) throw new Error('annotating the fixtures failed');
  return index;
}

/** Where the packets came from: the daemon's version and OS, and the client library's. */
function origin(gen: Generation, root: string | undefined): string {
  const dpkg = (pkg: string): string | undefined => {
    // default output: "python3-libvirt\t9.0.0-1"
    const r = root
      ? spawnSync('chroot', [root, 'dpkg-query', '-W', pkg], { encoding: 'utf8' })
      : spawnSync('dpkg-query', ['-W', pkg], { encoding: 'utf8' });
    return /\t(\d+\.\d+\.\d+)/.exec(r.stdout ?? '')?.[1];
  };
  let os = 'unknown OS';
  try {
    const rel = readFileSync(join(root ?? '/', 'etc/os-release'), 'utf8');
    const name = /^NAME="?([^"\n]+)"?/m.exec(rel)?.[1]?.replace(' GNU/Linux', '');
    const id = /^VERSION_ID="?([^"\n]+)"?/m.exec(rel)?.[1];
    if (name) os = id ? `${name} ${id}` : name;
    if (gen.key === 'backports') os += ' + trixie-backports';
  } catch {
    // keep "unknown OS"
  }
  const py = dpkg('python3-libvirt');
  const virsh = root ? dpkg('libvirt-clients') : undefined;
  return (
    `libvirtd ${gen.libvirt} (${os}) via python3-libvirt${py ? ` ${py}` : ''}` +
    (virsh ? ` and virsh ${virsh}` : '')
  );
}

// ---------------------------------------------------------------------------------------------
// checks on what was captured

/** Decodes `remote_typed_param params<>` at `off`; returns the value type of each parameter. */
function typedParamTypes(buf: Buffer, off: number): string[] {
  const names = ['', 'int', 'uint', 'llong', 'ullong', 'double', 'boolean', 'string'];
  const pad = (n: number) => (n + 3) & ~3;
  const count = buf.readUInt32BE(off);
  let p = off + 4;
  const types: string[] = [];
  for (let i = 0; i < count; i++) {
    p += 4 + pad(buf.readUInt32BE(p)); // field name
    const t = buf.readInt32BE(p);
    p += 4;
    if (t === 1 || t === 2 || t === 6) p += 4;
    else if (t === 3 || t === 4 || t === 5) p += 8;
    else if (t === 7) p += 4 + pad(buf.readUInt32BE(p));
    else throw new Error(`typed parameter ${i}: unknown type ${t}`);
    types.push(names[t]!);
  }
  return types;
}

function summarizeTypes(types: string[]): string {
  const counts = new Map<string, number>();
  for (const t of types) counts.set(t, (counts.get(t) ?? 0) + 1);
  return [...counts].map(([t, n]) => `${n} ${t}`).join(', ');
}

const REQUIRED_CALLS = [
  'AUTH_LIST',
  'CONNECT_SUPPORTS_FEATURE',
  'CONNECT_OPEN',
  'CONNECT_GET_URI',
  'CONNECT_GET_LIB_VERSION',
  'CONNECT_GET_VERSION',
  'CONNECT_GET_HOSTNAME',
  'CONNECT_GET_TYPE',
  'CONNECT_GET_CAPABILITIES',
  'NODE_GET_INFO',
  'CONNECT_LIST_ALL_DOMAINS',
  'DOMAIN_LOOKUP_BY_NAME',
  'DOMAIN_LOOKUP_BY_UUID',
  'DOMAIN_GET_XML_DESC',
  'DOMAIN_GET_INFO',
  'DOMAIN_GET_STATE',
  'DOMAIN_DEFINE_XML_FLAGS',
  'DOMAIN_CREATE',
  'DOMAIN_CREATE_WITH_FLAGS',
  'DOMAIN_SUSPEND',
  'DOMAIN_RESUME',
  'DOMAIN_DESTROY',
  'DOMAIN_DESTROY_FLAGS',
  'DOMAIN_UNDEFINE',
  'DOMAIN_UNDEFINE_FLAGS',
  'DOMAIN_GET_JOB_INFO',
  'DOMAIN_GET_JOB_STATS',
  'CONNECT_GET_ALL_DOMAIN_STATS',
  'DOMAIN_GET_SCHEDULER_PARAMETERS',
  'DOMAIN_GET_VCPUS',
  'DOMAIN_GET_VCPU_PIN_INFO',
  'NODE_GET_CPU_MAP',
  'NODE_GET_MEMORY_STATS',
  'CONNECT_LIST_ALL_NETWORKS',
  'CONNECT_LIST_ALL_STORAGE_POOLS',
  'STORAGE_POOL_LOOKUP_BY_NAME',
  'CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY',
  'CONNECT_CLOSE',
].map((p) => `remote-${p.toLowerCase()}-call.hex`);

const REQUIRED_FILES = [
  ...REQUIRED_CALLS,
  'remote-domain_lookup_by_name-error.hex',
  'remote-domain_get_job_stats-reply.hex',
  'remote-connect_get_all_domain_stats-reply.hex',
  'remote-domain_get_scheduler_parameters-reply.hex',
  'remote-domain_event_callback_lifecycle-event.hex',
  'qemu-domain_monitor_command-call.hex',
  'qemu-domain_monitor_command-reply.hex',
  'keepalive-ping-event.hex',
  'keepalive-pong-event.hex',
];

/**
 * A newer generation's capture: the same, but for CONNECT_GET_URI (taken from 9.0 only), plus
 * the procedures 9.0 lacks that its drivers answer, and (12.x) one this repository's 11.3 tables
 * lack.
 */
function requiredNewer(gen: Generation): string[] {
  const files = REQUIRED_FILES.filter((f) => f !== 'remote-connect_get_uri-call.hex');
  files.push(
    ...[
      'remote-network_set_metadata-call.hex',
      'remote-network_get_metadata-reply.hex',
      'remote-network_event_callback_metadata_change-event.hex',
      'remote-domain_set_autostart_once-call.hex',
      'remote-domain_get_autostart_once-reply.hex',
      'remote-domain_set_throttle_group-call.hex',
      'remote-domain_graphics_reload-error.hex',
    ],
  );
  if (gen.libVer >= 12_005_000n)
    files.push(
      'remote-proc_456-call.hex',
      'remote-proc_456-reply.hex',
      'remote-proc_456-error.hex',
    );
  return files;
}

function check(
  records: Recorded[],
  index: IndexEntry[],
  programs: Program[],
  required: readonly string[],
): string[] {
  const problems: string[] = [];
  const files = new Set(index.map((e) => e.file));
  for (const f of required) if (!files.has(f)) problems.push(`missing fixture ${f}`);

  // keepalive must have been exercised both ways: daemon PING answered by the client, and back
  const ka = (proc: string, dir: Direction) =>
    records.some(
      (r) =>
        programName(programs, r.header) === 'keepalive' &&
        procName(programs, r.header) === proc &&
        r.direction === dir,
    );
  if (!ka('PING', 'server->client') || !ka('PONG', 'client->server'))
    problems.push('no keepalive PING from the daemon answered by the client');
  if (!ka('PING', 'client->server') || !ka('PONG', 'server->client'))
    problems.push('no keepalive PING from the client answered by the daemon');

  // typed parameters: job stats must carry several of different types
  const firstReply = (proc: string) =>
    records.find(
      (r) =>
        r.header.type === 1 &&
        r.header.status === STATUS_OK &&
        programName(programs, r.header) === 'remote' &&
        procName(programs, r.header) === proc,
    );
  const job = firstReply('DOMAIN_GET_JOB_STATS');
  if (job) {
    // remote_domain_get_job_stats_ret { int type; remote_typed_param params<>; }
    const types = typedParamTypes(job.bytes, HEADER_BYTES + 4);
    console.log(`[capture] DOMAIN_GET_JOB_STATS reply: ${summarizeTypes(types)}`);
    if (types.length < 3 || new Set(types).size < 2)
      problems.push('DOMAIN_GET_JOB_STATS reply lacks several typed parameters of different types');
  }
  const all = firstReply('CONNECT_GET_ALL_DOMAIN_STATS');
  if (all) {
    // remote_connect_get_all_domain_stats_ret { remote_domain_stats_record retStats<>; }
    // record = { remote_nonnull_domain dom {name, uuid[16], id}; remote_typed_param params<>; }
    const b = all.bytes;
    let p = HEADER_BYTES + 4;
    p += 4 + ((b.readUInt32BE(p) + 3) & ~3) + 16 + 4;
    console.log(
      `[capture] CONNECT_GET_ALL_DOMAIN_STATS reply, first domain: ${summarizeTypes(typedParamTypes(b, p))}`,
    );
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// the tshark cross-check

async function startTshark(port: number, pcap: string): Promise<ChildProcess> {
  const child = spawn('tshark', ['-i', 'lo', '-f', `tcp port ${port}`, '-w', pcap, '-q'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`tshark did not start: ${err}`)), 15000);
    child.on('error', rej);
    child.on('exit', (code) => rej(new Error(`tshark exited (${code}): ${err}`)));
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('Capturing on')) {
        clearTimeout(timer);
        res();
      }
    });
  });
  child.removeAllListeners('exit');
  return child;
}

async function stopTshark(child: ChildProcess): Promise<void> {
  await sleep(500); // the last segments are still on their way through dumpcap
  const exited = once(child, 'exit');
  child.kill('SIGINT');
  const timeout = setTimeout(() => child.kill('SIGKILL'), 10000);
  await exited;
  clearTimeout(timeout);
}

function tsharkCompare(pcap: string, port: number, records: Recorded[]): string[] {
  const fields = [
    'libvirt.program',
    'libvirt.procedure',
    'libvirt.type',
    'libvirt.status',
    'libvirt.serial',
    'libvirt.length',
  ];
  const r = spawnSync(
    'tshark',
    [
      '-r',
      pcap,
      '-d',
      `tcp.port==${port},libvirt`,
      '-T',
      'fields',
      ...fields.flatMap((f) => ['-e', f]),
      '-e',
      '_ws.malformed',
      '-E',
      'separator=/t',
      '-E',
      'occurrence=a',
      '-E',
      'aggregator=,',
    ],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
  );
  if (r.status !== 0) return [`tshark -r failed: ${r.stderr}`];
  const theirs = new Map<string, number>();
  let malformed = 0;
  let frames = 0;
  let dissectorBug = 0;
  for (const line of r.stdout.split('\n')) {
    if (!line) continue;
    const cols = line.split('\t');
    const lists = cols.slice(0, 6).map((c) => (c ? c.split(',') : []));
    const n = lists[0]!.length;
    const messages: number[][] = [];
    for (let i = 0; i < n; i++) {
      const values = lists.map((l) => Number(l[i]));
      messages.push(values);
      const key = values.join('/');
      theirs.set(key, (theirs.get(key) ?? 0) + 1);
      frames++;
    }
    if (cols[6]) {
      // libvirt-wireshark's stream dissector subtracts the header length twice, so any stream
      // data packet under 56 bytes throws; that says nothing about the bytes themselves
      const shortStream = (m: number[]) => m[2] === 3 && m[3] === STATUS_CONTINUE && m[5]! < 56;
      if (messages.length > 0 && messages.every(shortStream)) dissectorBug++;
      else malformed++;
    }
  }
  if (dissectorBug > 0) {
    console.log(
      `[capture] tshark: ${dissectorBug} short stream packet(s) flagged malformed (dissector bug, ignored)`,
    );
  }
  const ours = new Map<string, number>();
  let count = 0;
  for (const rec of records) {
    if (rec.transport !== 'tcp') continue; // the unix-socket connection is invisible to tshark
    const h = rec.header;
    const key = [h.prog, h.proc, h.type, h.status, h.serial, h.length].join('/');
    ours.set(key, (ours.get(key) ?? 0) + 1);
    count++;
  }
  const problems: string[] = [];
  for (const key of new Set([...ours.keys(), ...theirs.keys()])) {
    const a = ours.get(key) ?? 0;
    const b = theirs.get(key) ?? 0;
    if (a !== b)
      problems.push(`prog/proc/type/status/serial/length ${key}: proxy ${a}, tshark ${b}`);
  }
  if (malformed > 0) problems.push(`${malformed} frame(s) marked malformed by libvirt-wireshark`);
  console.log(
    `[capture] tshark: ${frames} libvirt messages decoded, proxy recorded ${count} over TCP; ` +
      `${problems.length === 0 ? 'identical (program, procedure, type, status, serial, length), none malformed' : `${problems.length} problem(s)`}`,
  );
  return problems;
}

// ---------------------------------------------------------------------------------------------

/** The generation asked for (default: A and B's), and whether this run had to start its hosts. */
function chooseGeneration(request: string | undefined): { gen: Generation; started: string[][] } {
  const started: string[][] = [];
  if (runHarness('status').status !== 0) {
    console.log('[capture] test hosts are down: starting them');
    if (runHarness('up', { echo: process.stdout }).status !== 0)
      throw new Error('scripts/test-hosts.sh up failed');
    started.push(['down']);
  }
  if (request !== undefined && runHarness(['status-gen', request]).status !== 0) {
    console.log(`[capture] generation ${request} is down: starting it`);
    if (runHarness(['up-gen', request], { echo: process.stdout }).status !== 0)
      throw new Error(`scripts/test-hosts.sh up-gen ${request} failed`);
    started.push(['down-gen', request]);
  }
  const gens = generationsFromEnv(parseHarnessEnv(runHarness('env').stdout));
  const gen = request === undefined ? gens[0] : gens.find((g) => generationWanted(g, request));
  if (!gen) throw new Error(`no generation ${request ?? ''} in test-hosts.sh env`);
  return { gen, started };
}

/**
 * Calls this generation's virsh makes and its python3-libvirt cannot: procedures newer than the
 * binding (libvirt 12.5's DOMAIN_ANNOUNCE_INTERFACE), on a transient guest with a NIC.
 */
async function virshPhase(
  gen: Generation,
  port: number,
  work: string,
  guestXml: string,
): Promise<number> {
  const uri = `qemu+tcp://127.0.0.1:${port}/system`;
  // asynchronously: the proxy these calls go through runs on this process's event loop
  const inRoot = (...args: string[]) => output('bash', [GEN_HOSTS, 'run', gen.key, ...args]);
  if ((await inRoot('virsh', 'help', 'domifannounce')).status !== 0) return 0;
  const mac = '52:54:00:76:77:01';
  const xml = join(work, 'nic-guest.xml');
  writeFileSync(
    xml,
    readFileSync(guestXml, 'utf8')
      .replace(/<name>[^<]*<\/name>/, '<name>fixture-nic</name>')
      .replace(
        '<memballoon',
        `<interface type='user'><mac address='${mac}'/><model type='virtio'/></interface>\n    <memballoon`,
      ),
  );
  let rc = 0;
  for (const [args, mustFail] of [
    [['create', xml], false],
    [['domifannounce', 'fixture-nic', mac], false],
    [['domifannounce', 'fixture-nic', '52:54:00:76:77:99'], true],
    [['destroy', 'fixture-nic'], false],
  ] as const) {
    const r = await inRoot('virsh', '-c', uri, ...args);
    const ok = (r.status === 0) !== mustFail;
    console.log(`[capture-virsh] ${ok ? 'ok  ' : 'FAIL'} virsh ${args.join(' ')}: ${r.out.trim()}`);
    if (!ok) rc = 1;
  }
  return rc;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const programs = loadPrograms(opts.protoDir);
  const { gen, started } = chooseGeneration(opts.generation);
  const newer = gen.key !== 'bookworm';
  const env = parseHarnessEnv(runHarness('env').stdout);
  const root = newer ? env[`VIRTWIRE_GEN_${gen.key.toUpperCase()}_ROOT`] : undefined;
  const out =
    opts.out ??
    (newer
      ? join(ROOT, 'fixtures', 'packets', `libvirt-${gen.libvirt.split('.').slice(0, 2).join('.')}`)
      : join(ROOT, 'fixtures', 'packets'));
  // inside a generation's root the client sees the machine's /tmp, not $TMPDIR
  const work = mkdtempSync(join(newer ? '/tmp' : tmpdir(), 'virtwire-capture-'));
  let tshark: ChildProcess | undefined;
  const problems: string[] = [];
  try {
    const h = gen.hosts[0];
    const socket = env[`VIRTWIRE_HOST_${h}_SOCKET`];
    const addr = env[`VIRTWIRE_HOST_${h}_ADDR`];
    const hostPort = Number(env[`VIRTWIRE_HOST_${h}_PORT`] ?? 16509);
    const guestXml = env['VIRTWIRE_GUEST_XML'];
    if (!socket || !addr || !guestXml) throw new Error('test-hosts.sh env is incomplete');
    console.log(`[capture] from host ${h}: ${gen.label}`);

    const proxy = new RecordingProxy();
    const tcp = await proxy.listen(
      { host: '127.0.0.1', port: 0 },
      { host: addr, port: hostPort },
      'tcp',
    );
    const port = (tcp.address() as net.AddressInfo).port;
    // a second front door, as /run/libvirt/libvirt-sock inside a private mount namespace, for
    // the one client path that sends CONNECT_GET_URI (a connection opened without a URI)
    const runDir = join(work, 'run');
    mkdirSync(runDir);
    await proxy.listen({ path: join(runDir, 'libvirt-sock') }, { path: socket }, 'unix');
    console.log(`[capture] proxy 127.0.0.1:${port} -> ${addr}:${hostPort}`);

    const pcap = join(work, 'capture.pcapng');
    if (opts.tshark) tshark = await startTshark(port, pcap);

    const clientEnv = { ...process.env, ...env };
    if (newer) {
      // the generation's own python3-libvirt, in its root; the script travels through /tmp
      const client = join(work, 'capture-client.py');
      writeFileSync(client, readFileSync(CLIENT));
      const rc = await run(
        'bash',
        [GEN_HOSTS, 'run', gen.key, PYTHON, client, String(port)],
        clientEnv,
      );
      if (rc !== 0) problems.push(`capture-client.py (in the ${gen.key} root) exited with ${rc}`);
      if ((await virshPhase(gen, port, work, guestXml)) !== 0)
        problems.push(`the ${gen.key} root's virsh calls failed`);
    } else {
      const rc = await run(PYTHON, [CLIENT, String(port)], clientEnv);
      if (rc !== 0) problems.push(`capture-client.py exited with ${rc}`);
    }
    if (newer) {
      // CONNECT_GET_URI is the same procedure on every generation: 9.0's fixture has it
    } else if (process.getuid?.() === 0) {
      mkdirSync('/run/libvirt', { recursive: true });
      const rc2 = await run(
        'unshare',
        [
          '--mount',
          '--propagation',
          'private',
          '/bin/sh',
          '-c',
          'mount --bind "$0" /run/libvirt && exec "$1" "$2" --default-uri',
          runDir,
          PYTHON,
          CLIENT,
        ],
        clientEnv,
      );
      if (rc2 !== 0) problems.push(`capture-client.py --default-uri exited with ${rc2}`);
    } else {
      problems.push('not root: skipped the default-URI connection (CONNECT_GET_URI)');
    }

    await proxy.close();
    if (tshark) {
      await stopTshark(tshark);
      tshark = undefined;
    }
    const records = proxy.records;
    const index = writeFixtures(out, records, programs, origin(gen, root));
    const procs = new Set(index.map((e) => `${e.program} ${e.procedure}`));
    console.log(
      `[capture] ${records.length} messages on ${new Set(records.map((r) => r.conn)).size} connections; ` +
        `${index.length} fixtures, ${procs.size} distinct procedures, written to ${out}`,
    );
    problems.push(...check(records, index, programs, newer ? requiredNewer(gen) : REQUIRED_FILES));
    if (procs.size < 35) problems.push(`only ${procs.size} distinct procedures (want >= 35)`);
    if (opts.tshark) problems.push(...tsharkCompare(pcap, port, records));
  } finally {
    if (tshark) tshark.kill('SIGINT');
    for (const cmd of started.reverse()) runHarness(cmd, { echo: process.stdout });
    if (opts.keepWork) console.log(`[capture] work directory kept: ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
  if (problems.length > 0) {
    for (const p of problems) console.error(`[capture] problem: ${p}`);
    process.exit(1);
  }
  console.log('[capture] ok');
}

main().catch((err: unknown) => {
  console.error(`[capture] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
