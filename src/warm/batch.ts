import { pathString, type PathLike } from '../paths.js';
import { decodeBytePath } from '../util/byte-path.js';
import type { InvalidateEvent } from '../cache/ports.js';
import { checkPaths } from './warm.js';
import type { CacheView } from './view.js';

/** What `batchStats` reports for one path. */
export interface PathCacheStats {
  /** The path as given. */
  path: string;
  /** Bytes of the cached data (0 when not cached). */
  size: number;
  /** True when the cached data has not reached the backend yet (write-back). */
  dirty: boolean;
  /** Hits on this entry since it was cached. */
  accessCount: number;
  /** True when a read of the path would be served from the cache now. */
  cached: boolean;
}

/**
 * Drops the cached data and metadata of each path in one pass: clean entries leave at once, dirty ones
 * are flushed together and then leave (a failed flush keeps its entry and is reported in an
 * `AggregateError` once every path was handled). Returns how many paths had anything cached, and emits
 * `'invalidate'` for each.
 */
export async function batchInvalidate(view: CacheView, paths: Iterable<PathLike>): Promise<number> {
  view.check('batchInvalidate');
  const list = checkPaths(paths);
  const core = view.core;
  const store = core.store;
  const dirty: string[] = [];
  const dropped: string[] = [];
  // The clean part of an invalidation, without an await per path; dirty keys wait for one parallel flush.
  const dropClean = (key: string): boolean => {
    const slot = store.lookup(key);
    if (slot >= 0 && store.isDirty(slot)) dirty.push(key);
    return core.cache.invalidate({ path: key }, 'keep') > 0;
  };
  for (const path of list) {
    const key = view.keyOf(path);
    const real = core.knownKey(key);
    core.counters.invalidateOps++;
    let had = dropClean(real);
    if (real !== key) had = dropClean(key) || had;
    if (had) dropped.push(real);
  }
  await core.tierPublished(...list.map((path) => ({ kind: 'path', path: core.knownKey(view.keyOf(path)) }) as const));
  const failures: unknown[] = [];
  const stayed = new Set<string>();
  if (dirty.length > 0) {
    const results = await Promise.allSettled(dirty.map((key) => core.cache.invalidate({ path: key }, 'flush')));
    results.forEach((r, i) => {
      if (r.status === 'rejected') {
        failures.push(r.reason);
        stayed.add(dirty[i]!);
      }
    });
  }
  for (const key of dropped) {
    if (stayed.has(key)) continue;
    const event: InvalidateEvent = { path: view.viewOf(key) ?? key, scope: 'path', count: 1 };
    core.events.emit('invalidate', event);
  }
  if (failures.length > 0) {
    throw new AggregateError(failures, `cachefs: ${failures.length} dirty entries could not be flushed, so they stay cached`);
  }
  return dropped.length;
}

/**
 * What the cache holds for each path, from memory alone (no backend call, no hit counted), keyed by
 * the path as given.
 */
export function batchStats(view: CacheView, paths: Iterable<PathLike>): Map<string, PathCacheStats> {
  view.check('batchStats');
  const list = checkPaths(paths);
  const core = view.core;
  const store = core.store;
  const out = new Map<string, PathCacheStats>();
  let now = 0;
  for (const given of list) {
    // A Buffer is reported by its exact text (bytes that are not UTF-8 escaped), so two such names stay two.
    const path = typeof given === 'string' ? given : Buffer.isBuffer(given) ? decodeBytePath(given) : pathString(given);
    const key = core.knownKey(view.keyOf(given));
    const slot = store.lookup(key);
    const blocks = slot < 0 ? core.blocks.describe(key) : undefined;
    if (blocks !== undefined) {
      out.set(path, { path, size: blocks.size, dirty: false, accessCount: blocks.accessCount, cached: true });
      continue;
    }
    let cached = slot >= 0;
    if (cached && store.expiresAt(slot) !== Infinity && !store.isDirty(slot) && !store.isPinned(slot)) {
      now ||= Date.now();
      cached = store.expiresAt(slot) > now;
    }
    out.set(
      path,
      cached
        ? { path, size: store.size(slot), dirty: store.isDirty(slot), accessCount: store.accessCount(slot), cached: true }
        : { path, size: 0, dirty: false, accessCount: 0, cached: false },
    );
  }
  return out;
}
