/**
 * What any sequence of a migration's job statistics (GET_JOB_STATS samples,
 * by libvirt's field names) must satisfy. Some hold for every hypervisor;
 * the rest hold for the simulator's model, which has no zero pages: real
 * QEMU sends a zero page as a marker, so its memory_processed may stay below
 * memory_total.
 */

/** Rounding: figures are whole bytes of a model kept in floating point. */
const SLACK = 16;
const MiB = 1024 * 1024;

export interface CheckOptions {
  /**
   * Also the simulator's own invariants: total <= processed + remaining <=
   * total + everything dirtied (`dirtyMiBps` times the time elapsed), and
   * post-copy moving at most the guest memory.
   */
  readonly model: boolean;
  /** The guest's dirty rate, MiB/s (model checks). */
  readonly dirtyMiBps?: number;
}

/** Checks samples one by one, remembering what the next must be compared with. */
export class JobStatsChecker {
  readonly problems: string[] = [];
  private last: { iteration: number; remaining: number; processed: number } | null = null;
  /** memory_processed when post-copy began (set by whoever switched, or from the samples). */
  processedAtSwitch: number | null = null;

  constructor(
    private readonly label: string,
    private readonly opts: CheckOptions,
  ) {}

  check(s: Readonly<Record<string, number>>): void {
    const total = s.memory_total ?? 0;
    if (total === 0) return; // before the transfer: libvirtd reports zeros
    const remaining = s.memory_remaining ?? 0;
    const processed = s.memory_processed ?? 0;
    const iteration = s.memory_iteration ?? 0;
    const elapsed = s.time_elapsed ?? 0;
    const bad = (what: string) =>
      this.problems.push(
        `${this.label} @${elapsed}ms iteration ${iteration}: ${what} (${JSON.stringify(s)})`,
      );
    if (remaining > total) bad('remaining above total');
    if (remaining < 0 || processed < 0) bad('negative figure');
    if (s.data_remaining !== undefined && s.data_remaining < remaining)
      bad('data_remaining below memory_remaining');
    const prev = this.last;
    if (prev) {
      if (processed + SLACK < prev.processed) bad('processed went back');
      if (iteration < prev.iteration) bad('iteration went back');
      if (iteration === prev.iteration && remaining > prev.remaining + SLACK)
        bad('remaining grew within a pass');
    }
    if (this.opts.model) {
      const dirtiedAtMost = (((this.opts.dirtyMiBps ?? 0) * MiB) / 1000) * elapsed;
      if (processed + remaining < total - SLACK) bad('processed + remaining below total');
      if (processed + remaining > total + dirtiedAtMost + SLACK)
        bad('processed + remaining above total + dirtied');
      if (this.processedAtSwitch !== null && processed - this.processedAtSwitch > total + SLACK)
        bad('post-copy moved more than the guest memory');
    }
    this.last = { iteration, remaining, processed };
  }
}
