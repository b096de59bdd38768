import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { SaslError } from './errors.js';
import type { SaslCredentials, SaslMechanism } from './mechanism.js';
import { fromUtf8, makeNonce, sameBytes, utf8 } from './util.js';

type Hash = 'sha1' | 'sha256';
const HASH_LEN: Record<Hash, number> = { sha1: 20, sha256: 32 };
/** Refuse absurd iteration counts from a hostile server (each costs us CPU). */
const MAX_ITERATIONS = 10_000_000;

/** RFC 5802 saslname: `=` and `,` escaped; the rest after Unicode normalisation (a SASLprep approximation). */
const saslName = (s: string): string =>
  s.normalize('NFKC').replace(/=/g, '=3D').replace(/,/g, '=2C');

function parseAttributes(msg: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of msg.split(',')) {
    const eq = part.indexOf('=');
    if (eq !== 1) throw new SaslError('malformed SCRAM server message');
    out.set(part[0]!, part.slice(2));
  }
  return out;
}

/**
 * SCRAM-SHA-1 (RFC 5802) and SCRAM-SHA-256 (RFC 7677), without channel
 * binding (`n,,` / `c=biws`) as libvirt uses them; the server signature is
 * verified before the exchange counts as complete. No security layer.
 */
export class ScramMechanism implements SaslMechanism {
  readonly name: string;
  readonly ssf = 0;
  readonly layer = null;
  private state: 'initial' | 'first-sent' | 'final-sent' | 'done' = 'initial';
  private readonly cnonce: string;
  private clientFirstBare = '';
  private serverSignature: Uint8Array | null = null;

  constructor(
    private readonly hash: Hash,
    private readonly creds: SaslCredentials,
    /** Fixed client nonce, for test vectors only. */
    cnonce?: string,
  ) {
    this.name = hash === 'sha1' ? 'SCRAM-SHA-1' : 'SCRAM-SHA-256';
    this.cnonce = cnonce ?? makeNonce();
  }

  get complete(): boolean {
    return this.state === 'done';
  }

  start(): Uint8Array {
    if (this.state !== 'initial') throw new SaslError(`${this.name}: start called twice`);
    this.clientFirstBare = `n=${saslName(this.creds.authname)},r=${this.cnonce}`;
    const gs2 = this.creds.authzid ? `n,a=${saslName(this.creds.authzid)},` : 'n,,';
    this.state = 'first-sent';
    return utf8(gs2 + this.clientFirstBare);
  }

  step(challenge: Uint8Array | null): Uint8Array | null {
    const text = challenge ? fromUtf8(challenge) : null;
    if (text === null) throw new SaslError(`${this.name}: the server sent no or invalid data`);
    if (this.state === 'first-sent') return this.clientFinal(text);
    if (this.state === 'final-sent') {
      this.verifyServerFinal(text);
      return null;
    }
    throw new SaslError(`${this.name}: unexpected server message`);
  }

  private clientFinal(serverFirst: string): Uint8Array {
    const a = parseAttributes(serverFirst);
    if (a.has('m')) throw new SaslError(`${this.name}: unsupported mandatory extension`);
    const nonce = a.get('r');
    const salt = a.get('s');
    const iter = Number(a.get('i'));
    if (
      nonce === undefined ||
      !nonce.startsWith(this.cnonce) ||
      nonce.length === this.cnonce.length
    )
      throw new SaslError(`${this.name}: the server nonce does not extend ours`);
    if (!salt) throw new SaslError(`${this.name}: the server sent no salt`);
    if (!Number.isInteger(iter) || iter < 1 || iter > MAX_ITERATIONS)
      throw new SaslError(`${this.name}: unacceptable iteration count`);
    const h = this.hash;
    const hmac = (key: Uint8Array, s: string): Uint8Array =>
      new Uint8Array(createHmac(h, key).update(s).digest());
    const salted = pbkdf2Sync(
      this.creds.password.normalize('NFKC'),
      Buffer.from(salt, 'base64'),
      iter,
      HASH_LEN[h],
      h,
    );
    const clientKey = hmac(salted, 'Client Key');
    const storedKey = createHash(h).update(clientKey).digest();
    const gs2 = this.creds.authzid ? `n,a=${saslName(this.creds.authzid)},` : 'n,,';
    const withoutProof = `c=${Buffer.from(gs2).toString('base64')},r=${nonce}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const clientSig = hmac(storedKey, authMessage);
    const proof = clientKey.map((b, i) => b ^ clientSig[i]!);
    this.serverSignature = hmac(hmac(salted, 'Server Key'), authMessage);
    this.state = 'final-sent';
    return utf8(`${withoutProof},p=${Buffer.from(proof).toString('base64')}`);
  }

  private verifyServerFinal(serverFinal: string): void {
    const a = parseAttributes(serverFinal);
    const e = a.get('e');
    if (e !== undefined) throw new SaslError(`${this.name}: the server refused: ${e}`);
    const v = a.get('v');
    if (!v || !this.serverSignature || !sameBytes(Buffer.from(v, 'base64'), this.serverSignature))
      throw new SaslError(`${this.name}: the server signature does not verify`);
    this.state = 'done';
  }
}
