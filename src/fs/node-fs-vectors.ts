import { asCallError, hasCode, InvalidArgTypeError } from '../errors.js';
import { checkCallback, type NodeFsContext } from './node-fs-context.js';
import type { Descriptor, DescriptorForms } from './node-fs-descriptors.js';
import type { SyncForms } from './node-fs-sync.js';

type Callback = (...args: unknown[]) => void;

const checkViews = (buffers: unknown): NodeJS.ArrayBufferView[] => {
  if (!Array.isArray(buffers) || !buffers.every((b) => ArrayBuffer.isView(b))) {
    throw new InvalidArgTypeError('buffers', 'an instance of ArrayBufferView[]', buffers);
  }
  return buffers as NodeJS.ArrayBufferView[];
};

/**
 * The descriptor calls built on the others: `readv`/`writev` (one read or write per buffer, in order,
 * stopping at a short read as the kernel's does), and `fchmod`, `fchown`, `futimes`, `fdatasync`, which
 * act on the descriptor's path (a cached file has no other identity). write-file-atomic, graceful-fs
 * and archive writers call these; a program that found them missing failed with a TypeError.
 */
export function vectorForms(ctx: NodeFsContext, fds: DescriptorForms, sync: SyncForms) {
  const pathOf = (d: Readonly<Descriptor>): string => ctx.view.viewOf(d.key) ?? d.key;

  /** The descriptor for a callback form: an argument error throws, EBADF goes to `cb`. */
  const openOrPass = (fd: unknown, syscall: string, cb: Callback): Readonly<Descriptor> | undefined => {
    try {
      return fds.descriptorOf(fd, syscall);
    } catch (err) {
      if (!hasCode(err) || err.code !== 'EBADF') throw err;
      process.nextTick(cb, err);
      return undefined;
    }
  };

  /** `name(fd, …args, cb)` over a cache call on the descriptor's path, its errors without a path. */
  const onPath = (syscall: string, call: (path: string, ...args: unknown[]) => Promise<unknown>) =>
    (fd: number, ...rest: unknown[]): void => {
      const cb = rest.pop();
      checkCallback(cb);
      const d = openOrPass(fd, syscall, cb);
      if (d === undefined) return;
      let work: Promise<unknown>;
      try {
        work = call(pathOf(d), ...rest);
      } catch (err) {
        work = Promise.reject(err);
      }
      work.then(() => process.nextTick(cb, null), (err) => process.nextTick(cb, asCallError(err, syscall)));
    };

  const unnamed = (syscall: string, work: () => void): void => {
    try {
      work();
    } catch (err) {
      throw asCallError(err, syscall);
    }
  };

  /** Runs `step` on each buffer in turn through the callback form, advancing an explicit position. */
  function chain(step: 'read' | 'write', fd: number, buffers: unknown, position: unknown, cb: unknown): void {
    checkCallback(cb);
    const views = checkViews(buffers);
    if (openOrPass(fd, step === 'read' ? 'read' : 'write', cb) === undefined) return;
    let at = typeof position === 'number' && position >= 0 ? position : null;
    let total = 0;
    const next = (i: number): void => {
      if (i === views.length) return cb(null, total, buffers);
      const view = views[i]!;
      const bytes = Buffer.from(view.buffer, view.byteOffset, view.byteLength);
      (fds[step] as (...args: unknown[]) => void)(fd, bytes, 0, bytes.length, at, (err: unknown, n: number) => {
        if (err) return cb(err);
        total += n;
        if (at !== null) at += n;
        if (n < bytes.length) return cb(null, total, buffers);
        next(i + 1);
      });
    };
    next(0);
  }

  function chainSync(step: 'readSync' | 'writeSync', fd: number, buffers: unknown, position?: unknown): number {
    const views = checkViews(buffers);
    let at = typeof position === 'number' && position >= 0 ? position : null;
    let total = 0;
    for (const view of views) {
      const n = (fds[step] as (...args: unknown[]) => number)(fd, view, 0, view.byteLength, at);
      total += n;
      if (at !== null) at += n;
      if (n < view.byteLength) break;
    }
    return total;
  }

  return {
    readv(fd: number, buffers: unknown, position?: unknown, cb?: unknown): void {
      if (typeof position === 'function') [cb, position] = [position, null];
      chain('read', fd, buffers, position, cb);
    },
    writev(fd: number, buffers: unknown, position?: unknown, cb?: unknown): void {
      if (typeof position === 'function') [cb, position] = [position, null];
      chain('write', fd, buffers, position, cb);
    },
    readvSync: (fd: number, buffers: unknown, position?: unknown): number => chainSync('readSync', fd, buffers, position),
    writevSync: (fd: number, buffers: unknown, position?: unknown): number => chainSync('writeSync', fd, buffers, position),
    fchmod: onPath('fchmod', (p, mode) => ctx.cache.chmod(p, mode as number)),
    fchown: onPath('fchown', (p, uid, gid) => ctx.cache.chown(p, uid as number, gid as number)),
    futimes: onPath('futime', (p, atime, mtime) => ctx.cache.utimes(p, atime as number, mtime as number)),
    fchmodSync(fd: number, mode: number | string): void {
      const d = fds.descriptorOf(fd, 'fchmod');
      unnamed('fchmod', () => sync.chmodSync(pathOf(d), mode));
    },
    fchownSync(fd: number, uid: number, gid: number): void {
      const d = fds.descriptorOf(fd, 'fchown');
      unnamed('fchown', () => sync.chownSync(pathOf(d), uid, gid));
    },
    futimesSync(fd: number, atime: number | string | Date, mtime: number | string | Date): void {
      const d = fds.descriptorOf(fd, 'futime');
      unnamed('futime', () => sync.utimesSync(pathOf(d), atime, mtime));
    },
    fdatasync(fd: number, cb: unknown): void {
      checkCallback(cb);
      const d = openOrPass(fd, 'fdatasync', cb);
      if (d === undefined) return;
      const work = d.handle === undefined ? Promise.resolve() : d.handle.datasync();
      work.then(() => process.nextTick(cb, null), (err) => process.nextTick(cb, asCallError(err, 'fdatasync')));
    },
  };
}
