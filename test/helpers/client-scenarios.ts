/**
 * Scenarios that libvirt's own clients (virsh, python3-libvirt) play against
 * two hosts A and B by URI: the domain life cycle, tunables, what a host has
 * none of, events, and migration in every mode. Each returns its outcome,
 * normalised (real-clients.ts), so the same scenario can be played against
 * real libvirtd hosts and against simulators and the outcomes compared;
 * test/integration/simulator-clients.test.ts checks them against libvirtd's
 * behaviour, simulator-crosscheck.test.ts against the real hosts.
 */
import {
  dominfo,
  jobinfoKeys,
  norm,
  parseEvents,
  progress,
  python,
  type Run,
  virsh,
  virshBackground,
  writeXml,
} from './real-clients.js';

export interface Hosts {
  readonly a: string;
  readonly b: string;
  /** Where the guests' XML files go. */
  readonly dir: string;
  /** The definition of a guest of this name. */
  xml(name: string): string;
}

/** One normalised virsh result. */
type Step = ReturnType<typeof norm>;

export interface Scenario {
  readonly name: string;
  /** The guests it uses: their events are part of its outcome. */
  readonly guests: readonly string[];
  run(h: Hosts): Promise<Record<string, unknown>>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `domstate --reason`, or `absent` when the host has no such domain. */
export async function state(uri: string, name: string): Promise<string> {
  const r = await virsh(uri, ['domstate', '--reason', name]);
  return r.code === 0 ? r.out.trim() : 'absent';
}

async function define(h: Hosts, uri: string, name: string, start: boolean): Promise<void> {
  const file = writeXml(h.dir, name, h.xml(name));
  const d = await virsh(uri, ['define', file]);
  if (d.code !== 0) throw new Error(`define ${name}: ${d.err}`);
  if (start) {
    const s = await virsh(uri, ['start', name]);
    if (s.code !== 0) throw new Error(`start ${name}: ${s.err}`);
  }
}

/** Destroys and undefines `names` on both hosts (what a scenario leaves, or a previous run). */
export async function remove(h: Hosts, names: readonly string[]): Promise<void> {
  for (const uri of [h.a, h.b]) {
    for (const n of names) {
      await virsh(uri, ['destroy', n]);
      await virsh(uri, ['undefine', n]);
    }
  }
}

async function bothStates(h: Hosts, name: string) {
  return { a: await state(h.a, name), b: await state(h.b, name) };
}

/**
 * Waits until `virsh domjobinfo` shows memory moving and its rate measured
 * (libvirtd leaves the rate out until QEMU has one); returns its field names.
 */
async function transferring(uri: string, name: string): Promise<string[]> {
  for (let i = 0; i < 300; i++) {
    const r = await virsh(uri, ['domjobinfo', name]);
    if (/^Memory processed:/m.test(r.out) && /^Memory bandwidth:/m.test(r.out))
      return jobinfoKeys(r);
    await sleep(100);
  }
  throw new Error(`the migration of ${name} did not start transferring memory`);
}

/** A migration's virsh run: exit code, messages, and whether its progress stayed within 0-100 %. */
function migrated(r: Run) {
  const p = progress(r);
  return {
    ...norm(r),
    progressWithin0to100: p.every((x) => x >= 0 && x <= 100),
    progressEndsAt100: p.length === 0 ? null : p.at(-1) === 100,
  };
}

const lifecycle: Scenario = {
  name: 'virsh: define, dominfo, domstate, dumpxml, start, suspend, resume, destroy, undefine',
  guests: ['vw-c-life'],
  async run(h) {
    const n = 'vw-c-life';
    const file = writeXml(h.dir, n, h.xml(n));
    const s: Record<string, Step> = {};
    const keep = (i: Record<string, string>) => {
      const pick = ['Id', 'Name', 'OS Type', 'State', 'CPU(s)', 'Max memory', 'Used memory'];
      return Object.fromEntries(
        [...pick, 'Persistent', 'Autostart', 'Managed save'].map((k) => [k, i[k]]),
      );
    };
    s.define = norm(await virsh(h.a, ['define', file]));
    const infoDefined = keep(dominfo(await virsh(h.a, ['dominfo', n])));
    s.stateDefined = norm(await virsh(h.a, ['domstate', '--reason', n]));
    s.start = norm(await virsh(h.a, ['start', n]));
    const infoRunning = keep(dominfo(await virsh(h.a, ['dominfo', n])));
    s.stateStarted = norm(await virsh(h.a, ['domstate', '--reason', n]));
    const xml = (await virsh(h.a, ['dumpxml', n])).out;
    const inactive = (await virsh(h.a, ['dumpxml', '--inactive', n])).out;
    s.startAgain = norm(await virsh(h.a, ['start', n]));
    s.suspend = norm(await virsh(h.a, ['suspend', n]));
    s.statePaused = norm(await virsh(h.a, ['domstate', '--reason', n]));
    s.resume = norm(await virsh(h.a, ['resume', n]));
    s.stateResumed = norm(await virsh(h.a, ['domstate', '--reason', n]));
    s.destroy = norm(await virsh(h.a, ['destroy', n]));
    s.stateDestroyed = norm(await virsh(h.a, ['domstate', '--reason', n]));
    s.suspendShutOff = norm(await virsh(h.a, ['suspend', n]));
    s.undefine = norm(await virsh(h.a, ['undefine', n]));
    s.dominfoGone = norm(await virsh(h.a, ['dominfo', n]));
    return {
      steps: s,
      infoDefined,
      infoRunning,
      dumpxml: {
        name: xml.includes(`<name>${n}</name>`),
        liveHasId: /<domain [^>]*id='\d+'/.test(xml),
        inactiveHasId: /<domain [^>]*id='\d+'/.test(inactive),
        memoryKiB: /<memory unit='KiB'>(\d+)<\/memory>/.exec(xml)?.[1] ?? null,
        keepsMetadata: xml.includes('urn:virtwire:simulator:1'),
      },
    };
  },
};

const tunables: Scenario = {
  name: 'virsh: migrate-setspeed/getspeed/setmaxdowntime, domjobinfo, domjobabort without a job',
  guests: ['vw-c-tune'],
  async run(h) {
    const n = 'vw-c-tune';
    await define(h, h.a, n, true);
    const s: Record<string, Step> = {};
    const v = async (label: string, ...args: string[]) => {
      s[label] = norm(await virsh(h.a, args));
    };
    await v('getspeed', 'migrate-getspeed', n);
    await v('getspeedPostcopy', 'migrate-getspeed', '--postcopy', n);
    await v('setspeed', 'migrate-setspeed', n, '20');
    await v('getspeedAfter', 'migrate-getspeed', n);
    await v('setspeedPostcopy', 'migrate-setspeed', '--postcopy', n, '50');
    await v('getspeedPostcopyAfter', 'migrate-getspeed', '--postcopy', n);
    await v('getmaxdowntime', 'migrate-getmaxdowntime', n);
    await v('setmaxdowntime', 'migrate-setmaxdowntime', n, '250');
    await v('getmaxdowntimeAfter', 'migrate-getmaxdowntime', n);
    await v('domjobinfo', 'domjobinfo', n);
    await v('domjobinfoCompleted', 'domjobinfo', '--completed', n);
    await v('domjobabort', 'domjobabort', n);
    await v('migratePostcopy', 'migrate-postcopy', n);
    await remove(h, [n]);
    return { steps: s };
  },
};

const catalogue: Scenario = {
  name: 'virsh: version, and the networks, pools, secrets, devices and filters a host has none of',
  guests: [],
  async run(h) {
    const version = (await virsh(h.a, ['version'])).out;
    const s: Record<string, Step> = {};
    const v = async (label: string, ...args: string[]) => {
      s[label] = norm(await virsh(h.a, args));
    };
    await v('netList', 'net-list', '--all');
    await v('poolList', 'pool-list', '--all');
    await v('secretList', 'secret-list');
    await v('nwfilterList', 'nwfilter-list');
    await v('netInfo', 'net-info', 'vw-nope');
    await v('poolInfo', 'pool-info', 'vw-nope');
    await v('volInfo', 'vol-info', '/vw-nope');
    await v('nodedev', 'nodedev-dumpxml', 'vw-nope');
    await v('secret', 'secret-dumpxml', '00000000-0000-4000-8000-000000000001');
    await v('iface', 'iface-dumpxml', 'vw-nope');
    await v('nwfilter', 'nwfilter-dumpxml', 'vw-nope');
    return {
      library: /^Using library: .*$/m.exec(version)?.[0] ?? null,
      hypervisor: /^Running hypervisor: QEMU (\d+\.\d+)\./m.exec(version)?.[1] ?? null,
      steps: s,
    };
  },
};

const pythonErrors: Scenario = {
  name: 'python3-libvirt: error codes and error domains of calls on objects a host has none of',
  guests: ['vw-c-err'],
  async run(h) {
    const n = 'vw-c-err';
    await define(h, h.a, n, true);
    const errors = await python<Record<string, unknown>>('errors.py', [h.a, n]);
    await remove(h, [n]);
    return { errors };
  },
};

const pythonEvents: Scenario = {
  name: "python3-libvirt: lifecycle events through libvirt's default event loop",
  guests: ['vw-c-pev'],
  async run(h) {
    const n = 'vw-c-pev';
    const file = writeXml(h.dir, n, h.xml(n));
    return { callback: await python<number[][]>('events.py', [h.a, n, file]) };
  },
};

/**
 * A live migration of a fresh guest from A to B with these virsh options.
 * `downtimeMs`: the real guest rewrites 46 MiB without pause, so an
 * unlimited migration converges on a busy machine only with a downtime
 * allowed that long (the others switch to post-copy or suspend anyway).
 */
function plainMigration(
  name: string,
  guest: string,
  options: readonly string[],
  downtimeMs?: number,
): Scenario {
  return {
    name,
    guests: [guest],
    async run(h) {
      await define(h, h.a, guest, true);
      if (downtimeMs) await virsh(h.a, ['migrate-setmaxdowntime', guest, String(downtimeMs)]);
      const r = migrated(
        await virsh(h.a, ['migrate', ...options, '--persistent', '--undefinesource', guest, h.b]),
      );
      return { migrate: r, states: await bothStates(h, guest) };
    },
  };
}

const offline: Scenario = {
  name: 'virsh: migrate --offline --persistent, managed and --p2p, of shut-off and running guests',
  guests: ['vw-c-off', 'vw-c-offp', 'vw-c-offrun'],
  async run(h) {
    await define(h, h.a, 'vw-c-off', false);
    await define(h, h.a, 'vw-c-offp', false);
    await define(h, h.a, 'vw-c-offrun', true);
    const managed = norm(
      await virsh(h.a, ['migrate', '--offline', '--persistent', 'vw-c-off', h.b]),
    );
    const p2p = norm(
      await virsh(h.a, [
        'migrate',
        '--offline',
        '--persistent',
        '--undefinesource',
        '--p2p',
        'vw-c-offp',
        h.b,
      ]),
    );
    const running = norm(
      await virsh(h.a, ['migrate', '--offline', '--persistent', 'vw-c-offrun', h.b]),
    );
    const noPersist = norm(await virsh(h.a, ['migrate', '--offline', 'vw-c-offrun', h.b]));
    const tunnelled = norm(
      await virsh(h.a, [
        'migrate',
        '--offline',
        '--persistent',
        '--p2p',
        '--tunnelled',
        'vw-c-offrun',
        h.b,
      ]),
    );
    return {
      managed,
      p2p,
      running,
      noPersist,
      tunnelled,
      states: {
        off: await bothStates(h, 'vw-c-off'),
        offp: await bothStates(h, 'vw-c-offp'),
        offrun: await bothStates(h, 'vw-c-offrun'),
      },
    };
  },
};

const postcopyAfterPrecopy: Scenario = {
  name: 'virsh: migrate --postcopy --postcopy-after-precopy --verbose, then domjobinfo --completed',
  guests: ['vw-c-pc'],
  async run(h) {
    const n = 'vw-c-pc';
    await define(h, h.a, n, true);
    const r = migrated(
      await virsh(h.a, [
        'migrate',
        '--live',
        '--persistent',
        '--undefinesource',
        '--postcopy',
        '--postcopy-after-precopy',
        '--verbose',
        '--bandwidth',
        '20',
        n,
        h.b,
      ]),
    );
    const completed = await virsh(h.b, ['domjobinfo', '--completed', n]);
    return {
      migrate: r,
      states: await bothStates(h, n),
      completedOnDestination: /^Job type:\s+(\S+)/m.exec(completed.out)?.[1] ?? null,
    };
  },
};

const manualPostcopy: Scenario = {
  name: 'virsh: domjobinfo during a migration, migrate-postcopy by hand (twice)',
  guests: ['vw-c-man'],
  async run(h) {
    const n = 'vw-c-man';
    await define(h, h.a, n, true);
    const m = virshBackground(h.a, [
      'migrate',
      '--live',
      '--persistent',
      '--undefinesource',
      '--postcopy',
      '--bandwidth',
      '20',
      // slow enough that four virsh runs after the switch still find the job in post-copy on a
      // loaded machine (at 20 MiB/s the real migration ended before the domjobabort now and then)
      '--postcopy-bandwidth',
      '5',
      n,
      h.b,
    ]);
    const jobinfo = await transferring(h.a, n);
    await sleep(1000);
    const first = norm(await virsh(h.a, ['migrate-postcopy', n]));
    const during = await bothStates(h, n);
    const second = norm(await virsh(h.a, ['migrate-postcopy', n]));
    const abortInPostcopy = norm(await virsh(h.a, ['domjobabort', n]));
    const r = migrated(await m.done);
    return {
      jobinfo,
      first,
      during,
      second,
      abortInPostcopy,
      migrate: r,
      states: await bothStates(h, n),
    };
  },
};

const abort: Scenario = {
  name: 'virsh: domjobabort during pre-copy',
  guests: ['vw-c-abort'],
  async run(h) {
    const n = 'vw-c-abort';
    await define(h, h.a, n, true);
    const m = virshBackground(h.a, [
      'migrate',
      '--live',
      '--persistent',
      '--undefinesource',
      '--bandwidth',
      '20',
      n,
      h.b,
    ]);
    await transferring(h.a, n);
    const aborted = norm(await virsh(h.a, ['domjobabort', n]));
    const r = norm(await m.done);
    const after = await bothStates(h, n);
    await remove(h, [n]);
    return { aborted, migrate: r, states: after };
  },
};

/** What python3-libvirt's migrate3 run printed (clients/migrate3.py). */
export interface Migrate3Result {
  readonly ok: boolean;
  readonly error: string | null;
  readonly dest: string | null;
  readonly switched: { readonly ok: boolean | null; readonly error: string | null };
  readonly samples: ReadonlyArray<Record<string, number>>;
  readonly source_state: number[] | null;
  readonly dest_state: number[] | null;
}

const pythonMigrate3: Scenario = {
  name: 'python3-libvirt: migrate3 with post-copy started from another thread, jobStats sampled',
  guests: ['vw-c-py'],
  async run(h) {
    const n = 'vw-c-py';
    await define(h, h.a, n, true);
    const r = await python<Migrate3Result>('migrate3.py', [h.a, h.b, n, '20']);
    return {
      ok: r.ok,
      error: r.error,
      dest: r.dest,
      switched: r.switched,
      sourceState: r.source_state,
      destState: r.dest_state,
      sampled: r.samples.length > 0,
      samples: r.samples,
    };
  },
};

/** Every scenario, in the order they run. */
export const SCENARIOS: readonly Scenario[] = [
  lifecycle,
  tunables,
  catalogue,
  pythonErrors,
  pythonEvents,
  plainMigration('virsh: migrate --live (managed)', 'vw-c-mm', ['--live'], 3000),
  plainMigration('virsh: migrate --live --p2p', 'vw-c-p2p', ['--live', '--p2p'], 3000),
  plainMigration(
    'virsh: migrate --live --p2p --tunnelled',
    'vw-c-tun',
    ['--live', '--p2p', '--tunnelled'],
    3000,
  ),
  offline,
  postcopyAfterPrecopy,
  manualPostcopy,
  // 8 s: a busy real host may need seconds to start the destination's QEMU, and a switch
  // asked before the transfer began is refused (and never asked again)
  plainMigration('virsh: migrate --postcopy --timeout 8 --timeout-postcopy', 'vw-c-tpc', [
    '--live',
    '--postcopy',
    '--timeout',
    '8',
    '--timeout-postcopy',
    '--bandwidth',
    '20',
    '--verbose',
  ]),
  plainMigration('virsh: migrate --timeout 8 (suspends the guest)', 'vw-c-tsus', [
    '--live',
    '--timeout',
    '8',
    '--bandwidth',
    '20',
  ]),
  abort,
  pythonMigrate3,
];

/** `virsh event --all --loop` on both hosts for a whole run; events per host and domain once stopped. */
export function watchEvents(h: Hosts) {
  const a = virshBackground(h.a, ['event', '--all', '--loop']);
  const b = virshBackground(h.b, ['event', '--all', '--loop']);
  return {
    async stop(): Promise<{ a: Map<string, string[]>; b: Map<string, string[]> }> {
      await sleep(1000); // the last events of the last scenario
      a.stop();
      b.stop();
      return { a: parseEvents((await a.done).out), b: parseEvents((await b.done).out) };
    },
  };
}

/** Runs every scenario against hosts `h`; outcomes by scenario name, with each scenario's events. */
export async function playAll(h: Hosts): Promise<Map<string, Record<string, unknown>>> {
  await remove(
    h,
    SCENARIOS.flatMap((s) => s.guests),
  );
  const watch = watchEvents(h);
  await sleep(500); // the watchers are registered before the first event
  const out = new Map<string, Record<string, unknown>>();
  let events: Awaited<ReturnType<typeof watch.stop>>;
  try {
    for (const s of SCENARIOS) out.set(s.name, await s.run(h));
  } finally {
    events = await watch.stop();
  }
  for (const s of SCENARIOS) {
    const o = out.get(s.name) ?? {};
    o.events = Object.fromEntries(
      s.guests.map((g) => [g, { a: events.a.get(g) ?? [], b: events.b.get(g) ?? [] }]),
    );
  }
  await remove(
    h,
    SCENARIOS.flatMap((s) => s.guests),
  );
  return out;
}
