import * as fs from 'node:fs';
import type { BackendFile, BackendFileSync, BackendStats } from './backend.js';
import { toBackendStats } from './backend.js';
import { FsError, hasCode } from '../errors.js';

/** Re-raises a failed call's error with the virtual paths of the call, so that no disk path escapes. */
export function virtualError(err: unknown, syscall: string, path: string, dest?: string): unknown {
  if (hasCode(err) && /^E[A-Z0-9]+$/.test(err.code)) return new FsError(err.code, syscall, path, dest);
  return err;
}

/**
 * Filesystems whose `fstat` of an open descriptor reads the in-memory inode and whose `close` of a
 * read-only descriptor of a linked file does no I/O: ext2/3/4, XFS, Btrfs, tmpfs, ramfs, overlayfs,
 * F2FS, ZFS, bcachefs. A network or FUSE filesystem may ask its server on either, so it is not here.
 */
const LOCAL_DISK_TYPES = new Set([0xef53, 0x58465342, 0x9123683e, 0x01021994, 0x858458f6, 0x794c7630, 0xf2f52010, 0x2fc12fc1, 0xca451a4e]);

/**
 * Whether a `nodeBackend`'s descriptor calls (`fstat`, the close of a read-only descriptor) may run on
 * the calling thread: made only for a root on a local disk ({@link LOCAL_DISK_TYPES}), shared by all the
 * backend's files. A descriptor found on another device (a filesystem mounted below the root, which may
 * be a network one) turns it off for good, so such a mount costs at most one inline `fstat`.
 */
export class InlineDescriptors {
  #foreign = false;
  private constructor(readonly device: number) {}

  /** For a root on a local disk filesystem; undefined elsewhere (every descriptor call in the pool). */
  static for(root: string | Buffer): InlineDescriptors | undefined {
    try {
      return LOCAL_DISK_TYPES.has(fs.statfsSync(root).type) ? new InlineDescriptors(fs.statSync(root).dev) : undefined;
    } catch {
      return undefined;
    }
  }

  /** No descriptor was found on another device yet. */
  get active(): boolean {
    return !this.#foreign;
  }

  /** Takes note of an fstat made inline; true when its file is on the root's filesystem. */
  accept(stats: fs.Stats): boolean {
    if (stats.dev !== this.device) this.#foreign = true;
    return !this.#foreign;
  }

  /** Whether a read-only descriptor with these (accepted) stats may be closed inline: its close frees nothing. */
  closesInline(stats: fs.Stats): boolean {
    return !this.#foreign && stats.dev === this.device && stats.nlink > 0;
  }
}

/**
 * Closes a read-only descriptor without waiting: inline when `inline` says its close frees nothing
 * ({@link InlineDescriptors.closesInline}), in the pool otherwise.
 */
export function releaseReadOnly(fd: number, stats: fs.Stats, inline: InlineDescriptors | undefined): void {
  if (inline !== undefined && inline.closesInline(stats)) {
    try {
      fs.closeSync(fd);
    } catch {
      // Nothing to report for a read-only descriptor, as with the pool's close.
    }
  } else {
    fs.close(fd, noop);
  }
}

function noop(): void {}

/**
 * One descriptor of {@link Backend.open} on the disk; errors name the virtual path it was opened at.
 *
 * On a local disk ({@link InlineDescriptors}) `stat` and the close of a read-only descriptor run on the
 * calling thread: each is a syscall of a microsecond or two that touches no disk, where a thread-pool
 * round trip costs several times that in queueing and wake-ups, and a cold read is open, fstat, read,
 * close (`npm run bench -- cold`). Everything that may wait on the disk (open, read, write) stays in the
 * pool, as does the close of a descriptor that was written, of a file unlinked meanwhile (its last close
 * frees its blocks) or of one on another filesystem mounted below the root.
 */
export class NodeFile implements BackendFile {
  // TypeScript-private rather than #private: a wrapper made with Object.create(file) (a fault-injecting
  // or counting one) calls these methods with itself as `this`, which #private fields refuse.
  private closed = false;
  /**
   * Calls in flight. `close` waits for them, as Node's FileHandle does: a read still running when the
   * descriptor closed could land on the same number reused by the next open, and read another file.
   */
  private inFlight = 0;
  private drained: (() => void) | undefined;
  /** The last fstat found a linked file on the root's device, so a read-only close frees nothing. */
  private closesInline = false;
  private readonly fd: number;
  private readonly path: string;
  private readonly readOnly: boolean;
  private readonly inline: InlineDescriptors | undefined;
  constructor(fd: number, path: string, readonly realPath?: string, readOnly = false, inline?: InlineDescriptors) {
    this.fd = fd;
    this.path = path;
    this.readOnly = readOnly;
    this.inline = inline;
  }

  private call<T>(syscall: string, start: (done: (err: NodeJS.ErrnoException | null, value?: T) => void) => void): Promise<T> {
    if (this.closed) return Promise.reject(new FsError('EBADF', syscall, this.path));
    this.inFlight++;
    return new Promise<T>((resolve, reject) =>
      start((err, value) => {
        if (--this.inFlight === 0) this.drained?.();
        if (err) reject(virtualError(err, syscall, this.path));
        else resolve(value as T);
      }),
    );
  }

  read(into: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return this.call('read', (done) => fs.read(this.fd, into, offset, length, position, done));
  }
  write(data: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    this.closesInline = false;
    return this.call('write', (done) => fs.write(this.fd, data, offset, length, position, done));
  }
  async stat(): Promise<BackendStats> {
    const inline = this.inline;
    let stats: fs.Stats;
    if (inline !== undefined && inline.active) {
      if (this.closed) throw new FsError('EBADF', 'fstat', this.path);
      try {
        stats = fs.fstatSync(this.fd);
      } catch (err) {
        throw virtualError(err, 'fstat', this.path);
      }
      this.closesInline = inline.accept(stats) && this.readOnly && inline.closesInline(stats);
    } else {
      stats = await this.call<fs.Stats>('fstat', (done) => fs.fstat(this.fd, done));
      this.closesInline = false;
    }
    return toBackendStats(stats);
  }

  truncate(length: number): Promise<void> {
    this.closesInline = false;
    return this.call('ftruncate', (done) => fs.ftruncate(this.fd, length, done));
  }
  sync(): Promise<void> {
    return this.call('fdatasync', (done) => fs.fdatasync(this.fd, done));
  }
  async close(): Promise<void> {
    if (this.closed) throw new FsError('EBADF', 'close', this.path);
    this.closed = true;
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    if (this.closesInline) {
      try {
        fs.closeSync(this.fd);
      } catch (err) {
        throw virtualError(err, 'close', this.path);
      }
      return;
    }
    await new Promise<void>((resolve, reject) => fs.close(this.fd, (err) => (err ? reject(virtualError(err, 'close', this.path)) : resolve())));
  }
}

/** The synchronous twin of {@link NodeFile}. */
export class NodeFileSync implements BackendFileSync {
  private closed = false;
  constructor(private readonly fd: number, private readonly path: string) {}

  private call<T>(syscall: string, fn: () => T): T {
    if (this.closed) throw new FsError('EBADF', syscall, this.path);
    try {
      return fn();
    } catch (err) {
      throw virtualError(err, syscall, this.path);
    }
  }

  read(into: Uint8Array, offset: number, length: number, position: number): number {
    return this.call('read', () => fs.readSync(this.fd, into, offset, length, position));
  }
  write(data: Uint8Array, offset: number, length: number, position: number): number {
    return this.call('write', () => fs.writeSync(this.fd, data, offset, length, position));
  }
  stat(): BackendStats {
    return toBackendStats(this.call('fstat', () => fs.fstatSync(this.fd)));
  }
  truncate(length: number): void {
    this.call('ftruncate', () => fs.ftruncateSync(this.fd, length));
  }
  sync(): void {
    this.call('fdatasync', () => fs.fdatasyncSync(this.fd));
  }
  close(): void {
    this.call('close', () => fs.closeSync(this.fd));
    this.closed = true;
  }
}
