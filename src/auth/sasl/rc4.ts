/**
 * RC4 keystream (ARCFOUR), needed for DIGEST-MD5's rc4 ciphers: OpenSSL 3
 * moved rc4 to its legacy provider, which Node does not load. One instance
 * keeps its state across calls, as one direction of a DIGEST-MD5 layer does.
 */
export class Rc4 {
  private readonly s = new Uint8Array(256);
  private i = 0;
  private j = 0;

  constructor(key: Uint8Array) {
    if (key.length === 0 || key.length > 256) throw new RangeError('RC4 key must be 1..256 bytes');
    const s = this.s;
    for (let k = 0; k < 256; k++) s[k] = k;
    let j = 0;
    for (let k = 0; k < 256; k++) {
      const t = s[k]!;
      j = (j + t + key[k % key.length]!) & 0xff;
      s[k] = s[j]!;
      s[j] = t;
    }
  }

  /** XORs `data` with the next bytes of keystream into a new array (encrypts and decrypts). */
  process(data: Uint8Array): Uint8Array {
    const out = new Uint8Array(data.length);
    const s = this.s;
    let i = this.i;
    let j = this.j;
    for (let n = 0; n < data.length; n++) {
      i = (i + 1) & 0xff;
      const si = s[i]!;
      j = (j + si) & 0xff;
      const sj = s[j]!;
      s[i] = sj;
      s[j] = si;
      out[n] = data[n]! ^ s[(si + sj) & 0xff]!;
    }
    this.i = i;
    this.j = j;
    return out;
  }
}
