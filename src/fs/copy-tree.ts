import { constants as osConstants } from 'node:os';
import { posix } from 'node:path';
import type { FileStats } from './stats-object.js';
import { driveAsync, driveSync, type Steps } from '../util/drive.js';

/** A call's answer: a promise for `cp`, the value itself for `cpSync`. */
type Maybe<T> = T | Promise<T>;

/** The calls of the cache that `cp` and `cpSync` copy with (so they work through the cache, never around it). */
export interface TreeCalls {
  stat(path: string): Maybe<FileStats>;
  lstat(path: string): Maybe<FileStats>;
  mkdir(path: string, options: { recursive?: boolean; mode?: number }): Maybe<string | undefined>;
  copyFile(src: string, dest: string, mode?: number): Maybe<void>;
  readlink(path: string): Maybe<string>;
  symlink(target: string, path: string): Maybe<void>;
  unlink(path: string): Maybe<void>;
  chmod(path: string, mode: number): Maybe<void>;
  readdir(path: string): Maybe<string[]>;
  cwd(): string;
}

/** The options of `cp`, with Node's defaults. */
export interface CopyOptions {
  recursive?: boolean;
  force?: boolean;
  errorOnExist?: boolean;
  dereference?: boolean;
  verbatimSymlinks?: boolean;
  filter?: (src: string, dest: string) => boolean | Promise<boolean>;
}

const { EINVAL, EEXIST, EISDIR, ENOTDIR } = osConstants.errno;

/** Node's `SystemError` for `cp`'s own checks (`ERR_FS_CP_EINVAL`, `ERR_FS_EISDIR`, …), field for field. */
export class CopyError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly syscall = 'cp';
  readonly path: string;
  readonly info: { message: string; path: string; syscall: string; errno: number; code: string };

  constructor(code: string, prefix: string, errnoCode: string, errno: number, path: string, detail: string) {
    super(`${prefix}: cp returned ${errnoCode} (${detail}) ${path}`);
    this.name = 'SystemError';
    this.code = code;
    this.errno = errno;
    this.path = path;
    this.info = { message: detail, path, syscall: 'cp', errno, code: errnoCode };
  }

  /** As Node's SystemError prints: `SystemError [ERR_FS_CP_EINVAL]: Invalid src or dest: …`. */
  override toString(): string {
    return `${this.name} [${this.code}]: ${this.message}`;
  }
}

type Stats = FileStats | null;

/**
 * Copies `src` to `dest` as Node's `fs.promises.cp` does, with the same checks in the same order
 * (filter, same file, kind mismatch, copying into itself, directory without `recursive`), and
 * `force` / `errorOnExist` for existing files. Files go through the cache's `copyFile`.
 */
export function copyTree(fs: TreeCalls, src: string, dest: string, options: CopyOptions): Promise<void> {
  return driveAsync(copySteps(fs, src, dest, options));
}

/** `cpSync`: {@link copyTree} over calls that answer at once (their errors are thrown where they occur). */
export function copyTreeSync(fs: TreeCalls, src: string, dest: string, options: CopyOptions): void {
  driveSync(copySteps(fs, src, dest, options));
}

function* copySteps(fs: TreeCalls, src: string, dest: string, options: CopyOptions): Steps<void> {
  const opts = { force: true, errorOnExist: false, recursive: false, dereference: false, verbatimSymlinks: false, ...options };
  const checked = yield* checkPaths(fs, src, dest, opts);
  if (checked === undefined) return;
  const parent = posix.dirname(dest);
  if ((yield* statOrNull(fs, parent, true)) === null) yield fs.mkdir(parent, { recursive: true });
  yield* copyEntry(fs, checked.srcStat, checked.destStat, src, dest, opts);
}

function* statOrNull(fs: TreeCalls, path: string, follow: boolean): Steps<Stats> {
  try {
    return (yield follow ? fs.stat(path) : fs.lstat(path)) as FileStats;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function* checkPaths(fs: TreeCalls, src: string, dest: string, opts: Required<Omit<CopyOptions, 'filter'>> & CopyOptions): Steps<{ srcStat: FileStats; destStat: Stats } | undefined> {
  if (opts.filter !== undefined && !(yield opts.filter(src, dest))) return undefined;
  const srcStat = (yield opts.dereference ? fs.stat(src) : fs.lstat(src)) as FileStats;
  const destStat = yield* statOrNull(fs, dest, opts.dereference);
  if (destStat !== null) {
    if (srcStat.ino !== 0 && srcStat.ino === destStat.ino && srcStat.dev === destStat.dev) {
      throw new CopyError('ERR_FS_CP_EINVAL', 'Invalid src or dest', 'EINVAL', EINVAL, dest, 'src and dest cannot be the same');
    }
    if (srcStat.isDirectory() && !destStat.isDirectory()) {
      throw new CopyError('ERR_FS_CP_DIR_TO_NON_DIR', 'Cannot overwrite non-directory with directory', 'EISDIR', EISDIR, dest, `cannot overwrite non-directory ${dest} with directory ${src}`);
    }
    if (!srcStat.isDirectory() && destStat.isDirectory()) {
      throw new CopyError('ERR_FS_CP_NON_DIR_TO_DIR', 'Cannot overwrite directory with non-directory', 'ENOTDIR', ENOTDIR, dest, `cannot overwrite directory ${dest} with non-directory ${src}`);
    }
  }
  if (srcStat.isDirectory() && isSubdirectory(fs, src, dest)) {
    throw new CopyError('ERR_FS_CP_EINVAL', 'Invalid src or dest', 'EINVAL', EINVAL, dest, `cannot copy ${src} to a subdirectory of self ${dest}`);
  }
  return { srcStat, destStat };
}

function isSubdirectory(fs: TreeCalls, src: string, dest: string): boolean {
  const from = posix.resolve(fs.cwd(), src).split('/').filter(Boolean);
  const to = posix.resolve(fs.cwd(), dest).split('/').filter(Boolean);
  return from.every((part, i) => to[i] === part);
}

function* copyEntry(fs: TreeCalls, srcStat: FileStats, destStat: Stats, src: string, dest: string, opts: Required<Omit<CopyOptions, 'filter'>> & CopyOptions): Steps<void> {
  if (srcStat.isDirectory()) {
    if (!opts.recursive) {
      throw new CopyError('ERR_FS_EISDIR', 'Path is a directory', 'EISDIR', EISDIR, src, `${src} is a directory (not copied)`);
    }
    if (destStat === null) yield fs.mkdir(dest, {});
    for (const name of (yield fs.readdir(src)) as string[]) {
      const from = posix.join(src, name);
      const to = posix.join(dest, name);
      const checked = yield* checkPaths(fs, from, to, opts);
      if (checked !== undefined) yield* copyEntry(fs, checked.srcStat, checked.destStat, from, to, opts);
    }
    if (destStat === null) yield fs.chmod(dest, srcStat.mode & 0o7777);
    return;
  }
  if (srcStat.isFile()) {
    if (destStat !== null) {
      if (!opts.force) {
        if (opts.errorOnExist) throw new CopyError('ERR_FS_CP_EEXIST', 'Target already exists', 'EEXIST', EEXIST, dest, `${dest} already exists`);
        return;
      }
      yield fs.unlink(dest);
    }
    yield fs.copyFile(src, dest);
    return;
  }
  if (srcStat.isSymbolicLink()) {
    let target = (yield fs.readlink(src)) as string;
    if (!opts.verbatimSymlinks && !posix.isAbsolute(target)) target = posix.resolve(posix.dirname(posix.resolve(fs.cwd(), src)), target);
    if (destStat !== null) yield fs.unlink(dest);
    yield fs.symlink(target, dest);
    return;
  }
  throw new CopyError('ERR_FS_CP_UNKNOWN', 'Cannot copy an unknown file type', 'EINVAL', EINVAL, dest, `cannot copy an unknown file type: ${dest}`);
}
