/**
 * A constructor of plain objects from `init`: `new made(...)` gives an object
 * whose prototype is `Object.prototype` and whose own fields are the ones
 * `init` assigns, in its order; the same object a literal would give.
 *
 * Generated decoders build structs and union arms with these rather than with
 * object literals: V8 gives each literal an allocation site and may decide,
 * once per process, to allocate all of a site's objects in the old generation
 * (pretenuring), which made a decoder 2-6 times slower for the rest of that
 * process (bench/README.md, "Per-process spread"). Objects made by `new` on a
 * plain function have no such site. One call per constructor, rather than an
 * assignment of `prototype` after each, keeps the generated modules small.
 */
export function plain<T, A extends unknown[]>(
  init: (this: T, ...args: A) => void,
): new (
  ...args: A
) => T {
  init.prototype = Object.prototype;
  return init as unknown as new (
    ...args: A
  ) => T;
}
