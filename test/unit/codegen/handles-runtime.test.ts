import { describe, expect, it } from 'vitest';
import { TypedParamError } from '../../../src/api/typed-params.js';
import { InvalidArgumentError } from '../../../src/errors.js';
import type { RemoteNonnullDomain, RemoteTypedParam } from '../../../src/generated/remote.js';
import type { VirStream } from '../../../src/rpc/stream.js';
import {
  AdminConnection,
  Connection,
  Domain,
  DomainSnapshot,
  StoragePool,
  StorageVol,
} from './handles-fixture.js';

// What the generated methods send and make of replies, through the fixture's recording tables.

const uuid = Uint8Array.from({ length: 16 }, (_, i) => i);
const wire = (name: string, id = 1): RemoteNonnullDomain => ({ name, uuid, id });
const uint = (field: string, ui: number): RemoteTypedParam => ({ field, value: { type: 2, ui } });
const ullong = (field: string, ul: bigint): RemoteTypedParam => ({
  field,
  value: { type: 4, ul },
});

describe('generated handle methods', () => {
  it('put C arguments into the wire struct under its field names, flags defaulting to 0', async () => {
    const reply = { allocation: 1n, capacity: 2n, physical: 3n };
    const conn = new Connection({ domainGetBlockInfo: reply });
    const dom = new Domain(conn, wire('vm1'));
    const signal = new AbortController().signal;
    await expect(dom.getBlockInfo('vda', undefined, { signal })).resolves.toEqual(reply);
    expect(conn.calls).toEqual([
      {
        method: 'domainGetBlockInfo',
        args: { dom: wire('vm1'), path: 'vda', flags: 0 },
        opts: { signal },
      },
    ]);
  });

  it('make handles of returned identities through the connection factory', async () => {
    const snap = { name: 's1', dom: wire('vm1') };
    const conn = new Connection({ domainSnapshotCreateXml: { snap } });
    const got = await new Domain(conn, wire('vm1')).snapshotCreateXML('<domainsnapshot/>', 4);
    expect(got).toBeInstanceOf(DomainSnapshot);
    expect(got.wire).toEqual(snap);
    expect(got.conn).toBe(conn);
    expect(conn.calls[0]?.args).toEqual({
      dom: wire('vm1'),
      xmlDesc: '<domainsnapshot/>',
      flags: 4,
    });
  });

  it('fetch whole lists: listAll* asks for results, legacy lists are sized by their NumOf', async () => {
    const conn = new Connection({
      connectListAllDomains: { domains: [wire('a', 1), wire('b', 2)], ret: 2 },
      connectNumOfDomains: { num: 3 },
      connectListDomains: (a: { maxids: number }) => ({ ids: [4, 5, 6].slice(0, a.maxids) }),
    });
    const all = await conn.listAllDomains(1);
    expect(all.map((d) => d.wire.name)).toEqual(['a', 'b']);
    expect(all.every((d) => d instanceof Domain)).toBe(true);
    await expect(conn.listDomains()).resolves.toEqual([4, 5, 6]);
    expect(conn.calls.map((c) => [c.method, c.args])).toEqual([
      ['connectListAllDomains', { needResults: 1, flags: 1 }],
      ['connectNumOfDomains', undefined],
      ['connectListDomains', { maxids: 3 }],
    ]);
  });

  it('size typed-parameter getters with a first call, and give a record', async () => {
    const params = [uint('weight', 500), { field: 'device_weight', value: { type: 7, s: 'x' } }];
    const conn = new Connection({
      domainGetBlkioParameters: (a: { nparams: number }) =>
        a.nparams === 0 ? { params: [], nparams: 2 } : { params, nparams: 2 },
    });
    const got = await new Domain(conn, wire('vm1')).getBlkioParameters(2);
    expect(got).toEqual({ weight: 500, device_weight: 'x' });
    expect(conn.calls.map((c) => c.args)).toEqual([
      { dom: wire('vm1'), nparams: 0, flags: 2 },
      { dom: wire('vm1'), nparams: 2, flags: 2 },
    ]);
  });

  it('ask for string parameters, as libvirt does, only when the daemon supports them', async () => {
    const reply = (a: { nparams: number }) =>
      a.nparams === 0 ? { params: [], nparams: 1 } : { params: [uint('weight', 1)], nparams: 1 };
    const TYPED_PARAM_STRING = 9;
    const yes = new Connection({ domainGetBlkioParameters: reply }, null, [TYPED_PARAM_STRING]);
    await new Domain(yes, wire('vm1')).getBlkioParameters(2);
    // VIR_DOMAIN_AFFECT_CONFIG | VIR_TYPED_PARAM_STRING_OKAY, on the sizing call too
    expect(yes.calls.map((c) => (c.args as { flags: number }).flags)).toEqual([6, 6]);
    const no = new Connection({ domainGetNumaParameters: reply });
    await new Domain(no, wire('vm1')).getNumaParameters(2);
    expect(no.calls.map((c) => (c.args as { flags: number }).flags)).toEqual([2, 2]);
    // a getter libvirt does not widen keeps its flags as given
    const other = new Connection({ domainGetJobStats: { type: 0, params: [] } }, null, [
      TYPED_PARAM_STRING,
    ]);
    await new Domain(other, wire('vm1')).getJobStats(1);
    expect(other.calls.map((c) => (c.args as { flags: number }).flags)).toEqual([1]);
  });

  it('encode typed-parameter setters by the schema and refuse unknown names before sending', async () => {
    const conn = new Connection({ domainSetBlkioParameters: undefined });
    const dom = new Domain(conn, wire('vm1'));
    await expect(dom.setBlkioParameters({ bogus: 1 })).rejects.toBeInstanceOf(TypedParamError);
    expect(conn.calls).toEqual([]);
    const conn2 = new Connection({ domainSetMemoryParameters: undefined });
    await new Domain(conn2, wire('vm1')).setMemoryParameters({ hard_limit: 1024 });
    expect(conn2.calls[0]?.args).toEqual({
      dom: wire('vm1'),
      params: [ullong('hard_limit', 1024n)],
      flags: 0,
    });
  });

  it('parse UUID strings locally and refuse bad ones with InvalidArgumentError', async () => {
    const conn = new Connection({ domainLookupByUuid: { dom: wire('vm1') } });
    await expect(conn.domainLookupByUUIDString('not-a-uuid')).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    expect(conn.calls).toEqual([]);
    await conn.domainLookupByUUIDString('00010203-0405-0607-0809-0a0b0c0d0e0f');
    expect(conn.calls[0]?.args).toEqual({ uuid });
  });

  it('give domain statistics as [{ domain, stats }]', async () => {
    const conn = new Connection({
      connectGetAllDomainStats: {
        retStats: [{ dom: wire('vm1'), params: [uint('state.state', 1)] }],
      },
    });
    const [first, ...rest] = await conn.getAllDomainStats(1);
    expect(rest).toEqual([]);
    expect(first?.domain).toBeInstanceOf(Domain);
    expect(first?.stats).toEqual({ 'state.state': 1 });
    expect(conn.calls[0]?.args).toEqual({ doms: [], stats: 1, flags: 0 });
  });

  it('split per-CPU statistics by the probed count', async () => {
    const conn = new Connection({
      domainGetCpuStats: (a: { nparams: number }) =>
        a.nparams === 0
          ? { params: [], nparams: 1 }
          : { params: [ullong('cpu_time', 10n), ullong('cpu_time', 20n)], nparams: 1 },
    });
    const got = await new Domain(conn, wire('vm1')).getCPUStats(0, 2);
    expect(got).toEqual([{ cpu_time: 10n }, { cpu_time: 20n }]);
    expect(conn.calls[1]?.args).toEqual({
      dom: wire('vm1'),
      nparams: 1,
      startCpu: 0,
      ncpus: 2,
      flags: 0,
    });
  });

  it('turn C char arrays (one int per character on the wire) into strings', async () => {
    const model = [...'x86_64'].map((c) => c.charCodeAt(0));
    const info = { memory: 8n, cpus: 4, mhz: 1, nodes: 1, sockets: 1, cores: 2, threads: 2 };
    const conn = new Connection({
      nodeGetInfo: { model: [...model, 0, 0, 0], ...info },
    });
    await expect(conn.nodeGetInfo()).resolves.toEqual({ model: 'x86_64', ...info });
  });

  it('pass handle arguments by their wire identity', async () => {
    const vol = { pool: 'p', name: 'v', key: 'k' };
    const conn = new Connection({ storageVolCreateXmlFrom: { vol: { ...vol, name: 'v2' } } });
    const pool = new StoragePool(conn, { name: 'p', uuid });
    const got = await pool.storageVolCreateXMLFrom('<volume/>', new StorageVol(conn, vol));
    expect(got.wire.name).toBe('v2');
    expect(conn.calls[0]?.args).toEqual({
      pool: { name: 'p', uuid },
      xml: '<volume/>',
      clonevol: vol,
      flags: 0,
    });
  });

  it('open streams through the connection, with the procedure and its arguments', async () => {
    const stream = {} as VirStream;
    const conn = new Connection({}, stream);
    const vol = new StorageVol(conn, { pool: 'p', name: 'v', key: 'k' });
    await expect(vol.download(0, 10n, 1)).resolves.toBe(stream);
    const shot = await new Domain(conn, wire('vm1')).screenshot(0);
    expect(shot).toEqual({ stream, mime: 'image/png' });
    expect(conn.streams.map((s) => [s.program, s.procedure, s.args])).toEqual([
      ['remote', 'STORAGE_VOL_DOWNLOAD', { vol: vol.wire, offset: 0n, length: 10n, flags: 1 }],
      ['remote', 'DOMAIN_SCREENSHOT', { dom: wire('vm1'), screen: 0, flags: 0 }],
    ]);
  });

  it('reach admin objects through the admin connection', async () => {
    const srv = { name: 'libvirtd' };
    const client = { id: 7n, timestamp: 1n, transport: 0, srv };
    const adm = new AdminConnection({
      connectListServers: { servers: [srv], ret: 1 },
      serverListClients: { clients: [client], ret: 1 },
      clientClose: undefined,
    });
    const [server] = await adm.listServers();
    const [c] = (await server?.listClients()) ?? [];
    await c?.close();
    expect(adm.calls.map((x) => [x.method, x.args])).toEqual([
      ['connectListServers', { needResults: 1, flags: 0 }],
      ['serverListClients', { srv, needResults: 1, flags: 0 }],
      ['clientClose', { clnt: client, flags: 0 }],
    ]);
  });
});
