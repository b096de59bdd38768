import { describe, expect, it } from 'vitest';
import {
  bookwormOnSpare,
  bookwormPair,
  generationsFromEnv,
  parseHarnessEnv,
} from '../../../scripts/lib/harness.js';

describe('parseHarnessEnv', () => {
  it('reads NAME=value lines, unquoting single-quoted values as a shell would', () => {
    const env = parseHarnessEnv(
      [
        'VIRTWIRE_HOST_A_TCP=qemu+tcp://127.0.0.1/system',
        "VIRTWIRE_HOST_A_UNIX='qemu+unix:///system?socket=/tmp/a b/sock'",
        "VIRTWIRE_ODD='it'\\''s'",
        '[test-hosts 12:00:00] not a variable',
        'lower=ignored',
        '',
      ].join('\n'),
    );
    expect(env).toEqual({
      VIRTWIRE_HOST_A_TCP: 'qemu+tcp://127.0.0.1/system',
      VIRTWIRE_HOST_A_UNIX: 'qemu+unix:///system?socket=/tmp/a b/sock',
      VIRTWIRE_ODD: "it's",
    });
  });
});

describe('the bookworm generation on the spare pair (VIRTWIRE_BOOKWORM_HOSTS)', () => {
  it('reads A,B (or nothing) and G,H, and refuses any other pair by name', () => {
    expect(bookwormPair(undefined)).toBe('AB');
    expect(bookwormPair('')).toBe('AB');
    expect(bookwormPair('A,B')).toBe('AB');
    expect(bookwormPair('g, h')).toBe('GH');
    expect(bookwormPair('GH')).toBe('GH');
    expect(() => bookwormPair('C,D')).toThrow(/VIRTWIRE_BOOKWORM_HOSTS=C,D: .*A,B .*G,H/);
  });

  const env = {
    VIRTWIRE_HOST_A_TCP: 'qemu+tcp://127.0.0.1/system',
    VIRTWIRE_HOST_B_TCP: 'qemu+tcp://127.0.0.2/system',
    VIRTWIRE_HOST_G_TCP: 'qemu+tcp://127.0.0.15/system',
    VIRTWIRE_HOST_H_TCP: 'qemu+tcp://127.0.0.16/system',
    VIRTWIRE_GEN_BOOKWORM_HOSTS: 'A B',
    VIRTWIRE_GEN_BOOKWORM_LIBVIRT: '9.0.0',
    VIRTWIRE_GEN_BOOKWORM_QEMU: '7.2',
    VIRTWIRE_GEN_SPARE_HOSTS: 'G H',
    VIRTWIRE_GUEST_XML: '/tmp/guest.xml',
  };

  it('gives bookworm the spare hosts and hides A and B', () => {
    const spare = bookwormOnSpare(env);
    expect(generationsFromEnv(spare).map((g) => [g.key, g.hosts])).toEqual([
      ['bookworm', ['G', 'H']],
    ]);
    expect(Object.keys(spare).filter((k) => /_HOST_[AB]_/.test(k))).toEqual([]);
    expect(spare['VIRTWIRE_HOST_G_TCP']).toBe('qemu+tcp://127.0.0.15/system');
    expect(spare['VIRTWIRE_GUEST_XML']).toBe('/tmp/guest.xml');
    // the caller's object is left as it was
    expect(generationsFromEnv(env)[0]?.hosts).toEqual(['A', 'B']);
  });

  it('says so when the spare hosts are not up', () => {
    const { VIRTWIRE_GEN_SPARE_HOSTS: _, ...without } = env;
    expect(() => bookwormOnSpare(without)).toThrow(/lists no spare hosts/);
  });
});
