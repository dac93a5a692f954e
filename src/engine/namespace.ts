import { constants as fsConstants } from 'node:fs';
import type { BackendDirent, BackendStats } from '../backend/backend.js';
import { asCallError, FsError, fsError, hasCode } from '../errors.js';
import { joinPath, parentOf } from '../paths.js';
import { isDirectoryMode } from '../util/modes.js';
import type { NamespaceOp } from '../write/write-mode.js';
import type { Engine } from './engine.js';

/**
 * The calls that change or read the namespace (which files, directories and links exist): each asks the
 * backend and then puts the cache's books in order (entries, metadata, resolutions), holding the paths'
 * locks and, for removals and renames, the write mode's flushes.
 */
export class Namespace {
  constructor(private readonly engine: Engine) {}

  /** The entries of directory `key`, as the backend lists them. */
  async list(key: string, userPath: string): Promise<BackendDirent[]> {
    try {
      return await this.engine.backend.readdir(key);
    } catch (err) {
      throw asCallError(err, 'scandir', userPath);
    }
  }

  /**
   * The target of symbolic link `key`. Each answer is remembered (resolvers readlink every component of
   * every path they try): the target, that the path is not a link (EINVAL), or that nothing is there.
   */
  async readlink(key: string, userPath: string): Promise<string> {
    const meta = this.engine.cache.meta;
    const generation = meta.generation;
    let target: string;
    try {
      target = await this.engine.backend.readlink(key);
    } catch (err) {
      if (hasCode(err) && err.code === 'EINVAL') meta.setLinkTarget(key, '', generation);
      else if (hasCode(err) && err.code === 'ENOENT') meta.setMissing(key, generation);
      throw asCallError(err, 'readlink', userPath);
    }
    meta.setLinkTarget(key, target, generation);
    return target;
  }

  /** The canonical backend path of `key`, every link resolved (a backend without `realpath` has none). */
  async realpath(key: string, userPath: string): Promise<string> {
    const backend = this.engine.backend;
    try {
      if (backend.realpath) return await backend.realpath(key);
      await backend.stat(key);
      return key;
    } catch (err) {
      throw asCallError(err, 'realpath', userPath);
    }
  }

  /**
   * Creates directory `key`; `recursive` creates its parents (never above `root`) and returns the first
   * directory created, as Node does.
   */
  async mkdir(key: string, recursive: boolean, mode: number | undefined, userPath: string, root: string): Promise<string | undefined> {
    const { backend, cache } = this.engine;
    let firstCreated: string | undefined;
    if (recursive) {
      // Find the top-most missing ancestor: that is what Node returns.
      let probe = key;
      for (;;) {
        let st: BackendStats | undefined;
        try {
          st = await backend.stat(probe);
        } catch (err) {
          if (!hasCode(err) || err.code !== 'ENOENT') throw asCallError(err, 'mkdir', userPath);
        }
        if (st !== undefined) {
          if (!isDirectoryMode(st.mode)) throw fsError(probe === key ? 'EEXIST' : 'ENOTDIR', 'mkdir', userPath);
          break;
        }
        firstCreated = probe;
        if (probe === '/' || probe === root) break;
        probe = parentOf(probe);
      }
      if (firstCreated === undefined) return undefined;
    }
    try {
      await backend.mkdir(key, { recursive, ...(mode !== undefined ? { mode } : {}) });
    } catch (err) {
      this.engine.forgetAfterFailure(key);
      throw asCallError(err, 'mkdir', userPath);
    }
    cache.metadataChanged(key);
    cache.announce(firstCreated ?? key, 'rename');
    if (firstCreated !== undefined) cache.meta.deleteWithin(parentOf(firstCreated));
    return firstCreated;
  }

  /** Removes the empty directory `key`. */
  async rmdir(key: string, userPath: string): Promise<void> {
    const { backend, cache } = this.engine;
    await this.change([key], { kind: 'remove', path: key }, async () => {
      try {
        await backend.rmdir(key);
      } catch (err) {
        this.engine.forgetAfterFailure(key);
        throw asCallError(err, 'rmdir', userPath);
      }
      cache.invalidate({ within: key }, 'discard', { parent: true });
    });
  }

  /** Removes file (or link) `key`; its dirty data, if any, is discarded. */
  async unlink(key: string, userPath: string): Promise<void> {
    const { backend, cache } = this.engine;
    await this.change([key], { kind: 'remove', path: key }, async () => {
      try {
        await backend.unlink(key);
      } catch (err) {
        this.engine.forgetAfterFailure(key);
        throw asCallError(err, 'unlink', userPath);
      }
      cache.invalidate({ path: key }, 'discard');
      cache.metadataChanged(key);
    });
  }

  /** Removes `key`, a file or (with `recursive`) a directory tree; `force` ignores a missing path. */
  async rm(key: string, recursive: boolean, force: boolean, userPath: string): Promise<void> {
    const { backend, cache } = this.engine;
    let st: BackendStats;
    try {
      st = await backend.lstat(key);
    } catch (err) {
      if (force && hasCode(err) && err.code === 'ENOENT') return;
      throw asCallError(err, 'lstat', userPath);
    }
    if (isDirectoryMode(st.mode) && !recursive) throw rmIsDirectory(userPath);
    await this.change([key], { kind: 'remove', path: key }, async () => {
      // Each file leaves the cache as it leaves the backend: if the removal stops part-way, the dirty
      // data of the files it did not reach stays (and is flushed), and none of what it removed comes back.
      const removeTree = async (k: string, isDir: boolean): Promise<void> => {
        if (!isDir) {
          await backend.unlink(k);
          cache.invalidate({ path: k }, 'discard');
          return;
        }
        for (const e of await backend.readdir(k)) await removeTree(joinPath(k, e.name), e.type === 'directory');
        await backend.rmdir(k);
        cache.invalidate({ within: k }, 'discard', { parent: true });
      };
      try {
        await removeTree(key, isDirectoryMode(st.mode));
      } catch (err) {
        // Clean data goes; dirty entries stay: their files may still exist (removed ones were discarded).
        this.engine.forgetAfterFailure(key);
        if (!(force && hasCode(err) && err.code === 'ENOENT')) throw asCallError(err, 'rm', userPath);
        return;
      }
      cache.invalidate({ within: key }, 'discard', { parent: true });
    });
  }

  /** Renames `from` to `to`; cached data (dirty included) moves with it. */
  async rename(from: string, to: string, fromPath: string, toPath: string): Promise<void> {
    const { backend, cache } = this.engine;
    if (from === to) {
      await this.engine.statOf(from, false, 'rename', fromPath).catch((err: unknown) => {
        throw err instanceof FsError ? new FsError(err.code, 'rename', fromPath, toPath) : err;
      });
      return;
    }
    await this.change([from, to], { kind: 'rename', from, to }, async () => {
      try {
        await backend.rename(from, to);
      } catch (err) {
        this.engine.forgetAfterFailure(from, to);
        throw asCallError(err, 'rename', fromPath, toPath);
      }
      cache.move(from, to);
    });
  }

  /** Creates link `key` pointing to `target` (`shownTarget` is the target as the caller gave it, for errors). */
  async symlink(target: string, key: string, shownTarget: string, userPath: string): Promise<void> {
    const { backend, cache } = this.engine;
    try {
      await backend.symlink(target, key);
    } catch (err) {
      this.engine.forgetAfterFailure(key);
      throw asCallError(err, 'symlink', shownTarget, userPath);
    }
    cache.forgetResolutions();
    cache.metadataChanged(key);
    cache.announce(key, 'rename');
  }

  /** Changes owner and group (a backend without `chown` only checks that `key` exists). */
  async chown(key: string, uid: number, gid: number, userPath: string): Promise<void> {
    const { backend, cache } = this.engine;
    try {
      if (backend.chown) await backend.chown(key, uid, gid);
      else await backend.stat(key);
    } catch (err) {
      this.engine.forgetAfterFailure(key);
      throw asCallError(err, 'chown', userPath);
    }
    cache.metadataChanged(key);
  }

  /**
   * Copies file `src` to `dest`. A backend with a `copyFile` face copies on its side, unless the cache
   * holds data of either file the backend does not have yet (write-back); otherwise the bytes are read
   * through the cache and written like a `writeFile`, so dirty data of `src` is what is copied.
   */
  async copyFile(src: string, dest: string, exclusive: boolean, srcPath: string, destPath: string): Promise<void> {
    const engine = this.engine;
    const asCopyError = (err: unknown): unknown => (err instanceof FsError ? new FsError(err.code, 'copyfile', srcPath, destPath) : err);
    let data: Buffer;
    let st: BackendStats;
    try {
      st = await engine.statOf(src, true, 'copyfile', srcPath);
      if (isDirectoryMode(st.mode)) throw fsError('EISDIR', 'copyfile', srcPath, destPath);
      if (engine.backend.copyFile !== undefined && !this.isDirty(src) && (await this.copyInBackend(src, dest, exclusive, srcPath, destPath))) return;
      data = await engine.readWhole(src, srcPath);
    } catch (err) {
      throw asCopyError(err);
    }
    try {
      await engine.writeWhole(dest, data, destPath, { exclusive });
      // As copy_file_range's callers in libuv do: the copy takes the source's permission bits.
      await engine.chmod(dest, st.mode & 0o7777, destPath).catch((err: unknown) => {
        if (!hasCode(err) || (err.code !== 'EPERM' && err.code !== 'ENOTSUP')) throw err; // a store without modes
      });
    } catch (err) {
      throw asCopyError(err);
    }
  }

  /** The backend's own copy, under `dest`'s lock; false (nothing done) when `dest` has dirty data. */
  private async copyInBackend(src: string, dest: string, exclusive: boolean, srcPath: string, destPath: string): Promise<boolean> {
    const { backend, cache, locks } = this.engine;
    cache.counters.writeOps++;
    return locks.run(dest, async () => {
      if (this.isDirty(dest)) return false;
      try {
        await backend.copyFile!(src, dest, exclusive ? fsConstants.COPYFILE_EXCL : 0);
      } catch (err) {
        this.engine.forgetAfterFailure(dest);
        throw asCallError(err, 'copyfile', srcPath, destPath);
      }
      cache.metadataChanged(dest);
      cache.invalidate({ path: dest }, 'keep');
      return true;
    });
  }

  private isDirty(key: string): boolean {
    const store = this.engine.cache.store;
    const slot = store.lookup(key);
    return slot >= 0 && store.isDirty(slot);
  }

  /**
   * Runs a namespace change with the paths' mutations and flushes held off, so that a flush in flight
   * cannot recreate a file the program just removed.
   */
  private async change(keys: string[], op: NamespaceOp, run: () => Promise<void>): Promise<void> {
    const engine = this.engine;
    const sorted = [...new Set(keys)].sort();
    const lockFrom = async (i: number): Promise<void> => {
      if (i === sorted.length) {
        try {
          await engine.write.aroundNamespaceChange(op, sorted, run);
        } finally {
          // Published even after a failure part-way: what was removed or moved must not be served elsewhere.
          await engine.tierPublished(...sorted.map((prefix) => ({ kind: 'prefix', prefix }) as const));
        }
        engine.cache.forgetResolutions();
        if (op.kind === 'remove') engine.cache.announce(op.path, 'rename');
        return;
      }
      await engine.locks.run(sorted[i]!, () => lockFrom(i + 1));
    };
    await lockFrom(0);
  }
}

/** `rm` of a directory without `recursive`: Node's own error for it (a SystemError, by name too). */
export function rmIsDirectory(userPath: string): Error {
  const err = new Error(`Path is a directory: rm returned EISDIR (is a directory) ${userPath}`) as Error & Record<string, unknown>;
  err.name = 'SystemError';
  // As Node's SystemError prints: `SystemError [ERR_FS_EISDIR]: Path is a directory: …`.
  Object.defineProperty(err, 'toString', { value: () => `SystemError [ERR_FS_EISDIR]: ${err.message}` });
  err.code = 'ERR_FS_EISDIR';
  err.syscall = 'rm';
  err.path = userPath;
  err.errno = 21;
  return err;
}
