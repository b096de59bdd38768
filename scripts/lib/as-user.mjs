// The package as a user of a runtime meets it: run from a scratch project where the packed tarball
// is installed (scripts/runtimes.sh matrix makes it), by node, bun or deno alike:
//   RUNTIME as-user.mjs
// imports `virtwire` and `virtwire/testing` by their package names (ESM here, CommonJS through
// createRequire), connects over TCP to a simulator as to a daemon, and checks the answers. Plain
// JavaScript with no dependency but the package: every runtime runs it as it is.
import { createRequire } from 'node:module';
import { connect, VirtwireError } from 'virtwire';
import { Simulator } from 'virtwire/testing';

const fail = (why) => {
  console.error(`as-user: ${why}`);
  process.exit(1);
};
const sim = await Simulator.start({ tcp: true, domains: [{ name: 'vm1', state: 'running' }] });
try {
  const conn = await connect(sim.uri);
  const host = await conn.getHostname();
  const doms = await conn.listAllDomains();
  if (doms.length !== 1 || doms[0].name !== 'vm1') fail(`domains: ${doms.map((d) => d.name)}`);
  const info = await doms[0].getInfo();
  if (info.state !== 1) fail(`vm1 state ${info.state}, not running (1)`);
  // an error from the daemon arrives as one of the package's error classes
  const missing = await conn.lookupDomain('no-such-domain').then(
    () => null,
    (e) => e,
  );
  if (!(missing instanceof VirtwireError)) fail(`a missing domain gave ${missing}`);
  await conn.close();
  // the CommonJS entry points give the same classes
  const require = createRequire(import.meta.url);
  if (require('virtwire').VirtwireError !== VirtwireError) fail('require gives other classes');
  console.log(`as-user: ${host}, vm1 running, errors are VirtwireError, require agrees`);
} finally {
  await sim.close();
}
