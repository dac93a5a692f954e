import type { EventEmitter } from 'node:events';
import type { BackendStats } from '../backend/backend.js';
import type { DataStore, RemovalReason } from '../store/data-store.js';
import type { MetadataCache } from '../store/metadata-cache.js';
import type { MutationClock } from '../store/mutation-clock.js';
import type { Counters } from './counters.js';

// The narrow faces of the cache that the parts plugging into it depend on (write-back, coherence, warming).
// They are declared here, below those parts, so that none of them imports the cache (or the engine) whole.

/**
 * Why the cache removed an entry on its own (API 1.3 §6): `'policy'` the eviction policy chose it to
 * stay within `maxBytes`/`maxEntries`, `'expired'` its TTL ran out, `'pressure'` it was shed under memory
 * pressure. Invalidations are not evictions: they are reported by {@link InvalidateEvent}.
 */
export type EvictReason = 'policy' | 'expired' | 'pressure';

/** Payload of the `'evict'` event: the backend path (a block counts as its file) and the bytes it held. */
export interface EvictEvent {
  path: string;
  reason: EvictReason;
  size: number;
}

/**
 * What an invalidation call covered: `'path'` (`invalidate`, `batchInvalidate`: one event per path),
 * `'prefix'` (`invalidatePrefix`), `'pattern'` (`invalidatePattern`), `'all'` (`clear`, with `path` `'/'`).
 */
export type InvalidateScope = 'path' | 'prefix' | 'pattern' | 'all';

/**
 * Payload of the `'invalidate'` event, emitted by an invalidation call that dropped something: `path` is
 * the path, prefix or pattern as the caller's view names it (`'/'` for `clear`); `count` how many paths
 * had anything cached.
 */
export interface InvalidateEvent {
  path: string;
  scope: InvalidateScope;
  count: number;
}

/** Which cached paths an invalidation covers. */
export type Scope =
  | { path: string }
  /** The path and everything below it, by whole segments. */
  | { within: string }
  | { match: (key: string) => boolean }
  | { all: true };

/**
 * What an invalidation does with dirty (write-back) data: `'flush'` writes it first and drops the entry
 * only if no write landed meanwhile (a failed flush keeps it and is reported); `'keep'` leaves dirty
 * entries alone (the program's data is newer than whatever changed); `'discard'` drops it unwritten (the
 * program removed the file).
 */
export type DirtyRule = 'flush' | 'keep' | 'discard';

/** Options of an invalidation. */
export interface InvalidateOptions {
  /** The removal reason reported for the entries that leave. Default `'invalidated'`. */
  reason?: RemovalReason;
  /** Also drop the metadata of the scope's parent directory (its listing and mtime changed). */
  parent?: boolean;
}

/**
 * How a load that is not the program's own read may install what it read (warming uses it for its
 * priorities). Applies only to the caller that starts the load; callers that join it share its outcome.
 */
export interface InstallHooks {
  /** The backend returned `size` bytes to this caller's load (not called for a caller that joined one). */
  read?(size: number): void;
  /** Asked just before `size` bytes are installed; false leaves the cache as it is. */
  admit?(size: number): boolean;
  /** The new slot, right after the install and before the limits are enforced. */
  installed?(slot: number): void;
}

/** Where installed bytes came from. */
export interface InstallSource {
  hooks?: InstallHooks | undefined;
  /** The backend's `stat` of the file, taken (at `statStartedAt`) before the bytes were read. */
  identity?: BackendStats | undefined;
  statStartedAt?: number;
  /** The bytes are a buffer of the byte store that the entry takes over (or that goes back to it). */
  adopted?: boolean;
}

/**
 * What the cache needs from the owner of dirty data (write-back): the cache never writes to the backend
 * itself. Registered with `Cache.attachDirtyData`; without it no entry is ever dirty.
 */
export interface DirtyData {
  /** Writes the dirty data of `key` to the backend; rejects (and it stays dirty) if that fails. */
  flushKey(key: string): Promise<void>;
  /** Flushes every dirty entry `filter` accepts; an AggregateError names each path that failed. */
  flushAll(filter?: (key: string) => boolean): Promise<void>;
  /** The program removed `key`: its dirty data is moot. */
  forget(key: string): void;
  /** The cache is about to move its entries from `from` to `to` (same tick as the move). */
  movingWithin(from: string, to: string): void;
  /** The dirty entry `from` is now `to`. */
  renamed(from: string, to: string): void;
  /** True while a flush of `key` runs or waits to (the backend file changes because of us). */
  isFlushing(key: string): boolean;
  /** Flushes the whole file rather than its dirty ranges (the backend's copy changed behind the cache). */
  flushWhole(key: string): Promise<void>;
}

/** The state every part reads: entries, metadata, the stale-install clock, counters and events. */
export interface CacheState {
  readonly store: DataStore;
  readonly meta: MetadataCache;
  readonly clock: MutationClock;
  readonly counters: Counters;
  readonly events: EventEmitter;
  /** True once the cache is closed: background work stops. */
  readonly closed: boolean;
}

/** What coherence (revalidation, watching) uses of the cache. */
export interface CoherencePort extends CacheState {
  /** The revalidation age in force (-1 never, 0 always, else ms); the watcher sets 0 while it is down. */
  revalidateAfter: number;
  /** The owner of dirty data, if any (write-back). */
  readonly dirtyData: DirtyData | undefined;
  invalidate(scope: Scope, dirty: 'keep' | 'discard', options?: InvalidateOptions): number;
  metadataChanged(key: string): void;
  /** Tells `watch()` iterators that `key` changed (see `Cache.announce`). */
  announce(key: string, eventType: 'rename' | 'change'): void;
  forgetResolutions(): void;
}

/** What a write mode uses of the cache. */
export interface WritePort extends CacheState {
  install(key: string, data: Uint8Array, size: number, source?: InstallSource): Promise<void>;
  invalidate(scope: Scope, dirty: 'keep' | 'discard', options?: InvalidateOptions): number;
  /** The path changed: loads begun before now must not install it, and no later read may join them. */
  changed(key: string): void;
  metadataChanged(key: string): void;
  /** When an entry loaded now for `key` expires (epoch ms, or Infinity). */
  expiryFor(key: string, now: number): number;
  /** Evicts until the limits hold, waiting for the flushes of dirty victims. */
  enforceLimits(): Promise<void>;
  /** {@link enforceLimits}, undefined when nothing is left to wait for. */
  enforceLimitsNow(): Promise<void> | undefined;
  attachDirtyData(owner: DirtyData): void;
}
