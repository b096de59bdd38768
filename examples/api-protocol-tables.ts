// docs/api.md: the protocol tables as data, and calling a procedure through
// its descriptor.
// runs on: simulator, hosts
import { connect } from 'virtwire';
import { remote } from 'virtwire/protocol';

const uri = process.env['VIRTWIRE_URI'] ?? 'qemu:///system';

const p = remote.procedures.find((x) => x.name === 'DOMAIN_MIGRATE_START_POST_COPY');
// { program: { name: 'remote', program: 0x20008086, version: 1 }, name, number: 364,
//   label: 'remote.DOMAIN_MIGRATE_START_POST_COPY', type: 0 (CALL), method:
//   'domainMigrateStartPostCopy', args: Codec, ret: null, event: false,
//   priority: 'low', stream: null, sparseFlag: null, acl: [...] }
console.log(p?.label, p?.number);

await using conn = await connect(uri);
const version = remote.procedures.find((x) => x.name === 'CONNECT_GET_LIB_VERSION')!;
console.log(await conn.rpc.call(version, undefined)); // { libVer: 9000000n }
