/**
 * `virtwire migrate` and `virtwire demo` as a person sees them: in a real
 * pseudo-terminal (tmux), read off the screen while they run, with Ctrl-C
 * pressed and SIGTERM sent in each phase, on a wide and a narrow terminal,
 * and on TERM=dumb. First against the simulator (demo, and simulated hosts
 * on TCP), then a real post-copy migration between the two real hosts.
 * With VIRTWIRE_TMUX_CAPTURES=DIR the screens are written there.
 */
// generations: 9.0 only, because it tests the CLI's own display in a terminal, which no daemon generation changes; migrations on 11.3 and 12.9 are proven by e2e/migration and e2e/cross-version
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Connection, connect } from '../../src/index.js';
import { Simulator } from '../../src/testing/index.js';
import { guestXml, removeDomains } from '../helpers/guest.js';
import { host } from '../helpers/hosts.js';
import { liveLines, TmuxSession } from '../helpers/tmux.js';
import { cliEnv, MAIN, ROOT } from '../unit/cli/run-cli.js';

const CLI = [process.execPath, '--import', 'tsx', MAIN];
let dir: string;
const sessions: TmuxSession[] = [];

/** A CLI in a terminal `cols` wide. */
function term(
  args: readonly string[],
  cols: number,
  env: Record<string, string> = {},
): TmuxSession {
  const clean = Object.fromEntries(
    Object.entries(cliEnv()).filter(([k, v]) => v !== undefined && /^(PATH|HOME|TMPDIR)$/.test(k)),
  ) as Record<string, string>;
  const t = new TmuxSession([...CLI, ...args], {
    cols,
    rows: 50,
    cwd: ROOT,
    env: { ...clean, ...env },
  });
  sessions.push(t);
  return t;
}

/** Keeps the screens of a test (VIRTWIRE_TMUX_CAPTURES), for people to read. */
function save(name: string, t: TmuxSession): void {
  const to = process.env.VIRTWIRE_TMUX_CAPTURES;
  if (!to) return;
  mkdirSync(to, { recursive: true });
  writeFileSync(
    join(to, `${name}.frames.txt`),
    t.frames.join('\n\n======== next screen ========\n'),
  );
  writeFileSync(join(to, `${name}.final.txt`), `${t.history()}\n`);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vw-tmux-test-'));
});
afterEach(() => {
  for (const t of sessions.splice(0)) t.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const percentOf = (l: string): number => Number(/(\d+\.\d)%/.exec(l)![1]);
const phaseOf = (l: string): string => {
  const m = /(pre-copy|post-copy)\s+(iter \d+|reqs \d+)?/.exec(l)!;
  return m[1] === 'pre-copy' ? `pre ${m[2]}` : 'post';
};

/** Within a phase (a pass of pre-copy, or post-copy) the percent never goes down. */
function expectMonotone(lines: readonly string[]): void {
  for (let i = 1; i < lines.length; i++) {
    if (phaseOf(lines[i]!) === phaseOf(lines[i - 1]!))
      expect(percentOf(lines[i]!), `${lines[i - 1]}\n${lines[i]}`).toBeGreaterThanOrEqual(
        percentOf(lines[i - 1]!),
      );
  }
}

describe('the live line in a real terminal, against the simulator', () => {
  it('virtwire demo: pre-copy, the switch, post-copy, the summary, and a chart', async () => {
    const chart = join(dir, 'demo.html');
    const t = term(['demo', '--chart', chart], 120).watch();
    expect(await t.exit()).toBe(0);
    save('demo', t);
    const lines = liveLines(t.frames);
    const pre = lines.filter((l) => l.includes('pre-copy'));
    const post = lines.filter((l) => l.includes('post-copy'));
    expect(pre.length).toBeGreaterThanOrEqual(3);
    expect(post.length).toBeGreaterThanOrEqual(1);
    // the first pass: QEMU's dirty rate is not known yet, nor an ETA
    for (const l of pre) expect(l).toMatch(/ iter 1 .* dirty \? .* ETA \?$/);
    for (const l of post) expect(l).toMatch(/post-copy +reqs \d+ /);
    for (const l of lines) expect(l.length).toBeLessThan(120);
    expect(new Set(lines.map((l) => l.indexOf(']'))).size).toBe(1); // a fixed-width bar
    expectMonotone(lines);
    const screen = t.history();
    expect(screen).toMatch(/^switched to post-copy at \d+\.\d s \(latency \d+(\.\d+)? ms\)$/m);
    expect(screen).toMatch(
      /^The simulated guest runs on simulated time, 4x faster than real time/m,
    );
    expect(screen).toMatch(/^Migration of demo-vm completed \(post-copy\) in \d+\.\d s$/m);
    expect(screen).toMatch(/^ {2}destination: +running \(migrated\)$/m);
    expect(screen).toMatch(/^chart written to /m);
    expect(t.cursorWasHidden).toBe(true);
    expect(t.cursorVisible).toBe(true);
    const html = readFileSync(chart, 'utf8');
    expect(html).toContain('marker-switch');
    expect(html).toContain('panel-requests');
  });

  it('a narrow terminal: every line fits, the percent and the phase stay', async () => {
    const t = term(['demo'], 50).watch();
    expect(await t.exit()).toBe(0);
    save('demo-narrow', t);
    const lines = liveLines(t.frames);
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const l of lines) {
      expect(l.length).toBeLessThanOrEqual(49);
      expect(l).toMatch(/\d+\.\d% {2}(pre|post)-copy/);
    }
    for (const l of t.history().split('\n')) expect(l.length).toBeLessThanOrEqual(50);
  });

  it('TERM=dumb: plain lines, no escape codes', async () => {
    const t = term(['demo', '--time-scale', '8'], 100, { TERM: 'dumb' });
    expect(await t.exit()).toBe(0);
    save('demo-dumb', t);
    expect(t.raw()).not.toContain('\x1b');
    // plain lines are for logs: the program does not wrap them, the terminal does
    expect(t.history(true)).toMatch(
      /^migration: \d+\.\d% pre-copy, iteration 1, .*dirty unknown \(first pass\), .*ETA unknown$/m,
    );
  });

  it('--help wraps to the terminal', async () => {
    const t = term(['migrate', '--help'], 60);
    expect(await t.exit()).toBe(0);
    const text = t.history();
    expect(text).toContain('progress and notes go to stderr');
    // the examples are kept whole (a command cut in two cannot be copied)
    for (const l of text
      .split('\n')
      .filter((x) => !x.startsWith('  $') && !x.startsWith('      --')))
      expect(l.length, l).toBeLessThanOrEqual(60);
  });

  describe('Ctrl-C and SIGTERM', () => {
    let a: Simulator;
    let b: Simulator;
    let ca: Connection;
    let cb: Connection;
    // fresh hosts for each test: a migration left running stays where it was left
    beforeEach(async () => {
      a = await Simulator.start({
        tcp: true,
        timeScale: 10,
        bandwidthMiBps: 1000,
        domains: [
          {
            name: 'mig',
            state: 'running',
            persistent: false,
            memoryMiB: 1024,
            dirtyRateMiBps: 300,
          },
        ],
      });
      b = await Simulator.start({ tcp: true, timeScale: 10, bandwidthMiBps: 1000 });
      ca = await a.connect();
      cb = await b.connect();
    });
    afterEach(async () => {
      await Promise.all([ca.close(), cb.close()]);
      await Promise.all([a.close(), b.close()]);
    });
    const state = async (c: Connection): Promise<string> => {
      const s = await (await c.lookupDomain('mig')).state();
      return `${s.state}/${s.reason}`;
    };

    it('in pre-copy: Ctrl-C aborts, the summary shows the guest on the source', async () => {
      const t = term(
        ['-c', a.uri, 'migrate', '--live', '--bandwidth', '20', 'mig', b.uri],
        120,
      ).watch();
      await t.waitFor((s) => / iter 1 /.test(s), 'a pre-copy line');
      t.keys('C-c');
      expect(await t.exit()).toBe(1);
      save('sim-ctrl-c-precopy', t);
      const screen = t.history();
      expect(screen).toMatch(/^interrupt: aborting the migration job$/m);
      expect(screen).toMatch(/^Migration of mig aborted in perform after /m);
      expect(screen).toMatch(/^ {2}source: +running \(/m);
      expect(screen).toMatch(/^ {2}destination: +absent/m);
      expect(screen.match(/VIR_ERR_OPERATION_ABORTED/g)).toHaveLength(1); // the error once
      expect(t.cursorVisible).toBe(true);
      expect(await state(ca)).toMatch(/^running\//);
    });

    it('in post-copy: the first Ctrl-C says what leaving does, the second leaves (exit 130)', async () => {
      const t = term(
        [
          '-c',
          a.uri,
          'migrate',
          '--live',
          '--postcopy',
          '--postcopy-after-precopy',
          '--bandwidth',
          '100',
          '--postcopy-bandwidth',
          '1',
          'mig',
          b.uri,
        ],
        120,
      ).watch();
      await t.waitFor((s) => /post-copy +reqs/.test(s), 'a post-copy line');
      t.keys('C-c');
      await t.waitFor((s) => s.includes('Ctrl-C again'), 'the warning');
      expect(t.capture()).not.toContain('aborting');
      t.keys('C-c');
      expect(await t.exit()).toBe(130);
      save('sim-ctrl-c-postcopy', t);
      const screen = t.history();
      expect(screen).toMatch(
        /^interrupt: leaving the migration: libvirt marks the source paused \(post-copy failed\)/m,
      );
      expect(screen).toMatch(/^Left the migration of mig after .* \(post-copy\)$/m);
      expect(screen).toMatch(/^ {2}post-copy requests: +\d+$/m);
      expect(screen).not.toMatch(/requests: +\?/);
      expect(t.cursorVisible).toBe(true);
      expect(await state(cb)).toBe('running/postcopy'); // the guest runs on the destination
    });

    it('SIGTERM: restores the cursor, reports, exits 143', async () => {
      const t = term(
        ['-c', a.uri, 'migrate', '--live', '--bandwidth', '20', 'mig', b.uri],
        120,
      ).watch();
      await t.waitFor((s) => / iter 1 /.test(s), 'a pre-copy line');
      expect(t.cursorVisible).toBe(false);
      t.signal('SIGTERM');
      expect(await t.exit()).toBe(143);
      save('sim-sigterm', t);
      const screen = t.history();
      expect(screen).toMatch(
        /^SIGTERM: leaving the migration: libvirt cancels the migration when this client disconnects/m,
      );
      expect(screen).toMatch(/^error: terminated \(SIGTERM\): left the migration of mig/m);
      expect(t.cursorWasHidden).toBe(true);
      expect(t.cursorVisible).toBe(true);
    });

    it('SIGHUP (the terminal closed): leaves as SIGTERM does, exits 129, the cursor restored', async () => {
      const t = term(
        ['-c', a.uri, 'migrate', '--live', '--bandwidth', '20', 'mig', b.uri],
        120,
      ).watch();
      await t.waitFor((s) => / iter 1 /.test(s), 'a pre-copy line');
      expect(t.cursorVisible).toBe(false);
      t.signal('SIGHUP');
      expect(await t.exit()).toBe(129);
      save('sim-sighup', t);
      expect(t.history()).toMatch(/^error: terminated \(SIGHUP\): left the migration of mig/m);
      expect(t.cursorVisible).toBe(true);
    });
  });
});

describe('the live line in a real terminal, between the real hosts', () => {
  const NAME = 'vw-tmux';
  let A: string;
  let B: string;
  let ca: Connection;
  let cb: Connection;
  beforeAll(async () => {
    A = host('VIRTWIRE_HOST_A_TCP');
    B = host('VIRTWIRE_HOST_B_TCP');
    ca = await connect(A);
    cb = await connect(B);
  });
  const cleanup = (): Promise<void> => removeDomains([ca, cb], NAME);
  afterEach(cleanup);
  afterAll(async () => {
    await cleanup();
    await ca.close();
    await cb.close();
  });
  const startGuest = async (): Promise<void> => {
    await ca.domainCreateXML(guestXml(NAME));
    await new Promise((r) => setTimeout(r, 300));
  };
  const state = async (c: Connection): Promise<string> => {
    const s = await (await c.lookupDomain(NAME)).state();
    return `${s.state}/${s.reason}`;
  };

  it('post-copy: correct figures in every phase, the switch, both states, a chart with the page requests', async () => {
    await startGuest();
    const chart = join(dir, 'real-postcopy.svg');
    const t = term(
      [
        '-c',
        A,
        'migrate',
        '--live',
        '--postcopy',
        '--postcopy-after-precopy',
        '--bandwidth',
        '20',
        '--postcopy-bandwidth',
        '40',
        '--chart',
        chart,
        NAME,
        B,
      ],
      120,
    ).watch(100);
    expect(await t.exit()).toBe(0);
    save('real-postcopy', t);
    const lines = liveLines(t.frames);
    const pre = lines.filter((l) => l.includes('pre-copy'));
    const post = lines.filter((l) => l.includes('post-copy'));
    expect(pre.length).toBeGreaterThanOrEqual(5);
    expect(post.length).toBeGreaterThanOrEqual(1);
    for (const l of pre.filter((x) => / iter 1 /.test(x))) {
      expect(l).toMatch(/dirty \? /); // never `dirty 0 B/s`: QEMU has not measured it yet
      expect(l).toMatch(/ETA \?$/);
      const rate = /(\d+\.\d) MiB\/s/.exec(l);
      if (rate) expect(Number(rate[1])).toBeLessThan(30); // the 20 MiB/s pre-copy limit, measured
    }
    for (const l of post)
      expect(l).toMatch(/post-copy +reqs \d+ +\S+ \S+ left +(\? B\/s|\d+(\.\d)? MiB\/s)/);
    expect(lines.join('\n')).not.toMatch(/dirty 0 B\/s/);
    expectMonotone(lines);
    const screen = t.history();
    const switchLine = /^switched to post-copy at (\d+\.\d) s \(latency (\d+(\.\d+)?) ms\)$/m.exec(
      screen,
    );
    expect(switchLine).not.toBeNull();
    // after the switch line, nothing says pre-copy any more
    const afterSwitch = t.frames.slice(
      t.frames.findIndex((f) => f.includes('switched to post-copy')) + 1,
    );
    expect(liveLines(afterSwitch).filter((l) => l.includes('pre-copy'))).toEqual([]);
    expect(screen).toMatch(/^Migration of vw-tmux completed \(post-copy\) in \d+\.\d s$/m);
    expect(screen).toMatch(
      new RegExp(
        `^ {2}mode: +post-copy, switched after the first pre-copy pass at ${switchLine![1]} s \\(latency ${switchLine![2]} ms\\)$`,
        'm',
      ),
    );
    expect(screen).toMatch(/^ {2}post-copy requests: +[1-9]\d*$/m);
    expect(screen).toMatch(/^ {2}source: +gone \(transient domain moved\)$/m);
    expect(screen).toMatch(/^ {2}destination: +running \(migrated\)$/m);
    expect(screen).not.toMatch(/total time/); // the daemon's clock is not the summary's
    expect(t.cursorVisible).toBe(true);
    const svg = readFileSync(chart, 'utf8');
    expect(svg).toContain('class="marker marker-switch"');
    expect(svg).toMatch(/class="panel panel-requests" data-total="[1-9]\d*"/);
    expect(await state(cb)).toBe('running/migrated');
  });

  it('Ctrl-C in pre-copy aborts the real job: the guest keeps running on the source', async () => {
    await startGuest();
    const t = term(['-c', A, 'migrate', '--live', '--bandwidth', '2', NAME, B], 120).watch();
    await t.waitFor((s) => / iter 1 .*\d MiB\/s/.test(s), 'a pre-copy line with a rate');
    t.keys('C-c');
    expect(await t.exit()).toBe(1);
    save('real-ctrl-c-precopy', t);
    const screen = t.history();
    expect(screen).toMatch(/^Migration of vw-tmux aborted in perform after /m);
    expect(screen).toMatch(/^ {2}source: +running \(/m);
    expect(screen).toMatch(/^ {2}destination: +absent \(no such domain\)$/m);
    expect(screen).not.toContain('probably');
    // the error once: libvirt's "canceled by client", or QEMU's write failing on the socket
    // the cancel shut first ("Broken pipe", reported as failed: the summary still says aborted)
    expect(screen.match(/VIR_ERR_OPERATION_(ABORTED|FAILED)/g)).toHaveLength(1);
    if (!screen.includes('VIR_ERR_OPERATION_ABORTED')) {
      expect(screen.replaceAll('\n', '')).toContain('Unable to write to socket: Broken pipe');
    }
    expect(await state(ca)).toMatch(/^running\//);
    expect(t.cursorVisible).toBe(true);
  });

  it('Ctrl-C twice in post-copy: warned first, the states libvirt left, and the advice works', async () => {
    await startGuest();
    const t = term(
      [
        '-c',
        A,
        'migrate',
        '--live',
        '--postcopy',
        '--bandwidth',
        '5',
        '--postcopy-bandwidth',
        '1',
        NAME,
        B,
      ],
      120,
    ).watch();
    await t.waitFor((s) => / iter 1 .*\d MiB\/s/.test(s), 'a pre-copy line with a rate');
    await (await ca.lookupDomain(NAME)).migrateStartPostCopy(); // by another client than the CLI
    await t.waitFor((s) => /post-copy +reqs/.test(s), 'a post-copy line');
    t.keys('C-c');
    await t.waitFor((s) => s.includes('Ctrl-C again'), 'the warning');
    t.keys('C-c');
    expect(await t.exit()).toBe(130);
    save('real-ctrl-c-postcopy', t);
    const screen = t.history();
    expect(screen).toMatch(/^switched to post-copy at \d+\.\d s \(by another client\)$/m);
    expect(screen).toMatch(
      /^interrupt: leaving the migration: libvirt marks the source paused \(post-copy failed\)/m,
    );
    // what libvirt did, queried after leaving
    expect(screen).toMatch(/^ {2}source: +paused \(postcopy failed\)$/m);
    expect(screen).toMatch(/^ {2}destination: +running \(postcopy\)$/m);
    expect(screen).toMatch(/^ {2}advice: +QEMU is still copying memory to the destination/m);
    expect(screen).toMatch(/^ {2}post-copy requests: +\d+$/m);
    expect(t.cursorVisible).toBe(true);
    expect(await state(ca)).toBe('paused/postcopy_failed');
    // the advice: take it over with domjobabort --postcopy, then a post-copy resume
    const abort = term(['-c', A, 'domjobabort', '--postcopy', NAME], 120);
    expect(await abort.exit()).toBe(0);
    const resume = term(
      [
        '-c',
        A,
        'migrate',
        '--live',
        '--postcopy',
        '--postcopy-resume',
        '--postcopy-bandwidth',
        '200',
        NAME,
        B,
      ],
      120,
    ).watch();
    expect(await resume.exit()).toBe(0);
    save('real-resume', resume);
    expect(resume.history()).toMatch(/^ {2}destination: +running \(migrated\)$/m);
    expect(await state(cb)).toBe('running/migrated');
  });

  it('SIGTERM in pre-copy: the terminal restored, exit 143, libvirt cancelled the job', async () => {
    await startGuest();
    const t = term(['-c', A, 'migrate', '--live', '--bandwidth', '2', NAME, B], 120).watch();
    await t.waitFor((s) => / iter 1 /.test(s), 'a pre-copy line');
    expect(t.cursorVisible).toBe(false);
    t.signal('SIGTERM');
    expect(await t.exit()).toBe(143);
    save('real-sigterm', t);
    const screen = t.history();
    expect(screen).toMatch(/^ {2}source: +running \(/m);
    expect(screen).toMatch(/^ {2}destination: +absent/m);
    expect(t.cursorVisible).toBe(true);
    expect(await state(ca)).toMatch(/^running\//);
  });

  it('a narrow terminal during a real migration', async () => {
    await startGuest();
    const t = term(
      [
        '-c',
        A,
        'migrate',
        '--live',
        '--postcopy',
        '--postcopy-after-precopy',
        '--bandwidth',
        '40',
        NAME,
        B,
      ],
      50,
    ).watch();
    expect(await t.exit()).toBe(0);
    save('real-narrow', t);
    const lines = liveLines(t.frames);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(49);
  });
});
