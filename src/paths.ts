import { fileUrlPath } from './args.js';
import { FsError, InvalidArgError, InvalidArgTypeError } from './errors.js';
import { decodeBytePath, encodeBytePath, isWellFormed, wellFormed } from './util/byte-path.js';

/** What cachefs accepts where Node accepts a path. */
export type PathLike = string | Buffer | URL;

const SLASH = 47; // '/'
const DOT = 46; // '.'

/** A part that a normalized absolute path cannot contain: an empty, `.` or `..` segment, or a NUL. */
const NOT_NORMAL = /\/\/|\/\.\.?(?:\/|$)|\0/;

/**
 * The last path {@link isNormalizedAbsolute} accepted. A first stat asks it of one key twice, in the
 * facade and in `nodeBackend` (which cannot trust its callers): the second time is a comparison with
 * the same string, not another scan.
 */
let lastNormal = '/';

/**
 * True when `p` is already absolute and normalized: starts with `/`, has no empty, `.` or `..` segment
 * and no trailing slash. The hot path of every call asks this first so that a normal path costs one
 * scan and no allocation. The scan is a regular expression rather than a `charCodeAt` loop: paths come
 * in as concatenated (cons) strings, on which each `charCodeAt` is a slow lookup; the regex engine
 * flattens once and scans natively (3-5x faster on a resolver's paths, measured).
 */
export function isNormalizedAbsolute(p: string): boolean {
  if (p === lastNormal) return true;
  const n = p.length;
  if (n === 0 || p.charCodeAt(0) !== SLASH) return false;
  if (n === 1) return true;
  if (p.charCodeAt(n - 1) === SLASH || NOT_NORMAL.test(p)) return false;
  lastNormal = p;
  return true;
}

/**
 * Converts a user path to an absolute, normalized POSIX path. Relative paths resolve against `cwd`;
 * `..` never climbs above `/`. As `node:fs` does: a non-path is `ERR_INVALID_ARG_TYPE`, a NUL byte
 * `ERR_INVALID_ARG_VALUE`, a URL of another scheme than `file:` `ERR_INVALID_URL_SCHEME`, and `''` fails
 * `syscall` with `ENOENT`. A string with lone surrogates names the file Node would (each one U+FFFD).
 * A Buffer names its exact bytes: bytes that are not UTF-8 are escaped (util/byte-path.ts), so that
 * `/\xff` and `/\xfe` stay two names.
 */
export function normalizePath(input: PathLike, cwd = '/', argName = 'path', syscall = 'open'): string {
  if (input === lastKeyText) return lastKeyText;
  if (typeof input === 'string' && isNormalizedAbsolute(input) && isWellFormed(input)) return (lastKeyText = input);
  return normalizeText(pathText(input, argName), cwd, argName, syscall);
}

/**
 * The last string path that was its own key (absolute, normalized, well-formed). A program asks for the
 * same path again and again (a hit is that); comparing with it costs less than the scan and the
 * well-formedness check it stands for, which were a fifth of a metadata hit. Any other input, a Buffer
 * or URL included, compares unequal and takes the full way.
 */
let lastKeyText = '/';

/**
 * The text of a path argument before normalizing, in the form keys take: a string made well-formed, a
 * Buffer decoded with its invalid bytes escaped, a `file:` URL's path.
 */
export function pathText(input: PathLike, argName = 'path'): string {
  if (typeof input === 'string') return wellFormed(input);
  if (Buffer.isBuffer(input)) return decodeBytePath(input);
  if (input instanceof URL) return fileUrlPath(input);
  throw new InvalidArgTypeError(argName, 'of type string or an instance of Buffer or URL', input);
}

/**
 * {@link normalizePath} of text already in the form keys take (a key, a link target read from a
 * backend, a path {@link pathText} gave): escaped bytes are kept, not made U+FFFD.
 */
export function normalizeText(p: string, cwd = '/', argName = 'path', syscall = 'open'): string {
  if (isNormalizedAbsolute(p)) return p;
  if (p.includes('\u0000')) {
    throw new InvalidArgError(argName, p, 'must be a string, Uint8Array, or URL without null bytes');
  }
  if (p.length === 0) throw new FsError('ENOENT', syscall, '');
  const full = p.charCodeAt(0) === SLASH ? p : `${cwd}/${p}`;
  const out: string[] = [];
  for (const segment of full.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') out.pop();
    else out.push(segment);
  }
  return '/' + out.join('/');
}

/**
 * A path in the form keys take as an argument that names the same file again: itself when it is plain
 * text, its bytes when it carries escaped ones (a string with them would be made well-formed).
 */
export function pathOfText(text: string): PathLike {
  return isWellFormed(text) ? text : encodeBytePath(text);
}

/**
 * True when a path names a directory by its spelling (`a/`, `a/.`): Node then fails on a file with
 * `ENOTDIR` (or `EISDIR` for a call that would create a file), which normalizing would hide.
 */
export function namesDirectory(input: PathLike): boolean {
  let p: string;
  if (typeof input === 'string') p = input;
  else if (Buffer.isBuffer(input)) p = input.toString('latin1');
  else if (input instanceof URL) p = input.pathname;
  else return false;
  const n = p.length;
  if (n < 2) return false;
  if (p.charCodeAt(n - 1) === SLASH) return true;
  return p.charCodeAt(n - 1) === DOT && p.charCodeAt(n - 2) === SLASH;
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
