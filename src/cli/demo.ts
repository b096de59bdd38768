/**
 * `virtwire demo`: two simulated libvirt hosts in this process (virtwire's
 * host simulator, listening on TCP like real daemons), a guest that dirties
 * its memory faster than the link can copy it, and a post-copy migration
 * driven exactly as `virtwire migrate` drives one: the same command code,
 * connections, progress line and summary.
 */
import { Simulator } from '../testing/index.js';
import { CliContext } from './context.js';
import { type MigrateCliOptions, migrateCommand } from './migrate.js';

export interface DemoOptions {
  readonly json?: boolean;
  readonly verbose?: boolean;
  readonly timeScale?: number;
  readonly chart?: string;
}

/** The scenario: numbers chosen so that pre-copy alone could never finish. */
export const DEMO = {
  guest: 'demo-vm',
  memoryMiB: 2048,
  dirtyRateMiBps: 300,
  /** The guest's working set: what it keeps dirtying (the rest of its memory stays clean). */
  dirtySetMiB: 512,
  /** Pre-copy is held to this (virsh's --bandwidth), post-copy may use the whole link. */
  bandwidthMiBps: 100,
  linkMiBps: 1000,
  postcopyBandwidthMiBps: 128,
  /** Simulated seconds per real second: the 20 s first pass shows for 5 s. */
  timeScale: 4,
} as const;

export async function demoCommand(ctx: CliContext, opts: DemoOptions): Promise<void> {
  const timeScale = opts.timeScale ?? DEMO.timeScale;
  // The story is commentary, like progress: stderr (stdout has the summary, or the JSON lines).
  const say = (s: string): void => ctx.err(s);
  const common = { tcp: true, timeScale, bandwidthMiBps: DEMO.linkMiBps } as const;
  const a = await Simulator.start({
    ...common,
    hostname: 'host-a',
    domains: [
      {
        name: DEMO.guest,
        state: 'running',
        persistent: false,
        memoryMiB: DEMO.memoryMiB,
        dirtyRateMiBps: DEMO.dirtyRateMiBps,
        dirtySetMiB: DEMO.dirtySetMiB,
      },
    ],
  });
  try {
    const b = await Simulator.start({ ...common, hostname: 'host-b' });
    try {
      const cli: MigrateCliOptions = {
        live: true,
        postcopy: true,
        postcopyAfterPrecopy: true,
        bandwidth: DEMO.bandwidthMiBps,
        postcopyBandwidth: DEMO.postcopyBandwidthMiBps,
        ...(opts.json ? { json: true } : {}),
        ...(opts.verbose ? { verbose: true } : {}),
        ...(opts.chart !== undefined ? { chart: opts.chart } : {}),
      };
      say(
        [
          'virtwire demo: two simulated libvirt hosts in this process, speaking the real protocol over TCP',
          `  host-a  ${a.uri}`,
          `  host-b  ${b.uri}`,
          `Guest ${DEMO.guest}: ${DEMO.memoryMiB} MiB of memory, ${DEMO.dirtySetMiB} MiB of it dirtied at ${DEMO.dirtyRateMiBps} MiB/s, copied at ${DEMO.bandwidthMiBps} MiB/s:`,
          'pre-copy alone would never converge, so the migration switches to post-copy after the first pass.',
          `The simulated guest runs on simulated time, ${timeScale}x faster than real time: the daemons' figures`,
          '(rates, downtime) are in simulated time; elapsed times and ETAs are real time.',
          '',
          `$ virtwire -c ${a.uri} migrate --live --postcopy --postcopy-after-precopy --bandwidth ${DEMO.bandwidthMiBps} --postcopy-bandwidth ${DEMO.postcopyBandwidthMiBps} ${DEMO.guest} ${b.uri}`,
        ].join('\n'),
      );
      const source = new CliContext(ctx.io, { ...ctx.globals, connect: a.uri });
      await migrateCommand(source, DEMO.guest, b.uri, cli);
      say(
        [
          '',
          'The same command works against real hosts, e.g.:',
          `  virtwire -c qemu+ssh://root@host-a/system migrate --live --postcopy --postcopy-after-precopy ${DEMO.guest} qemu+ssh://root@host-b/system`,
        ].join('\n'),
      );
    } finally {
      await b.close();
    }
  } finally {
    await a.close();
  }
}
