import { describe, expect, it } from 'vitest';
import {
  inProcessDriver,
  isSessionConnection,
  type LibvirtUri,
  localSocketPath,
  parseUri,
  type SocketChoice,
  type SocketEnv,
  type SocketOptions,
  sshProxyMode,
  UriError,
  userRuntimeDirectory,
} from '../../../src/uri/index.js';

// Expected values come from reading libvirt 11.3.0 and libxml2. Every openName
// below that has an ext/unix/tls form was also compared with the name the
// C client logs ("proceeding with name = ...") from virsh 9.0 on libxml2
// 2.9.14, by running `virsh -c '<driver>+ext://...?command=/bin/false'`.

type Expected = Omit<LibvirtUri, 'original'>;

/** A full expected result: fields not given take the values of a plain local URI. */
function uri(fields: Partial<Expected> & Pick<Expected, 'driver' | 'openName'>): Expected {
  return {
    transport: 'unix',
    transportExplicit: false,
    user: null,
    password: null,
    host: null,
    connectHost: fields.host ?? 'localhost',
    port: null,
    path: '',
    fragment: null,
    params: {},
    passthrough: [],
    sshHelperUri: fields.openName,
    ...fields,
  };
}

const EXT = 'command=/bin/false';

const valid: Array<[string, Expected]> = [
  // --- the everyday forms
  ['qemu:///system', uri({ driver: 'qemu', path: '/system', openName: 'qemu:///system' })],
  ['qemu:///session', uri({ driver: 'qemu', path: '/session', openName: 'qemu:///session' })],
  ['test:///default', uri({ driver: 'test', path: '/default', openName: 'test:///default' })],
  ['lxc:///system', uri({ driver: 'lxc', path: '/system', openName: 'lxc:///system' })],
  ['lxc:///', uri({ driver: 'lxc', path: '/', openName: 'lxc:///' })],
  [
    'qemu+ssh://root@host/system',
    uri({
      driver: 'qemu',
      transport: 'ssh',
      transportExplicit: true,
      user: 'root',
      host: 'host',
      path: '/system',
      openName: 'qemu:///system',
    }),
  ],
  [
    'qemu+ssh://alice@host:2222/session',
    uri({
      driver: 'qemu',
      transport: 'ssh',
      transportExplicit: true,
      user: 'alice',
      host: 'host',
      port: 2222,
      path: '/session',
      openName: 'qemu:///session',
    }),
  ],
  [
    'qemu+tcp://[::1]:16509/system',
    uri({
      driver: 'qemu',
      transport: 'tcp',
      transportExplicit: true,
      host: '::1',
      port: 16509,
      path: '/system',
      openName: 'qemu:///system',
    }),
  ],
  [
    'qemu+tcp://10.0.0.5/system',
    uri({
      driver: 'qemu',
      transport: 'tcp',
      transportExplicit: true,
      host: '10.0.0.5',
      port: 16509,
      path: '/system',
      openName: 'qemu:///system',
    }),
  ],
  [
    'qemu+tls://host.example.com/system',
    uri({
      driver: 'qemu',
      transport: 'tls',
      transportExplicit: true,
      host: 'host.example.com',
      port: 16514,
      path: '/system',
      openName: 'qemu:///system',
    }),
  ],
  // A host without a transport means TLS.
  [
    'qemu://host/system',
    uri({
      driver: 'qemu',
      transport: 'tls',
      host: 'host',
      port: 16514,
      path: '/system',
      openName: 'qemu:///system',
    }),
  ],
  [
    'xen://host:1234/',
    uri({
      driver: 'xen',
      transport: 'tls',
      host: 'host',
      port: 1234,
      path: '/',
      openName: 'xen:///',
    }),
  ],
  // tcp/tls without a host connect to localhost.
  [
    'qemu+tcp:///system',
    uri({
      driver: 'qemu',
      transport: 'tcp',
      transportExplicit: true,
      port: 16509,
      path: '/system',
      openName: 'qemu:///system',
    }),
  ],
  [
    'qemu+tls:///system',
    uri({
      driver: 'qemu',
      transport: 'tls',
      transportExplicit: true,
      port: 16514,
      path: '/system',
      openName: 'qemu:///system',
    }),
  ],
  [
    'qemu+libssh://h/system',
    uri({
      driver: 'qemu',
      transport: 'libssh',
      transportExplicit: true,
      host: 'h',
      port: 22,
      path: '/system',
      openName: 'qemu:///system',
    }),
  ],
  [
    'qemu+libssh2://u@h:2022/system?known_hosts_verify=IGNORE&sshauth=privkey&known_hosts=/kh',
    uri({
      driver: 'qemu',
      transport: 'libssh2',
      transportExplicit: true,
      user: 'u',
      host: 'h',
      port: 2022,
      path: '/system',
      params: { sshauth: 'privkey', known_hosts: '/kh', known_hosts_verify: 'ignore' },
      openName: 'qemu:///system',
    }),
  ],
  [
    'qemu+unix:///system?socket=/path/to/sock',
    uri({
      driver: 'qemu',
      transportExplicit: true,
      path: '/system',
      params: { socket: '/path/to/sock' },
      openName: 'qemu:///system',
      sshHelperUri: 'qemu:///system?socket=%2Fpath%2Fto%2Fsock',
    }),
  ],
  [
    'qemu+ext:///system?command=/bin/foo',
    uri({
      driver: 'qemu',
      transport: 'ext',
      transportExplicit: true,
      path: '/system',
      params: { command: '/bin/foo' },
      openName: 'qemu:///system',
    }),
  ],
  // ext may carry a host and port; they are unused but kept.
  [
    `qemu+ext://u@h:5/system?${EXT}`,
    uri({
      driver: 'qemu',
      transport: 'ext',
      transportExplicit: true,
      user: 'u',
      host: 'h',
      port: 5,
      path: '/system',
      params: { command: '/bin/false' },
      openName: 'qemu:///system',
    }),
  ],
  // The transport is case-insensitive, the driver is kept as written.
  [
    'QEMU+TCP://h/System',
    uri({
      driver: 'QEMU',
      transport: 'tcp',
      transportExplicit: true,
      host: 'h',
      port: 16509,
      path: '/System',
      openName: 'QEMU:///System',
    }),
  ],
  [
    'qemu+Unix:///system',
    uri({ driver: 'qemu', transportExplicit: true, path: '/system', openName: 'qemu:///system' }),
  ],

  // --- the remote driver sends '' so the daemon picks its default
  ['remote:///', uri({ driver: 'remote', path: '/', openName: '' })],
  [
    'remote+tcp://h/system?foo=1',
    uri({
      driver: 'remote',
      transport: 'tcp',
      transportExplicit: true,
      host: 'h',
      port: 16509,
      path: '/system',
      passthrough: [['foo', '1']],
      openName: '',
    }),
  ],
  // ...but only when spelled in lower case.
  ['Remote:///', uri({ driver: 'Remote', path: '/', openName: 'Remote:///' })],
  [
    'remote:///?name=qemu:///system',
    uri({
      driver: 'remote',
      path: '/',
      params: { name: 'qemu:///system' },
      openName: 'qemu:///system',
    }),
  ],

  // --- name= replaces the derived name verbatim, even when empty
  [
    'qemu:///system?name=xen:///',
    uri({ driver: 'qemu', path: '/system', params: { name: 'xen:///' }, openName: 'xen:///' }),
  ],
  [
    'qemu:///system?name=',
    uri({ driver: 'qemu', path: '/system', params: { name: '' }, openName: '' }),
  ],
  [
    'qemu:///system?NAME=a%20b&name=c+d',
    uri({ driver: 'qemu', path: '/system', params: { name: 'c+d' }, openName: 'c+d' }),
  ],

  // --- what the derived name keeps and drops: user, host, port and transport go
  [
    'qemu+tls://alice@h:9999/system?foo=bar#frag',
    uri({
      driver: 'qemu',
      transport: 'tls',
      transportExplicit: true,
      user: 'alice',
      host: 'h',
      port: 9999,
      path: '/system',
      fragment: 'frag',
      passthrough: [['foo', 'bar']],
      openName: 'qemu:///system?foo=bar#frag',
    }),
  ],
  [
    'qemu:///system#',
    uri({ driver: 'qemu', path: '/system', fragment: '', openName: 'qemu:///system#' }),
  ],
  [
    'qemu:///system?#',
    uri({ driver: 'qemu', path: '/system', fragment: '', openName: 'qemu:///system#' }),
  ],
  [
    'qemu:///system#f%20g%23h[i]?/',
    uri({
      driver: 'qemu',
      path: '/system',
      fragment: 'f g#h[i]?/',
      openName: 'qemu:///system#f%20g%23h[i]?/',
    }),
  ],
  // Path: decoded, then re-escaped by libxml2's rules (":" and "%" escaped).
  [
    'qemu:///a%2Fb%3Ac%25d%20e',
    uri({ driver: 'qemu', path: '/a/b:c%d e', openName: 'qemu:///a/b%3Ac%25d%20e' }),
  ],
  [
    "qemu:///a;b=c,d$e+f@g:h!i*j(k)l~m'n",
    uri({
      driver: 'qemu',
      path: "/a;b=c,d$e+f@g:h!i*j(k)l~m'n",
      openName: "qemu:///a;b=c,d$e+f@g%3Ah!i*j(k)l~m'n",
    }),
  ],
  // Dot segments are not normalised.
  ['qemu:///%2e/./../x', uri({ driver: 'qemu', path: '/././../x', openName: 'qemu:///././../x' })],
  // Forms without "//": libxml2 accepts them and the name gains "//".
  ['qemu:/system', uri({ driver: 'qemu', path: '/system', openName: 'qemu:///system' })],
  ['qemu:system', uri({ driver: 'qemu', path: 'system', openName: 'qemu://system' })],
  ['qemu:', uri({ driver: 'qemu', openName: 'qemu://' })],
  ['qemu://', uri({ driver: 'qemu', openName: 'qemu://' })],
  ['qemu:///', uri({ driver: 'qemu', path: '/', openName: 'qemu:///' })],
  [
    'qemu+ssh://host',
    uri({
      driver: 'qemu',
      transport: 'ssh',
      transportExplicit: true,
      host: 'host',
      openName: 'qemu://',
    }),
  ],
  // "system" is only suspicious as a host for qemu, vbox and vz.
  [
    'lxc://system/',
    uri({
      driver: 'lxc',
      transport: 'tls',
      host: 'system',
      port: 16514,
      path: '/',
      openName: 'lxc:///',
    }),
  ],
  [
    `qemu+ext://system/?${EXT}`,
    uri({
      driver: 'qemu',
      transport: 'ext',
      transportExplicit: true,
      host: 'system',
      path: '/',
      params: { command: '/bin/false' },
      openName: 'qemu:///',
    }),
  ],

  // --- query parameters
  // "+" is not a space; values are re-escaped with GLib's rules.
  [
    'qemu:///system?x=a+b&y=a%2Bb&z=%20',
    uri({
      driver: 'qemu',
      path: '/system',
      passthrough: [
        ['x', 'a+b'],
        ['y', 'a+b'],
        ['z', ' '],
      ],
      openName: 'qemu:///system?x=a%2Bb&y=a%2Bb&z=%20',
    }),
  ],
  // Empty sections and "=value" vanish; "name" alone has the value ''.
  [
    'qemu:///system?&&k&=v&e=',
    uri({
      driver: 'qemu',
      path: '/system',
      passthrough: [
        ['k', ''],
        ['e', ''],
      ],
      openName: 'qemu:///system?k=&e=',
    }),
  ],
  // ";" separates only when no "&" follows.
  [
    'qemu:///system?a=1;b=2&c=3',
    uri({
      driver: 'qemu',
      path: '/system',
      passthrough: [
        ['a', '1;b=2'],
        ['c', '3'],
      ],
      openName: 'qemu:///system?a=1%3Bb%3D2&c=3',
    }),
  ],
  [
    'qemu:///system?x=1;y=2',
    uri({
      driver: 'qemu',
      path: '/system',
      passthrough: [
        ['x', '1'],
        ['y', '2'],
      ],
      openName: 'qemu:///system?x=1&y=2',
    }),
  ],
  // ";" in the path is just a path character.
  [
    'qemu:///system;a=1?b=2',
    uri({
      driver: 'qemu',
      path: '/system;a=1',
      passthrough: [['b', '2']],
      openName: 'qemu:///system;a=1?b=2',
    }),
  ],
  // Parameter names are decoded and sent raw (not re-escaped).
  [
    'qemu:///system?p%20q=1&r%26s=2',
    uri({
      driver: 'qemu',
      path: '/system',
      passthrough: [
        ['p q', '1'],
        ['r&s', '2'],
      ],
      openName: 'qemu:///system?p q=1&r&s=2',
    }),
  ],
  [
    'qemu:///system?v=%C3%A9%E2%82%AC&q=a/b?c:d@e',
    uri({
      driver: 'qemu',
      path: '/system',
      passthrough: [
        ['v', 'é€'],
        ['q', 'a/b?c:d@e'],
      ],
      openName: 'qemu:///system?v=%C3%A9%E2%82%AC&q=a%2Fb%3Fc%3Ad%40e',
    }),
  ],
  [
    "qemu:///system?x='()*!$,",
    uri({
      driver: 'qemu',
      path: '/system',
      passthrough: [['x', "'()*!$,"]],
      openName: 'qemu:///system?x=%27%28%29%2A%21%24%2C',
    }),
  ],
  // Repeated pass-through parameters are all kept, in order.
  [
    'qemu:///system?a=1&b=2&a=3',
    uri({
      driver: 'qemu',
      path: '/system',
      passthrough: [
        ['a', '1'],
        ['b', '2'],
        ['a', '3'],
      ],
      openName: 'qemu:///system?a=1&b=2&a=3',
    }),
  ],
  // Remote-driver names match case-insensitively, the last one wins, and
  // only pass-through parameters reach the daemon. mode and socket do reach
  // virt-ssh-helper, in place and as written.
  [
    'qemu:///system?MODE=legacy&Socket=/s&Name2=x&mode=direct',
    uri({
      driver: 'qemu',
      path: '/system',
      params: { socket: '/s', mode: 'direct' },
      passthrough: [['Name2', 'x']],
      openName: 'qemu:///system?Name2=x',
      sshHelperUri: 'qemu:///system?MODE=legacy&Socket=%2Fs&Name2=x&mode=direct',
    }),
  ],
  // Booleans: any C int, non-zero is true, leading white space allowed.
  [
    'qemu:///system?no_verify=1&no_tty=0&no_sanity=-5&no_tty=%201',
    uri({
      driver: 'qemu',
      path: '/system',
      params: { no_verify: true, no_tty: true, no_sanity: true },
      openName: 'qemu:///system',
    }),
  ],
  [
    'qemu:///system?no_verify=+0',
    uri({
      driver: 'qemu',
      path: '/system',
      params: { no_verify: false },
      openName: 'qemu:///system',
    }),
  ],
  // authfile: stripped in any case, but only an exact "authfile" is read (the first).
  [
    'qemu:///system?AuthFile=/b&authfile=/a&authfile=/c',
    uri({
      driver: 'qemu',
      path: '/system',
      params: { authfile: '/a' },
      openName: 'qemu:///system',
    }),
  ],
  [
    'qemu:///system?AUTHFILE=/b',
    uri({ driver: 'qemu', path: '/system', openName: 'qemu:///system' }),
  ],
  [
    'qemu+tls://h/system?tls_priority=NORMAL:-VERS-TLS1.0&pkipath=/p&no_sanity=1&auth=sasl.gssapi',
    uri({
      driver: 'qemu',
      transport: 'tls',
      transportExplicit: true,
      host: 'h',
      port: 16514,
      path: '/system',
      params: {
        auth: 'sasl.gssapi',
        pkipath: '/p',
        tls_priority: 'NORMAL:-VERS-TLS1.0',
        no_sanity: true,
      },
      openName: 'qemu:///system',
    }),
  ],
  [
    'qemu+ssh://h/system?keyfile=/k&netcat=/usr/bin/nc&proxy=netcat&no_tty=1&no_verify=1&command=/usr/bin/ssh',
    uri({
      driver: 'qemu',
      transport: 'ssh',
      transportExplicit: true,
      host: 'h',
      path: '/system',
      params: {
        command: '/usr/bin/ssh',
        netcat: '/usr/bin/nc',
        keyfile: '/k',
        proxy: 'netcat',
        no_tty: true,
        no_verify: true,
      },
      openName: 'qemu:///system',
    }),
  ],
  // ssh ignores known_hosts_verify, so libvirt accepts any value there.
  [
    'qemu+ssh://h/system?known_hosts_verify=bogus',
    uri({
      driver: 'qemu',
      transport: 'ssh',
      transportExplicit: true,
      host: 'h',
      path: '/system',
      openName: 'qemu:///system',
    }),
  ],
  // mode=direct is fine for ssh when socket= names the remote socket.
  [
    'qemu+ssh://h/system?mode=direct&socket=/run/libvirt/virtqemud-sock',
    uri({
      driver: 'qemu',
      transport: 'ssh',
      transportExplicit: true,
      host: 'h',
      path: '/system',
      params: { socket: '/run/libvirt/virtqemud-sock', mode: 'direct' },
      openName: 'qemu:///system',
      sshHelperUri: 'qemu:///system?mode=direct&socket=%2Frun%2Flibvirt%2Fvirtqemud-sock',
    }),
  ],

  // --- authority details
  [
    'qemu+ssh://[fe80::1%25eth0]:22/system',
    uri({
      driver: 'qemu',
      transport: 'ssh',
      transportExplicit: true,
      host: 'fe80::1%eth0',
      port: 22,
      path: '/system',
      openName: 'qemu:///system',
    }),
  ],
  // libxml2 takes anything inside brackets, so a raw "%" works too.
  [
    'qemu+tcp://[fe80::1%eth0]/system',
    uri({
      driver: 'qemu',
      transport: 'tcp',
      transportExplicit: true,
      host: 'fe80::1%eth0',
      port: 16509,
      path: '/system',
      openName: 'qemu:///system',
    }),
  ],
  // Brackets stay when there is no ":" inside.
  [
    'qemu+tcp://[foo]/x',
    uri({
      driver: 'qemu',
      transport: 'tcp',
      transportExplicit: true,
      host: '[foo]',
      port: 16509,
      path: '/x',
      openName: 'qemu:///x',
    }),
  ],
  [
    'qemu+ssh://us%40er:pw@h%2Dx/system',
    uri({
      driver: 'qemu',
      transport: 'ssh',
      transportExplicit: true,
      // the user name ends at the first raw ':'; the password is kept apart
      user: 'us@er',
      password: 'pw',
      host: 'h-x',
      path: '/system',
      openName: 'qemu:///system',
    }),
  ],
  // Port 0 counts as no port; leading zeros are fine.
  [
    'qemu+tcp://h:0/system',
    uri({
      driver: 'qemu',
      transport: 'tcp',
      transportExplicit: true,
      host: 'h',
      port: 16509,
      path: '/system',
      openName: 'qemu:///system',
    }),
  ],
  [
    'qemu+tcp://h:08/system',
    uri({
      driver: 'qemu',
      transport: 'tcp',
      transportExplicit: true,
      host: 'h',
      port: 8,
      path: '/system',
      openName: 'qemu:///system',
    }),
  ],
  // A port without a host is dropped, and then there is no host: unix.
  ['qemu://:77/system', uri({ driver: 'qemu', path: '/system', openName: 'qemu:///system' })],
  [
    'qemu+ssh://u@/system',
    uri({
      driver: 'qemu',
      transport: 'ssh',
      transportExplicit: true,
      user: 'u',
      path: '/system',
      openName: 'qemu:///system',
    }),
  ],
  // libxml2 makes an empty user the rest of the URI; virtwire says "no user".
  [
    'qemu+ssh://@h/system',
    uri({
      driver: 'qemu',
      transport: 'ssh',
      transportExplicit: true,
      host: 'h',
      path: '/system',
      openName: 'qemu:///system',
    }),
  ],
  [
    'qemu+tcp://h%20x/x',
    uri({
      driver: 'qemu',
      transport: 'tcp',
      transportExplicit: true,
      host: 'h x',
      port: 16509,
      path: '/x',
      openName: 'qemu:///x',
    }),
  ],
  // The Xen shortcuts.
  ['xen', uri({ driver: 'xen', path: '/system', openName: 'xen:///system' })],
  ['XEN', uri({ driver: 'xen', path: '/system', openName: 'xen:///system' })],
  ['xen://', uri({ driver: 'xen', path: '/system', openName: 'xen:///system' })],
  // Per-driver URIs of the modular daemons.
  [
    'network:///system?mode=direct',
    uri({
      driver: 'network',
      path: '/system',
      params: { mode: 'direct' },
      openName: 'network:///system',
      sshHelperUri: 'network:///system?mode=direct',
    }),
  ],
  [
    'test+unix:///default',
    uri({ driver: 'test', transportExplicit: true, path: '/default', openName: 'test:///default' }),
  ],
];

const invalid: Array<[string, string]> = [
  ['', 'empty URI'],
  ['hostalias', 'no driver name'],
  ['qemu', 'no driver name'],
  ['/system', 'no driver name'],
  ['//host/system', 'no driver name'],
  ['1qemu:///system', 'no driver name'],
  ['+ssh://h/system', 'no driver name'],
  [
    'qemu+foo://h/system',
    'unknown transport "foo" (expected unix, tcp, tls, ssh, libssh, libssh2 or ext)',
  ],
  ['qemu+ssh+tcp://h/system', 'unknown transport "ssh+tcp"'],
  ['qemu+://h/system', 'unknown transport ""'],
  ['qemu+unix://host/system', 'the unix transport cannot reach a remote host ("host")'],
  ['qemu://system', '"system" is in the host position (did you mean qemu:///system?)'],
  ['qemu://session/', 'did you mean qemu:///session?'],
  ['vbox://session', 'did you mean vbox:///session?'],
  ['vz://system/', 'did you mean vz:///system?'],
  ['qemu+tcp://h:abc/system', 'port "abc" at offset 13 is not a number'],
  ['qemu+tcp://h:/system', 'empty port after ":" at offset 12'],
  ['qemu+tcp://h:65536/system', 'port 65536 at offset 13 is out of range (1-65535)'],
  ['qemu+tcp://h:99999999999/system', 'out of range'],
  ['qemu+tcp://h:1:2/system', 'unexpected ":" at offset 14 in the port'],
  ['qemu+tcp://h:12x/system', 'unexpected "x" at offset 15 in the port'],
  ['qemu+ssh://a@b@c/system', 'unexpected "@" at offset 14 in the host'],
  ['qemu+tcp://[::1/system', 'unterminated "[" at offset 11 in the host'],
  ['qemu+tcp://[::1]x/system', 'unexpected "x" at offset 16 in the host'],
  ['qemu+tcp://h%zz/system', 'bad percent-encoding "%zz" at offset 12 in the host'],
  ['qemu:///sys tem', 'unexpected space (spaces must be written %20) at offset 11 in the path'],
  ['qemu:///système', 'non-ASCII characters must be percent-encoded'],
  ['qemu:///s%zz', 'bad percent-encoding "%zz" at offset 9 in the path'],
  ['qemu:///s%4', 'bad percent-encoding "%4" at offset 9 in the path'],
  ['qemu:///system?x=[y]', 'unexpected "[" at offset 17 in the query'],
  ['qemu:///system?x=%g0', 'bad percent-encoding "%g0" at offset 17 in the query'],
  ['qemu:///system?x=a b', 'unexpected space'],
  ['qemu:///system#a#b', 'unexpected "#" at offset 16 in the fragment'],
  ['qemu:///system\n', 'control character U+000a at offset 14 in the path'],
  ['qemu:///system?x=%E2%82', 'not valid UTF-8'],
  ['qemu:///system?x=a%00b', '"%00" at offset 18 in the query: NUL bytes are not allowed'],
  ['qemu:///%00', 'NUL bytes are not allowed'],
  ['qemu:///system?no_verify=yes', 'no_verify="yes" is not an integer (use 0 or 1)'],
  ['qemu:///system?no_verify=', 'no_verify="" is not an integer'],
  ['qemu:///system?No_Tty=1x', 'No_Tty="1x" is not an integer'],
  ['qemu:///system?no_sanity=99999999999', 'no_sanity="99999999999" is not an integer'],
  ['qemu:///system?mode=bogus', 'unknown mode "bogus" (expected auto, legacy or direct)'],
  ['qemu:///system?mode=Direct', 'unknown mode "Direct"'],
  ['qemu:///system?mode=', 'unknown mode ""'],
  ['qemu:///system?proxy=ssh', 'unknown proxy "ssh" (expected auto, netcat or native)'],
  [
    'qemu+libssh://h/system?known_hosts_verify=bogus',
    'unknown known_hosts_verify "bogus" (expected normal, auto or ignore)',
  ],
  ['qemu+libssh2://h/system?known_hosts_verify=', 'unknown known_hosts_verify ""'],
  ['qemu+ext:///system', 'the ext transport needs a command= parameter'],
  ['qemu+ext:///system?foo=/bin/x', 'the ext transport needs a command= parameter'],
  [
    'qemu+ssh://h/system?mode=direct',
    'mode=direct needs a local unix socket; it cannot be used with the ssh transport',
  ],
  ['qemu+libssh://h/system?mode=direct', 'cannot be used with the libssh transport'],
  ['qemu+ssh://h/system?proxy=native&netcat=nc', 'netcat= cannot be combined with proxy=native'],
  [
    'qemu:///embed?root=/var/lib/x',
    'embedded mode (/embed) runs the driver inside the calling process',
  ],
  ['qemu:///embed', 'embedded driver URIs need a root= parameter'],
  ['qemu:///embed?root=rel', 'root= must be an absolute path, not "rel"'],
  [
    'qemu+ext:///embed?command=x',
    'embedded driver URIs need a lower-case driver name without a transport, not "qemu+ext"',
  ],
  ['Qemu:///embed?root=/x', 'not "Qemu"'],
];

describe('parseUri: valid URIs', () => {
  it.each(valid)('%s', (text, expected) => {
    expect(parseUri(text)).toStrictEqual({ original: text, ...expected });
  });

  it('has a wide table', () => {
    expect(valid.length + invalid.length).toBeGreaterThanOrEqual(60);
  });
});

describe('parseUri: invalid URIs', () => {
  it.each(invalid)('%j', (text, fragment) => {
    let caught: unknown;
    try {
      parseUri(text);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UriError);
    const e = caught as UriError;
    expect(e.name).toBe('UriError');
    expect(e.uri).toBe(text);
    expect(e.reason).toContain(fragment);
    expect(e.message).toBe(`invalid libvirt URI ${JSON.stringify(text)}: ${e.reason}`);
  });

  it('reports the offset of a syntax error', () => {
    const err = (() => {
      try {
        parseUri('qemu+tcp://h:12x/system');
      } catch (e) {
        return e as UriError;
      }
      return null;
    })();
    expect(err?.offset).toBe(15);
  });

  it('words the message as in the docs', () => {
    expect(() => parseUri('qemu+foo://h/system')).toThrow(
      'invalid libvirt URI "qemu+foo://h/system": unknown transport "foo" (expected unix, tcp, tls, ssh, libssh, libssh2 or ext)',
    );
  });
});

describe('parseUri: aliases', () => {
  const aliases = { prod: 'qemu+ssh://root@prod.example.com/system', 'dev-1': 'qemu:///session' };

  it('replaces a whole-string alias before parsing', () => {
    const u = parseUri('prod', { aliases });
    expect(u.original).toBe('prod');
    expect(u.host).toBe('prod.example.com');
    expect(u.transport).toBe('ssh');
    expect(u.openName).toBe('qemu:///system');
    expect(parseUri('dev-1', { aliases }).path).toBe('/session');
  });

  it('leaves non-matching strings alone', () => {
    expect(parseUri('qemu:///system', { aliases }).openName).toBe('qemu:///system');
    expect(() => parseUri('Prod', { aliases })).toThrow('no driver name');
  });

  it('names the resolved URI in errors', () => {
    expect(() => parseUri('bad', { aliases: { bad: 'qemu+foo:///x' } })).toThrow(
      'invalid libvirt URI "qemu+foo:///x": unknown transport',
    );
  });

  it('rejects alias names libvirt would reject', () => {
    expect(() => parseUri('x', { aliases: { 'a b': 'qemu:///system' } })).toThrow(
      'alias name "a b" may only contain',
    );
  });
});

describe('inProcessDriver', () => {
  it.each([
    ['test:///default', 'test'],
    ['test+unix:///default', null],
    ['test://host/default', null],
    ['esx://vcenter/', 'esx'],
    ['vpx://vcenter/dc/host', 'esx'],
    ['hyperv://win/', 'hyperv'],
    ['openvz:///system', 'openvz'],
    ['vmwarews:///session', 'vmware'],
    ['qemu:///system', null],
    ['TEST:///default', null],
  ])('%s -> %s', (text, driver) => {
    expect(inProcessDriver(parseUri(text))).toBe(driver);
  });
});

// ---------------------------------------------------------------------------
// Socket choice. Expected paths match what strace showed virsh 9.0 connecting
// to (system: /var/run/libvirt/...; session: $XDG_RUNTIME_DIR/libvirt/...,
// else $XDG_CACHE_HOME/libvirt, else ~/.cache/libvirt).

const ROOT: SocketEnv = { uid: 0 };
const USER: SocketEnv = { uid: 1000, XDG_RUNTIME_DIR: '/run/user/1000', HOME: '/home/u' };
const RW: SocketOptions = { readonly: false };
const RO: SocketOptions = { readonly: true };
const LEGACY_BUILD: SocketOptions = { readonly: false, fallbackMode: 'legacy' };

const V = '/var/run/libvirt';
const present =
  (...paths: string[]) =>
  (p: string) =>
    paths.includes(p);
const none = present();

function choice(
  path: string,
  daemon: string | null,
  mode: SocketChoice['mode'],
  extra: Partial<SocketChoice> = {},
): SocketChoice {
  return { path, daemon, mode, session: false, autostart: false, ...extra };
}

const socketCases: Array<
  [string, string, SocketEnv, (p: string) => boolean, SocketOptions, SocketChoice]
> = [
  // mode=auto over unix: the driver's socket if present, else legacy if present, else fallback.
  [
    'modular host',
    'qemu:///system',
    ROOT,
    present(`${V}/virtqemud-sock`, `${V}/libvirt-sock`),
    RW,
    choice(`${V}/virtqemud-sock`, 'virtqemud', 'direct'),
  ],
  [
    'monolithic host',
    'qemu:///system',
    ROOT,
    present(`${V}/libvirt-sock`),
    RW,
    choice(`${V}/libvirt-sock`, 'libvirtd', 'legacy'),
  ],
  [
    'nothing running, upstream build',
    'qemu:///system',
    ROOT,
    none,
    RW,
    choice(`${V}/virtqemud-sock`, 'virtqemud', 'direct'),
  ],
  [
    'nothing running, Debian build',
    'qemu:///system',
    ROOT,
    none,
    LEGACY_BUILD,
    choice(`${V}/libvirt-sock`, 'libvirtd', 'legacy'),
  ],
  [
    'read-only, modular',
    'qemu:///system',
    ROOT,
    present(`${V}/virtqemud-sock-ro`),
    RO,
    choice(`${V}/virtqemud-sock-ro`, 'virtqemud', 'direct'),
  ],
  [
    'read-only probes the -ro names',
    'qemu:///system',
    ROOT,
    present(`${V}/virtqemud-sock`, `${V}/libvirt-sock-ro`),
    RO,
    choice(`${V}/libvirt-sock-ro`, 'libvirtd', 'legacy'),
  ],
  [
    'mode=legacy ignores the modular socket',
    'qemu:///system?mode=legacy',
    ROOT,
    present(`${V}/virtqemud-sock`),
    RW,
    choice(`${V}/libvirt-sock`, 'libvirtd', 'legacy'),
  ],
  [
    'mode=legacy read-only',
    'qemu:///system?mode=legacy',
    ROOT,
    none,
    RO,
    choice(`${V}/libvirt-sock-ro`, 'libvirtd', 'legacy'),
  ],
  [
    'mode=direct needs no probe',
    'qemu:///system?mode=direct',
    ROOT,
    present(`${V}/libvirt-sock`),
    RW,
    choice(`${V}/virtqemud-sock`, 'virtqemud', 'direct'),
  ],
  [
    'mode=direct read-only',
    'qemu:///system?mode=direct',
    ROOT,
    none,
    RO,
    choice(`${V}/virtqemud-sock-ro`, 'virtqemud', 'direct'),
  ],
  [
    'libvirt.conf remote_mode',
    'qemu:///system',
    ROOT,
    present(`${V}/virtqemud-sock`),
    { readonly: false, configMode: 'legacy' },
    choice(`${V}/libvirt-sock`, 'libvirtd', 'legacy'),
  ],
  [
    'mode= beats remote_mode',
    'qemu:///system?mode=direct',
    ROOT,
    none,
    { readonly: false, configMode: 'legacy' },
    choice(`${V}/virtqemud-sock`, 'virtqemud', 'direct'),
  ],
  // The daemon name is built from the driver as written.
  [
    'network driver',
    'network:///system?mode=direct',
    ROOT,
    none,
    RW,
    choice(`${V}/virtnetworkd-sock`, 'virtnetworkd', 'direct'),
  ],
  [
    'lxc driver',
    'lxc:///system',
    ROOT,
    present(`${V}/virtlxcd-sock`),
    RW,
    choice(`${V}/virtlxcd-sock`, 'virtlxcd', 'direct'),
  ],
  [
    'ch driver',
    'ch:///system?mode=direct',
    ROOT,
    none,
    RW,
    choice(`${V}/virtchd-sock`, 'virtchd', 'direct'),
  ],
  [
    'test driver has no daemon of its own',
    'test+unix:///default',
    ROOT,
    present(`${V}/libvirt-sock`),
    RW,
    choice(`${V}/libvirt-sock`, 'libvirtd', 'legacy'),
  ],
  [
    'remote driver',
    'remote:///',
    ROOT,
    present(`${V}/libvirt-sock`),
    RW,
    choice(`${V}/libvirt-sock`, 'libvirtd', 'legacy'),
  ],
  [
    'driver name case is kept',
    'QEMU:///system?mode=direct',
    ROOT,
    none,
    RW,
    choice(`${V}/virtQEMUd-sock`, 'virtQEMUd', 'direct'),
  ],
  [
    'localStateDir',
    'qemu:///system?mode=legacy',
    ROOT,
    none,
    { readonly: false, localStateDir: '/usr/local/var/' },
    choice('/usr/local/var/run/libvirt/libvirt-sock', 'libvirtd', 'legacy'),
  ],
  // The three host layouts, and nothing running on each kind of install. When no
  // socket exists, the installed daemons stand in for libvirt's build option.
  [
    'only the monolithic daemon',
    'qemu:///system',
    ROOT,
    present('/usr/sbin/libvirtd', `${V}/libvirt-sock`),
    RW,
    choice(`${V}/libvirt-sock`, 'libvirtd', 'legacy'),
  ],
  [
    'only the modular daemons',
    'qemu:///system',
    ROOT,
    present('/usr/sbin/virtqemud', `${V}/virtqemud-sock`),
    RW,
    choice(`${V}/virtqemud-sock`, 'virtqemud', 'direct'),
  ],
  [
    'both daemons',
    'qemu:///system',
    ROOT,
    present(
      '/usr/sbin/libvirtd',
      '/usr/sbin/virtqemud',
      `${V}/libvirt-sock`,
      `${V}/virtqemud-sock`,
    ),
    RW,
    choice(`${V}/virtqemud-sock`, 'virtqemud', 'direct'),
  ],
  [
    'only the monolithic daemon, read-only',
    'qemu:///system',
    ROOT,
    present('/usr/sbin/libvirtd', `${V}/libvirt-sock`, `${V}/libvirt-sock-ro`),
    RO,
    choice(`${V}/libvirt-sock-ro`, 'libvirtd', 'legacy'),
  ],
  [
    'nothing running, only libvirtd installed (Debian 12, as virsh 9.0 there)',
    'qemu:///system',
    ROOT,
    present('/usr/sbin/libvirtd'),
    RW,
    choice(`${V}/libvirt-sock`, 'libvirtd', 'legacy'),
  ],
  [
    'nothing running, modular daemons installed',
    'qemu:///system',
    ROOT,
    present('/usr/sbin/libvirtd', '/usr/sbin/virtqemud'),
    RW,
    choice(`${V}/virtqemud-sock`, 'virtqemud', 'direct'),
  ],
  [
    'nothing running, libvirtd in another sbin',
    'qemu:///system',
    ROOT,
    present('/usr/local/sbin/libvirtd'),
    { readonly: false, sbinDir: '/usr/local/sbin' },
    choice(`${V}/libvirt-sock`, 'libvirtd', 'legacy'),
  ],
  [
    'an explicit fallback beats the installed daemons',
    'qemu:///system',
    ROOT,
    present('/usr/sbin/libvirtd'),
    { readonly: false, fallbackMode: 'direct' },
    choice(`${V}/virtqemud-sock`, 'virtqemud', 'direct'),
  ],
  [
    'session, only the monolithic daemon',
    'qemu:///session',
    USER,
    present('/usr/sbin/libvirtd', '/run/user/1000/libvirt/libvirt-sock'),
    RW,
    choice('/run/user/1000/libvirt/libvirt-sock', 'libvirtd', 'legacy', {
      session: true,
      autostart: true,
    }),
  ],
  [
    'session, only the modular daemons',
    'qemu:///session',
    USER,
    present('/usr/sbin/virtqemud', '/run/user/1000/libvirt/virtqemud-sock'),
    RW,
    choice('/run/user/1000/libvirt/virtqemud-sock', 'virtqemud', 'direct', {
      session: true,
      autostart: true,
    }),
  ],
  [
    'session, both daemons',
    'qemu:///session',
    USER,
    present(
      '/usr/sbin/libvirtd',
      '/usr/sbin/virtqemud',
      '/run/user/1000/libvirt/libvirt-sock',
      '/run/user/1000/libvirt/virtqemud-sock',
    ),
    RW,
    choice('/run/user/1000/libvirt/virtqemud-sock', 'virtqemud', 'direct', {
      session: true,
      autostart: true,
    }),
  ],
  [
    'session, nothing running, only libvirtd installed',
    'qemu:///session',
    USER,
    present('/usr/sbin/libvirtd'),
    RW,
    choice('/run/user/1000/libvirt/libvirt-sock', 'libvirtd', 'legacy', {
      session: true,
      autostart: true,
    }),
  ],
  // socket= wins over everything.
  [
    'socket=',
    'qemu+unix:///system?socket=/tmp/s&mode=direct',
    ROOT,
    none,
    RO,
    choice('/tmp/s', null, 'explicit'),
  ],
  [
    'socket= in a session',
    'qemu:///session?socket=/tmp/s',
    USER,
    none,
    RW,
    choice('/tmp/s', null, 'explicit', { session: true }),
  ],
  // Session sockets (non-root and /session, or test+transport).
  [
    'session, modular',
    'qemu:///session',
    USER,
    present('/run/user/1000/libvirt/virtqemud-sock'),
    RW,
    choice('/run/user/1000/libvirt/virtqemud-sock', 'virtqemud', 'direct', {
      session: true,
      autostart: true,
    }),
  ],
  [
    'session, legacy',
    'qemu:///session',
    USER,
    present('/run/user/1000/libvirt/libvirt-sock'),
    RW,
    choice('/run/user/1000/libvirt/libvirt-sock', 'libvirtd', 'legacy', {
      session: true,
      autostart: true,
    }),
  ],
  [
    'session sockets have no -ro variant',
    'qemu:///session?mode=direct',
    USER,
    none,
    RO,
    choice('/run/user/1000/libvirt/virtqemud-sock', 'virtqemud', 'direct', {
      session: true,
      autostart: true,
    }),
  ],
  [
    'LIBVIRT_AUTOSTART=0',
    'qemu:///session?mode=legacy',
    { ...USER, LIBVIRT_AUTOSTART: '0' },
    none,
    RW,
    choice('/run/user/1000/libvirt/libvirt-sock', 'libvirtd', 'legacy', { session: true }),
  ],
  [
    'no XDG_RUNTIME_DIR: XDG_CACHE_HOME',
    'qemu:///session?mode=legacy',
    { uid: 1000, XDG_RUNTIME_DIR: '', XDG_CACHE_HOME: '/c', HOME: '/home/u' },
    none,
    RW,
    choice('/c/libvirt/libvirt-sock', 'libvirtd', 'legacy', { session: true, autostart: true }),
  ],
  [
    'no XDG dirs: ~/.cache',
    'qemu:///session?mode=legacy',
    { uid: 1000, HOME: '/home/u/' },
    none,
    RW,
    choice('/home/u/.cache/libvirt/libvirt-sock', 'libvirtd', 'legacy', {
      session: true,
      autostart: true,
    }),
  ],
  [
    'test+unix is a session connection for users',
    'test+unix:///default?mode=direct',
    USER,
    none,
    RW,
    choice('/run/user/1000/libvirt/virttestd-sock', 'virttestd', 'direct', {
      session: true,
      autostart: true,
    }),
  ],
  [
    'root never uses session sockets',
    'qemu:///session',
    ROOT,
    present(`${V}/libvirt-sock`),
    RW,
    choice(`${V}/libvirt-sock`, 'libvirtd', 'legacy'),
  ],
  [
    'only the exact path /session counts',
    'qemu:///session/',
    USER,
    present(`${V}/libvirt-sock`),
    RW,
    choice(`${V}/libvirt-sock`, 'libvirtd', 'legacy'),
  ],
  [
    'users reach /system through the system socket',
    'qemu:///system',
    USER,
    present(`${V}/virtqemud-sock`),
    RW,
    choice(`${V}/virtqemud-sock`, 'virtqemud', 'direct'),
  ],
  // ssh transports: the remote nc target; auto means legacy, nothing probed.
  [
    'ssh, system',
    'qemu+ssh://h/system',
    ROOT,
    present(`${V}/virtqemud-sock`),
    RW,
    choice(`${V}/libvirt-sock`, 'libvirtd', 'legacy'),
  ],
  [
    'libssh2, read-only',
    'qemu+libssh2://h/system',
    ROOT,
    none,
    RO,
    choice(`${V}/libvirt-sock-ro`, 'libvirtd', 'legacy'),
  ],
  [
    'ssh, session from a user: local runtime dir, no autostart',
    'qemu+ssh://h/session',
    USER,
    none,
    RW,
    choice('/run/user/1000/libvirt/libvirt-sock', 'libvirtd', 'legacy', { session: true }),
  ],
];

describe('localSocketPath', () => {
  it.each(socketCases)('%s: %s', (_label, text, env, exists, opts, expected) => {
    expect(localSocketPath(parseUri(text), env, exists, opts)).toStrictEqual(expected);
  });

  it.each([
    ['qemu+tcp://h/system', 'the tcp transport does not use a unix socket'],
    ['qemu+tls:///system', 'the tls transport does not use a unix socket'],
    ['qemu+ext:///system?command=x', 'the ext transport does not use a unix socket'],
  ])('%s has no socket', (text, message) => {
    expect(() => localSocketPath(parseUri(text), ROOT, none, RW)).toThrow(message);
  });

  it('rejects remote_mode=direct for ssh, as libvirt does', () => {
    expect(() =>
      localSocketPath(parseUri('qemu+ssh://h/system'), ROOT, none, {
        readonly: false,
        configMode: 'direct',
      }),
    ).toThrow('cannot be used with the ssh transport');
  });

  it('probes the driver socket before the legacy one, then the installed daemons', () => {
    const probed: string[] = [];
    localSocketPath(
      parseUri('qemu:///system'),
      ROOT,
      (p) => {
        probed.push(p);
        return false;
      },
      RW,
    );
    expect(probed).toStrictEqual([
      `${V}/virtqemud-sock`,
      `${V}/libvirt-sock`,
      '/usr/sbin/libvirtd',
      '/usr/sbin/virtqemud',
    ]);
  });

  it('needs some directory for session sockets', () => {
    expect(() => userRuntimeDirectory({ uid: 1000 })).toThrow('XDG_RUNTIME_DIR');
    expect(userRuntimeDirectory({ uid: 1000, XDG_RUNTIME_DIR: '/run/user/1000/' })).toBe(
      '/run/user/1000/libvirt',
    );
  });
});

describe('isSessionConnection', () => {
  it.each([
    ['qemu:///session', 1000, true],
    ['qemu:///session', 0, false],
    ['qemu+ssh://h/session', 1000, true],
    ['qemu:///system', 1000, false],
    ['test+unix:///default', 1000, true],
    ['test+tcp://h/default', 1000, true],
    ['test:///default', 1000, false],
    ['Test+unix:///default', 1000, false],
  ])('%s as uid %i -> %s', (text, uid, expected) => {
    expect(isSessionConnection(parseUri(text), uid)).toBe(expected);
  });
});

describe('sshProxyMode', () => {
  it.each([
    ['qemu+ssh://h/system', 0, 'auto'],
    ['qemu+ssh://h/system?socket=/s', 0, 'netcat'],
    ['qemu+ssh://h/session', 1000, 'native'],
    ['qemu+ssh://h/session', 0, 'auto'],
    ['qemu+ssh://h/system?netcat=/bin/nc', 0, 'netcat'],
    ['qemu+ssh://h/system?proxy=native', 0, 'native'],
    ['qemu+ssh://h/session?proxy=auto&netcat=nc', 1000, 'netcat'],
    ['qemu+ssh://h/system?socket=/s&proxy=auto', 0, 'auto'],
  ] as const)('%s as uid %i -> %s', (text, uid, expected) => {
    expect(sshProxyMode(parseUri(text), { uid })).toBe(expected);
  });

  it('uses remote_proxy from libvirt.conf when the URI has no proxy=', () => {
    const u = parseUri('qemu+ssh://h/system');
    expect(sshProxyMode(u, { uid: 0 }, { configProxy: 'native' })).toBe('native');
    expect(
      sshProxyMode(
        parseUri('qemu+ssh://h/system?proxy=netcat'),
        { uid: 0 },
        { configProxy: 'native' },
      ),
    ).toBe('netcat');
  });

  it('rejects netcat= with the session default of native', () => {
    expect(() => sshProxyMode(parseUri('qemu+ssh://h/session?netcat=nc'), { uid: 1000 })).toThrow(
      'netcat= cannot be combined with the native proxy',
    );
  });
});
