import { EventEmitter } from 'node:events';
import type { Backend, BackendStats } from './backend/backend.js';
import { asCallError, fsError, hasCode, InvalidArgTypeError } from './errors.js';
import type { ResolvedOptions } from './options.js';
import { baseName, isWithin, joinPath, normalizePath, parentOf } from './paths.js';
import { createPolicy } from './policy/index.js';
import { createByteStore } from './store/pool.js';
import { DataStore, type RemovalReason } from './store/data-store.js';
import { MetadataCache } from './store/metadata-cache.js';
import { MutationClock } from './store/mutation-clock.js';
import { PathLocks } from './store/path-locks.js';
import { returnBuffers } from './store/return-buffers.js';
import { isDirectoryMode, isSpecialMode, isSymlinkMode, syntheticFileStats } from './stats-object.js';
import { compileGlob } from './coherence/glob.js';
import { captureIdentity } from './coherence/identity.js';
import { MemoryPressure } from './coherence/memory-pressure.js';
import { REVALIDATE, Revalidator } from './coherence/revalidate.js';
import { ChangeWatcher } from './coherence/watcher.js';
import { WriteBack } from './writeback/write-back.js';
import { Journal } from './writeback/journal.js';
import { LatencyHistogram } from './metrics/latency.js';

/** Counters kept on the hot path: plain numbers, read by the metrics exporters. */
export interface Counters {
  hits: number;
  misses: number;
  readOps: number;
  writeOps: number;
  invalidateOps: number;
  flushCount: number;
  flushErrors: number;
  backendReads: number;
  revalidations: number;
  changesDetected: number;
  bytesShed: number;
  /** Entries that left the cache, by the store's removal reason (metrics: evictions by reason). */
  removedEvicted: number;
  removedExpired: number;
  removedInvalidated: number;
  removedShed: number;
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

function newCounters(): Counters {
  return {
    hits: 0, misses: 0, readOps: 0, writeOps: 0, invalidateOps: 0, flushCount: 0, flushErrors: 0,
    backendReads: 0, revalidations: 0, changesDetected: 0, bytesShed: 0,
    removedEvicted: 0, removedExpired: 0, removedInvalidated: 0, removedShed: 0,
  };
}

const EMPTY = new Uint8Array(0);

/** Default of {@link CacheCore.readIntoStoreMin}: below it, `readFile` plus a copy is as fast or faster. */
const READ_INTO_STORE_MIN = 16 * 1024;

/** Converts a Node-style time argument (seconds as number or string, or a Date) to epoch ms. */
export function toTimeMs(value: number | string | Date, name: string): number {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'number' && Number.isFinite(value)) return value * 1000;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value) * 1000;
  throw new InvalidArgTypeError(name, 'of type number, string or an instance of Date', value);
}

/**
 * The state every view of one cache shares (a `CacheFS` and the views made by `sub()`): backend, data
 * store, metadata cache, counters and the machinery that keeps reads right under concurrency. Keys are
 * backend paths with every symbolic link resolved, so a file reached through a link and through its
 * real path is one entry.
 */
export class CacheCore {
  readonly store: DataStore;
  readonly meta: MetadataCache;
  readonly clock = new MutationClock();
  readonly locks = new PathLocks();
  readonly events = new EventEmitter();
  counters: Counters = newCounters();
  /** Latency of successful backend reads, in fixed buckets (read by the Prometheus exporter). */
  readonly readLatency = new LatencyHistogram();
  readonly writeBack: WriteBack | undefined;
  /** The write-back journal (`journal` option): replayed at construction, appended to in write-back mode. */
  readonly journal: Journal | undefined;
  closed = false;
  /** Resolves when the cache can serve (journal replay, when configured). */
  ready: Promise<void> = Promise.resolve();
  /** True while the journal of an earlier process is being replayed: calls wait for {@link ready}. */
  replayPending = false;
  /** Loads in flight, so that concurrent misses of one path share one backend read. */
  private readonly loading = new Map<string, Promise<Buffer>>();
  /** Non-canonical paths (through a symbolic link) already resolved to their real path. */
  private readonly aliasOf = new Map<string, string>();
  /** Paths known to be canonical, so that resolving them costs no backend call. */
  private readonly canonical = new Set<string>();
  private readonly ttlMatchers: { match: (p: string) => boolean; ttl: number }[];

  // Coherence (src/coherence/): revalidation, watching, memory pressure.
  /** The revalidation age in force (-1 never, 0 always, else ms): the option, or 0 while a watcher is down. */
  revalidateAfter: number;
  /** Loads record the file's identity (a `stat` before the read) for revalidation to compare with. */
  private readonly capturesIdentity: boolean;
  readonly revalidator: Revalidator;
  private readonly watcher: ChangeWatcher | undefined;
  private readonly memoryPressure: MemoryPressure | undefined;

  constructor(
    readonly backend: Backend,
    readonly opts: ResolvedOptions,
  ) {
    this.store = new DataStore(createPolicy(opts.eviction), createByteStore(opts.pool, opts.maxBytes), opts.maxBytes, opts.maxEntries);
    this.meta = new MetadataCache(opts.metadataCache, opts.metadataMaxEntries);
    // Keys are absolute: a relative pattern ('*.css') is taken relative to '/', as cwd() starts.
    this.ttlMatchers = opts.ttlRules.map((r) => ({
      match: compileGlob(r.pattern.startsWith('/') ? r.pattern : `/${r.pattern}`, 'ttlRules.pattern'),
      ttl: r.ttl,
    }));
    this.store.onRemove = (key, reason, size) => {
      if (reason === 'replaced') return;
      const c = this.counters;
      if (reason === 'evicted') c.removedEvicted++;
      else if (reason === 'expired') c.removedExpired++;
      else if (reason === 'invalidated') c.removedInvalidated++;
      else c.removedShed++;
      this.events.emit('evict', { path: key, reason, size });
    };
    this.events.on('error', () => {
      // Errors are also delivered as 'flushError'; an unhandled 'error' event must not crash the program.
    });
    // Coherence first: a backend that cannot watch must fail construction before any timer starts.
    this.revalidateAfter = opts.revalidateAfter;
    this.capturesIdentity = opts.revalidateAfter >= 0 || opts.watch;
    this.revalidator = new Revalidator(this);
    this.watcher = opts.watch ? new ChangeWatcher(this) : undefined;
    const { maxHeapUsed, maxRss } = opts.memoryPressure ?? {};
    this.memoryPressure = maxHeapUsed !== undefined || maxRss !== undefined ? new MemoryPressure(this, opts.memoryPressure!) : undefined;
    if (opts.journal !== undefined) {
      // Opened (and locked) synchronously so that a journal in use by a live process fails construction.
      let journal: Journal;
      try {
        journal = Journal.open(opts.journal, { sync: opts.journalSync });
      } catch (err) {
        this.watcher?.close();
        this.memoryPressure?.close();
        throw err;
      }
      this.journal = journal;
      this.replayPending = true;
      this.ready = journal.replay(backend).then(
        () => void (this.replayPending = false),
        (err: unknown) => {
          this.replayPending = false;
          throw err;
        },
      );
      this.ready.catch(() => undefined); // reported through ready() and every call, never as unhandled
    }
    if (opts.writeMode === 'write-back') this.writeBack = new WriteBack(this);
  }

  // ---------------------------------------------------------------- keys

  /** When an entry loaded now for `key` expires (epoch ms, or Infinity). */
  expiryFor(key: string, now: number): number {
    let ttl = this.opts.ttl;
    for (const rule of this.ttlMatchers) {
      if (rule.match(key)) {
        ttl = rule.ttl;
        break;
      }
    }
    return ttl > 0 ? now + ttl : Infinity;
  }

  /** The real path of `key` if it is already known, without any backend call. */
  knownKey(key: string): string {
    if (this.aliasOf.size === 0) return key;
    return this.aliasOf.get(key) ?? key;
  }

  /**
   * The real path of `key`: symbolic links resolved through the backend's `realpath`. A path that does
   * not exist yet resolves through its parent, so a file created through a linked directory is keyed
   * under the directory's real path.
   */
  async resolve(key: string, depth = 0): Promise<string> {
    const known = this.aliasOf.get(key);
    if (known !== undefined) return known;
    if (!this.backend.realpath || key === '/' || this.canonical.has(key)) return key;
    let real: string;
    try {
      real = await this.backend.realpath(key);
    } catch (err) {
      if (!hasCode(err) || err.code !== 'ENOENT') return key;
      const parent = parentOf(key);
      const realParent = await this.resolve(parent);
      real = realParent === parent ? key : joinPath(realParent, baseName(key));
      return this.danglingDestination(real, depth);
    }
    this.remember(key, real);
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
    const dest = normalizePath(target.startsWith('/') ? target : joinPath(parentOf(key), target));
    return this.resolve(dest, depth + 1);
  }

  private remember(key: string, real: string): void {
    // Bounded: a crawl must not grow these without limit; forgetting only costs a realpath call later.
    if (this.canonical.size > 100_000) this.canonical.clear();
    if (this.aliasOf.size > 100_000) this.aliasOf.clear();
    if (real === key) this.canonical.add(key);
    else this.aliasOf.set(key, real);
  }

  /** Forgets every path resolution: the namespace changed (rename, removal, a new link). */
  forgetResolutions(): void {
    this.aliasOf.clear();
    this.canonical.clear();
  }

  // ---------------------------------------------------------------- reads

  /**
   * The slot of a cached, still valid `key`, counting the hit; -1 when the caller must load;
   * `REVALIDATE` when the entry must first be checked against the backend (`revalidator.revalidate`).
   * Expired clean entries are dropped here; an expired dirty entry is still the truth and is served.
   */
  hitSlot(key: string): number {
    const store = this.store;
    const slot = store.lookup(key);
    if (slot < 0) return -1;
    const expires = store.expiresAt(slot);
    const revalidateAfter = this.revalidateAfter;
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
    this.counters.hits++;
    return slot;
  }

  /**
   * The whole content of real path `key`, from the backend, installing it in the cache when allowed.
   * Concurrent callers share one backend read. The returned buffer belongs to the cache's loader: copy
   * it before handing it out.
   */
  load(key: string, syscallPath: string, hooks?: InstallHooks, knownSize = -1): Promise<Buffer> {
    const pending = this.loading.get(key);
    if (pending !== undefined) return pending;
    const ticket = this.clock.begin();
    const promise =
      knownSize >= this.readIntoStoreMin && this.backend.read !== undefined && this.store.admissible(knownSize)
        ? this.loadIntoStore(key, ticket, syscallPath, hooks, knownSize)
        : this.loadFromBackend(key, ticket, syscallPath, hooks);
    this.loading.set(key, promise);
    return promise;
  }

  private async loadFromBackend(key: string, ticket: number, syscallPath: string, hooks: InstallHooks | undefined): Promise<Buffer> {
    let data: Uint8Array;
    try {
      this.counters.backendReads++;
      this.store.recordMiss(key);
      let identity: BackendStats | undefined;
      const statStartedAt = Date.now();
      // Stat before the read, never after: see captureIdentity.
      if (this.capturesIdentity) identity = await this.backend.stat(key);
      // What kind of file this is, asked beside the read (no added latency): a FIFO, socket or device
      // is read through and never cached.
      const kind = identity !== undefined ? undefined : this.backend.stat(key).catch(() => undefined);
      const started = performance.now();
      data = await this.backend.readFile(key);
      this.recordBackendRead(key, started, data.length);
      const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      hooks?.read?.(buf.length);
      const mode = (identity ?? (await kind))?.mode;
      if (mode !== undefined && isSpecialMode(mode)) return buf;
      if (this.loading.get(key) !== undefined && this.clock.mayInstall(key, ticket) && !this.closed) {
        await this.installClean(key, buf, hooks, identity, statStartedAt);
      }
      return buf;
    } catch (err) {
      throw asCallError(err, hasCode(err) && err.code === 'EISDIR' ? 'read' : 'open', syscallPath);
    } finally {
      this.loading.delete(key);
      this.clock.end();
    }
  }

  private recordBackendRead(key: string, started: number, bytes: number): void {
    const ms = performance.now() - started;
    this.readLatency.record(ms);
    // The event object is built only when someone listens: a miss should not allocate for nothing.
    if (this.events.listenerCount('backendRead') > 0) this.events.emit('backendRead', { path: key, ms, bytes });
  }

  // ---------------------------------------------------------------- misses into pool memory (pooling)

  /**
   * Files at least this large, whose size a caller already knows, are read with the backend's `read`
   * straight into the store's memory instead of `readFile` plus a copy (see docs/pooling.md for the
   * crossover on each backend).
   */
  readIntoStoreMin = READ_INTO_STORE_MIN;

  /**
   * A load that reads `size` bytes (a stat's answer) straight into a buffer of the byte store, which the
   * entry then adopts: no intermediate buffer and no copy. When the buffer has room, one byte more is
   * asked for, so that a file that grew since the stat is noticed and read again whole.
   *
   * The resolved bytes are the store's own memory: they stay untouched until every caller that awaited
   * this load has run (the byte store holds them back until the next turn of the event loop), and
   * callers copy out of them right after their `await`, as every caller of {@link load} does.
   */
  private async loadIntoStore(key: string, ticket: number, syscallPath: string, hooks: InstallHooks | undefined, size: number): Promise<Buffer> {
    const bytes = this.store.bytes;
    let target: Buffer | undefined;
    try {
      this.counters.backendReads++;
      this.store.recordMiss(key);
      let identity: BackendStats | undefined;
      const statStartedAt = Date.now();
      if (this.capturesIdentity) {
        identity = await this.backend.stat(key);
        size = identity.size;
      }
      const started = performance.now();
      target = bytes.allocate(size);
      const want = Math.min(target.length, size + 1);
      // Reading stops once the stat's size is reached (no extra call to confirm the end of the file);
      // a backend that returns less is asked again, in case it reads in pieces.
      let n = 0;
      do {
        const got = await this.backend.read!(key, target, n, want - n, n);
        if (got <= 0) break;
        n += got;
      } while (n < size);
      if (n > size) {
        // The file grew after the stat: give the buffer back and read it whole.
        bytes.release(target);
        target = undefined;
        const whole = Buffer.from(await this.backend.readFile(key));
        this.recordBackendRead(key, started, whole.length);
        hooks?.read?.(whole.length);
        if (this.loading.get(key) !== undefined && this.clock.mayInstall(key, ticket) && !this.closed) {
          await this.installClean(key, whole, hooks);
        }
        return whole;
      }
      this.recordBackendRead(key, started, n);
      hooks?.read?.(n);
      const data = target.subarray(0, n);
      const adopted = target;
      target = undefined;
      bytes.hold(adopted);
      try {
        if (this.loading.get(key) !== undefined && this.clock.mayInstall(key, ticket) && !this.closed) {
          await this.installAdopted(key, adopted, n, hooks, identity, statStartedAt);
        } else {
          bytes.release(adopted);
        }
      } finally {
        setImmediate(() => bytes.unhold(adopted));
      }
      return data;
    } catch (err) {
      if (target !== undefined) bytes.release(target);
      throw asCallError(err, hasCode(err) && err.code === 'EISDIR' ? 'read' : 'open', syscallPath);
    } finally {
      this.loading.delete(key);
      this.clock.end();
    }
  }

  /**
   * {@link installClean} for a buffer of the byte store holding `size` bytes: the entry adopts it, or,
   * when it is not installed, it goes back to the store.
   */
  private async installAdopted(key: string, buffer: Buffer, size: number, hooks?: InstallHooks, identity?: BackendStats, statStartedAt?: number): Promise<void> {
    const store = this.store;
    const existing = store.lookup(key);
    if (!store.admissible(size) || (existing >= 0 && store.isDirty(existing)) || (hooks?.admit && !hooks.admit(size))) {
      store.bytes.release(buffer);
      if (!store.admissible(size) && existing >= 0 && !store.isDirty(existing)) store.remove(existing, 'invalidated');
      return;
    }
    const now = Date.now();
    const slot = store.install(key, buffer, size, this.expiryFor(key, now), now, true);
    if (identity !== undefined && statStartedAt !== undefined) {
      store.setValidatedAt(slot, statStartedAt);
      captureIdentity(store, slot, identity, statStartedAt);
    }
    hooks?.installed?.(slot);
    await this.enforceLimits();
  }

  // ---------------------------------------------------------------- (end of misses into pool memory)

  /**
   * The whole content of real path `key` as a fresh buffer the caller owns: a copy out of the cache on
   * a hit, else a load. Counts one hit or one miss.
   */
  async readWhole(key: string, userPath: string): Promise<Buffer> {
    let slot = this.hitSlot(key);
    if (slot === REVALIDATE) slot = await this.revalidator.revalidate(key, 'open', userPath);
    if (slot >= 0) return this.copyOut(slot);
    this.counters.misses++;
    const loaded = await this.load(key, userPath);
    return returnBuffers.copy(loaded, 0, loaded.length);
  }

  /**
   * Reads up to `length` bytes at `position` of real path `key` into `into[offset..]`. A hit copies
   * straight out of the cache and allocates nothing but the promise. A miss loads the file when it can be
   * cached, and otherwise reads just the range from the backend.
   */
  readAt(key: string, into: Buffer, offset: number, length: number, position: number, userPath: string): Promise<number> {
    const n = this.readAtHit(key, into, offset, length, position);
    return n >= 0 ? Promise.resolve(n) : this.readAtMiss(key, into, offset, length, position, userPath, n);
  }

  // ---------------------------------------------------------------- hits without allocation (pooling)

  /** A fresh buffer the caller owns, holding the bytes of resident `slot`: a hit's only allocation. */
  copyOut(slot: number): Buffer {
    const bytes = this.store.view(slot);
    const out = returnBuffers.allocate(bytes.length);
    out.set(bytes, 0);
    return out;
  }

  /**
   * The hit half of {@link readAt}: when `key` is cached and valid, copies from it into `into` and
   * returns the count (counting a hit). Otherwise returns what {@link hitSlot} said (-1, or
   * `REVALIDATE`), for the caller to hand to {@link readAtMiss}. Allocates nothing.
   */
  readAtHit(key: string, into: Buffer, offset: number, length: number, position: number): number {
    const slot = this.hitSlot(key);
    return slot < 0 ? slot : this.copyRange(slot, into, offset, length, position);
  }

  /**
   * Copies up to `length` bytes at `position` of resident `slot` into `into[offset..]`. The whole file
   * from 0, and any range of up to 32 bytes, allocate nothing; another range costs the view
   * `Buffer#copy` makes of its source.
   */
  private copyRange(slot: number, into: Buffer, offset: number, length: number, position: number): number {
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
   * The rest of {@link readAt} after {@link readAtHit} returned `state` (-1 or `REVALIDATE`): revalidates,
   * or counts one miss and loads.
   */
  async readAtMiss(key: string, into: Buffer, offset: number, length: number, position: number, userPath: string, state: number): Promise<number> {
    let slot = state;
    if (slot === REVALIDATE) slot = await this.revalidator.revalidate(key, 'read', userPath);
    if (slot < 0) {
      this.counters.misses++;
      const st = await this.statOf(key, true, 'read', userPath);
      if (isDirectoryMode(st.mode)) throw fsError('EISDIR', 'read', userPath);
      if (isSpecialMode(st.mode)) {
        const loaded = await this.load(key, userPath); // read through, never installed
        if (position >= loaded.length) return 0;
        return loaded.copy(into, offset, position, Math.min(loaded.length, position + length));
      }
      if (!this.store.admissible(st.size) && this.backend.read) {
        try {
          return await this.backend.read(key, into, offset, length, position);
        } catch (err) {
          throw asCallError(err, 'read', userPath);
        }
      }
      const loaded = await this.load(key, userPath, undefined, st.size);
      slot = this.store.lookup(key);
      if (slot < 0) {
        if (position >= loaded.length) return 0;
        return loaded.copy(into, offset, position, Math.min(loaded.length, position + length));
      }
    }
    return this.copyRange(slot, into, offset, length, position);
  }

  // ---------------------------------------------------------------- (end of hits without allocation)

  /** Changes permission bits; dirty data is unaffected. */
  async chmod(key: string, mode: number, userPath: string): Promise<void> {
    try {
      await this.backend.chmod(key, mode);
    } catch (err) {
      this.forgetAfterFailure(key);
      throw asCallError(err, 'chmod', userPath);
    }
    this.ownChange(key);
    this.forgetMeta(key);
  }

  /** Sets times; on a dirty entry the new mtime is what a flush will keep. */
  async utimes(key: string, atime: number | string | Date, mtime: number | string | Date, userPath: string): Promise<void> {
    const atimeMs = toTimeMs(atime, 'atime');
    const mtimeMs = toTimeMs(mtime, 'mtime');
    try {
      await this.backend.utimes(key, atimeMs, mtimeMs);
    } catch (err) {
      this.forgetAfterFailure(key);
      throw asCallError(err, 'utime', userPath);
    }
    const slot = this.store.lookup(key);
    if (slot >= 0 && this.store.isDirty(slot)) this.store.setMtimeMs(slot, mtimeMs);
    this.ownChange(key);
    this.forgetMeta(key);
  }

  /**
   * Installs clean bytes for `key` if they can ever fit, then restores the limits. `identity` is the
   * backend's `stat` of the file taken (at `statStartedAt`) before the bytes were read.
   */
  async installClean(key: string, data: Uint8Array, hooks?: InstallHooks, identity?: BackendStats, statStartedAt?: number): Promise<void> {
    const store = this.store;
    if (!store.admissible(data.length)) {
      const slot = store.lookup(key);
      if (slot >= 0 && !store.isDirty(slot)) store.remove(slot, 'invalidated');
      return;
    }
    const now = Date.now();
    const existing = store.lookup(key);
    if (existing >= 0 && store.isDirty(existing)) return; // the dirty copy is newer than any backend read
    if (hooks?.admit && !hooks.admit(data.length)) return;
    const slot = store.install(key, data, data.length, this.expiryFor(key, now), now);
    if (identity !== undefined && statStartedAt !== undefined) {
      store.setValidatedAt(slot, statStartedAt);
      captureIdentity(store, slot, identity, statStartedAt);
    }
    hooks?.installed?.(slot);
    await this.enforceLimits();
  }

  /** Evicts until the limits hold, waiting for the flushes of dirty victims. */
  async enforceLimits(): Promise<void> {
    const pending = this.store.enforceLimits(Date.now());
    if (pending !== undefined) await Promise.all(pending);
  }

  /** Invalidates the cached copy of `key` after the backend changed it (write-through/around, external). */
  forgetData(key: string): void {
    const slot = this.store.lookup(key);
    if (slot >= 0 && !this.store.isDirty(slot)) this.store.remove(slot, 'invalidated');
    this.loading.delete(key);
    this.clock.stamp(key);
  }

  /** The metadata of `key` changed: drop it and the parent's (its mtime and listing changed too). */
  forgetMeta(key: string): void {
    this.meta.delete(key);
    this.meta.delete(parentOf(key));
    if (this.aliasOf.size > 0) {
      // A link's cached `stat` is its target's; with links around, drop them all rather than miss one.
      this.meta.deleteWhere((p) => this.aliasOf.has(p));
    }
  }

  /** Stats of a path, from the metadata cache or the backend; dirty data overrides size and mtime. */
  async statOf(key: string, follow: boolean, syscall: string, userPath: string): Promise<BackendStats> {
    let stats = this.meta.get(key, follow);
    const stale = stats !== undefined && this.revalidateAfter >= 0 && !this.revalidator.metadataFresh(stats);
    if (stats === undefined || stale) {
      try {
        stats = await this.revalidator.stat(key, follow, stale);
      } catch (err) {
        if (stale) this.meta.delete(key);
        throw asCallError(err, syscall, userPath);
      }
      if (this.opts.metadataCache) this.meta.set(key, follow, stats);
    }
    if (this.store.dirtyCount > 0 && !isDirectoryMode(stats.mode)) {
      const real = follow ? await this.resolve(key) : key;
      const slot = this.store.lookup(real);
      if (slot >= 0 && this.store.isDirty(slot)) {
        return { ...stats, size: this.store.size(slot), mtimeMs: this.store.mtimeMs(slot), ctimeMs: this.store.mtimeMs(slot), blocks: Math.ceil(this.store.size(slot) / 512) };
      }
    }
    return stats;
  }

  /** The current size of real path `key`: the cached size when resident, else the backend's. */
  async sizeOf(key: string, userPath: string): Promise<number> {
    const slot = this.store.lookup(key);
    if (slot >= 0) return this.store.size(slot);
    const st = await this.statOf(key, true, 'fstat', userPath);
    return st.size;
  }

  // ---------------------------------------------------------------- writes

  /**
   * Replaces the whole content of real path `key` (writeFile). Runs under the path's lock.
   * `exclusive` fails with EEXIST when the file exists.
   */
  async writeWhole(key: string, data: Uint8Array, userPath: string, opts: { exclusive?: boolean; mode?: number }): Promise<void> {
    this.counters.writeOps++;
    await this.locks.run(key, () => this.writeWholeUnlocked(key, data, userPath, opts));
  }

  private async writeWholeUnlocked(key: string, data: Uint8Array, userPath: string, opts: { exclusive?: boolean; mode?: number }): Promise<void> {
    const mode = this.opts.writeMode;
    if (mode === 'write-back' && this.writeBack) {
      await this.writeBack.writeWhole(key, data, userPath, opts).catch(this.failedFor(key));
      return;
    }
    try {
      await this.backend.writeFile(key, data, { flag: opts.exclusive ? 'wx' : 'w', ...(opts.mode !== undefined ? { mode: opts.mode } : {}) });
    } catch (err) {
      this.forgetAfterFailure(key);
      throw asCallError(err, 'open', userPath);
    }
    this.forgetMeta(key);
    if (mode === 'write-through') {
      // Replace in place (install swaps the slot), so a pin on the path survives the rewrite.
      this.loading.delete(key);
      this.clock.stamp(key);
      await this.installClean(key, data);
    } else {
      this.forgetData(key);
    }
  }

  /** Writes `data` at `position` of real path `key` (a handle write). Runs under the path's lock. */
  async writeAt(key: string, data: Uint8Array, position: number, userPath: string): Promise<void> {
    this.counters.writeOps++;
    await this.locks.run(key, async () => {
      await this.revalidator.beforePatch(key);
      await this.writeAtUnlocked(key, data, position, userPath);
    });
  }

  /** Appends `data` to real path `key` (creating it); returns the new size. Runs under the path's lock. */
  async append(key: string, data: Uint8Array, userPath: string): Promise<number> {
    this.counters.writeOps++;
    return this.locks.run(key, async () => {
      await this.revalidator.beforePatch(key);
      let size: number;
      const slot = this.store.lookup(key);
      if (slot >= 0) {
        size = this.store.size(slot);
      } else {
        let st: BackendStats;
        try {
          st = await this.statOf(key, true, 'open', userPath);
        } catch (err) {
          if (!hasCode(err) || err.code !== 'ENOENT') throw err;
          await this.writeWholeUnlocked(key, data, userPath, {});
          return data.length;
        }
        if (isDirectoryMode(st.mode)) throw fsError('EISDIR', 'open', userPath);
        size = st.size;
      }
      if (data.length > 0) await this.writeAtUnlocked(key, data, size, userPath);
      return size + data.length;
    });
  }

  private async writeAtUnlocked(key: string, data: Uint8Array, position: number, userPath: string): Promise<void> {
    const store = this.store;
    if (this.opts.writeMode === 'write-back' && this.writeBack) {
      await this.writeBack.writeAt(key, data, position, userPath).catch(this.failedFor(key));
      return;
    }
    try {
      if (this.backend.write) {
        await this.backend.write(key, data, position);
      } else {
        const current = Buffer.from(await this.backend.readFile(key));
        const next = Buffer.alloc(Math.max(current.length, position + data.length));
        current.copy(next);
        next.set(data, position);
        await this.backend.writeFile(key, next);
      }
    } catch (err) {
      this.forgetAfterFailure(key);
      throw asCallError(err, 'write', userPath);
    }
    this.forgetMeta(key);
    const slot = store.lookup(key);
    this.loading.delete(key);
    this.clock.stamp(key);
    if (slot >= 0) {
      if (this.opts.writeMode === 'write-through' && store.admissible(Math.max(store.size(slot), position + data.length))) {
        store.writeAt(slot, position, data);
        store.clearIdentity(slot); // our write changed the file's identity
        await this.enforceLimits();
      } else {
        store.remove(slot, 'invalidated');
      }
    }
  }

  /** Sets the length of real path `key`. Runs under the path's lock. */
  async truncate(key: string, length: number, userPath: string): Promise<void> {
    this.counters.writeOps++;
    await this.locks.run(key, async () => {
      await this.revalidator.beforePatch(key);
      if (this.opts.writeMode === 'write-back' && this.writeBack) {
        await this.writeBack.truncate(key, length, userPath).catch(this.failedFor(key));
        return;
      }
      try {
        await this.backend.truncate(key, length);
      } catch (err) {
        this.forgetAfterFailure(key);
        throw asCallError(err, 'open', userPath);
      }
      this.forgetMeta(key);
      const slot = this.store.lookup(key);
      this.loading.delete(key);
      this.clock.stamp(key);
      if (slot >= 0) {
        if (this.opts.writeMode === 'write-through' && this.store.admissible(length)) {
          this.store.truncate(slot, length);
          this.store.clearIdentity(slot); // our truncate changed the file's identity
          await this.enforceLimits();
        } else {
          this.store.remove(slot, 'invalidated');
        }
      }
    });
  }

  /**
   * Whether the file an open-with-create (or a write-back creation) targets already exists in the
   * backend. A directory there is EISDIR; an existing file is EEXIST when `exclusive`.
   */
  async existsForCreate(key: string, userPath: string, exclusive: boolean): Promise<boolean> {
    let st: BackendStats;
    try {
      st = await this.backend.stat(key);
    } catch (err) {
      if (hasCode(err) && err.code === 'ENOENT') return false;
      throw asCallError(err, 'open', userPath);
    }
    if (isDirectoryMode(st.mode)) throw fsError('EISDIR', 'open', userPath);
    if (exclusive) throw fsError('EEXIST', 'open', userPath);
    return true;
  }

  /** Creates an empty file if it does not exist (open with a create flag). */
  async createIfMissing(key: string, userPath: string, exclusive: boolean, truncate: boolean, mode: number): Promise<void> {
    const slot = this.store.lookup(key);
    if (slot >= 0 && !exclusive) {
      if (truncate) await this.truncate(key, 0, userPath);
      return;
    }
    const exists = await this.existsForCreate(key, userPath, exclusive);
    if (!exists) {
      await this.writeWhole(key, EMPTY, userPath, { exclusive, mode });
    } else if (truncate) {
      await this.truncate(key, 0, userPath);
    }
  }

  // ---------------------------------------------------------------- dropping

  /**
   * Drops the data and metadata of `key`, flushing dirty data first (a dirty entry whose flush fails
   * stays, and the error is raised). True if anything was cached.
   */
  async drop(key: string, reason: RemovalReason = 'invalidated'): Promise<boolean> {
    let dropped = this.meta.delete(key);
    const slot = this.store.lookup(key);
    if (slot >= 0) {
      if (this.store.isDirty(slot) && this.writeBack) await this.writeBack.flushKey(key);
      const again = this.store.lookup(key);
      // Dirty again: a write landed after the flush; that data must stay until it is flushed too.
      if (again >= 0 && !this.store.isDirty(again)) this.store.remove(again, reason);
      dropped = true;
    }
    this.loading.delete(key);
    this.clock.stamp(key);
    return dropped;
  }

  /** Drops every cached path for which `match` is true; returns how many paths had anything cached. */
  async dropWhere(match: (key: string) => boolean, reason: RemovalReason = 'invalidated'): Promise<number> {
    const paths = new Set<string>();
    for (const key of this.store.allKeys()) if (match(key)) paths.add(key);
    for (const key of this.meta.paths()) if (match(key)) paths.add(key);
    this.clock.stampAll();
    for (const key of this.loading.keys()) if (match(key)) this.loading.delete(key);
    const failures: unknown[] = [];
    for (const key of paths) {
      try {
        await this.drop(key, reason);
      } catch (err) {
        failures.push(err);
      }
    }
    if (failures.length > 0) throw new AggregateError(failures, `cachefs: ${failures.length} dirty entries could not be flushed`);
    return paths.size;
  }

  /** Drops everything at or below `prefix` (by whole segments). */
  dropWithin(prefix: string, reason: RemovalReason = 'invalidated'): Promise<number> {
    return this.dropWhere((k) => isWithin(k, prefix), reason);
  }

  /** Discards the cached data of `key` without flushing: the program removed the file. */
  discard(key: string): void {
    const slot = this.store.lookup(key);
    if (slot >= 0) {
      if (this.store.isDirty(slot)) this.writeBack?.forget(key);
      this.store.remove(slot, 'invalidated');
    }
    this.meta.delete(key);
    this.loading.delete(key);
    this.clock.stamp(key);
  }

  /**
   * A mutating backend call on these paths failed; it may have taken effect all the same (a lost
   * acknowledgement), so what the cache knew of them may be stale: their clean data, metadata and
   * resolutions (and those below them) are dropped before the error reaches the caller. Dirty data
   * stays, to be flushed and retried (API 1.3 §2).
   */
  forgetAfterFailure(...keys: string[]): void {
    for (const key of keys) this.discardCleanWithin(key);
    this.forgetResolutions();
  }

  /** A rejection handler: {@link forgetAfterFailure} for `key`, then the same error. */
  private failedFor(key: string): (err: unknown) => never {
    return (err) => {
      this.forgetAfterFailure(key);
      throw err;
    };
  }

  /** Discards everything at or below `prefix` without flushing (after the backend removed it). */
  discardWithin(prefix: string): void {
    this.clock.stampAll();
    for (const key of this.store.allKeys()) if (isWithin(key, prefix)) this.discard(key);
    this.meta.deleteWithin(prefix);
    this.meta.delete(parentOf(prefix));
    for (const key of [...this.loading.keys()]) if (isWithin(key, prefix)) this.loading.delete(key);
  }

  /**
   * After a removal that failed part-way (`rm -r`): drops what is clean at or below `prefix` and its
   * metadata, but keeps dirty entries, whose files may still exist (those that are gone were discarded
   * one by one as they were removed).
   */
  discardCleanWithin(prefix: string): void {
    this.clock.stampAll();
    for (const key of this.store.allKeys()) {
      const slot = this.store.lookup(key);
      if (isWithin(key, prefix) && !this.store.isDirty(slot)) this.store.remove(slot, 'invalidated');
    }
    this.meta.deleteWithin(prefix);
    this.meta.delete(parentOf(prefix));
    for (const key of [...this.loading.keys()]) if (isWithin(key, prefix)) this.loading.delete(key);
  }

  /** Moves cached entries from `from` to `to` (after a backend rename); everything under `to` before is gone. */
  moveWithin(from: string, to: string): void {
    this.clock.stampAll();
    const store = this.store;
    for (const key of store.allKeys()) if (isWithin(key, to)) this.discard(key);
    this.writeBack?.movingWithin(from, to);
    for (const key of store.allKeys()) {
      if (isWithin(key, from)) {
        const slot = store.lookup(key);
        const moved = to + key.slice(from.length);
        store.rekey(slot, moved);
        store.clearIdentity(slot); // a rename changes the file's ctime
        this.writeBack?.renamed(key, moved);
      }
    }
    this.meta.deleteWithin(from);
    this.meta.deleteWithin(to);
    this.meta.delete(parentOf(from));
    this.meta.delete(parentOf(to));
    this.loading.clear();
    this.forgetResolutions();
  }

  /** Drops every entry whose TTL has passed (dirty ones are flushed first); returns how many. */
  async cleanExpired(): Promise<number> {
    const now = Date.now();
    const store = this.store;
    const expired: string[] = [];
    for (const key of store.allKeys()) {
      const slot = store.lookup(key);
      if (store.expiresAt(slot) <= now && !store.isPinned(slot)) expired.push(key);
    }
    let n = 0;
    for (const key of expired) {
      if (await this.drop(key, 'expired')) n++;
    }
    return n;
  }

  /** Empties the cache; dirty entries are flushed first and stay if their flush fails. */
  async clear(): Promise<void> {
    this.clock.stampAll();
    this.loading.clear();
    if (this.store.dirtyCount > 0 && this.writeBack) {
      await this.writeBack.flushAll();
    }
    const store = this.store;
    for (const key of store.allKeys()) {
      const slot = store.lookup(key);
      if (!store.isDirty(slot)) store.remove(slot, 'invalidated');
    }
    this.meta.clear();
    this.forgetResolutions();
  }

  /** Stops background work, flushes, releases. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.locks.idle();
    if (this.writeBack) await this.writeBack.close();
    this.watcher?.close();
    this.memoryPressure?.close();
    this.closed = true;
    this.store.removeAll('invalidated');
    this.store.bytes.trim();
    this.meta.clear();
    await this.journal?.close();
    await this.backend.close?.();
  }

  /**
   * True when `key` is resident and may be used without a check against the backend (revalidation not
   * due, or dirty: the program's data is the file).
   */
  residentAndFresh(key: string): boolean {
    const slot = this.store.lookup(key);
    if (slot < 0) return false;
    const after = this.revalidateAfter;
    return after < 0 || this.store.isDirty(slot) || Date.now() - this.store.validatedAt(slot) < after;
  }

  /** The program changed `key`'s file itself: the identity recorded at load no longer describes it. */
  private ownChange(key: string): void {
    const slot = this.store.lookup(key);
    if (slot >= 0) this.store.clearIdentity(slot);
  }

  /** Synthesized stats for a dirty entry whose file the backend does not know (yet). */
  syntheticStats(slot: number): BackendStats {
    return syntheticFileStats(this.store.size(slot), this.store.mtimeMs(slot));
  }
}
