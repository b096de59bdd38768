// The links between simulated hosts: every transfer running on a network
// takes a share of its source's outgoing link and its destination's incoming
// link, each host's `bandwidthMiBps` in either direction. Shares are max-min
// fair: equal for all, except that a transfer held lower (by its own speed
// limit, or by the other end's link) leaves what it cannot use to the others.
// Time advances for all transfers together, from one event (a pass ends, a
// transfer ends, a stream breaks) to the next, so a transfer that ends frees
// its share for the others at that very moment.

/** One end of a transfer: a host and its link's capacity (MiB/s, each direction its own). */
export interface LinkEnd {
  readonly bandwidthMiBps: number;
  /** The host's real-time clock (ms): one clock for all hosts of a network. */
  realNow(): number;
}

/** A transfer on the network's links: a migration's memory stream. */
export interface Flow {
  readonly from: LinkEnd;
  readonly to: LinkEnd;
  /** Simulated ms per real ms of the flow's clock (its source's time scale). */
  readonly timeScale: number;
  /** The most the flow may use, MiB/s (Infinity: no limit of its own). */
  cap(): number;
  /** Simulated ms until the flow's next event at `rate` (bytes per simulated ms), Infinity if none. */
  untilEvent(rate: number): number;
  /** Moves the flow on by `dt` simulated ms at `rate`, short of or exactly to its next event. */
  advance(dt: number, rate: number): void;
  /** Its next event is due now: handle it (the flow may leave the links). */
  settle(): void;
}

/** Real milliseconds between two steps of the running transfers. */
const TICK_MS = 10;
const MiB = 1024 * 1024;
/** Flows whose events fall this close (real ms) are settled together. */
const SAME_TIME = 1e-9;

/** Bytes per simulated ms for a share in MiB per simulated second. */
export const bytesPerMs = (mibps: number): number => (mibps * MiB) / 1000;

/** The transfers of one network and the time they have advanced to. */
export class SharedLinks {
  private readonly flows = new Set<Flow>();
  /** Real ms up to which every flow has advanced (null: no flow yet). */
  private last: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private advancing = false;

  /** Flows sharing the links now. */
  get size(): number {
    return this.flows.size;
  }

  /** Starts a transfer now: the others first run up to this moment at their old shares. */
  join(flow: Flow): void {
    this.advance(flow.from.realNow());
    this.flows.add(flow);
    this.last ??= flow.from.realNow();
    this.timer ??= setInterval(() => {
      const any = this.flows.values().next().value;
      if (any) this.advance(any.from.realNow());
    }, TICK_MS);
  }

  /** Ends a transfer (it must have advanced to now: call it from settle, or after advance). */
  leave(flow: Flow): void {
    this.flows.delete(flow);
    if (this.flows.size === 0) {
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
      this.last = null;
    }
  }

  has(flow: Flow): boolean {
    return this.flows.has(flow);
  }

  /** A flow's current share, bytes per simulated ms (0 when it is not on the links). */
  rateOf(flow: Flow): number {
    return bytesPerMs(this.allocate().get(flow) ?? 0);
  }

  /**
   * Runs every flow up to real time `to`, event by event. Called before
   * anything reads or changes a flow; re-entrant calls (from an event's
   * handling) return at once.
   */
  advance(to: number): void {
    if (this.advancing || this.last === null) return;
    this.advancing = true;
    try {
      let t = this.last;
      while (t < to && this.flows.size > 0) {
        const shares = this.allocate();
        const rates = new Map<Flow, number>();
        let step = to - t;
        const next = new Map<Flow, number>();
        for (const f of this.flows) {
          const rate = bytesPerMs(shares.get(f) ?? 0);
          rates.set(f, rate);
          const real = f.untilEvent(rate) / f.timeScale;
          next.set(f, real);
          if (real < step) step = real;
        }
        step = Math.max(0, step);
        const due: Flow[] = [];
        for (const f of this.flows) {
          f.advance(step * f.timeScale, rates.get(f) ?? 0);
          if ((next.get(f) ?? Number.POSITIVE_INFINITY) <= step + SAME_TIME) due.push(f);
        }
        t += step;
        this.last = t;
        for (const f of due) if (this.flows.has(f)) f.settle();
      }
      if (this.last !== null && this.last < to) this.last = to;
    } finally {
      this.advancing = false;
    }
  }

  /**
   * Max-min fair shares (MiB/s): all flows grow together until one reaches its
   * own cap or fills a link; those stop, the rest go on growing.
   */
  private allocate(): Map<Flow, number> {
    const share = new Map<Flow, number>();
    const up = new Map<LinkEnd, number>();
    const down = new Map<LinkEnd, number>();
    for (const f of this.flows) {
      share.set(f, 0);
      up.set(f.from, f.from.bandwidthMiBps);
      down.set(f.to, f.to.bandwidthMiBps);
    }
    const open = new Set(this.flows);
    while (open.size > 0) {
      const nUp = new Map<LinkEnd, number>();
      const nDown = new Map<LinkEnd, number>();
      for (const f of open) {
        nUp.set(f.from, (nUp.get(f.from) ?? 0) + 1);
        nDown.set(f.to, (nDown.get(f.to) ?? 0) + 1);
      }
      let inc = Number.POSITIVE_INFINITY;
      for (const [end, n] of nUp) inc = Math.min(inc, (up.get(end) ?? 0) / n);
      for (const [end, n] of nDown) inc = Math.min(inc, (down.get(end) ?? 0) / n);
      for (const f of open) inc = Math.min(inc, f.cap() - (share.get(f) ?? 0));
      inc = Math.max(0, inc);
      for (const f of open) {
        share.set(f, (share.get(f) ?? 0) + inc);
        up.set(f.from, (up.get(f.from) ?? 0) - inc);
        down.set(f.to, (down.get(f.to) ?? 0) - inc);
      }
      for (const f of [...open]) {
        const full = (end: LinkEnd, left: Map<LinkEnd, number>) =>
          (left.get(end) ?? 0) <= end.bandwidthMiBps * 1e-12;
        if ((share.get(f) ?? 0) >= f.cap() * (1 - 1e-12) || full(f.from, up) || full(f.to, down)) {
          open.delete(f);
        }
      }
    }
    return share;
  }
}
