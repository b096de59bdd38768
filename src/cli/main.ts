#!/usr/bin/env node
/**
 * The `virtwire` executable: wires the command line to the process (argv,
 * stdout/stderr, environment, signals) and exits with the command's status.
 * Whatever ends the process (a signal, an exception, a normal end), the
 * terminal is left as it was found: the cursor shown.
 */
import { EXIT_FAILURE, EXIT_FOR_SIGNAL, type TerminationSignal } from './constants.js';
import type { InterruptSource } from './context.js';
import { run } from './program.js';
import { restoreTerminal } from './terminal.js';

const listeners = new Set<(signal: TerminationSignal) => void>();
const interrupt: InterruptSource = {
  on(fn) {
    listeners.add(fn);
    return () => listeners.delete(fn);
  },
};

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    // Nothing is waiting for it (still connecting, say): leave at once, as a shell tool does.
    if (listeners.size === 0) {
      restoreTerminal();
      process.exit(EXIT_FOR_SIGNAL[signal]);
    }
    for (const fn of [...listeners]) fn(signal);
  });
}

process.on('exit', restoreTerminal);
process.on('uncaughtException', (err) => {
  restoreTerminal();
  process.stderr.write(`error: ${err.stack ?? String(err)}\n`);
  process.exit(EXIT_FAILURE);
});

// A closed pipe (`virtwire events | head`) ends the program quietly.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  interrupt,
}).then((code) => {
  process.exitCode = code;
  // Everything is closed by now; should a handle linger, do not hang on it.
  setTimeout(() => process.exit(code), 2000).unref();
});
