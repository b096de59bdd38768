/**
 * SASL mechanisms against their RFC test vectors (RFC 5802, 7677, 2831,
 * 6229), the DIGEST-MD5 security layer in both directions, the layer's wire
 * framing, and libvirt's mechanism choice rules.
 */
import { randomBytes } from 'node:crypto';
import { Duplex, PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  DigestLayer,
  DigestMd5Mechanism,
  parseDigestChallenge,
} from '../../../src/auth/sasl/digest-md5.js';
import { SaslError } from '../../../src/auth/sasl/errors.js';
import { LayerFramer, SecurityLayerChannel } from '../../../src/auth/sasl/layer.js';
import { PlainMechanism } from '../../../src/auth/sasl/plain.js';
import { Rc4 } from '../../../src/auth/sasl/rc4.js';
import { ScramMechanism } from '../../../src/auth/sasl/scram.js';
import { chooseMechanism, runSasl, type SaslCalls } from '../../../src/auth/sasl/session.js';
import { bytesFromXdrChars, xdrCharsFromBytes } from '../../../src/auth/sasl/util.js';
import { duplexChannel } from '../../../src/channel.js';

const text = (b: Uint8Array | null): string => Buffer.from(b ?? []).toString('utf8');
const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('SCRAM', () => {
  it('RFC 5802 §5 SCRAM-SHA-1 example', () => {
    const m = new ScramMechanism(
      'sha1',
      { authname: 'user', password: 'pencil' },
      'fyko+d2lbbFgONRv9qkxdawL',
    );
    expect(m.name).toBe('SCRAM-SHA-1');
    expect(text(m.start())).toBe('n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL');
    const final = m.step(
      bytes('r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096'),
    );
    expect(text(final)).toBe(
      'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=',
    );
    expect(m.complete).toBe(false);
    expect(m.step(bytes('v=rmF9pqV8S7suAoZWja4dJRkFsKQ='))).toBeNull();
    expect(m.complete).toBe(true);
    expect(m.ssf).toBe(0);
    expect(m.layer).toBeNull();
  });

  const sha256 = (): ScramMechanism => {
    const m = new ScramMechanism(
      'sha256',
      { authname: 'user', password: 'pencil' },
      'rOprNGfwEbeRWgbNEkqO',
    );
    expect(text(m.start())).toBe('n,,n=user,r=rOprNGfwEbeRWgbNEkqO');
    const final = m.step(
      bytes(
        'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
      ),
    );
    expect(text(final)).toBe(
      'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
    );
    return m;
  };

  it('RFC 7677 §3 SCRAM-SHA-256 example', () => {
    const m = sha256();
    m.step(bytes('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='));
    expect(m.complete).toBe(true);
  });

  it('refuses a forged server signature, a server error, a nonce not extending ours', () => {
    expect(() => sha256().step(bytes('v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='))).toThrow(
      SaslError,
    );
    expect(() => sha256().step(bytes('e=invalid-proof'))).toThrow(/invalid-proof/);
    const m = new ScramMechanism('sha256', { authname: 'u', password: 'p' }, 'abc');
    m.start();
    expect(() => m.step(bytes('r=xyz123,s=QSXCR+Q6sek8bf92,i=4096'))).toThrow(/nonce/);
    const n = new ScramMechanism('sha256', { authname: 'u', password: 'p' }, 'abc');
    n.start();
    expect(() => n.step(bytes('r=abcdef,s=QSXCR+Q6sek8bf92,i=0'))).toThrow(/iteration/);
  });

  it('escapes = and , in the user name', () => {
    const m = new ScramMechanism('sha1', { authname: 'a=b,c', password: 'p' }, 'N');
    expect(text(m.start())).toBe('n,,n=a=3Db=2Cc,r=N');
  });
});

describe('PLAIN', () => {
  it('sends authzid NUL authcid NUL password (RFC 4616)', () => {
    const m = new PlainMechanism({ authname: 'tim', password: 'tanstaaftanstaaf' });
    expect(hex(m.start())).toBe(hex(bytes('\0tim\0tanstaaftanstaaf')));
    expect(m.complete).toBe(true);
    const z = new PlainMechanism({ authname: 'Kurt', password: 'xipj3plmq', authzid: 'Ursel' });
    expect(text(z.start())).toBe('Ursel\0Kurt\0xipj3plmq');
  });
});

describe('RC4 (RFC 6229)', () => {
  it('40-bit key 0102030405, first 16 bytes of keystream', () => {
    const ks = new Rc4(Uint8Array.from([1, 2, 3, 4, 5])).process(new Uint8Array(16));
    expect(hex(ks)).toBe('b2396305f03dc027ccc3524a0a1118a8');
  });
  it('128-bit key 0102..10, keystream continues across calls', () => {
    const key = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
    const r = new Rc4(key);
    const a = r.process(new Uint8Array(5));
    const b = r.process(new Uint8Array(11));
    expect(hex(a) + hex(b)).toBe('9ac7cc9a609d1ef7b2932899cde41b97');
  });
  it('classic vectors', () => {
    expect(hex(new Rc4(bytes('Key')).process(bytes('Plaintext')))).toBe('bbf316e8d940af0ad3');
    expect(hex(new Rc4(bytes('Secret')).process(bytes('Attack at dawn')))).toBe(
      '45a01f645fc35b383552544b9bf5',
    );
  });
});

describe('DIGEST-MD5', () => {
  const challenge =
    'realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",qop="auth",algorithm=md5-sess,charset=utf-8';

  it('RFC 2831 §4 example: response and rspauth', () => {
    const m = new DigestMd5Mechanism(
      { authname: 'chris', password: 'secret' },
      {
        service: 'imap',
        host: 'elwood.innosoft.com',
        minSsf: 0,
        maxSsf: 0,
        cnonce: 'OA6MHXh6VqTrRk',
      },
    );
    expect(m.start()).toBeNull();
    const resp = text(m.step(bytes(challenge)));
    const f = parseDigestChallenge(resp);
    expect(f.get('response')).toEqual(['d388dad90d4bbd760a152321f2143af7']);
    expect(f.get('username')).toEqual(['chris']);
    expect(f.get('realm')).toEqual(['elwood.innosoft.com']);
    expect(f.get('digest-uri')).toEqual(['imap/elwood.innosoft.com']);
    expect(f.get('nc')).toEqual(['00000001']);
    expect(f.get('qop')).toEqual(['auth']);
    expect(f.get('cnonce')).toEqual(['OA6MHXh6VqTrRk']);
    expect(m.complete).toBe(false);
    expect(m.step(bytes('rspauth=ea40f60335c427b5527b84dbabcdfffd'))).toBeNull();
    expect(m.complete).toBe(true);
    expect(m.layer).toBeNull();
    expect(m.ssf).toBe(0);
  });

  it('refuses a wrong rspauth', () => {
    const m = new DigestMd5Mechanism(
      { authname: 'chris', password: 'secret' },
      {
        service: 'imap',
        host: 'elwood.innosoft.com',
        minSsf: 0,
        maxSsf: 0,
        cnonce: 'OA6MHXh6VqTrRk',
      },
    );
    m.step(bytes(challenge));
    expect(() => m.step(bytes('rspauth=00000000000000000000000000000000'))).toThrow(/rspauth/);
  });

  const libvirtChallenge =
    'realm="host",nonce="abc",qop="auth,auth-int,auth-conf",cipher="rc4-40,rc4-56,rc4,des,3des",maxbuf=65536,charset=utf-8,algorithm=md5-sess';

  it('picks auth-conf with rc4 when a layer of SSF >= 56 is required (as on libvirt plain TCP)', () => {
    const m = new DigestMd5Mechanism(
      { authname: 'alice', password: 'pw' },
      { service: 'libvirt', host: '127.0.0.4', minSsf: 56, maxSsf: 100000 },
    );
    const f = parseDigestChallenge(text(m.step(bytes(libvirtChallenge))));
    expect(f.get('qop')).toEqual(['auth-conf']);
    expect(f.get('cipher')).toEqual(['rc4']);
    expect(f.get('digest-uri')).toEqual(['libvirt/127.0.0.4']);
    expect(m.ssf).toBe(128);
  });

  it('asks for no layer on a secure channel, and fails when no cipher is strong enough', () => {
    const m = new DigestMd5Mechanism(
      { authname: 'alice', password: 'pw' },
      { service: 'libvirt', host: 'h', minSsf: 0, maxSsf: 0 },
    );
    expect(parseDigestChallenge(text(m.step(bytes(libvirtChallenge)))).get('qop')).toEqual([
      'auth',
    ]);
    const weak = new DigestMd5Mechanism(
      { authname: 'alice', password: 'pw' },
      { service: 'libvirt', host: 'h', minSsf: 56, maxSsf: 100000 },
    );
    expect(() =>
      weak.step(bytes('nonce="n",qop="auth,auth-conf",cipher="rc4-40,des",algorithm=md5-sess')),
    ).toThrow(SaslError);
  });

  it('parses quoted strings with escapes and repeated realms', () => {
    const c = parseDigestChallenge('realm="a\\"b", realm="c",nonce="x,y" , qop=auth');
    expect(c.get('realm')).toEqual(['a"b', 'c']);
    expect(c.get('nonce')).toEqual(['x,y']);
    expect(c.get('qop')).toEqual(['auth']);
  });
});

describe('DIGEST-MD5 security layer', () => {
  const cases = [
    ['auth-int', null],
    ['auth-conf', 'rc4'],
    ['auth-conf', '3des'],
    ['auth-conf', 'rc4-56'],
    ['auth-conf', 'rc4-40'],
  ] as const;
  for (const [qop, cipher] of cases) {
    it(`${qop} ${cipher ?? ''}: wrap/unwrap round trips, both directions, many buffers`, () => {
      const ha1 = randomBytes(16);
      const client = new DigestLayer(ha1, qop, cipher, 65536);
      const server = new DigestLayer(ha1, qop, cipher, 65536, 'server');
      for (let i = 0; i < 20; i++) {
        const msg = randomBytes(i * 37 + (i % 3));
        const up = client.wrap(msg);
        expect(new DataView(up.buffer).getUint32(0)).toBe(up.length - 4);
        if (qop === 'auth-conf' && msg.length > 16)
          expect(Buffer.from(up).includes(msg.subarray(0, 16))).toBe(false);
        expect(hex(server.unwrap(up))).toBe(hex(msg));
        const down = server.wrap(msg);
        expect(hex(client.unwrap(down))).toBe(hex(msg));
      }
    });
    it(`${qop} ${cipher ?? ''}: a flipped bit, a replay, a foreign key are refused`, () => {
      const ha1 = randomBytes(16);
      const client = new DigestLayer(ha1, qop, cipher, 65536);
      const server = new DigestLayer(ha1, qop, cipher, 65536, 'server');
      const a = client.wrap(bytes('hello world, this is a test'));
      const bad = Uint8Array.from(a);
      bad[6]! ^= 1;
      expect(() => server.unwrap(bad)).toThrow(SaslError);
      const s2 = new DigestLayer(ha1, qop, cipher, 65536, 'server');
      s2.unwrap(a);
      expect(() => s2.unwrap(a)).toThrow(/sequence/);
      const other = new DigestLayer(randomBytes(16), qop, cipher, 65536, 'server');
      expect(() => other.unwrap(client.wrap(bytes('x')))).toThrow(SaslError);
    });
  }
  it('refuses a buffer larger than the server accepts', () => {
    const l = new DigestLayer(randomBytes(16), 'auth-int', null, 1024);
    expect(l.maxPlain).toBeLessThan(1024);
    expect(() => l.wrap(new Uint8Array(1024))).toThrow(SaslError);
  });
});

describe('security layer framing', () => {
  it('splits a stream cut at every offset into the same frames', () => {
    const frames = [bytes('abc'), new Uint8Array(0), randomBytes(300), bytes('z')];
    const wire = Buffer.concat(
      frames.map((f) => {
        const b = Buffer.alloc(4 + f.length);
        b.writeUInt32BE(f.length);
        b.set(f, 4);
        return b;
      }),
    );
    for (let cut = 0; cut <= wire.length; cut++) {
      const got: string[] = [];
      const fr = new LayerFramer((f) => got.push(hex(f.subarray(4))));
      fr.push(wire.subarray(0, cut));
      fr.push(wire.subarray(cut));
      expect(got).toEqual(frames.map(hex));
    }
  });

  it('refuses an absurd length before allocating', () => {
    const fr = new LayerFramer(() => {});
    expect(() => fr.push(Uint8Array.from([0x7f, 0xff, 0xff, 0xff]))).toThrow(SaslError);
  });

  it('carries 1 MiB each way through SecurityLayerChannel (rc4), with the peer reading in small chunks', async () => {
    const ha1 = randomBytes(16);
    const toServer = new PassThrough();
    const toClient = new PassThrough();
    const raw = Duplex.from({ writable: toServer, readable: toClient });
    const stream = new SecurityLayerChannel(
      duplexChannel(raw),
      new DigestLayer(ha1, 'auth-conf', 'rc4', 65536),
    );
    const clientGot: Buffer[] = [];
    // the plaintext is lent for the duration of the call: keep a copy
    stream.open({ data: (c) => clientGot.push(Buffer.from(c)), drain: () => {}, end: () => {} });
    const server = new DigestLayer(ha1, 'auth-conf', 'rc4', 65536, 'server');
    const payload = randomBytes(1 << 20);

    const serverGot: Buffer[] = [];
    const sf = new LayerFramer((f) => serverGot.push(Buffer.from(server.unwrap(f))));
    toServer.on('data', (c: Buffer) => {
      for (let i = 0; i < c.length; i += 1000) sf.push(c.subarray(i, i + 1000));
    });
    stream.write(payload);
    await new Promise((r) => setImmediate(r));
    expect(Buffer.concat(serverGot).equals(payload)).toBe(true);

    for (let i = 0; i < payload.length; i += 60000) {
      const w = server.wrap(payload.subarray(i, i + 60000));
      toClient.write(w.subarray(0, 7));
      toClient.write(w.subarray(7));
    }
    await new Promise((r) => setImmediate(r));
    expect(Buffer.concat(clientGot).equals(payload)).toBe(true);
    stream.close();
    expect(raw.destroyed).toBe(true);
  });
});

describe('mechanism choice (libvirt rules)', () => {
  const all = ['GSSAPI', 'PLAIN', 'DIGEST-MD5', 'SCRAM-SHA-1', 'SCRAM-SHA-256'];
  it('prefers SCRAM-SHA-256 > SCRAM-SHA-1 > DIGEST-MD5 > PLAIN on a secure channel', () => {
    expect(chooseMechanism(all, undefined, true)).toBe('SCRAM-SHA-256');
    expect(chooseMechanism(['PLAIN', 'SCRAM-SHA-1'], undefined, true)).toBe('SCRAM-SHA-1');
    expect(chooseMechanism(['PLAIN', 'DIGEST-MD5'], undefined, true)).toBe('DIGEST-MD5');
    expect(chooseMechanism(['PLAIN'], undefined, true)).toBe('PLAIN');
  });
  it('on plain TCP only a mechanism with a security layer qualifies', () => {
    expect(chooseMechanism(all, undefined, false)).toBe('DIGEST-MD5');
    expect(() => chooseMechanism(['PLAIN', 'SCRAM-SHA-256'], undefined, false)).toThrow(
      /security layer/,
    );
    expect(() => chooseMechanism(all, 'PLAIN', false)).toThrow(/SSF >= 56/);
  });
  it('auth=sasl.MECH is case-sensitive and must be ours and offered', () => {
    expect(chooseMechanism(all, 'SCRAM-SHA-1', true)).toBe('SCRAM-SHA-1');
    expect(() => chooseMechanism(all, 'GSSAPI', true)).toThrow(
      'SASL mechanism GSSAPI not supported; supported: SCRAM-SHA-256, SCRAM-SHA-1, DIGEST-MD5, PLAIN',
    );
    expect(() => chooseMechanism(all, 'scram-sha-1', true)).toThrow(/not supported/);
    expect(() => chooseMechanism(['PLAIN'], 'SCRAM-SHA-1', true)).toThrow(
      /not supported by server/,
    );
  });
});

describe('SASL data on the wire', () => {
  it('travels as signed chars and comes back as bytes', () => {
    const b = Uint8Array.from([0, 1, 127, 128, 200, 255]);
    expect(xdrCharsFromBytes(b)).toEqual([0, 1, 127, -128, -56, -1]);
    expect(Array.from(bytesFromXdrChars([0, 1, 127, -128, -56, -1]))).toEqual(Array.from(b));
    expect(Array.from(bytesFromXdrChars([255, 128]))).toEqual([255, 128]);
  });

  it('runSasl drives SCRAM against a scripted server and verifies its signature', async () => {
    // The RFC 7677 exchange, with the client nonce the scripted server expects.
    const serverFirst =
      'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';
    const seen: string[] = [];
    const calls: SaslCalls = {
      init: async () => ({ mechlist: 'DIGEST-MD5,SCRAM-SHA-256' }),
      start: async (a) => {
        seen.push(`${a.mech} ${text(bytesFromXdrChars(a.data))}`);
        return { complete: 0, nil: 0, data: xdrCharsFromBytes(bytes(serverFirst)) };
      },
      step: async () => ({
        complete: 1,
        nil: 0,
        data: xdrCharsFromBytes(bytes('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')),
      }),
    };
    // A random nonce cannot match the scripted server-first: expect the nonce check to fire.
    await expect(
      runSasl(calls, {
        host: 'h',
        secure: true,
        credentials: async () => ({ authname: 'user', password: 'pencil' }),
      }),
    ).rejects.toThrow(/nonce/);
    expect(seen[0]).toMatch(/^SCRAM-SHA-256 n,,n=user,r=/);
  });
});
