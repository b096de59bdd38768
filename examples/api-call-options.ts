// docs/api.md: every call's last argument, { signal, timeoutMs }.
// runs on: simulator, hosts
import { AbortError, connect } from 'virtwire';

const uri = process.env['VIRTWIRE_URI'] ?? 'qemu:///system';
const name = process.env['VIRTWIRE_DOMAIN'] ?? 'vm1';

await using conn = await connect(uri);
const dom = await conn.lookupDomain(name);

const info = await dom.getInfo({ timeoutMs: 2000 });
const same = await conn.remote.domainGetInfo({ dom: dom.wire }, { timeoutMs: 2000 });
console.log(info.state, same.nrVirtCpu);

// a signal that has already fired: the call rejects at once, nothing is sent
try {
  await conn.remote.domainGetInfo({ dom: dom.wire }, { signal: AbortSignal.abort() });
  throw new Error('an aborted call resolved');
} catch (err) {
  if (!(err instanceof AbortError)) throw err;
  console.log('aborted');
}
