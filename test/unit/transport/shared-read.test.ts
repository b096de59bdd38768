import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { unixTransport } from '../../../src/transport/index.js';
import { READ_BUFFER } from '../../../src/transport/shared-read.js';
import { tcpTransport } from '../../../src/transport/tcp.js';
import { parseUri } from '../../../src/uri/index.js';
import { collect, writeInPieces } from '../../helpers/byte-peers.js';

/** Bytes a peer sends: a pattern that tells the sender and the offset apart. */
function pattern(seed: number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

const OPTS = { readonly: false } as const;
const servers: Server[] = [];
let dir: string | null = null;
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = null;
});

/** A server that writes `bytes` in pieces of varied sizes, then ends. */
function serve(
  bytes: Buffer,
  where: { port: 0; host: string } | { path: string },
): Promise<Server> {
  const server = createServer((s: Socket) =>
    writeInPieces(s, bytes, [1, 4093, 65536, READ_BUFFER + 7]),
  );
  servers.push(server);
  return new Promise((resolve) => server.listen(where, () => resolve(server)));
}

describe('tcp and unix transports read into one shared buffer', () => {
  it('delivers two concurrent connections intact, one tcp and one unix', async () => {
    dir = mkdtempSync(join(tmpdir(), 'vw-shared-read-'));
    const path = join(dir, 'sock');
    const a = pattern(1, 5 * READ_BUFFER + 12_345);
    const b = pattern(2, 4 * READ_BUFFER + 777);
    const tcp = await serve(a, { port: 0, host: '127.0.0.1' });
    await serve(b, { path });
    const port = (tcp.address() as { port: number }).port;
    const [ca, cb] = await Promise.all([
      tcpTransport(parseUri(`qemu+tcp://127.0.0.1:${port}/system`), OPTS),
      unixTransport(parseUri(`qemu+unix:///system?socket=${path}`), OPTS),
    ]);
    const [ra, rb] = await Promise.all([collect(ca), collect(cb)]);
    expect(ra.length).toBe(a.length);
    expect(rb.length).toBe(b.length);
    expect(ra.equals(a)).toBe(true);
    expect(rb.equals(b)).toBe(true);
  });

  it('holds the peer back while paused and delivers everything after resume', async () => {
    dir = mkdtempSync(join(tmpdir(), 'vw-shared-read-'));
    const path = join(dir, 'sock');
    const b = pattern(3, 3 * READ_BUFFER);
    await serve(b, { path });
    const ch = await unixTransport(parseUri(`qemu+unix:///system?socket=${path}`), OPTS);
    const parts: Buffer[] = [];
    let seen = 0;
    const ended = new Promise<void>((resolve, reject) => {
      ch.open({
        data: (chunk) => {
          parts.push(Buffer.from(chunk));
          seen += chunk.length;
          if (seen > 0 && parts.length === 1) ch.pause();
        },
        drain: () => {},
        end: (err) => (err ? reject(err) : resolve()),
      });
    });
    await new Promise((r) => setTimeout(r, 100));
    const whilePaused = seen;
    expect(whilePaused).toBeLessThan(b.length);
    ch.resume();
    await ended;
    expect(Buffer.concat(parts).equals(b)).toBe(true);
  });
});
