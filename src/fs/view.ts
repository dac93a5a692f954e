import { FsError } from '../errors.js';
import { normalizePath, pathString, type PathLike } from '../paths.js';
import { isWellFormed } from '../util/byte-path.js';

/**
 * Where one `CacheFS` stands in the cache it shares with its `sub()` views: the backend path its `/`
 * maps to, and its working directory.
 */
export class View {
  /** The directory relative paths resolve against. */
  cwd = '/';

  /**
   * @param root the backend path this view's `/` maps to (`''` for the whole backend)
   * @param byteNames whether the backend takes names that are not UTF-8 (`Backend.byteNames`)
   */
  constructor(readonly root: string, private readonly byteNames = false) {}

  /** The backend key of a user path (normalized against the working directory, mapped below the root). */
  keyOf(path: PathLike, argName = 'path', syscall = 'open'): string {
    const inView = normalizePath(path, this.cwd, argName, syscall);
    // Only a Buffer can name bytes that are not UTF-8; a string path never pays for this check.
    if (typeof path === 'object' && !this.byteNames) this.representable(inView, syscall, path);
    if (this.root === '') return inView;
    return inView === '/' ? this.root : this.root + inView;
  }

  /**
   * Fails `syscall` with `EINVAL` when `text` names bytes that are not UTF-8 and the backend cannot
   * represent them (API.md 1.3 §1): a backend that keys by text would alias them to another name.
   */
  representable(text: string, syscall: string, shown: PathLike = text, dest?: PathLike): void {
    if (this.byteNames || isWellFormed(text)) return;
    throw new FsError('EINVAL', syscall, pathString(shown), dest === undefined ? undefined : pathString(dest), 'invalid argument (the backend cannot name bytes that are not UTF-8)');
  }

  /** The path in this view of a backend key; undefined when the key lies outside the view. */
  viewOf(key: string): string | undefined {
    const root = this.root;
    if (root === '') return key;
    if (key === root) return '/';
    return key.startsWith(root + '/') ? key.slice(root.length) : undefined;
  }

  /** True when backend key `key` lies in this view. */
  contains(key: string): boolean {
    const root = this.root;
    return root === '' || key === root || key.startsWith(root + '/');
  }
}
