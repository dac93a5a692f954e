import { fileURLToPath } from 'node:url';
import { InvalidArgError, InvalidArgTypeError } from './errors.js';

/** What cachefs accepts where Node accepts a path. */
export type PathLike = string | Buffer | URL;

const SLASH = 47; // '/'
const DOT = 46; // '.'

/**
 * True when `p` is already absolute and normalized: starts with `/`, has no empty, `.` or `..` segment
 * and no trailing slash. The hot path of every call asks this first so that a normal path costs one
 * scan and no allocation.
 */
export function isNormalizedAbsolute(p: string): boolean {
  const n = p.length;
  if (n === 0 || p.charCodeAt(0) !== SLASH) return false;
  if (n === 1) return true;
  if (p.charCodeAt(n - 1) === SLASH) return false;
  let segmentStart = 1;
  for (let i = 1; i <= n; i++) {
    const c = i < n ? p.charCodeAt(i) : SLASH;
    if (c === 0) return false;
    if (c === SLASH) {
      const len = i - segmentStart;
      if (len === 0) return false;
      if (p.charCodeAt(segmentStart) === DOT && (len === 1 || (len === 2 && p.charCodeAt(segmentStart + 1) === DOT))) {
        return false;
      }
      segmentStart = i + 1;
    }
  }
  return true;
}

/**
 * Converts a user path to an absolute, normalized POSIX path. Relative paths resolve against `cwd`;
 * `..` never climbs above `/`. Rejects non-paths with `ERR_INVALID_ARG_TYPE` and NUL bytes with
 * `ERR_INVALID_ARG_VALUE`, as `node:fs` does.
 */
export function normalizePath(input: PathLike, cwd = '/', argName = 'path'): string {
  let p: string;
  if (typeof input === 'string') p = input;
  else if (Buffer.isBuffer(input)) p = input.toString('utf8');
  else if (input instanceof URL) {
    if (input.protocol !== 'file:') throw new InvalidArgError(argName, input.href, 'must be a file: URL');
    p = fileURLToPath(input);
  } else {
    throw new InvalidArgTypeError(argName, 'of type string or an instance of Buffer or URL', input);
  }
  if (isNormalizedAbsolute(p)) return p;
  if (p.includes('\u0000')) {
    throw new InvalidArgError(argName, p, 'must be a string, Uint8Array, or URL without null bytes');
  }
  if (p.length === 0) throw new InvalidArgError(argName, p, 'must not be empty');
  const full = p.charCodeAt(0) === SLASH ? p : `${cwd}/${p}`;
  const out: string[] = [];
  for (const segment of full.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') out.pop();
    else out.push(segment);
  }
  return '/' + out.join('/');
}

/** The parent directory of a normalized path (`/` for `/`). */
export function parentOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

/** The last segment of a normalized path. */
export function baseName(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/** Joins a normalized directory and a child name. */
export function joinPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/** True when `p` is `prefix` itself or below it, by whole segments (`/data` covers `/data/x`, not `/database`). */
export function isWithin(p: string, prefix: string): boolean {
  if (prefix === '/') return true;
  return p === prefix || (p.length > prefix.length && p.startsWith(prefix) && p.charCodeAt(prefix.length) === SLASH);
}

/** The string a path argument is reported as (what the caller passed, as Node does). */
export function pathString(path: PathLike): string {
  return typeof path === 'string' ? path : Buffer.isBuffer(path) ? path.toString() : String(path);
}
