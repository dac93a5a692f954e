import { asCallError, fsError, InvalidArgTypeError, OutOfRangeError } from '../errors.js';
import type { PathLike } from '../paths.js';
import type { CacheFileHandle } from './file-handle.js';
import { parseOpenFlags, type OpenMode } from './flags.js';
import { checkCallback, directoryNamed, pathArg, type NodeFsContext } from './node-fs-context.js';
import type { SyncForms } from './node-fs-sync.js';
import { BigIntFileStats, FileStats } from './stats-object.js';

/** How many descriptors one drop-in hands out before `open` fails with EMFILE (as a process limit would). */
export const MAX_DESCRIPTORS = 4096;
/** Descriptors start above the process's own (0-2 and what Node itself holds) so that a mix-up shows. */
const FIRST_DESCRIPTOR = 1000;

export interface Descriptor {
  key: string;
  shown: string;
  mode: OpenMode;
  /** The file position for calls given no position. */
  position: number;
  /** The cache's handle, for descriptors the async forms opened (or first used). */
  handle: CacheFileHandle | undefined;
}

type Callback = (...args: unknown[]) => void;

/**
 * Numeric descriptors over the cache: the async forms use a {@link CacheFileHandle}; the sync forms use
 * the sync port with the descriptor's path. A descriptor is valid until `close`, then EBADF.
 */
export function descriptorForms(ctx: NodeFsContext, sync: SyncForms) {
  const table = new Map<number, Descriptor>();
  const free: number[] = [];
  let next = FIRST_DESCRIPTOR;

  const allocate = (d: Descriptor, syscall: string): number => {
    if (table.size >= MAX_DESCRIPTORS) throw fsError('EMFILE', syscall, d.shown);
    const fd = free.pop() ?? next++;
    table.set(fd, d);
    return fd;
  };
  const checkFd = (fd: unknown): number => {
    if (typeof fd !== 'number') throw new InvalidArgTypeError('fd', 'of type number', fd);
    if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) throw new OutOfRangeError('fd', '>= 0 && <= 2147483647', fd);
    return fd;
  };
  const lookup = (fd: number, syscall: string): Descriptor => {
    const d = table.get(fd);
    if (d === undefined) throw fsError('EBADF', syscall);
    return d;
  };
  const release = (fd: number): Descriptor => {
    const d = lookup(checkFd(fd), 'close');
    table.delete(fd);
    free.push(fd);
    return d;
  };
  const handleOf = async (d: Descriptor): Promise<CacheFileHandle> => {
    d.handle ??= await ctx.cache.open(ctx.view.viewOf(d.key) ?? d.key, d.mode.writable ? 'r+' : 'r');
    return d.handle;
  };
  const bufferArgs = (buffer: unknown, offsetOrOptions: unknown, length: unknown, position: unknown) => {
    if (!ArrayBuffer.isView(buffer)) throw new InvalidArgTypeError('buffer', 'an instance of Buffer, TypedArray, or DataView', buffer);
    const bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    let offset = offsetOrOptions;
    if (typeof offsetOrOptions === 'object' && offsetOrOptions !== null) {
      ({ offset, length, position } = offsetOrOptions as { offset?: number; length?: number; position?: number | null });
    }
    const off = (offset as number | undefined) ?? 0;
    const len = (length as number | undefined) ?? bytes.length - off;
    if (!Number.isInteger(off) || off < 0 || off > bytes.length) throw new OutOfRangeError('offset', `>= 0 && <= ${bytes.length}`, off);
    if (!Number.isInteger(len) || len < 0 || off + len > bytes.length) throw new OutOfRangeError('length', `>= 0 && <= ${bytes.length - off}`, len);
    const pos = position === null || position === undefined || (typeof position === 'number' && position < 0) ? null : Number(position);
    return { bytes, offset: off, length: len, position: pos };
  };
  const writeArgs = (data: unknown, a: unknown, b: unknown, c: unknown) => {
    if (typeof data === 'string') {
      const bytes = Buffer.from(data, (typeof b === 'string' ? b : 'utf8') as BufferEncoding);
      const position = typeof a === 'number' && a >= 0 ? a : null;
      return { bytes, offset: 0, length: bytes.length, position };
    }
    return bufferArgs(data, a, b, c);
  };
  /** Runs `work` as a promise, so that what it throws (EBADF) goes to the callback. */
  const later = async <T>(work: () => T | Promise<T>): Promise<T> => work();
  /**
   * Calls back with `work`'s values or error. Node names no path in a descriptor call's error (the
   * kernel knows none): `syscall` replaces the path-naming one the cache's handle raised.
   */
  const deliver = (cb: Callback, work: Promise<unknown[]>, syscall?: string): void => {
    work.then((values) => process.nextTick(cb, null, ...values), (err) => process.nextTick(cb, syscall ? asCallError(err, syscall) : err));
  };
  /** Runs a sync descriptor call, its fs errors without a path as Node's are. */
  const unnamed = <T>(syscall: string, work: () => T): T => {
    try {
      return work();
    } catch (err) {
      throw asCallError(err, syscall);
    }
  };
  const statsAs = (st: FileStats, options: unknown): FileStats | BigIntFileStats =>
    (options as { bigint?: unknown } | null | undefined)?.bigint === true ? new BigIntFileStats(st) : st;

  function openSync(path: PathLike, flags?: string | number, mode = 0o666): number {
    const openMode = parseOpenFlags(flags ?? 'r');
    const p = pathArg(ctx, path);
    if (table.size >= MAX_DESCRIPTORS) throw fsError('EMFILE', 'open', p.shown);
    if (openMode.create) {
      sync.createEmpty(p.key, p.shown, openMode.exclusive, openMode.truncate, mode);
    } else {
      const st = new FileStats(directoryNamed(ctx, path, 'open') ?? ctx.port.stat(p.key, true, 'open', p.shown));
      if (st.isDirectory() && openMode.writable) throw fsError('EISDIR', 'open', p.shown);
      if (openMode.truncate) sync.truncateSync(path, 0);
    }
    return allocate({ key: p.key, shown: p.shown, mode: openMode, position: 0, handle: undefined }, 'open');
  }

  function readSync(fd: number, buffer: NodeJS.ArrayBufferView, offset?: unknown, length?: number, position?: number | null): number {
    const d = lookup(checkFd(fd), 'read');
    const a = bufferArgs(buffer, offset, length, position);
    if (!d.mode.readable) throw fsError('EBADF', 'read');
    const at = a.position ?? d.position;
    const n = unnamed('read', () => ctx.port.readAt(d.key, a.bytes, a.offset, a.length, at, d.shown));
    if (a.position === null) d.position += n;
    return n;
  }

  function writeSync(fd: number, data: unknown, a?: unknown, b?: unknown, c?: unknown): number {
    const d = lookup(checkFd(fd), 'write');
    const w = writeArgs(data, a, b, c);
    if (!d.mode.writable) throw fsError('EBADF', 'write');
    const before = sync.currentBytes(d.key) ?? new Uint8Array(0);
    const at = d.mode.append ? before.length : (w.position ?? d.position);
    const end = at + w.length;
    const out = new Uint8Array(Math.max(before.length, end));
    out.set(before);
    out.set(w.bytes.subarray(w.offset, w.offset + w.length), at);
    unnamed('write', () => ctx.port.mutate('write', [d.key], (s) => s.writeFile(d.key, out)));
    if (w.position === null && !d.mode.append) d.position = end;
    return w.length;
  }

  return {
    /** The open descriptor `fd` (checked as Node checks it; EBADF when not open), for the calls built on these. */
    descriptorOf: (fd: unknown, syscall: string): Readonly<Descriptor> => lookup(checkFd(fd), syscall),
    openSync,
    readSync,
    writeSync,
    fstatSync(fd: number, options?: { bigint?: boolean }): FileStats | BigIntFileStats {
      const d = lookup(checkFd(fd), 'fstat');
      return statsAs(new FileStats(unnamed('fstat', () => ctx.port.stat(d.key, true, 'fstat', d.shown))), options);
    },
    ftruncateSync(fd: number, len = 0): void {
      const d = lookup(checkFd(fd), 'ftruncate');
      if (!d.mode.writable) throw fsError('EINVAL', 'ftruncate');
      unnamed('ftruncate', () => sync.truncateSync(d.key, len));
    },
    fsyncSync(fd: number): void {
      lookup(checkFd(fd), 'fsync'); // sync writes reached the backend already
    },
    fdatasyncSync(fd: number): void {
      lookup(checkFd(fd), 'fdatasync');
    },
    closeSync(fd: number): void {
      const d = release(fd);
      d.handle?.close().catch(() => undefined); // its writes went through the handle already
    },

    open(path: PathLike, flags?: unknown, mode?: unknown, cb?: unknown): void {
      if (typeof flags === 'function') [cb, flags, mode] = [flags, 'r', 0o666];
      else if (typeof mode === 'function') [cb, mode] = [mode, 0o666];
      checkCallback(cb);
      const openMode = parseOpenFlags((flags ?? 'r') as string | number);
      const p = pathArg(ctx, path);
      deliver(cb, (async () => {
        if (table.size >= MAX_DESCRIPTORS) throw fsError('EMFILE', 'open', p.shown);
        const handle = await ctx.cache.open(path, (flags ?? 'r') as string | number, (mode as number | undefined) ?? 0o666);
        return [allocate({ key: p.key, shown: p.shown, mode: openMode, position: 0, handle }, 'open')];
      })());
    },
    read(fd: number, buffer: unknown, offset?: unknown, length?: unknown, position?: unknown, cb?: unknown): void {
      const args = [buffer, offset, length, position, cb];
      const callback = args.findLast((x) => typeof x === 'function');
      checkCallback(callback);
      checkFd(fd);
      const given = args.slice(0, args.indexOf(callback));
      // Node's other form, `read(fd, [{ buffer, offset, length, position }], cb)`: a buffer of its own
      // (16 KiB) when none is given, and that buffer handed back.
      if (!ArrayBuffer.isView(given[0])) {
        const { buffer: own = Buffer.alloc(16384), ...rest } = (given[0] ?? {}) as { buffer?: unknown };
        given.splice(0, 2, own, rest);
      }
      const a = bufferArgs(given[0], given[1], given[2], given[3]);
      deliver(callback, (async () => {
        const d = lookup(fd, 'read');
        const handle = await handleOf(d);
        const at = a.position ?? d.position;
        if (a.position === null) d.position += a.length; // claimed before the await, as the kernel would
        const { bytesRead } = await handle.read(a.bytes, a.offset, a.length, at);
        if (a.position === null) d.position -= a.length - bytesRead;
        return [bytesRead, given[0]];
      })(), 'read');
    },
    write(fd: number, data: unknown, a?: unknown, b?: unknown, c?: unknown, cb?: unknown): void {
      const args = [a, b, c, cb];
      const callback = args.findLast((x) => typeof x === 'function');
      checkCallback(callback);
      checkFd(fd);
      const given = args.slice(0, args.indexOf(callback));
      const w = writeArgs(data, given[0], given[1], given[2]);
      deliver(callback, (async () => {
        const d = lookup(fd, 'write');
        const handle = await handleOf(d);
        const at = d.mode.append ? (await handle.stat()).size : (w.position ?? d.position);
        if (w.position === null) d.position = at + w.length;
        const { bytesWritten } = await handle.write(w.bytes, w.offset, w.length, at);
        return [bytesWritten, data];
      })(), 'write');
    },
    fstat(fd: number, options?: unknown, cb?: unknown): void {
      if (typeof options === 'function') cb = options;
      checkCallback(cb);
      checkFd(fd);
      deliver(cb, later(() => handleOf(lookup(fd, 'fstat'))).then(async (h) => [statsAs(await h.stat(), options)]), 'fstat');
    },
    ftruncate(fd: number, len?: unknown, cb?: unknown): void {
      if (typeof len === 'function') [cb, len] = [len, 0];
      checkCallback(cb);
      checkFd(fd);
      deliver(cb, later(() => handleOf(lookup(fd, 'ftruncate'))).then(async (h) => {
        await h.truncate((len as number | undefined) ?? 0);
        return [];
      }), 'ftruncate');
    },
    fsync(fd: number, cb?: unknown): void {
      checkCallback(cb);
      checkFd(fd);
      deliver(cb, later(async () => {
        const d = lookup(fd, 'fsync');
        if (d.handle !== undefined) await d.handle.sync();
        return [];
      }));
    },
    close(fd: number, cb?: unknown): void {
      if (cb === undefined) cb = () => undefined; // Node allows close(fd) without a callback
      checkCallback(cb);
      checkFd(fd);
      deliver(cb, later(async () => {
        const d = release(fd);
        if (d.handle !== undefined) await d.handle.close();
        return [];
      }));
    },
  };
}
export type DescriptorForms = ReturnType<typeof descriptorForms>;
