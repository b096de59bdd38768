import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ApiFunctions } from '../../../src/codegen/handle-facts.js';
import {
  HANDLE_CLASSES,
  handleMethodName,
  lowerLeadingCaps,
  reservedMembers,
} from '../../../src/codegen/handle-names.js';

const facts = JSON.parse(
  readFileSync(new URL('../../../protocol/functions.json', import.meta.url), 'utf8'),
) as ApiFunctions;

/** The naming rule applied to a real function of protocol/functions.json. */
function named(cName: string): string {
  const fn = facts.functions[cName];
  if (!fn) throw new Error(`${cName} is not in protocol/functions.json`);
  const n = handleMethodName({ name: cName, args: fn.args });
  return n === null ? 'none' : `${n.cls.name}.${n.method}`;
}

describe('lowerLeadingCaps', () => {
  it.each([
    ['GetBlockInfo', 'getBlockInfo'],
    ['FSFreeze', 'fsFreeze'],
    ['NWFilterLookupByName', 'nwFilterLookupByName'],
    ['PMWakeup', 'pmWakeup'],
    ['XML', 'xml'],
    ['SnapshotCreateXML', 'snapshotCreateXML'],
    ['already', 'already'],
  ])('%s -> %s', (input, output) => {
    expect(lowerLeadingCaps(input)).toBe(output);
  });
});

describe('handleMethodName on the examples of the naming rule', () => {
  it.each([
    ['virDomainGetBlockInfo', 'Domain.getBlockInfo'],
    ['virDomainSnapshotCreateXML', 'Domain.snapshotCreateXML'],
    ['virDomainFSFreeze', 'Domain.fsFreeze'],
    ['virStorageVolGetInfo', 'StorageVol.getInfo'],
    ['virStorageVolCreateXML', 'StoragePool.storageVolCreateXML'],
    ['virStorageVolDelete', 'StorageVol.delete'],
    ['virConnectListAllNetworks', 'Connection.listAllNetworks'],
    ['virNetworkLookupByName', 'Connection.networkLookupByName'],
    ['virNWFilterLookupByName', 'Connection.nwFilterLookupByName'],
    ['virNodeGetInfo', 'Connection.nodeGetInfo'],
    ['virDomainSnapshotGetParent', 'DomainSnapshot.getParent'],
    ['virDomainCheckpointCreateXML', 'Domain.checkpointCreateXML'],
    ['virNetworkPortCreateXML', 'Network.portCreateXML'],
    ['virNodeDeviceListCaps', 'NodeDevice.listCaps'],
    ['virNWFilterBindingDelete', 'NWFilterBinding.delete'],
    ['virDomainListGetStats', 'Connection.domainListGetStats'],
    ['virConnectGetAllDomainStats', 'Connection.getAllDomainStats'],
    ['virAdmConnectListServers', 'AdminConnection.listServers'],
    ['virAdmServerListClients', 'AdminServer.listClients'],
    ['virAdmClientClose', 'AdminClient.close'],
    ['virStreamSend', 'Stream.send'],
    ['virConnectOpen', 'none'],
    ['virTypedParamsAddInt', 'none'],
  ])('%s -> %s', (cName, expected) => {
    expect(named(cName)).toBe(expected);
  });

  it('keeps the class name when the short name is a reserved member (virConnectClose)', () => {
    expect(named('virConnectClose')).toBe('Connection.connectClose');
    expect(named('virAdmConnectClose')).toBe('AdminConnection.admConnectClose');
    // `close` is reserved on connections only: an admin client's close is its own method.
    expect(
      reservedMembers(HANDLE_CLASSES.find((c) => c.name === 'AdminClient')!).has('close'),
    ).toBe(false);
  });

  it('applies the collision rule to any class (a made-up virDomainUUID -> domainUUID)', () => {
    const n = handleMethodName({ name: 'virDomainUUID', args: [{ type: 'virDomainPtr' }] });
    expect(n?.method).toBe('domainUUID');
    const ok = handleMethodName({ name: 'virDomainGetName', args: [{ type: 'virDomainPtr' }] });
    expect(ok?.method).toBe('getName');
  });
});

describe('handleMethodName over the whole table', () => {
  const rows = Object.entries(facts.functions)
    .map(([name, fn]) => ({ name, n: handleMethodName({ name, args: fn.args }) }))
    .filter((r) => r.n !== null);

  it('gives most public functions a class', () => {
    expect(rows.length).toBeGreaterThan(Object.keys(facts.functions).length / 2);
  });

  it('never gives one class two methods of the same name', () => {
    const seen = new Map<string, string>();
    const clashes: string[] = [];
    for (const { name, n } of rows) {
      const key = `${n!.cls.name}.${n!.method}`;
      const other = seen.get(key);
      if (other !== undefined) clashes.push(`${key}: ${other} and ${name}`);
      seen.set(key, name);
    }
    expect(clashes).toEqual([]);
  });

  it('never names a method after a reserved member of its class', () => {
    const bad = rows.filter(({ n }) => reservedMembers(n!.cls).has(n!.method));
    expect(bad.map((r) => r.name)).toEqual([]);
  });

  it('gives every method a plain identifier starting lower-case', () => {
    const bad = rows.filter(({ n }) => !/^[a-z][A-Za-z0-9]*$/.test(n!.method));
    expect(bad.map((r) => r.name)).toEqual([]);
  });

  it('puts every function on the class of its first argument', () => {
    for (const { name, n } of rows) {
      const first = facts.functions[name]!.args[0]!.type.trim();
      const expected = first.endsWith('*') ? ['virConnectPtr', 'virAdmConnectPtr'] : [first];
      expect(expected, name).toContain(n!.cls.cType);
    }
  });
});
