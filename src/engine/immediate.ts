// The module's binding, not the global: Node defines the global `performance` as a getter, run at every use.
import { performance } from 'node:perf_hooks';
import type { Backend, BackendStats, BackendSync } from '../backend/backend.js';
import type { Cache } from '../cache/cache.js';
import type { InstallSource } from '../cache/ports.js';
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
   * Loads real path `key`, described by `stats`, installs it, and copies up to `length` bytes of it at
   * `position` into `into[offset..]`: returns the count, or -1 when it is not a small regular file (the
   * caller then takes the asynchronous way). Counts the miss and the backend read as a load does.
   */
  loadInto(key: string, stats: BackendStats, userPath: string, into: Uint8Array, offset: number, length: number, position: number): number {
    const host = this.host;
    const cache = host.cache;
    const store = cache.store;
    const size = stats.size;
    if (isDirectoryMode(stats.mode) || isSpecialMode(stats.mode) || host.blocks.wants(size) || !store.admissible(size)) return -1;
    cache.counters.misses++;
    cache.counters.backendReads++;
    store.recordMiss(key);
    const started = performance.now();
    // Read straight into a chunk of the byte store, which the entry then adopts: no buffer of the
    // backend's and no second copy. A backend without a sync `read`, an empty file, or one whose size
    // moved since its stat is read whole instead.
    const read = this.sync.read;
    let target = read === undefined || size === 0 ? undefined : store.bytes.allocate(size);
    let n = -1;
    let bytes: Uint8Array | undefined;
    try {
      if (target !== undefined) n = this.readWhole(read!, key, target, size);
      if (n < 0) {
        if (target !== undefined) store.bytes.release(target);
        target = undefined;
        bytes = this.sync.readFile(key);
        n = bytes.length;
      }
    } catch (err) {
      if (target !== undefined) store.bytes.release(target);
      throw asCallError(err, hasCode(err) && err.code === 'EISDIR' ? 'read' : 'open', userPath);
    }
    host.loader.recordRead(key, started, n);
    // With no dirty data, making room evicts clean entries only: the install completes here (an entry
    // the policy refuses gives its adopted chunk back to the byte store).
    if (bytes === undefined) cache.installNow(key, target!, n, ADOPTED)?.catch(noop);
    else cache.installNow(key, bytes, n)?.catch(noop);
    if (position >= n) return 0;
    const count = Math.min(n - position, length);
    // The caller's bytes are read from the backend once more (a copy in memory; nothing ran since the
    // first): a chunk is usually longer than its file, and copying part of it needs a view of it, an
    // allocation per miss that costs more than the second copy.
    if (bytes === undefined) return read!(key, into, offset, count, position);
    into.set(position === 0 && count === n ? bytes : bytes.subarray(position, position + count), offset);
    return count;
  }

  /**
   * Reads the whole file into `target` (a chunk of at least `size` bytes) and returns its length, or -1
   * when it is no longer `size` bytes long and the chunk could not hold the rest. One byte more than
   * `size` is asked for where the chunk has room, so that a file that grew since its stat is noticed; a
   * chunk of exactly `size` bytes asks the size anew instead.
   */
  private readWhole(read: NonNullable<BackendSync['read']>, key: string, target: Buffer, size: number): number {
    const want = Math.min(target.length, size + 1);
    const n = read(key, target, 0, want, 0);
    if (n > size || (n === size && want === size && this.sync.stat(key).size !== size)) return -1;
    return n;
  }
}

/** An install of a buffer that came from the byte store. */
const ADOPTED: InstallSource = { adopted: true };
