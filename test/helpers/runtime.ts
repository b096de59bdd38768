/**
 * Which JavaScript runtime runs the tests, and how a test starts a TypeScript
 * entry point (the CLI's sources) as a child process in that same runtime:
 * Node through tsx, Bun natively, Deno natively with its resolution of the
 * `.js` specifiers that name `.ts` files.
 */

/** node20, node22, ..., bun or deno: what this process is. */
export function currentRuntime(): string {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  if (g.Bun !== undefined) return 'bun';
  if (g.Deno !== undefined) return 'deno';
  return `node${process.versions.node.split('.')[0]}`;
}

/** The executable and arguments that run the TypeScript file `entry` in this runtime. */
export function tsEntryCommand(entry: string): [string, ...string[]] {
  switch (currentRuntime()) {
    case 'bun':
      return [process.execPath, entry];
    case 'deno':
      // -q: Deno's own module-loading progress bar (erase-line sequences on a terminal's stderr,
      // drawn when loading is slow) is the runtime's, not the CLI's output; a user's
      // `deno run -q -A npm:virtwire` hides it the same way.
      return [process.execPath, 'run', '-q', '-A', '--sloppy-imports', entry];
    default:
      return [process.execPath, '--import', 'tsx', entry];
  }
}
