import { ChurnMap } from '../util/churn-map.js';

/**
 * What the cache knows of symbolic links: paths already resolved to their real path, and paths known
 * to be real already, so that resolving them costs no backend call. Asking the backend is the engine's
 * part; forgetting is the cache's (any namespace change may move a link's target).
 */
export class Resolutions {
  /** Non-canonical paths (through a symbolic link) already resolved to their real path. */
  private readonly aliasOf = new Map<string, string>();
  /** Paths known to be canonical. */
  private readonly canonical = new Set<string>();
  /** Resolutions being asked of the backend now, shared by the callers that arrive meanwhile. */
  readonly inFlight = new ChurnMap<string, Promise<string>>();

  /** The real path of `key` if it is already known, else `key` itself (the hot path: no link, no lookup). */
  knownKey(key: string): string {
    if (this.aliasOf.size === 0) return key;
    return this.aliasOf.get(key) ?? key;
  }

  /** The real path of `key` when known: itself when known canonical, undefined when not known. */
  lookup(key: string): string | undefined {
    if (this.aliasOf.size !== 0) {
      const alias = this.aliasOf.get(key);
      if (alias !== undefined) return alias;
    }
    return this.canonical.has(key) ? key : undefined;
  }

  /** Records the backend's answer for `key`. */
  remember(key: string, real: string): void {
    // Bounded: a crawl must not grow these without limit; forgetting only costs a realpath call later.
    if (this.canonical.size > 100_000) this.canonical.clear();
    if (this.aliasOf.size > 100_000) this.aliasOf.clear();
    if (real === key) this.canonical.add(key);
    else this.aliasOf.set(key, real);
  }

  /** True when some path is known to go through a link. */
  get hasAliases(): boolean {
    return this.aliasOf.size > 0;
  }

  /** True when `key` is known to go through a link. */
  isAlias(key: string): boolean {
    return this.aliasOf.has(key);
  }

  /** Forgets every resolution: the namespace changed (rename, removal, a new link). */
  forget(): void {
    this.aliasOf.clear();
    this.canonical.clear();
    // An answer in flight may describe the namespace before the change: later callers ask again.
    this.inFlight.clear();
  }
}
