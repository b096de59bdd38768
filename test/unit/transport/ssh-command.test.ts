import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { childEnv, STDERR_LIMIT, spawnDuplex, TailBuffer } from '../../../src/transport/child.js';
import { ChildExitError } from '../../../src/transport/errors.js';
import {
  remoteCommand,
  remoteScript,
  shellQuote,
  sshCommand,
  sshEnv,
} from '../../../src/transport/ssh.js';
import { parseUri, UriError } from '../../../src/uri/index.js';

const root = { readonly: false, uid: 0, env: {} };

/** Strings that would do something if a shell saw them unquoted. */
const NASTY = [
  '',
  ' ',
  "'",
  "''",
  '"',
  "it's",
  'a b  c',
  '$(touch /tmp/virtwire-never)',
  '`touch /tmp/virtwire-never`',
  '; touch /tmp/virtwire-never',
  '&& echo x',
  '| cat',
  '> /tmp/virtwire-never',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax, not a template
  '$HOME ${HOME} $0 $$',
  '\\',
  '\\n\\t',
  'line\nbreak',
  'tab\there',
  '*',
  '?',
  '[a]',
  '~',
  '~root',
  '{a,b}',
  '!!',
  '#comment',
  'x=y',
  '-n',
  '%s',
  'ünïcødé ✓',
  "'\"'\"'$(x)`y`;z",
];

function run(shell: string, script: string, env?: NodeJS.ProcessEnv) {
  const r = spawnSync(shell, ['-c', script], { encoding: 'utf8', env: env ?? process.env });
  return { out: r.stdout, err: r.stderr, code: r.status };
}

describe('shellQuote', () => {
  it('leaves harmless words alone', () => {
    for (const s of ['nc', '/usr/bin/nc', 'qemu:///system', 'a,b', 'user@host', '-q0', '100%']) {
      expect(shellQuote(s)).toBe(s);
    }
  });

  it('quotes everything else with single quotes', () => {
    expect(shellQuote('')).toBe("''");
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('x=y')).toBe("'x=y'");
    expect(shellQuote('~')).toBe("'~'");
  });

  for (const shell of ['sh', 'bash', 'dash']) {
    it(`round-trips every nasty string through ${shell}, once and nested twice`, () => {
      if (spawnSync(shell, ['-c', 'true']).status !== 0) return; // shell not installed
      for (const s of NASTY) {
        const once = run(shell, `printf %s ${shellQuote(s)}`);
        expect(once.out).toBe(s);
        // what the ssh transports do: the remote login shell runs `sh -c 'SCRIPT'`
        const twice = run(shell, `sh -c ${shellQuote(`printf %s ${shellQuote(s)}`)}`);
        expect(twice.out).toBe(s);
      }
      expect(existsSync('/tmp/virtwire-never')).toBe(false);
    });
  }
});

describe('sshCommand', () => {
  it('builds the minimal command line', () => {
    const { file, args } = sshCommand(parseUri('qemu+ssh://h.example/system'), root);
    expect(file).toBe('ssh');
    expect(args.slice(0, -1)).toEqual(['-T', '-e', 'none', '--', 'h.example']);
    expect(args.at(-1)).toMatch(/^sh -c '/);
  });

  it('puts every option where the reference client puts it', () => {
    const { args } = sshCommand(
      parseUri(
        'qemu+ssh://alice@h.example:2222/system?keyfile=/k/id%20x&no_tty=1&no_verify=1&command=/opt/ssh',
      ),
      root,
    );
    expect(args.slice(0, -1)).toEqual([
      '-p',
      '2222',
      '-l',
      'alice',
      '-i',
      '/k/id x',
      '-T',
      '-e',
      'none',
      '-o',
      'BatchMode=yes',
      '-o',
      'StrictHostKeyChecking=no',
      '--',
      'h.example',
    ]);
    expect(sshCommand(parseUri('qemu+ssh://h/system?command=/opt/ssh'), root).file).toBe(
      '/opt/ssh',
    );
  });

  it('leaves out what is not asked for: no port, no user, no_tty=0, no_verify=0', () => {
    const { args } = sshCommand(parseUri('qemu+ssh://h/system?no_tty=0&no_verify=0'), root);
    expect(args.slice(0, -1)).toEqual(['-T', '-e', 'none', '--', 'h']);
  });

  it('keeps a host that looks like an option behind --', () => {
    const { args } = sshCommand(parseUri('qemu+ssh://-oProxyCommand=x/system'), root);
    expect(args.indexOf('--')).toBe(args.indexOf('-oProxyCommand=x') - 1);
  });

  it('uses localhost without a host', () => {
    const { args } = sshCommand(parseUri('qemu+ssh:///system'), root);
    expect(args.at(-2)).toBe('localhost');
  });
});

describe('remote script', () => {
  it('auto: virt-ssh-helper when the remote host has it, else nc on the legacy socket', () => {
    const s = remoteScript(parseUri('qemu+ssh://h/system'), root);
    expect(s).toBe(
      "if command -v virt-ssh-helper >/dev/null 2>&1; then virt-ssh-helper qemu:///system; else if nc -q 2>&1 | grep 'requires an argument' >/dev/null 2>&1; then ARG=-q0; else ARG=; fi; nc $ARG -U /var/run/libvirt/libvirt-sock; fi",
    );
  });

  it('read-only: helper -r and the -ro socket', () => {
    const s = remoteScript(parseUri('qemu+ssh://h/system'), { ...root, readonly: true });
    expect(s).toContain('virt-ssh-helper -r qemu:///system');
    expect(s).toContain('-U /var/run/libvirt/libvirt-sock-ro');
  });

  it('socket= and netcat= choose netcat only', () => {
    expect(remoteScript(parseUri('qemu+ssh://h/system?socket=/s/x%20y'), root)).toBe(
      "if nc -q 2>&1 | grep 'requires an argument' >/dev/null 2>&1; then ARG=-q0; else ARG=; fi; nc $ARG -U '/s/x y'",
    );
    const s = remoteScript(parseUri('qemu+ssh://h/system?netcat=/opt/my%20nc'), root);
    expect(s).not.toContain('virt-ssh-helper');
    expect(s).toContain("'/opt/my nc' $ARG -U /var/run/libvirt/libvirt-sock");
  });

  it('proxy=native runs only the helper, with the URI keeping mode and socket parameters', () => {
    const s = remoteScript(parseUri('qemu+ssh://h/system?proxy=native&mode=legacy&foo=bar'), root);
    expect(s).toBe("virt-ssh-helper 'qemu:///system?mode=legacy&foo=bar'");
  });

  it('session URIs go to the helper (no remote socket path can be guessed)', () => {
    const s = remoteScript(parseUri('qemu+ssh://h/session'), { ...root, uid: 1000 });
    expect(s).toBe('virt-ssh-helper qemu:///session');
  });

  it('refuses netcat= with proxy=native', () => {
    expect(() =>
      remoteScript(parseUri('qemu+ssh://h/system?proxy=native&netcat=nc'), root),
    ).toThrow(UriError);
  });
});

describe('the remote command, run by a real shell', () => {
  const dir = mkdtempSync(join(tmpdir(), 'virtwire-ssh-cmd-'));
  const pwned = join(dir, 'pwned');
  const bin = join(dir, 'bin');
  const nohelper = join(dir, 'nohelper');
  // stand-ins that print their arguments, one per line, between markers
  const printer = (name: string) =>
    `#!/bin/sh\nprintf '%s\\n' '<${name}>'; for a in "$@"; do printf '[%s]\\n' "$a"; done\n`;
  const fakeNc = (quits: boolean) =>
    `#!/bin/sh\nif [ "$#" = 1 ] && [ "$1" = -q ]; then ${quits ? "echo 'nc: option requires an argument -- q' >&2; exit 1" : 'exit 1'}; fi\n` +
    printer('nc').slice('#!/bin/sh\n'.length);
  // only these tools, so a virt-ssh-helper installed on this machine is not found by accident
  const tools = join(dir, 'tools');
  spawnSync('mkdir', ['-p', bin, nohelper, tools]);
  for (const t of ['sh', 'bash', 'grep']) {
    const where = spawnSync('sh', ['-c', `command -v ${t}`], { encoding: 'utf8' }).stdout.trim();
    if (where !== '') symlinkSync(where, join(tools, t));
  }
  writeFileSync(join(bin, 'virt-ssh-helper'), printer('helper'));
  writeFileSync(join(bin, 'nc'), fakeNc(true));
  writeFileSync(join(nohelper, 'nc'), fakeNc(false));
  for (const f of [join(bin, 'virt-ssh-helper'), join(bin, 'nc'), join(nohelper, 'nc')]) {
    chmodSync(f, 0o755);
  }
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** What the remote login shell does with the command ssh hands it. */
  const remote = (uri: string, path: string, shell = 'bash') =>
    run(join(tools, shell), remoteCommand(parseUri(uri), root), { PATH: `${path}:${tools}` });

  it('runs the helper when present, with the URI as one argument', () => {
    const uri = `qemu+ssh://h/system?x=%27%3B%20touch%20${encodeURIComponent(pwned)}`;
    const r = remote(uri, bin);
    // the pass-through parameter is re-escaped for the daemon, as the reference client does
    expect(r.out).toBe(
      `<helper>\n[qemu:///system?x=%27%3B%20touch%20${encodeURIComponent(pwned)}]\n`,
    );
    expect(existsSync(pwned)).toBe(false);
  });

  it('falls back to nc, with -q0 only when nc knows -q', () => {
    expect(remote('qemu+ssh://h/system', nohelper).out).toBe(
      '<nc>\n[-U]\n[/var/run/libvirt/libvirt-sock]\n',
    );
    expect(remote('qemu+ssh://h/system?proxy=netcat', bin).out).toBe(
      '<nc>\n[-q0]\n[-U]\n[/var/run/libvirt/libvirt-sock]\n',
    );
  });

  for (const shell of ['sh', 'bash']) {
    it(`passes hostile socket= and netcat= values as data through ${shell}`, () => {
      for (const payload of NASTY.filter((s) => s !== '')) {
        const hostile = `/tmp/s ${payload} $(touch ${pwned}) \`touch ${pwned}\`; touch ${pwned} '"`;
        const uri = `qemu+ssh://h/system?socket=${encodeURIComponent(hostile)}`;
        const r = remote(uri, bin, shell);
        expect(r.out).toBe(`<nc>\n[-q0]\n[-U]\n[${hostile}]\n`);
        expect(existsSync(pwned)).toBe(false);
      }
      const nc = `${join(bin, 'nc')}`;
      const r = remote(
        `qemu+ssh://h/system?netcat=${encodeURIComponent(nc)}&socket=${encodeURIComponent(`$(touch ${pwned})`)}`,
        '/nonexistent',
        shell,
      );
      expect(r.out).toBe(`<nc>\n[-q0]\n[-U]\n[$(touch ${pwned})]\n`);
      expect(existsSync(pwned)).toBe(false);
    });
  }

  it('passes a hostile name= to the helper as data', () => {
    const name = `qemu:///system'; touch ${pwned}; echo '$(touch ${pwned})`;
    const r = remote(`qemu+ssh://h/system?name=${encodeURIComponent(name)}`, bin);
    expect(r.out).toBe(`<helper>\n[${name}]\n`);
    expect(existsSync(pwned)).toBe(false);
  });
});

describe('environment of ssh and ext', () => {
  const env = {
    PATH: '/bin',
    HOME: '/h',
    USER: 'u',
    SSH_AUTH_SOCK: '/agent',
    TERM: 'xterm',
    GPG_TTY: '/dev/pts/1',
    SECRET_TOKEN: 'x',
    LANG: 'de_DE.UTF-8',
  };

  it('passes only what the reference client passes, with LC_ALL=C', () => {
    expect(childEnv(env)).toEqual({ LC_ALL: 'C', PATH: '/bin', HOME: '/h', USER: 'u' });
    expect(sshEnv(parseUri('qemu+ssh://h/system'), env)).toEqual({
      LC_ALL: 'C',
      PATH: '/bin',
      HOME: '/h',
      USER: 'u',
      SSH_AUTH_SOCK: '/agent',
      TERM: 'xterm',
      GPG_TTY: '/dev/pts/1',
    });
    // no TTY: no prompt, so no TERM/GPG_TTY either
    expect(sshEnv(parseUri('qemu+ssh://h/system?no_tty=1'), env)).toEqual({
      LC_ALL: 'C',
      PATH: '/bin',
      HOME: '/h',
      USER: 'u',
      SSH_AUTH_SOCK: '/agent',
    });
  });
});

describe('the child-process stream under ssh and ext', () => {
  const sh = (script: string) =>
    spawnDuplex('sh', ['-c', script], { env: { PATH: process.env.PATH }, program: 'test child' });
  const drain = (s: NodeJS.ReadableStream) =>
    new Promise<{ data: string; err: unknown }>((resolve) => {
      let data = '';
      s.on('data', (d: Buffer) => {
        data += d.toString();
      });
      s.on('end', () => resolve({ data, err: null }));
      s.on('error', (err) => resolve({ data, err }));
    });

  it('carries stdin to stdout and ends with EOF after status 0', async () => {
    const s = await sh('cat');
    s.end('ping');
    expect(await drain(s)).toEqual({ data: 'ping', err: null });
  });

  it('fails with exit status and the tail of stderr otherwise', async () => {
    const s = await sh(
      'printf out; printf "%20000s" "" | tr " " x >&2; echo " last words" >&2; exit 3',
    );
    const { data, err } = await drain(s);
    expect(data).toBe('out');
    expect(err).toBeInstanceOf(ChildExitError);
    const e = err as ChildExitError;
    expect(e.exitCode).toBe(3);
    expect(e.stderr.length).toBeLessThanOrEqual(STDERR_LIMIT);
    expect(e.stderr.endsWith('x last words')).toBe(true);
    expect(e.message).toMatch(/^test child exited with status 3: x+ last words$/);
  });

  it('kills the child when destroyed, and reports nothing afterwards', async () => {
    const s = await sh('echo $$; exec sleep 30');
    const pid = Number(
      await new Promise<string>((r) => s.once('data', (d: Buffer) => r(d.toString()))),
    );
    const errors: unknown[] = [];
    s.on('error', (e) => errors.push(e));
    s.destroy();
    const gone = async () => {
      for (let i = 0; i < 100; i++) {
        try {
          process.kill(pid, 0);
        } catch {
          return true;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      return false;
    };
    expect(await gone()).toBe(true);
    expect(errors).toEqual([]);
  });

  it('names a program that cannot be started', async () => {
    await expect(spawnDuplex('/nonexistent/ssh', [], { env: {}, program: 'ssh' })).rejects.toThrow(
      /cannot run ssh: .*ENOENT/,
    );
  });

  it('keeps only the last bytes of stderr', () => {
    const t = new TailBuffer(10);
    t.push(Buffer.from('0123456'));
    t.push(Buffer.from('789abc'));
    t.push(Buffer.from('de  \n'));
    expect(t.text()).toBe('89abcde');
  });
});
