import { describe, expect, it } from 'vitest';
import { parseHarnessEnv } from '../../../scripts/lib/harness.js';

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
