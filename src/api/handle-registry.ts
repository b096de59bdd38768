/**
 * The handles a supervised connection gave out and that are still alive,
 * weakly held: a handle nobody keeps is not kept here either. After a
 * reconnect the connection walks them to refresh what the daemon may have
 * changed meanwhile (a domain's id).
 */
export class HandleRegistry<T extends object> {
  private readonly refs = new Set<WeakRef<T>>();
  private readonly gone = new FinalizationRegistry<WeakRef<T>>((ref) => this.refs.delete(ref));

  get size(): number {
    return this.refs.size;
  }

  add(h: T): void {
    const ref = new WeakRef(h);
    this.refs.add(ref);
    this.gone.register(h, ref);
  }

  update(fn: (h: T) => void): void {
    for (const ref of this.refs) {
      const h = ref.deref();
      if (h) fn(h);
    }
  }
}
