import { fsError, hasCode } from '../errors.js';
import { normalizePath, type PathLike } from '../paths.js';
import { driveAsync, driveSync, type Steps } from '../util/drive.js';

/**
 * Node's `fs.realpath` and `fs.realpathSync` (not their `.native`) are JavaScript that walks the path an
 * `lstat` at a time from the root, following links, so a failure names `lstat` and the first part that
 * failed (`/a/nope` of `/a/nope/x/y`; `/a/file/x` through a file), where `.native` and
 * `fs.promises.realpath` name `realpath` and the whole path. These turn the second answer into the first,
 * on the failure path only: each step's directory is resolved, then its next part `lstat`ed.
 */
const parts = (path: PathLike, cwd: string): string[] => normalizePath(path, cwd).split('/').filter((part) => part !== '');

const joined = (base: string, part: string): string => (base === '/' ? `/${part}` : `${base}/${part}`);

const walkable = (err: unknown): boolean => hasCode(err) && (err.code === 'ENOENT' || err.code === 'ENOTDIR');

/** The walk's error for a step that failed with `stepError`; the call's own `err` for anything else. */
const walkedStep = (stepError: unknown, syscall: string, path: string, err: unknown): unknown =>
  hasCode(stepError) && walkable(stepError) ? fsError(stepError.code, syscall, path) : err;

/**
 * The error the walking realpath gives for `path` (in the view, against `cwd`) after the call's own
 * `err`, over `lstat` and `realpath` calls that answer at once or in a promise (see util/drive.ts).
 */
function* walkedSteps(err: unknown, path: PathLike, cwd: string, lstat: (p: string) => unknown, realpath: (p: string) => unknown): Steps<unknown> {
  if (!walkable(err)) return err;
  let base = '/';
  for (const part of parts(path, cwd)) {
    const next = joined(base, part);
    try {
      yield lstat(next);
    } catch (stepError) {
      return walkedStep(stepError, 'lstat', next, err);
    }
    try {
      base = (yield realpath(next)) as string;
    } catch (stepError) {
      return walkedStep(stepError, 'stat', next, err); // a link whose target is missing: Node stats it
    }
  }
  return err;
}

/** The error the walking `realpathSync` gives (see {@link walkedSteps}). */
export function walkedFailureSync(err: unknown, path: PathLike, cwd: string, lstat: (p: string) => unknown, realpath: (p: string) => string): unknown {
  return driveSync(walkedSteps(err, path, cwd, lstat, realpath));
}

/** The error the walking callback `realpath` gives, over the cache's promise calls. */
export function walkedFailure(err: unknown, path: PathLike, cwd: string, lstat: (p: string) => Promise<unknown>, realpath: (p: string) => Promise<string>): Promise<unknown> {
  return driveAsync(walkedSteps(err, path, cwd, lstat, realpath));
}
