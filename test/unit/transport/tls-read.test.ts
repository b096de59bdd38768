import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { TlsVerificationError } from '../../../src/transport/index.js';
import { READ_BUFFER } from '../../../src/transport/shared-read.js';
import { tlsTransport } from '../../../src/transport/tls.js';
import { parseUri } from '../../../src/uri/index.js';
import { collect, writeInPieces } from '../../helpers/byte-peers.js';

// A local TLS server that answers like libvirtd's: one verdict byte after the handshake, then
// whatever the test sends. It presents the throwaway certificate in fixtures/tls, which the client
// trusts as its CA (pkipath=) and whose identity it does not check (no_verify=1): the real-daemon
// tests in test/integration/transports.test.ts cover verification.

const dir = join(import.meta.dirname, '../../../fixtures/tls');
const key = readFileSync(join(dir, 'key.pem'));
const cert = readFileSync(join(dir, 'cacert.pem'));
const servers: Server[] = [];

afterAll(() => {
  for (const s of servers.splice(0)) s.close();
});

/** Serves one verdict byte (or none, closing instead), then `bytes`, then ends. */
async function serve(verdict: number | null, bytes: Buffer = Buffer.alloc(0)): Promise<string> {
  const server = createServer({ key, cert }, (s: TLSSocket) => {
    if (verdict === null) {
      s.end();
      return;
    }
    s.write(Buffer.from([verdict]));
    writeInPieces(s, bytes, [100_003]);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return `qemu+tls://127.0.0.1:${port}/system?pkipath=${dir}&no_verify=1`;
}

const OPTS = { readonly: false } as const;

describe('tls reads decrypted bytes into the shared buffer', () => {
  it('takes the verdict byte off and hands every byte after it to the channel, intact', async () => {
    const bytes = Buffer.alloc(3 * READ_BUFFER + 4321);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + (i >>> 11)) & 0xff;
    const ch = await tlsTransport(parseUri(await serve(1, bytes)), OPTS);
    const got = await collect(ch);
    expect(got.length).toBe(bytes.length);
    expect(got.equals(bytes)).toBe(true);
  });

  it('refuses a server that answers 0 instead of the verdict 1', async () => {
    const err = await tlsTransport(parseUri(await serve(0)), OPTS).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TlsVerificationError);
    expect((err as TlsVerificationError).failure).toBe('client-rejected');
    expect((err as Error).message).toMatch(/answered 0x00 instead of 0x01/);
  });

  it('refuses a server that closes before its verdict', async () => {
    const err = await tlsTransport(parseUri(await serve(null)), OPTS).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TlsVerificationError);
    expect((err as Error).message).toMatch(/closed the connection without confirming/);
  });
});
