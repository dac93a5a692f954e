import type { Backend } from '../backend/backend.js';
import type { Resolutions } from '../cache/resolutions.js';
import { hasCode } from '../errors.js';
import { baseName, joinPath, normalizeText, parentOf } from '../paths.js';
import { isSymlinkMode } from '../util/modes.js';

/**
 * Turns paths into cache keys: the real path, every symbolic link resolved through the backend's
 * `realpath`, remembered in the cache's {@link Resolutions} (which forgets them when the namespace
 * changes). Concurrent misses of one path share one `realpath`, as they share one read.
 */
export class Resolver {
  constructor(
    private readonly backend: Backend,
    private readonly resolutions: Resolutions,
  ) {}

  /**
   * The real path of `key`. A path that does not exist yet resolves through its parent, so a file
   * created through a linked directory is keyed under the directory's real path.
   */
  resolve(key: string, depth = 0): Promise<string> {
    const known = this.resolvedKey(key);
    if (known !== undefined) return Promise.resolve(known);
    // Nested resolutions (a dangling link's target) are not shared: one could wait on itself.
    if (depth > 0) return this.fromBackend(key, depth);
    const inFlight = this.resolutions.inFlight;
    const running = inFlight.get(key);
    if (running !== undefined) return running;
    const promise = this.fromBackend(key, 0);
    inFlight.set(key, promise);
    const done = (): void => {
      if (inFlight.get(key) === promise) inFlight.delete(key);
    };
    promise.then(done, done);
    return promise;
  }

  /**
   * The real path of `key` when it is known without a backend call (an alias learnt, a path known to be
   * canonical, or a backend without `realpath`); undefined when {@link resolve} would have to ask.
   */
  resolvedKey(key: string): string | undefined {
    const known = this.resolutions.lookup(key);
    if (known !== undefined) return known;
    return !this.backend.realpath || key === '/' ? key : undefined;
  }

  /** The key of `key` with its parent's links resolved (the path itself is not followed). */
  async resolveParent(key: string, root: string): Promise<string> {
    if (key === '/' || key === root) return key;
    const parent = await this.resolve(parentOf(key));
    return joinPath(parent, baseName(key));
  }

  private async fromBackend(key: string, depth: number): Promise<string> {
    let real: string;
    try {
      real = await this.backend.realpath!(key);
    } catch (err) {
      if (!hasCode(err) || err.code !== 'ENOENT') return key;
      const parent = parentOf(key);
      const realParent = await this.resolve(parent);
      return this.danglingDestination(realParent === parent ? key : joinPath(realParent, baseName(key)), depth);
    }
    this.resolutions.remember(key, real);
    return real;
  }

  /**
   * Where a create through `key` lands when `key` is a link whose target does not exist: the target
   * (resolved in turn), as the kernel does for `open(O_CREAT)`; `key` itself when it is not a link.
   */
  private async danglingDestination(key: string, depth: number): Promise<string> {
    if (depth >= 40) return key; // a loop: the backend's own call answers ELOOP
    let target: string;
    try {
      if (!isSymlinkMode((await this.backend.lstat(key)).mode)) return key;
      target = await this.backend.readlink(key);
    } catch {
      return key;
    }
    const dest = normalizeText(target.startsWith('/') ? target : joinPath(parentOf(key), target));
    return this.resolvedKey(dest) ?? this.fromBackend(dest, depth + 1);
  }
}
