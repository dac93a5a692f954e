import { EventEmitter } from 'node:events';
import type { ResolvedOptions } from '../options.js';
import { isWithin, parentOf } from '../paths.js';
import { createPolicy } from '../policy/index.js';
import { captureIdentity } from './identity.js';
import { compileGlob } from '../util/glob.js';
import { DataStore, type RemovalReason } from '../store/data-store.js';
import { MetadataCache } from '../store/metadata-cache.js';
import { MutationClock } from '../store/mutation-clock.js';
import { createByteStore } from '../store/pool.js';
import { newCounters, type Counters } from './counters.js';
import type {
  CoherencePort, DirtyData, DirtyRule, EvictReason, InstallSource, InvalidateOptions, Scope, WritePort,
} from './ports.js';
import { Resolutions } from './resolutions.js';
import { fileKeyOf, isBlockKey, type BlockIndex } from './block-keys.js';
import { ChurnMap } from '../util/churn-map.js';

/**
 * The cache proper, shared by a `CacheFS` and its `sub()` views: entries (data store), metadata, the
 * resolutions of links, the loads in flight, counters and events; how bytes are installed within the
 * limits, and the one way to forget ({@link invalidate}). Keys are backend paths with every symbolic
 * link resolved, so a file reached through a link and through its real path is one entry.
 *
 * It never calls the backend: the engine reads and writes, write-back owns dirty data (through the
 * {@link DirtyData} port it attaches), coherence decides when an entry is stale.
 */
/** The `'evict'` event's reason for each store removal that is one (API 1.3 §6). */
const EVICT_REASONS: Partial<Record<RemovalReason, EvictReason>> = { evicted: 'policy', expired: 'expired', shed: 'pressure' };
const RESOLVED: Promise<void> = Promise.resolve();
const NO_SOURCE: InstallSource = {};
function noop(): void {}

export class Cache implements CoherencePort, WritePort {
  readonly store: DataStore;
  readonly meta: MetadataCache;
  readonly clock = new MutationClock();
  readonly events = new EventEmitter();
  readonly resolutions = new Resolutions();
  counters: Counters = newCounters();
  /** Loads in flight, so that concurrent misses of one path share one backend read. */
  readonly loading = new ChurnMap<string, Promise<Buffer>>();
  /** The revalidation age in force (-1 never, 0 always, else ms): the option, or 0 while a watcher is down. */
  revalidateAfter: number;
  closed = false;
  private owner: DirtyData | undefined;
  /** The blocks of large files (the engine's block cache), once attached. */
  private blocks: BlockIndex | undefined;
  private readonly ttlMatchers: { match: (p: string) => boolean; ttl: number }[];
  /**
   * True when no install can depend on the time: without a TTL no entry ever expires (so no policy
   * compares an expiry with it), and without revalidation nothing ever reads when an entry was
   * validated. Installs then pass 0 for the time rather than read the clock, as a hit already passes 0
   * to the policy: `Date.now()` was 6% of a miss served from an in-memory backend.
   */
  private readonly timeless: boolean;

  constructor(readonly opts: ResolvedOptions) {
    this.store = new DataStore(createPolicy(opts.eviction), createByteStore(opts.pool, opts.maxBytes), opts.maxBytes, opts.maxEntries);
    this.meta = new MetadataCache(opts.metadataCache, opts.metadataMaxEntries);
    this.revalidateAfter = opts.revalidateAfter;
    // A watcher may set revalidateAfter while it is down, so a watched cache is never timeless.
    this.timeless = opts.ttl <= 0 && opts.ttlRules.length === 0 && opts.revalidateAfter < 0 && !opts.watch;
    // Keys are absolute: a relative pattern ('*.css') is taken relative to '/', as cwd() starts.
    this.ttlMatchers = opts.ttlRules.map((r) => ({
      match: compileGlob(r.pattern.startsWith('/') ? r.pattern : `/${r.pattern}`, 'ttlRules.pattern'),
      ttl: r.ttl,
    }));
    this.store.onRemove = (removed, reason, size) => {
      let key = removed;
      if (isBlockKey(key)) {
        this.blocks?.removed(key);
        key = fileKeyOf(key);
      }
      if (reason === 'replaced') return;
      const c = this.counters;
      if (reason === 'evicted') c.removedEvicted++;
      else if (reason === 'expired') c.removedExpired++;
      else if (reason === 'invalidated') c.removedInvalidated++;
      else c.removedShed++;
      // API 1.3 §6: 'evict' reports the removals the cache chose (policy, expiry, pressure); an
      // invalidation is the caller's own act and is reported once per call by 'invalidate'.
      // The event object is built only when someone listens: an eviction should not allocate for nothing.
      const eventReason = EVICT_REASONS[reason];
      if (eventReason !== undefined && this.events.listenerCount('evict') > 0) this.events.emit('evict', { path: key, reason: eventReason, size });
    };
    this.events.on('error', () => {
      // Errors are also delivered as 'flushError'; an unhandled 'error' event must not crash the program.
    });
  }

  /** The owner of dirty data (write-back), if one is attached. */
  get dirtyData(): DirtyData | undefined {
    return this.owner;
  }

  /** The engine's block cache: forgetting, installing and counting cover the blocks of large files. */
  attachBlocks(index: BlockIndex): void {
    this.blocks = index;
  }

  /** Files with anything cached: whole-file entries plus files with at least one resident block. */
  get fileEntries(): number {
    const blocks = this.blocks;
    return blocks === undefined ? this.store.entries : this.store.entries - blocks.blockEntries + blocks.filesWithBlocks;
  }

  /** Write-back takes charge of dirty data: flushing before a drop, forgetting on removal, moving. */
  attachDirtyData(owner: DirtyData): void {
    this.owner = owner;
  }

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

  // ---------------------------------------------------------------- loads in flight

  /** `key` changed: loads begun before now must not install it, and no later read may join them. */
  changed(key: string): void {
    this.loading.delete(key);
    this.clock.stamp(key);
  }

  /** Many paths changed at once: no load begun before now may install anything they cover. */
  private changedAll(match: ((key: string) => boolean) | undefined): void {
    this.clock.stampAll();
    if (match === undefined) this.loading.clear();
    else for (const key of [...this.loading.keys()]) if (match(key)) this.loading.delete(key);
  }

  /**
   * The install guard: a load that took `ticket` may install `key` only while it is still the path's
   * registered load and nothing changed the path since it began.
   */
  mayInstall(key: string, ticket: number): boolean {
    return this.loading.get(key) !== undefined && this.clock.mayInstall(key, ticket) && !this.closed;
  }

  // ---------------------------------------------------------------- install and limits

  /**
   * Installs clean bytes for `key` (`data[0..size)`) if they can ever fit, unless a dirty copy is newer
   * or the hooks refuse, then restores the limits. An adopted buffer that is not installed goes back to
   * the byte store.
   */
  install(key: string, data: Uint8Array, size: number, source: InstallSource = NO_SOURCE): Promise<void> {
    try {
      return this.installNow(key, data, size, source) ?? RESOLVED;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** {@link install}, returning undefined when it is complete already (no block install, no flush to wait for). */
  installNow(key: string, data: Uint8Array, size: number, source: InstallSource = NO_SOURCE): Promise<void> | undefined {
    const store = this.store;
    const { hooks, identity, statStartedAt } = source;
    const blocks = this.blocks;
    if (blocks !== undefined) {
      // A large file read whole is cached in blocks (or, a scan, not at all).
      if (hooks === undefined && blocks.wants(size) && store.lookup(key) < 0) return this.installInBlocks(blocks, key, data, size, source);
      if (blocks.files.size !== 0) blocks.dropFile(key); // a whole entry and blocks never coexist
    }
    const existing = store.lookup(key);
    const admissible = store.admissible(size);
    // A dirty copy is newer than any backend read.
    if (!admissible || (existing >= 0 && store.isDirty(existing)) || (hooks?.admit && !hooks.admit(size))) {
      if (source.adopted) store.bytes.release(data as Buffer);
      if (!admissible && existing >= 0 && !store.isDirty(existing)) store.remove(existing, 'invalidated');
      return undefined;
    }
    const now = this.timeless ? 0 : Date.now();
    const slot = store.install(key, data, size, this.expiryFor(key, now), now, source.adopted === true);
    if (identity !== undefined && statStartedAt !== undefined) {
      store.setValidatedAt(slot, statStartedAt);
      captureIdentity(store, slot, identity, statStartedAt);
    }
    hooks?.installed?.(slot);
    const pending = store.enforceLimits(now);
    return pending === undefined ? undefined : Promise.all(pending).then(noop);
  }

  private async installInBlocks(blocks: BlockIndex, key: string, data: Uint8Array, size: number, source: InstallSource): Promise<void> {
    await blocks.installWhole(key, data, size, source);
    if (source.adopted) this.store.bytes.release(data as Buffer);
  }

  /** Evicts until the limits hold, waiting for the flushes of dirty victims (resolved at once when none). */
  enforceLimits(): Promise<void> {
    return this.enforceLimitsNow() ?? RESOLVED;
  }

  /** {@link enforceLimits}, returning undefined when nothing is left to wait for (no eviction flush): the caller skips an await. */
  enforceLimitsNow(): Promise<void> | undefined {
    const store = this.store;
    if (store.withinLimits()) return undefined;
    const pending = store.enforceLimits(this.timeless ? 0 : Date.now());
    return pending === undefined ? undefined : Promise.all(pending).then(noop);
  }

  // ---------------------------------------------------------------- forgetting

  /** Drops every entry whose TTL has passed (dirty ones are flushed first); returns how many. */
  async cleanExpired(): Promise<number> {
    const now = Date.now();
    const store = this.store;
    const expired = new Set<string>();
    for (const key of store.allKeys()) {
      const slot = store.lookup(key);
      if (store.expiresAt(slot) <= now && !store.isPinned(slot)) expired.add(fileKeyOf(key));
    }
    let n = 0;
    for (const key of expired) n += await this.invalidate({ path: key }, 'flush', { reason: 'expired' });
    return n;
  }

  /**
   * Forgets what is cached in `scope` (data, metadata, loads in flight), treating dirty data by `dirty`;
   * returns how many paths had anything cached. With `'flush'` it resolves once the dirty data is written
   * (an AggregateError names the entries whose flush failed: they stay); the other rules act at once.
   */
  invalidate(scope: Scope, dirty: 'flush', options?: InvalidateOptions): Promise<number>;
  invalidate(scope: Scope, dirty: 'keep' | 'discard', options?: InvalidateOptions): number;
  invalidate(scope: Scope, dirty: DirtyRule, options: InvalidateOptions = {}): number | Promise<number> {
    const reason = options.reason ?? 'invalidated';
    if ('path' in scope) {
      if (dirty === 'flush') return this.flushThenDrop(scope.path, reason).then((had) => (had ? 1 : 0));
      const had = this.dropNow(scope.path, dirty, reason);
      if (options.parent) this.meta.delete(parentOf(scope.path));
      return had ? 1 : 0;
    }
    const match = matcherOf(scope);
    if (dirty === 'flush') return this.flushThenDropAll(scope, match, reason);
    this.changedAll(match);
    // Blocks first (they are clean), so that the keys below are whole files only.
    let count = this.blocks?.dropWhere(match).length ?? 0;
    for (const key of this.store.allKeys()) {
      if (match !== undefined && !match(key)) continue;
      this.dropNow(key, dirty, reason);
      count++;
    }
    this.forgetMetadataIn(scope, match);
    if (options.parent && 'within' in scope) this.meta.delete(parentOf(scope.within));
    return count;
  }

  /** One path, without waiting: its clean entry leaves, a dirty one stays (`'keep'`) or is dropped unwritten. */
  private dropNow(key: string, dirty: 'keep' | 'discard', reason: RemovalReason): boolean {
    let had = this.meta.delete(key);
    this.meta.forgetAbsencesBelow(key);
    if (this.blocks !== undefined && this.blocks.files.size !== 0 && this.blocks.dropFile(key)) had = true;
    const slot = this.store.lookup(key);
    if (slot >= 0) {
      had = true;
      if (!this.store.isDirty(slot)) {
        this.store.remove(slot, reason);
      } else if (dirty === 'discard') {
        this.owner?.forget(key);
        this.store.remove(slot, reason);
      }
    }
    this.changed(key);
    return had;
  }

  /** One path: its dirty data is flushed first; the entry leaves unless a write landed meanwhile. */
  private async flushThenDrop(key: string, reason: RemovalReason): Promise<boolean> {
    let had = this.meta.delete(key);
    if (this.blocks !== undefined && this.blocks.files.size !== 0 && this.blocks.dropFile(key)) had = true;
    const slot = this.store.lookup(key);
    if (slot >= 0) {
      if (this.store.isDirty(slot) && this.owner) await this.owner.flushKey(key);
      const again = this.store.lookup(key);
      // Dirty again: a write landed after the flush; that data must stay until it is flushed too.
      if (again >= 0 && !this.store.isDirty(again)) this.store.remove(again, reason);
      had = true;
    }
    this.changed(key);
    return had;
  }

  /** Many paths: the dirty ones are flushed together, then everything clean leaves; failures are raised last. */
  private async flushThenDropAll(scope: Scope, match: ((key: string) => boolean) | undefined, reason: RemovalReason): Promise<number> {
    const paths = new Set<string>(this.blocks?.dropWhere(match));
    for (const key of this.store.allKeys()) if (match === undefined || match(key)) paths.add(key);
    for (const key of this.meta.paths()) if (match === undefined || match(key)) paths.add(key);
    this.changedAll(match);
    let failure: unknown;
    if (this.store.dirtyCount > 0 && this.owner) {
      try {
        await this.owner.flushAll(match);
      } catch (err) {
        failure = err;
      }
    }
    for (const key of paths) {
      this.meta.delete(key);
      const slot = this.store.lookup(key);
      if (slot >= 0 && !this.store.isDirty(slot)) this.store.remove(slot, reason);
      this.changed(key);
    }
    this.forgetMetadataIn(scope, match);
    if (failure !== undefined) throw failure;
    return paths.size;
  }

  private forgetMetadataIn(scope: Scope, match: ((key: string) => boolean) | undefined): void {
    if ('all' in scope) {
      this.meta.clear();
      this.resolutions.forget();
    } else if ('within' in scope) {
      this.meta.deleteWithin(scope.within);
    } else if (match !== undefined) {
      this.meta.deleteWhere(match);
    }
  }

  /** Moves cached entries from `from` to `to` (after a backend rename); everything under `to` before is gone. */
  move(from: string, to: string): void {
    const store = this.store;
    // Blocks are clean: dropping them is cheaper than re-keying each.
    this.blocks?.dropWhere((k) => isWithin(k, from) || isWithin(k, to));
    this.invalidate({ within: to }, 'discard');
    this.owner?.movingWithin(from, to);
    for (const key of store.allKeys()) {
      if (isWithin(key, from)) {
        const slot = store.lookup(key);
        const moved = to + key.slice(from.length);
        store.rekey(slot, moved);
        store.clearIdentity(slot); // a rename changes the file's ctime
        this.owner?.renamed(key, moved);
      }
    }
    this.meta.deleteWithin(from);
    this.meta.delete(parentOf(from));
    this.meta.delete(parentOf(to));
    this.loading.clear();
    this.resolutions.forget();
    this.announce(from, 'rename');
    this.announce(to, 'rename');
  }

  /**
   * Who hears of each change made through the cache or noticed by it (`watch()` iterators): the key,
   * and Node's kind of event (`'rename'` when a name came or went, `'change'` for content or metadata).
   */
  readonly changeListeners = new Set<(key: string, eventType: 'rename' | 'change') => void>();

  /** Tells the {@link changeListeners} that `key` changed. */
  announce(key: string, eventType: 'rename' | 'change'): void {
    if (this.changeListeners.size === 0) return;
    for (const listener of this.changeListeners) listener(key, eventType);
  }

  /** The metadata of `key` changed: drop it and the parent's (its mtime and listing changed too). */
  metadataChanged(key: string): void {
    this.announce(key, 'change');
    // Nothing cached: skips making the parent's path on every write. The delete still moves the
    // generation on, so a probe in flight learns that it was overtaken.
    if (this.meta.holdsNothing) {
      this.meta.delete(key);
      return;
    }
    this.meta.delete(key);
    this.meta.forgetAbsencesBelow(key);
    this.meta.delete(parentOf(key));
    const resolutions = this.resolutions;
    if (resolutions.hasAliases) {
      // A link's cached `stat` is its target's; with links around, drop them all rather than miss one.
      this.meta.deleteWhere((p) => resolutions.isAlias(p));
    }
  }

  /** Forgets every path resolution: the namespace changed (rename, removal, a new link). */
  forgetResolutions(): void {
    this.resolutions.forget();
  }
}

function matcherOf(scope: Scope): ((key: string) => boolean) | undefined {
  if ('within' in scope) {
    const prefix = scope.within;
    return (key) => isWithin(key, prefix);
  }
  if ('match' in scope) return scope.match;
  return undefined;
}
