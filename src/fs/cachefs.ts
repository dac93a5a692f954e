import { constants as fsConstants } from 'node:fs';
import type { Backend, BackendStats } from '../backend/backend.js';
import { Engine } from '../engine/engine.js';
import { Namespace } from '../engine/namespace.js';
import { ViewKeys } from '../engine/view-keys.js';
import { integerArg, integerInRange, linkTarget, parseFileMode, throwIfAborted } from '../args.js';
import { FsError, fsError } from '../errors.js';
import type { CacheFSOptions } from '../options.js';
import { namesDirectory, normalizePath, pathString, type PathLike } from '../paths.js';
import { nameAs } from '../util/byte-path.js';
import { isDirectoryMode } from '../util/modes.js';
import {
  encodingOf, gatherData, isIterableData, toData, type Encoding, type IterableData, type ReadFileOptions, type WriteData, type WriteFileOptions,
} from './arguments.js';
import { MoreCalls } from './more-calls.js';
import { engineFor } from './new-engine.js';
import { CacheFileHandle, openedNow } from './file-handle.js';
import { isCreatingAppend, isPlainRead, isReplace, parseOpenFlags } from './flags.js';
import { listDirectory } from './list-directory.js';
import { nameEncoding, type NameEncoding, type NameOptions } from './names.js';
import { accessBits, BigIntFileStats, DirEntry, FileStats, fileStatsOf, type StatOptions } from './stats-object.js';
import { View } from './view.js';
import { targetForBackend, targetForView } from './view-root.js';

export type { CacheStats, DetailedStats } from '../metrics/stats.js';

const SHARED = Symbol('cachefs.shared');

interface SharedView {
  core: Engine;
  root: string;
}

/**
 * A caching layer over a {@link Backend}, with the surface of `node:fs/promises`: file data and
 * (optionally) metadata are kept in memory so that a repeated read costs a memory copy.
 *
 * Paths are POSIX strings; relative ones resolve against {@link CacheFS.cwd}. Errors carry Node's
 * `code`, `syscall` and `path`. After {@link CacheFS.close}, every call fails with `ERR_CACHEFS_CLOSED`.
 * With a `journal`, every call made before {@link CacheFS.ready} resolves waits for it.
 *
 * Events (subscribe with {@link CacheFS.on}): `'evict'` `{ path, reason, size }` when the cache removes an
 * entry on its own (reason `'policy' | 'expired' | 'pressure'`: limits, TTL, memory pressure),
 * `'invalidate'` `{ path, scope, count }` when an invalidation call dropped something (scope `'path' |
 * 'prefix' | 'pattern' | 'all'`; `path` the path, prefix or pattern in the caller's view, `'/'` for `clear`),
 * `'flush'` `{ path, bytes }` and `'flushError'` `{ path, error, attempts, retryInMs }` in write-back mode,
 * `'backendRead'` `{ path, ms, bytes }` for every load from the backend,
 * `'warmProgress'` `{ path, total, completed, errors, bytesRead, error? }` after each file of a warm.
 * Coherence (see the README, "Coherence"): `'conflict'` `{ path, detectedBy, deleted }` when a dirty entry's
 * file changed behind the cache (the program's data wins and is flushed over it),
 * `'watchInvalidate'` `{ paths, events, overflow }` after each batch of watch events,
 * `'watchError'` `{ error }` when the watcher failed (the cache revalidates every entry until
 * `'watchRestored'`), `'shed'` `{ entries, bytes, sample }` when memory pressure dropped clean entries.
 */
export class CacheFS extends MoreCalls {
  /** Node's `fs.constants`, for programs that read them off the fs object they are given. */
  readonly constants = fsConstants;
  private readonly namespace: Namespace;
  private readonly keys: ViewKeys;

  /** This cache itself: for programs that take an `fs`-shaped object and call `fs.promises.readFile(…)`. */
  get promises(): this {
    return this;
  }

  /**
   * @param backend the file system to cache (`memoryBackend()`, `nodeBackend(root)` or your own)
   * @param options see {@link CacheFSOptions}; invalid values throw `ERR_INVALID_ARG_VALUE`
   */
  constructor(backend: Backend, options?: CacheFSOptions) {
    const shared = (options as { [SHARED]?: SharedView } | undefined)?.[SHARED];
    if (shared) super(shared.core, new View(shared.root, shared.core.backend.byteNames === true));
    else super(engineFor(backend, options), new View('', backend.byteNames === true));
    this.namespace = new Namespace(this.core);
    this.keys = new ViewKeys(this.core, this.view.root);
  }

  /** The key of `path` with its parent's links resolved, kept inside this view (see {@link ViewKeys.link}). */
  protected linkKey(path: PathLike, syscall: string, argName?: string): Promise<string> {
    return this.keys.link(this.view.keyOf(path, argName, syscall), pathString(path), syscall, namesDirectory(path));
  }

  /** The key of `path`, every link resolved, kept inside this view (see {@link ViewKeys.real}). */
  protected realKey(path: PathLike, syscall: string, argName?: string, creates = false): Promise<string> {
    return this.keys.real(this.view.keyOf(path, argName, syscall), pathString(path), syscall, namesDirectory(path), creates);
  }

  protected override async readText(path: PathLike): Promise<string> {
    return (await this.readFile(path)).toString('utf8');
  }

  // ------------------------------------------------------------------ reading

  /**
   * Reads a whole file; served from memory after the first read. A hit runs without an `await` and
   * allocates only the returned buffer (carved from a shared slab, see `store/return-buffers.ts`).
   */
  readFile(path: PathLike, options?: ReadFileOptions): Promise<Buffer>;
  readFile(path: PathLike, options: Encoding | { encoding: Encoding }): Promise<string>;
  readFile(path: PathLike, options?: ReadFileOptions): Promise<Buffer | string> {
    const pending = this.pending;
    if (pending !== undefined) return pending.then(() => this.readFile(path, options));
    let key: string;
    try {
      this.check('readFile');
      if (options?.constructor === Object) {
        const o = options as { signal?: AbortSignal; flag?: string | number };
        throwIfAborted(o.signal);
        if (o.flag !== undefined && !isPlainRead(parseOpenFlags(o.flag))) return this.#readFileFlagged(path, o.flag, options);
      }
      const core = this.core;
      core.counters.readOps++;
      key = core.knownKey(this.view.keyOf(path));
      if (!namesDirectory(path) && this.view.contains(key)) {
        const slot = core.hitSlot(key);
        if (slot >= 0) {
          const out = core.copyOut(slot);
          const encoding = encodingOf(options);
          return Promise.resolve(encoding ? out.toString(encoding) : out);
        }
      }
    } catch (err) {
      return Promise.reject(err);
    }
    return this.readFileMiss(path, options);
  }

  /** `readFile` with a flag other than `'r'`: open as Node does (`'w'` truncates), then read or fail. */
  async #readFileFlagged(path: PathLike, flag: string | number, options: ReadFileOptions | undefined): Promise<Buffer | string> {
    const handle = await this.open(path, flag);
    try {
      if (!parseOpenFlags(flag).readable) throw fsError('EBADF', 'read');
      const encoding = encodingOf(options);
      return await handle.readFile(encoding ? { encoding } : null);
    } finally {
      await handle.close();
    }
  }

  private async readFileMiss(path: PathLike, options: ReadFileOptions | undefined): Promise<Buffer | string> {
    // In the whole tree, a path not resolved yet is resolved by the load itself (engine/cold.ts).
    const whole = this.view.root === '' && !namesDirectory(path);
    const out = await (whole ? this.core.cold.readWhole(this.view.keyOf(path, undefined, 'open'), pathString(path)) : this.core.readWhole(await this.realKey(path, 'open'), pathString(path)));
    const encoding = encodingOf(options);
    return encoding ? out.toString(encoding) : out;
  }

  /** Opens a file; the handle reads and writes through the cache. */
  open(path: PathLike, flags: string | number = 'r', mode: number | string = 0o666): Promise<CacheFileHandle> {
    if (this.pending === undefined) {
      // Opening a cached file (or any file of an in-memory backend) for reading needs no `await`.
      try {
        const openMode = parseOpenFlags(flags);
        parseFileMode(mode, 'mode', 0o666);
        this.check('open');
        const core = this.core;
        // A path spelled as a directory, and any path of a `sub` view, take the checked way.
        const whole = !namesDirectory(path) && this.view.root === '';
        const key = whole ? core.resolvedKey(this.view.keyOf(path, 'path', 'open')) : undefined;
        if (key !== undefined && !openMode.create && !openMode.truncate) {
          const handle = openedNow(core, key, pathString(path), openMode);
          if (handle !== undefined) return Promise.resolve(handle);
        } else if (key !== undefined && openMode.create && core.writer.createNow(key, pathString(path), openMode.exclusive, openMode.truncate)) {
          // A cached file opened to write (`'w'`, `'a'`): created already, truncated now where asked.
          return Promise.resolve(new CacheFileHandle(core, key, pathString(path), openMode, false));
        }
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return this.#openSlow(path, flags, mode);
  }

  async #openSlow(path: PathLike, flags: string | number, mode: number | string): Promise<CacheFileHandle> {
    if (this.pending) await this.pending;
    const openMode = parseOpenFlags(flags);
    const fileMode = parseFileMode(mode, 'mode', 0o666);
    this.check('open');
    const shown = pathString(path);
    const core = this.core;
    // The whole tree and a path resolved before (the case once a file was seen): the key at no cost.
    const key = (this.view.root === '' && !namesDirectory(path) ? core.resolvedKey(this.view.keyOf(path, 'path', 'open')) : undefined) ?? (await this.realKey(path, 'open', 'path', openMode.create));
    let isDirectory = false;
    let openStats: BackendStats | undefined;
    if (openMode.create) {
      await core.createIfMissing(key, shown, openMode.exclusive, openMode.truncate, fileMode);
    } else if (core.residentAndFresh(key) && !openMode.truncate) {
      // A cached entry is a regular file that exists: no backend call needed to open it.
    } else {
      const st = await core.statOf(key, true, 'open', shown);
      isDirectory = isDirectoryMode(st.mode);
      if (isDirectory && openMode.writable) throw fsError('EISDIR', 'open', shown);
      if (openMode.truncate) await core.truncate(key, 0, shown);
      else if (!openMode.writable) openStats = st;
    }
    return new CacheFileHandle(core, key, shown, openMode, isDirectory, openStats);
  }

  /**
   * Stats of a path, following links. A metadata-cache hit answers without an `await` and allocates the
   * result object and its promise only (its `Date` fields are made on first use).
   */
  stat(path: PathLike, options?: { bigint?: false } | null): Promise<FileStats>;
  stat(path: PathLike, options: { bigint: true }): Promise<BigIntFileStats>;
  stat(path: PathLike, options?: StatOptions | null): Promise<FileStats | BigIntFileStats>;
  stat(path: PathLike, options?: StatOptions | null): Promise<FileStats | BigIntFileStats> {
    if (options != null && options.bigint === true) return this.stat(path).then((s) => new BigIntFileStats(s));
    if (this.pending === undefined) {
      try {
        this.check('stat');
        const core = this.core;
        const inTree = namesDirectory(path) || this.view.root !== '' ? undefined : this.view.keyOf(path, 'path', 'stat');
        const key = inTree === undefined ? undefined : core.resolvedKey(inTree);
        if (key !== undefined) {
          const cached = core.meta.get(key, true);
          if (cached !== undefined && core.servable(cached)) return Promise.resolve(new FileStats(cached));
          return this.#statMiss(key, path, cached ?? null);
        }
        // Not resolved yet: the cold path, with the key just made (not normalized a second time).
        if (inTree !== undefined) return core.cold.statUnresolved(inTree, 'stat', pathString(path), fileStatsOf);
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return this.#statSlow(path);
  }

  async #statSlow(path: PathLike): Promise<FileStats> {
    if (this.pending) await this.pending;
    this.check('stat');
    if (this.view.root === '' && !namesDirectory(path)) return this.core.cold.stat(this.view.keyOf(path, 'path', 'stat'), 'stat', pathString(path), fileStatsOf);
    return this.#statMiss(await this.realKey(path, 'stat'), path, undefined);
  }

  async #statMiss(key: string, path: PathLike, looked: BackendStats | null | undefined): Promise<FileStats> {
    return new FileStats(await this.core.statOf(key, true, 'stat', pathString(path), looked));
  }

  /**
   * Lists a directory: names, or `DirEntry` objects with `withFileTypes`; `recursive` walks below it.
   * Names are strings (U+FFFD where a name is not UTF-8), exact bytes with `encoding: 'buffer'`.
   */
  async readdir(path: PathLike, options: { withFileTypes: true; recursive?: boolean; encoding?: NameEncoding | null }): Promise<DirEntry[]>;
  async readdir(path: PathLike, options: 'buffer' | { withFileTypes?: false; recursive?: boolean; encoding: 'buffer' }): Promise<Buffer[]>;
  async readdir(path: PathLike, options?: Encoding | { withFileTypes?: false; recursive?: boolean; encoding?: Encoding | null } | null): Promise<string[]>;
  async readdir(path: PathLike, options?: NameEncoding | { withFileTypes?: boolean; recursive?: boolean; encoding?: NameEncoding | null } | null): Promise<(string | Buffer)[] | DirEntry[]> {
    if (this.pending) await this.pending;
    this.check('readdir');
    const withTypes = typeof options === 'object' && options !== null && options.withFileTypes === true;
    const recursive = typeof options === 'object' && options !== null && options.recursive === true;
    const encoding = nameEncoding(options);
    const shown = pathString(path);
    const key = await this.realKey(path, 'scandir');
    const linksToDirectory = (below: string) => this.core.statOf(below, true, 'stat', shown).then((st) => isDirectoryMode(st.mode), () => false);
    return listDirectory(this.namespace, key, shown, normalizePath(path, this.view.cwd), withTypes, recursive, encoding, linksToDirectory);
  }

  /** The target of a symbolic link (its exact bytes with `encoding: 'buffer'`). */
  async readlink(path: PathLike, options: 'buffer' | { encoding: 'buffer' }): Promise<Buffer>;
  async readlink(path: PathLike, options?: NameOptions): Promise<string>;
  async readlink(path: PathLike, options?: NameOptions): Promise<string | Buffer> {
    if (this.pending) await this.pending;
    this.check('readlink');
    const encoding = nameEncoding(options);
    return nameAs(targetForView(await this.namespace.readlink(await this.linkKey(path, 'readlink'), pathString(path)), this.view.root), encoding);
  }

  /** The canonical path, every symbolic link resolved (its exact bytes with `encoding: 'buffer'`). */
  async realpath(path: PathLike, options: 'buffer' | { encoding: 'buffer' }): Promise<Buffer>;
  async realpath(path: PathLike, options?: NameOptions): Promise<string>;
  async realpath(path: PathLike, options?: NameOptions): Promise<string | Buffer> {
    if (this.pending) await this.pending;
    this.check('realpath');
    const encoding = nameEncoding(options);
    const real = await this.namespace.realpath(this.view.keyOf(path, 'path', 'realpath'), pathString(path));
    // A view answers with its own paths only: a link that leads out of it is refused, as at a backend root.
    await this.keys.confine(real, pathString(path), 'realpath', namesDirectory(path));
    return nameAs(this.view.viewOf(real) ?? real, encoding);
  }

  /** Checks that a path exists and, with `mode`, that its permission bits allow R, W or X. */
  async access(path: PathLike, mode: number = fsConstants.F_OK): Promise<void> {
    if (this.pending) await this.pending;
    this.check('access');
    integerInRange(mode, 'mode', 0, 7);
    const shown = pathString(path);
    const st = await this.core.statOf(await this.realKey(path, 'access'), true, 'access', shown);
    if (mode === fsConstants.F_OK) return;
    if ((mode & accessBits(st)) !== mode) throw fsError('EACCES', 'access', shown);
  }

  // ------------------------------------------------------------------ writing

  /**
   * Writes a whole file. The `flag` is Node's: `'w'` (default) replaces, `'wx'` fails if it exists,
   * `'a'` appends, `'r+'` overwrites from the start and keeps the tail, `'r'` fails with `EBADF`.
   */
  async writeFile(path: PathLike, data: WriteData | IterableData, options?: WriteFileOptions): Promise<void> {
    if (isIterableData(data)) data = await gatherData(data, encodingOf(options)); // as Node's: iterables and streams
    if (this.pending) await this.pending;
    const { bytes, flag, parsed, mode } = this.#wholeFileArguments(data, options, 'w', 'writeFile');
    if (!isReplace(parsed) && !isCreatingAppend(parsed)) return this.#writeThroughHandle(path, bytes, flag, mode);
    const shown = pathString(path);
    const key = await this.realKey(path, 'open', 'path', true);
    if (parsed.append) {
      if (parsed.exclusive) await this.core.createIfMissing(key, shown, true, false, mode ?? 0o666);
      await this.core.append(key, bytes, shown);
      return;
    }
    await this.core.writeWhole(key, bytes, shown, { exclusive: parsed.exclusive, ...(mode !== undefined ? { mode } : {}) });
  }

  /** writeFile's and appendFile's arguments, checked in Node's order (data, signal, flag, mode). */
  #wholeFileArguments(data: WriteData, options: WriteFileOptions | undefined, defaultFlag: string, syscall: string) {
    const bytes = toData(data, encodingOf(options));
    const o = typeof options === 'object' && options !== null ? options : undefined;
    throwIfAborted(o?.signal);
    const flag = o?.flag ?? defaultFlag;
    const parsed = parseOpenFlags(flag);
    const mode = parseFileMode(o?.mode, 'mode');
    this.check(syscall);
    return { bytes, flag, parsed, mode };
  }

  /** Appends to a file, creating it if needed; another `flag` behaves as Node's (see {@link writeFile}). */
  async appendFile(path: PathLike, data: WriteData, options?: WriteFileOptions): Promise<void> {
    if (this.pending) await this.pending;
    const { bytes, flag, parsed, mode } = this.#wholeFileArguments(data, options, 'a', 'appendFile');
    if (!isCreatingAppend(parsed)) return this.#writeThroughHandle(path, bytes, flag, mode);
    const shown = pathString(path);
    const key = await this.realKey(path, 'open', 'path', true);
    if (parsed.exclusive) await this.core.createIfMissing(key, shown, true, false, mode ?? 0o666);
    await this.core.append(key, bytes, shown);
  }

  /** `writeFile`/`appendFile` with any other flag: open with it, as Node does, and write at the handle's position. */
  async #writeThroughHandle(path: PathLike, bytes: Uint8Array, flag: string | number, mode: number | undefined): Promise<void> {
    const handle = await this.open(path, flag, mode ?? 0o666);
    try {
      if (!parseOpenFlags(flag).writable) throw fsError('EBADF', 'write');
      if (bytes.length > 0) await handle.writeFile(bytes);
    } finally {
      await handle.close();
    }
  }

  /** Cuts or extends a file to `len` bytes (negative counts as 0, as in Node). */
  async truncate(path: PathLike, len = 0): Promise<void> {
    if (this.pending) await this.pending;
    this.check('truncate');
    integerArg(len, 'len');
    const shown = pathString(path);
    const key = await this.realKey(path, 'open');
    const st = await this.core.statOf(key, true, 'open', shown);
    if (isDirectoryMode(st.mode)) throw fsError('EISDIR', 'open', shown);
    await this.core.truncate(key, Math.max(0, len), shown);
  }

  /**
   * Copies a file's content: on the backend's side when it can copy and the cache holds nothing newer,
   * otherwise through the cache (dirty data of `src` is what is copied).
   */
  async copyFile(src: PathLike, dest: PathLike, mode = 0): Promise<void> {
    if (this.pending) await this.pending;
    this.check('copyFile');
    const srcKey = await this.realKey(src, 'copyfile', 'src');
    const destKey = await this.realKey(dest, 'copyfile', 'dest', true);
    const exclusive = (integerInRange(mode, 'mode', 0, 7) & fsConstants.COPYFILE_EXCL) !== 0;
    await this.namespace.copyFile(srcKey, destKey, exclusive, pathString(src), pathString(dest));
  }

  /** Creates a directory; `recursive` creates parents and returns the first directory created. */
  async mkdir(path: PathLike, options?: number | string | { recursive?: boolean; mode?: number | string } | null): Promise<string | undefined> {
    if (this.pending) await this.pending;
    this.check('mkdir');
    const recursive = typeof options === 'object' && options !== null && options.recursive === true;
    const rawMode = typeof options === 'object' && options !== null ? options.mode : options ?? undefined;
    const mode = parseFileMode(rawMode, 'mode');
    const key = await this.realKey(path, 'mkdir');
    const first = await this.namespace.mkdir(key, recursive, mode, pathString(path), this.view.root);
    return first === undefined ? undefined : this.view.viewOf(first) ?? first;
  }

  /**
   * Removes an empty directory; with `recursive` (Node 20 still takes it) a whole tree, as Node's: a stat
   * first (ENOENT names stat), and a link to a directory left to rmdir's ENOTDIR.
   */
  async rmdir(path: PathLike, options?: { recursive?: boolean } | null): Promise<void> {
    if (options?.recursive && (await this.stat(path)).isDirectory() && (await this.lstat(path)).isDirectory()) return this.rm(path, { recursive: true });
    if (this.pending) await this.pending;
    this.check('rmdir');
    await this.namespace.rmdir(await this.linkKey(path, 'rmdir'), pathString(path));
  }

  /** Removes a file (or a symbolic link itself). Its dirty data, if any, is discarded. */
  async unlink(path: PathLike): Promise<void> {
    if (this.pending) await this.pending;
    this.check('unlink');
    await this.namespace.unlink(await this.linkKey(path, 'unlink'), pathString(path));
  }

  /** Removes a file, or a directory tree with `recursive`; `force` ignores a missing path. */
  async rm(path: PathLike, options?: { recursive?: boolean; force?: boolean } | null): Promise<void> {
    if (this.pending) await this.pending;
    this.check('rm');
    const key = await this.linkKey(path, 'lstat');
    await this.namespace.rm(key, options?.recursive === true, options?.force === true, pathString(path));
  }

  /** Renames a file or directory; cached data (dirty included) moves with it. */
  async rename(oldPath: PathLike, newPath: PathLike): Promise<void> {
    if (this.pending) await this.pending;
    this.check('rename');
    const from = await this.linkKey(oldPath, 'rename', 'oldPath');
    const to = await this.linkKey(newPath, 'rename', 'newPath');
    if (namesDirectory(newPath)) {
      // `rename(file, 'x/')`: a name spelled as a directory cannot receive a file.
      const st = await this.core.statOf(from, false, 'rename', pathString(oldPath)).catch(() => undefined);
      if (st !== undefined && !isDirectoryMode(st.mode)) throw fsError('ENOTDIR', 'rename', pathString(oldPath), pathString(newPath));
    }
    await this.namespace.rename(from, to, pathString(oldPath), pathString(newPath));
  }

  /** Creates a symbolic link at `path` pointing to `target` (stored as given). */
  async symlink(target: PathLike, path: PathLike, _type?: string | null): Promise<void> {
    if (this.pending) await this.pending;
    this.check('symlink');
    const targetString = linkTarget(target);
    this.view.representable(targetString, 'symlink', target, path);
    if (namesDirectory(path)) throw fsError('ENOENT', 'symlink', targetString, pathString(path));
    const key = await this.linkKey(path, 'symlink');
    await this.namespace.symlink(targetForBackend(targetString, this.view.root), key, targetString, pathString(path));
  }

  async chown(path: PathLike, uid: number, gid: number): Promise<void> {
    if (this.pending) await this.pending;
    this.check('chown');
    await this.namespace.chown(await this.realKey(path, 'chown'), uid, gid, pathString(path));
  }

  // ------------------------------------------------------------------ working directory and views

  /** The directory relative paths resolve against (initially `/`). */
  cwd(): string {
    return this.view.cwd;
  }

  /**
   * Changes the working directory. It takes effect at once, so relative paths used right after it
   * work even without awaiting; the returned promise rejects (and the change is undone) if `path`
   * is not a directory.
   */
  chdir(path: PathLike): Promise<void> {
    const view = this.view;
    const previous = view.cwd;
    let target: string;
    try {
      this.check('chdir');
      target = normalizePath(path, view.cwd, 'path', 'chdir');
    } catch (err) {
      return Promise.reject(err); // like every other call: a Promise that rejects, never a throw
    }
    view.cwd = target;
    return this.stat(target).then(
      (st) => {
        if (!st.isDirectory()) {
          if (view.cwd === target) view.cwd = previous;
          throw fsError('ENOTDIR', 'chdir', pathString(path));
        }
      },
      (err: unknown) => {
        if (view.cwd === target) view.cwd = previous;
        throw err instanceof FsError ? new FsError(err.code, 'chdir', pathString(path)) : err;
      },
    );
  }

  /** The directory for temporary files in this file system. */
  tempDir(): string {
    return '/tmp';
  }

  /** A `CacheFS` whose `/` is `dir`, sharing this cache: a write through one is seen by the other. */
  sub(dir: PathLike): CacheFS {
    this.check('sub');
    const root = this.view.keyOf(dir, 'dir');
    return new CacheFS(this.core.backend, { [SHARED]: { core: this.core, root: root === '/' ? '' : root } } as CacheFSOptions);
  }
}
