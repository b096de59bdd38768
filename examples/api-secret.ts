/**
 * Secret: a secret defined, given a value, read back and undefined.
 * Needs a real daemon with a secret driver (the QEMU driver's libvirtd; the simulator and
 * the test driver have none). Usage: tsx examples/api-secret.ts [uri]
 */
// runs on: hosts
import { connect } from 'virtwire';

const [uri = process.env['VIRTWIRE_URI'] ?? 'qemu+tcp://127.0.0.1/system'] = process.argv.slice(2);
await using conn = await connect(uri);

const secret = await conn.secretDefineXML(
  "<secret ephemeral='no' private='no'><usage type='volume'><volume>/images/vw-example.qcow2</volume></usage></secret>",
);
await secret.setValue(new TextEncoder().encode('passphrase'));
console.log(
  secret.uuid,
  secret.usageType,
  secret.usageID,
  new TextDecoder().decode(await secret.getValue()),
);
await secret.undefine();
