import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as nodePath from 'node:path';
import type { Backend, BackendDirent, BackendWatcher } from './backend.js';
import { toBackendStats } from './backend.js';
import { FsError, InvalidArgError, hasCode } from '../errors.js';
import { normalizePath } from '../paths.js';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, COPYFILE_EXCL } = fs.constants;

/** Linux's limit on symbolic links followed while resolving one path. */
const MAX_LINKS = 40;
const COPY_CHUNK = 64 * 1024;

/**
 * The real disk below `root` as a {@link Backend}: the virtual path `/a/b` is `root/a/b`.
 *
 * `root` must exist; it is resolved once, at construction, with `realpath` (so it may itself be a
 * symbolic link). Nothing outside it can be reached: a path climbing above `/`, or a symbolic link whose
 * target lies outside `root` (as a directory in the middle of a path, or as the last component of a call
 * that follows links), makes the call fail with `EACCES`. Calls that act on a link itself (`lstat`,
 * `readlink`, `unlink`, `rename`, `symlink`, `rmdir`, non-recursive `mkdir`) do not follow the last
 * component, but the directories above it must still be inside `root`.
 *
 * Symbolic links: an absolute target given to `symlink` is a virtual path like every other path, so it is
 * stored on disk below `root` (`symlink('/a', '/l')` writes a link to `root/a`) and `readlink` gives
 * `/a` back. A relative target is stored verbatim and may climb out with `..`: creating such a link is
 * allowed, following it is not. Links made on disk by other programs are read as they are: an absolute
 * target below `root` is followed (and reported by `readlink` as a virtual path), any other absolute target
 * leads out and is refused.
 *
 * Errors are {@link FsError}s whose `path`/`dest` are the virtual paths of the call: the disk location
 * of `root` never appears in an error, a `realpath` result or a watch event.
 */
export function nodeBackend(root: string): Backend {
  const given = nodePath.resolve(root);
  const rootReal = fs.realpathSync(given);
  if (!fs.statSync(rootReal).isDirectory()) throw new FsError('ENOTDIR', 'scandir', root);

  // Absolute link targets are recognised as inside when they start with the canonical root or with the
  // root as the caller spelled it (links written before the root's own symlink was resolved).
  const bases = [...new Set([rootReal, given])].map(segments);
  const watchers = new Set<fs.FSWatcher>();

  /** Prepended to an absolute virtual link target to get the disk target. */
  const diskPrefix = rootReal === '/' ? '' : rootReal;
  const diskJoin = (dir: string, name: string): string => (dir === '/' ? `/${name}` : `${dir}/${name}`);
  const isInside = (disk: string): boolean =>
    rootReal === '/' || disk === rootReal || disk.startsWith(rootReal + '/');
  const toVirtual = (disk: string): string => (rootReal === '/' ? disk : disk.slice(rootReal.length) || '/');

  /** The part of an absolute link target below the root, or null when it points elsewhere. */
  const belowRoot = (target: string): string[] | null => {
    const parts = segments(target);
    for (const base of bases) {
      if (parts.length >= base.length && base.every((segment, i) => parts[i] === segment)) {
        return parts.slice(base.length);
      }
    }
    return null;
  };

  /**
   * Maps a virtual path to the disk path a call must use, resolving every symbolic link on the way
   * (and the last one too when `followLast`) so that the result has no link in it and is below the
   * root. Components that do not exist yet are appended as they are: the call will create them or fail
   * with ENOENT.
   *
   * TOCTOU: the result is checked, then used. A process that can write inside the root could swap a
   * directory of the result for a symbolic link between the two; calls that open a file close that gap
   * (O_NOFOLLOW plus a check of the opened descriptor's path, see `openConfined`), and `stat`, `utimes`,
   * `chown` use the l-variants, which never follow a last link. What remains: a swapped *directory* in
   * the middle of the path for the path-based calls (`readdir`, `mkdir`, `rmdir`, `unlink`, `rename`,
   * `symlink`, `chmod`, `utimes`, `chown`, `stat`, `lstat`, `readlink`); a swapped *last* component for
   * `chmod` (Linux has no lchmod) and `readdir`; and a file created empty (never written) outside by
   * `writeFile`/`copyFile` before the descriptor check rejects it. Node offers no openat()/O_PATH to do
   * better.
   */
  const resolve = async (vpath: string, followLast: boolean): Promise<string> => {
    if (vpath.includes('\u0000')) {
      throw new InvalidArgError('path', vpath, 'must be a string, Uint8Array, or URL without null bytes');
    }
    let current = rootReal;
    const pending = segments(vpath).reverse(); // a stack: the next component is at the end
    let links = 0;
    while (pending.length > 0) {
      const name = pending.pop()!;
      if (name === '..') {
        if (current === rootReal) throw new FsError('EACCES', 'resolve');
        current = nodePath.dirname(current);
        continue;
      }
      const next = diskJoin(current, name);
      const last = pending.length === 0;
      if (last && !followLast) return next;
      let stats: fs.Stats;
      try {
        stats = await fsp.lstat(next);
      } catch (err) {
        if (hasCode(err) && err.code === 'ENOENT') {
          // A `..` below a missing directory cannot be resolved by the kernel either.
          if (pending.includes('..')) throw err;
          return [next, ...pending.reverse()].join('/');
        }
        throw err;
      }
      if (stats.isSymbolicLink()) {
        if (++links > MAX_LINKS) throw new FsError('ELOOP', 'resolve');
        const target = await fsp.readlink(next);
        let parts: string[];
        if (nodePath.isAbsolute(target)) {
          const below = belowRoot(target);
          if (below === null) throw new FsError('EACCES', 'resolve');
          current = rootReal;
          parts = below;
        } else {
          parts = segments(target);
        }
        for (let i = parts.length - 1; i >= 0; i--) pending.push(parts[i]!);
        continue;
      }
      if (!last && !stats.isDirectory()) throw new FsError('ENOTDIR', 'resolve');
      current = next;
    }
    return current;
  };

  /**
   * Opens the file at a virtual path without letting a symbolic link swapped in after `resolve` lead
   * out: the last component is opened with O_NOFOLLOW, and on Linux the descriptor's own path
   * (`/proc/self/fd/N`, which the kernel derives from the opened file, not from the string we passed) must
   * still be below the root. No O_TRUNC: callers truncate only once the check passed.
   */
  const openConfined = async (vpath: string, flags: number, followLast = true, mode = 0o666) => {
    const disk = await resolve(vpath, followLast);
    const handle = await fsp.open(disk, flags | O_NOFOLLOW, mode);
    try {
      let opened: string | undefined;
      try {
        opened = await fsp.readlink(`/proc/self/fd/${handle.fd}`);
      } catch {
        opened = undefined; // no procfs: the O_NOFOLLOW protection alone applies
      }
      if (opened !== undefined && !isInside(opened.replace(/ \(deleted\)$/, ''))) {
        throw new FsError('EACCES', 'open');
      }
    } catch (err) {
      await handle.close();
      throw err;
    }
    return handle;
  };

  /** Re-raises any fs error with the virtual paths of the call, so no disk path escapes. */
  const run = async <T>(syscall: string, path: string, dest: string | undefined, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (hasCode(err) && /^E[A-Z0-9]+$/.test(err.code)) throw new FsError(err.code, syscall, path, dest);
      throw err;
    }
  };

  const refuseRoot = (disk: string, code: string, syscall: string, path: string, dest?: string): void => {
    if (disk === rootReal) throw new FsError(code, syscall, path, dest);
  };

  return {
    name: 'node',

    stat(path) {
      // lstat of a link-free path is stat, and it cannot be led out by a link swapped in since.
      return run('stat', path, undefined, async () => toBackendStats(await fsp.lstat(await resolve(path, true))));
    },

    lstat(path) {
      return run('lstat', path, undefined, async () => toBackendStats(await fsp.lstat(await resolve(path, false))));
    },

    open(path, flags) {
      // A minimal open-file face (the engine's descriptor per handle); confined as every open is.
      return run('open', path, undefined, async () => {
        const handle = await openConfined(path, flags === 'r+' ? fs.constants.O_RDWR : O_RDONLY);
        return {
          read: (into, offset, length, position) =>
            run('read', path, undefined, async () => (await handle.read(into, offset, length, position)).bytesRead),
          write: (data, offset, length, position) =>
            run('write', path, undefined, async () => (await handle.write(data, offset, length, position)).bytesWritten),
          stat: () => run('fstat', path, undefined, async () => toBackendStats(await handle.stat())),
          truncate: (length) => run('ftruncate', path, undefined, () => handle.truncate(length)),
          sync: () => run('fdatasync', path, undefined, () => handle.datasync()),
          close: () => handle.close(),
        };
      });
    },

    readFile(path) {
      return run('open', path, undefined, async () => {
        const handle = await openConfined(path, O_RDONLY);
        try {
          return await handle.readFile();
        } finally {
          await handle.close();
        }
      });
    },

    writeFile(path, data, options) {
      const exclusive = options?.flag === 'wx';
      return run('open', path, undefined, async () => {
        // With O_EXCL the kernel refuses an existing link (EEXIST) instead of following it.
        const flags = O_WRONLY | O_CREAT | (exclusive ? O_EXCL : 0);
        const handle = await openConfined(path, flags, !exclusive, options?.mode ?? 0o666);
        try {
          await handle.truncate(0);
          await writeAll(handle, data, 0);
        } finally {
          await handle.close();
        }
      });
    },

    readdir(path) {
      return run('scandir', path, undefined, async () => {
        const entries = await fsp.readdir(await resolve(path, true), { withFileTypes: true });
        return entries.map(
          (entry): BackendDirent => ({
            name: entry.name,
            type: entry.isFile()
              ? 'file'
              : entry.isDirectory()
                ? 'directory'
                : entry.isSymbolicLink()
                  ? 'symlink'
                  : 'other',
          }),
        );
      });
    },

    mkdir(path, options) {
      return run('mkdir', path, undefined, async () => {
        const mode = options?.mode ?? 0o777;
        if (options?.recursive) {
          // Following the last link: `mkdir -p` of a link to a directory succeeds, so it must be inside.
          await fsp.mkdir(await resolve(path, true), { recursive: true, mode });
        } else {
          await fsp.mkdir(await resolve(path, false), { mode });
        }
      });
    },

    rmdir(path) {
      return run('rmdir', path, undefined, async () => {
        const disk = await resolve(path, false);
        refuseRoot(disk, 'EBUSY', 'rmdir', path);
        await fsp.rmdir(disk);
      });
    },

    unlink(path) {
      return run('unlink', path, undefined, async () => {
        const disk = await resolve(path, false);
        refuseRoot(disk, 'EISDIR', 'unlink', path);
        await fsp.unlink(disk);
      });
    },

    rename(from, to) {
      return run('rename', from, to, async () => {
        const src = await resolve(from, false);
        const dst = await resolve(to, false);
        refuseRoot(src, 'EBUSY', 'rename', from, to);
        refuseRoot(dst, 'EBUSY', 'rename', from, to);
        await fsp.rename(src, dst);
      });
    },

    truncate(path, length) {
      return run('open', path, undefined, async () => {
        const handle = await openConfined(path, O_WRONLY);
        try {
          await handle.truncate(length);
        } finally {
          await handle.close();
        }
      });
    },

    chmod(path, mode) {
      return run('chmod', path, undefined, async () => fsp.chmod(await resolve(path, true), mode));
    },

    utimes(path, atimeMs, mtimeMs) {
      return run('utime', path, undefined, async () =>
        fsp.lutimes(await resolve(path, true), toSeconds(atimeMs), toSeconds(mtimeMs)),
      );
    },

    symlink(target, path) {
      return run('symlink', target, path, async () => {
        if (target.includes('\u0000')) {
          throw new InvalidArgError('target', target, 'must be a string, Uint8Array, or URL without null bytes');
        }
        const disk = await resolve(path, false);
        refuseRoot(disk, 'EEXIST', 'symlink', target, path);
        await fsp.symlink(nodePath.isAbsolute(target) ? diskPrefix + target : target, disk);
      });
    },

    readlink(path) {
      return run('readlink', path, undefined, async () => {
        const target = await fsp.readlink(await resolve(path, false));
        if (!nodePath.isAbsolute(target) || rootReal === '/') return target;
        for (const base of [rootReal, given]) {
          if (target === base) return '/';
          if (target.startsWith(base + '/')) return target.slice(base.length);
        }
        return target;
      });
    },

    read(path, into, offset, length, position) {
      return run('read', path, undefined, async () => {
        const handle = await openConfined(path, O_RDONLY);
        try {
          const { bytesRead } = await handle.read(into, offset, length, position);
          return bytesRead;
        } finally {
          await handle.close();
        }
      });
    },

    write(path, data, position) {
      return run('write', path, undefined, async () => {
        const handle = await openConfined(path, O_WRONLY);
        try {
          await writeAll(handle, data, position);
        } finally {
          await handle.close();
        }
      });
    },

    realpath(path) {
      return run('realpath', path, undefined, async () => {
        const disk = await resolve(path, true);
        await fsp.lstat(disk); // resolve() leaves missing components in place; realpath must fail on them
        return toVirtual(disk);
      });
    },

    chown(path, uid, gid) {
      return run('chown', path, undefined, async () => fsp.lchown(await resolve(path, true), uid, gid));
    },

    copyFile(src, dest, mode = 0) {
      // Copied through confined descriptors rather than fs.copyFile so that both ends get the
      // O_NOFOLLOW + descriptor check. COPYFILE_FICLONE(_FORCE) are accepted and ignored (a plain copy).
      return run('copyfile', src, dest, async () => {
        const exclusive = (mode & COPYFILE_EXCL) !== 0;
        const input = await openConfined(src, O_RDONLY);
        try {
          const srcStats = await input.stat();
          if (srcStats.isDirectory()) throw new FsError('EISDIR', 'copyfile');
          const output = await openConfined(dest, O_WRONLY | O_CREAT | (exclusive ? O_EXCL : 0), !exclusive, srcStats.mode & 0o7777);
          try {
            const destStats = await output.stat();
            // Copying a file onto itself must not truncate it first.
            if (destStats.dev === srcStats.dev && destStats.ino === srcStats.ino) return;
            await output.truncate(0);
            const buffer = Buffer.allocUnsafe(COPY_CHUNK);
            let position = 0;
            for (;;) {
              const { bytesRead } = await input.read(buffer, 0, COPY_CHUNK, position);
              if (bytesRead === 0) break;
              await writeAll(output, buffer.subarray(0, bytesRead), position);
              position += bytesRead;
            }
            await output.chmod(srcStats.mode & 0o7777);
          } finally {
            await output.close();
          }
        } finally {
          await input.close();
        }
      });
    },

    watch(onChange, onError): BackendWatcher {
      let watcher: fs.FSWatcher;
      try {
        watcher = fs.watch(rootReal, { recursive: true, persistent: false }, (_event, filename) => {
          onChange(filename == null ? null : normalizePath('/' + String(filename)));
        });
      } catch (err) {
        throw hasCode(err) ? new FsError(err.code, 'watch', '/') : err;
      }
      watcher.unref?.();
      watchers.add(watcher);
      watcher.on('error', (err: unknown) => {
        onChange(null);
        const reported = hasCode(err)
          ? new FsError(err.code, 'watch', '/')
          : new Error('cachefs: the watcher of the node backend failed');
        onError?.(reported);
      });
      return {
        close() {
          watchers.delete(watcher);
          watcher.close();
        },
      };
    },

    async close() {
      for (const watcher of watchers) watcher.close();
      watchers.clear();
    },
  };
}

/** The non-empty, non-`.` segments of a path, `..` kept. */
function segments(path: string): string[] {
  return path.split('/').filter((segment) => segment !== '' && segment !== '.');
}

async function writeAll(handle: fsp.FileHandle, data: Uint8Array, position: number): Promise<void> {
  let written = 0;
  while (written < data.byteLength) {
    const { bytesWritten } = await handle.write(data, written, data.byteLength - written, position + written);
    written += bytesWritten;
  }
}

/**
 * Milliseconds to the seconds Node's utimes takes. libuv truncates the fraction to whole microseconds,
 * and `ms / 1000` often lands just below the intended value (1600000000.123 is 1600000000.12299990…), so
 * a later stat would report …122.999. Half a microsecond more makes the truncation land on the value
 * meant, for any time given to the microsecond.
 */
function toSeconds(ms: number): number {
  return ms >= 0 ? (ms + 0.0005) / 1000 : ms / 1000;
}
