/**
 * The command line itself: virsh's migrate options as MigrateOptions, the
 * error wording and exit statuses, --help on every command, and usage
 * errors, all in-process with captured output.
 */
import { describe, expect, it } from 'vitest';
import { MigrationError, PostcopyFailedError } from '../../../src/api/migration/index.js';
import { TypedParamError } from '../../../src/api/typed-params.js';
import { defaultUri } from '../../../src/cli/context.js';
import {
  CommandError,
  EXIT_FAILURE,
  EXIT_INTERRUPTED,
  EXIT_USAGE,
  exitCodeFor,
  formatError,
  InterruptedError,
  remoteCause,
  UsageError,
} from '../../../src/cli/errors.js';
import { planMigration } from '../../../src/cli/migrate-options.js';
import { buildProgram, run } from '../../../src/cli/program.js';
import { MigrateFlags } from '../../../src/index.js';
import { RemoteError } from '../../../src/rpc/errors.js';
import { captureIo } from '../../helpers/cli.js';

const io = captureIo;

const noDomain = (): RemoteError =>
  new RemoteError(
    {
      code: 42,
      domain: 10,
      message: "Domain not found: no domain with matching name 'vm9'",
      level: 2,
      dom: null,
      str1: null,
      str2: null,
      str3: null,
      int1: -1,
      int2: -1,
      net: null,
    },
    'remote.DOMAIN_LOOKUP_BY_NAME',
  );

describe('planMigration (virsh options -> MigrateOptions)', () => {
  it('maps the post-copy-after-precopy command line', () => {
    const p = planMigration({
      live: true,
      postcopy: true,
      postcopyAfterPrecopy: true,
      bandwidth: 1,
      postcopyBandwidth: 100,
      persistent: true,
      undefinesource: true,
    });
    expect(p.mode).toBe('managed');
    expect(p.options).toEqual({
      live: true,
      postcopy: true,
      postcopyPolicy: 'after-precopy',
      bandwidth: 1,
      postcopyBandwidth: 100,
      persistent: true,
      undefineSource: true,
    });
    expect(p.timeout).toBeNull();
    expect(p.description).toBe('live, post-copy after the first pass, 1 MiB/s');
  });

  it('maps p2p, tunnelled, storage, parallel and the string options', () => {
    const p = planMigration(
      {
        live: true,
        p2p: true,
        tunnelled: true,
        suspend: true,
        copyStorageAll: true,
        migrateDisks: 'vda, vdb',
        compressed: true,
        compMethods: 'xbzrle,zstd',
        autoConverge: true,
        abortOnError: true,
        unsafe: true,
        tls: true,
        parallel: true,
        parallelConnections: 4,
        migrateuri: 'tcp://10.0.0.2',
        listenAddress: '0.0.0.0',
        dname: 'vm1-copy',
        xml: '/x.xml',
      },
      (path) => `<domain file='${path}'/>`,
    );
    expect(p.mode).toBe('p2p');
    expect(p.options).toEqual({
      live: true,
      peer2peer: true,
      tunnelled: true,
      paused: true,
      flags: MigrateFlags.VIR_MIGRATE_NON_SHARED_DISK,
      migrateDisks: ['vda', 'vdb'],
      compressed: true,
      compression: ['xbzrle', 'zstd'],
      autoConverge: true,
      abortOnError: true,
      unsafe: true,
      tls: true,
      parallel: 4,
      migrateUri: 'tcp://10.0.0.2',
      listenAddress: '0.0.0.0',
      destName: 'vm1-copy',
      destXml: "<domain file='/x.xml'/>",
    });
    expect(planMigration({ parallel: true }).options).toEqual({
      flags: MigrateFlags.VIR_MIGRATE_PARALLEL,
    });
    expect(planMigration({ direct: true }).mode).toBe('direct');
  });

  it('does what virsh does with --timeout: suspend by default, post-copy on request', () => {
    const s = planMigration({ live: true, timeout: 30 });
    expect(s.timeout).toEqual({ seconds: 30, action: 'suspend' });
    expect(s.options.postcopyPolicy).toBeUndefined();
    expect(s.migration.postcopyPolicy).toEqual({ afterIterations: null, afterMs: null });
    const pc = planMigration({ live: true, postcopy: true, timeout: 5, timeoutPostcopy: true });
    expect(pc.timeout).toEqual({ seconds: 5, action: 'postcopy' });
    expect(pc.options.postcopyPolicy).toEqual({ afterMs: 5000 });
    // the library switches on the timeout (the CLI keeps no timer of its own for it)
    expect(pc.migration.postcopyPolicy).toEqual({ afterIterations: null, afterMs: 5000 });
    const both = planMigration({
      live: true,
      postcopy: true,
      postcopyAfterPrecopy: true,
      timeout: 5,
      timeoutPostcopy: true,
    });
    // both triggers go to the library, which switches at whichever comes first
    expect(both.options.postcopyPolicy).toEqual({ afterIterations: 1, afterMs: 5000 });
    expect(both.migration.postcopyPolicy).toEqual({ afterIterations: 1, afterMs: 5000 });
  });

  it('refuses what virsh refuses, naming the options', () => {
    const cases: Array<[Parameters<typeof planMigration>[0], string]> = [
      [{ live: true, offline: true }, '--live and --offline are mutually exclusive'],
      [{ p2p: true, direct: true }, '--p2p and --direct are mutually exclusive'],
      [{ tunnelled: true }, '--tunnelled requires --p2p'],
      [{ postcopyAfterPrecopy: true }, '--postcopy-after-precopy requires --postcopy'],
      [{ postcopyResume: true }, '--postcopy-resume requires --postcopy'],
      [{ copyStorageAll: true, copyStorageInc: true }, 'mutually exclusive'],
      [{ parallelConnections: 2 }, '--parallel-connections requires --parallel'],
      [{ live: true, timeout: 3, timeoutPostcopy: true }, '--timeout-postcopy requires --postcopy'],
      [
        { live: true, timeoutPostcopy: true, postcopy: true },
        '--timeout-postcopy requires --timeout',
      ],
      [{ timeout: 3 }, '--timeout applies to live migration only'],
      [{ live: true, timeout: 0 }, '--timeout must be a positive number'],
      [
        { live: true, timeout: 3, timeoutSuspend: true, timeoutPostcopy: true, postcopy: true },
        '--timeout-suspend and --timeout-postcopy are mutually exclusive',
      ],
      // the library's flag rules, in virsh's option names
      [{ offline: true }, '--offline requires --persistent'],
      [
        { offline: true, persistent: true, postcopy: true },
        '--offline and --postcopy are mutually exclusive',
      ],
      [
        { live: true, postcopyAfterPrecopy: true, timeout: 3, timeoutPostcopy: true },
        '--postcopy-after-precopy requires --postcopy',
      ],
    ];
    for (const [o, msg] of cases) {
      expect(() => planMigration(o), msg).toThrow(UsageError);
      expect(() => planMigration(o)).toThrow(msg);
    }
    expect(() =>
      planMigration({ xml: '/nope' }, () => {
        throw new Error('ENOENT');
      }),
    ).toThrow('migrate: --xml: cannot read /nope: ENOENT');
  });
});

describe('errors', () => {
  it("prints libvirt's error name and message, also through wrappers", () => {
    const e = noDomain();
    expect(formatError(e)).toBe(
      "error: VIR_ERR_NO_DOMAIN: Domain not found: no domain with matching name 'vm9'",
    );
    const m = new MigrationError('perform', 'migration of vm9 failed in perform on the source', {
      cause: e,
    });
    expect(remoteCause(m)).toBe(e);
    expect(formatError(m)).toBe(
      'error: VIR_ERR_NO_DOMAIN: migration of vm9 failed in perform on the source',
    );
    const pf = new PostcopyFailedError('post-copy failed', null, null, { cause: e });
    expect(formatError(pf)).toContain('hint: post-copy cannot be rolled back');
    expect(formatError(new CommandError('failed to connect to x: refused'))).toBe(
      'error: failed to connect to x: refused',
    );
    expect(formatError(new TypedParamError('bandwidth', 'bad'))).toBe('error: invalid option: bad');
    expect(formatError(e)).not.toContain('    at ');
    expect(formatError(e, { debug: true })).toContain('    at ');
  });

  it('exits 2 for usage errors and 1 for the rest', () => {
    expect(exitCodeFor(new UsageError('x'))).toBe(EXIT_USAGE);
    expect(exitCodeFor(new TypedParamError('x', 'y'))).toBe(EXIT_USAGE);
    expect(exitCodeFor(noDomain())).toBe(EXIT_FAILURE);
    expect(exitCodeFor(new Error('x'))).toBe(EXIT_FAILURE);
    expect(exitCodeFor(new InterruptedError('x'))).toBe(EXIT_INTERRUPTED);
    expect(formatError(new InterruptedError('interrupted: gone'))).toBe('error: interrupted: gone');
  });
});

describe('the command line', () => {
  const COMMANDS = [
    'list',
    'dominfo',
    'domstate',
    'events',
    'domjobinfo',
    'domjobabort',
    'migrate-postcopy',
    'migrate',
    'call',
  ];

  it('has --help on every command, exit 0', async () => {
    const names = buildProgram(io()).commands.map((c) => c.name());
    for (const c of COMMANDS) expect(names).toContain(c);
    for (const c of [...names, '']) {
      const i = io();
      const code = await run(c ? [c, '--help'] : ['--help'], i);
      expect(code, c).toBe(0);
      expect(i.out(), c).toMatch(/^Usage: virtwire/);
    }
    const i = io();
    await run(['migrate', '--help'], i);
    for (const opt of [
      '--live',
      '--p2p',
      '--tunnelled',
      '--persistent',
      '--undefinesource',
      '--postcopy',
      '--postcopy-after-precopy',
      '--postcopy-resume',
      '--bandwidth <MiB/s>',
      '--postcopy-bandwidth <MiB/s>',
      '--migrateuri <uri>',
      '--timeout <seconds>',
      '--timeout-postcopy',
      '--json',
      '--verbose',
    ]) {
      expect(i.out()).toContain(opt);
    }
  });

  it('shows the default URI from the environment', () => {
    expect(defaultUri({})).toBe('qemu:///system');
    expect(defaultUri({ LIBVIRT_DEFAULT_URI: 'test:///default' })).toBe('test:///default');
    expect(
      defaultUri({
        LIBVIRT_DEFAULT_URI: 'test:///default',
        VIRTWIRE_DEFAULT_URI: 'qemu+tcp://h/system',
      }),
    ).toBe('qemu+tcp://h/system');
  });

  it('exits 2 on usage errors, with the message on stderr', async () => {
    const cases: Array<[string[], string]> = [
      [['bogus'], "unknown command 'bogus'"],
      [['list', '--bogus'], "unknown option '--bogus'"],
      [['dominfo'], "missing required argument 'domain'"],
      [['migrate', 'vm1'], "missing required argument 'desturi'"],
      [['migrate', '--bandwidth', 'fast', 'vm1', 'qemu:///x'], "argument 'fast' is invalid"],
      [['migrate', '--timeout', '0', '--live', 'vm1', 'qemu:///x'], 'expected an integer >= 1'],
      [['migrate', '--tunnelled', 'vm1', 'qemu:///x'], '--tunnelled requires --p2p'],
      [['events', '--event', 'nosuch'], 'unknown event "nosuch"'],
      [['call', 'remote.noSuchThing'], 'remote has no procedure'],
      [['call', 'remote.domainLookupByName', '{'], 'not valid JSON'],
      [
        ['call', 'remote.domainLookupByName', '{"nmae":"x"}'],
        'missing field args.name (expected a string of at most 4194304 bytes; given fields: nmae); see: virtwire call --describe remote.domainLookupByName',
      ],
      [['call', 'remote.domainLookupByName', '{"name":"x","nmae":"x"}'], 'unknown field args.nmae'],
      [
        ['call', 'remote.domainLookupByName', '[]'],
        'args: expected an object with fields name, got an array of 0 items',
      ],
      [
        ['call', 'remote.domainGetState', '{"dom":{"name":"a","uuid":"00","id":"x"},"flags":0}'],
        'args.dom.uuid: expected a UUID (canonical form or 32 hex digits), got 1 bytes',
      ],
      [['call'], 'name a procedure'],
    ];
    for (const [argv, msg] of cases) {
      const i = io();
      // port 1: nothing listens, so reaching the network would fail differently (exit 1)
      const code = await run(['-c', 'qemu+tcp://127.0.0.1:1/system', ...argv], i);
      expect(code, argv.join(' ')).toBe(2);
      expect(i.errText(), argv.join(' ')).toContain(msg);
      expect(i.errText()).not.toContain('    at ');
    }
  });

  it('exits 1 with a clear message when the daemon cannot be reached', async () => {
    const i = io();
    const code = await run(['-c', 'qemu+tcp://127.0.0.1:1/system', 'list'], i);
    expect(code).toBe(1);
    expect(i.errText()).toMatch(
      /^error: failed to connect to qemu\+tcp:\/\/127\.0\.0\.1:1\/system: cannot connect to 127\.0\.0\.1:1: .*ECONNREFUSED/,
    );
    expect(i.out()).toBe('');
  });

  it('lists procedures and event types without a connection', async () => {
    const i = io();
    expect(await run(['-c', 'qemu+tcp://127.0.0.1:1/system', 'call', '--list', 'qemu'], i)).toBe(0);
    expect(i.out()).toContain('qemu.domainMonitorCommand');
    expect(i.out()).not.toContain('remote.');
    const e = io();
    expect(await run(['events', '--list'], e)).toBe(0);
    expect(e.out().split('\n')).toContain('migration_iteration');
    const d = io();
    expect(await run(['call', '--describe', 'REMOTE_PROC_DOMAIN_GET_JOB_STATS'], d)).toBe(0);
    expect(d.out()).toContain('number:       298 (program 0x20008086 version 1)');
    expect(d.out()).toContain(
      `example:\n  virtwire call remote.domainGetJobStats '{"dom":{"name":"","uuid":"00000000-0000-0000-0000-000000000000","id":0},"flags":0}'`,
    );
  });

  it('prints the version', async () => {
    const i = io();
    expect(await run(['--version'], i)).toBe(0);
    expect(i.out()).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});
