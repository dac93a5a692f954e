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

  /** Stats of the file or directory at `path`, following symbolic links. */
  stat(path: string): Promise<BackendStats>;
  /** Stats of `path` itself, not following a final symbolic link. */
  lstat(path: string): Promise<BackendStats>;
  /** The whole content of a regular file. */
  readFile(path: string): Promise<Uint8Array>;
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
