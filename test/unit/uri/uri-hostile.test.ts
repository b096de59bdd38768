/**
 * URIs from a hostile or careless caller (issue 19): passwords never reach a
 * message, a log-in name or ssh's command line, and parsing stays linear in
 * the URI's length.
 */
import { describe, expect, it } from 'vitest';
import { VirtwireError } from '../../../src/errors.js';
import { remoteCommand, sshCommand, sshEnv } from '../../../src/transport/ssh.js';
import {
  displayUri,
  parseUri,
  REDACTED,
  redactUri,
  URI_DISPLAY_MAX,
  UriError,
} from '../../../src/uri/index.js';
import { collectGarbage } from '../../helpers/measure.js';

const SECRET = 's3cr3t-pw';

describe('redactUri', () => {
  it.each([
    ['qemu+ssh://alice:pw@host/system', 'qemu+ssh://alice:***@host/system'],
    [
      'qemu+ssh://alice:pw@host:22/system?keyfile=/k',
      'qemu+ssh://alice:***@host:22/system?keyfile=/k',
    ],
    ['qemu+ssh://alice:@host/system', 'qemu+ssh://alice:***@host/system'],
    ['qemu+ssh://:pw@host/system', 'qemu+ssh://:***@host/system'],
    // a stray '@' or ':' inside the password is hidden with it
    ['qemu+ssh://alice:p@ss:w@host/system', 'qemu+ssh://alice:***@host/system'],
    ['qemu+ssh://us%40er:p%40ss@h/x', 'qemu+ssh://us%40er:***@h/x'],
    // a URI nested in a parameter is redacted too
    [
      'qemu+ext:///system?command=/t&name=qemu+ssh://bob:pw@h/system',
      'qemu+ext:///system?command=/t&name=qemu+ssh://bob:***@h/system',
    ],
    // nothing to hide
    ['qemu+ssh://alice@host/system', 'qemu+ssh://alice@host/system'],
    ['qemu+tcp://host:16509/system', 'qemu+tcp://host:16509/system'],
    ['qemu:///system', 'qemu:///system'],
    ['qemu+tcp://h/x@y:z', 'qemu+tcp://h/x@y:z'],
    ['not a uri: a:b@c', 'not a uri: a:b@c'],
    ['', ''],
  ])('%s', (uri, shown) => {
    expect(redactUri(uri)).toBe(shown);
  });

  it('cuts a long URI shown in a message, after redacting it', () => {
    const long = `qemu+ssh://alice:${SECRET}@h/system?x=${'y'.repeat(5000)}`;
    const shown = displayUri(long);
    expect(shown).not.toContain(SECRET);
    expect(shown.startsWith(`qemu+ssh://alice:${REDACTED}@h/system?x=yyy`)).toBe(true);
    expect(shown.length).toBeLessThan(URI_DISPLAY_MAX + 40);
    expect(shown).toMatch(/… \(\d+ more characters\)$/);
    expect(displayUri('qemu:///system')).toBe('qemu:///system');
  });
});

describe('UriError never shows a password', () => {
  const broken = [
    `qemu+foo://alice:${SECRET}@h/system`, // unknown transport
    `qemu+ssh://alice:${SECRET}@h/system?mode=bogus`, // bad parameter
    `qemu+unix://alice:${SECRET}@h/system`, // unix with a host
    `qemu+ssh://alice:${SECRET} x@h/system`, // a space in the password
    `qemu+ssh://alice:${SECRET}@h:12x/system`, // a bad port after the password
    `qemu+ssh://alice:${SECRET}%00@h/system`, // NUL in the password
    `qemu+ssh://alice:${SECRET}%ff@h/system`, // not UTF-8
    `qemu://alice:${SECRET}@system/`, // "system" in the host position
  ];
  it.each(broken)('%s', (uri) => {
    let caught: unknown;
    try {
      parseUri(uri);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UriError);
    expect(caught).toBeInstanceOf(VirtwireError);
    const e = caught as UriError;
    expect(e.message).not.toContain(SECRET);
    expect(e.reason).not.toContain(SECRET);
    expect(e.uri).not.toContain(SECRET);
    expect(e.uri).toContain(`alice:${REDACTED}@`);
    expect(JSON.stringify({ ...e, message: e.message })).not.toContain(SECRET);
  });

  it('cuts a megabyte URI in the message but keeps the whole (redacted) URI in `uri`', () => {
    const uri = `qemu+foo://alice:${SECRET}@h/system?x=${'y'.repeat(1 << 20)}`;
    const e = (() => {
      try {
        parseUri(uri);
      } catch (err) {
        return err as UriError;
      }
      throw new Error('parsed');
    })();
    expect(e.message.length).toBeLessThan(URI_DISPLAY_MAX + 200);
    expect(e.uri).toBe(redactUri(uri));
  });
});

describe('a password in an ssh URI', () => {
  const uri = parseUri(`qemu+ssh://alice:${SECRET}@h.example:2222/system?keyfile=/k`);
  const opts = { readonly: false, uid: 0, env: {} };

  it('is split from the user name, which alone is the log-in name', () => {
    expect(uri.user).toBe('alice');
    expect(uri.password).toBe(SECRET);
    expect(parseUri('qemu+ssh://alice@h/system').password).toBeNull();
    expect(parseUri('qemu+ssh://alice:@h/system').password).toBe('');
    expect(parseUri('qemu+ssh://a%3Ab:c@h/system')).toMatchObject({ user: 'a:b', password: 'c' });
  });

  it('never goes on the command line: ssh asks through its own prompt or askpass', () => {
    const { file, args } = sshCommand(uri, opts);
    expect(file).toBe('ssh');
    expect(args.slice(0, 4)).toEqual(['-p', '2222', '-l', 'alice']);
    expect([file, ...args].join('\u0000')).not.toContain(SECRET);
    expect(remoteCommand(uri, opts)).not.toContain(SECRET);
    // ssh's own prompt needs its askpass settings (or the terminal), which pass through
    const env = sshEnv(uri, { SSH_ASKPASS: '/usr/bin/ask', SSH_ASKPASS_REQUIRE: 'prefer', X: 'y' });
    expect(env).toMatchObject({ SSH_ASKPASS: '/usr/bin/ask', SSH_ASKPASS_REQUIRE: 'prefer' });
    expect(env.X).toBeUndefined();
  });
});

/**
 * How much longer `large` takes than `small`: each timed after a full GC,
 * alternately, `reps` times, keeping the fastest of each (the run least
 * disturbed by other load on the machine).
 */
function slowdown(small: () => void, large: () => void, reps: number): number {
  let a = Number.POSITIVE_INFINITY;
  let b = Number.POSITIVE_INFINITY;
  const time = (fn: () => void): number => {
    collectGarbage();
    const t = performance.now();
    fn();
    return performance.now() - t;
  };
  for (let i = 0; i < reps; i++) {
    a = Math.min(a, time(small));
    b = Math.min(b, time(large));
  }
  return b / a;
}

describe('parseUri in linear time', () => {
  const MB = 1 << 20;
  // Query shapes that made the old splitting rescan the rest of the query per section.
  const shapes: Record<string, (bytes: number) => string> = {
    "';' sections without '='": (n) =>
      `qemu:///system?${'abcdefghijklmno;'.repeat(Math.floor(n / 16))}`,
    "'&' sections": (n) => `qemu:///system?${'k=vvvvvvvvvvvv&'.repeat(Math.floor(n / 15))}`,
  };

  it.each(Object.entries(shapes))(
    '%s: 4 MB take less than 12x the time of 1 MB (linear: 4x; quadratic: 16x)',
    (name, make) => {
      const small = make(MB);
      const large = make(4 * MB);
      const ratio = slowdown(
        () => parseUri(small),
        () => parseUri(large),
        3,
      );
      expect(ratio, name).toBeLessThan(12);
    },
  );

  it('parses a 2 MB URI: libvirt sets no length limit and neither does virtwire', () => {
    const u = parseUri(`qemu+tcp://h/system?${'a=b&'.repeat((2 * MB) / 4)}`);
    expect(u.passthrough).toHaveLength((2 * MB) / 4);
    expect(u.openName.length).toBeGreaterThan(2 * MB - 100);
  });

  it('redacts a URI of many `://` in linear time (8 MB: less than 24x 1 MB; quadratic: 64x)', () => {
    const piece = '://a:b@h/';
    const small = `x${piece.repeat(MB / piece.length)}`;
    const large = `x${piece.repeat((8 * MB) / piece.length)}`;
    expect(redactUri(small)).toBe(`x${`://a:${REDACTED}@h/`.repeat(MB / piece.length)}`);
    const ratio = slowdown(
      () => redactUri(small),
      () => redactUri(large),
      5,
    );
    expect(ratio).toBeLessThan(24);
  });
});
