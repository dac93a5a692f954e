import { normalizePath, type PathLike } from '../paths.js';

/**
 * Where one `CacheFS` stands in the cache it shares with its `sub()` views: the backend path its `/`
 * maps to, and its working directory.
 */
export class View {
  /** The directory relative paths resolve against. */
  cwd = '/';

  /** @param root the backend path this view's `/` maps to (`''` for the whole backend) */
  constructor(readonly root: string) {}

  /** The backend key of a user path (normalized against the working directory, mapped below the root). */
  keyOf(path: PathLike, argName = 'path', syscall = 'open'): string {
    const inView = normalizePath(path, this.cwd, argName, syscall);
    if (this.root === '') return inView;
    return inView === '/' ? this.root : this.root + inView;
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
