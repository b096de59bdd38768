/**
 * The most recent entries of a log that would otherwise grow for as long as
 * the simulator runs (`sim.calls`, `sim.opened`): a ring of fixed capacity.
 */
export class RecentLog {
  private readonly ring: string[] = [];
  private next = 0;

  constructor(readonly capacity: number) {}

  push(entry: string): void {
    if (this.capacity <= 0) return;
    if (this.ring.length < this.capacity) {
      this.ring.push(entry);
      return;
    }
    this.ring[this.next] = entry;
    this.next = (this.next + 1) % this.capacity;
  }

  /** The kept entries, oldest first (a copy). */
  toArray(): string[] {
    if (this.next === 0) return this.ring.slice();
    return this.ring.slice(this.next).concat(this.ring.slice(0, this.next));
  }
}
