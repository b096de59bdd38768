import {
  type Cipher,
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  type Decipher,
} from 'node:crypto';
import { SaslError } from './errors.js';
import type { SaslCredentials, SaslMechanism, SecurityLayer } from './mechanism.js';
import { Rc4 } from './rc4.js';
import { concat, fromUtf8, makeNonce, sameBytes, utf8 } from './util.js';

/** Quality of protection (RFC 2831 §2.1.2.1). */
export type DigestQop = 'auth' | 'auth-int' | 'auth-conf';
/** The ciphers implemented here: those a stock Cyrus server offers at SSF >= 56, plus rc4-40. */
export type DigestCipher = 'rc4' | '3des' | 'rc4-56' | 'rc4-40';

interface CipherInfo {
  readonly ssf: number;
  /** Bytes of H(A1) the sealing keys are derived from (Cyrus: 16, 7, 5). */
  readonly keyBytes: number;
}
const CIPHERS: Record<DigestCipher, CipherInfo> = {
  rc4: { ssf: 128, keyBytes: 16 },
  '3des': { ssf: 112, keyBytes: 16 },
  'rc4-56': { ssf: 56, keyBytes: 7 },
  'rc4-40': { ssf: 40, keyBytes: 5 },
};
/** Strongest first. */
const CIPHER_ORDER: readonly DigestCipher[] = ['rc4', '3des', 'rc4-56', 'rc4-40'];
const DEFAULT_MAXBUF = 65536;
/** Bytes a wrapped buffer adds: MAC 10, type 2, sequence 4, up to 8 of padding, the length word. */
const OVERHEAD = 10 + 2 + 4 + 8 + 4;

export interface DigestMd5Options {
  /** Service name of digest-uri (libvirt: `libvirt`). */
  readonly service: string;
  /** Host name of digest-uri: the host of the URI. */
  readonly host: string;
  /** Weakest acceptable security strength; 0 when the channel is already secure. */
  readonly minSsf: number;
  /** Strongest wanted; 0 asks for no security layer (qop=auth), as libvirt on TLS or unix. */
  readonly maxSsf: number;
  /** Force a protection level or cipher (tests); otherwise the strongest within minSsf..maxSsf. */
  readonly qop?: DigestQop;
  readonly cipher?: DigestCipher;
  /** Fixed cnonce, for test vectors only. */
  readonly cnonce?: string;
}

/** Parses a digest-challenge: `key=value` or `key="quoted"` pairs separated by commas. */
export function parseDigestChallenge(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let i = 0;
  const n = text.length;
  const skip = (): void => {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\r' || text[i] === '\n'))
      i++;
  };
  while (i < n) {
    skip();
    if (text[i] === ',') {
      i++;
      continue;
    }
    if (i >= n) break;
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new SaslError('DIGEST-MD5: malformed challenge');
    const key = text.slice(i, eq).trim().toLowerCase();
    i = eq + 1;
    skip();
    let value = '';
    if (text[i] === '"') {
      i++;
      while (i < n && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < n) i++;
        value += text[i];
        i++;
      }
      if (i >= n) throw new SaslError('DIGEST-MD5: unterminated quoted string in challenge');
      i++;
    } else {
      const end = text.indexOf(',', i);
      value = text.slice(i, end < 0 ? n : end).trim();
      i = end < 0 ? n : end;
    }
    if (!key) throw new SaslError('DIGEST-MD5: malformed challenge');
    const list = out.get(key);
    if (list) list.push(value);
    else out.set(key, [value]);
  }
  return out;
}

const quote = (s: string): string => `"${s.replace(/(["\\])/g, '\\$1')}"`;
const md5 = (...parts: (Uint8Array | string)[]): Buffer => {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest();
};
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/**
 * DIGEST-MD5 (RFC 2831) client, with the integrity (auth-int) and
 * confidentiality (auth-conf) layers: HMAC-MD5 MACs over sequence numbers,
 * and rc4 (own implementation) or 3des (des-ede3-cbc) encryption. libvirt
 * needs a layer of SSF >= 56 for SASL over plain TCP, which on a stock Cyrus
 * server means exactly this mechanism.
 */
export class DigestMd5Mechanism implements SaslMechanism {
  readonly name = 'DIGEST-MD5';
  private state: 'initial' | 'response-sent' | 'done' = 'initial';
  private expectedRspauth = '';
  private ha1: Buffer = Buffer.alloc(0);
  private qop: DigestQop = 'auth';
  private cipher: DigestCipher | null = null;
  private serverMaxbuf = DEFAULT_MAXBUF;
  layer: SecurityLayer | null = null;

  constructor(
    private readonly creds: SaslCredentials,
    private readonly opts: DigestMd5Options,
  ) {}

  get complete(): boolean {
    return this.state === 'done';
  }

  get ssf(): number {
    if (this.qop === 'auth-conf' && this.cipher) return CIPHERS[this.cipher].ssf;
    return this.qop === 'auth-int' ? 1 : 0;
  }

  /** The chosen protection and cipher (after the first step). */
  get negotiated(): { qop: DigestQop; cipher: DigestCipher | null } {
    return { qop: this.qop, cipher: this.cipher };
  }

  start(): null {
    return null; // DIGEST-MD5 has no initial response: the server speaks first
  }

  step(challenge: Uint8Array | null): Uint8Array | null {
    const text = challenge ? fromUtf8(challenge) : null;
    if (this.state === 'initial') {
      if (text === null) throw new SaslError('DIGEST-MD5: the server sent no challenge');
      return this.respond(parseDigestChallenge(text));
    }
    if (this.state === 'response-sent') {
      if (text === null) throw new SaslError('DIGEST-MD5: the server sent no rspauth');
      const r = parseDigestChallenge(text).get('rspauth')?.[0];
      if (r === undefined || !sameBytes(utf8(r.toLowerCase()), utf8(this.expectedRspauth)))
        throw new SaslError('DIGEST-MD5: the server response (rspauth) does not verify');
      this.state = 'done';
      this.layer = this.makeLayer();
      return null;
    }
    throw new SaslError('DIGEST-MD5: unexpected server message');
  }

  private choose(c: Map<string, string[]>): void {
    const qops = (c.get('qop')?.[0] ?? 'auth').split(',').map((s) => s.trim());
    const ciphers = (c.get('cipher')?.[0] ?? '').split(',').map((s) => s.trim());
    const { minSsf, maxSsf } = this.opts;
    if (this.opts.qop) {
      if (!qops.includes(this.opts.qop))
        throw new SaslError(`DIGEST-MD5: the server does not offer qop ${this.opts.qop}`);
      this.qop = this.opts.qop;
    } else if (maxSsf > 1 && qops.includes('auth-conf')) {
      this.qop = 'auth-conf';
    } else if (maxSsf >= 1 && minSsf <= 1 && qops.includes('auth-int')) {
      this.qop = 'auth-int';
    } else if (qops.includes('auth')) {
      this.qop = 'auth';
    } else if (qops.includes('auth-int')) {
      this.qop = 'auth-int';
    } else {
      throw new SaslError(`DIGEST-MD5: no acceptable protection among ${qops.join(', ')}`);
    }
    if (this.qop === 'auth-conf') {
      const want = this.opts.cipher;
      const pick = want
        ? ciphers.includes(want)
          ? want
          : undefined
        : CIPHER_ORDER.find((x) => ciphers.includes(x) && CIPHERS[x].ssf <= Math.max(maxSsf, 56));
      if (!pick) {
        throw new SaslError(
          `DIGEST-MD5: no supported cipher among ${ciphers.join(', ') || 'none'} (supported: ${CIPHER_ORDER.join(', ')})`,
        );
      }
      this.cipher = pick;
    }
    if (this.ssf < minSsf) {
      throw new SaslError(
        `DIGEST-MD5: the server offers no protection of strength ${minSsf} or more (best ${this.ssf})`,
      );
    }
  }

  private respond(c: Map<string, string[]>): Uint8Array {
    const nonce = c.get('nonce')?.[0];
    if (!nonce) throw new SaslError('DIGEST-MD5: the challenge has no nonce');
    const algorithm = c.get('algorithm')?.[0];
    if (algorithm !== 'md5-sess')
      throw new SaslError('DIGEST-MD5: the challenge does not ask for algorithm=md5-sess');
    if ((c.get('nonce')?.length ?? 0) > 1 || (c.get('charset')?.length ?? 0) > 1)
      throw new SaslError('DIGEST-MD5: malformed challenge (repeated directive)');
    const mb = c.get('maxbuf')?.[0];
    if (mb !== undefined) {
      const v = Number(mb);
      if (!Number.isInteger(v) || v < 64) throw new SaslError('DIGEST-MD5: bad maxbuf');
      this.serverMaxbuf = Math.min(v, 16 * 1024 * 1024);
    }
    this.choose(c);
    const utf8Charset = c.get('charset')?.[0]?.toLowerCase() === 'utf-8';
    const realm = c.get('realm')?.[0] ?? '';
    const cnonce = this.opts.cnonce ?? makeNonce(24);
    const nc = '00000001';
    const digestUri = `${this.opts.service}/${this.opts.host}`;
    const { authname, password, authzid } = this.creds;
    // Without charset=utf-8 the server expects ISO 8859-1 where the text allows it.
    const enc = (s: string): Uint8Array =>
      utf8Charset || /^[\0-\x7f]*$/.test(s) || /[^\0-\xff]/.test(s)
        ? utf8(s)
        : Buffer.from(s, 'latin1');
    const inner = md5(enc(authname), ':', enc(realm), ':', enc(password));
    this.ha1 = authzid
      ? md5(inner, `:${nonce}:${cnonce}:`, utf8(authzid))
      : md5(inner, `:${nonce}:${cnonce}`);
    const a2suffix = this.qop === 'auth' ? '' : ':00000000000000000000000000000000';
    const kd = (a2: string): string =>
      hex(md5(`${hex(this.ha1)}:${nonce}:${nc}:${cnonce}:${this.qop}:${hex(md5(a2))}`));
    const response = kd(`AUTHENTICATE:${digestUri}${a2suffix}`);
    this.expectedRspauth = kd(`:${digestUri}${a2suffix}`);
    const fields = [
      ...(utf8Charset ? ['charset=utf-8'] : []),
      `username=${quote(authname)}`,
      ...(c.has('realm') ? [`realm=${quote(realm)}`] : []),
      `nonce=${quote(nonce)}`,
      `nc=${nc}`,
      `cnonce=${quote(cnonce)}`,
      `digest-uri=${quote(digestUri)}`,
      `response=${response}`,
      `qop=${this.qop}`,
      ...(this.cipher ? [`cipher=${this.cipher}`] : []),
      ...(authzid ? [`authzid=${quote(authzid)}`] : []),
    ];
    this.state = 'response-sent';
    return utf8(fields.join(','));
  }

  private makeLayer(): SecurityLayer | null {
    if (this.qop === 'auth') return null;
    return new DigestLayer(this.ha1, this.qop, this.cipher, this.serverMaxbuf);
  }
}

const MAGIC = {
  kic: 'Digest session key to client-to-server signing key magic constant',
  kis: 'Digest session key to server-to-client signing key magic constant',
  kcc: 'Digest H(A1) to client-to-server sealing key magic constant',
  kcs: 'Digest H(A1) to server-to-client sealing key magic constant',
};

interface Crypt {
  readonly block: number;
  run(data: Uint8Array): Uint8Array;
}

/** Cyrus spreads 7 key bytes over 8 DES key bytes (the low bit of each is parity, ignored). */
function desKey(k: Uint8Array): Buffer {
  const b = (i: number): number => k[i] ?? 0;
  return Buffer.from([
    b(0),
    ((b(0) << 7) | (b(1) >> 1)) & 0xff,
    ((b(1) << 6) | (b(2) >> 2)) & 0xff,
    ((b(2) << 5) | (b(3) >> 3)) & 0xff,
    ((b(3) << 4) | (b(4) >> 4)) & 0xff,
    ((b(4) << 3) | (b(5) >> 5)) & 0xff,
    ((b(5) << 2) | (b(6) >> 6)) & 0xff,
    (b(6) << 1) & 0xff,
  ]);
}

function makeCrypt(cipher: DigestCipher, key: Uint8Array, encrypt: boolean): Crypt {
  if (cipher !== '3des') {
    const rc4 = new Rc4(key);
    return { block: 1, run: (d) => rc4.process(d) };
  }
  const k1 = desKey(key.subarray(0, 7));
  const k2 = desKey(key.subarray(7, 14));
  const iv = key.subarray(8, 16);
  // Two-key triple DES (K1, K2, K1); CBC state carries over from one buffer to the next.
  const c: Cipher | Decipher = encrypt
    ? createCipheriv('des-ede3-cbc', Buffer.concat([k1, k2, k1]), iv)
    : createDecipheriv('des-ede3-cbc', Buffer.concat([k1, k2, k1]), iv);
  c.setAutoPadding(false);
  return { block: 8, run: (d) => new Uint8Array(c.update(d)) };
}

/** The auth-int / auth-conf layer of RFC 2831 §2.3 and §2.4. */
export class DigestLayer implements SecurityLayer {
  readonly maxPlain: number;
  /** Signing key of what we send (Kic on the client) and of what we receive (Kis). */
  private readonly kic: Buffer;
  private readonly kis: Buffer;
  private readonly enc: Crypt | null = null;
  private readonly dec: Crypt | null = null;
  private sendSeq = 0;
  private recvSeq = 0;

  constructor(
    ha1: Uint8Array,
    readonly qop: 'auth-int' | 'auth-conf',
    cipher: DigestCipher | null,
    serverMaxbuf: number,
    /** The server's end of the same layer (tests): keys swapped. */
    side: 'client' | 'server' = 'client',
  ) {
    const client = side === 'client';
    this.kic = md5(ha1, client ? MAGIC.kic : MAGIC.kis);
    this.kis = md5(ha1, client ? MAGIC.kis : MAGIC.kic);
    if (qop === 'auth-conf') {
      if (!cipher) throw new SaslError('DIGEST-MD5: auth-conf without a cipher');
      const part = ha1.subarray(0, CIPHERS[cipher].keyBytes);
      this.enc = makeCrypt(cipher, md5(part, client ? MAGIC.kcc : MAGIC.kcs), true);
      this.dec = makeCrypt(cipher, md5(part, client ? MAGIC.kcs : MAGIC.kcc), false);
    }
    this.maxPlain = serverMaxbuf - OVERHEAD;
  }

  private mac(key: Buffer, seq: number, msg: Uint8Array): Uint8Array {
    const s = Buffer.alloc(4);
    s.writeUInt32BE(seq >>> 0);
    return new Uint8Array(createHmac('md5', key).update(s).update(msg).digest().subarray(0, 10));
  }

  wrap(plain: Uint8Array): Uint8Array {
    if (plain.length > this.maxPlain)
      throw new SaslError(`DIGEST-MD5: ${plain.length} bytes exceed the layer's buffer`);
    const seq = this.sendSeq;
    this.sendSeq = (this.sendSeq + 1) >>> 0;
    const mac = this.mac(this.kic, seq, plain);
    let body: Uint8Array;
    if (this.enc) {
      const padLen = this.enc.block === 1 ? 0 : 8 - ((plain.length + 10) % 8);
      body = this.enc.run(concat(plain, new Uint8Array(padLen).fill(padLen), mac));
    } else {
      body = concat(plain, mac);
    }
    const out = new Uint8Array(4 + body.length + 6);
    const v = new DataView(out.buffer);
    v.setUint32(0, body.length + 6);
    out.set(body, 4);
    v.setUint16(4 + body.length, 1);
    v.setUint32(4 + body.length + 2, seq);
    return out;
  }

  unwrap(frame: Uint8Array): Uint8Array {
    const v = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    if (frame.length < 4 + 16 || v.getUint32(0) !== frame.length - 4)
      throw new SaslError('DIGEST-MD5: malformed security layer buffer');
    const end = frame.length;
    if (v.getUint16(end - 6) !== 1)
      throw new SaslError('DIGEST-MD5: bad security layer message type');
    const seq = v.getUint32(end - 4);
    if (seq !== this.recvSeq)
      throw new SaslError('DIGEST-MD5: security layer sequence number out of order');
    const body = frame.subarray(4, end - 6);
    let msg: Uint8Array;
    let mac: Uint8Array;
    if (this.dec) {
      if (body.length % this.dec.block !== 0)
        throw new SaslError('DIGEST-MD5: encrypted buffer is not a whole number of blocks');
      const pt = this.dec.run(body);
      mac = pt.subarray(pt.length - 10);
      let len = pt.length - 10;
      if (this.dec.block > 1) {
        const pad = pt[len - 1] ?? 0;
        if (pad < 1 || pad > 8 || pad > len) throw new SaslError('DIGEST-MD5: bad padding');
        len -= pad;
      }
      msg = pt.subarray(0, len);
    } else {
      msg = body.subarray(0, body.length - 10);
      mac = body.subarray(body.length - 10);
    }
    if (!sameBytes(mac, this.mac(this.kis, seq, msg)))
      throw new SaslError('DIGEST-MD5: security layer MAC does not verify');
    this.recvSeq = (this.recvSeq + 1) >>> 0;
    return msg;
  }
}
