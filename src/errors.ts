/**
 * The base of every error virtwire throws. Subclasses say what went wrong;
 * `cause` carries the underlying error where there is one. Never match on
 * message text: use the class, its fields, or the predicates in `virtwire`.
 */
export class VirtwireError extends Error {
  override name = 'VirtwireError';
}
