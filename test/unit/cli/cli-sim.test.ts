/**
 * The virtwire CLI run as a user runs it (a separate process, its exit code,
 * stdout and stderr) against virtwire's libvirt host simulator listening on
 * TCP: every command, errors, tracing, Ctrl-C, the --json stream of a
 * migration and its final states, and the demo.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Connection, type Domain, MigrationError } from '../../../src/index.js';
import { Simulator } from '../../../src/testing/index.js';
import {
  CliProcess,
  cliEnv,
  jsonLines,
  migrateArgs,
  postcopyMigrateArgs,
  ROOT,
  runCli,
} from './run-cli.js';

const MiB = 1024 * 1024;
/** Simulated seconds per real second: a 10 s first pass takes 1 s. */
const SCALE = 10;

let a: Simulator;
let conn: Connection;

beforeAll(async () => {
  a = await Simulator.start({
    tcp: true,
    hostname: 'sim-a',
    timeScale: SCALE,
    domains: [
      { name: 'vm1', state: 'running', memoryMiB: 512 },
      { name: 'off1', state: 'shutoff' },
    ],
  });
  conn = await a.connect();
});
afterAll(async () => {
  await conn.close();
  await a.close();
});

const onA = (...args: string[]) => ['-c', a.uri, ...args];

describe('read commands against a simulated host', () => {
  it('lists domains like virsh, and as JSON', async () => {
    const r = await runCli(onA('list', '--all'));
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      [
        ' Id   Name   State',
        '-----------------------',
        ' 1    vm1    running',
        ' -    off1   shut off',
        '',
      ].join('\n'),
    );
    const active = await runCli(onA('list'));
    expect(active.stdout).not.toContain('off1');
    const j = await runCli(onA('list', '--all', '--json'));
    const rows = JSON.parse(j.stdout) as Array<Record<string, unknown>>;
    expect(rows.map((x) => [x.name, x.state, x.reason])).toEqual([
      ['vm1', 'running', 'booted'],
      ['off1', 'shutoff', 'unknown'],
    ]);
    expect(rows[0]!.uuid).toBe((await conn.lookupDomain('vm1')).uuid);
  });

  it('shows dominfo and domstate, by name or UUID', async () => {
    const vm1 = await conn.lookupDomain('vm1');
    const info = await runCli(onA('dominfo', vm1.uuid));
    expect(info.code).toBe(0);
    expect(info.stdout).toContain('Name:           vm1\n');
    expect(info.stdout).toContain(`UUID:           ${vm1.uuid}\n`);
    expect(info.stdout).toContain('State:          running\n');
    expect(info.stdout).toContain('Max memory:     524288 KiB\n');
    const st = await runCli(onA('domstate', '--reason', 'vm1'));
    expect(st.stdout).toBe('running (booted)\n');
    const off = await runCli(onA('domstate', 'off1', '--json'));
    expect(JSON.parse(off.stdout)).toEqual({
      state: 'shutoff',
      reason: 'unknown',
      stateCode: 5,
      reasonCode: 0,
    });
    const job = await runCli(onA('domjobinfo', 'vm1'));
    expect(job.stdout).toBe('Job type:         None\n');
  });

  it("prints libvirt's error name and message and exits 1, without a stack", async () => {
    const r = await runCli(onA('dominfo', 'nosuch'));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      "error: VIR_ERR_NO_DOMAIN: Domain not found: no domain with matching name 'nosuch'\n",
    );
    // the simulated host has no networks but serves their lookups; creating one is not supported
    const s = await runCli(onA('call', 'remote.networkCreateXml', '{"xml":"<network/>"}'));
    expect(s.code).toBe(1);
    expect(s.stderr).toMatch(/^error: VIR_ERR_NO_SUPPORT: /);
    const refused = await runCli(['-c', 'qemu+tcp://127.0.0.1:1/system', 'list']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /^error: failed to connect to qemu\+tcp:\/\/127\.0\.0\.1:1\/system: /,
    );
  });

  it('takes the URI from $VIRTWIRE_DEFAULT_URI, then $LIBVIRT_DEFAULT_URI', async () => {
    const r = await runCli(['domstate', 'vm1'], cliEnv({ LIBVIRT_DEFAULT_URI: a.uri }));
    expect(r.stdout).toBe('running\n');
    const v = await runCli(
      ['domstate', 'vm1'],
      cliEnv({ LIBVIRT_DEFAULT_URI: 'qemu+tcp://127.0.0.1:1/system', VIRTWIRE_DEFAULT_URI: a.uri }),
    );
    expect(v.stdout).toBe('running\n');
  });

  it('calls any procedure with JSON and prints JSON that can be fed back', async () => {
    const v = await runCli(onA('call', 'remote.connectGetLibVersion'));
    expect(v.code).toBe(0);
    expect(JSON.parse(v.stdout)).toEqual({ libVer: expect.stringMatching(/^\d+$/) });
    const look = await runCli(onA('call', 'REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME', '{"name":"vm1"}'));
    const { dom } = JSON.parse(look.stdout) as { dom: { name: string; uuid: string; id: number } };
    expect(dom).toEqual({ name: 'vm1', uuid: (await conn.lookupDomain('vm1')).uuid, id: 1 });
    const info = await runCli(onA('call', 'remote.domainGetInfo', JSON.stringify({ dom })));
    expect(info.code).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({ state: 1, maxMem: '524288', nrVirtCpu: 1 });
    const bad = await runCli(onA('call', 'remote.domainGetInfo', '{"dom":{"name":"vm1"}}'));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('missing field args.dom.uuid');
  });

  it('traces every RPC message by name with --debug and with NODE_DEBUG=virtwire', async () => {
    for (const [args, env] of [
      [onA('--debug', 'domstate', 'vm1'), cliEnv()],
      [onA('domstate', 'vm1'), cliEnv({ NODE_DEBUG: 'virtwire' })],
    ] as const) {
      const r = await runCli(args, env);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('running\n');
      const lines = r.stderr.split('\n').filter((l) => l.startsWith('virtwire: '));
      // each message once: NODE_DEBUG makes the RPC client trace, and then the CLI does not tap
      expect(r.stderr.split('\n').filter(Boolean)).toEqual(lines);
      expect(new Set(lines.map((l) => l.replace(/ \d+ bytes$/, ''))).size).toBe(lines.length);
      expect(lines[0]).toMatch(/^virtwire: -> CALL remote\.AUTH_LIST\(66\) serial=1 OK 28 bytes$/);
      expect(lines).toContainEqual(
        expect.stringMatching(
          /^virtwire: -> CALL remote\.CONNECT_OPEN\(1\) serial=\d+ OK \d+ bytes$/,
        ),
      );
      expect(lines).toContainEqual(
        expect.stringMatching(
          /^virtwire: <- REPLY remote\.DOMAIN_GET_STATE\(212\) serial=\d+ OK \d+ bytes$/,
        ),
      );
      expect(lines.at(-1)).toMatch(/^virtwire: <- REPLY remote\.CONNECT_CLOSE\(2\)/);
    }
    const err = await runCli(onA('--debug', 'domstate', 'nosuch'));
    expect(err.stderr).toMatch(
      /<- REPLY remote\.DOMAIN_LOOKUP_BY_NAME\(23\) serial=\d+ ERROR VIR_ERR_NO_DOMAIN/,
    );
    expect(err.stderr).toContain('    at '); // the stack, since tracing is on
  });
});

describe('events', () => {
  it('prints typed events as JSON until --count is reached', async () => {
    const p = new CliProcess(
      onA('events', '--json', '--domain', 'vm1', '--event', 'lifecycle', '--count', '2'),
    );
    await p.waitFor(
      (o) => o.stderr.includes('listening for lifecycle events of vm1'),
      'the subscription',
    );
    const vm1 = await conn.lookupDomain('vm1');
    await vm1.suspend();
    await vm1.resume();
    const r = await p.done;
    expect(r.code).toBe(0);
    const evs = jsonLines(r.stdout);
    expect(
      evs.map((e) => [
        e.event,
        (e.details as { event: string }).event,
        (e.details as { detail: string }).detail,
      ]),
    ).toEqual([
      ['lifecycle', 'suspended', 'paused'],
      ['lifecycle', 'resumed', 'unpaused'],
    ]);
    expect(evs[0]!.domain).toEqual({ name: 'vm1', uuid: vm1.uuid, id: 1 });
    expect(r.stderr).toContain('events received: 2');
  });

  it('prints virsh-style lines and ends cleanly (exit 0) on Ctrl-C', async () => {
    const p = new CliProcess(onA('events'));
    await p.waitFor((o) => o.stderr.includes('listening for'), 'the subscriptions');
    const vm1 = await conn.lookupDomain('vm1');
    await vm1.suspend();
    await vm1.resume();
    await p.waitFor((o) => o.stdout.includes('resumed'), 'the resumed event');
    p.kill('SIGINT');
    const r = await p.done;
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      "event 'lifecycle' for domain 'vm1': suspended (paused)\nevent 'lifecycle' for domain 'vm1': resumed (unpaused)\n",
    );
    expect(r.stderr).toContain('events received: 2');
    // the daemon side was told: no registration left behind
    await new Promise((res) => setTimeout(res, 200));
    expect(
      a.calls.filter((c) => c === 'CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY').length,
    ).toBeGreaterThan(0);
  });
});

describe('migration between two simulated hosts', () => {
  let src: Simulator;
  let dst: Simulator;
  let sc: Connection;
  let dc: Connection;

  async function hosts(dirtyRateMiBps = 300): Promise<Domain> {
    src = await Simulator.start({
      tcp: true,
      timeScale: SCALE,
      bandwidthMiBps: 1000,
      domains: [
        { name: 'mig', state: 'running', persistent: false, memoryMiB: 1024, dirtyRateMiBps },
      ],
    });
    dst = await Simulator.start({ tcp: true, timeScale: SCALE, bandwidthMiBps: 1000 });
    sc = await src.connect();
    dc = await dst.connect();
    return sc.lookupDomain('mig');
  }
  afterEach(async () => {
    await Promise.all([sc?.close(), dc?.close()]);
    await Promise.all([src?.close(), dst?.close()]);
  });

  it('post-copy after the first pass, as one JSON object per line, and the final states', async () => {
    await hosts();
    const r = await runCli(
      postcopyMigrateArgs(src.uri, 'mig', dst.uri, '--postcopy-bandwidth', '100', '--json'),
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout);
    // post-copy progress is reported too, its rate measured from post-copy traffic only
    const post = lines.filter((l) => l.type === 'progress' && l.phase === 'postcopy');
    expect(post.length).toBeGreaterThanOrEqual(2);
    expect(post[0]!.rateBps).toBeNull();
    expect(post.at(-1)!.rateBps as number).toBeGreaterThan(90 * MiB);
    expect(post.at(-1)!.rateBps as number).toBeLessThan(110 * MiB);
    expect(lines).toContainEqual(
      expect.objectContaining({ type: 'switch', trigger: 'iteration', ok: true }),
    );
    expect(lines[0]).toMatchObject({
      type: 'start',
      domain: 'mig',
      mode: 'managed',
      destination: dst.uri,
      options: { live: true, postcopy: true, postcopyPolicy: 'after-precopy', bandwidth: 100 },
    });
    const progress = lines.filter((l) => l.type === 'progress');
    expect(progress.length).toBeGreaterThanOrEqual(2);
    for (const p of progress) {
      expect(p.memoryTotal).toBe(1024 * MiB);
      expect(typeof p.t).toBe('number');
      expect(['precopy', 'postcopy']).toContain(p.phase);
    }
    expect(progress[0]).toMatchObject({ phase: 'precopy', iteration: 1, memoryBps: 100 * MiB });
    const events = lines.filter((l) => l.type === 'event');
    const seen = events.map(
      (e) =>
        `${e.side}:${e.event === 'lifecycle' ? `${(e.details as { event: string }).event}/${(e.details as { detail: string }).detail}` : e.event}`,
    );
    expect(seen).toContain('source:suspended/postcopy');
    expect(seen).toContain('destination:resumed/postcopy');
    expect(seen).toContain('source:job_completed');
    const summary = lines.at(-1)!;
    expect(summary).toMatchObject({
      type: 'summary',
      domain: 'mig',
      result: 'completed',
      postcopy: true,
      postcopySwitch: { trigger: 'iteration' },
      destinationState: 'running (migrated)',
      sourceState: 'gone (transient domain moved)',
      error: null,
    });
    expect(summary.postcopyRequests as number).toBeGreaterThan(0);
    expect(summary.downtimeMs as number).toBeGreaterThanOrEqual(0);
    expect(summary.iterations as number).toBeGreaterThanOrEqual(2);
    // the hosts agree
    expect((await dc.lookupDomain('mig').then((d) => d.state())).state).toBe('running');
    expect((await sc.listAllDomains()).map((d) => d.name)).not.toContain('mig');
  });

  it('virtwire chart draws a saved --json run, and --chart writes one when the migration ends', async () => {
    await hosts();
    const dir = mkdtempSync(join(tmpdir(), 'vw-chart-'));
    try {
      const html = join(dir, 'live.html');
      const r = await runCli(
        postcopyMigrateArgs(
          src.uri,
          'mig',
          dst.uri,
          '--postcopy-bandwidth',
          '100',
          '--json',
        ).concat(['--chart', html]),
      );
      expect(r.code).toBe(0);
      const out = jsonLines(r.stdout);
      // the CLI's own line after the migration is not a timeline record: a type of its own
      expect(out.at(-2)).toEqual({
        type: 'cli',
        message: `chart written to ${html}`,
        action: 'chart',
        path: html,
      });
      const summary = out.at(-1)!;
      expect(summary.type).toBe('summary');
      const requests = summary.postcopyRequests as number;
      expect(requests).toBeGreaterThan(0);
      const page = readFileSync(html, 'utf8');
      expect(page).toMatch(/^<!DOCTYPE html>/i);
      expect(page).toContain(`class="panel panel-requests" data-total="${requests}"`);
      expect(page).toContain('class="marker marker-switch"');

      // the same chart from the saved lines, as SVG on stdout and as a file
      const run = join(dir, 'run.jsonl');
      writeFileSync(run, r.stdout);
      const svg = await runCli(['chart', run]);
      expect(svg.code, svg.stderr).toBe(0);
      expect(svg.stdout).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg /);
      expect(svg.stdout).toContain(`class="panel panel-requests" data-total="${requests}"`);
      const svgFile = join(dir, 'run.svg');
      const file = await runCli(['chart', run, '-o', svgFile]);
      expect(file.code).toBe(0);
      expect(file.stderr).toBe(`chart written to ${svgFile}\n`);
      expect(readFileSync(svgFile, 'utf8')).toBe(svg.stdout);

      // bad input: named, exit 2
      const png = await runCli(['chart', run, '-o', join(dir, 'x.png')]);
      expect([png.code, png.stderr]).toEqual([
        2,
        `error: -o ${join(dir, 'x.png')}: the file name must end in .svg or .html\n`,
      ]);
      writeFileSync(join(dir, 'summary-only.jsonl'), `${JSON.stringify(summary)}\n`);
      const noStart = await runCli(['chart', join(dir, 'summary-only.jsonl')]);
      expect(noStart.code).toBe(2);
      expect(noStart.stderr).toContain('no "start" line');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('virtwire chart reads a timeline saved by the library, pretty-printed or not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vw-chart-'));
    try {
      const saved = readFileSync(join(ROOT, 'fixtures/timelines/real-postcopy.json'), 'utf8');
      expect(saved.split('\n').length).toBeGreaterThan(10); // pretty-printed
      const requests = (
        JSON.parse(saved) as { records: Array<{ type: string; stats?: Record<string, unknown> }> }
      ).records.find((x) => x.type === 'end')!.stats!.memoryPostcopyRequests;
      writeFileSync(join(dir, 'pretty.json'), saved);
      writeFileSync(join(dir, 'one-line.json'), JSON.stringify(JSON.parse(saved)));
      for (const f of ['pretty.json', 'one-line.json']) {
        const r = await runCli(['chart', join(dir, f)]);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toContain(`class="panel panel-requests" data-total="${requests}"`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prints plain progress lines on stderr and the summary on stdout when not on a terminal', async () => {
    await hosts();
    // plain mode writes a line a second: the first pass held to 25 MiB/s (4 s) and post-copy to
    // 50 MiB/s are long enough for it to see both, however loaded the machine
    const r = await runCli(
      migrateArgs(
        src.uri,
        'mig',
        dst.uri,
        '--postcopy',
        '--postcopy-after-precopy',
        '--bandwidth',
        '25',
        '--postcopy-bandwidth',
        '50',
      ),
    );
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).not.toContain('\x1b');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe(
      `Migrating mig: ${src.uri} -> ${dst.uri} (live, post-copy after the first pass, 25 MiB/s)`,
    );
    expect(
      lines.some((l) =>
        /^migration: \d+\.\d% pre-copy, iteration 1, remaining .* rate 25\.0 MiB\/s/.test(l),
      ),
    ).toBe(true);
    expect(lines).toContain('source: suspended (postcopy)');
    // the switch has a line of its own, and nothing after it says pre-copy
    const sw = lines.findIndex((l) =>
      /^switched to post-copy at \d+(\.\d)? m?s \(latency \d+(\.\d+)? ms\)$/.test(l),
    );
    expect(sw).toBeGreaterThan(0);
    expect(lines.slice(sw).some((l) => l.includes('pre-copy'))).toBe(false);
    expect(
      lines.slice(sw).some((l) => /^migration: .* post-copy, .*post-copy requests \d+/.test(l)),
    ).toBe(true);
    expect(r.stdout).toMatch(/^Migration of mig completed \(post-copy\) in /);
    expect(r.stdout).toMatch(/^ {2}post-copy requests: [1-9]\d*$/m);
    expect(r.stdout).toMatch(/^ {2}destination: +running \(migrated\)$/m);
    expect(r.stdout).not.toContain('migration: '); // no progress on stdout
  });

  it('aborts the job on Ctrl-C and exits non-zero, leaving the guest on the source', async () => {
    await hosts();
    const dir = mkdtempSync(join(tmpdir(), 'vw-chart-'));
    const chart = join(dir, 'aborted.svg');
    const p = new CliProcess(
      migrateArgs(src.uri, 'mig', dst.uri, '--bandwidth', '100', '--json', '--chart', chart),
    );
    await p.waitFor((o) => o.stdout.includes('"type":"progress"'), 'a progress line');
    p.kill('SIGINT');
    const r = await p.done;
    expect(r.code).toBe(1);
    const lines = jsonLines(r.stdout);
    expect(lines).toContainEqual(expect.objectContaining({ type: 'note', action: 'abort' }));
    expect(lines.at(-1)).toMatchObject({ type: 'summary', result: 'aborted', postcopy: false });
    expect(r.stderr).toMatch(/^error: VIR_ERR_OPERATION_ABORTED: /);
    expect((await sc.lookupDomain('mig').then((d) => d.state())).state).toBe('running');
    expect((await dc.listAllDomains()).map((d) => d.name)).not.toContain('mig');
    // the chart is written after Ctrl-C too, the abort where it was asked for
    const svg = readFileSync(chart, 'utf8');
    rmSync(dir, { recursive: true, force: true });
    const abortAt = lines.find((l) => l.type === 'abort')!.t as number;
    expect(svg).toContain(`class="marker marker-abort" data-t="${Math.round(abortAt)}"`);
    expect(svg).toContain('class="marker marker-aborted"');
  });

  it('Ctrl-C in post-copy does not abort; a second one leaves the migration running (exit 130)', async () => {
    const d = await hosts();
    const p = new CliProcess(
      migrateArgs(
        src.uri,
        'mig',
        dst.uri,
        '--postcopy',
        '--bandwidth',
        '100',
        '--postcopy-bandwidth',
        '1', // slow enough to stay in post-copy for the test
        '--json',
      ),
    );
    await p.waitFor((o) => o.stdout.includes('"type":"progress"'), 'a progress line');
    await d.migrateStartPostCopy();
    await p.waitFor((o) => o.stdout.includes('"detail":"postcopy"'), 'the post-copy events');
    p.kill('SIGINT');
    await p.waitFor((o) => o.stdout.includes('"action":"none"'), 'the refusal to abort');
    expect(p.stdout).not.toContain('"action":"abort"');
    p.kill('SIGINT');
    const r = await p.done;
    expect(r.code).toBe(130);
    // the error once, on stderr; what became of the migration is in the summary
    expect(r.stderr).toBe(
      "error: interrupted: left the migration of mig; the summary shows both hosts' states after leaving\n",
    );
    const out = jsonLines(r.stdout);
    expect(out.at(-1)).toMatchObject({
      type: 'summary',
      result: 'detached',
      postcopy: true,
    });
    // warned before leaving, with what libvirt does to the source
    expect(out).toContainEqual(
      expect.objectContaining({
        type: 'note',
        action: 'leave',
        message: expect.stringContaining('paused (post-copy failed)'),
      }),
    );
    // the values it has, rather than question marks
    expect((out.at(-1) as { postcopyRequests: number | null }).postcopyRequests).not.toBeNull();
    // the guest runs on the destination, still pulling its memory over
    const s = await (await dc.lookupDomain('mig')).state();
    expect(`${s.state}/${s.reason}`).toBe('running/postcopy');
  });

  it('--timeout suspends the guest so pre-copy converges, as virsh does', async () => {
    await hosts();
    const r = await runCli(
      migrateArgs(src.uri, 'mig', dst.uri, '--bandwidth', '100', '--timeout', '1', '--json'),
    );
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout);
    expect(lines).toContainEqual(expect.objectContaining({ type: 'note', action: 'suspend' }));
    expect(lines).toContainEqual(
      expect.objectContaining({
        type: 'event',
        side: 'source',
        details: expect.objectContaining({ event: 'suspended' }),
      }),
    );
    expect(lines.at(-1)).toMatchObject({ type: 'summary', result: 'completed', postcopy: false });
  });

  it('--timeout N --timeout-postcopy switches to post-copy after N seconds', async () => {
    await hosts();
    const r = await runCli(
      migrateArgs(
        src.uri,
        'mig',
        dst.uri,
        '--postcopy',
        '--bandwidth',
        '10',
        '--timeout',
        '1',
        '--timeout-postcopy',
        '--json',
      ),
    );
    expect(r.code).toBe(0);
    const summary = jsonLines(r.stdout).at(-1)!;
    expect(summary).toMatchObject({
      result: 'completed',
      postcopy: true,
      postcopySwitch: { trigger: 'timeout' },
    });
    expect((summary.postcopySwitch as { atMs: number }).atMs).toBeGreaterThanOrEqual(1000);
  });

  it('domjobinfo, migrate-postcopy and domjobabort act on a running migration', async () => {
    const d = await hosts();
    const m = d.migrate(dc, { live: true, postcopy: true, bandwidth: 10 });
    const first = m.progress({ intervalMs: 50 })[Symbol.asyncIterator]();
    await first.next(); // the job runs
    const info = await runCli(['-c', src.uri, 'domjobinfo', '--json', 'mig']);
    expect(info.code).toBe(0);
    const j = JSON.parse(info.stdout) as {
      type: string;
      operation: string;
      operationCode: number;
      stats: Record<string, unknown>;
    };
    expect(j.type).toBe('Unbounded');
    expect(j.operation).toBe('Outgoing migration');
    expect(j.operationCode).toBe(5);
    expect(j.stats.memory_total).toBe(1024 * MiB);
    const text = await runCli(['-c', src.uri, 'domjobinfo', 'mig']);
    expect(text.stdout).toMatch(/^Operation: +Outgoing migration$/m);
    expect(text.stdout).toMatch(/^Memory total: +1\.000 GiB$/m);
    const sw = await runCli(['-c', src.uri, 'migrate-postcopy', 'mig']);
    expect(sw.code).toBe(0);
    expect(sw.stdout).toBe('');
    await m.done;
    expect(m.postcopyStarted).toBe(true);
    await first.return?.(undefined);

    // and a second migration, aborted from another process
    await Promise.all([sc.close(), dc.close()]);
    await Promise.all([src.close(), dst.close()]);
    const d2 = await hosts();
    const m2 = d2.migrate(dc, { live: true, bandwidth: 10 });
    const it2 = m2.progress({ intervalMs: 50 })[Symbol.asyncIterator]();
    await it2.next();
    const ab = await runCli(['-c', src.uri, 'domjobabort', 'mig']);
    expect(ab.code).toBe(0);
    await expect(m2.done).rejects.toBeInstanceOf(MigrationError);
    await it2.return?.(undefined);
    const none = await runCli(['-c', src.uri, 'domjobabort', 'mig']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^error: VIR_ERR_OPERATION_INVALID: /);
  });
});

describe('virtwire demo', () => {
  it('migrates with post-copy between two simulated hosts, in well under 30 s', async () => {
    const t0 = Date.now();
    const r = await runCli(['demo', '--json']);
    const ms = Date.now() - t0;
    expect(r.code).toBe(0);
    expect(ms).toBeLessThan(30_000);
    const lines = jsonLines(r.stdout);
    expect(lines[0]).toMatchObject({
      type: 'start',
      domain: 'demo-vm',
      options: { postcopyPolicy: 'after-precopy' },
    });
    expect(lines.filter((l) => l.type === 'progress').length).toBeGreaterThan(3);
    expect(lines.at(-1)).toMatchObject({
      type: 'summary',
      result: 'completed',
      postcopy: true,
      postcopySwitch: { trigger: 'iteration' },
      destinationState: 'running (migrated)',
    });
    expect(r.stderr).toContain('virtwire demo: two simulated libvirt hosts');
    expect(r.stderr).toMatch(
      /\$ virtwire -c qemu\+tcp:\/\/127\.0\.0\.1:\d+\/system migrate --live --postcopy --postcopy-after-precopy/,
    );
  });
});
