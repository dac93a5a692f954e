import * as nodePath from 'node:path';
import type {
  Backend, BackendDirent, BackendFile, BackendFileSync, BackendStatFs, BackendSync,
} from './backend.js';
import { toBackendStats } from './backend.js';
import { FsError, hasCode } from '../errors.js';

/** A call of the wrapped object: typed by its shape only, as the object is. */
type Call = (...args: any[]) => any;

/**
 * What {@link fsBackend} needs: an object shaped like `node:fs`, with its `promises` face (the calls
 * of `node:fs/promises`) and, optionally, its `…Sync` calls. Node's own `fs`, `graceful-fs` and a memfs
 * `Volume` (or `createFsFromVolume(vol)`) all fit.
 */
export interface FsLike {
  promises: object;
  [call: string]: unknown;
}

interface DirentLike {
  name: string | Uint8Array;
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}

interface HandleLike {
  read(into: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  write(data: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  stat(): Promise<Parameters<typeof toBackendStats>[0]>;
  truncate(length: number): Promise<void>;
  datasync(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A {@link Backend} over any object shaped like `node:fs` (API.md 1.2 "Other backends"), below `root`:
 * the virtual path `/a/b` is `root/a/b` in that file system. Its answers are the wrapped file system's
 * own (memfs departs from Linux in places; `memoryBackend` does not), with errors re-raised as
 * {@link FsError}s naming the virtual paths. An absolute symbolic link target is a virtual path, as in
 * `nodeBackend`. Unlike `nodeBackend`, it does not confine: a link in the wrapped file system that leads
 * above `root` is followed (use `nodeBackend` for a disk tree that must not be left).
 *
 * The synchronous face (`sync`) is there when the object has `…Sync` calls; `open`, `read` and
 * `write` when it has file handles (`promises.open`), `statfs` when it has `promises.statfs`.
 */
export function fsBackend(fsLike: FsLike, root = '/'): Backend {
  const p = fsLike.promises as Record<string, Call | undefined>;
  const sync = fsLike as Record<string, Call | undefined>;
  const base = nodePath.posix.resolve('/', root);
  const prefix = base === '/' ? '' : base;
  const disk = (path: string): string => (path === '/' ? base : prefix + path);
  const diskTarget = (target: string): string => (target.startsWith('/') ? disk(target) : target);
  const virtual = (path: string, syscall: string, vpath: string): string => {
    if (prefix === '') return path;
    if (path === base) return '/';
    if (path.startsWith(base + '/')) return path.slice(base.length);
    throw new FsError('EACCES', syscall, vpath);
  };
  /** `/` is the backend's root: it cannot be removed, renamed or replaced, as for the other backends. */
  const refuseRoot = (path: string, code: string): string => {
    if (path === '/') throw Object.assign(new Error(code), { code });
    return disk(path);
  };
  const virtualTarget = (target: string): string => {
    if (prefix === '' || !target.startsWith('/')) return target;
    return target === base ? '/' : target.startsWith(base + '/') ? target.slice(base.length) : target;
  };

  const promised = <A extends string[], R>(syscall: string, call: (...args: A) => Promise<R>, twoPaths = false) =>
    async (...args: [...A, ...unknown[]]): Promise<R> => {
      try {
        return await call(...(args as unknown as A));
      } catch (err) {
        throw virtualError(err, syscall, args[0] as string, twoPaths ? (args[1] as string) : undefined);
      }
    };

  const backend: Backend = {
    name: 'fs',
    stat: promised('stat', async (path) => toBackendStats(await p.stat!(disk(path)))),
    lstat: promised('lstat', async (path) => toBackendStats(await p.lstat!(disk(path)))),
    readFile: promised('open', async (path) => toBytes(await p.readFile!(disk(path)))),
    writeFile: (path, data, options) =>
      promised('open', async (at: string) => p.writeFile!(disk(at), data, writeOptions(options)))(path),
    readdir: promised('scandir', async (path) => toDirents(await p.readdir!(disk(path), { withFileTypes: true }))),
    mkdir: (path, options) =>
      promised('mkdir', async (at: string) => {
        await p.mkdir!(disk(at), { recursive: options?.recursive ?? false, mode: options?.mode ?? 0o777 });
      })(path),
    rmdir: promised('rmdir', async (path) => p.rmdir!(refuseRoot(path, 'EBUSY'))),
    unlink: promised('unlink', async (path) => p.unlink!(refuseRoot(path, 'EISDIR'))),
    rename: promised('rename', async (from, to) => p.rename!(refuseRoot(from, 'EBUSY'), refuseRoot(to, 'EBUSY')), true),
    truncate: (path, length) => promised('open', async (at: string) => p.truncate!(disk(at), length))(path),
    chmod: (path, mode) => promised('chmod', async (at: string) => p.chmod!(disk(at), mode))(path),
    utimes: (path, atimeMs, mtimeMs) =>
      promised('utime', async (at: string) => p.utimes!(disk(at), toSeconds(atimeMs), toSeconds(mtimeMs)))(path),
    symlink: promised('symlink', async (target, path) => {
      await p.symlink!(diskTarget(target), refuseRoot(path, 'EEXIST'));
    }, true),
    readlink: promised('readlink', async (path) => virtualTarget(String(await p.readlink!(disk(path))))),
    realpath: promised('realpath', async (path) => virtual(String(await p.realpath!(disk(path))), 'realpath', path)),
    chown: (path, uid, gid) => promised('chown', async (at: string) => p.chown!(disk(at), uid, gid))(path),
    copyFile: (src, dest, mode) =>
      promised('copyfile', async (from: string, to: string) => p.copyFile!(disk(from), disk(to), mode), true)(src, dest),
    link: promised('link', async (existing, path) => p.link!(disk(existing), disk(path)), true),
    lchown: (path, uid, gid) => promised('lchown', async (at: string) => p.lchown!(disk(at), uid, gid))(path),
    lutimes: (path, atimeMs, mtimeMs) =>
      promised('lutime', async (at: string) => p.lutimes!(disk(at), toSeconds(atimeMs), toSeconds(mtimeMs)))(path),
  };
  if (p.lutimes === undefined) delete backend.lutimes;
  if (p.lchown === undefined) delete backend.lchown;
  if (p.link === undefined) delete backend.link;
  if (p.statfs !== undefined) {
    backend.statfs = promised('statfs', async (path) => statFs(await p.statfs!(disk(path))));
  }
  if (p.open !== undefined) {
    const openHandle = async (path: string, flags: string): Promise<HandleLike> => p.open!(disk(path), flags);
    backend.open = (path, flags) =>
      promised('open', async (at: string) => handleFile(await openHandle(at, flags), at))(path);
    backend.read = (path, into, offset, length, position) =>
      promised('read', async (at: string) => {
        const handle = await openHandle(at, 'r');
        try {
          return (await handle.read(into, offset, length, position)).bytesRead;
        } finally {
          await handle.close();
        }
      })(path);
    backend.write = (path, data, position) =>
      promised('write', async (at: string) => {
        const handle = await openHandle(at, 'r+');
        try {
          for (let done = 0; done < data.byteLength; ) {
            done += (await handle.write(data, done, data.byteLength - done, position + done)).bytesWritten;
          }
        } finally {
          await handle.close();
        }
      })(path);
  }
  if (typeof sync.statSync === 'function') {
    Object.assign(backend, { sync: syncFace(sync, disk, refuseRoot, diskTarget, virtual, virtualTarget) });
  }
  return backend;
}

function syncFace(
  s: Record<string, Call | undefined>,
  disk: (path: string) => string,
  refuseRoot: (path: string, code: string) => string,
  diskTarget: (target: string) => string,
  virtual: (path: string, syscall: string, vpath: string) => string,
  virtualTarget: (target: string) => string,
): BackendSync {
  const guarded = <A extends unknown[], R>(syscall: string, call: (...args: A) => R, twoPaths = false) =>
    (...args: A): R => {
      try {
        return call(...args);
      } catch (err) {
        throw virtualError(err, syscall, args[0] as string, twoPaths ? (args[1] as string) : undefined);
      }
    };
  const face: BackendSync = {
    stat: guarded('stat', (path: string) => toBackendStats(s.statSync!(disk(path)))),
    lstat: guarded('lstat', (path: string) => toBackendStats(s.lstatSync!(disk(path)))),
    readFile: guarded('open', (path: string) => toBytes(s.readFileSync!(disk(path)))),
    writeFile: guarded('open', (path: string, data: Uint8Array, options?: { flag?: 'w' | 'wx'; mode?: number }) =>
      s.writeFileSync!(disk(path), data, writeOptions(options)),
    ),
    readdir: guarded('scandir', (path: string) => toDirents(s.readdirSync!(disk(path), { withFileTypes: true }))),
    mkdir: guarded('mkdir', (path: string, options?: { recursive?: boolean; mode?: number }) => {
      s.mkdirSync!(disk(path), { recursive: options?.recursive ?? false, mode: options?.mode ?? 0o777 });
    }),
    rmdir: guarded('rmdir', (path: string) => s.rmdirSync!(refuseRoot(path, 'EBUSY'))),
    unlink: guarded('unlink', (path: string) => s.unlinkSync!(refuseRoot(path, 'EISDIR'))),
    rename: guarded('rename', (from: string, to: string) => s.renameSync!(refuseRoot(from, 'EBUSY'), refuseRoot(to, 'EBUSY')), true),
    truncate: guarded('open', (path: string, length: number) => s.truncateSync!(disk(path), length)),
    chmod: guarded('chmod', (path: string, mode: number) => s.chmodSync!(disk(path), mode)),
    utimes: guarded('utime', (path: string, a: number, m: number) => s.utimesSync!(disk(path), toSeconds(a), toSeconds(m))),
    symlink: guarded('symlink', (target: string, path: string) => {
      s.symlinkSync!(diskTarget(target), refuseRoot(path, 'EEXIST'));
    }, true),
    readlink: guarded('readlink', (path: string) => virtualTarget(String(s.readlinkSync!(disk(path))))),
  };
  const optional: [keyof BackendSync, string, Call, boolean?][] = [
    ['realpath', 'realpathSync', (path: string) => virtual(String(s.realpathSync!(disk(path))), 'realpath', path)],
    ['chown', 'chownSync', (path: string, uid: number, gid: number) => s.chownSync!(disk(path), uid, gid)],
    ['copyFile', 'copyFileSync', (src: string, dest: string, mode?: number) => s.copyFileSync!(disk(src), disk(dest), mode), true],
    ['link', 'linkSync', (existing: string, path: string) => s.linkSync!(disk(existing), disk(path)), true],
    ['lchown', 'lchownSync', (path: string, uid: number, gid: number) => s.lchownSync!(disk(path), uid, gid)],
    ['lutimes', 'lutimesSync', (path: string, a: number, m: number) => s.lutimesSync!(disk(path), toSeconds(a), toSeconds(m))],
    ['statfs', 'statfsSync', (path: string) => statFs(s.statfsSync!(disk(path)))],
  ];
  const syscalls: Record<string, string> = { copyFile: 'copyfile', lutimes: 'lutime' };
  for (const [name, needed, call, twoPaths] of optional) {
    if (typeof s[needed] === 'function') (face as any)[name] = guarded(syscalls[name] ?? name, call, twoPaths);
  }
  if (typeof s.openSync === 'function' && typeof s.readSync === 'function') {
    // Called as methods: a memfs Volume's calls need their `this`.
    const f = s as Record<string, Call>;
    const openSync = (p: string, flags: string): number => f.openSync!(p, flags);
    const readSync = (fd: number, ...rest: unknown[]): number => f.readSync!(fd, ...rest);
    const writeSync = (fd: number, ...rest: unknown[]): number => f.writeSync!(fd, ...rest);
    const closeSync = (fd: number): void => f.closeSync!(fd);
    const fstatSync = (fd: number) => f.fstatSync!(fd);
    const ftruncateSync = (fd: number, length: number): void => f.ftruncateSync!(fd, length);
    const fdatasyncSync = (fd: number): void => f.fdatasyncSync!(fd);
    face.read = guarded('read', (path: string, into: Uint8Array, offset: number, length: number, position: number) => {
      const fd = openSync(disk(path), 'r');
      try {
        return readSync(fd, into, offset, length, position) as number;
      } finally {
        closeSync(fd);
      }
    });
    face.write = guarded('write', (path: string, data: Uint8Array, position: number) => {
      const fd = openSync(disk(path), 'r+');
      try {
        for (let done = 0; done < data.byteLength; ) {
          done += writeSync(fd, data, done, data.byteLength - done, position + done) as number;
        }
      } finally {
        closeSync(fd);
      }
    });
    face.open = guarded('open', (path: string, flags: 'r' | 'r+'): BackendFileSync => {
      const fd = openSync(disk(path), flags) as number;
      let closed = false;
      const on = <A extends unknown[], R>(syscall: string, call: (...args: A) => R) =>
        (...args: A): R => {
          if (closed) throw new FsError('EBADF', syscall, path);
          try {
            return call(...args);
          } catch (err) {
            throw virtualError(err, syscall, path);
          }
        };
      return {
        read: on('read', (into: Uint8Array, offset: number, length: number, position: number) => readSync(fd, into, offset, length, position)),
        write: on('write', (data: Uint8Array, offset: number, length: number, position: number) => writeSync(fd, data, offset, length, position)),
        stat: on('fstat', () => toBackendStats(fstatSync(fd))),
        truncate: on('ftruncate', (length: number) => ftruncateSync(fd, length)),
        sync: on('fdatasync', () => fdatasyncSync(fd)),
        close: on('close', () => {
          closeSync(fd);
          closed = true;
        }),
      };
    });
  }
  return face;
}

/** A {@link BackendFile} over a `FileHandle`-shaped object. */
function handleFile(handle: HandleLike, path: string): BackendFile {
  let closed = false;
  const on = <A extends unknown[], R>(syscall: string, call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      if (closed) throw new FsError('EBADF', syscall, path);
      try {
        return await call(...args);
      } catch (err) {
        throw virtualError(err, syscall, path);
      }
    };
  return {
    read: on('read', async (into: Uint8Array, offset: number, length: number, position: number) =>
      (await handle.read(into, offset, length, position)).bytesRead),
    write: on('write', async (data: Uint8Array, offset: number, length: number, position: number) =>
      (await handle.write(data, offset, length, position)).bytesWritten),
    stat: on('fstat', async () => toBackendStats(await handle.stat())),
    truncate: on('ftruncate', (length: number) => handle.truncate(length)),
    sync: on('fdatasync', () => handle.datasync()),
    close: on('close', async () => {
      closed = true;
      await handle.close();
    }),
  };
}

function writeOptions(options?: { flag?: 'w' | 'wx'; mode?: number }): { flag: string; mode?: number } {
  const flag = options?.flag ?? 'w';
  return options?.mode === undefined ? { flag } : { flag, mode: options.mode };
}

function toBytes(data: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data;
  return Buffer.from(String(data), 'utf8');
}

function toDirents(entries: unknown[]): BackendDirent[] {
  return entries.map((entry): BackendDirent => {
    const e = entry as DirentLike;
    const type = e.isFile() ? 'file' : e.isDirectory() ? 'directory' : e.isSymbolicLink() ? 'symlink' : 'other';
    return { name: typeof e.name === 'string' ? e.name : Buffer.from(e.name).toString('utf8'), type };
  });
}

function statFs(s: Record<string, number | bigint>): BackendStatFs {
  return {
    type: Number(s.type), bsize: Number(s.bsize), blocks: Number(s.blocks), bfree: Number(s.bfree),
    bavail: Number(s.bavail), files: Number(s.files), ffree: Number(s.ffree),
  };
}

/** Re-raises an error of the wrapped file system with the virtual paths of the call. */
function virtualError(err: unknown, syscall: string, path: string, dest?: string): unknown {
  if (err instanceof FsError && err.path === path) return err;
  if (hasCode(err) && /^E[A-Z0-9]+$/.test(err.code)) return new FsError(err.code, syscall, path, dest);
  return err;
}

/**
 * Milliseconds to the seconds `utimes` takes. Node (libuv) truncates to whole microseconds and memfs
 * to whole milliseconds, and `ms / 1000` often lands just below the value meant (…123 ms becomes
 * …122.99990 ms); half a microsecond more makes either truncation land on it.
 */
function toSeconds(ms: number): number {
  return ms >= 0 ? (ms + 0.0005) / 1000 : ms / 1000;
}
