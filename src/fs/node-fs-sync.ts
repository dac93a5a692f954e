import { constants } from 'node:fs';
import type { BackendSync } from '../backend/backend.js';
import { rmIsDirectory } from '../engine/namespace.js';
import { asCallError, fsError, hasCode } from '../errors.js';
import { integerInRange, linkTarget } from '../args.js';
import type { BackendStats } from '../backend/backend.js';
import { joinPath, parentOf, pathOfText, pathString, pathText, type PathLike } from '../paths.js';
import { nameAs } from '../util/byte-path.js';
import { nameEncoding, namesAs } from './names.js';
import { isDirectoryMode } from '../util/modes.js';
import { toData, toTimeMs, type WriteData } from './arguments.js';
import { directoryNamed, optionsObject, pathArg, type NodeFsContext } from './node-fs-context.js';
import { ABSENT, NOT_A_LINK, NOT_CACHED, type CacheHits } from './node-fs-hits.js';
import { walkedFailureSync } from './node-fs-realpath.js';
import { BigIntFileStats, DirEntry, FileStats } from './stats-object.js';

const EMPTY = new Uint8Array(0);

/**
 * The path-based `…Sync` forms of the drop-in. Reads are served by the engine's sync port (a hit from
 * the cache, a miss from the backend's sync face). Writes go to the backend's sync face at once and the
 * cache forgets the path: in write-back mode, a path with dirty data gets that data plus the change
 * written through in one synchronous write, so nothing the program wrote is lost and no flush is needed.
 */
export function syncForms(ctx: NodeFsContext, hits: CacheHits) {
  const { port, view } = ctx;

  /** Stats, or undefined for a path that does not exist when `absentOk` (no error is made for it). */
  function statOf(path: PathLike, follow: boolean, syscall: string, absentOk: true): BackendStats | undefined;
  function statOf(path: PathLike, follow: boolean, syscall: string, absentOk?: false): BackendStats;
  function statOf(path: PathLike, follow: boolean, syscall: string, absentOk: boolean): BackendStats | undefined;
  function statOf(path: PathLike, follow: boolean, syscall: string, absentOk = false): BackendStats | undefined {
    // The cache answers no path that ends in `/` (hits.ts), so a hit needs no directory check.
    const got = hits.stats(path, follow);
    if (got === ABSENT) {
      if (absentOk) return undefined;
      throw fsError('ENOENT', syscall, pathString(path));
    }
    if (got !== NOT_CACHED) return got;
    const directory = directoryNamed(ctx, path, syscall);
    if (directory !== undefined) return directory;
    const p = pathArg(ctx, path);
    return port.stat(p.key, follow, syscall, p.shown);
  }

  /** The bytes the program sees at `real` now (dirty data, else the backend's), or undefined if none. */
  const currentBytes = (sync: BackendSync, real: string): Uint8Array | undefined => {
    const dirty = port.dirtyContent(real);
    if (dirty !== undefined) return dirty;
    try {
      return sync.readFile(real);
    } catch (err) {
      if (hasCode(err) && err.code === 'ENOENT') return undefined;
      throw err;
    }
  };

  function readFileSync(path: PathLike, options?: unknown): Buffer | string {
    const got = hits.readFile(path, options);
    if (got === ABSENT) throw fsError('ENOENT', 'open', pathString(path));
    if (got !== NOT_CACHED) return got;
    directoryNamed(ctx, path, 'open'); // after the hits, which never answer a path ending in `/`
    const { encoding } = optionsObject<{ flag: string }>(options);
    const p = pathArg(ctx, path);
    const out = port.readWhole(p.key, p.shown);
    return encoding ? out.toString(encoding) : out;
  }

  function writeWith(path: PathLike, data: WriteData, options: unknown, append: boolean): void {
    const o = optionsObject<{ flag: string; mode: number }>(options);
    const bytes = toData(data, o.encoding ?? undefined);
    const flag = o.flag ?? (append ? 'a' : 'w');
    const p = pathArg(ctx, path);
    const real = port.resolve(p.key, 'writeFile');
    const exclusive = flag.includes('x');
    port.mutate('writeFile', [real], (sync) => {
      try {
        if (flag.startsWith('a')) {
          const before = currentBytes(sync, real);
          if (before !== undefined && exclusive) throw fsError('EEXIST', 'open', p.shown);
          sync.writeFile(real, before === undefined ? bytes : Buffer.concat([before, bytes]), { mode: o.mode });
        } else {
          if (exclusive && currentBytes(sync, real) !== undefined) throw fsError('EEXIST', 'open', p.shown);
          sync.writeFile(real, bytes, { flag: exclusive ? 'wx' : 'w', mode: o.mode });
        }
      } catch (err) {
        throw asCallError(err, 'open', p.shown);
      }
    });
  }

  const linksToDirectory = (sync: BackendSync, key: string): boolean => {
    try {
      return isDirectoryMode(sync.stat(key).mode);
    } catch {
      return false; // dangling, or a loop: Node does not walk it either
    }
  };

  function readdirSync(path: PathLike, options?: unknown): (string | Buffer | DirEntry)[] {
    const o = optionsObject<{ withFileTypes: boolean; recursive: boolean }>(options);
    const encoding = nameEncoding(options);
    const p = pathArg(ctx, path);
    const real = port.resolve(p.key, 'readdir');
    const sync = port.face('readdir');
    const names: string[] = [];
    const entries: DirEntry[] = [];
    const shownRoot = view.viewOf(p.key) ?? p.key;
    const walk = (dir: string, shownDir: string, prefix: string): void => {
      let list;
      try {
        list = sync.readdir(dir);
      } catch (err) {
        throw asCallError(err, 'scandir', dir === real ? p.shown : shownDir);
      }
      list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const e of list) {
        names.push(prefix + e.name);
        if (o.withFileTypes) entries.push(new DirEntry(nameAs(e.name, encoding) as string, e.type, shownDir));
        if (!o.recursive) continue;
        const below = joinPath(dir, e.name);
        // Listing names, Node 20 also walks below a link to a directory (it stats each entry).
        if (e.type === 'directory' || (e.type === 'symlink' && !o.withFileTypes && linksToDirectory(sync, below))) {
          walk(below, joinPath(shownDir, e.name), `${prefix}${e.name}/`);
        }
      }
    };
    walk(real, o.withFileTypes && typeof path === 'string' && !o.recursive ? path : shownRoot, '');
    if (o.withFileTypes) return entries;
    return namesAs(names, encoding);
  }

  function mkdirSync(path: PathLike, options?: number | string | { recursive?: boolean; mode?: number | string } | null): string | undefined {
    const o = typeof options === 'object' && options !== null ? options : { mode: options ?? undefined };
    const mode = typeof o.mode === 'string' ? parseInt(o.mode, 8) : o.mode;
    const p = pathArg(ctx, path);
    return port.mutate('mkdir', [p.key], (sync) => {
      try {
        if (!o.recursive) {
          sync.mkdir(p.key, { mode });
          return undefined;
        }
        let first: string | undefined;
        for (let dir = p.key; dir !== '/'; dir = parentOf(dir)) {
          let st;
          try {
            st = sync.stat(dir);
          } catch (err) {
            if (hasCode(err) && err.code === 'ENOENT') {
              first = dir;
              continue;
            }
            throw err;
          }
          if (!isDirectoryMode(st.mode)) throw fsError(dir === p.key ? 'EEXIST' : 'ENOTDIR', 'mkdir', p.shown);
          break;
        }
        if (first !== undefined) sync.mkdir(p.key, { recursive: true, mode });
        return first === undefined ? undefined : (view.viewOf(first) ?? first);
      } catch (err) {
        throw asCallError(err, 'mkdir', p.shown);
      }
    });
  }

  function removeTree(sync: BackendSync, key: string): void {
    const st = sync.lstat(key);
    if (isDirectoryMode(st.mode)) {
      for (const e of sync.readdir(key)) removeTree(sync, joinPath(key, e.name));
      sync.rmdir(key);
    } else {
      sync.unlink(key);
    }
  }

  function rmSync(path: PathLike, options?: { recursive?: boolean; force?: boolean } | null): void {
    const p = pathArg(ctx, path);
    port.mutate('rm', [p.key], (sync) => {
      let st;
      try {
        st = sync.lstat(p.key);
      } catch (err) {
        if (options?.force && hasCode(err) && err.code === 'ENOENT') return;
        throw asCallError(err, options?.force ? 'rm' : 'lstat', p.shown);
      }
      if (isDirectoryMode(st.mode) && !options?.recursive) {
        throw rmIsDirectory(p.shown);
      }
      try {
        removeTree(sync, p.key);
      } catch (err) {
        throw asCallError(err, 'rm', p.shown);
      }
    }, true);
  }

  const simple = <A extends unknown[]>(syscall: string, op: string, run: (sync: BackendSync, key: string, ...args: A) => void, subtree = false) =>
    (path: PathLike, ...args: A): void => {
      const p = pathArg(ctx, path);
      port.mutate(op, [p.key], (sync) => {
        try {
          run(sync, p.key, ...args);
        } catch (err) {
          throw asCallError(err, syscall, p.shown);
        }
      }, subtree);
    };

  const rmdirOnly = simple('rmdir', 'rmdir', (sync, key) => sync.rmdir(key), true);

  function accessSync(path: PathLike, mode: number = constants.F_OK): void {
    if (mode !== null) integerInRange(mode, 'mode', 0, 7); // as Node: a bad mode threw EACCES here before
    mode ??= constants.F_OK;
    const p = pathArg(ctx, path);
    const st = directoryNamed(ctx, path, 'access') ?? port.stat(p.key, true, 'access', p.shown);
    if (mode === constants.F_OK) return;
    const uid = process.getuid?.() ?? -1;
    let bits: number;
    if (uid === 0) bits = constants.R_OK | constants.W_OK | ((st.mode & 0o111) !== 0 ? constants.X_OK : 0);
    else if (st.uid === uid) bits = (st.mode >> 6) & 7;
    else if (st.gid === (process.getgid?.() ?? -1)) bits = (st.mode >> 3) & 7;
    else bits = st.mode & 7;
    if ((mode & bits) !== mode) throw fsError('EACCES', 'access', p.shown);
  }

  function realpathSync(path: PathLike, options?: unknown): string | Buffer {
    const encoding = nameEncoding(options);
    const p = pathArg(ctx, path);
    const sync = port.face('realpath');
    let real: string;
    try {
      if (sync.realpath) real = sync.realpath(p.key);
      else {
        sync.stat(p.key);
        real = p.key;
      }
    } catch (err) {
      throw asCallError(err, 'realpath', p.shown);
    }
    return nameAs(view.viewOf(real) ?? real, encoding);
  }

  return {
    readFileSync,
    writeFileSync: (path: PathLike, data: WriteData, options?: unknown) => writeWith(path, data, options, false),
    appendFileSync: (path: PathLike, data: WriteData, options?: unknown) => writeWith(path, data, options, true),
    statSync(path: PathLike, options?: { throwIfNoEntry?: boolean; bigint?: boolean }): FileStats | BigIntFileStats | undefined {
      try {
        const st = statOf(path, true, 'stat', options?.throwIfNoEntry === false);
        return st === undefined ? undefined : options?.bigint === true ? new BigIntFileStats(new FileStats(st)) : new FileStats(st);
      } catch (err) {
        if (options?.throwIfNoEntry === false && hasCode(err) && err.code === 'ENOENT') return undefined;
        throw err;
      }
    },
    lstatSync(path: PathLike, options?: { throwIfNoEntry?: boolean; bigint?: boolean }): FileStats | BigIntFileStats | undefined {
      try {
        const st = statOf(path, false, 'lstat', options?.throwIfNoEntry === false);
        return st === undefined ? undefined : options?.bigint === true ? new BigIntFileStats(new FileStats(st)) : new FileStats(st);
      } catch (err) {
        if (options?.throwIfNoEntry === false && hasCode(err) && err.code === 'ENOENT') return undefined;
        throw err;
      }
    },
    existsSync(path: PathLike): boolean {
      try {
        return statOf(path, true, 'stat', true) !== undefined;
      } catch (err) {
        if (hasCode(err) && err.code.startsWith('ERR_CACHEFS')) throw err;
        return false;
      }
    },
    accessSync,
    readdirSync,
    mkdirSync,
    rmSync,
    realpathSync: Object.assign(function realpathWalkedSync(path: PathLike, options?: unknown): string | Buffer {
      try {
        return realpathSync(path, options);
      } catch (err) {
        throw walkedFailureSync(err, path, view.cwd, (p) => statOf(p, false, 'lstat'), (p) => realpathSync(p) as string);
      }
    }, { native: realpathSync }),
    readlinkSync(path: PathLike, options?: unknown): string | Buffer {
      const got = hits.readlink(path, options);
      if (got === ABSENT || got === NOT_A_LINK) throw fsError(got === ABSENT ? 'ENOENT' : 'EINVAL', 'readlink', pathString(path));
      if (got !== NOT_CACHED) return got;
      const encoding = nameEncoding(options);
      const p = pathArg(ctx, path);
      return nameAs(port.readlink(p.key, p.shown), encoding);
    },
    rmdirSync(path: PathLike, options?: { recursive?: boolean } | null): void {
      // Node 20 still takes the deprecated `recursive` (older cleanup code passes it): a tree goes as with
      // rm; a link, even to a directory, is left to rmdir's ENOTDIR, as Node's lstat check leaves it.
      if (options?.recursive && isDirectoryMode(statOf(path, false, 'lstat').mode)) return rmSync(path, { recursive: true });
      rmdirOnly(path);
    },
    unlinkSync: simple('unlink', 'unlink', (sync, key) => sync.unlink(key)),
    truncateSync: simple('open', 'truncate', (sync, key, len: number = 0) => {
      const dirty = port.dirtyContent(key);
      if (dirty === undefined) return sync.truncate(key, len);
      const out = new Uint8Array(len);
      out.set(dirty.subarray(0, Math.min(len, dirty.length)));
      sync.writeFile(key, out);
    }),
    chmodSync: simple('chmod', 'chmod', (sync, key, mode: number | string) => {
      port.writeDirtyThrough(sync, key);
      sync.chmod(key, typeof mode === 'string' ? parseInt(mode, 8) : mode);
    }),
    utimesSync: simple('utime', 'utimes', (sync, key, atime: number | string | Date, mtime: number | string | Date) => {
      port.writeDirtyThrough(sync, key);
      sync.utimes(key, toTimeMs(atime, 'atime'), toTimeMs(mtime, 'mtime'));
    }),
    chownSync: simple('chown', 'chown', (sync, key, uid: number, gid: number) => {
      port.writeDirtyThrough(sync, key);
      sync.chown?.(key, uid, gid);
    }),
    symlinkSync(target: PathLike, path: PathLike): void {
      const t = linkTarget(target); // as the async form: a string made well-formed, a Buffer's exact bytes
      const p = pathArg(ctx, path);
      view.representable(t, 'symlink', target, path);
      port.mutate('symlink', [p.key], (sync) => {
        try {
          sync.symlink(t, p.key);
        } catch (err) {
          throw asCallError(err, 'symlink', t, p.shown);
        }
      });
    },
    renameSync(from: PathLike, to: PathLike): void {
      const a = pathArg(ctx, from, 'oldPath');
      const b = pathArg(ctx, to, 'newPath');
      port.mutate('rename', [a.key, b.key], (sync) => {
        try {
          port.writeDirtyThrough(sync, a.key, true); // a directory's files move with it
          sync.rename(a.key, b.key);
        } catch (err) {
          throw asCallError(err, 'rename', a.shown, b.shown);
        }
      }, true);
    },
    copyFileSync(src: PathLike, dest: PathLike, mode = 0): void {
      const a = pathArg(ctx, src, 'src');
      const b = pathArg(ctx, dest, 'dest');
      let bytes: Buffer;
      try {
        bytes = port.readWhole(a.key, a.shown);
      } catch (err) {
        throw asCallError(err, 'copyfile', a.shown, b.shown); // Node names both paths, whichever failed
      }
      port.mutate('copyFile', [b.key], (sync) => {
        try {
          sync.writeFile(b.key, bytes, { flag: (mode & constants.COPYFILE_EXCL) !== 0 ? 'wx' : 'w' });
        } catch (err) {
          throw asCallError(err, 'copyfile', a.shown, b.shown);
        }
      });
    },
    mkdtempSync(prefix: PathLike, options?: unknown): string | Buffer {
      const encoding = nameEncoding(options);
      const text = pathText(prefix, 'prefix');
      for (;;) {
        const candidate = text + Math.random().toString(36).slice(2, 8);
        const p = pathArg(ctx, pathOfText(candidate), 'prefix');
        try {
          port.mutate('mkdtemp', [p.key], (sync) => sync.mkdir(p.key, { mode: 0o700 }));
          return nameAs(candidate, encoding);
        } catch (err) {
          if (!hasCode(err) || err.code !== 'EEXIST') throw asCallError(err, 'mkdtemp', `${nameAs(text, 'utf8') as string}XXXXXX`);
        }
      }
    },
    /** Makes an empty file exist (used by descriptors opened with a creating flag). */
    createEmpty(key: string, shown: string, exclusive: boolean, truncate: boolean, mode: number): void {
      port.mutate('open', [key], (sync) => {
        try {
          const exists = currentBytes(sync, key) !== undefined;
          if (exists && exclusive) throw fsError('EEXIST', 'open', shown);
          if (!exists || truncate) sync.writeFile(key, EMPTY, { mode });
        } catch (err) {
          throw asCallError(err, 'open', shown);
        }
      });
    },
    /** The program's current bytes of `key`, or undefined when it does not exist. */
    currentBytes: (key: string) => currentBytes(port.face('read'), key),
  };
}

export type SyncForms = ReturnType<typeof syncForms>;
