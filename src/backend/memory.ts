import type {
  Backend, BackendDirent, BackendFile, BackendFileSync, BackendStatFs, BackendStats, BackendSync,
} from './backend.js';
import { FsError, InvalidArgError } from '../errors.js';
import { normalizePath, parentOf } from '../paths.js';
import { bytePathLength } from '../util/byte-path.js';
import { Inode, InodeTable, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, type Place } from './memory-table.js';

const COPYFILE_EXCL = 1;
/** st_dev of every memory backend ('mem'), so that dev + ino names a file as on a disk. */
const DEV = 0x6d656d;
const TMPFS_MAGIC = 0x01021994;

/**
 * An in-memory {@link Backend}: our own inode table (paths to inodes holding bytes, mode, times, owner,
 * link count, link target, children) with Linux's semantics, answered synchronously, so a `readFile` or
 * `stat` of a path seen before costs a `Map` lookup and a copy (memfs, which this replaced, costs 10-20x
 * more; docs/backends.md has the figures).
 *
 * `files` seeds the file system: each key is an absolute path, each value the file's content (a string is
 * stored as UTF-8); missing parent directories are created.
 *
 * Linux's answers, as `node:fs` gives them on a real disk: `rename` checks source and destination in the
 * kernel's order (EINVAL for a directory moved into itself, ENOTEMPTY for a target that is an ancestor of
 * the source or a non-empty directory, ENOTDIR/EISDIR for mismatched kinds) and moves a link itself;
 * `unlink` of a directory is EISDIR; reading a directory is EISDIR; symbolic links are followed in the
 * middle of paths (ELOOP past 40); names over 255 bytes and paths of 4096 are ENAMETOOLONG; `link`
 * makes hard links (EPERM for a directory); times are kept in milliseconds as given; new files and
 * directories get the process's umask. Removing or renaming `/` fails with EBUSY. Permission bits are
 * stored but not enforced (as for root).
 *
 * Every optional face is there but `watch`: positional I/O, open files, `link`, `lchown`, `lutimes`,
 * `statfs`, and the synchronous twin `sync`.
 */
export function memoryBackend(files?: Record<string, string | Uint8Array>): Backend {
  const memory = new MemoryFs(readUmask());
  if (files) {
    for (const [key, value] of Object.entries(files)) {
      const path = normalizePath(key);
      memory.mkdir(parentOf(path), { recursive: true });
      memory.writeFile(path, typeof value === 'string' ? Buffer.from(value, 'utf8') : value);
    }
  }
  return asyncFace(memory);
}

/** The memory file system's calls, synchronous; {@link asyncFace} wraps them in promises. */
export class MemoryFs implements BackendSync {
  private readonly table: InodeTable;

  constructor(private readonly umask: number) {
    this.table = new InodeTable(umask);
  }

  stat(path: string): BackendStats {
    return statsOf(this.table.node(path, 'stat'));
  }

  lstat(path: string): BackendStats {
    const place = this.table.lookup(path, false, 'lstat');
    if (place.node === undefined) throw new FsError('ENOENT', 'lstat', path);
    return statsOf(place.node);
  }

  readFile(path: string): Uint8Array {
    const node = this.table.node(path, 'open');
    if (node.isDir) throw new FsError('EISDIR', 'read', path);
    const out = Buffer.allocUnsafe(node.size);
    if (node.size > 0) node.data!.copy(out, 0, 0, node.size);
    return out;
  }

  writeFile(path: string, data: Uint8Array, options?: { flag?: 'w' | 'wx'; mode?: number }): void {
    const exclusive = options?.flag === 'wx';
    const place = this.table.lookup(path, !exclusive, 'open');
    const now = Date.now();
    let node = place.node;
    if (node !== undefined) {
      if (exclusive) throw new FsError('EEXIST', 'open', path);
      if (node.isDir) throw new FsError('EISDIR', 'open', path);
    } else {
      node = this.create(place, S_IFREG | ((options?.mode ?? 0o666) & 0o7777 & ~this.umask), now);
    }
    node.data = Buffer.from(data); // our own copy
    node.size = data.byteLength;
    node.mtimeMs = node.ctimeMs = now;
  }

  readdir(path: string): BackendDirent[] {
    const node = this.table.node(path, 'scandir');
    if (!node.isDir) throw new FsError('ENOTDIR', 'scandir', path);
    const entries: BackendDirent[] = [];
    for (const [name, child] of node.children!) entries.push({ name, type: typeOf(child) });
    return entries;
  }

  mkdir(path: string, options?: { recursive?: boolean; mode?: number }): void {
    const mode = S_IFDIR | ((options?.mode ?? 0o777) & 0o1777 & ~this.umask);
    const now = Date.now();
    if (!options?.recursive) {
      const place = this.table.lookup(path, false, 'mkdir');
      if (place.node !== undefined) throw new FsError('EEXIST', 'mkdir', path);
      this.createDir(place, mode, now);
      return;
    }
    const parts = path.split('/').filter((part) => part !== '' && part !== '.');
    let prefix = '';
    for (let i = 0; i < parts.length; i++) {
      prefix += '/' + parts[i];
      const place = this.table.lookup(prefix, false, 'mkdir', path);
      let node = place.node;
      if (node === undefined) {
        this.createDir(place, mode, now);
        continue;
      }
      // As Node's own `mkdir -p`: through a link to a directory, never through a dangling one (ENOENT).
      if (node.isLink) node = this.table.lookup(prefix, true, 'mkdir', path).node;
      if (node === undefined) throw new FsError('ENOENT', 'mkdir', path);
      if (!node.isDir) throw new FsError(i === parts.length - 1 ? 'EEXIST' : 'ENOTDIR', 'mkdir', path);
    }
  }

  rmdir(path: string): void {
    if (path === '/') throw new FsError('EBUSY', 'rmdir', path);
    const { dir, name, node } = this.table.lookup(path, false, 'rmdir');
    if (node === undefined) throw new FsError('ENOENT', 'rmdir', path);
    if (!node.isDir) throw new FsError('ENOTDIR', 'rmdir', path);
    if (node === this.table.root) throw new FsError('EBUSY', 'rmdir', path);
    if (node.children!.size > 0) throw new FsError('ENOTEMPTY', 'rmdir', path);
    this.table.detach(dir, name, node, Date.now());
  }

  unlink(path: string): void {
    const { dir, name, node } = this.table.lookup(path, false, 'unlink');
    if (node === undefined) throw new FsError('ENOENT', 'unlink', path);
    if (node.isDir) throw new FsError('EISDIR', 'unlink', path);
    this.table.detach(dir, name, node, Date.now());
  }

  rename(from: string, to: string): void {
    const fail = (code: string) => new FsError(code, 'rename', from, to);
    // Both parents first (their errors win), then the source, then the kernel's "trap" checks.
    const src = this.table.lookup(from, false, 'rename', from, to);
    const dst = this.table.lookup(to, false, 'rename', from, to);
    const moving = src.node;
    if (moving === undefined) throw fail('ENOENT');
    if (moving === this.table.root || dst.node === this.table.root) throw fail('EBUSY');
    if (moving.isDir && this.table.contains(moving, dst.dir)) throw fail('EINVAL');
    const replaced = dst.node;
    if (replaced !== undefined && replaced.isDir && this.table.contains(replaced, src.dir)) throw fail('ENOTEMPTY');
    if (replaced === moving) return; // two names of one file (or one name): nothing to do
    if (replaced !== undefined) {
      if (moving.isDir && !replaced.isDir) throw fail('ENOTDIR');
      if (!moving.isDir && replaced.isDir) throw fail('EISDIR');
      if (replaced.isDir && replaced.children!.size > 0) throw fail('ENOTEMPTY');
    }
    const now = Date.now();
    if (replaced !== undefined) this.table.detach(dst.dir, dst.name, replaced, now);
    this.table.move(src.dir, src.name, moving, dst.dir, dst.name, now);
  }

  truncate(path: string, length: number): void {
    const node = this.table.node(path, 'open');
    if (node.isDir) throw new FsError('EISDIR', 'open', path);
    resize(node, Math.max(0, length), Date.now());
  }

  chmod(path: string, mode: number): void {
    const node = this.table.node(path, 'chmod');
    node.mode = (node.mode & S_IFMT) | (mode & 0o7777);
    node.ctimeMs = Date.now();
  }

  chown(path: string, uid: number, gid: number): void {
    setOwner(this.table.node(path, 'chown'), uid, gid);
  }

  lchown(path: string, uid: number, gid: number): void {
    setOwner(this.existing(path, 'lchown'), uid, gid);
  }

  utimes(path: string, atimeMs: number, mtimeMs: number): void {
    setTimes(this.table.node(path, 'utime'), atimeMs, mtimeMs);
  }

  lutimes(path: string, atimeMs: number, mtimeMs: number): void {
    setTimes(this.existing(path, 'lutime'), atimeMs, mtimeMs);
  }

  symlink(target: string, path: string): void {
    const fail = (code: string) => new FsError(code, 'symlink', target, path);
    if (target.includes('\u0000')) {
      throw new InvalidArgError('target', target, 'must be a string, Uint8Array, or URL without null bytes');
    }
    const place = this.table.lookup(path, false, 'symlink', target, path);
    if (place.node !== undefined || path === '/') throw fail('EEXIST');
    if (target === '') throw fail('ENOENT');
    if (bytePathLength(target) >= 4096) throw fail('ENAMETOOLONG');
    const link = this.create(place, S_IFLNK | 0o777, Date.now());
    link.target = target;
    link.size = bytePathLength(target);
  }

  readlink(path: string): string {
    const node = this.existing(path, 'readlink');
    if (!node.isLink) throw new FsError('EINVAL', 'readlink', path);
    return node.target!;
  }

  link(existingPath: string, newPath: string): void {
    const fail = (code: string) => new FsError(code, 'link', existingPath, newPath);
    // link(2) looks the existing file up whole before the new name's directory.
    const from = this.table.lookup(existingPath, false, 'link', existingPath, newPath);
    if (from.node === undefined) throw fail('ENOENT');
    const to = this.table.lookup(newPath, false, 'link', existingPath, newPath);
    if (to.node !== undefined) throw fail('EEXIST');
    if (from.node.isDir) throw fail('EPERM');
    const now = Date.now();
    from.node.nlink++;
    from.node.ctimeMs = now;
    this.table.attach(to.dir, to.name, from.node, now);
  }

  read(path: string, into: Uint8Array, offset: number, length: number, position: number): number {
    return readAt(this.table.node(path, 'read'), into, offset, length, position, path);
  }

  write(path: string, data: Uint8Array, position: number): void {
    const node = this.table.node(path, 'write');
    if (node.isDir) throw new FsError('EISDIR', 'write', path);
    writeAt(node, data, 0, data.byteLength, position, Date.now());
  }

  realpath(path: string): string {
    const { dir, name, node } = this.table.lookup(path, true, 'realpath');
    if (node === undefined) throw new FsError('ENOENT', 'realpath', path);
    if (node === this.table.root) return '/';
    const parent = this.table.pathOf(dir);
    return parent === '/' ? `/${name}` : `${parent}/${name}`;
  }

  copyFile(src: string, dest: string, mode = 0): void {
    const fail = (code: string) => new FsError(code, 'copyfile', src, dest);
    const source = this.table.lookup(src, true, 'copyfile', src, dest).node;
    if (source === undefined) throw fail('ENOENT');
    if (source.isDir) throw fail('EISDIR');
    const place = this.table.lookup(dest, true, 'copyfile', src, dest);
    const now = Date.now();
    let target = place.node;
    if (target !== undefined) {
      if ((mode & COPYFILE_EXCL) !== 0) throw fail('EEXIST');
      if (target.isDir) throw fail('EISDIR');
      if (target === source) return;
    } else {
      target = this.create(place, S_IFREG | (source.mode & 0o7777), now);
    }
    target.data = source.data === null ? null : Buffer.from(source.data.subarray(0, source.size));
    target.size = source.size;
    target.mode = S_IFREG | (source.mode & 0o7777);
    target.mtimeMs = target.ctimeMs = now;
  }

  statfs(path: string): BackendStatFs {
    this.table.node(path, 'statfs');
    const files = this.table.inodes;
    return { type: TMPFS_MAGIC, bsize: 4096, blocks: 0, bfree: 0, bavail: 0, files, ffree: Number.MAX_SAFE_INTEGER - files };
  }

  open(path: string, flags: 'r' | 'r+'): BackendFileSync {
    const node = this.table.node(path, 'open');
    if (flags === 'r+' && node.isDir) throw new FsError('EISDIR', 'open', path);
    return new MemoryFile(node, path, flags === 'r+');
  }

  /** The node at `path` itself (a last link not followed). */
  private existing(path: string, syscall: string): Inode {
    const node = this.table.lookup(path, false, syscall).node;
    if (node === undefined) throw new FsError('ENOENT', syscall, path);
    return node;
  }

  private create(place: Place, mode: number, now: number): Inode {
    const node = this.table.make(mode, now);
    this.table.inodes++;
    this.table.attach(place.dir, place.name, node, now);
    return node;
  }

  private createDir(place: Place, mode: number, now: number): void {
    const node = this.table.make(mode, now);
    node.children = new Map();
    this.table.inodes++;
    this.table.attach(place.dir, place.name, node, now);
  }
}

/** A file held open by the memory backend: it keeps its inode, whatever happens to its names. */
class MemoryFile implements BackendFileSync {
  private closed = false;
  constructor(private readonly node: Inode, private readonly path: string, private readonly writable: boolean) {}

  private check(syscall: string): Inode {
    if (this.closed) throw new FsError('EBADF', syscall, this.path);
    return this.node;
  }
  read(into: Uint8Array, offset: number, length: number, position: number): number {
    return readAt(this.check('read'), into, offset, length, position, this.path);
  }
  write(data: Uint8Array, offset: number, length: number, position: number): number {
    const node = this.check('write');
    if (!this.writable) throw new FsError('EBADF', 'write', this.path);
    writeAt(node, data, offset, length, position, Date.now());
    return length;
  }
  stat(): BackendStats {
    return statsOf(this.check('fstat'));
  }
  truncate(length: number): void {
    const node = this.check('ftruncate');
    if (!this.writable) throw new FsError('EINVAL', 'ftruncate', this.path);
    resize(node, Math.max(0, length), Date.now());
  }
  sync(): void {
    this.check('fdatasync');
  }
  close(): void {
    this.check('close');
    this.closed = true;
  }
}

/** Wraps the synchronous calls in promises; `sync` is the synchronous face itself. */
function asyncFace(memory: MemoryFs): Backend {
  const wrap = <A extends unknown[], R>(fn: (...args: A) => R): ((...args: A) => Promise<R>) => promised(memory, fn);
  const m = MemoryFs.prototype;
  const backend: Backend = {
    name: 'memory',
    // Names are kept as the keys' text, escapes included: bytes that are not UTF-8 stay distinct names.
    byteNames: true,
    stat: wrap(m.stat),
    lstat: wrap(m.lstat),
    readFile: wrap(m.readFile),
    writeFile: wrap(m.writeFile),
    readdir: wrap(m.readdir),
    mkdir: wrap(m.mkdir),
    rmdir: wrap(m.rmdir),
    unlink: wrap(m.unlink),
    rename: wrap(m.rename),
    truncate: wrap(m.truncate),
    chmod: wrap(m.chmod),
    utimes: wrap(m.utimes),
    symlink: wrap(m.symlink),
    readlink: wrap(m.readlink),
    read: wrap(m.read),
    write: wrap(m.write),
    realpath: wrap(m.realpath),
    chown: wrap(m.chown),
    copyFile: wrap(m.copyFile),
    link: wrap(m.link),
    lchown: wrap(m.lchown),
    lutimes: wrap(m.lutimes),
    statfs: wrap(m.statfs),
    open: wrap((path: string, flags: 'r' | 'r+'): BackendFile => promiseFile(memory.open(path, flags))),
    sync: boundFace(memory),
  };
  // Not enumerable: a wrapper made with `{ ...memoryBackend(), readFile() {…} }` must not have its own
  // calls bypassed through the sync face, so it does not inherit the claim.
  Object.defineProperty(backend, 'syncInMemory', { value: true, enumerable: false });
  return backend;
}

/** The sync face as a plain object of bound calls, so that `const { readFile } = backend.sync` works. */
function boundFace(memory: MemoryFs): BackendSync {
  const face: Record<string, unknown> = {};
  for (const name of Object.getOwnPropertyNames(MemoryFs.prototype)) {
    const value = (memory as unknown as Record<string, unknown>)[name];
    if (name !== 'constructor' && typeof value === 'function') face[name] = value.bind(memory);
  }
  return face as unknown as BackendSync;
}

/**
 * `fn` called on `self` with its result (or error) as a promise. Fixed arity rather than rest
 * parameters: every call of a rest wrapper allocated an arguments array, and these are the memory
 * backend's whole async face. No call here takes more than five arguments, none counts them, and an
 * absent one arrives as `undefined` either way.
 */
function promised<A extends unknown[], R>(self: object, fn: (...args: A) => R): (...args: A) => Promise<R> {
  const call = fn as unknown as (this: object, a: unknown, b: unknown, c: unknown, d: unknown, e: unknown) => R;
  const wrapped = (a?: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown): Promise<R> => {
    try {
      return Promise.resolve(call.call(self, a, b, c, d, e));
    } catch (err) {
      return Promise.reject(err);
    }
  };
  return wrapped as unknown as (...args: A) => Promise<R>;
}

/** A {@link BackendFile} answering from a synchronous one. */
function promiseFile(file: BackendFileSync): BackendFile {
  const wrap = <A extends unknown[], R>(fn: ((...args: A) => R) | undefined): ((...args: A) => Promise<R>) => promised(file, fn!);
  return {
    read: wrap(file.read),
    write: file.write && wrap(file.write),
    stat: wrap(file.stat),
    truncate: file.truncate && wrap(file.truncate),
    sync: file.sync && wrap(file.sync),
    close: wrap(file.close),
  };
}

function statsOf(node: Inode): BackendStats {
  const blocks = node.isDir ? 8 : Math.ceil(node.size / 4096) * 8;
  return {
    dev: DEV, ino: node.ino, mode: node.mode, nlink: node.nlink, uid: node.uid, gid: node.gid, rdev: 0,
    size: node.isDir ? 4096 : node.size, blksize: 4096, blocks,
    atimeMs: node.atimeMs, mtimeMs: node.mtimeMs, ctimeMs: node.ctimeMs, birthtimeMs: node.birthtimeMs,
  };
}

function typeOf(node: Inode): BackendDirent['type'] {
  switch (node.mode & S_IFMT) {
    case S_IFREG: return 'file';
    case S_IFDIR: return 'directory';
    case S_IFLNK: return 'symlink';
    default: return 'other';
  }
}

function readAt(node: Inode, into: Uint8Array, offset: number, length: number, position: number, path: string): number {
  if (node.isDir) throw new FsError('EISDIR', 'read', path);
  if (position >= node.size || length <= 0) return 0;
  const n = Math.min(length, node.size - position);
  const data = node.data!;
  // A whole exact-length content is set as it is: a subarray would allocate a view per read.
  into.set(position === 0 && n === data.length ? data : data.subarray(position, position + n), offset);
  return n;
}

function writeAt(node: Inode, data: Uint8Array, offset: number, length: number, position: number, now: number): void {
  const end = position + length;
  // Only a gap before the written range needs zeros: the range itself is overwritten next.
  if (end > node.size) resize(node, end, now, Math.max(node.size, position));
  // A whole source is set as it is: a subarray would allocate a view per write.
  node.data!.set(offset === 0 && length === data.length ? data : data.subarray(offset, offset + length), position);
  node.mtimeMs = node.ctimeMs = now;
}

/**
 * Sets a file's length; room grows by doubling so that appends stay linear, new bytes read as zero
 * (up to `zeroTo`, when the caller writes the rest itself).
 */
function resize(node: Inode, length: number, now: number, zeroTo = length): void {
  const data = node.data;
  if (data === null || length > data.length) {
    const grown = Buffer.alloc(Math.max(length, Math.min(2 * (data?.length ?? 0), length + (1 << 26))));
    if (data !== null) data.copy(grown, 0, 0, node.size);
    node.data = grown;
  } else if (zeroTo > node.size) {
    data.fill(0, node.size, zeroTo);
  }
  node.size = length;
  node.mtimeMs = node.ctimeMs = now;
}

function setOwner(node: Inode, uid: number, gid: number): void {
  if (uid !== -1) node.uid = uid;
  if (gid !== -1) node.gid = gid;
  node.ctimeMs = Date.now();
}

function setTimes(node: Inode, atimeMs: number, mtimeMs: number): void {
  node.atimeMs = atimeMs;
  node.mtimeMs = mtimeMs;
  node.ctimeMs = Date.now();
}

/** The process's umask at creation, applied to new files and directories as the kernel would. */
function readUmask(): number {
  try {
    return process.umask();
  } catch {
    return 0o022;
  }
}
