/**
 * Showing a URI without its credentials. Every message, log and trace line
 * that quotes a URI the user gave goes through `redactUri`: a URI may carry a
 * password in its user info (`qemu+ssh://alice:secret@host/system`), and
 * error messages end up in logs, bug reports and terminals shared with others.
 */

/** What stands in for a password. */
export const REDACTED = '***';

/** Beyond this many characters a URI shown in a message is cut (a hostile URI can be megabytes long). */
export const URI_DISPLAY_MAX = 512;

/**
 * The URI with the password of its user info replaced by `***`:
 * `qemu+ssh://alice:***@host/system`. Anything else is returned unchanged.
 *
 * The URI need not be valid (it may be the one a UriError is about), and
 * URIs nested inside it (a `name=` parameter) are redacted too: after every
 * `://` the authority is taken to run to the first `/`, `?` or `#`, and its
 * user info to the LAST `@` in it, so that a password holding a stray `@`
 * is hidden whole; the password is what follows the user info's first `:`.
 * Linear in the length of the URI.
 */
export function redactUri(uri: string): string {
  const out: string[] = [];
  let copied = 0;
  let from = 0;
  for (;;) {
    const sep = uri.indexOf('://', from);
    if (sep < 0) break;
    const start = sep + 3;
    let end = start;
    let at = -1;
    let colon = -1;
    // One forward pass over the authority: its last '@' and the first ':' before it.
    for (; end < uri.length; end++) {
      const c = uri.charCodeAt(end);
      if (c === 0x2f || c === 0x3f || c === 0x23) break; // '/', '?', '#'
      if (c === 0x40) at = end;
      else if (c === 0x3a && colon < 0) colon = end;
    }
    from = end;
    if (at < 0 || colon < 0 || colon > at) continue;
    out.push(uri.slice(copied, colon + 1), REDACTED);
    copied = at;
  }
  if (copied === 0) return uri;
  out.push(uri.slice(copied));
  return out.join('');
}

/**
 * A URI as a message shows it: redacted, and cut to URI_DISPLAY_MAX
 * characters with a note of how much was left out.
 */
export function displayUri(uri: string): string {
  const r = redactUri(uri);
  if (r.length <= URI_DISPLAY_MAX) return r;
  return `${r.slice(0, URI_DISPLAY_MAX)}… (${r.length - URI_DISPLAY_MAX} more characters)`;
}
