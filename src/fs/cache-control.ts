import type { Registry } from 'prom-client';
import { compileGlob } from '../util/glob.js';
import { wellFormed } from '../util/byte-path.js';
import type { Engine } from '../engine/engine.js';
import { CacheClosedError, InvalidArgError } from '../errors.js';
import { exportPrometheus, registerCacheMetrics } from '../metrics/prometheus.js';
import type { StatsSnapshot } from '../metrics/snapshot.js';
import { cacheStats, detailedStats, resetCounters, type CacheStats, type DetailedStats } from '../metrics/stats.js';
import type { PathLike } from '../paths.js';
import type { InvalidateEvent, InvalidateScope } from '../cache/ports.js';
import { batchInvalidate, batchStats, type PathCacheStats } from '../warm/batch.js';
import type { PrefetchOptions, PrefetchResult, WarmOptions, WarmProgress, WarmSmartOptions } from '../warm/options.js';
import { warmingProgress } from '../warm/runner.js';
import type { CacheView } from '../warm/view.js';
import { prefetch, warm, warmFromDir, warmFromList, warmFromPattern, warmSmart } from '../warm/warm.js';
import { VIEW_OF } from './internals.js';
import type { View } from './view.js';

/**
 * The cache-control face of a `CacheFS`: invalidation, flushing, closing, statistics, events, batch
 * calls, warming and metrics. The file-system face (`CacheFS` itself) extends it; both ask the engine.
 *
 * Every public call that returns a promise waits for the cache to be ready first (the replay of an
 * earlier process's journal, see `Readiness`): `if (this.pending) await this.pending` in an async
 * method, or `pending.then(...)` where the hit path must stay free of awaits.
 */
export abstract class CacheControl {
  /** @internal The engine every view of this cache shares. */
  readonly core: Engine;
  /** @internal This view's root and working directory. */
  protected readonly view: View;
  private viewClosed = false;
  private cacheView: CacheView | undefined;

  /** @internal The view behind this cache, for the node:fs drop-in. */
  [VIEW_OF](): View {
    return this.view;
  }

  protected constructor(core: Engine, view: View) {
    this.core = core;
    this.view = view;
  }

  /** Resolves when the cache can serve (after a journal replay, when a journal is configured). */
  async ready(): Promise<void> {
    await this.core.readiness.ready;
  }

  /** The replay every call waits for, while it runs (and for good if it failed); undefined once ready. */
  protected get pending(): Promise<void> | undefined {
    return this.core.readiness.gate;
  }

  /** Throws `ERR_CACHEFS_CLOSED` when this view or its cache is closed. */
  protected check(operation: string): void {
    if (this.viewClosed || this.core.closed) throw new CacheClosedError(operation);
  }

  /** Reads a whole file as text through the cache, as the program's own `readFile` does (warmFromList). */
  protected abstract readText(path: PathLike): Promise<string>;

  // ------------------------------------------------------------------ cache control

  /** Drops the data and metadata of one path (dirty data is flushed first). True if anything was cached. */
  invalidate(path: PathLike): Promise<boolean> {
    const core = this.core;
    // No dirty data to flush first and no tier to tell: the path is dropped without an `await`.
    if (this.pending === undefined && core.tierLink === undefined) {
      try {
        this.check('invalidate');
        const key = this.view.keyOf(path);
        const real = core.knownKey(key);
        const store = core.store;
        const slot = store.lookup(real);
        const other = real === key ? -1 : store.lookup(key);
        if ((slot < 0 || !store.isDirty(slot)) && (other < 0 || !store.isDirty(other))) {
          core.counters.invalidateOps++;
          let dropped = core.cache.invalidate({ path: real }, 'keep') > 0;
          if (real !== key) dropped = core.cache.invalidate({ path: key }, 'keep') > 0 || dropped;
          if (dropped) emitInvalidate(core, this.view.viewOf(real) ?? real, 'path', 1);
          return Promise.resolve(dropped);
        }
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return this.#invalidateFlushing(path);
  }

  async #invalidateFlushing(path: PathLike): Promise<boolean> {
    if (this.pending) await this.pending;
    this.check('invalidate');
    const key = this.view.keyOf(path);
    const core = this.core;
    const real = core.knownKey(key);
    core.counters.invalidateOps++;
    let dropped = (await core.cache.invalidate({ path: real }, 'flush')) > 0;
    if (real !== key) dropped = (await core.cache.invalidate({ path: key }, 'flush')) > 0 || dropped;
    await core.tierPublished({ kind: 'path', path: real }, ...(real !== key ? [{ kind: 'path', path: key } as const] : []));
    if (dropped) emitInvalidate(this.core, this.view.viewOf(real) ?? real, 'path', 1);
    return dropped;
  }

  /** Drops every cached path at or below `prefix`, by whole segments. Returns how many. */
  async invalidatePrefix(prefix: PathLike): Promise<number> {
    if (this.pending) await this.pending;
    this.check('invalidatePrefix');
    const key = this.view.keyOf(prefix, 'prefix');
    this.core.counters.invalidateOps++;
    const n = await this.core.cache.invalidate({ within: key }, 'flush');
    await this.core.tierPublished({ kind: 'prefix', prefix: key });
    if (n > 0) emitInvalidate(this.core, this.view.viewOf(key) ?? key, 'prefix', n);
    return n;
  }

  /**
   * Drops every cached path matching a glob (`*`, `?`, `[…]` within a segment, `**` across). A
   * relative pattern is taken relative to `cwd()`. A malformed pattern rejects with
   * `ERR_INVALID_ARG_VALUE`.
   */
  async invalidatePattern(pattern: string): Promise<number> {
    if (this.pending) await this.pending;
    this.check('invalidatePattern');
    if (typeof pattern !== 'string') throw new InvalidArgError('pattern', pattern, 'must be a glob string');
    const cwd = this.view.cwd;
    // Made well-formed as a path string is, so that no text matches a name of bytes that are not UTF-8 by its escapes.
    const text = wellFormed(pattern);
    const absolute = text.startsWith('/') ? text : cwd === '/' ? `/${text}` : `${cwd}/${text}`;
    const match = compileGlob(absolute);
    this.core.counters.invalidateOps++;
    const view = this.view;
    const n = await this.core.cache.invalidate(
      { match: view.root === '' ? match : (k) => view.contains(k) && match(view.viewOf(k)!) },
      'flush',
    );
    // Other processes hold paths this one never saw: the whole namespace (this view's root) changes.
    await this.core.tierPublished(view.root === '' ? { kind: 'all' } : { kind: 'prefix', prefix: view.root });
    if (n > 0) emitInvalidate(this.core, absolute, 'pattern', n);
    return n;
  }

  /** Empties the cache (this view's part of it, for a view made by `sub`). Dirty data is flushed first. */
  async clear(): Promise<void> {
    if (this.pending) await this.pending;
    this.check('clear');
    this.core.counters.invalidateOps++;
    const root = this.view.root;
    const n = await this.core.cache.invalidate(root === '' ? { all: true } : { within: root }, 'flush');
    await this.core.tierPublished(root === '' ? { kind: 'all' } : { kind: 'prefix', prefix: root });
    if (n > 0) emitInvalidate(this.core, '/', 'all', n);
  }


  /** Drops entries past their TTL (dirty ones are flushed first). Returns how many. */
  async cleanExpired(): Promise<number> {
    if (this.pending) await this.pending;
    this.check('cleanExpired');
    return this.core.cache.cleanExpired();
  }

  /** Writes every dirty entry to the backend; rejects with an `AggregateError` naming those that failed. */
  async flush(): Promise<void> {
    if (this.pending) await this.pending;
    this.check('flush');
    const view = this.view;
    await this.core.write.flushAll(view.root === '' ? undefined : (k) => view.contains(k));
  }

  /**
   * Writes the dirty data of the given paths to the backend (paths with nothing dirty, or not cached,
   * are skipped); rejects with an `AggregateError` naming each path whose flush failed (they stay dirty).
   */
  async batchFlush(paths: Iterable<PathLike>): Promise<void> {
    if (this.pending) await this.pending;
    this.check('batchFlush');
    const keys: string[] = [];
    for (const p of paths) keys.push(await this.core.resolve(this.view.keyOf(p, 'path', 'open')));
    await this.core.write.flushKeys(keys);
  }

  /**
   * Stops background work, flushes dirty data and releases memory; later calls fail with
   * `ERR_CACHEFS_CLOSED`. If a flush fails, `close` rejects and the cache stays open, so nothing
   * written is lost. Closing a view made by `sub` flushes its part and closes only the view. A journal
   * replay that failed does not stop `close` (so the journal's lock can be released).
   */
  async close(): Promise<void> {
    if (this.pending) await this.pending.catch(() => undefined);
    if (this.viewClosed || this.core.closed) return;
    if (this.view.root !== '') {
      await this.flush();
      this.viewClosed = true;
      return;
    }
    try {
      await this.core.close();
    } catch (err) {
      this.core.write.reopen();
      throw err;
    }
    this.viewClosed = true;
  }

  // ------------------------------------------------------------------ statistics and events

  /** A plain snapshot: hits, misses, evictions, bytesUsed, entries, hitRate. */
  stats(): CacheStats {
    return cacheStats(this.core);
  }

  /** Resets the counters (bytesUsed and entries describe the present and stay). */
  resetStats(): void {
    resetCounters(this.core);
  }

  /** {@link stats} plus operation counters, limits and configuration. */
  detailedStats(): DetailedStats {
    return detailedStats(this.core);
  }

  /** Subscribes to a cache event (see the class documentation of `CacheFS` for names and payloads). */
  on(event: string, listener: (payload: any) => void): this {
    this.core.events.on(event, listener);
    return this;
  }

  once(event: string, listener: (payload: any) => void): this {
    this.core.events.once(event, listener);
    return this;
  }

  off(event: string, listener: (payload: any) => void): this {
    this.core.events.off(event, listener);
    return this;
  }

  /** {@link detailedStats} as a JSON string. */
  exportJSON(): string {
    return JSON.stringify(this.detailedStats());
  }

  /** The detailed statistics now, with the time; compare two with `compareSnapshots`. */
  snapshot(): StatsSnapshot {
    return { timestamp: Date.now(), stats: this.detailedStats() };
  }

  /** This cache's metrics in the Prometheus text format; every name starts with `cachefs_`. */
  exportPrometheus(): Promise<string> {
    return exportPrometheus(this.core);
  }

  /**
   * Adds this cache's metrics to an existing prom-client `Registry`, labelled `cache="<name option>"`
   * so that several caches can share it; values are read when the registry is scraped. Returns a
   * function that takes this cache off the registry again.
   */
  registerMetrics(registry: Registry): () => void {
    return registerCacheMetrics(this.core, registry);
  }

  // ------------------------------------------------------------------ batch calls and warming
  // Thin entry points; the work lives in src/warm/. Each waits for readiness like any other call.

  /** What src/warm/ needs from this view, built once. */
  private asCacheView(): CacheView {
    const view = this.view;
    return (this.cacheView ??= {
      core: this.core,
      check: (operation) => this.check(operation),
      keyOf: (path, argName) => view.keyOf(path, argName),
      viewOf: (key) => view.viewOf(key),
      cwd: () => view.cwd,
      readText: (path) => this.readText(path),
    });
  }

  /** Runs `call` now, or once the cache is ready when a replay is in progress. */
  private whenReady<T>(call: () => Promise<T>): Promise<T> {
    const pending = this.pending;
    return pending === undefined ? call() : pending.then(call);
  }

  /**
   * Drops the cached data and metadata of many paths in one pass (dirty data is flushed first, all
   * together). Resolves to how many of the paths had anything cached; emits `'invalidate'` for each.
   */
  batchInvalidate(paths: Iterable<PathLike>): Promise<number> {
    return this.whenReady(() => batchInvalidate(this.asCacheView(), paths));
  }

  /** What the cache holds for each path (memory only: no backend call, no hit counted), keyed by the path as given. */
  batchStats(paths: Iterable<PathLike>): Map<string, PathCacheStats> {
    return batchStats(this.asCacheView(), paths);
  }

  /**
   * Loads files into the cache as reads would, `concurrency` at a time (default 4). With `skipErrors`
   * (the default) failures are listed in `failed`; aborting `signal` rejects with an `AbortError`.
   */
  prefetch(paths: Iterable<PathLike>, options?: PrefetchOptions): Promise<PrefetchResult> {
    return this.whenReady(() => prefetch(this.asCacheView(), paths, options));
  }

  /**
   * Loads the given files, reporting progress. `priority: 'high'` pins them (never evicted until
   * invalidated; pinning beyond the limits fails those files with `ERR_CACHEFS_PIN_LIMIT`), `'low'` loads
   * only what fits without evicting. Warming counts no hits or misses.
   */
  warm(paths: Iterable<PathLike>, options?: WarmOptions): Promise<WarmProgress> {
    return this.whenReady(() => warm(this.asCacheView(), paths, options));
  }

  /** {@link warm} for the files matching a glob (`*`, `?`, `[…]`, `**`), relative to `cwd()` when not absolute. */
  warmFromPattern(pattern: string, options?: WarmOptions): Promise<WarmProgress> {
    return this.whenReady(() => warmFromPattern(this.asCacheView(), pattern, options));
  }

  /**
   * {@link warm} for the files listed in `listFile`: a file of this file system (read through the
   * cache), one path a line, lines starting with `#` ignored, relative paths resolved against `cwd()`.
   */
  warmFromList(listFile: PathLike, options?: WarmOptions): Promise<WarmProgress> {
    return this.whenReady(() => warmFromList(this.asCacheView(), listFile, options));
  }

  /** {@link warm} for every file below `dir`, recursively (links to directories are not followed). */
  warmFromDir(dir: PathLike, options?: WarmOptions): Promise<WarmProgress> {
    return this.whenReady(() => warmFromDir(this.asCacheView(), dir, options));
  }

  /**
   * {@link warm} for the files whose metadata was looked up often (`stat`, `access`, `open`, …) but
   * whose data is not cached, most looked-up first. `minLookups` (default 2) and `limit` (default 0 =
   * no limit) choose them.
   */
  warmSmart(options?: WarmSmartOptions): Promise<WarmProgress> {
    return this.whenReady(() => warmSmart(this.asCacheView(), options));
  }

  /** The summed progress of the warms still running on this cache (its `sub` views included). */
  warmingProgress(): WarmProgress {
    return warmingProgress(this.core);
  }
}

/** Reports an invalidation call that dropped something (API 1.3 §6), in the caller's view. */
function emitInvalidate(core: Engine, path: string, scope: InvalidateScope, count: number): void {
  if (core.events.listenerCount('invalidate') === 0) return;
  const event: InvalidateEvent = { path, scope, count };
  core.events.emit('invalidate', event);
}
