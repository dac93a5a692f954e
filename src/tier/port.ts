/**
 * The narrow port between the engine and a shared second-level tier (the Redis tier of src/tier/).
 * The engine calls these methods on its read-miss path and after every change it makes; the tier calls
 * back through a {@link TierListener}. This file imports nothing, so the engine can depend on it without
 * depending on Redis, and the tier never depends on the engine.
 */

/** What changed: one path, everything at or below a path (by whole segments), or the whole namespace. */
export type TierScope =
  | { readonly kind: 'path'; readonly path: string }
  | { readonly kind: 'prefix'; readonly prefix: string }
  | { readonly kind: 'all' };

/**
 * The answer of {@link TierPort.lookup}: the shared bytes of a path with the version they were stored
 * under, or no bytes. `version` is the path's current version (undefined when the tier is unreachable):
 * a load that follows passes it to {@link TierPort.store}, so bytes read before a concurrent write are
 * never shared as current.
 */
export interface TierLookup {
  readonly bytes: Buffer | undefined;
  readonly version: string | undefined;
}

/**
 * Where a version stands in the namespace's order of changes: the largest clock stamp among its tokens
 * (Redis stamps each token as it sets it, tier/scripts.ts). A version whose stamp is larger was set by a
 * later change; 0 means unknown (nothing to order by).
 */
export function seqOf(version: string): number {
  let max = 0;
  let start = 0;
  while (start < version.length) {
    let end = version.indexOf('.', start);
    if (end < 0) end = version.length;
    const colon = version.indexOf(':', start);
    if (colon > start && colon < end) {
      const stamp = Number(version.slice(start, colon));
      if (stamp > max) max = stamp;
    }
    start = end + 1;
  }
  return max;
}

/** A change of a path as Redis ran it. */
export interface TierPublication {
  /** The path's new version. */
  readonly version: string;
  /**
   * Another change of the path ran in Redis between the version the writer saw before it wrote and this
   * one: a concurrent writer's bytes may be the ones the backend kept, so this change shared none.
   */
  readonly raced: boolean;
}

/** How the tier reaches the engine. Every callback is synchronous and must not throw. */
export interface TierListener {
  /**
   * Another process changed `scope` at `version` (its {@link seqOf} orders it; undefined when this
   * process lost the channel and drops everything): drop clean cached data and metadata there, unless
   * what is held is newer. `content`: the path's whole new bytes at `version`, when the change carried them.
   */
  invalidated(scope: TierScope, version?: string, content?: Buffer): void;
  /** The tier became unreachable (calls keep working from this process's cache and the backend). */
  down(error: Error): void;
  /** The tier is reachable again ({@link invalidated} with `'all'` came first when the channel was lost). */
  up(): void;
  /** One call to the tier failed or timed out (counted as a tier error). */
  failed(error: Error): void;
}

/** The shared tier as the engine sees it. No method rejects, and each settles within a bounded time. */
export interface TierPort {
  /** `'strict'`: a cached copy is served only after {@link validate} confirmed its version. */
  readonly strict: boolean;
  /** Files larger than this stay in this process's cache only. */
  readonly maxFileBytes: number;
  /** Connects the engine's callbacks (once, at construction). */
  attach(listener: TierListener): void;
  /** Whether calls are being made to the tier now (false while its circuit is open). */
  available(): boolean;
  /** The path's current version and, when `withBytes`, the shared bytes stored under that version. */
  lookup(path: string, withBytes: boolean): Promise<TierLookup>;
  /** True when `version` is still the path's current version (one round trip); false when unsure. */
  validate(path: string, version: string): Promise<boolean>;
  /**
   * Shares `bytes` as the content of `path` at `version`, unless the path changed since. Resolves to
   * true when stored: `version` was still the path's version after `bytes` were read.
   */
  store(path: string, bytes: Uint8Array, version: string): Promise<boolean>;
  /**
   * A change of `scope` resolved in this process: gives it a new version and tells the others; for a
   * path whose whole new `content` is known (a write-through `writeFile`), shares it too, so that the
   * others' next read is served from Redis rather than the backend, unless another change of the path
   * ran since `expected` (the version the writer saw before it wrote). Resolves to the path's new
   * version (path scope), or undefined. While the tier is unreachable, or when Redis refuses the change,
   * it is queued and published as soon as Redis takes it.
   */
  published(scope: TierScope, content?: Uint8Array, expected?: string): Promise<TierPublication | undefined>;
  /**
   * Runs `load` as the one loader of `path` across processes: the lock is taken, then `shared` is asked
   * (another process may have stored the bytes meanwhile, even one whose lock ended just before ours was
   * taken); if it has nothing, `load` runs. A holder
   * that dies loses the lock when it expires; a wait longer than the lock's lifetime runs `load` anyway.
   */
  withLoadLock<T>(path: string, shared: () => Promise<T | undefined>, load: () => Promise<T>): Promise<T>;
  /** Counters of the tier itself (for stats). */
  lockWaits(): { count: number; totalMs: number };
  /** Ends the tier's connections (a client given by the user stays open). */
  close(): Promise<void>;
}
