import { Volume, createFsFromVolume } from 'memfs';
import type { Backend, BackendDirent } from './backend.js';
import { toBackendStats } from './backend.js';
import { FsError, hasCode } from '../errors.js';
import { baseName, isWithin, joinPath, normalizePath, parentOf } from '../paths.js';

/**
 * An in-memory {@link Backend} built on `memfs`.
 *
 * `files` seeds the file system: each key is an absolute path, each value the file's content (a string is
 * stored as UTF-8); missing parent directories are created.
 *
 * Where memfs departs from what `node:fs` does on Linux, this backend follows Linux: `rename` checks the
 * types of source and destination (`EISDIR`, `ENOTDIR`, `ENOTEMPTY`, `EINVAL` for a directory moved into
 * itself) and moves a symbolic link rather than its target; `mkdir`, `symlink` and `rename` work below a
 * symbolic link to a directory; `unlink` of a directory fails with `EISDIR`; `mkdir -p` of an existing file
 * fails with `EEXIST`; reading a directory with `read` fails with `EISDIR`. Removing or renaming `/`
 * fails with `EBUSY`.
 *
 * Errors are {@link FsError}s carrying the paths the caller passed.
 */
export function memoryBackend(files?: Record<string, string | Uint8Array>): Backend {
  const vol = new Volume();
  const fs = createFsFromVolume(vol);
  const p = fs.promises;

  if (files) {
    for (const [key, value] of Object.entries(files)) {
      const path = normalizePath(key);
      fs.mkdirSync(parentOf(path), { recursive: true });
      fs.writeFileSync(path, typeof value === 'string' ? Buffer.from(value, 'utf8') : value);
    }
  }

  // memfs resolves a symbolic link in the parent of mkdir/symlink/rename targets only partially, so those
  // calls get a parent that is already canonical. Synchronous on purpose: callers combine it with other
  // synchronous steps so that no other call of this backend can run in between.
  const canonicalParent = (path: string): string => {
    if (path === '/') return '/';
    const parent = String(fs.realpathSync(parentOf(path)));
    // A file in the parent chain is ENOTDIR on Linux; memfs would carry on with it.
    // (A plain coded error, so that the caller's guard names the paths of the call.)
    if (!fs.statSync(parent).isDirectory()) throw Object.assign(new Error('ENOTDIR'), { code: 'ENOTDIR' });
    return joinPath(parent, baseName(path));
  };

  const lstatOrNull = (path: string) => {
    try {
      return fs.lstatSync(path);
    } catch (err) {
      if (hasCode(err) && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) return null;
      throw err;
    }
  };

  return {
    name: 'memory',

    async stat(path) {
      return guard('stat', path, undefined, async () => toBackendStats(await p.stat(path)));
    },

    async lstat(path) {
      return guard('lstat', path, undefined, async () => toBackendStats(await p.lstat(path)));
    },

    async readFile(path) {
      return guard('open', path, undefined, () => p.readFile(path));
    },

    async writeFile(path, data, options) {
      const flag = options?.flag ?? 'w';
      return guard('open', path, undefined, () =>
        p.writeFile(path, data, options?.mode === undefined ? { flag } : { flag, mode: options.mode }),
      );
    },

    async readdir(path) {
      return guard('scandir', path, undefined, async () => {
        const entries = await p.readdir(path, { withFileTypes: true });
        return entries.map((entry): BackendDirent => {
          if (typeof entry === 'string' || Buffer.isBuffer(entry)) {
            throw new FsError('EIO', 'scandir', path, undefined, 'memfs returned names without types');
          }
          const type = entry.isFile()
            ? 'file'
            : entry.isDirectory()
              ? 'directory'
              : entry.isSymbolicLink()
                ? 'symlink'
                : 'other';
          return { name: String(entry.name), type };
        });
      });
    },

    async mkdir(path, options) {
      return guardSync('mkdir', path, undefined, () => {
        const mode = options?.mode ?? 0o777;
        if (options?.recursive) {
          // memfs accepts `mkdir -p` of an existing file; Node reports EEXIST.
          let existing;
          try {
            existing = fs.statSync(path);
          } catch (err) {
            if (!hasCode(err) || err.code !== 'ENOENT') throw err;
          }
          if (existing) {
            if (existing.isDirectory()) return;
            throw new FsError('EEXIST', 'mkdir', path);
          }
          fs.mkdirSync(path, { recursive: true, mode });
          return;
        }
        if (path === '/') throw new FsError('EEXIST', 'mkdir', path);
        fs.mkdirSync(canonicalParent(path), { mode });
      });
    },

    async rmdir(path) {
      if (path === '/') throw new FsError('EBUSY', 'rmdir', path);
      return guard('rmdir', path, undefined, () => p.rmdir(path));
    },

    async unlink(path) {
      return guard('unlink', path, undefined, async () => {
        try {
          await p.unlink(path);
        } catch (err) {
          // Linux reports EISDIR for unlink(2) of a directory, memfs the POSIX EPERM.
          if (hasCode(err) && err.code === 'EPERM' && lstatOrNull(path)?.isDirectory()) {
            throw new FsError('EISDIR', 'unlink', path);
          }
          throw err;
        }
      });
    },

    async rename(from, to) {
      return guardSync('rename', from, to, () => {
        if (from === '/' || to === '/') throw new FsError('EBUSY', 'rename', from, to);
        const src = canonicalParent(from);
        const dst = canonicalParent(to);
        const srcStat = fs.lstatSync(src);
        if (src === dst) return;
        const dstStat = lstatOrNull(dst);
        // Linux refuses a target that is an ancestor of the source before anything else (the rename
        // "trap" in lock_rename): ENOTEMPTY, whatever the kinds of the two.
        if (isWithin(src, dst)) throw new FsError('ENOTEMPTY', 'rename', from, to);
        if (srcStat.isDirectory()) {
          if (isWithin(dst, src)) throw new FsError('EINVAL', 'rename', from, to);
          if (dstStat && !dstStat.isDirectory()) throw new FsError('ENOTDIR', 'rename', from, to);
          if (dstStat && fs.readdirSync(dst).length > 0) throw new FsError('ENOTEMPTY', 'rename', from, to);
        } else if (dstStat?.isDirectory()) {
          throw new FsError('EISDIR', 'rename', from, to);
        }
        if (srcStat.isSymbolicLink()) {
          // memfs's rename follows a symbolic link and moves its target; recreate the link instead.
          const target = String(fs.readlinkSync(src));
          if (dstStat) fs.unlinkSync(dst);
          fs.symlinkSync(target, dst);
          fs.unlinkSync(src);
          return;
        }
        // memfs miscounts the target directory's children when a rename replaces an existing entry
        // (a later rmdir sees ENOTEMPTY in an empty directory): remove the replaced entry first.
        // The checks above already made the replacement legal, so this cannot lose anything rename
        // would have kept.
        if (dstStat) {
          if (dstStat.isDirectory()) fs.rmdirSync(dst);
          else fs.unlinkSync(dst);
        }
        fs.renameSync(src, dst);
      });
    },

    async truncate(path, length) {
      return guard('open', path, undefined, () => p.truncate(path, length));
    },

    async chmod(path, mode) {
      return guard('chmod', path, undefined, () => p.chmod(path, mode));
    },

    async utimes(path, atimeMs, mtimeMs) {
      return guard('utime', path, undefined, () => p.utimes(path, toMemfsTime(atimeMs), toMemfsTime(mtimeMs)));
    },

    async symlink(target, path) {
      return guardSync('symlink', target, path, () => {
        if (path === '/') throw new FsError('EEXIST', 'symlink', target, path);
        fs.symlinkSync(target, canonicalParent(path));
      });
    },

    async readlink(path) {
      return guard('readlink', path, undefined, async () => String(await p.readlink(path)));
    },

    async read(path, into, offset, length, position) {
      return guard('read', path, undefined, async () => {
        const handle = await p.open(path, 'r');
        try {
          // memfs reads a directory as empty; Node (Linux) fails with EISDIR.
          if ((await handle.stat()).isDirectory()) throw new FsError('EISDIR', 'read', path);
          const { bytesRead } = await handle.read(into, offset, length, position);
          return bytesRead;
        } finally {
          await handle.close();
        }
      });
    },

    async write(path, data, position) {
      return guard('write', path, undefined, async () => {
        const handle = await p.open(path, 'r+');
        try {
          await handle.write(data, 0, data.byteLength, position);
        } finally {
          await handle.close();
        }
      });
    },

    async realpath(path) {
      return guard('realpath', path, undefined, async () => String(await p.realpath(path)));
    },

    async chown(path, uid, gid) {
      return guard('chown', path, undefined, () => p.chown(path, uid, gid));
    },

    async copyFile(src, dest, mode) {
      return guard('copyfile', src, dest, () => p.copyFile(src, dest, mode));
    },
  };
}

/**
 * Milliseconds to what memfs's utimes takes. memfs keeps whole milliseconds: it turns a number of seconds
 * back into a Date with `seconds * 1000`, which the Date truncates, and `ms / 1000 * 1000` can land just
 * below `ms`. Half a millisecond more makes it land on `floor(ms)`. memfs replaces a negative number by
 * the current time, so times before 1970 go in as a Date (exact to within a millisecond).
 */
function toMemfsTime(ms: number): number | Date {
  return ms >= 0 ? (Math.floor(ms) + 0.5) / 1000 : new Date(ms);
}

/** Re-raises memfs's errors with the caller's paths (memfs may report a canonicalized one). */
function translate(err: unknown, syscall: string, path: string, dest: string | undefined): unknown {
  if (err instanceof FsError) return err;
  if (hasCode(err) && /^E[A-Z0-9]+$/.test(err.code)) {
    return new FsError(err.code, syscall, path, dest);
  }
  return err;
}

async function guard<T>(syscall: string, path: string, dest: string | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw translate(err, syscall, path, dest);
  }
}

function guardSync<T>(syscall: string, path: string, dest: string | undefined, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw translate(err, syscall, path, dest);
  }
}
