import type { Backend, BackendFile, BackendStats } from '../backend/backend.js';
import { Cache } from '../cache/cache.js';
import type { Counters } from '../cache/counters.js';
import type { InstallHooks } from '../cache/ports.js';
import { MemoryPressure } from '../coherence/memory-pressure.js';
import { REVALIDATE, Revalidator } from '../coherence/revalidate.js';
import { ChangeWatcher } from '../coherence/watcher.js';
import { asCallError, fsError, hasCode } from '../errors.js';
import type { ResolvedOptions } from '../options.js';
import { isDirectoryMode, isSpecialMode } from '../util/modes.js';
import { PathLocks } from '../store/path-locks.js';
import { returnBuffers } from '../store/return-buffers.js';
import { WriteAround } from '../write/around.js';
import { Journal } from '../write/back/journal.js';
import { WriteBack } from '../write/back/write-back.js';
import { WriteThrough } from '../write/through.js';
import type { WholeWriteOptions, WriteContext, WriteMode } from '../write/write-mode.js';
import type { TierPort, TierScope } from '../tier/port.js';
import { Loader } from './loader.js';
import { BlockCache, type ReadSource } from './blocks.js';
import { ColdMisses } from './cold.js';
import { ImmediateMisses } from './immediate.js';
import type { OpenFileSource } from './open-file.js';
import { Readiness } from './readiness.js';
import { Resolver } from './resolver.js';
import { TierLink } from './tier-link.js';
import { Writer } from './writer.js';
import { SlotSet } from '../util/churn-map.js';

/**
 * What every view of one cache shares (a `CacheFS` and the views made by `sub()`), and the one place a
 * call turns into cache and backend work: a read is hit -> (revalidate) -> copy out, or a miss through
 * the {@link Loader}; a write runs under the path's lock and goes to the {@link WriteMode} chosen at
 * construction. Namespace changes (mkdir, rm, rename, …) are in `namespace.ts`.
 *
 * Built here, in this order: the cache, coherence (a backend that cannot watch fails construction
 * before any timer starts), the journal (opened and locked synchronously, replayed in the background:
 * see {@link readiness}) and the write mode.
 */
export class Engine implements WriteContext {
  readonly cache: Cache;
  readonly store: Cache['store'];
  readonly meta: Cache['meta'];
  readonly events: Cache['events'];
  readonly clock: Cache['clock'];
  private readonly resolutions: Cache['resolutions'];
  private readonly resolver: Resolver;
  readonly loader: Loader;
  /** Large files in blocks (src/engine/blocks.ts), entries of the cache like whole files. */
  readonly blocks: BlockCache;
  /** Loads record the file's identity (a `stat` before the read) for revalidation to compare with. */
  readonly capturesIdentity: boolean;
  /** `readFile` and `stat` of paths not resolved yet, at the backend call's own price (cold.ts). */
  readonly cold: ColdMisses;
  /** Misses served before the call returns, for a backend whose sync face is in memory (immediate.ts). */
  readonly immediate: ImmediateMisses | undefined;
  /** Backend files held open by handles (the backend's `open` face), closed with the cache. */
  readonly openFiles = new SlotSet<BackendFile>();
  readonly locks = new PathLocks();
  readonly write: WriteMode;
  readonly revalidator: Revalidator;
  /** The write-back journal (`journal` option): replayed at construction, appended to in write-back mode. */
  readonly journal: Journal | undefined;
  /** When the cache can serve: the journal of an earlier process replayed first. */
  readonly readiness: Readiness;
  private readonly watcher: ChangeWatcher | undefined;
  private readonly memoryPressure: MemoryPressure | undefined;
  /** The shared tier (`tier` option): misses ask Redis, changes are published (src/tier/). */
  readonly tierLink: TierLink | undefined;
  /** A write's way through the engine; the facade asks it for writes that complete at once. */
  readonly writer: Writer;
  /** `'strict'` tier: no hit is served before Redis confirmed its version. */
  private readonly tierChecksHits: boolean;

  constructor(
    readonly backend: Backend,
    readonly opts: ResolvedOptions,
    tier?: TierPort,
  ) {
    const cache = (this.cache = new Cache(opts));
    this.store = cache.store;
    this.meta = cache.meta;
    this.events = cache.events;
    this.clock = cache.clock;
    this.resolutions = cache.resolutions;
    this.resolver = new Resolver(backend, cache.resolutions);
    this.capturesIdentity = opts.revalidateAfter >= 0 || opts.watch;
    this.loader = new Loader(cache, backend, this.capturesIdentity);
    this.revalidator = new Revalidator(cache, backend);
    this.blocks = new BlockCache(this);
    cache.attachBlocks(this.blocks);
    this.watcher = opts.watch ? new ChangeWatcher(cache, backend, this.revalidator, opts.revalidateAfter) : undefined;
    const { maxHeapUsed, maxRss } = opts.memoryPressure ?? {};
    this.memoryPressure = maxHeapUsed !== undefined || maxRss !== undefined ? new MemoryPressure(cache, opts.memoryPressure!) : undefined;
    let journal: Journal | undefined;
    if (opts.journal !== undefined) {
      // Opened (and locked) synchronously so that a journal in use by a live process fails construction.
      try {
        journal = Journal.open(opts.journal, { sync: opts.journalSync });
      } catch (err) {
        this.watcher?.close();
        this.memoryPressure?.close();
        throw err;
      }
    }
    this.journal = journal;
    this.readiness = new Readiness(journal?.replay(backend));
    this.write =
      opts.writeMode === 'write-back' ? new WriteBack(this) : opts.writeMode === 'write-around' ? new WriteAround(this) : new WriteThrough(this);
    this.tierLink = tier ? new TierLink(cache, tier) : undefined;
    this.tierChecksHits = this.tierLink?.checksHits ?? false;
    this.writer = new Writer(this);
    this.cold = new ColdMisses(this);
    this.immediate = backend.syncInMemory === true && backend.sync !== undefined ? new ImmediateMisses(this) : undefined;
  }

  // The cache's state, for the facade, warming and metrics (fields where the cache never replaces them).
  get counters(): Counters {
    return this.cache.counters;
  }
  set counters(value: Counters) {
    this.cache.counters = value;
  }
  get closed(): boolean {
    return this.cache.closed;
  }
  get revalidateAfter(): number {
    return this.cache.revalidateAfter;
  }
  get readLatency(): Loader['readLatency'] {
    return this.loader.readLatency;
  }
  get flushInterval(): number {
    return this.opts.flushInterval;
  }
  /** Files with anything cached (a block-cached file counts once). */
  get fileEntries(): number {
    return this.cache.fileEntries;
  }

  // ---------------------------------------------------------------- keys

  /** The real path of `key` if it is already known, without any backend call. */
  knownKey(key: string): string {
    return this.resolutions.knownKey(key);
  }

  /** The real path of `key`, every link resolved (see {@link Resolver.resolve}). */
  resolve(key: string): Promise<string> {
    return this.resolver.resolve(key);
  }

  /** The real path of `key` when known without a backend call, else undefined. */
  resolvedKey(key: string): string | undefined {
    return this.resolver.resolvedKey(key);
  }

  /**
   * A mutating backend call on these paths failed; it may have taken effect all the same (a lost
   * acknowledgement), so what the cache knew of them may be stale: their clean data, metadata and
   * resolutions (and those below them) are dropped before the error reaches the caller. Dirty data
   * stays, to be flushed and retried (API 1.3 §2).
   */
  forgetAfterFailure(...keys: string[]): void {
    for (const key of keys) this.cache.invalidate({ within: key }, 'keep', { parent: true });
    this.cache.forgetResolutions();
  }

  /** The key of `key` with its parent's links resolved (the path itself is not followed). */
  resolveParent(key: string, root: string): Promise<string> {
    return this.resolver.resolveParent(key, root);
  }

  // ---------------------------------------------------------------- reads

  /**
   * The slot of a cached, still valid `key`, counting the hit; -1 when the caller must load;
   * `REVALIDATE` when the entry must first be checked against the backend (`revalidator.revalidate`).
   * Expired clean entries are dropped here; an expired dirty entry is still the truth and is served.
   */
  hitSlot(key: string): number {
    if (this.tierChecksHits) return -1;
    const cache = this.cache;
    const store = this.store;
    const slot = store.lookup(key);
    if (slot < 0) return -1;
    const expires = store.expiresAt(slot);
    const revalidateAfter = cache.revalidateAfter;
    if (expires !== Infinity || revalidateAfter >= 0) {
      const now = Date.now();
      if (expires <= now && !store.isDirty(slot) && !store.isPinned(slot)) {
        store.remove(slot, 'expired');
        return -1;
      }
      // A dirty entry is checked only for a conflict, which needs the identity it was loaded with.
      if (revalidateAfter >= 0 && now - store.validatedAt(slot) >= revalidateAfter && (!store.isDirty(slot) || store.hasIdentity(slot))) {
        return REVALIDATE;
      }
    }
    store.touch(slot, 0);
    cache.counters.hits++;
    return slot;
  }

  /** A fresh buffer the caller owns, holding the bytes of resident `slot`: a hit's only allocation. */
  copyOut(slot: number): Buffer {
    const bytes = this.store.view(slot);
    const out = returnBuffers.allocate(bytes.length);
    out.set(bytes, 0);
    return out;
  }

  /** Loads `key` through the shared loader (see {@link Loader.load}). */
  load(key: string, syscallPath: string, hooks?: InstallHooks, knownSize = -1): Promise<Buffer> {
    return this.loader.load(key, syscallPath, hooks, knownSize);
  }

  /**
   * The whole content of real path `key` as a fresh buffer the caller owns: a copy out of the cache on
   * a hit, else a load. Counts one hit or one miss.
   */
  async readWhole(key: string, userPath: string, source?: ReadSource): Promise<Buffer> {
    let slot = this.hitSlot(key);
    if (slot === REVALIDATE) slot = await this.revalidator.revalidate(key, 'open', userPath);
    if (slot >= 0) return this.copyOut(slot);
    const blocks = this.blocks;
    // 'strict' cannot check blocks with Redis (they are not shared): files cached in blocks are read anew.
    const fromBlocks = blocks.files.size !== 0 && !this.tierChecksHits && blocks.files.has(key) ? blocks.whole.readWholeOf(key, userPath, source) : undefined;
    if (fromBlocks !== undefined) return fromBlocks;
    if (this.tierLink !== undefined) {
      const got = await this.tierLink.read(key, () => this.loader.load(key, userPath));
      return typeof got === 'number' ? this.copyOut(got) : returnBuffers.copy(got, 0, got.length);
    }
    this.cache.counters.misses++;
    const loaded = await this.loader.load(key, userPath);
    return returnBuffers.copy(loaded, 0, loaded.length);
  }

  /**
   * The hit half of a positional read: when `key` is cached and valid, copies up to `length` bytes at
   * `position` into `into[offset..]` and returns the count (counting a hit). Otherwise returns what
   * {@link hitSlot} said (-1, or `REVALIDATE`), for the caller to hand to {@link readAtMiss}. Allocates
   * nothing.
   */
  readAtHit(key: string, into: Uint8Array, offset: number, length: number, position: number): number {
    const slot = this.hitSlot(key);
    if (slot === -1 && this.blocks.files.size !== 0 && !this.tierChecksHits) return this.blocks.hit(key, into, offset, length, position);
    return slot < 0 ? slot : this.copyRange(slot, into, offset, length, position);
  }

  /**
   * The rest of a positional read after {@link readAtHit} returned `state` (-1 or `REVALIDATE`):
   * revalidates, or counts one miss and loads the file when it can be cached, and otherwise reads just
   * the range from the backend.
   */
  readAtMiss(
    key: string, into: Uint8Array, offset: number, length: number, position: number, userPath: string, state: number,
    file?: OpenFileSource,
  ): Promise<number> {
    const blocks = this.blocks;
    if (state === -1 && blocks.files.size !== 0 && !this.tierChecksHits && blocks.files.has(key)) {
      // A block-cached file: straight to its blocks (or the backend), no await on the way.
      const source = file?.source ?? blocks.pathSource(key);
      if (source !== undefined) return blocks.readAt(key, into, offset, length, position, userPath, source);
    }
    return this.readAtMissSlow(key, into, offset, length, position, userPath, state, file);
  }

  private async readAtMissSlow(
    key: string, into: Uint8Array, offset: number, length: number, position: number, userPath: string, state: number,
    file: OpenFileSource | undefined,
  ): Promise<number> {
    let slot = state;
    if (slot === REVALIDATE) slot = await this.revalidator.revalidate(key, 'read', userPath);
    const tier = this.tierLink;
    if (slot < 0 && tier !== undefined) slot = await tier.confirmedSlot(key);
    if (slot < 0) {
      const blocks = this.blocks;
      const source = file?.source ?? blocks.pathSource(key);
      if (blocks.files.size !== 0 && !this.tierChecksHits && blocks.files.has(key) && source !== undefined) {
        return blocks.readAt(key, into, offset, length, position, userPath, source);
      }
      // With a tier, the miss is counted where the backend is read (a read served from Redis is a hit).
      if (tier === undefined) this.cache.counters.misses++;
      const statStartedAt = Date.now();
      const st = (await file?.stats()) ?? (await this.statOf(key, true, 'read', userPath));
      if (isDirectoryMode(st.mode)) throw fsError('EISDIR', 'read', userPath);
      if (isSpecialMode(st.mode)) {
        if (tier !== undefined) this.cache.counters.misses++;
        const loaded = await this.loader.load(key, userPath); // read through, never installed
        if (position >= loaded.length) return 0;
        return loaded.copy(into, offset, position, Math.min(loaded.length, position + length));
      }
      if (blocks.wants(st.size) && !this.tierChecksHits && source !== undefined && this.cache.store.lookup(key) < 0) {
        if (tier !== undefined) this.cache.counters.misses++;
        return blocks.loadAt(key, this.capturesIdentity ? st : undefined, statStartedAt, into, offset, length, position, source, userPath, st.size);
      }
      if (!this.cache.store.admissible(st.size) && source !== undefined) {
        if (tier !== undefined) this.cache.counters.misses++;
        try {
          return await source(into, offset, length, position);
        } catch (err) {
          throw asCallError(err, 'read', userPath);
        }
      }
      const load = (): Promise<Buffer> => this.loader.load(key, userPath, undefined, st.size);
      const got = tier === undefined ? await load() : await tier.read(key, load);
      if (typeof got === 'number') return this.copyRange(got, into, offset, length, position);
      const loaded = got;
      slot = this.cache.store.lookup(key);
      if (slot < 0) {
        if (position >= loaded.length) return 0;
        return loaded.copy(into, offset, position, Math.min(loaded.length, position + length));
      }
    }
    return this.copyRange(slot, into, offset, length, position);
  }

  /**
   * Copies up to `length` bytes at `position` of resident `slot` into `into[offset..]`. The whole file
   * from 0, and any range of up to 32 bytes, allocate nothing; another range costs the view
   * `Buffer#copy` makes of its source.
   */
  private copyRange(slot: number, into: Uint8Array, offset: number, length: number, position: number): number {
    const bytes = this.store.view(slot);
    const size = bytes.length;
    if (position >= size) return 0;
    if (position === 0 && length >= size && into.length - offset >= size) {
      into.set(bytes, offset);
      return size;
    }
    const n = Math.min(size - position, length);
    if (n <= 32) {
      for (let i = 0; i < n; i++) into[offset + i] = bytes[position + i]!;
      return n;
    }
    return bytes.copy(into, offset, position, position + n);
  }

  /**
   * True when `key` is resident and may be used without a check against the backend (revalidation not
   * due, or dirty: the program's data is the file).
   */
  residentAndFresh(key: string): boolean {
    const store = this.cache.store;
    const slot = store.lookup(key);
    if (slot < 0) return false;
    const after = this.cache.revalidateAfter;
    return after < 0 || store.isDirty(slot) || Date.now() - store.validatedAt(slot) < after;
  }

  // ---------------------------------------------------------------- metadata

  /**
   * Stats of a path, from the metadata cache or the backend; dirty data overrides size and mtime.
   * `looked`: what the caller already found in the metadata cache (null: nothing), so the lookup counts
   * once. Not `async`: a fresh cached answer costs no extra turn.
   */
  statOf(key: string, follow: boolean, syscall: string, userPath: string, looked?: BackendStats | null): Promise<BackendStats> {
    const stats = looked === undefined ? this.cache.meta.get(key, follow) : looked ?? undefined;
    const stale = stats !== undefined && this.cache.revalidateAfter >= 0 && !this.revalidator.metadataFresh(stats);
    return stats === undefined || stale ? this.statFromBackend(key, follow, syscall, userPath, stale) : this.withDirtyData(key, follow, stats);
  }

  private async statFromBackend(key: string, follow: boolean, syscall: string, userPath: string, stale: boolean): Promise<BackendStats> {
    let stats: BackendStats;
    const generation = this.cache.meta.generation;
    try {
      stats = await this.revalidator.stat(key, follow, stale);
    } catch (err) {
      if (stale) this.cache.meta.delete(key);
      // An lstat that found nothing proves an absence (a stat may have met a dangling link).
      else if (!follow && hasCode(err) && err.code === 'ENOENT') this.cache.meta.setMissing(key, generation);
      throw asCallError(err, syscall, userPath);
    }
    if (this.opts.metadataCache) this.cache.meta.set(key, follow, stats);
    return this.cache.store.dirtyCount > 0 ? this.withDirtyData(key, follow, stats) : stats;
  }

  /** `stats` of `key` as the program sees them: dirty data overrides size and times. */
  withDirtyData(key: string, follow: boolean, stats: BackendStats): Promise<BackendStats> {
    if (this.cache.store.dirtyCount === 0 || isDirectoryMode(stats.mode)) return Promise.resolve(stats);
    return this.overDirtyData(follow ? this.resolve(key) : Promise.resolve(key), stats);
  }

  private async overDirtyData(real: Promise<string>, stats: BackendStats): Promise<BackendStats> {
    const store = this.cache.store;
    const slot = store.lookup(await real);
    if (slot < 0 || !store.isDirty(slot)) return stats;
    return { ...stats, size: store.size(slot), mtimeMs: store.mtimeMs(slot), ctimeMs: store.mtimeMs(slot), blocks: Math.ceil(store.size(slot) / 512) };
  }

  /**
   * True when stats found in the metadata cache may be served as they are, without an `await`: fresh,
   * and no dirty data of the file overrides size and times.
   */
  servable(stats: BackendStats): boolean {
    if (this.cache.revalidateAfter >= 0 && !this.revalidator.metadataFresh(stats)) return false;
    return this.cache.store.dirtyCount === 0 || isDirectoryMode(stats.mode);
  }

  /** Changes permission bits; dirty data is unaffected. */
  async chmod(key: string, mode: number, userPath: string): Promise<void> {
    try {
      await this.backend.chmod(key, mode);
    } catch (err) {
      this.forgetAfterFailure(key);
      throw asCallError(err, 'chmod', userPath);
    }
    this.ownChange(key);
  }

  /** Sets times (epoch ms); on a dirty entry the new mtime is what a flush will keep. */
  async utimes(key: string, atimeMs: number, mtimeMs: number, userPath: string): Promise<void> {
    try {
      await this.backend.utimes(key, atimeMs, mtimeMs);
    } catch (err) {
      this.forgetAfterFailure(key);
      throw asCallError(err, 'utime', userPath);
    }
    const store = this.cache.store;
    const slot = store.lookup(key);
    if (slot >= 0 && store.isDirty(slot)) store.setMtimeMs(slot, mtimeMs);
    this.ownChange(key);
  }

  /** The program changed `key`'s file itself: the identity recorded at load no longer describes it. */
  private ownChange(key: string): void {
    const slot = this.cache.store.lookup(key);
    if (slot >= 0) this.cache.store.clearIdentity(slot);
    this.cache.metadataChanged(key);
  }

  // ---------------------------------------------------------------- writes (engine/writer.ts)

  /** Replaces the whole content of real path `key` (writeFile). */
  writeWhole(key: string, data: Uint8Array, userPath: string, opts: WholeWriteOptions): Promise<void> {
    return this.writer.writeWhole(key, data, userPath, opts);
  }

  /** Writes `data` at `position` of real path `key` (a handle write). */
  writeAt(key: string, data: Uint8Array, position: number, userPath: string): Promise<void> {
    return this.writer.writeAt(key, data, position, userPath);
  }

  /** Appends `data` to real path `key` (creating it); resolves to the new size. */
  append(key: string, data: Uint8Array, userPath: string): Promise<number> {
    return this.writer.append(key, data, userPath);
  }

  /** Sets the length of real path `key`. */
  truncate(key: string, length: number, userPath: string): Promise<void> {
    return this.writer.truncate(key, length, userPath);
  }

  /** Whether the file a creation targets exists: EISDIR for a directory, EEXIST when `exclusive`. */
  existsForCreate(key: string, userPath: string, exclusive: boolean): Promise<boolean> {
    return this.writer.existsForCreate(key, userPath, exclusive);
  }

  /** Creates an empty file if it does not exist (open with a create flag). */
  createIfMissing(key: string, userPath: string, exclusive: boolean, truncate: boolean, mode: number): Promise<void> {
    return this.writer.createIfMissing(key, userPath, exclusive, truncate, mode);
  }

  // ---------------------------------------------------------------- lifetime

  /** Stops background work, flushes, releases. */
  async close(): Promise<void> {
    const cache = this.cache;
    if (cache.closed) return;
    await this.locks.idle();
    await this.write.close();
    this.watcher?.close();
    this.memoryPressure?.close();
    cache.closed = true;
    for (const file of this.openFiles.values()) await file.close().catch(() => undefined);
    this.openFiles.clear();
    cache.store.removeAll('invalidated');
    cache.store.bytes.trim();
    cache.meta.clear();
    await this.journal?.close();
    await this.tierLink?.close();
    await this.backend.close?.();
  }

  /**
   * Changes resolved here reach the other processes sharing the tier (no-op without one). Awaited by
   * the call that made them, so a `'strict'` read elsewhere that starts after it sees them.
   */
  async tierPublished(...scopes: TierScope[]): Promise<void> {
    const link = this.tierLink;
    if (link === undefined) return;
    await Promise.all(scopes.map((scope) => link.published(scope)));
  }
}
