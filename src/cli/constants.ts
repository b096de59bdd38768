/**
 * What the CLI needs before any command runs: defaults its --help shows and
 * the exit statuses. Nothing here imports anything, so `virtwire --help` and
 * the process wiring in main.ts load no library code; each command loads its
 * own modules when it runs (program.ts).
 */

/** The URI used when -c is not given: $VIRTWIRE_DEFAULT_URI, $LIBVIRT_DEFAULT_URI, then qemu:///system. */
export function defaultUri(env: NodeJS.ProcessEnv): string {
  return env.VIRTWIRE_DEFAULT_URI || env.LIBVIRT_DEFAULT_URI || 'qemu:///system';
}

/** Where `call admin.*` finds libvirtd's admin socket unless --admin-socket says otherwise. */
export const DEFAULT_ADMIN_SOCKET = '/run/libvirt/libvirt-admin-sock';

/**
 * Seconds a connection may take to open before the CLI gives up (virsh waits
 * forever on a port that accepts and never answers); --connect-timeout 0 waits forever.
 */
export const DEFAULT_CONNECT_TIMEOUT_S = 30;

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
/** As shells report a process ended by SIGINT. */
export const EXIT_INTERRUPTED = 130;

/** Signals the CLI handles itself, to leave cleanly (the terminal restored, the state reported). */
export type TerminationSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';

/** 128 + the signal's number, as shells report a process a signal ended. */
export const EXIT_FOR_SIGNAL: Record<TerminationSignal, number> = {
  SIGINT: EXIT_INTERRUPTED,
  SIGTERM: 143,
  SIGHUP: 129,
};

/** Makes the terminal's cursor visible again (the progress line hides it). */
export const SHOW_CURSOR = '\x1b[?25h';
