import type { Backend, BackendStats, BackendSync } from '../backend/backend.js';
import type { Cache } from '../cache/cache.js';
import { asCallError, hasCode } from '../errors.js';
import type { PathLocks } from '../store/path-locks.js';
import { isDirectoryMode, isSpecialMode } from '../util/modes.js';

function noop(): void {}

/** What immediate misses need of the engine (an interface, so that no import runs back up to it). */
export interface ImmediateHost {
  readonly cache: Cache;
  readonly backend: Backend;
  readonly locks: PathLocks;
  readonly opts: { readonly metadataCache: boolean };
  readonly capturesIdentity: boolean;
  readonly tierLink: unknown;
  readonly readiness: { readonly gate: Promise<void> | undefined };
  readonly blocks: { readonly files: Map<string, unknown>; wants(size: number): boolean };
  readonly loader: { recordRead(key: string, started: number, bytes: number): void };
  servable(stats: BackendStats): boolean;
}

/**
 * Misses served through the synchronous face of a backend that keeps its files in this process's memory
 * (`Backend.syncInMemory`, as `memoryBackend` does): the stat of an `open` and the load of a small
 * regular file complete before the call returns, so a miss costs the backend's work and the cache's
 * bookkeeping, not a chain of promise turns (each `await` costs about what a whole hit does).
 *
 * Only where nothing could interleave with the load anyway: no journal replay, no shared tier, no
 * identity to capture (revalidation, watching), no dirty data (an eviction could have to wait for a
 * flush), no load or write of the path in flight, and a file cached whole. Everything else takes the
 * asynchronous way, which stays the reference: the same counters, events, metadata and install.
 */
export class ImmediateMisses {
  private readonly sync: BackendSync;

  constructor(private readonly host: ImmediateHost) {
    this.sync = host.backend.sync!;
  }

  /** True when a miss of `key` may be served now. */
  usable(key: string): boolean {
    const host = this.host;
    const cache = host.cache;
    return (
      host.readiness.gate === undefined && host.tierLink === undefined && !host.capturesIdentity && !cache.closed &&
      cache.store.dirtyCount === 0 && !cache.loading.has(key) && !host.locks.held(key) && !host.blocks.files.has(key)
    );
  }

  /** Stats of real path `key`, following links: the metadata cache's when servable, else the backend's (kept when `metadataCache` is on). */
  stat(key: string, syscall: string, userPath: string): BackendStats {
    const host = this.host;
    const meta = host.cache.meta;
    const cached = meta.get(key, true);
    if (cached !== undefined && host.servable(cached)) return cached;
    let stats: BackendStats;
    try {
      stats = this.sync.stat(key);
    } catch (err) {
      throw asCallError(err, syscall, userPath);
    }
    if (host.opts.metadataCache) meta.set(key, true, stats);
    return stats;
  }

  /**
   * Loads real path `key`, described by `stats`, and installs it: its content as a buffer the caller may
   * read until its next `await`, or undefined when it is not a small regular file (the caller then takes
   * the asynchronous way). Counts the miss and the backend read as a load does.
   */
  load(key: string, stats: BackendStats, userPath: string): Uint8Array | undefined {
    const host = this.host;
    const cache = host.cache;
    const store = cache.store;
    const size = stats.size;
    if (isDirectoryMode(stats.mode) || isSpecialMode(stats.mode) || host.blocks.wants(size) || !store.admissible(size)) return undefined;
    cache.counters.misses++;
    cache.counters.backendReads++;
    store.recordMiss(key);
    const started = performance.now();
    let bytes: Uint8Array;
    try {
      bytes = this.sync.readFile(key);
    } catch (err) {
      throw asCallError(err, hasCode(err) && err.code === 'EISDIR' ? 'read' : 'open', userPath);
    }
    host.loader.recordRead(key, started, bytes.length);
    // With no dirty data, making room evicts clean entries only: the install completes here.
    cache.installNow(key, bytes, bytes.length)?.catch(noop);
    return bytes;
  }
}
