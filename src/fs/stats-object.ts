import { constants } from 'node:fs';
import type { BackendDirent, BackendStats } from '../backend/backend.js';

const { S_IFMT, S_IFREG, S_IFDIR, S_IFLNK, S_IFBLK, S_IFCHR, S_IFIFO, S_IFSOCK } = constants;

/**
 * What `stat`, `lstat` and `handle.stat()` return: the fields and methods of Node's `fs.Stats`. The
 * `Date` fields are computed on first access, so a metadata-cache hit allocates one small object.
 */
export class FileStats {
  // `declare`: the constructor's stores are the only initialization (no define-as-undefined first).
  declare dev: number; declare ino: number; declare mode: number; declare nlink: number; declare uid: number;
  declare gid: number; declare rdev: number; declare size: number; declare blksize: number; declare blocks: number;
  declare atimeMs: number; declare mtimeMs: number; declare ctimeMs: number; declare birthtimeMs: number;

  constructor(s: BackendStats) {
    this.dev = s.dev; this.ino = s.ino; this.mode = s.mode; this.nlink = s.nlink;
    this.uid = s.uid; this.gid = s.gid; this.rdev = s.rdev; this.size = s.size;
    this.blksize = s.blksize; this.blocks = s.blocks;
    this.atimeMs = s.atimeMs; this.mtimeMs = s.mtimeMs; this.ctimeMs = s.ctimeMs; this.birthtimeMs = s.birthtimeMs;
  }

  // Node rounds the fractional milliseconds to the nearest (its `dateFromMs`); `new Date` alone drops
  // them, and programs that key on `+stat.mtime` (webpack's snapshots) then see a file as changed.
  get atime(): Date { return new Date(Math.round(this.atimeMs)); }
  get mtime(): Date { return new Date(Math.round(this.mtimeMs)); }
  get ctime(): Date { return new Date(Math.round(this.ctimeMs)); }
  get birthtime(): Date { return new Date(Math.round(this.birthtimeMs)); }

  isFile(): boolean { return (this.mode & S_IFMT) === S_IFREG; }
  isDirectory(): boolean { return (this.mode & S_IFMT) === S_IFDIR; }
  isSymbolicLink(): boolean { return (this.mode & S_IFMT) === S_IFLNK; }
  isBlockDevice(): boolean { return (this.mode & S_IFMT) === S_IFBLK; }
  isCharacterDevice(): boolean { return (this.mode & S_IFMT) === S_IFCHR; }
  isFIFO(): boolean { return (this.mode & S_IFMT) === S_IFIFO; }
  isSocket(): boolean { return (this.mode & S_IFMT) === S_IFSOCK; }
}

/** The stats object of a backend answer, for `.then(fileStatsOf)` (a function, not a closure per call). */
export function fileStatsOf(stats: BackendStats): FileStats {
  return new FileStats(stats);
}

/** What `readdir(path, { withFileTypes: true })` returns: the shape of Node's `fs.Dirent`. */
export class DirEntry {
  readonly name: string;
  /** The directory that holds this entry (Node 20.12+ `parentPath`). */
  readonly parentPath: string;
  /** Deprecated alias of `parentPath`, kept because Node still offers it. */
  readonly path: string;
  private readonly type: BackendDirent['type'];

  constructor(name: string, type: BackendDirent['type'], parentPath: string) {
    this.name = name;
    this.type = type;
    this.parentPath = parentPath;
    this.path = parentPath;
  }

  isFile(): boolean { return this.type === 'file'; }
  isDirectory(): boolean { return this.type === 'directory'; }
  isSymbolicLink(): boolean { return this.type === 'symlink'; }
  isBlockDevice(): boolean { return false; }
  isCharacterDevice(): boolean { return false; }
  isFIFO(): boolean { return false; }
  isSocket(): boolean { return false; }
}

/** Whole nanoseconds from a backend's millisecond time (the backend keeps no finer grain than a double). */
function nanoseconds(ms: number): bigint {
  const whole = Math.floor(ms);
  return BigInt(whole) * 1_000_000n + BigInt(Math.min(999_999, Math.round((ms - whole) * 1e6)));
}

/**
 * What `stat(p, { bigint: true })` returns: the fields and methods of Node's `fs.BigIntStats`. The
 * nanosecond fields carry what the backend reports, which for a disk is the double Node's own numeric
 * stats hold: exact to the millisecond, close below it.
 */
export class BigIntFileStats {
  dev: bigint; ino: bigint; mode: bigint; nlink: bigint; uid: bigint; gid: bigint; rdev: bigint;
  size: bigint; blksize: bigint; blocks: bigint;
  atimeMs: bigint; mtimeMs: bigint; ctimeMs: bigint; birthtimeMs: bigint;
  atimeNs: bigint; mtimeNs: bigint; ctimeNs: bigint; birthtimeNs: bigint;

  constructor(s: BackendStats) {
    this.dev = BigInt(s.dev); this.ino = BigInt(s.ino); this.mode = BigInt(s.mode); this.nlink = BigInt(s.nlink);
    this.uid = BigInt(s.uid); this.gid = BigInt(s.gid); this.rdev = BigInt(s.rdev); this.size = BigInt(s.size);
    this.blksize = BigInt(s.blksize); this.blocks = BigInt(s.blocks);
    this.atimeNs = nanoseconds(s.atimeMs); this.mtimeNs = nanoseconds(s.mtimeMs);
    this.ctimeNs = nanoseconds(s.ctimeMs); this.birthtimeNs = nanoseconds(s.birthtimeMs);
    this.atimeMs = this.atimeNs / 1_000_000n; this.mtimeMs = this.mtimeNs / 1_000_000n;
    this.ctimeMs = this.ctimeNs / 1_000_000n; this.birthtimeMs = this.birthtimeNs / 1_000_000n;
  }

  get atime(): Date { return new Date(Number(this.atimeMs)); }
  get mtime(): Date { return new Date(Number(this.mtimeMs)); }
  get ctime(): Date { return new Date(Number(this.ctimeMs)); }
  get birthtime(): Date { return new Date(Number(this.birthtimeMs)); }

  isFile(): boolean { return (Number(this.mode) & S_IFMT) === S_IFREG; }
  isDirectory(): boolean { return (Number(this.mode) & S_IFMT) === S_IFDIR; }
  isSymbolicLink(): boolean { return (Number(this.mode) & S_IFMT) === S_IFLNK; }
  isBlockDevice(): boolean { return (Number(this.mode) & S_IFMT) === S_IFBLK; }
  isCharacterDevice(): boolean { return (Number(this.mode) & S_IFMT) === S_IFCHR; }
  isFIFO(): boolean { return (Number(this.mode) & S_IFMT) === S_IFIFO; }
  isSocket(): boolean { return (Number(this.mode) & S_IFMT) === S_IFSOCK; }
}

/** The options of `stat` and `lstat`: `bigint` asks for {@link BigIntFileStats}. */
export interface StatOptions {
  bigint?: boolean;
}

/** The R, W, X bits (`fs.constants.R_OK | W_OK | X_OK`) this process has on a file with stats `st`. */
export function accessBits(st: BackendStats): number {
  const uid = process.getuid?.() ?? -1;
  const gid = process.getgid?.() ?? -1;
  // root may read and write anything; executing needs some x bit, as for the kernel.
  if (uid === 0) return constants.R_OK | constants.W_OK | ((st.mode & 0o111) !== 0 ? constants.X_OK : 0);
  if (st.uid === uid) return (st.mode >> 6) & 7;
  if (st.gid === gid) return (st.mode >> 3) & 7;
  return st.mode & 7;
}
