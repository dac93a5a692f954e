import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import type { BackendDirent, BackendStatFs, BackendStats } from './backend.js';
import { toBackendStats } from './backend.js';
import { FsError, InvalidArgError } from '../errors.js';
import { parentOf } from '../paths.js';
import type { Confinement } from './node-confine.js';
import { io, type Plan } from './plan.js';

const { O_RDONLY, O_RDWR, O_WRONLY, O_CREAT, O_EXCL, COPYFILE_EXCL } = fs.constants;

const COPY_CHUNK = 64 * 1024;

/** Each call of the disk backend, written once for both faces. */
export function diskPlans(c: Confinement) {
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

/** Fails as a lookup of `disk`'s parent directory would (ENOENT, ENOTDIR), or returns when it is one. */
function* parentFirst(disk: string): Plan<void> {
  const parent = yield* io.lstat(nodePath.dirname(disk));
  if (!parent.isDirectory()) throw new FsError('ENOTDIR', 'resolve');
}

/** The whole content of an open file: its size from `fstat`, then reads until that size or the end. */
export function* readAll(fd: number, stats: fs.Stats): Plan<Uint8Array> {
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
