/**
 * Connection failures as a user reads them, in-process: a port that accepts
 * and never answers runs into the connect timeout, a server that greets in
 * another protocol is named as not a libvirt daemon, and a URI that does not
 * parse is a usage error (exit 2) without class names.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONNECT_TIMEOUT_S } from '../../../src/cli/constants.js';
import { CliContext } from '../../../src/cli/context.js';
import { EXIT_FAILURE, EXIT_USAGE } from '../../../src/cli/errors.js';
import { run } from '../../../src/cli/program.js';
import { NotLibvirtError, ProtocolError } from '../../../src/index.js';
import { Framer } from '../../../src/rpc/framer.js';
import { captureIo } from '../../helpers/cli.js';

const io = captureIo;

const BANNER = 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n';
let sshd: net.Server;
let mute: net.Server;
const sockets = new Set<net.Socket>();
const listen = (onConn: (s: net.Socket) => void): Promise<net.Server> =>
  new Promise((resolve) => {
    const srv = net.createServer((s) => {
      sockets.add(s);
      s.on('error', () => {});
      onConn(s);
    });
    srv.listen(0, '127.0.0.1', () => resolve(srv));
  });
const port = (s: net.Server): number => (s.address() as net.AddressInfo).port;

beforeAll(async () => {
  sshd = await listen((s) => s.write(BANNER));
  mute = await listen(() => {});
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all([sshd, mute].map((s) => new Promise((r) => s.close(r))));
});

describe('connection errors', () => {
  it('names a server that is not a libvirt daemon, showing what it sent', async () => {
    const o = io();
    const code = await run(['-c', `qemu+tcp://127.0.0.1:${port(sshd)}/system`, 'list'], o);
    expect(code).toBe(EXIT_FAILURE);
    expect(o.errText()).toBe(
      `error: failed to connect to qemu+tcp://127.0.0.1:${port(sshd)}/system: this is not a libvirt daemon (it sent "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\\r\\n")\n`,
    );
  });

  it('gives up on a port that never answers after --connect-timeout', async () => {
    const o = io();
    const t0 = performance.now();
    const code = await run(
      ['--connect-timeout', '0.3', '-c', `qemu+tcp://127.0.0.1:${port(mute)}/system`, 'list'],
      o,
    );
    const took = performance.now() - t0;
    expect(code).toBe(EXIT_FAILURE);
    expect(o.errText()).toContain('no answer within 300 ms (--connect-timeout sets the limit)');
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(10_000);
  });

  it('has a connect timeout by default, which --connect-timeout changes and 0 turns off', () => {
    const ctx = (connectTimeout?: number) =>
      new CliContext(io(), connectTimeout === undefined ? {} : { connectTimeout });
    expect(DEFAULT_CONNECT_TIMEOUT_S).toBeGreaterThan(0);
    expect(ctx().connectTimeoutMs).toBe(DEFAULT_CONNECT_TIMEOUT_S * 1000);
    expect(ctx(2.5).connectTimeoutMs).toBe(2500);
    expect(ctx(0).connectTimeoutMs).toBeUndefined();
  });

  it('refuses a bad --connect-timeout before connecting', async () => {
    const o = io();
    expect(await run(['--connect-timeout', 'soon', 'list'], o)).toBe(EXIT_USAGE);
    expect(o.errText()).toContain('expected a number >= 0');
  });

  it.each([
    ['qemu+bogus://x/system', 'unknown transport "bogus"'],
    ['qemu+tcp://host:99999/system', 'port 99999'],
  ])('treats the bad URI %s as a usage error (exit 2)', async (uri, why) => {
    const o = io();
    expect(await run(['-c', uri, 'list'], o)).toBe(EXIT_USAGE);
    // the same for every kind of command: a virsh one, a generic one
    expect(await run(['-c', uri, 'net-list'], io())).toBe(EXIT_USAGE);
    expect(await run(['-c', uri, 'node', 'getInfo'], io())).toBe(EXIT_USAGE);
    expect(o.errText()).toMatch(/^error: invalid URI: /);
    expect(o.errText()).toContain(why);
    expect(o.errText()).not.toContain('UriError');
  });
});

describe('the framer on a foreign greeting', () => {
  it('reports text where the first length word should be, in one chunk or split', () => {
    const bytes = new TextEncoder().encode('HTTP/1.1 400 Bad Request\r\n');
    const whole = ((): unknown => {
      try {
        new Framer(() => {}).push(bytes);
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    expect(whole).toBeInstanceOf(NotLibvirtError);
    expect(whole).toBeInstanceOf(ProtocolError);
    expect((whole as Error).message).toBe(
      'this is not a libvirt daemon (it sent "HTTP/1.1 400 Bad Request\\r\\n")',
    );
    const f = new Framer(() => {});
    f.push(bytes.subarray(0, 2));
    expect(() => f.push(bytes.subarray(2))).toThrow(NotLibvirtError);
  });

  it('keeps the plain length error once a libvirt message has been seen', () => {
    const f = new Framer(() => {});
    const ok = new Uint8Array(28);
    ok[3] = 28;
    f.push(ok);
    expect(() => f.push(new TextEncoder().encode('SSH-2.0'))).toThrow(/exceeds the maximum/);
  });
});
