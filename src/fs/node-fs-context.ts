import type { Engine } from '../engine/engine.js';
import type { SyncPort } from '../engine/sync-port.js';
import type { BackendStats } from '../backend/backend.js';
import { fsError, InvalidArgTypeError } from '../errors.js';
import { namesDirectory, normalizePath, pathString, type PathLike } from '../paths.js';
import { isDirectoryMode } from '../util/modes.js';
import type { CacheFS } from './cachefs.js';
import type { View } from './view.js';

/** What every part of the node:fs drop-in shares: the cache, its engine and view, the sync port. */
export interface NodeFsContext {
  readonly cache: CacheFS;
  readonly core: Engine;
  readonly view: View;
  readonly port: SyncPort;
}

/** A path argument checked as Node checks it (type, NUL bytes), as the backend key and the user's text. */
export interface PathArg {
  key: string;
  shown: string;
}

/** Checks `path` and maps it to its backend key; throws Node's argument errors synchronously. */
export function pathArg(ctx: NodeFsContext, path: PathLike, name = 'path'): PathArg {
  return { key: ctx.view.keyOf(path, name), shown: pathString(path) };
}

/** Throws Node's `ERR_INVALID_ARG_TYPE` unless `cb` is a function. */
export function checkCallback(cb: unknown): asserts cb is (...args: unknown[]) => void {
  if (typeof cb !== 'function') throw new InvalidArgTypeError('cb', 'of type function', cb);
}

/** Validates a path argument without mapping it (for callback forms, which hand the path on). */
export function checkPath(path: unknown, name = 'path'): void {
  normalizePath(path as PathLike, '/', name);
}

/** Options given as an encoding string or an object. */
export function optionsObject<T extends object>(options: unknown): Partial<T> & { encoding?: BufferEncoding | null } {
  if (typeof options === 'string') return { encoding: options as BufferEncoding } as unknown as Partial<T>;
  if (options === null || options === undefined) return {};
  return options as Partial<T>;
}

/**
 * For a path that ends in `/` (or `/.`), what the system checks before any call: that it names a
 * directory, after links. Its stats (followed), or ENOTDIR for a file; undefined for other paths. The
 * sync forms key a path without its trailing slash, so without this `readFileSync('a.txt/')` read the file.
 */
export function directoryNamed(ctx: NodeFsContext, path: PathLike, syscall: string): BackendStats | undefined {
  if (!namesDirectory(path)) return undefined;
  const p = pathArg(ctx, path);
  const st = ctx.port.stat(p.key, true, syscall, p.shown);
  if (!isDirectoryMode(st.mode)) throw fsError('ENOTDIR', syscall, p.shown);
  return st;
}
