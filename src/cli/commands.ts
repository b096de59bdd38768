/**
 * What the commands need and --help does not, loaded by program.ts when the
 * first command runs. One module, not one per command: esbuild cuts shared
 * chunks along every dynamic import, and finer cuts split the library's own
 * chunks into more files, which made `import('virtwire')` slower. The demo
 * (the simulator) stays apart, as `virtwire/testing` does.
 */
export { callCommand } from './call-command.js';
export { chartCommand } from './chart-command.js';
export { CliContext } from './context.js';
export {
  dominfoCommand,
  domjobabortCommand,
  domjobinfoCommand,
  domstateCommand,
  listCommand,
  migratePostcopyCommand,
} from './domain-commands.js';
export { exitCodeFor, formatError } from './errors.js';
export { eventsCommand } from './events-command.js';
export { migrateCommand } from './migrate.js';
export { objectCommand } from './object-command.js';
export { runVirshCommand } from './virsh-commands.js';
