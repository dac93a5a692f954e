import { FsError, InvalidArgError } from '../errors.js';
import { bytePathLength } from '../util/byte-path.js';

export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;

/** Linux's limits: NAME_MAX bytes in a name, PATH_MAX bytes in a path (its NUL included), links per lookup. */
const NAME_MAX = 255;
const PATH_MAX = 4096;
const MAX_LINKS = 40;
/** Past this many remembered lookups the memory is dropped and rebuilt. */
const MAX_REMEMBERED = 65536;

/** A file, directory or symbolic link of the in-memory table; a name in a directory points at one. */
export class Inode {
  nlink: number;
  atimeMs: number;
  mtimeMs: number;
  ctimeMs: number;
  readonly birthtimeMs: number;
  /** File bytes: the first `size` of them are the content (the rest is room to grow). */
  data: Buffer | null = null;
  size = 0;
  children: Map<string, Inode> | null = null;
  target: string | null = null;
  /** A directory's own place: its parent (itself for the root) and its name there. */
  parent: Inode | null = null;
  name = '';

  constructor(
    readonly ino: number,
    public mode: number,
    public uid: number,
    public gid: number,
    now: number,
  ) {
    this.nlink = (mode & S_IFMT) === S_IFDIR ? 2 : 1;
    this.atimeMs = this.mtimeMs = this.ctimeMs = this.birthtimeMs = now;
  }

  get isDir(): boolean {
    return (this.mode & S_IFMT) === S_IFDIR;
  }
  get isLink(): boolean {
    return (this.mode & S_IFMT) === S_IFLNK;
  }
}

/** Where a lookup ended: the directory holding the last name, that name, and what it names (if anything). */
export interface Place {
  dir: Inode;
  name: string;
  node: Inode | undefined;
}

/**
 * The name space of the memory backend: a tree of {@link Inode}s with Linux's lookup rules (symbolic
 * links followed in the middle of a path and optionally at its end, `..` through the real parent, ELOOP
 * past 40 links, ENOTDIR through a file, ENAMETOOLONG for a name over 255 bytes or a path of 4096) and
 * a memory of successful lookups, so that a hit on a path seen before is one `Map` lookup. The memory is
 * dropped whenever a name goes away (unlink, rmdir, rename): adding names never changes where an
 * existing path leads.
 */
export class InodeTable {
  readonly root: Inode;
  private nextIno = 1;
  private readonly remembered = new Map<string, Inode>();
  readonly uid = process.getuid?.() ?? 0;
  readonly gid = process.getgid?.() ?? 0;
  inodes = 1;

  constructor(readonly umask: number) {
    this.root = this.make(S_IFDIR | 0o755, Date.now());
    this.root.children = new Map();
    this.root.parent = this.root;
  }

  make(mode: number, now: number): Inode {
    return new Inode(this.nextIno++, mode, this.uid, this.gid, now);
  }

  /** Forgets remembered lookups: a name went away or moved. */
  forget(): void {
    this.remembered.clear();
  }

  /** The existing node at `path`, a last link followed: the hot path of stat, readFile and read. */
  node(path: string, syscall: string): Inode {
    const known = this.remembered.get(path);
    if (known !== undefined) return known;
    const place = this.lookup(path, true, syscall);
    if (place.node === undefined) throw new FsError('ENOENT', syscall, path);
    if (this.remembered.size >= MAX_REMEMBERED) this.remembered.clear();
    this.remembered.set(path, place.node);
    return place.node;
  }

  /**
   * Resolves `path` to the directory holding its last component and that component's node (undefined
   * when the name is free there). Fails when a directory on the way is missing (ENOENT) or not a
   * directory (ENOTDIR), on a loop (ELOOP), on names and paths that are too long (ENAMETOOLONG).
   * `follow` follows a last symbolic link (a dangling one yields the free place its target names).
   * Errors name `reported` and `dest` (the paths of the call, which may differ from the one looked up).
   */
  lookup(path: string, follow: boolean, syscall: string, reported = path, dest?: string): Place {
    if (path.includes('\u0000')) {
      throw new InvalidArgError('path', path, 'must be a string, Uint8Array, or URL without null bytes');
    }
    if (path.length > NAME_MAX / 4) checkLength(path, syscall, reported, dest);
    let dir = this.root;
    // Components still to visit, the next at the end (a link's target is pushed in front of the rest).
    const pending = path.split('/').reverse();
    let links = 0;
    let name = '';
    let node: Inode | undefined = this.root;
    while (pending.length > 0) {
      const part = pending.pop()!;
      if (part === '' || part === '.') continue;
      if (node === undefined) throw this.error('ENOENT', syscall, reported, dest); // a missing directory in the middle
      if (!node.isDir) throw this.error('ENOTDIR', syscall, reported, dest);
      dir = node;
      if (part === '..') {
        node = dir.parent!;
        name = '';
        continue;
      }
      name = part;
      node = dir.children!.get(part);
      if (node !== undefined && node.isLink && (follow || hasMore(pending))) {
        if (++links > MAX_LINKS) throw this.error('ELOOP', syscall, reported, dest);
        const target = node.target!;
        if (target.startsWith('/')) {
          dir = this.root;
          node = this.root;
          name = '';
        } else {
          node = dir;
          name = '';
        }
        const parts = target.split('/');
        for (let i = parts.length - 1; i >= 0; i--) pending.push(parts[i]!);
      }
    }
    if (name === '') {
      // The path ended at a directory reached by `/`, `..` or a link to one: its own place.
      const target = node!;
      return { dir: target.parent!, name: target === this.root ? '' : target.name, node: target };
    }
    return { dir, name, node };
  }

  private error(code: string, syscall: string, path: string, dest?: string): FsError {
    return dest === undefined ? new FsError(code, syscall, path) : new FsError(code, syscall, path, dest);
  }

  /** The absolute path of a directory, from its parents. */
  pathOf(dir: Inode): string {
    let path = '';
    for (let at = dir; at !== this.root; at = at.parent!) path = `/${at.name}${path}`;
    return path || '/';
  }

  /** Links `node` into `dir` as `name`, keeping link counts and the directory's times. */
  attach(dir: Inode, name: string, node: Inode, now: number): void {
    dir.children!.set(name, node);
    if (node.isDir) {
      node.parent = dir;
      node.name = name;
      dir.nlink++;
    }
    dir.mtimeMs = dir.ctimeMs = now;
  }

  /** Removes `name` (naming `node`) from `dir`. */
  detach(dir: Inode, name: string, node: Inode, now: number): void {
    dir.children!.delete(name);
    if (node.isDir) {
      dir.nlink--;
      node.nlink = 0;
    } else {
      node.nlink--;
    }
    if (node.nlink === 0) this.inodes--;
    node.ctimeMs = now;
    dir.mtimeMs = dir.ctimeMs = now;
    this.forget();
  }

  /** Moves `node` from `name` in `from` to `toName` in `to` (whatever was there already detached). */
  move(from: Inode, name: string, node: Inode, to: Inode, toName: string, now: number): void {
    from.children!.delete(name);
    if (node.isDir) from.nlink--;
    from.mtimeMs = from.ctimeMs = now;
    this.attach(to, toName, node, now);
    node.ctimeMs = now;
    this.forget();
  }

  /** True when `ancestor` is `node` or one of its parents. */
  contains(ancestor: Inode, node: Inode): boolean {
    for (let at = node; ; at = at.parent!) {
      if (at === ancestor) return true;
      if (at === this.root) return false;
    }
  }
}

function hasMore(pending: string[]): boolean {
  for (let i = pending.length - 1; i >= 0; i--) {
    const part = pending[i];
    if (part !== '' && part !== '.') return true;
  }
  return false;
}

function checkLength(path: string, syscall: string, reported: string, dest: string | undefined): void {
  if (bytePathLength(path) >= PATH_MAX) throw new FsError('ENAMETOOLONG', syscall, reported, dest);
  for (const part of path.split('/')) {
    if (part.length > NAME_MAX / 4 && bytePathLength(part) > NAME_MAX) {
      throw new FsError('ENAMETOOLONG', syscall, reported, dest);
    }
  }
}
