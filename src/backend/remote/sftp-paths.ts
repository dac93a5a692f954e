import type { Attributes } from 'ssh2';
import { FsError } from '../../errors.js';
import { S_IFDIR, S_IFLNK, S_IFMT, SFTP_STATUS, SftpStatus, statusError } from './sftp-protocol.js';
import type { SftpSession } from './sftp-session.js';

/** A directory's checked resolution is trusted this long (API.md 1.3 §4), unless a change drops it. */
const RESOLUTION_TRUST_MS = 1000;
const MAX_LINKS = 40;

/** The virtual path's segments with `.` and `..` applied; EACCES when it climbs above `/`. */
export function normal(syscall: string, path: string): string[] {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) throw new FsError('EACCES', syscall, path);
      out.pop();
    } else out.push(part);
  }
  return out;
}

export function joinPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/**
 * The backend's paths on the server: the root's real path, confinement below it, the resolution of
 * directories and links (by the server, checked to stay inside), a short-lived cache of the server's
 * lstat answers, and the walk that finds the precise code of a failure.
 */
export class SftpPaths {
  #rootReal: string | undefined;
  /** Virtual directory → its link-free server path, checked to be inside the root, and when. */
  readonly #dirs = new Map<string, { real: string; at: number }>();
  /** Directory resolutions being asked now, shared by the calls that need them meanwhile. */
  readonly #resolving = new Map<string, Promise<string>>();
  /** Bumped by {@link forgetDirectories}: a resolution asked before it is not kept after it. */
  #dirsGeneration = 0;
  /** Server path → its lstat and when it was asked (see `attributeCacheMs`). */
  readonly #attributes = new Map<string, { attrs: Attributes; at: number }>();
  /** Bumped by every change: an answer asked before a change is not kept after it. */
  #generation = 0;

  /**
   * @param rootGiven the server directory that is `/`, as the user named it.
   * @param attributeTtl milliseconds an lstat answer is reused (0: never).
   */
  constructor(readonly rootGiven: string, readonly attributeTtl: number) {}

  /** The root's real path on the server (known once {@link resolveRoot} has run). */
  get root(): string {
    return this.#rootReal!;
  }

  /** Asks the server for the root's real path, once. */
  async resolveRoot(s: SftpSession): Promise<void> {
    if (this.#rootReal !== undefined) return;
    this.#rootReal = await s.realpath(this.rootGiven).catch((err: unknown) => {
      throw err instanceof SftpStatus ? new FsError(err.status === SFTP_STATUS.PERMISSION_DENIED ? 'EACCES' : 'ENOENT', 'realpath', '/') : err;
    });
  }

  /** Called before and after every change made through the backend: answers asked before are dropped. */
  changed(): void {
    this.#generation++;
    this.#attributes.clear();
  }

  /** Drops the directory resolutions too (a change that may remove or replace a directory). */
  forgetDirectories(): void {
    this.#dirs.clear();
    this.#dirsGeneration++;
    // An answer in flight may describe the tree before the change: later calls ask again.
    this.#resolving.clear();
  }

  /** The lstat of a server path, reused for `attributeCacheMs`. */
  async lstatOf(s: SftpSession, real: string): Promise<Attributes> {
    const asked = Date.now();
    const known = this.#attributes.get(real);
    if (known && asked - known.at < this.attributeTtl) return known.attrs;
    const seen = this.#generation;
    const attrs = await s.lstat(real);
    if (this.attributeTtl > 0 && seen === this.#generation) {
      if (this.#attributes.size > 10_000) this.#attributes.clear();
      this.#attributes.set(real, { attrs, at: asked });
    }
    return attrs;
  }

  inside(real: string): boolean {
    const root = this.root;
    return root === '/' || real === root || real.startsWith(root + '/');
  }

  /** The virtual path of a server path inside the root. */
  toVirtual(real: string): string {
    return this.root === '/' ? real : real.slice(this.root.length) || '/';
  }

  /**
   * The checked, link-free server path of the directory `parts` (cached for a second). Calls that need
   * it while it is asked share the one `realpath`: a walk starts many siblings at once, and each would
   * otherwise wait for a round trip of its own before its real request.
   */
  resolveDir(s: SftpSession, syscall: string, path: string, parts: string[]): Promise<string> {
    if (parts.length === 0) return Promise.resolve(this.root);
    const key = '/' + parts.join('/');
    const known = this.#dirs.get(key);
    if (known && Date.now() - known.at < RESOLUTION_TRUST_MS) return Promise.resolve(known.real);
    const running = this.#resolving.get(key);
    // A joiner's error names its own call: the shared answer is only the server's path.
    if (running !== undefined) return running.catch(() => this.#askDir(s, syscall, path, parts, key));
    const asked = this.#askDir(s, syscall, path, parts, key);
    this.#resolving.set(key, asked);
    const done = (): void => {
      if (this.#resolving.get(key) === asked) this.#resolving.delete(key);
    };
    asked.then(done, done);
    return asked;
  }

  async #askDir(s: SftpSession, syscall: string, path: string, parts: string[], key: string): Promise<string> {
    const now = Date.now();
    const seen = this.#dirsGeneration;
    let real: string;
    try {
      real = await s.realpath(this.root === '/' ? key : this.root + key);
    } catch (err) {
      if (err instanceof SftpStatus) throw await this.diagnose(s, syscall, path, parts, true, err);
      throw err;
    }
    if (!this.inside(real)) throw new FsError('EACCES', syscall, path);
    if (seen === this.#dirsGeneration) this.#dirs.set(key, { real, at: now });
    return real;
  }

  /** Where a call that does not follow the last component acts: the checked parent plus the name. */
  async locate(s: SftpSession, syscall: string, path: string): Promise<{ real: string; isRoot: boolean }> {
    const parts = normal(syscall, path);
    if (parts.length === 0) return { real: this.root, isRoot: true };
    const parent = await this.resolveDir(s, syscall, path, parts.slice(0, -1));
    return { real: joinPath(parent, parts[parts.length - 1]!), isRoot: false };
  }

  /**
   * Where a call that follows links acts, with the lstat of what is there (undefined when nothing is):
   * a link is resolved by the server and must land inside the root.
   */
  async follow(s: SftpSession, syscall: string, path: string): Promise<{ real: string; attrs: Attributes | undefined }> {
    const { real, isRoot } = await this.locate(s, syscall, path);
    if (isRoot) return { real, attrs: await this.lstatOf(s, real) };
    let attrs: Attributes;
    try {
      attrs = await this.lstatOf(s, real);
    } catch (err) {
      if (err instanceof SftpStatus && err.status === SFTP_STATUS.NO_SUCH_FILE) return { real, attrs: undefined };
      throw err;
    }
    if ((attrs.mode & S_IFMT) !== S_IFLNK) return { real, attrs };
    let target: string;
    try {
      target = await s.realpath(real);
    } catch (err) {
      if (err instanceof SftpStatus) throw await this.diagnose(s, syscall, path, normal(syscall, path), true, err);
      throw err;
    }
    if (!this.inside(target)) throw new FsError('EACCES', syscall, path);
    return { real: target, attrs: await this.lstatOf(s, target) };
  }

  /** Like {@link follow}, but what is there must exist. */
  async existing(s: SftpSession, syscall: string, path: string): Promise<{ real: string; attrs: Attributes }> {
    const found = await this.follow(s, syscall, path);
    if (!found.attrs) throw await this.diagnose(s, syscall, path, normal(syscall, path), true, new SftpStatus(SFTP_STATUS.NO_SUCH_FILE, 'no such file'));
    return found as { real: string; attrs: Attributes };
  }

  /**
   * The precise code of a failed call, found by walking the path component by component on the server
   * (lstat and readlink, as the kernel would): ENOENT, ENOTDIR, ELOOP or EACCES for a link out. Used only
   * on failures, so its round trips cost nothing on the common path.
   */
  async diagnose(s: SftpSession, syscall: string, path: string, parts: string[], followLast: boolean, cause: SftpStatus): Promise<FsError> {
    return (await this.walkTrouble(s, syscall, path, parts, followLast)) ?? statusError(cause, syscall, path);
  }

  /** The walk of {@link diagnose}: what stops it (ENOENT, ENOTDIR, ELOOP, EACCES), or undefined when nothing does. */
  async walkTrouble(s: SftpSession, syscall: string, path: string, parts: string[], followLast: boolean): Promise<FsError | undefined> {
    const root = this.root;
    let current = root;
    const pending = [...parts].reverse();
    let links = 0;
    while (pending.length > 0) {
      const name = pending.pop()!;
      if (name === '..') {
        if (current === root) return new FsError('EACCES', syscall, path);
        current = current.slice(0, current.lastIndexOf('/')) || '/';
        continue;
      }
      const next = joinPath(current, name);
      const last = pending.length === 0;
      if (last && !followLast) break;
      let attrs: Attributes;
      try {
        attrs = await s.lstat(next);
      } catch (err) {
        if (err instanceof SftpStatus && err.status === SFTP_STATUS.NO_SUCH_FILE) return new FsError('ENOENT', syscall, path);
        throw err;
      }
      if ((attrs.mode & S_IFMT) === S_IFLNK) {
        if (++links > MAX_LINKS) return new FsError('ELOOP', syscall, path);
        const target = await s.readlink(next);
        const targetParts = target.split('/').filter((p) => p !== '' && p !== '.');
        if (target.startsWith('/')) {
          const rootParts = root === '/' ? [] : root.split('/').filter(Boolean);
          if (!rootParts.every((p, i) => targetParts[i] === p)) return new FsError('EACCES', syscall, path);
          current = root;
          targetParts.splice(0, rootParts.length);
        }
        for (let i = targetParts.length - 1; i >= 0; i--) pending.push(targetParts[i]!);
        continue;
      }
      if (!last && (attrs.mode & S_IFMT) !== S_IFDIR) return new FsError('ENOTDIR', syscall, path);
      current = next;
    }
    return undefined;
  }
}
