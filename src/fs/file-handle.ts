import type { BackendFile, BackendStats } from '../backend/backend.js';
import type { Engine } from '../engine/engine.js';
import type { ReadSource } from '../engine/blocks.js';
import type { OpenFileSource } from '../engine/open-file.js';
import { CacheClosedError, FsError, InvalidArgTypeError, OutOfRangeError, fsError } from '../errors.js';
import { gatherData, isIterableData, toTimeMs, type IterableData } from './arguments.js';
import type { OpenMode } from './flags.js';
import { linesOf, readStreamOf, readvOf, writeStreamOf, writevOf } from './file-handle-more.js';
import type { ReadStreamOptions, WriteStreamOptions } from './handle-streams.js';
import { BigIntFileStats, FileStats } from './stats-object.js';
import { isDirectoryMode, isSpecialMode } from '../util/modes.js';

/** Result of {@link CacheFileHandle.read}, as Node's `FileHandle.read` returns it. */
export interface ReadResult<T extends NodeJS.ArrayBufferView = Buffer> {
  bytesRead: number;
  buffer: T;
}

/** Result of {@link CacheFileHandle.write}, as Node's `FileHandle.write` returns it. */
export interface WriteResult<T = Buffer> {
  bytesWritten: number;
  buffer: T;
}

let nextFd = 1000;

/**
 * A handle on real path `key` made without an `await` where that is possible: the file is cached and
 * fresh, or the backend's sync face is in memory (engine/immediate.ts). Undefined otherwise. For a
 * plain open (no create, no truncate).
 */
export function openedNow(core: Engine, key: string, userPath: string, mode: OpenMode): CacheFileHandle | undefined {
  if (core.residentAndFresh(key)) return new CacheFileHandle(core, key, userPath, mode, false);
  const immediate = core.immediate;
  if (immediate === undefined || !immediate.usable(key)) return undefined;
  const st = immediate.stat(key, 'open', userPath);
  const isDirectory = isDirectoryMode(st.mode);
  if (isDirectory && mode.writable) throw fsError('EISDIR', 'open', userPath);
  return new CacheFileHandle(core, key, userPath, mode, isDirectory, mode.writable ? undefined : st);
}

/** Options object form of `read`, as Node accepts it. */
export interface ReadOptions<T extends NodeJS.ArrayBufferView = Buffer> {
  buffer?: T;
  offset?: number;
  length?: number;
  position?: number | bigint | null;
}

function toBytes(view: NodeJS.ArrayBufferView): Buffer {
  return Buffer.isBuffer(view) ? view : Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

/** The bytes of a view (a read target, write data): a Uint8Array (a Buffer is one) as it is, other views as a Uint8Array over them. */
function bytesOf(view: NodeJS.ArrayBufferView): Uint8Array {
  return view instanceof Uint8Array ? view : new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

const RESOLVED: Promise<void> = Promise.resolve();

function checkInt(name: string, value: number, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new InvalidArgTypeError(name, 'of type number', value);
  if (value < min || value > max) throw new OutOfRangeError(name, `>= ${min} && <= ${max}`, value);
}

/**
 * A file opened through the cache, with the semantics of Node's `FileHandle`: reads and writes at
 * positions or at the handle's own position, flags `r r+ w w+ wx a a+`, `EBADF` after close.
 * Reads are served from the cache (the file is loaded whole on the first miss); writes follow the
 * cache's write mode.
 */
export class CacheFileHandle {
  /** A number unique to this handle (not an OS descriptor: handles do not hold backend resources). */
  readonly fd: number;
  private position = 0;
  private closed = false;
  /**
   * The backend file this handle reads through on a miss (the backend's optional `open` face), opened at
   * the first miss and kept until close: an uncached read costs one backend call, not a path lookup.
   */
  private backendFile: BackendFile | undefined;
  private opening: Promise<void> | undefined;
  /** Where {@link backendFile} is registered in the engine's `openFiles`. */
  private openFilePlace = -1;
  /** What the read path may use of {@link backendFile}; built at the first miss (a hit never needs it). */
  private openFile: (OpenFileSource & { source: ReadSource | undefined }) | undefined;
  /**
   * Reads of {@link backendFile} in flight. Block fills and read-ahead outlive the read that started them;
   * close waits for them and refuses later ones, since a backend may reuse a closed file's number (a
   * descriptor, an SFTP handle) for the next file it opens, and such a read would fetch another file's bytes.
   */
  private reading = 0;
  private readsDone: (() => void) | undefined;

  /** @internal */
  constructor(
    private readonly core: Engine,
    private readonly key: string,
    private readonly userPath: string,
    private readonly mode: OpenMode,
    private readonly isDirectory: boolean,
    /** The stat `open` made, if it made one: the first miss uses it rather than asking again. */
    private openStats?: BackendStats,
  ) {
    this.fd = nextFd++;
    if (openStats !== undefined) this.changesAtOpen = core.counters.writeOps + core.counters.invalidateOps;
  }

  /** The cache's write and invalidate counts at open: once they move, {@link openStats} may be stale. */
  private changesAtOpen = 0;

  /** The stat `open` made, once, while nothing was written or invalidated since; then undefined. */
  private takeOpenStats(): BackendStats | undefined {
    const st = this.openStats;
    this.openStats = undefined;
    const counters = this.core.counters;
    return st !== undefined && counters.writeOps + counters.invalidateOps === this.changesAtOpen ? st : undefined;
  }

  private fileSource(): OpenFileSource & { source: ReadSource | undefined } {
    const core = this.core;
    return (this.openFile ??= {
      source: undefined,
      stats: () => {
        const st = this.takeOpenStats();
        if (st !== undefined) return Promise.resolve(st);
        return core.opts.metadataCache ? undefined : this.backendFile?.stat();
      },
    });
  }

  /** Opens the backend file for reads at the first miss, when the backend can (a failure falls back to paths). */
  private async ensureBackendFile(): Promise<void> {
    const open = this.core.backend.open;
    if (open === undefined || this.isDirectory || this.backendFile !== undefined) return;
    this.opening ??= open.call(this.core.backend, this.key, 'r').then(
      (file) => {
        if (this.closed) {
          file.close().catch(() => undefined);
          return;
        }
        this.backendFile = file;
        this.openFilePlace = this.core.openFiles.add(file);
        this.fileSource().source = (into, offset, length, position) => {
          if (this.backendFile !== file) return Promise.reject(fsError('EBADF', 'read', this.userPath));
          this.reading++;
          return file.read(into, offset, length, position).finally(() => {
            if (--this.reading === 0) this.readsDone?.();
          });
        };
      },
      () => undefined, // not there yet (a write-back creation) or not openable: read by path
    );
    await this.opening;
  }

  /**
   * Reads into `buffer` (or a fresh 16 KiB buffer). `position` null or omitted reads at, and advances,
   * the handle's position. A hit runs without an `await` and allocates nothing but the promise and its
   * result object.
   */
  read<T extends NodeJS.ArrayBufferView = Buffer>(
    bufferOrOptions?: T | ReadOptions<T>,
    offsetOrOptions?: number | ReadOptions<T> | null,
    length?: number | null,
    position?: number | bigint | null,
  ): Promise<ReadResult<T>> {
    try {
      let buffer: T | undefined;
      let offset: number | undefined;
      if (bufferOrOptions !== undefined && bufferOrOptions !== null && !ArrayBuffer.isView(bufferOrOptions)) {
        const o = bufferOrOptions as ReadOptions<T>;
        buffer = o.buffer;
        offset = o.offset;
        length = o.length;
        position = o.position;
      } else {
        buffer = bufferOrOptions as T | undefined;
        if (offsetOrOptions !== null && typeof offsetOrOptions === 'object') {
          offset = offsetOrOptions.offset;
          length = offsetOrOptions.length;
          position = offsetOrOptions.position;
        } else {
          offset = offsetOrOptions ?? undefined;
        }
      }
      buffer ??= Buffer.alloc(16384) as unknown as T;
      const bytes = bytesOf(buffer);
      offset ??= 0;
      length ??= bytes.length - offset;
      checkInt('offset', offset, 0, bytes.length);
      checkInt('length', length, 0, bytes.length - offset);
      this.check('read');
      if (!this.mode.readable) throw fsError('EBADF', 'read', this.userPath);
      // Node answers a zero-length read without a system call, so even a directory yields 0 bytes.
      if (this.isDirectory && length > 0) throw fsError('EISDIR', 'read', this.userPath);
      const explicit = position !== null && position !== undefined && Number(position) >= 0;
      const at = explicit ? Number(position) : this.position;
      let n = length === 0 ? 0 : this.core.readAtHit(this.key, bytes, offset, length, at);
      if (n === -1 && this.core.immediate !== undefined) n = this.readNow(bytes, offset, length, at);
      if (n >= 0) {
        if (!explicit) this.position = at + n;
        return Promise.resolve({ bytesRead: n, buffer });
      }
      return this.readMiss(buffer, bytes, offset, length, at, explicit, n);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * A miss served before `read` returns, through a backend whose sync face is in memory (see
   * engine/immediate.ts); -1 when the asynchronous way must serve it.
   */
  private readNow(bytes: Uint8Array, offset: number, length: number, at: number): number {
    const immediate = this.core.immediate!;
    if (this.isDirectory || !immediate.usable(this.key)) return -1;
    const st = this.takeOpenStats() ?? immediate.stat(this.key, 'read', this.userPath);
    return immediate.loadInto(this.key, st, this.userPath, bytes, offset, length, at);
  }

  /**
   * True when the next miss loads the whole file by path, as the stat made at open says (a regular file
   * small enough for one entry): the backend file would go unused, and opening and closing it would cost
   * two backend calls. Large files, special files and later misses read through it.
   */
  private loadsWhole(): boolean {
    const st = this.openStats;
    if (st === undefined || isSpecialMode(st.mode) || isDirectoryMode(st.mode)) return false;
    const core = this.core;
    return !core.blocks.wants(st.size) && core.store.admissible(st.size);
  }

  private async readMiss<T>(buffer: T, bytes: Uint8Array, offset: number, length: number, at: number, explicit: boolean, state: number): Promise<ReadResult<T & NodeJS.ArrayBufferView>> {
    if (this.opening === undefined && this.core.backend.open !== undefined && !this.loadsWhole()) await this.ensureBackendFile();
    const n = await this.core.readAtMiss(this.key, bytes, offset, length, at, this.userPath, state, this.fileSource());
    if (!explicit) this.position = at + n;
    return { bytesRead: n, buffer: buffer as T & NodeJS.ArrayBufferView };
  }

  /**
   * Writes `data`. For buffers: `(buffer, offset?, length?, position?)`; for strings:
   * `(string, position?, encoding?)`. Position null or omitted writes at (and advances) the handle's
   * position; in append mode every write goes to the end. Not `async`: a write the engine completes at
   * once (an in-memory backend, engine/writer.ts) costs no promise turn.
   */
  write<T extends NodeJS.ArrayBufferView | string>(
    data: T,
    offsetOrPosition?: number | null | { offset?: number; length?: number; position?: number | null },
    lengthOrEncoding?: number | BufferEncoding | null,
    position?: number | null,
  ): Promise<WriteResult<T>> {
    try {
      let bytes: Uint8Array;
      let pos: number | null | undefined;
      if (typeof data === 'string') {
        pos = offsetOrPosition as number | null | undefined;
        bytes = Buffer.from(data, (lengthOrEncoding as BufferEncoding | null | undefined) ?? 'utf8');
      } else if (ArrayBuffer.isView(data)) {
        const all = bytesOf(data);
        let offset = 0;
        let length: number | undefined;
        if (offsetOrPosition !== null && typeof offsetOrPosition === 'object') {
          offset = offsetOrPosition.offset ?? 0;
          length = offsetOrPosition.length;
          pos = offsetOrPosition.position;
        } else {
          offset = offsetOrPosition ?? 0;
          length = (lengthOrEncoding as number | null | undefined) ?? undefined;
          pos = position;
        }
        length ??= all.length - offset;
        checkInt('offset', offset, 0, all.length);
        checkInt('length', length, 0, all.length - offset);
        bytes = offset === 0 && length === all.length ? all : all.subarray(offset, offset + length);
      } else {
        throw new InvalidArgTypeError('buffer', 'of type string or an instance of Buffer, TypedArray, or DataView', data);
      }
      this.check('write');
      if (!this.mode.writable) throw fsError('EBADF', 'write', this.userPath);
      const explicit = typeof pos === 'number' && pos >= 0;
      const at = explicit ? (pos as number) : this.position;
      if (!this.mode.append && (bytes.length === 0 || this.core.writer.writeAtNow(this.key, bytes, at, this.userPath))) {
        if (!explicit) this.position = at + bytes.length;
        return Promise.resolve({ bytesWritten: bytes.length, buffer: data });
      }
      return this.writeLater(data, bytes, explicit, at);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** The rest of {@link write} when the engine could not complete it at once. */
  private async writeLater<T>(data: T, bytes: Uint8Array, explicit: boolean, at: number): Promise<WriteResult<T>> {
    if (this.mode.append) {
      this.position = await this.core.append(this.key, bytes, this.userPath);
    } else {
      await this.core.writeAt(this.key, bytes, at, this.userPath);
      if (!explicit) this.position = at + bytes.length;
    }
    return { bytesWritten: bytes.length, buffer: data };
  }

  /** The rest of the file from the handle's position (the whole file for a fresh handle). */
  async readFile(options?: BufferEncoding | { encoding?: BufferEncoding | null } | null): Promise<Buffer | string> {
    this.check('read');
    if (!this.mode.readable) throw fsError('EBADF', 'read', this.userPath);
    if (this.isDirectory) throw fsError('EISDIR', 'read', this.userPath);
    const whole = await this.core.readWhole(this.key, this.userPath, this.openFile?.source);
    const rest = this.position === 0 ? whole : whole.subarray(Math.min(this.position, whole.length));
    this.position += rest.length;
    const encoding = typeof options === 'string' ? options : options?.encoding;
    return encoding ? rest.toString(encoding) : rest;
  }

  /** Writes all of `data` at the handle's position (at the end in append mode), as Node's does. */
  async writeFile(data: string | NodeJS.ArrayBufferView | IterableData, options?: BufferEncoding | { encoding?: BufferEncoding | null } | null): Promise<void> {
    const encoding = (typeof options === 'string' ? options : options?.encoding) ?? 'utf8';
    if (isIterableData(data)) data = await gatherData(data, encoding); // as Node's: iterables and streams
    const bytes = typeof data === 'string' ? Buffer.from(data, encoding) : toBytes(data);
    await this.write(bytes, 0, bytes.length, null);
  }

  /** Appends `data` (the handle must be writable). */
  async appendFile(data: string | NodeJS.ArrayBufferView, options?: BufferEncoding | { encoding?: BufferEncoding | null } | null): Promise<void> {
    this.check('write');
    if (!this.mode.writable) throw fsError('EBADF', 'write', this.userPath);
    const encoding = (typeof options === 'string' ? options : options?.encoding) ?? 'utf8';
    const bytes = typeof data === 'string' ? Buffer.from(data, encoding) : toBytes(data);
    this.position = await this.core.append(this.key, bytes, this.userPath);
  }

  stat(options?: { bigint?: false } | null): Promise<FileStats>;
  stat(options: { bigint: true }): Promise<BigIntFileStats>;
  async stat(options?: { bigint?: boolean } | null): Promise<FileStats | BigIntFileStats> {
    this.check('fstat');
    const st = new FileStats(await this.core.statOf(this.key, true, 'fstat', this.userPath));
    return options?.bigint === true ? new BigIntFileStats(st) : st;
  }

  /** Reads into each buffer in turn (file-handle-more.ts has it and the others below). */
  readv<T extends NodeJS.ArrayBufferView[]>(buffers: T, position?: number | null): Promise<{ bytesRead: number; buffers: T }> {
    return readvOf(this, buffers, position);
  }

  writev<T extends NodeJS.ArrayBufferView[]>(buffers: T, position?: number | null): Promise<{ bytesWritten: number; buffers: T }> {
    return writevOf(this, buffers, position);
  }

  createReadStream(options?: ReadStreamOptions) {
    return readStreamOf(this, this.userPath, options);
  }

  createWriteStream(options?: WriteStreamOptions) {
    return writeStreamOf(this, this.userPath, options);
  }

  readLines(options?: ReadStreamOptions) {
    return linesOf(this, this.userPath, options);
  }

  async truncate(len = 0): Promise<void> {
    this.check('ftruncate');
    if (!this.mode.writable) throw new FsError('EINVAL', 'ftruncate', this.userPath);
    await this.core.truncate(this.key, Math.max(0, len), this.userPath);
  }

  /** Flushes this file's dirty data to the backend (write-back); a no-op in the other modes. */
  async sync(): Promise<void> {
    this.check('fsync');
    await this.core.write.flushKey(this.key);
  }

  async datasync(): Promise<void> {
    this.check('fdatasync');
    await this.core.write.flushKey(this.key);
  }

  async chmod(mode: number): Promise<void> {
    this.check('fchmod');
    await this.core.chmod(this.key, mode, this.userPath);
  }

  async utimes(atime: number | string | Date, mtime: number | string | Date): Promise<void> {
    this.check('futime');
    await this.core.utimes(this.key, toTimeMs(atime, 'atime'), toTimeMs(mtime, 'mtime'), this.userPath);
  }

  /** Closes the handle, flushing its file's dirty data first when `flushOnClose` is set. Idempotent. */
  close(): Promise<void> {
    if (this.closed) return RESOLVED;
    this.closed = true;
    // A handle that never needed the backend and has no flush to make has nothing to release: no await.
    if (this.backendFile === undefined && this.opening === undefined && !this.flushesOnClose()) return RESOLVED;
    return this.release();
  }

  /** True when close must flush this file: it was writable, `flushOnClose` is set and writes may be owed. */
  private flushesOnClose(): boolean {
    return this.mode.writable && this.core.opts.flushOnClose && this.core.write.defersWrites;
  }

  private async release(): Promise<void> {
    try {
      if (this.flushesOnClose() && !this.core.closed) await this.core.write.flushKey(this.key);
    } finally {
      const file = this.backendFile;
      if (file !== undefined) {
        this.backendFile = undefined;
        if (this.openFile !== undefined) this.openFile.source = undefined;
        this.core.openFiles.remove(this.openFilePlace, file);
        if (this.reading > 0) await new Promise<void>((resolve) => (this.readsDone = resolve));
        await file.close().catch(() => undefined);
      }
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private check(syscall: string): void {
    if (this.closed) throw fsError('EBADF', syscall, this.userPath);
    if (this.core.closed) throw new CacheClosedError(syscall);
  }
}
