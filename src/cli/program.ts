/**
 * The `virtwire` command line (commander): global options, every command
 * with its --help, and `run()`, which parses, runs, prints errors and
 * returns the exit status. main.ts wires it to the process; tests call it
 * with their own streams.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import pkg from '../../package.json' with { type: 'json' };
import { domainEventNames } from '../generated/event-names.js';
import {
  DEFAULT_ADMIN_SOCKET,
  DEFAULT_CONNECT_TIMEOUT_S,
  defaultUri,
  EXIT_OK,
  EXIT_USAGE,
} from './constants.js';
import type { CliContext, CliIo, GlobalOptions } from './context.js';
import type { MigrateCliOptions } from './migrate.js';
import { nearestCommands, OBJECT_SPECS } from './object-specs.js';
import { wrapText } from './terminal.js';
import { VIRSH_INSTEAD, VIRSH_SPECS } from './virsh-specs.js';

// The commands' modules load when a command runs, so --help loads none of the
// library (commands.ts says why they are one module); the demo also loads the
// simulator. Node caches modules: tests running many commands pay once.
const commands = () => import('./commands.js');
const demo = () => import('./demo.js');

/** The package version, bundled from package.json so that it cannot drift. */
export const VERSION: string = pkg.version;

/** A whole number >= min, for option values. */
export function integer(min: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`expected an integer >= ${min}`);
    return n;
  };
}

/** A number > 0 (fractions allowed), for durations. */
export function positive(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError('expected a number > 0');
  return n;
}

/** A number >= 0 (fractions allowed). */
export function nonNegative(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError('expected a number >= 0');
  return n;
}

const EXAMPLES = `
Examples:
  $ virtwire -c qemu+tcp://host-a/system list --all
  $ virtwire -c qemu+tcp://host-a/system migrate --live --postcopy --postcopy-after-precopy vm1 qemu+tcp://host-b/system
  $ virtwire -c qemu+tcp://host-a/system events --event lifecycle
  $ virtwire call remote.domainLookupByName '{"name":"vm1"}'
  $ virtwire demo --chart demo.html

Environment:
  VIRTWIRE_DEFAULT_URI, LIBVIRT_DEFAULT_URI   the URI used without -c
  NODE_DEBUG=virtwire                        trace every RPC message on stderr (as --debug)`;

/** Help goes to the width of the terminal it is shown on (80 when it is not a terminal). */
function helpWidth(out: CliIo['stdout']): number {
  return out.isTTY && out.columns && out.columns > 0 ? out.columns : 80;
}

export function buildProgram(io: CliIo): Command {
  const program = new Command('virtwire');
  // help text of our own, wrapped to the width commander wraps its own part to
  const wrapped =
    (text: string) =>
    (context: { error: boolean }): string =>
      wrapText(text, helpWidth(context.error ? io.stderr : io.stdout));
  const ctx = async (): Promise<CliContext> =>
    new (await commands()).CliContext(io, program.opts<GlobalOptions>());
  program
    .description("libvirt's remote protocol from the command line, in pure TypeScript")
    .version(VERSION, '-V, --version')
    .option(
      '-c, --connect <uri>',
      `hypervisor connection URI (default: $VIRTWIRE_DEFAULT_URI, $LIBVIRT_DEFAULT_URI or qemu:///system; now ${defaultUri(io.env)})`,
    )
    .option('-r, --readonly', 'connect read-only')
    .option(
      '--connect-timeout <seconds>',
      `give up opening the connection after this many seconds, 0 for never (default: ${DEFAULT_CONNECT_TIMEOUT_S})`,
      nonNegative,
    )
    .option('-d, --debug', 'trace every RPC message on stderr (also NODE_DEBUG=virtwire)')
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      getOutHelpWidth: () => helpWidth(io.stdout),
      getErrHelpWidth: () => helpWidth(io.stderr),
    })
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', wrapped(EXAMPLES));

  program
    .command('list')
    .description('list domains: Id, Name, State (running ones unless --all)')
    .option('--all', 'include inactive domains')
    .option('--inactive', 'only inactive domains')
    .option('--state-running', 'only running domains')
    .option('--state-paused', 'only paused domains')
    .option('--state-shutoff', 'only shut off domains')
    .option('--state-other', 'only domains in another state')
    .option('--persistent', 'only persistent domains')
    .option('--transient', 'only transient domains')
    .option('--autostart', 'only domains that start with the host')
    .option('--no-autostart', 'only domains that do not start with the host')
    .option('--with-snapshot', 'only domains with snapshots')
    .option('--without-snapshot', 'only domains without snapshots')
    .option('--managed-save', 'only domains with a managed save image')
    .option('--name', 'print names only')
    .option('--uuid', 'print UUIDs only')
    .option('--json', 'print a JSON array')
    .action(async (opts) => (await commands()).listCommand(await ctx(), opts));

  program
    .command('dominfo')
    .description('basic information about a domain')
    .argument('<domain>', 'domain name or UUID')
    .option('--json', 'print JSON')
    .action(async (name: string, opts) =>
      (await commands()).dominfoCommand(await ctx(), name, opts),
    );

  program
    .command('domstate')
    .description("a domain's state")
    .argument('<domain>', 'domain name or UUID')
    .option('--reason', 'also print the reason for the state')
    .option('--json', 'print JSON (state, reason and their numbers)')
    .action(async (name: string, opts) =>
      (await commands()).domstateCommand(await ctx(), name, opts),
    );

  program
    .command('events')
    .description('print domain events as they happen, until Ctrl-C')
    .option('--domain <domain>', 'only events of this domain')
    .option('--event <names>', `only these event types, comma-separated (default: all; see --list)`)
    .option('--list', 'list the event types and exit')
    .option('--json', 'one JSON object per event')
    .option(
      '--timestamp',
      'prefix each line with the time, as virsh does (2026-12-06 08:10:38.006+0000)',
    )
    .option('--iso', 'with ISO 8601 timestamps in UTC instead (implies --timestamp)')
    .option('--timeout <seconds>', 'stop after this many seconds', positive)
    .option('--count <n>', 'stop after this many events', integer(1))
    .addHelpText('after', wrapped(`\nEvent types: ${domainEventNames.join(', ')}`))
    .action(async (opts) => (await commands()).eventsCommand(await ctx(), opts));

  program
    .command('domjobinfo')
    .description('statistics of the running job of a domain (a migration, say)')
    .argument('<domain>', 'domain name or UUID')
    .option('--completed', 'the last completed job instead')
    .option('--keep-completed', 'with --completed: keep the statistics for later calls')
    .option('--rawstats', 'every statistic by its libvirt name, unformatted (as virsh --rawstats)')
    .option(
      '--json',
      'print JSON: type and operation by name and number, every statistic by its libvirt name as a number',
    )
    .action(async (name: string, opts) =>
      (await commands()).domjobinfoCommand(await ctx(), name, opts),
    );

  program
    .command('domjobabort')
    .description('abort the running job of a domain')
    .argument('<domain>', 'domain name or UUID')
    .option('--postcopy', 'abort a migration in post-copy (leaves it failed, to resume later)')
    .action(async (name: string, opts) =>
      (await commands()).domjobabortCommand(await ctx(), name, opts),
    );

  program
    .command('migrate-postcopy')
    .description('switch the running migration of a domain to post-copy')
    .argument('<domain>', 'domain name or UUID')
    .action(async (name: string) => (await commands()).migratePostcopyCommand(await ctx(), name));

  const migrate = program
    .command('migrate')
    .description(
      'migrate a domain to another host, with a live progress bar on a terminal (virsh migrate options)',
    )
    .argument('<domain>', 'domain name or UUID')
    .argument(
      '<desturi>',
      'destination connection URI (for --p2p: as the source daemon reaches it)',
    );
  addMigrateOptions(migrate);
  migrate.addHelpText(
    'after',
    wrapped(`
Output:
As virsh does, progress and notes go to stderr and the result to stdout. On a terminal, stderr shows a live progress line (percent of memory on the destination, phase, pass, memory left, measured transfer rate, dirty rate, elapsed time, ETA); a figure not known yet shows as "?" (the dirty rate and the pre-copy ETA during the first pass), and "ETA --" means pre-copy cannot converge at the measured rates. The switch to post-copy gets a line of its own with its latency. When stderr is not a terminal, or TERM=dumb, plain lines replace the live line. The summary (outcome, both hosts' domain states as queried, advice where they call for it) goes to stdout; an error is printed once, on stderr.
With --json, stdout carries one JSON object per line: start, every record of the migration's timeline (progress, step, event, switch, abort, note, end), the summary, and lines of the CLI's own after it (type cli: a chart written); \`virtwire chart\` draws a chart from such a file. --chart writes the chart when the migration ends, also after a failure or Ctrl-C.
Ctrl-C aborts the migration job in pre-copy. In post-copy, which cannot be rolled back, the first Ctrl-C says what leaving would do and a second one leaves; SIGTERM and SIGHUP leave at once. The exit status is then 128 + the signal's number.

Example:
  $ virtwire -c qemu+tcp://host-a/system migrate --live --postcopy --postcopy-after-precopy \\
      --bandwidth 100 --chart vm1.html vm1 qemu+tcp://host-b/system`),
  );
  migrate.action(async (domain: string, desturi: string, opts: MigrateCliOptions) => {
    await (await commands()).migrateCommand(await ctx(), domain, desturi, opts);
  });

  program
    .command('call')
    .description('call any procedure of the remote, qemu, lxc or admin program with JSON arguments')
    .argument(
      '[procedure]',
      'program.procedure, e.g. remote.connectGetLibVersion or REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME',
    )
    .argument('[json]', 'the arguments as a JSON object, e.g. \'{"name":"vm1"}\'')
    .option('--list', 'list every procedure with its number (of one program when one is named)')
    .option('--describe', 'show a procedure: number, argument and result types, an example')
    .option(
      '--admin-socket <path>',
      'the admin socket for admin.* procedures',
      DEFAULT_ADMIN_SOCKET,
    )
    .addHelpText(
      'after',
      `
Arguments are the procedure's XDR struct with camelCase field names. 64-bit integers
may be JSON numbers or decimal strings; opaque bytes are hex strings, UUIDs in their
canonical form (results print them the same way, so a result can be fed back).

Examples:
  $ virtwire call remote.connectGetLibVersion
  $ virtwire call remote.domainLookupByName '{"name":"vm1"}'
  $ virtwire call REMOTE_PROC_DOMAIN_GET_INFO '{"dom":{"name":"vm1","uuid":"…","id":1}}'
  $ virtwire call qemu.domainMonitorCommand '{"dom":…,"cmd":"info status","flags":1}'
  $ virtwire call --list qemu
  $ virtwire call --admin-socket /run/libvirt/libvirt-admin-sock admin.connectListServers '{"needResults":1,"flags":0}'`,
    )
    .action(async (procedure: string | undefined, json: string | undefined, opts) =>
      (await commands()).callCommand(await ctx(), procedure, json, opts),
    );

  for (const spec of VIRSH_SPECS) {
    const cmd = program.command(spec.name).description(spec.description);
    for (const [a, help] of spec.args) cmd.argument(a, help);
    for (const [flags, help] of spec.options) cmd.option(flags, help);
    cmd.option('--json', 'print JSON');
    cmd.action(async (...params: unknown[]) => {
      // commander passes the arguments (a variadic one as an array), then the options, then the command
      const args = params.slice(0, spec.args.length).flat() as string[];
      const opts = params[spec.args.length] as Record<string, string | boolean | undefined>;
      await (await commands()).runVirshCommand(await ctx(), spec.name, args, opts);
    });
  }

  // Every generated handle method: virtwire <object> <method> [args] (object-command.ts).
  for (const spec of OBJECT_SPECS) {
    const cmd = program
      .command(spec.name)
      .description(
        `${spec.description}: ${['virtwire', spec.name, 'METHOD', ...spec.identity, '[ARGS]'].join(' ')}`,
      )
      .argument('[method]', 'the method, e.g. getInfo (--list shows them with their arguments)')
      .argument('[args...]', `${[...spec.identity, 'then the method arguments'].join(', ')}`);
    if (spec.admin)
      cmd.option(
        '--admin-socket <path>',
        `the daemon's admin socket (default ${DEFAULT_ADMIN_SOCKET}, the system libvirtd's)`,
      );
    cmd
      .option('--list', 'list the methods with their arguments and kinds')
      .option('--json', 'print the result as JSON')
      // negative numbers (-1: every CPU) are arguments here, not options
      .allowUnknownOption()
      .action(async (method: string | undefined, args: string[], opts) =>
        (await commands()).objectCommand(await ctx(), spec.name, method, args, opts),
      );
  }

  // An unknown command: virsh's name for something virtwire does another way gets that way.
  program.on('command:*', (operands: string[]) => {
    const name = operands[0] ?? '';
    const instead = VIRSH_INSTEAD[name];
    const near = instead
      ? []
      : nearestCommands(
          name,
          program.commands.map((c) => c.name()),
        );
    const hint = instead
      ? `\nvirsh's ${name} here: ${instead}`
      : near.length > 0
        ? `\ndid you mean: ${near.join(', ')}?`
        : '';
    io.stderr.write(`error: unknown command '${name}'${hint}\n(add --help for the commands)\n`);
    throw new CommanderError(EXIT_USAGE, 'virtwire.unknownCommand', `unknown command '${name}'`);
  });

  program
    .command('demo')
    .description(
      'migrate a guest between two simulated hosts with post-copy, in-process (no hypervisor needed)',
    )
    .option('--json', 'one JSON object per line instead of the progress bar')
    .option('--verbose', 'also show every migration event')
    .option('--time-scale <n>', 'run the simulated guest this many times faster', positive)
    .option('--chart <file>', 'write the chart of the migration to this .svg or .html file')
    .action(async (opts) => (await demo()).demoCommand(await ctx(), opts));

  program
    .command('chart')
    .description(
      'draw the chart of a migration saved with virtwire migrate --json (or demo --json)',
    )
    .argument('<file>', 'the saved --json output (one JSON object per line)')
    .option(
      '-o, --output <file>',
      'write the chart to this .svg or .html file (default: SVG on stdout)',
    )
    .addHelpText(
      'after',
      wrapped(`
The chart shows memory remaining and processed, the measured transfer rate against the dirty rate, post-copy page requests, the pass boundaries, the switch to post-copy with its latency, the downtime, and any abort or failure where it happened. The HTML page adds a legend and the summary table. Neither needs a network to be viewed.

Example:
  $ virtwire -c qemu+tcp://host-a/system migrate --live --postcopy --postcopy-after-precopy --json vm1 qemu+tcp://host-b/system > run.jsonl
  $ virtwire chart run.jsonl -o run.html`),
    )
    .action(async (file: string, opts: { output?: string }) =>
      (await commands()).chartCommand(await ctx(), file, opts),
    );

  return program;
}

/** virsh's migrate options on a commander command. */
function addMigrateOptions(cmd: Command): void {
  const mib = integer(0);
  cmd
    .option('--live', 'live migration')
    .option('--offline', 'offline migration (the definition only)')
    .option('--p2p', 'peer-to-peer: the source daemon connects to the destination itself')
    .option('--direct', 'direct migration (the hypervisor handles it; desturi is its URI)')
    .option('--tunnelled', 'tunnel the data through the libvirtd connection (needs --p2p)')
    .option('--persistent', 'persist the domain on the destination')
    .option('--undefinesource', 'undefine the domain on the source')
    .option('--suspend', 'do not resume the domain on the destination')
    .option('--copy-storage-all', 'migrate with non-shared storage, full disk copy')
    .option('--copy-storage-inc', 'migrate with non-shared storage, incremental copy')
    .option('--migrate-disks <list>', 'comma-separated disk targets to copy')
    .option('--change-protection', 'keep the domain from being changed while it migrates')
    .option('--unsafe', 'migrate even if it may be unsafe')
    .option('--compressed', 'compress repeatedly transferred memory pages')
    .option('--comp-methods <list>', 'comma-separated compression methods (xbzrle, mt, zlib, zstd)')
    .option('--auto-converge', 'slow the guest down until pre-copy converges')
    .option('--abort-on-error', 'abort on soft errors during migration')
    .option('--postcopy', 'allow switching to post-copy')
    .option('--postcopy-after-precopy', 'switch to post-copy after the first pre-copy pass')
    .option('--postcopy-resume', 'resume a failed post-copy migration')
    .option('--postcopy-bandwidth <MiB/s>', 'bandwidth limit during post-copy', mib)
    .option('--bandwidth <MiB/s>', 'bandwidth limit', mib)
    .option('--migrateuri <uri>', 'where the migration data goes (e.g. tcp://10.0.0.2)')
    .option('--listen-address <address>', 'address the destination hypervisor listens on')
    .option('--dname <name>', 'rename the domain on the destination')
    .option('--xml <file>', 'file with the domain XML to use on the destination')
    .option('--persistent-xml <file>', 'file with the persistent domain XML for the destination')
    .option(
      '--timeout <seconds>',
      'after this many seconds of live migration, suspend the guest (or, with --timeout-postcopy, switch to post-copy)',
      integer(1),
    )
    .option('--timeout-suspend', 'the --timeout action is suspending the guest (the default)')
    .option('--timeout-postcopy', 'the --timeout action is switching to post-copy')
    .option('--parallel', 'use parallel migration streams')
    .option(
      '--parallel-connections <n>',
      'number of parallel connections (needs --parallel)',
      integer(1),
    )
    .option('--tls', 'encrypt the migration data with TLS')
    .option('--zerocopy', 'zero-copy transfer of memory pages (with --parallel)')
    .addOption(
      new Option('--json', 'one JSON object per line on stdout: the timeline and the summary'),
    )
    .option('--verbose', 'also show every migration event')
    .option(
      '--chart <file>',
      'when the migration ends, write its chart to this .svg or .html file',
    );
}

/** Parses `argv` (without node and script), runs the command, returns the exit status. */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  // --debug: the trace runs from the command's start to its end, whatever connections it opens.
  let stopTrace = (): void => {};
  program.hook('preAction', async () => {
    const { CliContext } = await commands();
    stopTrace = new CliContext(io, program.opts<GlobalOptions>()).startTracing();
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander printed its message (or the help) already
      return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    const { CliContext, exitCodeFor, formatError } = await commands();
    const debug = new CliContext(io, program.opts<GlobalOptions>()).tracing;
    io.stderr.write(`${formatError(err, { debug })}\n`);
    return exitCodeFor(err);
  } finally {
    stopTrace();
  }
}
