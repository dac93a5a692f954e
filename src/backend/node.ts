import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import type {
  Backend, BackendDirent, BackendStatFs, BackendStats, BackendSync, BackendWatcher,
} from './backend.js';
import { toBackendStats } from './backend.js';
import { FsError, InvalidArgError, hasCode } from '../errors.js';
import { isNormalizedAbsolute, normalizeText, parentOf } from '../paths.js';
import { exactName, syscallPath } from '../util/byte-path.js';
import { Confinement } from './node-confine.js';
import { NodeFile, NodeFileSync, virtualError } from './node-file.js';
import { inspectAsync, io, lstatAsync, openAsync, procPath, runAsync, runSync, type Plan } from './plan.js';

const { O_RDONLY, O_RDWR, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, COPYFILE_EXCL } = fs.constants;

const COPY_CHUNK = 64 * 1024;

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
      return toBackendStats(stats);
    },
    async lstat(path) {
      const disk = c.knownEntry(path) ?? (await c.checkedEntry(path));
      if (disk === undefined) return slowLstat(path);
      try {
        return toBackendStats(await lstatAsync(disk));
      } catch (err) {
        throw virtualError(err, 'lstat', path);
      }
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
        [at, stats] = await inspectAsync(fd);
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
        fs.close(fd, noop);
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
          if (at === disk || at === `${disk} (deleted)`) return new NodeFile(fd, path, c.toVirtual(disk));
          fs.close(fd, noop);
        }
      }
      const [fd, real] = await async('open', plans.open)(path, flags);
      return new NodeFile(fd, path, real);
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

/** Each call of the disk backend, written once for both faces. */
function diskPlans(c: Confinement) {
  const refuseRoot = (disk: string, code: string): void => {
    if (disk === c.root) throw new FsError(code, 'resolve');
  };
  return {
    *stat(path: string): Plan<BackendStats> {
      const [disk, stats] = yield* c.followed(path);
      if (stats === undefined) return toBackendStats(yield* io.lstat(disk)); // the link's target, link-free
      if (stats.isDirectory()) c.rememberChild(parentOf(path), path, disk);
      return toBackendStats(stats);
    },
    *lstat(path: string): Plan<BackendStats> {
      return toBackendStats(yield* io.lstat(yield* c.entry(path)));
    },
    *readFile(path: string): Plan<Uint8Array> {
      const [fd, stats] = yield* c.openInspected(path, O_RDONLY, 0, false, true);
      try {
        return yield* readAll(fd, stats ?? (yield* io.fstat(fd)));
      } finally {
        yield* io.release(fd);
      }
    },
    *writeFile(path: string, data: Uint8Array, options?: { flag?: 'w' | 'wx'; mode?: number }): Plan<void> {
      // With O_EXCL the kernel refuses an existing link (EEXIST) instead of following it. No O_TRUNC: the
      // file is cut only once its descriptor is proven to be inside.
      const flags = O_WRONLY | O_CREAT | (options?.flag === 'wx' ? O_EXCL : 0);
      const fd = yield* c.open(path, flags, options?.mode ?? 0o666, true);
      try {
        yield* io.ftruncate(fd, 0);
        yield* writeAll(fd, data, 0);
      } finally {
        yield* io.close(fd);
      }
    },
    *readdir(path: string): Plan<BackendDirent[]> {
      return yield* io.readdir(yield* c.dir(path));
    },
    *mkdir(path: string, options?: { recursive?: boolean; mode?: number }): Plan<void> {
      const mode = options?.mode ?? 0o777;
      // Recursive follows the last link (`mkdir -p` of a link to a directory succeeds), so it must be inside.
      // As Node's own `mkdir -p`, never through a dangling link: ENOENT.
      if (options?.recursive) yield* io.mkdir(yield* c.dir(path, true), true, mode);
      else yield* io.mkdir(yield* c.entry(path), false, mode);
    },
    *rmdir(path: string): Plan<void> {
      const disk = yield* c.entry(path);
      refuseRoot(disk, 'EBUSY');
      yield* io.rmdir(disk);
      c.forgetAll();
    },
    *unlink(path: string): Plan<void> {
      const disk = yield* c.entry(path);
      refuseRoot(disk, 'EISDIR');
      yield* io.unlink(disk);
      c.forgetRemovedFile();
    },
    *rename(from: string, to: string): Plan<void> {
      const src = yield* c.entry(from);
      let dst: string;
      try {
        dst = yield* c.entry(to);
      } catch (err) {
        yield* parentFirst(src); // rename(2) reports the source's directory before the target's
        throw err;
      }
      refuseRoot(src, 'EBUSY');
      refuseRoot(dst, 'EBUSY');
      try {
        yield* io.rename(src, dst);
      } finally {
        c.forgetAll(); // also after a failure: it may have taken effect
      }
    },
    *truncate(path: string, length: number): Plan<void> {
      const fd = yield* c.open(path, O_WRONLY, 0, false);
      try {
        yield* io.ftruncate(fd, length);
      } finally {
        yield* io.close(fd);
      }
    },
    *chmod(path: string, mode: number): Plan<void> {
      // Linux has no lchmod: a last component swapped for a link between the check and the call is the
      // one gap left (API.md 1.3 §4 bounds it to a tree changed behind the backend).
      const [disk] = yield* c.followed(path);
      yield* io.chmod(disk, mode);
    },
    *utimes(path: string, atimeMs: number, mtimeMs: number): Plan<void> {
      const [disk] = yield* c.followed(path);
      yield* io.lutimes(disk, toSeconds(atimeMs), toSeconds(mtimeMs));
    },
    *symlink(target: string, path: string): Plan<void> {
      if (target.includes('\u0000')) {
        throw new InvalidArgError('target', target, 'must be a string, Uint8Array, or URL without null bytes');
      }
      const disk = yield* c.entry(path);
      refuseRoot(disk, 'EEXIST');
      yield* io.symlink(c.diskTarget(target), disk);
      c.forgetAll();
    },
    *readlink(path: string): Plan<string> {
      return c.virtualTarget(yield* io.readlink(yield* c.entry(path)));
    },
    *read(path: string, into: Uint8Array, offset: number, length: number, position: number): Plan<number> {
      const fd = yield* c.open(path, O_RDONLY, 0, false);
      try {
        return yield* io.read(fd, into, offset, length, position);
      } finally {
        yield* io.release(fd);
      }
    },
    *write(path: string, data: Uint8Array, position: number): Plan<void> {
      const fd = yield* c.open(path, O_WRONLY, 0, false);
      try {
        yield* writeAll(fd, data, position);
      } finally {
        yield* io.close(fd);
      }
    },
    *realpath(path: string): Plan<string> {
      const disk = yield* c.dir(path);
      yield* io.lstat(disk); // a walk leaves missing components in place; realpath must fail on them
      return c.toVirtual(disk);
    },
    *chown(path: string, uid: number, gid: number): Plan<void> {
      const [disk] = yield* c.followed(path);
      yield* io.lchown(disk, uid, gid);
    },
    *lchown(path: string, uid: number, gid: number): Plan<void> {
      yield* io.lchown(yield* c.entry(path), uid, gid);
    },
    *lutimes(path: string, atimeMs: number, mtimeMs: number): Plan<void> {
      yield* io.lutimes(yield* c.entry(path), toSeconds(atimeMs), toSeconds(mtimeMs));
    },
    *link(existingPath: string, newPath: string): Plan<void> {
      // link(2) does not follow a link given as `existingPath`: it links the link itself.
      const from = yield* c.entry(existingPath);
      let to: string;
      try {
        to = yield* c.entry(newPath);
      } catch (err) {
        yield* io.lstat(from); // link(2) reports a missing existing file before the new name's directory
        throw err;
      }
      yield* io.link(from, to);
    },
    *statfs(path: string): Plan<BackendStatFs> {
      const [disk] = yield* c.followed(path);
      const s = yield* io.statfs(disk);
      return { type: s.type, bsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree };
    },
    /** An open descriptor and the virtual path it was proven to be (every link resolved). */
    *open(path: string, flags: 'r' | 'r+'): Plan<[number, string]> {
      const [fd, , at] = yield* c.openInspected(path, flags === 'r+' ? O_RDWR : O_RDONLY, 0, false, false);
      return [fd, c.toVirtual(at)];
    },
    *copyFile(src: string, dest: string, mode = 0): Plan<void> {
      // Copied through confined descriptors rather than fs.copyFile so that both ends get the O_NOFOLLOW
      // and descriptor checks. COPYFILE_FICLONE(_FORCE) are accepted and ignored (a plain copy).
      const exclusive = (mode & COPYFILE_EXCL) !== 0;
      const [input, inspected] = yield* c.openInspected(src, O_RDONLY, 0, false, true);
      try {
        const srcStats = inspected ?? (yield* io.fstat(input));
        if (srcStats.isDirectory()) throw new FsError('EISDIR', 'copyfile');
        const perms = srcStats.mode & 0o7777;
        const output = yield* c.open(dest, O_WRONLY | O_CREAT | (exclusive ? O_EXCL : 0), perms, true);
        try {
          const destStats = yield* io.fstat(output);
          // Copying a file onto itself must not truncate it first.
          if (destStats.dev === srcStats.dev && destStats.ino === srcStats.ino) return;
          yield* io.ftruncate(output, 0);
          const buffer = Buffer.allocUnsafe(COPY_CHUNK);
          for (let position = 0; ; ) {
            const bytesRead = yield* io.read(input, buffer, 0, COPY_CHUNK, position);
            if (bytesRead === 0) break;
            yield* writeAll(output, buffer.subarray(0, bytesRead), position);
            position += bytesRead;
          }
          yield* io.fchmod(output, perms);
        } finally {
          yield* io.close(output);
        }
      } finally {
        yield* io.release(input);
      }
    },
  };
}

function noop(): void {}

/**
 * The path a watch event names. Node's recursive watcher gives names as UTF-8 strings only (no Buffer
 * encoding), so a name that lost bytes (a U+FFFD in it) is reported by the directory above it: that
 * invalidates everything below, the real name included, where its lossy text would name another file.
 */
function watchedPath(name: string): string {
  const lost = name.indexOf('\uFFFD');
  return normalizeText('/' + (lost < 0 ? name : name.slice(0, Math.max(0, name.lastIndexOf('/', lost)))));
}

/** Fails as a lookup of `disk`'s parent directory would (ENOENT, ENOTDIR), or returns when it is one. */
function* parentFirst(disk: string): Plan<void> {
  const parent = yield* io.lstat(nodePath.dirname(disk));
  if (!parent.isDirectory()) throw new FsError('ENOTDIR', 'resolve');
}

/** The whole content of an open file: its size from `fstat`, then reads until that size or the end. */
function* readAll(fd: number, stats: fs.Stats): Plan<Uint8Array> {
  if (stats.isDirectory()) throw new FsError('EISDIR', 'read');
  if (stats.isFile() && stats.size > 0) {
    const into = Buffer.allocUnsafe(stats.size);
    let filled = 0;
    while (filled < into.length) {
      const n = yield* io.read(fd, into, filled, into.length - filled, filled);
      if (n === 0) break;
      filled += n;
    }
    return filled === into.length ? into : into.subarray(0, filled);
  }
  // Sizes that stat does not know (procfs, devices, an empty file that may grow): read to the end.
  const chunks: Buffer[] = [];
  let position = 0;
  for (;;) {
    const chunk = Buffer.allocUnsafe(COPY_CHUNK);
    const n = yield* io.read(fd, chunk, 0, COPY_CHUNK, position);
    if (n === 0) break;
    chunks.push(chunk.subarray(0, n));
    position += n;
  }
  return Buffer.concat(chunks);
}

function* writeAll(fd: number, data: Uint8Array, position: number): Plan<void> {
  for (let written = 0; written < data.byteLength; ) {
    written += yield* io.write(fd, data, written, data.byteLength - written, position + written);
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
