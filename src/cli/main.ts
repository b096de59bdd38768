#!/usr/bin/env node
/**
 * The `virtwire` executable: wires the command line to the process (argv,
 * stdout/stderr, environment, Ctrl-C) and exits with the command's status.
 */
import { EXIT_INTERRUPTED, SHOW_CURSOR } from './constants.js';
import type { InterruptSource } from './context.js';
import { run } from './program.js';

const listeners = new Set<() => void>();
const interrupt: InterruptSource = {
  on(fn) {
    listeners.add(fn);
    return () => listeners.delete(fn);
  },
};

process.on('SIGINT', () => {
  // Nothing is waiting for Ctrl-C (still connecting, say): leave at once, as a shell tool does.
  if (listeners.size === 0) {
    if (process.stdout.isTTY) process.stdout.write(SHOW_CURSOR);
    process.exit(EXIT_INTERRUPTED);
  }
  for (const fn of [...listeners]) fn();
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
