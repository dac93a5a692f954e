import type { Counters } from '../cache/counters.js';
import type { ResolvedOptions, WriteMode } from '../options.js';
import type { PolicyName } from '../policy/policy.js';
import type { DataStore } from '../store/data-store.js';
import type { MetadataCache } from '../store/metadata-cache.js';
import type { LatencyHistogram } from './latency.js';

/** `stats()`: a plain snapshot of the cache's counters. */
export interface CacheStats {
  hits: number;
  misses: number;
  evictions: number;
  bytesUsed: number;
  entries: number;
  /** hits / (hits + misses), 0 when nothing was read. */
  hitRate: number;
}

/** `detailedStats()`: {@link CacheStats} plus operation counters, limits and configuration. */
export interface DetailedStats extends CacheStats {
  flushCount: number;
  flushErrors: number;
  dirtyEntries: number;
  readOps: number;
  writeOps: number;
  invalidateOps: number;
  metadataEntries: number;
  maxBytes: number;
  maxEntries: number;
  ttl: number;
  writeMode: WriteMode;
  eviction: PolicyName;
  revalidations: number;
  changesDetected: number;
  bytesShed: number;
  /** Entries the eviction policy refused to admit (API.md 1.3 §6); `evictions` counts the rest. */
  rejections: number;
  /** Reads served from the shared tier (`tier` option); they count as hits too. */
  tierHits: number;
  /** Reads the shared tier did not have; they count as misses too. */
  tierMisses: number;
  /** Calls to the shared tier that failed or timed out (the cache went on without it). */
  tierErrors: number;
  /** `'up'` while the shared tier is in use, `'down'` while Redis is out of reach, `'off'` without one. */
  tierState: 'up' | 'down' | 'off';
}

/** What the statistics and the metrics exporters read of a cache (its counters are plain numbers). */
export interface MetricsSource {
  counters: Counters;
  readonly store: DataStore;
  readonly meta: MetadataCache;
  readonly opts: ResolvedOptions;
  /** Files with anything cached (a block-cached file counts once). */
  readonly fileEntries: number;
  /** Latency of successful backend reads. */
  readonly readLatency: LatencyHistogram;
  /** The shared tier, when configured. */
  readonly tierLink?: { readonly port: { available(): boolean } } | undefined;
}

/** The counters as `stats()` reports them. */
export function cacheStats(source: MetricsSource): CacheStats {
  const c = source.counters;
  const reads = c.hits + c.misses;
  return {
    hits: c.hits,
    misses: c.misses,
    evictions: source.store.evictions,
    bytesUsed: source.store.bytesUsed,
    entries: source.fileEntries,
    hitRate: reads === 0 ? 0 : c.hits / reads,
  };
}

/** {@link cacheStats} plus operation counters, limits and configuration. */
export function detailedStats(source: MetricsSource): DetailedStats {
  const c = source.counters;
  const o = source.opts;
  return {
    ...cacheStats(source),
    flushCount: c.flushCount,
    flushErrors: c.flushErrors,
    dirtyEntries: source.store.dirtyCount,
    readOps: c.readOps,
    writeOps: c.writeOps,
    invalidateOps: c.invalidateOps,
    metadataEntries: source.meta.entries,
    maxBytes: o.maxBytes,
    maxEntries: o.maxEntries,
    ttl: o.ttl,
    writeMode: o.writeMode,
    eviction: o.eviction,
    revalidations: c.revalidations,
    changesDetected: c.changesDetected,
    bytesShed: c.bytesShed,
    rejections: source.store.rejections,
    tierHits: c.tierHits,
    tierMisses: c.tierMisses,
    tierErrors: c.tierErrors,
    tierState: source.tierLink === undefined ? 'off' : source.tierLink.port.available() ? 'up' : 'down',
  };
}

/** Sets every counter back to 0 (bytesUsed and entries describe the present and stay). */
export function resetCounters(source: MetricsSource): void {
  // In place, never a new object: a copy has a map of its own, and storing it in `counters` changes what
  // the optimized hit path was compiled for (V8 deoptimizes `hitSlot` and everything that depended on the
  // field's type): the first pass after each reset ran unoptimized, 3-10x slower.
  const c = source.counters;
  for (const k of Object.keys(c) as (keyof Counters)[]) c[k] = 0;
  source.store.evictions = 0;
  source.store.rejections = 0;
}
