/** virsh's words for domain states and reasons, shared by list, domstate and dominfo. */

const VIRSH_STATE: Record<string, string> = {
  nostate: 'no state',
  running: 'running',
  blocked: 'idle',
  paused: 'paused',
  shutdown: 'in shutdown',
  shutoff: 'shut off',
  crashed: 'crashed',
  pmsuspended: 'pmsuspended',
};

export const stateWords = (state: string): string => VIRSH_STATE[state] ?? state;
/** `postcopy_failed` -> `postcopy failed`. */
export const reasonWords = (reason: string): string => reason.replace(/_/g, ' ');
