/**
 * A tiny virtwire client run in a child process as another (non-root) user by
 * tests that need the daemon to see an unprivileged peer, e.g. polkit: libvirtd
 * lets uid 0 through without asking polkit, so only another uid proves it.
 *
 *   node --import tsx test/helpers/as-user-client.ts URI [ro]   (the polkit test runs it bundled)
 *
 * Prints one JSON line: what the connection negotiated and read, or the error.
 */
import { connect } from '../../src/api/connect.js';
import { RemoteError } from '../../src/rpc/errors.js';

const [uri, mode] = process.argv.slice(2);
if (!uri) {
  process.stderr.write('usage: as-user-client.ts URI [ro]\n');
  process.exit(2);
}
try {
  const conn = await connect(uri, { readonly: mode === 'ro', timeoutMs: 20_000 });
  const hostname = (await conn.remote.connectGetHostname()).hostname;
  const domains = (await conn.listAllDomains()).map((d) => d.name);
  process.stdout.write(
    `${JSON.stringify({ ok: true, uid: process.getuid?.(), auth: conn.auth, uri: conn.uri, hostname, domains })}\n`,
  );
  await conn.close();
} catch (err) {
  const e = err instanceof Error ? err : new Error(String(err));
  process.stdout.write(
    `${JSON.stringify({
      ok: false,
      uid: process.getuid?.(),
      name: e.name,
      code: e instanceof RemoteError ? e.codeName : null,
      domain: e instanceof RemoteError ? e.domainName : null,
      message: e.message,
    })}\n`,
  );
}
