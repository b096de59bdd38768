/** A promise settled from outside, whose outcome may be read long after it settled. */
export class Deferred<T> {
  readonly promise: Promise<T>;
  resolve!: (v: T) => void;
  reject!: (e: Error) => void;
  constructor() {
    this.promise = new Promise<T>((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
    // Nobody may be waiting yet; the outcome is read later through `promise`.
    this.promise.catch(() => {});
  }
}
