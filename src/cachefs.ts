import { constants as fsConstants } from 'node:fs';
import type { Backend, BackendStats } from './backend/backend.js';
import { CacheCore, type Counters } from './core.js';
import { asCallError, CacheClosedError, FsError, fsError, hasCode, InvalidArgError, InvalidArgTypeError } from './errors.js';
import { CacheFileHandle } from './file-handle.js';
import { parseOpenFlags } from './flags.js';
import { resolveOptions, type CacheFSOptions, type WriteMode } from './options.js';
import { baseName, joinPath, normalizePath, parentOf, type PathLike } from './paths.js';
import { compileGlob } from './coherence/glob.js';
import { DirEntry, FileStats, isDirectoryMode, isSymlinkMode } from './stats-object.js';
import type { PolicyName } from './policy/policy.js';
import type { NamespaceOp } from './writeback/write-back.js';
import type { Registry } from 'prom-client';
import type { CacheView } from './warm/view.js';
import { batchInvalidate, batchStats, type PathCacheStats } from './warm/batch.js';
import { prefetch, warm, warmFromDir, warmFromList, warmFromPattern, warmSmart } from './warm/warm.js';
import { warmingProgress } from './warm/runner.js';
import type { PrefetchOptions, PrefetchResult, WarmOptions, WarmProgress, WarmSmartOptions } from './warm/options.js';
import type { StatsSnapshot } from './metrics/snapshot.js';
import { exportPrometheus, registerCacheMetrics } from './metrics/prometheus.js';

/** `stats()`: a plain snapshot of the cache's counters. */
export interface CacheStats {
  hits: number;
  misses: number;
  evictions: number;
  bytesUsed: number;
  entries: number;
  /** hits / (hits + misses), 0 when nothing was read. */
  hitRate: number;
}

/** `detailedStats()`: {@link CacheStats} plus operation counters, limits and configuration. */
export interface DetailedStats extends CacheStats {
  flushCount: number;
  flushErrors: number;
  dirtyEntries: number;
  readOps: number;
  writeOps: number;
  invalidateOps: number;
  metadataEntries: number;
  maxBytes: number;
  maxEntries: number;
  ttl: number;
  writeMode: WriteMode;
  eviction: PolicyName;
  revalidations: number;
  changesDetected: number;
  bytesShed: number;
  /** Entries the eviction policy refused to admit (see API.md 1.3 §6); `evictions` counts the rest. */
  rejections: number;
}

type Encoding = BufferEncoding;
type ReadFileOptions = Encoding | { encoding?: Encoding | null; flag?: string; signal?: AbortSignal } | null;
type WriteFileOptions = Encoding | { encoding?: Encoding | null; mode?: number; flag?: string; signal?: AbortSignal } | null;
type WriteData = string | NodeJS.ArrayBufferView;

const SHARED = Symbol('cachefs.shared');

interface SharedView {
  core: CacheCore;
  root: string;
}

function encodingOf(options: ReadFileOptions | WriteFileOptions | undefined): Encoding | undefined {
  if (typeof options === 'string') return options;
  return options?.encoding ?? undefined;
}

function toData(data: WriteData, encoding: Encoding | undefined): Uint8Array {
  if (typeof data === 'string') return Buffer.from(data, encoding ?? 'utf8');
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new InvalidArgTypeError('data', 'of type string or an instance of Buffer, TypedArray, or DataView', data);
}

const REQUIRED_BACKEND_METHODS = [
  'stat', 'lstat', 'readFile', 'writeFile', 'readdir', 'mkdir', 'rmdir', 'unlink', 'rename', 'truncate', 'chmod', 'utimes',
  'symlink', 'readlink',
] as const;

/**
 * A caching layer over a {@link Backend}, with the surface of `node:fs/promises`: file data and
 * (optionally) metadata are kept in memory so that a repeated read costs a memory copy.
 *
 * Paths are POSIX strings; relative ones resolve against {@link CacheFS.cwd}. Errors carry Node's
 * `code`, `syscall` and `path`. After {@link CacheFS.close}, every call fails with `ERR_CACHEFS_CLOSED`.
 *
 * Events (subscribe with {@link CacheFS.on}): `'evict'` `{ path, reason, size }` when an entry leaves
 * (reason `'evicted' | 'expired' | 'invalidated' | 'shed'`), `'invalidate'` `{ path }`,
 * `'flush'` `{ path, bytes }` and `'flushError'` `{ path, error, attempts, retryInMs }` in write-back mode,
 * `'backendRead'` `{ path, ms, bytes }` for every load from the backend,
 * `'warmProgress'` `{ path, total, completed, errors, bytesRead, error? }` after each file of a warm.
 * Coherence (see the README, "Coherence"): `'conflict'` `{ path, detectedBy, deleted }` when a dirty entry's
 * file changed behind the cache (the program's data wins and is flushed over it),
 * `'watchInvalidate'` `{ paths, events, overflow }` after each batch of watch events,
 * `'watchError'` `{ error }` when the watcher failed (the cache revalidates every entry until
 * `'watchRestored'`), `'shed'` `{ entries, bytes, sample }` when memory pressure dropped clean entries.
 */
export class CacheFS {
  /** @internal */
  readonly core: CacheCore;
  /** Node's `fs.constants`, for programs that read them off the fs object they are given. */
  readonly constants = fsConstants;

  /** This cache itself: for programs that take an `fs`-shaped object and call `fs.promises.readFile(…)`. */
  get promises(): this {
    return this;
  }
  /** The backend path this view's `/` maps to (`''` for the whole backend). */
  private readonly root: string;
  private cwdPath = '/';
  private viewClosed = false;

  /**
   * @param backend the file system to cache (`memoryBackend()`, `nodeBackend(root)` or your own)
   * @param options see {@link CacheFSOptions}; invalid values throw `ERR_INVALID_ARG_VALUE`
   */
  constructor(backend: Backend, options?: CacheFSOptions) {
    const shared = (options as { [SHARED]?: SharedView } | undefined)?.[SHARED];
    if (shared) {
      this.core = shared.core;
      this.root = shared.root;
      if (this.core.replayPending) gateUntilReady(this, this.core.ready);
      return;
    }
    if (!backend || typeof backend !== 'object') throw new InvalidArgError('backend', backend, 'must be a Backend object');
    for (const m of REQUIRED_BACKEND_METHODS) {
      if (typeof (backend as unknown as Record<string, unknown>)[m] !== 'function') {
        throw new InvalidArgError('backend', backend, `must implement ${m}()`);
      }
    }
    this.core = new CacheCore(backend, resolveOptions(options));
    this.root = '';
    if (this.core.replayPending) gateUntilReady(this, this.core.ready);
  }

  /** Resolves when the cache can serve (after a journal replay, when a journal is configured). */
  async ready(): Promise<void> {
    await this.core.ready;
  }

  // ------------------------------------------------------------------ paths

  /** The backend key of a user path (normalized, mapped below this view's root). */
  private toKey(path: PathLike, arg = 'path'): string {
    const view = normalizePath(path, this.cwdPath, arg);
    if (this.root === '') return view;
    return view === '/' ? this.root : this.root + view;
  }

  /** The path reported in errors: what the user passed, as Node does. */
  private shown(path: PathLike): string {
    return typeof path === 'string' ? path : Buffer.isBuffer(path) ? path.toString() : String(path);
  }

  /** A backend key as this view's path (for `realpath` and `readdir` parent paths). */
  private toView(key: string): string {
    if (this.root === '') return key;
    if (key === this.root) return '/';
    return key.startsWith(this.root + '/') ? key.slice(this.root.length) : key;
  }

  private check(operation: string): void {
    if (this.viewClosed || this.core.closed) throw new CacheClosedError(operation);
  }

  /** The backend key of `path` with its parent's links resolved (the path itself is not followed). */
  private async linkKey(key: string): Promise<string> {
    if (key === '/' || key === this.root) return key;
    const parent = await this.core.resolve(parentOf(key));
    return joinPath(parent, baseName(key));
  }

  // ------------------------------------------------------------------ reading

  /**
   * Reads a whole file; served from memory after the first read. A hit runs without an `await` and
   * allocates only the returned buffer (carved from a shared slab, see `store/return-buffers.ts`).
   */
  readFile(path: PathLike, options?: ReadFileOptions): Promise<Buffer>;
  readFile(path: PathLike, options: Encoding | { encoding: Encoding }): Promise<string>;
  readFile(path: PathLike, options?: ReadFileOptions): Promise<Buffer | string> {
    let key: string;
    try {
      this.check('readFile');
      options?.constructor === Object && (options as { signal?: AbortSignal }).signal?.throwIfAborted();
      const core = this.core;
      core.counters.readOps++;
      key = core.knownKey(this.toKey(path));
      const slot = core.hitSlot(key);
      if (slot >= 0) {
        const out = core.copyOut(slot);
        const encoding = encodingOf(options);
        return Promise.resolve(encoding ? out.toString(encoding) : out);
      }
    } catch (err) {
      return Promise.reject(err);
    }
    return this.readFileMiss(key, path, options);
  }

  private async readFileMiss(key: string, path: PathLike, options: ReadFileOptions | undefined): Promise<Buffer | string> {
    const out = await this.core.readWhole(await this.core.resolve(key), this.shown(path));
    const encoding = encodingOf(options);
    return encoding ? out.toString(encoding) : out;
  }

  /** Opens a file; the handle reads and writes through the cache. */
  async open(path: PathLike, flags: string | number = 'r', mode = 0o666): Promise<CacheFileHandle> {
    const openMode = parseOpenFlags(flags);
    this.check('open');
    const shown = this.shown(path);
    const key = await this.core.resolve(this.toKey(path));
    let isDirectory = false;
    if (openMode.create) {
      await this.core.createIfMissing(key, shown, openMode.exclusive, openMode.truncate, mode);
    } else if (this.core.residentAndFresh(key) && !openMode.truncate) {
      // A cached entry is a regular file that exists: no backend call needed to open it.
    } else {
      const st = await this.core.statOf(key, true, 'open', shown);
      isDirectory = isDirectoryMode(st.mode);
      if (isDirectory && openMode.writable) throw fsError('EISDIR', 'open', shown);
      if (openMode.truncate) await this.core.truncate(key, 0, shown);
    }
    return new CacheFileHandle(this.core, key, shown, openMode, isDirectory);
  }

  /** Stats of a path, following symbolic links. */
  async stat(path: PathLike): Promise<FileStats> {
    this.check('stat');
    const key = await this.core.resolve(this.toKey(path));
    return new FileStats(await this.core.statOf(key, true, 'stat', this.shown(path)));
  }

  /** Stats of a path itself (a symbolic link is not followed). */
  async lstat(path: PathLike): Promise<FileStats> {
    this.check('lstat');
    const key = await this.linkKey(this.toKey(path));
    return new FileStats(await this.core.statOf(key, false, 'lstat', this.shown(path)));
  }

  /** Lists a directory: names, or `DirEntry` objects with `withFileTypes`; `recursive` walks below it. */
  async readdir(path: PathLike, options: { withFileTypes: true; recursive?: boolean; encoding?: Encoding | null }): Promise<DirEntry[]>;
  async readdir(path: PathLike, options?: Encoding | { withFileTypes?: false; recursive?: boolean; encoding?: Encoding | null } | null): Promise<string[]>;
  async readdir(path: PathLike, options?: Encoding | { withFileTypes?: boolean; recursive?: boolean; encoding?: Encoding | null } | null): Promise<string[] | DirEntry[]> {
    this.check('readdir');
    const withTypes = typeof options === 'object' && options !== null && options.withFileTypes === true;
    const recursive = typeof options === 'object' && options !== null && options.recursive === true;
    const shown = this.shown(path);
    const key = await this.core.resolve(this.toKey(path));
    const viewDir = this.toView(key) === key && this.root !== '' ? normalizePath(path, this.cwdPath) : normalizePath(path, this.cwdPath);
    const names: string[] = [];
    const entries: DirEntry[] = [];
    const walk = async (dirKey: string, viewPath: string, prefix: string): Promise<void> => {
      let list;
      try {
        list = await this.core.backend.readdir(dirKey);
      } catch (err) {
        throw asCallError(err, 'scandir', dirKey === key ? shown : viewPath);
      }
      list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const e of list) {
        names.push(prefix + e.name);
        if (withTypes) entries.push(new DirEntry(e.name, e.type, viewPath));
        if (recursive && e.type === 'directory') await walk(joinPath(dirKey, e.name), joinPath(viewPath, e.name), `${prefix}${e.name}/`);
      }
    };
    await walk(key, viewDir, '');
    return withTypes ? entries : names;
  }

  /** The target of a symbolic link. */
  async readlink(path: PathLike): Promise<string> {
    this.check('readlink');
    const key = await this.linkKey(this.toKey(path));
    try {
      return await this.core.backend.readlink(key);
    } catch (err) {
      throw asCallError(err, 'readlink', this.shown(path));
    }
  }

  /** The canonical path, every symbolic link resolved. */
  async realpath(path: PathLike): Promise<string> {
    this.check('realpath');
    const key = this.toKey(path);
    const backend = this.core.backend;
    try {
      if (backend.realpath) return this.toView(await backend.realpath(key));
      await backend.stat(key);
      return this.toView(key);
    } catch (err) {
      throw asCallError(err, 'realpath', this.shown(path));
    }
  }

  /** Checks that a path exists and, with `mode`, that its permission bits allow R, W or X. */
  async access(path: PathLike, mode: number = fsConstants.F_OK): Promise<void> {
    this.check('access');
    const shown = this.shown(path);
    const key = await this.core.resolve(this.toKey(path));
    const st = await this.core.statOf(key, true, 'access', shown);
    if (mode === fsConstants.F_OK) return;
    const uid = process.getuid?.() ?? -1;
    const gid = process.getgid?.() ?? -1;
    let bits: number;
    if (uid === 0) {
      // root may read and write anything; executing needs some x bit, as for the kernel.
      bits = fsConstants.R_OK | fsConstants.W_OK | ((st.mode & 0o111) !== 0 ? fsConstants.X_OK : 0);
    } else if (st.uid === uid) bits = (st.mode >> 6) & 7;
    else if (st.gid === gid) bits = (st.mode >> 3) & 7;
    else bits = st.mode & 7;
    if ((mode & bits) !== mode) throw fsError('EACCES', 'access', shown);
  }

  // ------------------------------------------------------------------ writing

  /** Writes a whole file (replacing it); `flag: 'wx'` fails if it exists, `'a'` appends. */
  async writeFile(path: PathLike, data: WriteData, options?: WriteFileOptions): Promise<void> {
    const bytes = toData(data, encodingOf(options));
    this.check('writeFile');
    const flag = typeof options === 'object' && options !== null ? options.flag ?? 'w' : 'w';
    const mode = typeof options === 'object' && options !== null ? options.mode : undefined;
    const shown = this.shown(path);
    const key = await this.core.resolve(this.toKey(path));
    const parsed = parseOpenFlags(flag);
    if (parsed.append) {
      if (parsed.exclusive) await this.core.createIfMissing(key, shown, true, false, mode ?? 0o666);
      await this.core.append(key, bytes, shown);
      return;
    }
    await this.core.writeWhole(key, bytes, shown, { exclusive: parsed.exclusive, ...(mode !== undefined ? { mode } : {}) });
  }

  /** Appends to a file, creating it if needed. */
  async appendFile(path: PathLike, data: WriteData, options?: WriteFileOptions): Promise<void> {
    const bytes = toData(data, encodingOf(options));
    this.check('appendFile');
    const flag = typeof options === 'object' && options !== null ? options.flag ?? 'a' : 'a';
    const shown = this.shown(path);
    const key = await this.core.resolve(this.toKey(path));
    if (parseOpenFlags(flag).exclusive) await this.core.createIfMissing(key, shown, true, false, 0o666);
    await this.core.append(key, bytes, shown);
  }

  /** Cuts or extends a file to `len` bytes (negative counts as 0, as in Node). */
  async truncate(path: PathLike, len = 0): Promise<void> {
    this.check('truncate');
    if (typeof len !== 'number' || !Number.isInteger(len)) throw new InvalidArgTypeError('len', 'an integer', len);
    const shown = this.shown(path);
    const key = await this.core.resolve(this.toKey(path));
    const st = await this.core.statOf(key, true, 'open', shown);
    if (isDirectoryMode(st.mode)) throw fsError('EISDIR', 'open', shown);
    await this.core.truncate(key, Math.max(0, len), shown);
  }

  /** Copies a file's content (through the cache: dirty data of `src` is what is copied). */
  async copyFile(src: PathLike, dest: PathLike, mode = 0): Promise<void> {
    this.check('copyFile');
    const srcShown = this.shown(src);
    const destShown = this.shown(dest);
    const srcKey = await this.core.resolve(this.toKey(src, 'src'));
    const destKey = await this.core.resolve(this.toKey(dest, 'dest'));
    let data: Buffer;
    try {
      const st = await this.core.statOf(srcKey, true, 'copyfile', srcShown);
      if (isDirectoryMode(st.mode)) throw fsError('EISDIR', 'copyfile', srcShown, destShown);
      data = await this.core.readWhole(srcKey, srcShown);
    } catch (err) {
      if (err instanceof FsError) throw new FsError(err.code, 'copyfile', srcShown, destShown);
      throw err;
    }
    const exclusive = (mode & fsConstants.COPYFILE_EXCL) !== 0;
    try {
      await this.core.writeWhole(destKey, data, destShown, { exclusive });
    } catch (err) {
      if (err instanceof FsError) throw new FsError(err.code, 'copyfile', srcShown, destShown);
      throw err;
    }
  }

  /** Creates a directory; `recursive` creates parents and returns the first directory created. */
  async mkdir(path: PathLike, options?: number | string | { recursive?: boolean; mode?: number | string } | null): Promise<string | undefined> {
    this.check('mkdir');
    const recursive = typeof options === 'object' && options !== null && options.recursive === true;
    const rawMode = typeof options === 'object' && options !== null ? options.mode : options ?? undefined;
    const mode = typeof rawMode === 'string' ? parseInt(rawMode, 8) : rawMode;
    const shown = this.shown(path);
    const key = await this.core.resolve(this.toKey(path));
    const backend = this.core.backend;
    let firstCreated: string | undefined;
    if (recursive) {
      // Find the top-most missing ancestor: that is what Node returns.
      let probe = key;
      for (;;) {
        let st: BackendStats | undefined;
        try {
          st = await backend.stat(probe);
        } catch (err) {
          if (!hasCode(err) || err.code !== 'ENOENT') throw asCallError(err, 'mkdir', shown);
        }
        if (st !== undefined) {
          if (!isDirectoryMode(st.mode)) throw fsError(probe === key ? 'EEXIST' : 'ENOTDIR', 'mkdir', shown);
          break;
        }
        firstCreated = probe;
        if (probe === '/' || probe === this.root) break;
        probe = parentOf(probe);
      }
      if (firstCreated === undefined) return undefined;
    }
    try {
      await backend.mkdir(key, { recursive, ...(mode !== undefined ? { mode } : {}) });
    } catch (err) {
      throw asCallError(err, 'mkdir', shown);
    }
    this.core.forgetMeta(key);
    if (firstCreated !== undefined) this.core.meta.deleteWithin(parentOf(firstCreated));
    return firstCreated === undefined ? undefined : this.toView(firstCreated);
  }

  /** Removes an empty directory. */
  async rmdir(path: PathLike): Promise<void> {
    this.check('rmdir');
    const shown = this.shown(path);
    const key = await this.linkKey(this.toKey(path));
    await this.namespaceChange([key], { kind: 'remove', path: key }, async () => {
      try {
        await this.core.backend.rmdir(key);
      } catch (err) {
        throw asCallError(err, 'rmdir', shown);
      }
      this.core.discardWithin(key);
    });
  }

  /** Removes a file (or a symbolic link itself). Its dirty data, if any, is discarded. */
  async unlink(path: PathLike): Promise<void> {
    this.check('unlink');
    const shown = this.shown(path);
    const key = await this.linkKey(this.toKey(path));
    await this.namespaceChange([key], { kind: 'remove', path: key }, async () => {
      try {
        await this.core.backend.unlink(key);
      } catch (err) {
        throw asCallError(err, 'unlink', shown);
      }
      this.core.discard(key);
      this.core.forgetMeta(key);
    });
  }

  /** Removes a file, or a directory tree with `recursive`; `force` ignores a missing path. */
  async rm(path: PathLike, options?: { recursive?: boolean; force?: boolean } | null): Promise<void> {
    this.check('rm');
    const recursive = options?.recursive === true;
    const force = options?.force === true;
    const shown = this.shown(path);
    const key = await this.linkKey(this.toKey(path));
    const backend = this.core.backend;
    let st: BackendStats;
    try {
      st = await backend.lstat(key);
    } catch (err) {
      if (force && hasCode(err) && err.code === 'ENOENT') return;
      throw asCallError(err, 'lstat', shown);
    }
    if (isDirectoryMode(st.mode) && !recursive) {
      const err = new Error(`Path is a directory: rm returned EISDIR (is a directory) ${shown}`) as Error & Record<string, unknown>;
      err.code = 'ERR_FS_EISDIR';
      err.syscall = 'rm';
      err.path = shown;
      err.errno = 21;
      throw err;
    }
    await this.namespaceChange([key], { kind: 'remove', path: key }, async () => {
      // Each file leaves the cache as it leaves the backend: if the removal stops part-way, the dirty
      // data of the files it did not reach stays (and is flushed), and none of what it removed comes back.
      const removeTree = async (k: string, isDir: boolean): Promise<void> => {
        if (!isDir) {
          await backend.unlink(k);
          this.core.discard(k);
          return;
        }
        for (const e of await backend.readdir(k)) await removeTree(joinPath(k, e.name), e.type === 'directory');
        await backend.rmdir(k);
        this.core.discardWithin(k);
      };
      try {
        await removeTree(key, isDirectoryMode(st.mode));
      } catch (err) {
        this.core.discardCleanWithin(key);
        if (!(force && hasCode(err) && err.code === 'ENOENT')) throw asCallError(err, 'rm', shown);
        return;
      }
      this.core.discardWithin(key);
    });
  }

  /** Renames a file or directory; cached data (dirty included) moves with it. */
  async rename(oldPath: PathLike, newPath: PathLike): Promise<void> {
    this.check('rename');
    const from = await this.linkKey(this.toKey(oldPath, 'oldPath'));
    const to = await this.linkKey(this.toKey(newPath, 'newPath'));
    if (from === to) {
      await this.core.statOf(from, false, 'rename', this.shown(oldPath)).catch((err: unknown) => {
        throw err instanceof FsError ? new FsError(err.code, 'rename', this.shown(oldPath), this.shown(newPath)) : err;
      });
      return;
    }
    await this.namespaceChange([from, to], { kind: 'rename', from, to }, async () => {
      try {
        await this.core.backend.rename(from, to);
      } catch (err) {
        throw asCallError(err, 'rename', this.shown(oldPath), this.shown(newPath));
      }
      this.core.moveWithin(from, to);
    });
  }

  /** Creates a symbolic link at `path` pointing to `target` (stored as given). */
  async symlink(target: PathLike, path: PathLike, _type?: string | null): Promise<void> {
    this.check('symlink');
    const targetString = typeof target === 'string' ? target : Buffer.isBuffer(target) ? target.toString() : String(target);
    if (targetString.includes('\u0000')) throw new InvalidArgError('target', targetString, 'must be a string without null bytes');
    const key = await this.linkKey(this.toKey(path));
    try {
      await this.core.backend.symlink(targetString, key);
    } catch (err) {
      throw asCallError(err, 'symlink', targetString, this.shown(path));
    }
    this.core.forgetResolutions();
    this.core.forgetMeta(key);
  }

  async chmod(path: PathLike, mode: number | string): Promise<void> {
    this.check('chmod');
    const m = typeof mode === 'string' ? parseInt(mode, 8) : mode;
    if (typeof m !== 'number' || !Number.isInteger(m) || m < 0) throw new InvalidArgError('mode', mode, 'must be a valid file mode');
    const key = await this.core.resolve(this.toKey(path));
    await this.core.chmod(key, m, this.shown(path));
  }

  async chown(path: PathLike, uid: number, gid: number): Promise<void> {
    this.check('chown');
    const key = await this.core.resolve(this.toKey(path));
    const backend = this.core.backend;
    try {
      if (backend.chown) await backend.chown(key, uid, gid);
      else await backend.stat(key);
    } catch (err) {
      throw asCallError(err, 'chown', this.shown(path));
    }
    this.core.forgetMeta(key);
  }

  /** Sets access and modification times (seconds, numeric strings, or Dates, as in Node). */
  async utimes(path: PathLike, atime: number | string | Date, mtime: number | string | Date): Promise<void> {
    this.check('utimes');
    const key = await this.core.resolve(this.toKey(path));
    await this.core.utimes(key, atime, mtime, this.shown(path));
  }

  // ------------------------------------------------------------------ working directory and views

  /** The directory relative paths resolve against (initially `/`). */
  cwd(): string {
    return this.cwdPath;
  }

  /**
   * Changes the working directory. It takes effect at once, so relative paths used right after it
   * work even without awaiting; the returned promise rejects (and the change is undone) if `path`
   * is not a directory.
   */
  chdir(path: PathLike): Promise<void> {
    this.check('chdir');
    const previous = this.cwdPath;
    const target = normalizePath(path, this.cwdPath);
    this.cwdPath = target;
    return this.stat(target).then(
      (st) => {
        if (!st.isDirectory()) {
          if (this.cwdPath === target) this.cwdPath = previous;
          throw fsError('ENOTDIR', 'chdir', this.shown(path));
        }
      },
      (err: unknown) => {
        if (this.cwdPath === target) this.cwdPath = previous;
        throw err instanceof FsError ? new FsError(err.code, 'chdir', this.shown(path)) : err;
      },
    );
  }

  /** The directory for temporary files in this file system. */
  tempDir(): string {
    return '/tmp';
  }

  /** Creates a uniquely named directory `prefix` + six random characters, as Node's `mkdtemp`. */
  async mkdtemp(prefix: string): Promise<string> {
    this.check('mkdtemp');
    if (typeof prefix !== 'string') throw new InvalidArgTypeError('prefix', 'of type string', prefix);
    const chars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
    for (let attempt = 0; ; attempt++) {
      let suffix = '';
      for (let i = 0; i < 6; i++) suffix += chars[Math.floor(Math.random() * chars.length)];
      const path = prefix + suffix;
      try {
        await this.mkdir(path, { mode: 0o700 });
        return path;
      } catch (err) {
        if (!hasCode(err) || err.code !== 'EEXIST' || attempt > 100) {
          throw err instanceof FsError ? new FsError(err.code, 'mkdtemp', `${prefix}XXXXXX`) : err;
        }
      }
    }
  }

  /** A `CacheFS` whose `/` is `dir`, sharing this cache: a write through one is seen by the other. */
  sub(dir: PathLike): CacheFS {
    this.check('sub');
    const root = this.toKey(dir, 'dir');
    return new CacheFS(this.core.backend, { [SHARED]: { core: this.core, root: root === '/' ? '' : root } } as CacheFSOptions);
  }

  // ------------------------------------------------------------------ cache control

  /** Drops the data and metadata of one path (dirty data is flushed first). True if anything was cached. */
  async invalidate(path: PathLike): Promise<boolean> {
    this.check('invalidate');
    const key = this.toKey(path);
    const real = this.core.knownKey(key);
    this.core.counters.invalidateOps++;
    let dropped = await this.core.drop(real);
    if (real !== key) dropped = (await this.core.drop(key)) || dropped;
    if (dropped) this.core.events.emit('invalidate', { path: this.toView(real) });
    return dropped;
  }

  /** Drops every cached path at or below `prefix`, by whole segments. Returns how many. */
  async invalidatePrefix(prefix: PathLike): Promise<number> {
    this.check('invalidatePrefix');
    const key = this.toKey(prefix, 'prefix');
    this.core.counters.invalidateOps++;
    const n = await this.core.dropWithin(key);
    if (n > 0) this.core.events.emit('invalidate', { prefix: this.toView(key), count: n });
    return n;
  }

  /**
   * Drops every cached path matching a glob (`*`, `?`, `[…]` within a segment, `**` across). A
   * relative pattern is taken relative to `cwd()`. A malformed pattern rejects with
   * `ERR_INVALID_ARG_VALUE`.
   */
  async invalidatePattern(pattern: string): Promise<number> {
    this.check('invalidatePattern');
    if (typeof pattern !== 'string') throw new InvalidArgError('pattern', pattern, 'must be a glob string');
    const absolute = pattern.startsWith('/') ? pattern : this.cwdPath === '/' ? `/${pattern}` : `${this.cwdPath}/${pattern}`;
    const match = compileGlob(absolute);
    this.core.counters.invalidateOps++;
    const root = this.root;
    const n = await this.core.dropWhere(
      root === '' ? match : (k) => (k === root || k.startsWith(root + '/')) && match(this.toView(k)),
    );
    if (n > 0) this.core.events.emit('invalidate', { pattern: absolute, count: n });
    return n;
  }

  /** Empties the cache (this view's part of it, for a view made by `sub`). Dirty data is flushed first. */
  async clear(): Promise<void> {
    this.check('clear');
    this.core.counters.invalidateOps++;
    if (this.root === '') await this.core.clear();
    else await this.core.dropWithin(this.root);
  }

  /** Drops entries past their TTL (dirty ones are flushed first). Returns how many. */
  async cleanExpired(): Promise<number> {
    this.check('cleanExpired');
    return this.core.cleanExpired();
  }

  /** Writes every dirty entry to the backend; rejects with an `AggregateError` naming those that failed. */
  async flush(): Promise<void> {
    this.check('flush');
    const root = this.root;
    await this.core.writeBack?.flushAll(root === '' ? undefined : (k) => k === root || k.startsWith(root + '/'));
  }

  // ------------------------------------------------------------------ write-back: batch flush

  /**
   * Writes the dirty data of the given paths to the backend (paths with nothing dirty, or not cached,
   * are skipped); rejects with an `AggregateError` naming each path whose flush failed (they stay dirty).
   */
  async batchFlush(paths: Iterable<PathLike>): Promise<void> {
    this.check('batchFlush');
    const keys: string[] = [];
    for (const p of paths) keys.push(await this.core.resolve(this.toKey(p)));
    await this.core.writeBack?.flushKeys(keys);
  }

  /**
   * Stops background work, flushes dirty data and releases memory; later calls fail with
   * `ERR_CACHEFS_CLOSED`. If a flush fails, `close` rejects and the cache stays open, so nothing
   * written is lost. Closing a view made by `sub` flushes its part and closes only the view.
   */
  async close(): Promise<void> {
    if (this.viewClosed || this.core.closed) return;
    if (this.root !== '') {
      await this.flush();
      this.viewClosed = true;
      return;
    }
    try {
      await this.core.close();
    } catch (err) {
      this.core.writeBack?.restartTimer();
      throw err;
    }
    this.viewClosed = true;
  }

  // ------------------------------------------------------------------ statistics and events

  /** A plain snapshot: hits, misses, evictions, bytesUsed, entries, hitRate. */
  stats(): CacheStats {
    const c = this.core.counters;
    const reads = c.hits + c.misses;
    return {
      hits: c.hits,
      misses: c.misses,
      evictions: this.core.store.evictions,
      bytesUsed: this.core.store.bytesUsed,
      entries: this.core.store.entries,
      hitRate: reads === 0 ? 0 : c.hits / reads,
    };
  }

  /** Resets the counters (bytesUsed and entries describe the present and stay). */
  resetStats(): void {
    const fresh: Counters = { ...this.core.counters };
    for (const k of Object.keys(fresh) as (keyof Counters)[]) fresh[k] = 0;
    this.core.counters = fresh;
    this.core.store.evictions = 0;
    this.core.store.rejections = 0;
  }

  /** {@link stats} plus operation counters, limits and configuration. */
  detailedStats(): DetailedStats {
    const c = this.core.counters;
    const o = this.core.opts;
    return {
      ...this.stats(),
      flushCount: c.flushCount,
      flushErrors: c.flushErrors,
      dirtyEntries: this.core.store.dirtyCount,
      readOps: c.readOps,
      writeOps: c.writeOps,
      invalidateOps: c.invalidateOps,
      metadataEntries: this.core.meta.entries,
      maxBytes: o.maxBytes,
      maxEntries: o.maxEntries,
      ttl: o.ttl,
      writeMode: o.writeMode,
      eviction: o.eviction,
      revalidations: c.revalidations,
      changesDetected: c.changesDetected,
      bytesShed: c.bytesShed,
      rejections: this.core.store.rejections,
    };
  }

  /** Subscribes to a cache event (see the class documentation for names and payloads). */
  on(event: string, listener: (payload: any) => void): this {
    this.core.events.on(event, listener);
    return this;
  }

  once(event: string, listener: (payload: any) => void): this {
    this.core.events.once(event, listener);
    return this;
  }

  off(event: string, listener: (payload: any) => void): this {
    this.core.events.off(event, listener);
    return this;
  }

  // ------------------------------------------------------------------ internals

  /**
   * Runs a namespace change (unlink, rmdir, rm, rename) with the paths' mutations and flushes held
   * off, so that a flush in flight cannot recreate a file the program just removed.
   */
  private async namespaceChange(keys: string[], op: NamespaceOp, change: () => Promise<void>): Promise<void> {
    const core = this.core;
    const sorted = [...new Set(keys)].sort();
    const run = async (i: number): Promise<void> => {
      if (i === sorted.length) {
        const wb = core.writeBack;
        if (wb) await wb.aroundNamespaceChange(op, sorted, change);
        else await change();
        core.forgetResolutions();
        return;
      }
      await core.locks.run(sorted[i]!, () => run(i + 1));
    };
    await run(0);
  }

  // ------------------------------------------------------------------ batch, warming and metrics
  // Thin entry points kept together at the end of the class; the work lives in src/warm/ and src/metrics/.

  private cacheView: CacheView | undefined;

  /** What src/warm/ needs from this view, built once. */
  private asCacheView(): CacheView {
    return (this.cacheView ??= {
      core: this.core,
      check: (operation) => this.check(operation),
      keyOf: (path, argName) => this.toKey(path, argName),
      viewOf: (key) => {
        const root = this.root;
        if (root === '') return key;
        if (key === root) return '/';
        return key.startsWith(root + '/') ? key.slice(root.length) : undefined;
      },
      cwd: () => this.cwdPath,
      readText: async (path) => (await this.readFile(path)).toString('utf8'),
    });
  }

  /**
   * Drops the cached data and metadata of many paths in one pass (dirty data is flushed first, all
   * together). Resolves to how many of the paths had anything cached; emits `'invalidate'` for each.
   */
  batchInvalidate(paths: Iterable<PathLike>): Promise<number> {
    return batchInvalidate(this.asCacheView(), paths);
  }

  /** What the cache holds for each path (memory only: no backend call, no hit counted), keyed by the path as given. */
  batchStats(paths: Iterable<PathLike>): Map<string, PathCacheStats> {
    return batchStats(this.asCacheView(), paths);
  }

  /**
   * Loads files into the cache as reads would, `concurrency` at a time (default 4). With `skipErrors`
   * (the default) failures are listed in `failed`; aborting `signal` rejects with an `AbortError`.
   */
  prefetch(paths: Iterable<PathLike>, options?: PrefetchOptions): Promise<PrefetchResult> {
    return prefetch(this.asCacheView(), paths, options);
  }

  /**
   * Loads the given files, reporting progress. `priority: 'high'` pins them (never evicted until
   * invalidated; pinning beyond the limits fails those files with `ERR_CACHEFS_PIN_LIMIT`), `'low'` loads
   * only what fits without evicting. Warming counts no hits or misses.
   */
  warm(paths: Iterable<PathLike>, options?: WarmOptions): Promise<WarmProgress> {
    return warm(this.asCacheView(), paths, options);
  }

  /** {@link warm} for the files matching a glob (`*`, `?`, `[…]`, `**`), relative to `cwd()` when not absolute. */
  warmFromPattern(pattern: string, options?: WarmOptions): Promise<WarmProgress> {
    return warmFromPattern(this.asCacheView(), pattern, options);
  }

  /**
   * {@link warm} for the files listed in `listFile`: a file of this file system (read through the
   * cache), one path a line, lines starting with `#` ignored, relative paths resolved against `cwd()`.
   */
  warmFromList(listFile: PathLike, options?: WarmOptions): Promise<WarmProgress> {
    return warmFromList(this.asCacheView(), listFile, options);
  }

  /** {@link warm} for every file below `dir`, recursively (links to directories are not followed). */
  warmFromDir(dir: PathLike, options?: WarmOptions): Promise<WarmProgress> {
    return warmFromDir(this.asCacheView(), dir, options);
  }

  /**
   * {@link warm} for the files whose metadata was looked up often (`stat`, `access`, `open`, …) but
   * whose data is not cached, most looked-up first. `minLookups` (default 2) and `limit` (default 0 =
   * no limit) choose them.
   */
  warmSmart(options?: WarmSmartOptions): Promise<WarmProgress> {
    return warmSmart(this.asCacheView(), options);
  }

  /** The summed progress of the warms still running on this cache (its `sub` views included). */
  warmingProgress(): WarmProgress {
    return warmingProgress(this.core);
  }

  /** {@link detailedStats} as a JSON string. */
  exportJSON(): string {
    return JSON.stringify(this.detailedStats());
  }

  /** The detailed statistics now, with the time; compare two with `compareSnapshots`. */
  snapshot(): StatsSnapshot {
    return { timestamp: Date.now(), stats: this.detailedStats() };
  }

  /** This cache's metrics in the Prometheus text format; every name starts with `cachefs_`. */
  exportPrometheus(): Promise<string> {
    return exportPrometheus(this.core);
  }

  /**
   * Adds this cache's metrics to an existing prom-client `Registry`, labelled `cache="<name option>"`
   * so that several caches can share it; values are read when the registry is scraped. Returns a
   * function that takes this cache off the registry again.
   */
  registerMetrics(registry: Registry): () => void {
    return registerCacheMetrics(this.core, registry);
  }
}

// ------------------------------------------------------------------ journal replay gate

/**
 * While the journal of an earlier process is being replayed, every asynchronous method of `view` waits
 * for it (own properties shadowing the prototype's). Once the replay is done they are set back to the
 * prototype's own functions, so the hit path costs what it did; if the replay failed they stay, and every
 * call rejects with its error (`close()` still works, so the journal's lock can be released).
 */
function gateUntilReady(view: CacheFS, ready: Promise<void>): void {
  const proto = CacheFS.prototype as unknown as Record<string, unknown>;
  const names = Object.getOwnPropertyNames(CacheFS.prototype).filter((name) => {
    const fn = proto[name];
    return name !== 'ready' && typeof fn === 'function' && fn.constructor.name === 'AsyncFunction';
  });
  for (const name of names) {
    const method = proto[name] as (...args: unknown[]) => Promise<unknown>;
    const wait = name === 'close' ? ready.catch(() => undefined) : ready;
    Object.defineProperty(view, name, {
      configurable: true,
      writable: true,
      enumerable: false,
      value: async (...args: unknown[]) => {
        await wait;
        return method.apply(view, args);
      },
    });
  }
  ready.then(() => {
    for (const name of names) Object.defineProperty(view, name, { value: proto[name] });
  }, () => undefined);
}
