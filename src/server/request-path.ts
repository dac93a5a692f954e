/**
 * From a request target to a path inside the served directory, refusing whatever could lead out.
 *
 * The rules, applied after percent-decoding (so `%2e%2e`, `%2f` and `%00` are caught too):
 * - a `.` or `..` segment → 403. Browsers and HTTP clients remove dot segments before sending, so a
 *   request that still carries one was crafted; refusing it is simpler to trust than resolving it.
 * - a NUL byte or a backslash → 403 (a backslash is a separator on Windows and in some proxies).
 * - a segment starting with `.` (`.git`, `.env`) → 404 unless dotfiles are allowed, as serve-static
 *   and sirv do by default. `/.well-known/` is the exception the web relies on.
 * - a malformed percent-encoding → 400.
 * Links that lead out of the root are not decided here: `nodeBackend` refuses them with EACCES.
 */

/** A request target mapped to a path of the served tree. */
export interface RequestPath {
  /** Absolute, normalized (`/a/b`, no trailing slash except for `/`). */
  path: string;
  /** The request ended with `/` (a directory was asked for). */
  trailingSlash: boolean;
  /** The query string with its `?`, or `''` (kept for redirects). */
  query: string;
}

/** Why a request target was refused: the HTTP status to answer with. */
export type RefusedPath = 400 | 403 | 404;

const SLASH = 47;
const DOT = 46;
const PERCENT = 37;
const BACKSLASH = 92;
const QUESTION = 63;
const HASH = 35;

/**
 * Maps `rawUrl` (a request's `req.url`: origin-form `/a/b?q`, or absolute-form `http://h/a/b`) to a
 * {@link RequestPath}, or to the status that refuses it.
 */
export function parseRequestPath(rawUrl: string | undefined, allowDotfiles: boolean): RequestPath | RefusedPath {
  if (rawUrl === undefined || rawUrl.length === 0) return 400;
  let target = rawUrl;
  if (target.charCodeAt(0) !== SLASH) {
    // Absolute-form (sent to proxies, legal to origin servers): keep only the path, still encoded.
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      return 400;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return 400;
    target = url.pathname + url.search;
  }

  // One scan: where the path ends, whether it needs decoding.
  let end = target.length;
  let encoded = false;
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c === QUESTION || c === HASH) {
      end = i;
      break;
    }
    if (c === PERCENT) encoded = true;
  }
  const query = end < target.length && target.charCodeAt(end) === QUESTION ? target.slice(end).split('#')[0]! : '';
  let path = end === target.length ? target : target.slice(0, end);
  if (encoded) {
    try {
      path = decodeURIComponent(path);
    } catch {
      return 400;
    }
  }
  return checkSegments(path, allowDotfiles, query);
}

/** Validates the decoded path segment by segment and normalizes repeated slashes. */
function checkSegments(path: string, allowDotfiles: boolean, query: string): RequestPath | RefusedPath {
  const n = path.length;
  let clean = true; // no empty segment: the path can be used as it is
  let start = 1;
  let hidden = false;
  for (let i = 1; i <= n; i++) {
    const c = i < n ? path.charCodeAt(i) : SLASH;
    if (c === 0 || c === BACKSLASH) return 403;
    if (c !== SLASH) continue;
    const len = i - start;
    if (len === 0) {
      if (i < n) clean = false; // `//` inside; a single trailing slash is fine
    } else if (path.charCodeAt(start) === DOT) {
      if (len === 1 || (len === 2 && path.charCodeAt(start + 1) === DOT)) return 403;
      if (!allowDotfiles && !(start === 1 && path.startsWith('.well-known', 1) && len === 11)) hidden = true;
    }
    start = i + 1;
  }
  if (hidden) return 404;
  const trailingSlash = n > 1 && path.charCodeAt(n - 1) === SLASH;
  let normalized = path;
  if (!clean || trailingSlash) {
    normalized = '/' + path.split('/').filter((s) => s !== '').join('/');
  }
  return { path: normalized, trailingSlash, query };
}

/** A normalized path percent-encoded for a `Location` header, segment by segment. */
export function encodePath(path: string): string {
  return path
    .split('/')
    .map((segment) => encodeURIComponent(segment))
    .join('/');
}
