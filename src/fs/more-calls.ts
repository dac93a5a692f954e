import type { BackendStatFs } from '../backend/backend.js';
import { asCallError, FsError, fsError, hasCode, InvalidArgError, InvalidArgTypeError, OutOfRangeError } from '../errors.js';
import { pathOfText, pathString, pathText, type PathLike } from '../paths.js';
import { parseFileMode } from '../args.js';
import { nameAs } from '../util/byte-path.js';
import { nameEncoding, type NameEncoding, type NameOptions } from './names.js';
import { isSymlinkMode } from '../util/modes.js';
import { CacheControl } from './cache-control.js';
import { toTimeMs } from './arguments.js';
import { CacheDir } from './dir.js';
import { copyTree, type CopyOptions, type TreeCalls } from './copy-tree.js';
import { BigIntFileStats, FileStats, type DirEntry, type StatOptions } from './stats-object.js';
import { watchChanges, type WatchEvent, type WatchOptions } from './watch.js';

/** What `statfs(path, { bigint: true })` returns: Node's `StatFs` fields as bigints. */
export type BigIntStatFs = { [K in keyof BackendStatFs]: bigint };

/**
 * The calls of Node's fs/promises that are rarer than reads and writes (`link`, `lchown`, `lutimes`,
 * `statfs`), kept apart from the facade so that it stays small. Each waits for readiness like every
 * call, goes to the backend's optional face (API.md §11) and tells the cache what changed.
 */
export abstract class MoreCalls extends CacheControl {
  /** The backend key of `path` with its parent's links resolved, the path itself not followed. */
  protected abstract linkKey(path: PathLike, syscall: string, argName?: string): Promise<string>;
  /** The backend key of `path` with every link resolved. */
  protected abstract realKey(path: PathLike, syscall: string, argName?: string, creates?: boolean): Promise<string>;
  /** Lists a directory with entry types (the facade's `readdir`). */
  abstract readdir(path: PathLike, options: { withFileTypes: true; recursive?: boolean; encoding?: NameEncoding | null }): Promise<DirEntry[]>;

  abstract stat(path: PathLike): Promise<FileStats>;
  abstract mkdir(path: PathLike, options: { recursive?: boolean; mode?: number }): Promise<string | undefined>;
  abstract copyFile(src: PathLike, dest: PathLike, mode?: number): Promise<void>;
  abstract readlink(path: PathLike): Promise<string>;
  abstract symlink(target: PathLike, path: PathLike): Promise<void>;
  abstract unlink(path: PathLike): Promise<void>;
  abstract cwd(): string;

  /**
   * Changes of a directory (its entries; everything below with `recursive`) or of a file, as an async
   * iterator of `{ eventType, filename }` like fs/promises' `watch`: the changes made through this
   * cache, and those its backend's watcher (the `watch` option) or revalidation notices. A `break` ends
   * it; `signal` makes it throw an `AbortError`. The path is keyed as the cache last resolved it.
   */
  watch(path: PathLike, options?: WatchOptions | null): AsyncIterableIterator<WatchEvent> {
    this.check('watch');
    const key = this.view.keyOf(path, 'filename', 'watch');
    return watchChanges(this.core, this.core.resolvedKey(key) ?? key, options ?? {});
  }

  /** Stats of a path itself (a symbolic link is not followed); `bigint` gives {@link BigIntFileStats}. */
  lstat(path: PathLike, options?: { bigint?: false } | null): Promise<FileStats>;
  lstat(path: PathLike, options: { bigint: true }): Promise<BigIntFileStats>;
  lstat(path: PathLike, options?: StatOptions | null): Promise<FileStats | BigIntFileStats>;
  async lstat(path: PathLike, options?: StatOptions | null): Promise<FileStats | BigIntFileStats> {
    if (this.pending) await this.pending;
    this.check('lstat');
    const key = await this.linkKey(path, 'lstat');
    const stats = new FileStats(await this.core.statOf(key, false, 'lstat', pathString(path)));
    return options != null && options.bigint === true ? new BigIntFileStats(stats) : stats;
  }

  /**
   * Copies a file, a link or (with `recursive`) a directory tree as Node's `cp` does: its checks and
   * errors (`ERR_FS_EISDIR`, `ERR_FS_CP_EINVAL`, `ERR_FS_CP_EEXIST`, …), `force` (default true),
   * `errorOnExist`, `filter`, `dereference`, `verbatimSymlinks`. Files go through the cache's
   * `copyFile`, so a backend's copy face is used when the cache holds nothing newer.
   */
  async cp(src: PathLike, dest: PathLike, options?: CopyOptions | null): Promise<void> {
    if (this.pending) await this.pending;
    this.check('cp');
    const calls: TreeCalls = {
      stat: (p) => this.stat(p), lstat: (p) => this.lstat(p), mkdir: (p, o) => this.mkdir(p, o),
      copyFile: (s, d, m) => this.copyFile(s, d, m), readlink: (p) => this.readlink(p), symlink: (t, p) => this.symlink(t, p),
      unlink: (p) => this.unlink(p), chmod: (p, m) => this.chmod(p, m), cwd: () => this.cwd(),
      readdir: async (p) => (await this.readdir(p, { withFileTypes: true })).map((e) => e.name),
    };
    await copyTree(calls, pathString(src), pathString(dest), options ?? {});
  }

  /**
   * Opens a directory for reading entry by entry, as Node's `opendir`: a `Dir` with `read()`,
   * `close()` and async iteration, its entries those `readdir(path, { withFileTypes: true })` gives
   * (below it too with `recursive`). `bufferSize` is checked as Node does; the listing is read at once.
   */
  async opendir(path: PathLike, options?: { bufferSize?: number; recursive?: boolean; encoding?: NameEncoding | null } | null): Promise<CacheDir> {
    const bufferSize = options?.bufferSize;
    if (bufferSize !== undefined) checkBufferSize(bufferSize);
    if (this.pending) await this.pending;
    this.check('opendir');
    let entries: DirEntry[];
    try {
      entries = await this.readdir(path, { withFileTypes: true, recursive: options?.recursive === true, encoding: options?.encoding ?? null });
    } catch (err) {
      throw asCallError(err, 'opendir', pathString(path));
    }
    return new CacheDir(pathString(path), entries);
  }

  /**
   * Creates a uniquely named directory `prefix` + six random characters, as Node's `mkdtemp`, and
   * answers its path in `encoding` (a Buffer prefix may name bytes that are not UTF-8).
   */
  async mkdtemp(prefix: PathLike, options: 'buffer' | { encoding: 'buffer' }): Promise<Buffer>;
  async mkdtemp(prefix: PathLike, options?: NameOptions): Promise<string>;
  async mkdtemp(prefix: PathLike, options?: NameOptions): Promise<string | Buffer> {
    if (this.pending) await this.pending;
    this.check('mkdtemp');
    const text = pathText(prefix, 'prefix');
    if (text.includes('\u0000')) throw new InvalidArgError('prefix', prefix, 'must be a string, Uint8Array, or URL without null bytes');
    const encoding = nameEncoding(options);
    const chars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
    for (let attempt = 0; ; attempt++) {
      let suffix = '';
      for (let i = 0; i < 6; i++) suffix += chars[Math.floor(Math.random() * chars.length)];
      const path = text + suffix;
      try {
        await this.mkdir(pathOfText(path), { mode: 0o700 });
        return nameAs(path, encoding);
      } catch (err) {
        if (!hasCode(err) || err.code !== 'EEXIST' || attempt > 100) {
          throw err instanceof FsError ? new FsError(err.code, 'mkdtemp', `${nameAs(text, 'utf8') as string}XXXXXX`) : err;
        }
      }
    }
  }

  /** Changes permission bits (a number, or an octal string as Node takes). */
  async chmod(path: PathLike, mode: number | string): Promise<void> {
    if (this.pending) await this.pending;
    this.check('chmod');
    const m = parseFileMode(mode, 'mode');
    if (m === undefined) throw new InvalidArgTypeError('mode', 'of type number', mode);
    await this.core.chmod(await this.realKey(path, 'chmod'), m, pathString(path));
  }

  /** Sets access and modification times (seconds, numeric strings, or Dates, as in Node). */
  async utimes(path: PathLike, atime: number | string | Date, mtime: number | string | Date): Promise<void> {
    if (this.pending) await this.pending;
    this.check('utimes');
    const key = await this.realKey(path, 'utime');
    await this.core.utimes(key, toTimeMs(atime, 'atime'), toTimeMs(mtime, 'mtime'), pathString(path));
  }

  /**
   * Makes `newPath` a hard link to `existingPath` (a symbolic link is linked itself, as Linux does).
   * A backend without a `link` face fails with `EPERM`, what link(2) reports on a file system that
   * has no hard links.
   */
  async link(existingPath: PathLike, newPath: PathLike): Promise<void> {
    if (this.pending) await this.pending;
    this.check('link');
    const from = await this.linkKey(existingPath, 'link', 'existingPath');
    const to = await this.linkKey(newPath, 'link', 'newPath');
    const { backend, cache } = this.core;
    // Write-back data of either name must be on the backend first: the link shares the backend's file,
    // and a name created only in the cache must make the link fail with EEXIST there.
    await cache.invalidate({ path: from }, 'flush');
    await cache.invalidate({ path: to }, 'flush');
    try {
      if (!backend.link) throw fsError('EPERM', 'link', pathString(existingPath), pathString(newPath));
      await backend.link(from, to);
    } catch (err) {
      this.core.forgetAfterFailure(from, to);
      throw asCallError(err, 'link', pathString(existingPath), pathString(newPath));
    }
    cache.metadataChanged(from);
    cache.metadataChanged(to);
  }

  /**
   * Changes the owner of `path` itself (a symbolic link is not followed). Without an `lchown` face, a
   * path that is not a link takes the backend's `chown`; a backend that has neither keeps no owners
   * and only checks that the path exists (as `chown` does); a link there is `EPERM`.
   */
  async lchown(path: PathLike, uid: number, gid: number): Promise<void> {
    if (this.pending) await this.pending;
    this.check('lchown');
    const key = await this.linkKey(path, 'lchown');
    const shown = pathString(path);
    const { backend, cache } = this.core;
    const isLink = isSymlinkMode((await this.core.statOf(key, false, 'lchown', shown)).mode);
    await cache.invalidate({ path: key }, 'flush'); // the owner changes on the backend's file: its bytes go first
    try {
      if (backend.lchown) await backend.lchown(key, uid, gid);
      else if (!isLink && backend.chown) await backend.chown(key, uid, gid);
      else if (isLink && backend.chown) throw fsError('EPERM', 'lchown', shown);
    } catch (err) {
      this.core.forgetAfterFailure(key);
      throw asCallError(err, 'lchown', shown);
    }
    cache.metadataChanged(key);
  }

  /**
   * Sets the times of `path` itself (a symbolic link is not followed). Without an `lutimes` face, a
   * path that is not a link is set with `utimes`; a link there is `ENOTSUP`.
   */
  async lutimes(path: PathLike, atime: number | string | Date, mtime: number | string | Date): Promise<void> {
    if (this.pending) await this.pending;
    this.check('lutimes');
    const atimeMs = toTimeMs(atime, 'atime');
    const mtimeMs = toTimeMs(mtime, 'mtime');
    const key = await this.linkKey(path, 'lutime');
    const shown = pathString(path);
    const isLink = isSymlinkMode((await this.core.statOf(key, false, 'lutime', shown)).mode);
    // A file (not a link) keeps its cached bytes: the engine's utimes also moves a dirty entry's mtime.
    if (!isLink) return this.core.utimes(key, atimeMs, mtimeMs, shown);
    const { backend, cache } = this.core;
    try {
      if (!backend.lutimes) throw fsError('ENOTSUP', 'lutime', shown);
      await backend.lutimes(key, atimeMs, mtimeMs);
    } catch (err) {
      this.core.forgetAfterFailure(key);
      throw asCallError(err, 'lutime', shown);
    }
    cache.metadataChanged(key);
  }

  /**
   * Statistics of the volume holding `path`, from the backend's `statfs` face (a backend without one
   * fails with `ENOSYS`, what libuv reports where the call does not exist).
   */
  statfs(path: PathLike, options?: { bigint?: false } | null): Promise<BackendStatFs>;
  statfs(path: PathLike, options: { bigint: true }): Promise<BigIntStatFs>;
  statfs(path: PathLike, options?: { bigint?: boolean } | null): Promise<BackendStatFs | BigIntStatFs>;
  async statfs(path: PathLike, options?: { bigint?: boolean } | null): Promise<BackendStatFs | BigIntStatFs> {
    if (this.pending) await this.pending;
    this.check('statfs');
    const key = await this.realKey(path, 'statfs');
    const backend = this.core.backend;
    let found: BackendStatFs;
    try {
      if (!backend.statfs) throw fsError('ENOSYS', 'statfs', pathString(path));
      found = await backend.statfs(key);
    } catch (err) {
      throw asCallError(err, 'statfs', pathString(path));
    }
    const { type, bsize, blocks, bfree, bavail, files, ffree } = found;
    const plain = { type, bsize, blocks, bfree, bavail, files, ffree };
    if (options == null || options.bigint !== true) return plain;
    return {
      type: BigInt(type), bsize: BigInt(bsize), blocks: BigInt(blocks), bfree: BigInt(bfree),
      bavail: BigInt(bavail), files: BigInt(files), ffree: BigInt(ffree),
    };
  }
}

/** Node's checks of `opendir`'s `bufferSize`: an integer from 1 to 4294967295. */
function checkBufferSize(value: unknown): void {
  if (typeof value !== 'number') throw new InvalidArgTypeError('options.bufferSize', 'of type number', value);
  if (!Number.isInteger(value) || value < 1 || value > 4294967295) {
    throw new OutOfRangeError('options.bufferSize', Number.isInteger(value) ? '>= 1 && <= 4294967295' : 'an integer', value);
  }
}
