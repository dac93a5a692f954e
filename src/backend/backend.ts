/**
 * The file system being cached. Paths handed to a backend are always absolute, normalized POSIX paths
 * (`/a/b`, never `a//b/../c`); what `/` means is the backend's business (`nodeBackend(root)` maps it to
 * `root`). Errors are rejected with Node-style `code`s (`ENOENT`, `EEXIST`, `EISDIR`, `ENOTDIR`,
 * `ENOTEMPTY`, `EACCES`, …); cachefs re-raises them with its own `syscall` and virtual `path`.
 *
 * The required part is small so that a network share or an object store can implement it; the optional
 * methods are capabilities cachefs uses when present (positional I/O, realpath, watching).
 */
export interface Backend {
  /** A short name for diagnostics and metrics labels. */
  readonly name?: string;
  /**
   * The `revalidate` a cache over this backend uses when its options give none: stores whose files
   * change behind the cache with no watcher (SFTP, WebDAV: 5000 ms) say so here. Absent: `'never'`.
   */
  readonly defaultRevalidate?: 'never' | 'always' | number;
  /**
   * True when the backend names files by bytes, as Linux does: a path may then carry bytes that are not
   * UTF-8 (a Buffer path such as `/\xff`), each escaped in the path string as the lone surrogate
   * U+DC00 + byte (`decodeBytePath`/`encodeBytePath`), and the backend must turn it back into those bytes
   * (and list such names the same way). Without it, a path with such bytes fails with `EINVAL` before it
   * reaches the backend, rather than being aliased to another name.
   */
  readonly byteNames?: boolean;

  /** Stats of the file or directory at `path`, following symbolic links. */
  stat(path: string): Promise<BackendStats>;
  /** Stats of `path` itself, not following a final symbolic link. */
  lstat(path: string): Promise<BackendStats>;
  /** The whole content of a regular file. */
  readFile(path: string): Promise<Uint8Array>;
  /**
   * {@link readFile} with stats that describe the bytes returned, at the cost of `readFile` alone: the
   * same HTTP response's headers (ETag, Last-Modified), or an `lstat` that the server answered before
   * the read began. Without it, a cache that revalidates asks `stat` before every load, one round trip
   * more per cold file over a network store. `stats` is absent when the answer did not tell (the cache
   * then keeps the bytes without an identity and reloads them at their next revalidation).
   *
   * Define it non-enumerable (as {@link syncInMemory}): a spread wrapper that replaces `readFile` (a
   * fault injector, a counter) must not be bypassed by a copied method that reads around it.
   */
  readonly readFileWithStats?: (path: string) => Promise<{ data: Uint8Array; stats?: BackendStats }>;
  /**
   * Replaces (or creates) a file with `data`. `flag: 'wx'` fails with `EEXIST` when it exists;
   * `mode` applies when the file is created.
   */
  writeFile(path: string, data: Uint8Array, options?: { flag?: 'w' | 'wx'; mode?: number }): Promise<void>;
  /** The entries of a directory, in any order. */
  readdir(path: string): Promise<BackendDirent[]>;
  mkdir(path: string, options?: { recursive?: boolean; mode?: number }): Promise<void>;
  rmdir(path: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** Renames as POSIX `rename(2)` does (replacing an existing file, or an empty directory). */
  rename(from: string, to: string): Promise<void>;
  /** Sets a file's length, cutting it or extending it with zero bytes. */
  truncate(path: string, length: number): Promise<void>;
  chmod(path: string, mode: number): Promise<void>;
  /** Sets access and modification times, in milliseconds since the epoch. */
  utimes(path: string, atimeMs: number, mtimeMs: number): Promise<void>;
  symlink(target: string, path: string): Promise<void>;
  readlink(path: string): Promise<string>;

  /**
   * Reads up to `length` bytes at `position` into `into` at `offset`, returning how many were read
   * (0 at end of file). Lets cachefs read a file straight into its own memory.
   */
  read?(path: string, into: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  /** Writes `data` at `position` of an existing file, extending it (with a zero-filled hole) as needed. */
  write?(path: string, data: Uint8Array, position: number): Promise<void>;
  /** The canonical path with every symbolic link resolved. Without it, paths are taken as canonical. */
  realpath?(path: string): Promise<string>;
  chown?(path: string, uid: number, gid: number): Promise<void>;
  copyFile?(src: string, dest: string, mode?: number): Promise<void>;
  /**
   * Subscribes to changes below `/`; `onChange` receives the changed (virtual) path, or `null` when
   * events were lost and everything must be considered changed. `onError` reports a failed watcher.
   */
  watch?(onChange: (path: string | null) => void, onError?: (err: Error) => void): BackendWatcher;
  /** Releases what the backend holds (connections, watchers). */
  close?(): Promise<void>;

  /**
   * Opens a file and keeps it open, so that a handle's reads and writes cost one backend round trip
   * each and the identity for revalidation comes from the open file (`fstat`), not a second path call.
   * `'r'` reads; `'r+'` reads and writes an existing file. Creation and truncation stay with
   * {@link Backend.writeFile} and {@link Backend.truncate}. Fails as `open(2)` would (ENOENT, EISDIR, …).
   */
  open?(path: string, flags: 'r' | 'r+'): Promise<BackendFile>;
  /**
   * True when every file {@link Backend.open} returns carries its {@link BackendFile.realPath}: a cold
   * `readFile` is then one open (the kernel resolves) instead of a `realpath` and a read.
   */
  readonly realPathOnOpen?: boolean;
  /** Creates a hard link `newPath` to `existingPath`. */
  link?(existingPath: string, newPath: string): Promise<void>;
  /** Like {@link Backend.chown} on a symbolic link itself. */
  lchown?(path: string, uid: number, gid: number): Promise<void>;
  /** Like {@link Backend.utimes} on a symbolic link itself. */
  lutimes?(path: string, atimeMs: number, mtimeMs: number): Promise<void>;
  /** File system statistics of the volume holding `path`, as `fs.statfs` reports them. */
  statfs?(path: string): Promise<BackendStatFs>;
  /**
   * The synchronous face: the same calls, answered synchronously. `toNodeFs(cache)`'s `…Sync` forms use
   * it on a miss; a backend without it makes such a miss throw `ERR_CACHEFS_SYNC_UNSUPPORTED`.
   */
  readonly sync?: BackendSync;
  /**
   * True when the {@link sync} face answers from this process's memory and never waits on I/O (as
   * `memoryBackend`'s does): the cache may then serve a miss through it before the call returns. Never
   * set it for a disk or a network store, whose sync calls would stall the event loop, nor on a wrapper
   * whose own calls differ from its sync face's (`memoryBackend` makes it non-enumerable, so that a
   * spread copy does not claim it).
   */
  readonly syncInMemory?: boolean;
}

/** A file held open by {@link Backend.open}. Positions are absolute; there is no file position. */
export interface BackendFile {
  /**
   * The canonical path of the file as it was opened (every symbolic link resolved), when the backend
   * learnt it while opening: the cache then keys a cold read by it without asking `realpath` first.
   */
  readonly realPath?: string;
  /** Reads up to `length` bytes at `position` into `into` at `offset`; 0 at end of file. */
  read(into: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  /** Writes `length` bytes of `data` from `offset` at `position` (opened `'r+'`); returns bytes written. */
  write?(data: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  /** Stats of the open file itself (`fstat`), whatever happened to its path since it was opened. */
  stat(): Promise<BackendStats>;
  truncate?(length: number): Promise<void>;
  /** Makes written data durable (`fdatasync`). */
  sync?(): Promise<void>;
  close(): Promise<void>;
}

/** The synchronous twin of {@link Backend}'s calls, with the same paths, results and error codes. */
export interface BackendSync {
  stat(path: string): BackendStats;
  lstat(path: string): BackendStats;
  readFile(path: string): Uint8Array;
  writeFile(path: string, data: Uint8Array, options?: { flag?: 'w' | 'wx'; mode?: number }): void;
  readdir(path: string): BackendDirent[];
  mkdir(path: string, options?: { recursive?: boolean; mode?: number }): void;
  rmdir(path: string): void;
  unlink(path: string): void;
  rename(from: string, to: string): void;
  truncate(path: string, length: number): void;
  chmod(path: string, mode: number): void;
  utimes(path: string, atimeMs: number, mtimeMs: number): void;
  symlink(target: string, path: string): void;
  readlink(path: string): string;
  read?(path: string, into: Uint8Array, offset: number, length: number, position: number): number;
  write?(path: string, data: Uint8Array, position: number): void;
  realpath?(path: string): string;
  chown?(path: string, uid: number, gid: number): void;
  copyFile?(src: string, dest: string, mode?: number): void;
  link?(existingPath: string, newPath: string): void;
  lchown?(path: string, uid: number, gid: number): void;
  lutimes?(path: string, atimeMs: number, mtimeMs: number): void;
  statfs?(path: string): BackendStatFs;
  /** The synchronous twin of {@link Backend.open}. */
  open?(path: string, flags: 'r' | 'r+'): BackendFileSync;
}

/** The synchronous twin of {@link BackendFile}, from {@link BackendSync.open}. */
export interface BackendFileSync {
  read(into: Uint8Array, offset: number, length: number, position: number): number;
  write?(data: Uint8Array, offset: number, length: number, position: number): number;
  stat(): BackendStats;
  truncate?(length: number): void;
  sync?(): void;
  close(): void;
}

/** What {@link Backend.statfs} reports (the fields of Node's `StatFs`). */
export interface BackendStatFs {
  type: number;
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
}

/** A running subscription of {@link Backend.watch}. */
export interface BackendWatcher {
  close(): void;
}

/** One directory entry as a backend reports it. */
export interface BackendDirent {
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'other';
}

/**
 * The numbers of a `stat` call. `mode` carries the file type bits (`S_IFREG`, `S_IFDIR`, `S_IFLNK`)
 * as POSIX does; backends without some fields (an object store has no inodes) report 0.
 */
export interface BackendStats {
  dev: number;
  ino: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  blksize: number;
  blocks: number;
  atimeMs: number;
  mtimeMs: number;
  ctimeMs: number;
  birthtimeMs: number;
}

/** Copies the numeric fields of a Node `fs.Stats` (or a look-alike, such as memfs's) into a plain record. */
export function toBackendStats(s: {
  dev: number | bigint; ino: number | bigint; mode: number | bigint; nlink: number | bigint;
  uid: number | bigint; gid: number | bigint; rdev: number | bigint; size: number | bigint;
  blksize: number | bigint; blocks: number | bigint;
  atimeMs: number | bigint; mtimeMs: number | bigint; ctimeMs: number | bigint; birthtimeMs: number | bigint;
}): BackendStats {
  return {
    dev: Number(s.dev), ino: Number(s.ino), mode: Number(s.mode), nlink: Number(s.nlink),
    uid: Number(s.uid), gid: Number(s.gid), rdev: Number(s.rdev), size: Number(s.size),
    blksize: Number(s.blksize), blocks: Number(s.blocks),
    atimeMs: Number(s.atimeMs), mtimeMs: Number(s.mtimeMs), ctimeMs: Number(s.ctimeMs),
    birthtimeMs: Number(s.birthtimeMs),
  };
}
