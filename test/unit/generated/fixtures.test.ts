import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Interpreter } from '../../../src/codegen/interp.js';
import { loadProtocol } from '../../../src/codegen/load.js';
import { remoteProgram } from '../../../src/generated/remote.js';
import {
  decodeVirNetMessageError,
  decodeVirNetMessageHeader,
  encodeVirNetMessageError,
  encodeVirNetMessageHeader,
} from '../../../src/generated/virnet.js';
import { RemoteError } from '../../../src/index.js';
import { XdrReader, XdrWriter } from '../../../src/xdr/index.js';
import { dissect, FIXTURE_DIR, type Fixture, parseFixtureText } from '../../helpers/packets.js';

interface IndexEntry {
  file: string;
  procedure: string;
  program: string;
  number: number;
  kind: string;
}

const interp = new Interpreter(
  loadProtocol(join(import.meta.dirname, '../../../protocol')).symbols,
);

/** Libvirt 9.0's packets at the top; each newer generation's in libvirt-<major.minor>/. */
const DIRS = [
  { dir: FIXTURE_DIR, version: '9.0' },
  ...readdirSync(FIXTURE_DIR)
    .filter((d) => /^libvirt-\d+\.\d+$/.test(d))
    .sort()
    .map((d) => ({ dir: join(FIXTURE_DIR, d), version: d.slice('libvirt-'.length) })),
];

function load(dir: string): { fixtures: Fixture[]; index: IndexEntry[] } {
  const fixtures = readdirSync(dir)
    .filter((f) => f.endsWith('.hex'))
    .sort()
    .map((f) => parseFixtureText(f, readFileSync(join(dir, f), 'utf8')));
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as IndexEntry[];
  return { fixtures, index };
}

/** Re-encodes a message of a procedure the tables lack: its header, and an error reply's payload. */
function roundTripUnknown(bytes: Uint8Array): Uint8Array {
  const r = new XdrReader(bytes);
  const length = r.readUint();
  const header = decodeVirNetMessageHeader(r);
  expect(remoteProgram.procedures.some((p) => p.number === header.proc)).toBe(false);
  const w = new XdrWriter(64);
  w.writeUint(length);
  encodeVirNetMessageHeader(w, header);
  if (header.status === 1) {
    const e = decodeVirNetMessageError(r);
    r.done();
    encodeVirNetMessageError(w, e);
  } else {
    // no codec for the payload: it can only be carried as it is
    const rest = bytes.subarray(r.pos);
    w.writeFixedOpaque(rest, rest.length);
  }
  return w.finish();
}

describe.each(DIRS)('golden packets from a real libvirtd $version', ({ dir, version }) => {
  const { fixtures, index } = load(dir);

  it('cover at least 30 distinct procedures, including the ones that matter most', () => {
    const procs = new Set(index.map((f) => `${f.program}.${f.procedure}`));
    expect(procs.size).toBeGreaterThanOrEqual(30);
    for (const p of [
      'remote.AUTH_LIST',
      'remote.CONNECT_OPEN',
      'remote.CONNECT_LIST_ALL_DOMAINS',
      'remote.DOMAIN_GET_XML_DESC',
      'remote.DOMAIN_GET_JOB_STATS',
      'remote.DOMAIN_EVENT_CALLBACK_LIFECYCLE',
      'keepalive.PING',
    ]) {
      expect(procs, p).toContain(p);
    }
    expect(index.some((f) => f.kind === 'error')).toBe(true);
    expect(fixtures.length).toBe(index.length);
    // every packet says which daemon it came from
    for (const fx of fixtures)
      expect(fx.preamble.join('\n'), fx.file).toContain(`# from: libvirtd ${version}.`);
  });

  for (const fx of fixtures) {
    it(`${fx.file} decodes with the generated codecs and re-encodes to the same bytes`, () => {
      const entry = index.find((e) => e.file === fx.file);
      if (entry?.procedure.startsWith('PROC_')) {
        expect(Buffer.from(roundTripUnknown(fx.bytes)).equals(Buffer.from(fx.bytes))).toBe(true);
        return;
      }
      const d = dissect(fx.bytes);
      expect(entry?.procedure).toBe(d.procedure.name);
      if (!d.codec) {
        // void payloads and raw stream data: nothing to decode
        if (d.header.type !== 3) expect(fx.bytes.length).toBe(d.payloadOffset);
        return;
      }
      const r = new XdrReader(fx.bytes, d.payloadOffset);
      const value = d.codec.decode(r);
      r.done();
      const w = new XdrWriter(64);
      w.writeUint(d.length);
      encodeVirNetMessageHeader(w, d.header);
      d.codec.encode(w, value);
      expect(Buffer.from(w.finish()).equals(Buffer.from(fx.bytes))).toBe(true);
      // and the independent tree interpreter reads the same value
      expect(interp.decode(d.codec.name, new XdrReader(fx.bytes, d.payloadOffset))).toEqual(value);
    });
  }
});

describe.each(DIRS.filter((d) => d.version !== '9.0'))(
  'what libvirt $version answers that 9.0 cannot',
  ({ dir }) => {
    const { index } = load(dir);
    // libvirt 9.0's last procedure is DOMAIN_FD_ASSOCIATE (443)
    const LAST_IN_9_0 = 443;

    it('procedures after 9.0, answered by the test and QEMU drivers, with their events', () => {
      const newerProcs = new Set(
        index
          .filter((e) => e.number > LAST_IN_9_0 && e.program === 'remote')
          .map((e) => e.procedure),
      );
      for (const p of [
        'NETWORK_SET_METADATA', // 9.7, test driver
        'NETWORK_GET_METADATA',
        'NETWORK_EVENT_CALLBACK_METADATA_CHANGE', // the event it raises
        'DOMAIN_GRAPHICS_RELOAD', // 10.2, QEMU driver (an error: the guest has no graphics)
        'DOMAIN_GET_AUTOSTART_ONCE', // 11.2, QEMU driver
        'DOMAIN_SET_AUTOSTART_ONCE',
        'DOMAIN_SET_THROTTLE_GROUP',
        'DOMAIN_DEL_THROTTLE_GROUP',
      ])
        expect(newerProcs, p).toContain(p);
    });
  },
);

function dirOf(version: string): string {
  const d = DIRS.find((x) => x.version === version);
  if (!d)
    throw new Error(`no fixtures/packets/libvirt-${version}: run capture-fixtures --generation`);
  return d.dir;
}

describe('a libvirt 12.9 daemon, read with 11.3 tables', () => {
  const read = (dir: string, file: string) =>
    parseFixtureText(file, readFileSync(join(dir, file), 'utf8')).bytes;

  it('passes a node CPU stats field 11.3 never sent ("guest") through, as libvirt’s own client does', () => {
    const decode = (dir: string) => {
      const b = read(dir, 'remote-node_get_cpu_stats-reply.hex');
      const d = dissect(b);
      // remote_node_get_cpu_stats: a field name and a 64-bit value, no table of names anywhere
      const v = d.codec!.decode(new XdrReader(b, d.payloadOffset)) as {
        params: Array<{ field: string; value: bigint }>;
      };
      return Object.fromEntries(v.params.map((p) => [p.field, p.value]));
    };
    const old = decode(dirOf('11.3'));
    const now = decode(dirOf('12.9'));
    expect(Object.keys(old).sort()).toEqual(['idle', 'iowait', 'kernel', 'user']);
    expect(Object.keys(now).sort()).toEqual(['guest', 'idle', 'iowait', 'kernel', 'user']);
    expect(typeof now['guest']).toBe('bigint');
    expect(now['user']).toBe(old['user']);
  });

  it('reads the error reply of a procedure 11.3 lacks (DOMAIN_ANNOUNCE_INTERFACE, 456) as any other', () => {
    const b = read(dirOf('12.9'), 'remote-proc_456-error.hex');
    const r = new XdrReader(b, 4);
    const h = decodeVirNetMessageHeader(r);
    expect(h.proc).toBe(456);
    expect(remoteProgram.procedures.some((p) => p.number === 456)).toBe(false);
    // remote_error is the payload of every error reply, whatever the procedure
    const e = new RemoteError(decodeVirNetMessageError(r), `remote procedure ${h.proc}`);
    r.done();
    expect(e.codeName).toBe('VIR_ERR_INVALID_ARG');
    expect(e.message).toContain('is not a known interface');
  });
});
