import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { FsError, InvalidArgError, hasCode } from '../errors.js';
import { baseName, isNormalizedAbsolute, parentOf } from '../paths.js';
import { io, procPath, sharedRealpath, type Plan } from './plan.js';
import { syscallPath } from '../util/byte-path.js';

const { O_NOFOLLOW } = fs.constants;

/** Linux's limit on symbolic links followed while resolving one path. */
const MAX_LINKS = 40;
/** How long a directory's checked resolution is trusted against changes made behind the backend (API.md 1.3 §4). */
export const TRUST_MS = 1000;
/** Beyond this many remembered directories the memory is dropped and rebuilt. */
const MAX_REMEMBERED = 8192;

interface Resolution {
  disk: string;
  at: number;
  /** Reached through a symbolic link: its disk path is not the root plus the virtual path. */
  linked: boolean;
}

/**
 * Keeps every call of a `nodeBackend` below its root while letting the kernel do the resolving.
 *
 * - A call that opens a file opens it with O_NOFOLLOW and then asks the kernel where the descriptor
 *   leads (`/proc/self/fd/N`): the path must be exactly the one opened, which proves no symbolic link
 *   was crossed. Anything else (a link anywhere on the way, an error that might be about a directory
 *   outside) is explained by the slow path: the parent's checked resolution, then a walk.
 * - A path call (stat, readdir, mkdir, rename, …) acts on its parent directory's checked resolution:
 *   one `realpath` proves a directory link-free (or a walk resolves the links in it, refusing those that
 *   lead out), and the answer is remembered for {@link TRUST_MS} or until a namespace change made
 *   through the backend could have put a link in its way.
 * - The walk, one `lstat` per component, runs only when links are involved or to explain a refusal.
 */
export class Confinement {
  /** The canonical root (no symbolic link in it). */
  readonly root: string;
  /** Prepended to a virtual path to get the disk path it names ('' when the root is `/`). */
  readonly prefix: string;
  private readonly bases: string[][];
  private readonly given: string;
  private readonly dirs = new Map<string, Resolution>();
  private linkedRemembered = 0;
  /** Bumped by every forgetting, so that a check that started before a change is not remembered after it. */
  private generation = 0;
  /** Whether descriptors are checked through /proc/self/fd (Linux). */
  readonly procfs: boolean;

  constructor(rootReal: string, given: string) {
    this.root = rootReal;
    this.given = given;
    this.prefix = rootReal === '/' ? '' : rootReal;
    // Absolute link targets are inside when they start with the canonical root or with the root as the
    // caller spelled it (links written before the root's own symlink was resolved).
    this.bases = [...new Set([rootReal, given])].map(segments);
    this.procfs = procfsWorks(rootReal);
  }

  isInside(disk: string): boolean {
    return this.root === '/' || disk === this.root || disk.startsWith(this.root + '/');
  }

  toVirtual(disk: string): string {
    return this.root === '/' ? disk : disk.slice(this.root.length) || '/';
  }

  /** The disk target for `symlink`: an absolute target is a virtual path. */
  diskTarget(target: string): string {
    return nodePath.isAbsolute(target) ? this.prefix + target : target;
  }

  /** What `readlink` reports for a target read from disk: absolute targets inside become virtual. */
  virtualTarget(target: string): string {
    if (!nodePath.isAbsolute(target) || this.root === '/') return target;
    for (const base of [this.root, this.given]) {
      if (target === base) return '/';
      if (target.startsWith(base + '/')) return target.slice(base.length);
    }
    return target;
  }

  /** Forgets every remembered resolution: a rename, rmdir or symlink may have put a link in its way. */
  forgetAll(): void {
    this.generation++;
    this.dirs.clear();
    this.linkedRemembered = 0;
  }

  /**
   * After a non-directory was removed: link-free resolutions cannot have gone through it, but one that
   * crossed a symbolic link might have crossed this one.
   */
  forgetRemovedFile(): void {
    if (this.linkedRemembered > 0) this.forgetAll();
  }

  private remember(vdir: string, disk: string, linked: boolean, at: number): void {
    if (this.dirs.size >= MAX_REMEMBERED) this.forgetAll();
    this.dirs.set(vdir, { disk, at, linked });
    if (linked) this.linkedRemembered++;
  }

  private known(vdir: string): Resolution | undefined {
    const known = this.dirs.get(vdir);
    return known !== undefined && Date.now() - known.at < TRUST_MS ? known : undefined;
  }

  /**
   * The disk path of `vpath` itself when its parent's checked resolution is at hand (no call needed),
   * else undefined: the hot path of `stat`/`lstat` in a directory already seen.
   */
  knownEntry(vpath: string): string | undefined {
    if (vpath === '/' || !isNormalizedAbsolute(vpath)) return undefined;
    const slash = vpath.lastIndexOf('/');
    if (slash === 0) return this.prefix + vpath;
    // known() by hand: a first stat pays each call in the interpreter.
    const known = this.dirs.get(vpath.slice(0, slash));
    return known !== undefined && Date.now() - known.at < TRUST_MS ? known.disk + vpath.slice(slash) : undefined;
  }

  /**
   * The async hot path's way to {@link entry} without a plan: the parent's checked resolution when it is
   * known or when one (shared) `realpath` proves it link-free; undefined when links or errors need the
   * plan (which explains them).
   */
  async checkedEntry(vpath: string): Promise<string | undefined> {
    const known = this.knownEntry(vpath);
    if (known !== undefined || vpath === '/' || !isNormalizedAbsolute(vpath)) return known;
    const slash = vpath.lastIndexOf('/');
    const vparent = vpath.slice(0, slash);
    const naive = this.prefix + vparent;
    const [at, generation] = [Date.now(), this.generation];
    let real: string | undefined;
    try {
      real = await sharedRealpath(naive);
    } catch {
      return undefined;
    }
    if (real !== naive) return undefined;
    if (generation === this.generation) this.remember(vparent, naive, false, at);
    return naive + vpath.slice(slash);
  }

  /** Records that `vpath`, found to be a directory (not a link) in `vparent`, resolves to `disk`. */
  rememberChild(vparent: string, vpath: string, disk: string): void {
    const parent = vparent === '/' ? { linked: false, at: Date.now() } : this.known(vparent);
    if (parent !== undefined) this.remember(vpath, disk, parent.linked, parent.at);
  }

  /**
   * Maps a virtual path to the disk path a call must use, resolving every symbolic link on the way (and
   * the last one too when `followLast`) so that the result has no link in it and is below the root.
   * Components that do not exist yet are appended as they are: the call will create them or fail with
   * ENOENT. This is the slow path, one `lstat` per component; it also explains refusals (EACCES, ELOOP).
   */
  *walk(vpath: string, followLast: boolean, danglingFails = false): Plan<string> {
    if (vpath.includes('\u0000')) {
      throw new InvalidArgError('path', vpath, 'must be a string, Uint8Array, or URL without null bytes');
    }
    let current = this.root;
    const pending = segments(vpath).reverse(); // a stack: the next component is at the end
    let links = 0;
    // Components at or above this index of `pending` came from a link's target (a dangling link if missing).
    let expansion = Infinity;
    while (pending.length > 0) {
      const name = pending.pop()!;
      const fromLink = pending.length >= expansion;
      if (!fromLink) expansion = Infinity;
      if (name === '..') {
        if (current === this.root) throw new FsError('EACCES', 'resolve');
        current = nodePath.dirname(current);
        continue;
      }
      const next = join(current, name);
      const last = pending.length === 0;
      if (last && !followLast) return next;
      let stats: fs.Stats;
      try {
        stats = yield* io.lstat(next);
      } catch (err) {
        if (hasCode(err) && err.code === 'ENOENT') {
          // A `..` below a missing directory cannot be resolved by the kernel either.
          if (pending.includes('..') || (danglingFails && fromLink)) throw err;
          return [next, ...pending.reverse()].join('/');
        }
        throw err;
      }
      if (stats.isSymbolicLink()) {
        if (++links > MAX_LINKS) throw new FsError('ELOOP', 'resolve');
        const target = yield* io.readlink(next);
        let parts: string[];
        if (nodePath.isAbsolute(target)) {
          const below = this.belowRoot(target);
          if (below === null) throw new FsError('EACCES', 'resolve');
          current = this.root;
          parts = below;
        } else {
          parts = segments(target);
        }
        expansion = Math.min(expansion, pending.length);
        for (let i = parts.length - 1; i >= 0; i--) pending.push(parts[i]!);
        continue;
      }
      if (!last && !stats.isDirectory()) throw new FsError('ENOTDIR', 'resolve');
      current = next;
    }
    return current;
  }

  /**
   * The checked disk path of a directory (following a last link), remembered for {@link TRUST_MS}.
   * Missing components are appended, unless `danglingFails` and they are a link's missing target.
   */
  *dir(vdir: string, danglingFails = false): Plan<string> {
    if (vdir === '/') return this.root;
    if (!isNormalizedAbsolute(vdir)) return yield* this.walk(vdir, true, danglingFails);
    const known = this.known(vdir);
    if (known !== undefined) return known.disk;
    const at = Date.now();
    const generation = this.generation;
    const naive = this.prefix + vdir;
    let real: string | undefined;
    try {
      real = yield* io.realpath(naive);
    } catch {
      real = undefined; // the walk says why (it may be EACCES rather than ENOENT)
    }
    if (real === naive) {
      if (generation === this.generation) this.remember(vdir, naive, false, at);
      return naive;
    }
    const walked = yield* this.walk(vdir, true, danglingFails);
    if (real !== undefined && walked === real && generation === this.generation) this.remember(vdir, walked, true, at);
    return walked;
  }

  /** The disk path of `vpath` itself (a last link not followed), its parent checked. */
  *entry(vpath: string): Plan<string> {
    if (vpath === '/') return this.root;
    if (!isNormalizedAbsolute(vpath)) return yield* this.walk(vpath, false);
    return join(yield* this.dir(parentOf(vpath)), baseName(vpath));
  }

  /**
   * The disk path of `vpath` with a last link followed, and its `lstat` when that was already taken (the
   * path was not a link). Calls that follow links use it: stat, chmod, utimes, chown, statfs.
   */
  *followed(vpath: string): Plan<[string, fs.Stats | undefined]> {
    const disk = yield* this.entry(vpath);
    const stats = yield* io.lstat(disk);
    if (!stats.isSymbolicLink()) return [disk, stats];
    return [yield* this.walk(vpath, true), undefined];
  }

  /**
   * Opens the file at a virtual path (a last link followed) and proves the descriptor is the file at a
   * link-free path below the root before anyone reads, writes or truncates through it. `create` (O_CREAT
   * in `flags`) opens only in a checked directory, so that nothing is created through a link leading out.
   */
  *open(vpath: string, flags: number, mode: number, create: boolean): Plan<number> {
    return (yield* this.openInspected(vpath, flags, mode, create, false))[0];
  }

  /**
   * {@link open}, and the descriptor's `fstat` when `wantStats` (taken beside the check, not after it),
   * and the disk path the check proved the descriptor to be.
   */
  *openInspected(
    vpath: string, flags: number, mode: number, create: boolean, wantStats: boolean,
  ): Plan<[number, fs.Stats | undefined, string]> {
    // 0: the plain path, unchecked; 1: the parent's checked resolution; 2: walked.
    let stage: 0 | 1 | 2;
    let candidate = '';
    const vparent = parentOf(vpath);
    const name = baseName(vpath);
    if (!isNormalizedAbsolute(vpath)) stage = 2;
    else if (vpath === '/') [stage, candidate] = [1, this.root];
    else {
      const known = this.known(vparent);
      if (known !== undefined) [stage, candidate] = [1, join(known.disk, name)];
      else if (create) [stage, candidate] = [1, join(yield* this.dir(vparent), name)];
      else [stage, candidate] = [0, this.prefix + vpath];
    }
    for (;;) {
      if (stage === 2) candidate = yield* this.walk(vpath, true);
      let fd: number;
      try {
        fd = yield* io.open(candidate, flags | O_NOFOLLOW, mode);
      } catch (err) {
        if (stage === 2) throw err;
        if (hasCode(err) && err.code === 'ELOOP') {
          stage = 2; // a link as the last component (or a loop): the walk follows or refuses it
          continue;
        }
        if (stage === 1) throw err;
        // The plain path failed: the error stands only if the parent is what it looked like.
        stage = 1;
        const checked = join(yield* this.dir(vparent), name);
        if (checked === candidate) throw err;
        candidate = checked;
        continue;
      }
      let leadsWhereExpected: boolean;
      let stats: fs.Stats | undefined;
      let at: string;
      try {
        [leadsWhereExpected, stats, at] = yield* this.verify(fd, candidate, stage < 2, wantStats);
      } catch (err) {
        yield* io.close(fd);
        throw err;
      }
      if (leadsWhereExpected) return [fd, stats, at];
      yield* io.close(fd);
      if (stage === 2) throw new FsError('EACCES', 'open');
      if (stage === 0) {
        stage = 1;
        const checked = join(yield* this.dir(vparent), name);
        if (checked !== candidate) {
          candidate = checked;
          continue;
        }
      }
      stage = 2;
    }
  }

  /**
   * Whether an open descriptor is the file at `disk` (`exact`: no link crossed on the way) or at least
   * below the root. From procfs when there is one; otherwise from `realpath` of the opened path and a
   * match of the descriptor's device and inode with the path's. Also returns where it leads.
   */
  private *verify(fd: number, disk: string, exact: boolean, wantStats: boolean): Plan<[boolean, fs.Stats | undefined, string]> {
    if (this.procfs) {
      let at: string | undefined;
      let stats: fs.Stats | undefined;
      if (wantStats) [at, stats] = yield* io.inspect(fd);
      else at = yield* io.procPath(fd);
      if (at === undefined) return [false, undefined, disk];
      if (at.endsWith(' (deleted)')) at = at.slice(0, -' (deleted)'.length);
      return [exact ? at === disk : this.isInside(at), stats, at];
    }
    let real: string;
    try {
      real = yield* io.realpath(disk);
    } catch {
      return [false, undefined, disk];
    }
    if (exact ? real !== disk : !this.isInside(real)) return [false, undefined, real];
    const [opened, named] = [yield* io.fstat(fd), yield* io.lstat(real)];
    return [opened.dev === named.dev && opened.ino === named.ino, opened, real];
  }

  /** The part of an absolute link target below the root, or null when it points elsewhere. */
  private belowRoot(target: string): string[] | null {
    const parts = segments(target);
    for (const base of this.bases) {
      if (parts.length >= base.length && base.every((segment, i) => parts[i] === segment)) {
        return parts.slice(base.length);
      }
    }
    return null;
  }
}

function join(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/** The non-empty, non-`.` segments of a path, `..` kept. */
function segments(path: string): string[] {
  return path.split('/').filter((segment) => segment !== '' && segment !== '.');
}

/** Whether `/proc/self/fd/N` names what was opened (Linux with procfs mounted). */
function procfsWorks(rootReal: string): boolean {
  let fd: number | undefined;
  try {
    fd = fs.openSync(syscallPath(rootReal), fs.constants.O_RDONLY);
    return procPath(fd) === rootReal;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
