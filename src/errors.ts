/**
 * The base of every error virtwire throws, and the errors every layer can
 * raise (a caller's signal or deadline). Subclasses say what went wrong;
 * `cause` carries the underlying error where there is one. Never match on
 * message text: use the class, its fields, or the predicates in `virtwire`.
 */
export class VirtwireError extends Error {
  override name = 'VirtwireError';
}

/** A caller's AbortSignal fired. For a call, the daemon may still complete it. */
export class AbortError extends VirtwireError {
  override name = 'AbortError';
}

/** A caller's `timeoutMs` ran out. For a call, the daemon may still complete it. */
export class TimeoutError extends VirtwireError {
  override name = 'TimeoutError';
}

/** An argument was refused before anything was sent; `argument` names it. */
export class InvalidArgumentError extends VirtwireError {
  override name = 'InvalidArgumentError';
  constructor(
    readonly argument: string,
    message: string,
  ) {
    super(message);
  }
}
