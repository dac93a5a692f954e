import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import type { Backend, BackendStats, BackendSync, BackendWatcher } from './backend.js';
import { FsError, hasCode } from '../errors.js';
import { isNormalizedAbsolute, normalizeText, parentOf } from '../paths.js';
import { exactName, syscallPath } from '../util/byte-path.js';
import { Confinement } from './node-confine.js';
import { InlineDescriptors, NodeFile, NodeFileSync, releaseReadOnly, virtualError } from './node-file.js';
import { diskPlans, readAll } from './node-plans.js';
import { inspectAsync, lstatAsync, openAsync, procPath, runAsync, runSync, type Plan } from './plan.js';

const { O_RDONLY, O_RDWR, O_NOFOLLOW } = fs.constants;

/**
 * The real disk below `root` as a {@link Backend}: the virtual path `/a/b` is `root/a/b`.
 *
 * `root` must exist; it is resolved once, at construction, with `realpath` (so it may itself be a
 * symbolic link). Nothing outside it can be reached: a path climbing above `/`, or a symbolic link whose
 * target lies outside `root` (as a directory in the middle of a path, or as the last component of a call
 * that follows links), makes the call fail with `EACCES`. Calls that act on a link itself (`lstat`,
 * `readlink`, `unlink`, `rename`, `symlink`, `link`, `lchown`, `lutimes`, `rmdir`, non-recursive `mkdir`)
 * do not follow the last component, but the directories above it must still be inside `root`.
 *
 * Symbolic links: an absolute target given to `symlink` is a virtual path like every other path, so it is
 * stored on disk below `root` (`symlink('/a', '/l')` writes a link to `root/a`) and `readlink` gives
 * `/a` back. A relative target is stored verbatim and may climb out with `..`: creating such a link is
 * allowed, following it is not. Links made on disk by other programs are read as they are: an absolute
 * target below `root` is followed (and reported by `readlink` as a virtual path), any other absolute target
 * leads out and is refused.
 *
 * A call costs what the same call costs on `node:fs`, plus rarely one `realpath`: files are opened with
 * O_NOFOLLOW and their descriptors verified, directories' checked resolutions are remembered (see
 * {@link Confinement} for the rules, and API.md 1.3 §4 for the threat model). It has every optional face:
 * positional I/O, open files, `link`, `lchown`, `lutimes`, `statfs`, watching, and a synchronous twin
 * (`sync`) with the same confinement.
 *
 * Errors are {@link FsError}s whose `path`/`dest` are the virtual paths of the call: the disk location
 * of `root` never appears in an error, a `realpath` result or a watch event.
 */
export function nodeBackend(root: string): Backend {
  const given = nodePath.resolve(root);
  // As a key (exact bytes): a root reached through a link to a name that is not UTF-8 stays that directory.
  const rootReal = exactName(fs.realpathSync(given), () => fs.realpathSync(given, 'buffer'));
  if (!fs.statSync(syscallPath(rootReal)).isDirectory()) throw new FsError('ENOTDIR', 'scandir', root);
  const c = new Confinement(rootReal, given);
  // On a local disk an open file's fstat and read-only close run inline (node-file.ts says why).
  const inline = InlineDescriptors.for(syscallPath(rootReal));
  const plans = diskPlans(c);
  const watchers = new Set<fs.FSWatcher>();

  const async = <A extends unknown[], R>(syscall: string, plan: (...args: A) => Plan<R>, dest = false) =>
    (...args: A): Promise<R> =>
      runAsync(plan(...args)).catch((err: unknown) => {
        throw virtualError(err, syscall, args[0] as string, dest ? (args[1] as string) : undefined);
      });
  const sync = <A extends unknown[], R>(syscall: string, plan: (...args: A) => Plan<R>, dest = false) =>
    (...args: A): R => {
      try {
        return runSync(plan(...args));
      } catch (err) {
        throw virtualError(err, syscall, args[0] as string, dest ? (args[1] as string) : undefined);
      }
    };

  const slowReadFile = async('open', plans.readFile);
  const slowStat = async('stat', plans.stat);
  const slowLstat = async('lstat', plans.lstat);

  const syncFace: BackendSync = {
    stat: sync('stat', plans.stat),
    lstat: sync('lstat', plans.lstat),
    readFile: sync('open', plans.readFile),
    writeFile: sync('open', plans.writeFile),
    readdir: sync('scandir', plans.readdir),
    mkdir: sync('mkdir', plans.mkdir),
    rmdir: sync('rmdir', plans.rmdir),
    unlink: sync('unlink', plans.unlink),
    rename: sync('rename', plans.rename, true),
    truncate: sync('open', plans.truncate),
    chmod: sync('chmod', plans.chmod),
    utimes: sync('utime', plans.utimes),
    symlink: sync('symlink', plans.symlink, true),
    readlink: sync('readlink', plans.readlink),
    read: sync('read', plans.read),
    write: sync('write', plans.write),
    realpath: sync('realpath', plans.realpath),
    chown: sync('chown', plans.chown),
    copyFile: sync('copyfile', plans.copyFile, true),
    link: sync('link', plans.link, true),
    lchown: sync('lchown', plans.lchown),
    lutimes: sync('lutime', plans.lutimes),
    statfs: sync('statfs', plans.statfs),
    open(path, flags) {
      const [fd] = sync('open', plans.open)(path, flags);
      return new NodeFileSync(fd, path);
    },
  };

  return {
    name: 'node',
    byteNames: true,
    // stat and lstat, the calls made most, skip the plans (generators cost microseconds per call when
    // a thousand are in flight): one lstat in a checked directory; links and refusals take the plan.
    async stat(path) {
      const disk = c.knownEntry(path) ?? (await c.checkedEntry(path));
      if (disk === undefined) return slowStat(path);
      let stats: fs.Stats;
      try {
        stats = await lstatAsync(disk);
      } catch (err) {
        throw virtualError(err, 'stat', path);
      }
      if (stats.isSymbolicLink()) return slowStat(path);
      if (stats.isDirectory()) c.rememberChild(parentOf(path), path, disk);
      return statsOf(stats);
    },
    lstat(path) {
      // In a directory already checked (the common case) one lstat, no async frame of its own.
      const known = c.knownEntry(path);
      if (known === undefined) return c.checkedEntry(path).then((disk) => (disk === undefined ? slowLstat(path) : lstatAt(disk, path)));
      return new Promise((resolve, reject) =>
        fs.lstat(syscallPath(known), (err, stats) => (err ? reject(virtualError(err, 'lstat', path)) : resolve(statsOf(stats)))),
      );
    },
    async readFile(path) {
      // The hot path without a plan: open the plain path (or the known directory's) with O_NOFOLLOW and
      // check the descriptor beside its fstat; anything else (a link, a refusal to explain) takes the plan.
      if (!c.procfs || !isNormalizedAbsolute(path) || path === '/') return slowReadFile(path);
      const disk = c.knownEntry(path) ?? c.prefix + path;
      let fd: number;
      try {
        fd = await openAsync(disk, O_RDONLY | O_NOFOLLOW);
      } catch (err) {
        // The error stands when the directory is what it looked like (ENOENT of a probe costs no walk).
        if (hasCode(err) && err.code !== 'ELOOP' && (await c.checkedEntry(path)) === disk) {
          throw virtualError(err, 'open', path);
        }
        return slowReadFile(path);
      }
      let stats: fs.Stats;
      try {
        let at: string | undefined;
        // On a local disk the check and the fstat run inline (node-file.ts says why), else in the pool at once.
        if (inline !== undefined && inline.active) {
          [at, stats] = [procPath(fd), fs.fstatSync(fd)];
          inline.accept(stats);
        } else {
          [at, stats] = await inspectAsync(fd);
        }
        if (at !== disk && at !== `${disk} (deleted)`) {
          fs.close(fd, noop);
          return slowReadFile(path);
        }
      } catch (err) {
        fs.close(fd, noop);
        throw virtualError(err, 'open', path);
      }
      try {
        return await runAsync(readAll(fd, stats));
      } catch (err) {
        throw virtualError(err, 'open', path);
      } finally {
        releaseReadOnly(fd, stats, inline);
      }
    },
    writeFile: async('open', plans.writeFile),
    readdir: async('scandir', plans.readdir),
    mkdir: async('mkdir', plans.mkdir),
    rmdir: async('rmdir', plans.rmdir),
    unlink: async('unlink', plans.unlink),
    rename: async('rename', plans.rename, true),
    truncate: async('open', plans.truncate),
    chmod: async('chmod', plans.chmod),
    utimes: async('utime', plans.utimes),
    symlink: async('symlink', plans.symlink, true),
    readlink: async('readlink', plans.readlink),
    read: async('read', plans.read),
    write: async('write', plans.write),
    realpath: async('realpath', plans.realpath),
    chown: async('chown', plans.chown),
    copyFile: async('copyfile', plans.copyFile, true),
    link: async('link', plans.link, true),
    lchown: async('lchown', plans.lchown),
    lutimes: async('lutime', plans.lutimes),
    statfs: async('statfs', plans.statfs),
    async open(path, flags) {
      // The hot path, as readFile's: the plain path (or the known directory's) opened with O_NOFOLLOW,
      // and the descriptor's real path asked of procfs on this thread (memory, not disk); a descriptor
      // that leads anywhere else, or an error to explain, takes the plan.
      if (c.procfs && isNormalizedAbsolute(path) && path !== '/') {
        const disk = c.knownEntry(path) ?? c.prefix + path;
        let fd: number | undefined;
        try {
          fd = await openAsync(disk, (flags === 'r+' ? O_RDWR : O_RDONLY) | O_NOFOLLOW);
        } catch (err) {
          // The error stands when the directory is what it looked like (ENOENT of a probe costs no walk).
          if (hasCode(err) && err.code !== 'ELOOP' && (await c.checkedEntry(path)) === disk) throw virtualError(err, 'open', path);
        }
        if (fd !== undefined) {
          const at = procPath(fd);
          if (at === disk || at === `${disk} (deleted)`) return new NodeFile(fd, path, c.toVirtual(disk), flags === 'r', inline);
          fs.close(fd, noop);
        }
      }
      const [fd, real] = await async('open', plans.open)(path, flags);
      return new NodeFile(fd, path, real, flags === 'r', inline);
    },
    sync: syncFace,
    realPathOnOpen: true,

    watch(onChange, onError): BackendWatcher {
      let watcher: fs.FSWatcher;
      try {
        watcher = fs.watch(syscallPath(rootReal), { recursive: true, persistent: false }, (event, filename) => {
          // A name appeared or went away behind the backend: a remembered resolution may cross it.
          if (event === 'rename') c.forgetAll();
          onChange(filename == null ? null : watchedPath(String(filename)));
        });
      } catch (err) {
        throw hasCode(err) ? new FsError(err.code, 'watch', '/') : err;
      }
      watcher.unref?.();
      watchers.add(watcher);
      watcher.on('error', (err: unknown) => {
        c.forgetAll();
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

function noop(): void {}

/** `lstat` of disk path `disk` as the backend answers it: stats, or an error naming virtual `path`. */
function lstatAt(disk: string, path: string): Promise<BackendStats> {
  return new Promise((resolve, reject) =>
    fs.lstat(syscallPath(disk), (err, stats) => (err ? reject(virtualError(err, 'lstat', path)) : resolve(statsOf(stats)))),
  );
}

/**
 * `toBackendStats` (backend.ts) of Node's own (number) stats: the same object, copied without its fourteen
 * `Number()` conversions, which a first `stat` pays in the interpreter.
 */
function statsOf(s: fs.Stats): BackendStats {
  return {
    dev: s.dev, ino: s.ino, mode: s.mode, nlink: s.nlink,
    uid: s.uid, gid: s.gid, rdev: s.rdev, size: s.size,
    blksize: s.blksize, blocks: s.blocks,
    atimeMs: s.atimeMs, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs,
    birthtimeMs: s.birthtimeMs,
  };
}

/**
 * The path a watch event names. Node's recursive watcher gives names as UTF-8 strings only (no Buffer
 * encoding), so a name that lost bytes (a U+FFFD in it) is reported by the directory above it: that
 * invalidates everything below, the real name included, where its lossy text would name another file.
 */
function watchedPath(name: string): string {
  const lost = name.indexOf('\uFFFD');
  return normalizeText('/' + (lost < 0 ? name : name.slice(0, Math.max(0, name.lastIndexOf('/', lost)))));
}
