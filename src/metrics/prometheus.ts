import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Counters } from '../cache/counters.js';
import { InvalidArgTypeError } from '../errors.js';
import { LATENCY_BUCKETS_SECONDS } from './latency.js';
import type { MetricsSource } from './stats.js';

/**
 * cachefs metrics on prom-client registries. Nothing here runs when the cache is used: the core counts
 * in plain numbers (and a fixed-bucket latency histogram), and the metrics below read them when a
 * registry is scraped, through prom-client's `collect` hooks. One set of metric objects exists per
 * registry, labelled `cache` with each cache's `name` option, so several caches share a registry.
 */

/** A second cache registered on one registry under a `name` another cache already uses there. */
export class MetricsNameError extends Error {
  readonly code = 'ERR_CACHEFS_METRICS_NAME_IN_USE';
  constructor(name: string) {
    super(`cachefs: a cache named '${name}' is already registered on this registry; give each cache its own 'name' option`);
  }
}

/** The registry already holds a metric by one of cachefs's names that cachefs did not create. */
export class MetricsConflictError extends Error {
  readonly code = 'ERR_CACHEFS_METRICS_CONFLICT';
  constructor(metric: string) {
    super(`cachefs: the registry already has a metric named '${metric}' that cachefs did not register`);
  }
}

type Sources = Map<string, MetricsSource>;

/** Counters read straight from {@link Counters}: metric name, help, field. */
const COUNTERS: readonly [string, string, keyof Counters][] = [
  ['cachefs_hits_total', 'Reads served from the cache.', 'hits'],
  ['cachefs_misses_total', 'Reads that went to the backend.', 'misses'],
  ['cachefs_flushes_total', 'Dirty entries written to the backend (write-back).', 'flushCount'],
  ['cachefs_flush_errors_total', 'Flushes of dirty entries that failed (write-back).', 'flushErrors'],
  ['cachefs_invalidations_total', 'Invalidation calls (invalidate, invalidatePrefix, invalidatePattern, clear; one per path in batchInvalidate).', 'invalidateOps'],
  ['cachefs_reads_total', 'Read calls (readFile).', 'readOps'],
  ['cachefs_writes_total', 'Write calls (writeFile, appendFile, handle writes, truncate).', 'writeOps'],
  ['cachefs_backend_reads_total', 'Whole-file reads from the backend.', 'backendReads'],
  ['cachefs_tier_hits_total', 'Reads served from the shared Redis tier (counted in hits too).', 'tierHits'],
  ['cachefs_tier_misses_total', 'Reads the shared Redis tier did not have (counted in misses too).', 'tierMisses'],
  ['cachefs_tier_errors_total', 'Calls to the shared Redis tier that failed or timed out.', 'tierErrors'],
];

/** Entries that left the cache, by the store's reason. */
const REMOVAL_REASONS: readonly [string, keyof Counters][] = [
  ['evicted', 'removedEvicted'],
  ['expired', 'removedExpired'],
  ['invalidated', 'removedInvalidated'],
  ['shed', 'removedShed'],
];

/** Gauges: metric name, help, reading. */
const GAUGES: readonly [string, string, (core: MetricsSource) => number][] = [
  ['cachefs_bytes', 'Bytes of file data held by the cache (pool rounding included).', (c) => c.store.bytesUsed],
  ['cachefs_entries', 'Files whose data is cached.', (c) => c.fileEntries],
  ['cachefs_dirty_entries', 'Cached files with data not yet written to the backend.', (c) => c.store.dirtyCount],
  ['cachefs_pinned_bytes', 'Bytes held by pinned entries (warming with priority high).', (c) => c.store.pinnedBytes],
  ['cachefs_metadata_entries', 'Cached stat/lstat results.', (c) => c.meta.entries],
  ['cachefs_max_bytes', 'The maxBytes limit (0 = none).', (c) => c.opts.maxBytes],
  ['cachefs_max_entries', 'The maxEntries limit (0 = none).', (c) => c.opts.maxEntries],
  ['cachefs_tier_up', '1 while the shared Redis tier is reachable, 0 while it is not or not configured.', (c) => (c.tierLink?.port.available() ? 1 : 0)],
  ['cachefs_hit_ratio', 'hits / (hits + misses) since the last resetStats(), 0 before any read.', (c) => {
    const reads = c.counters.hits + c.counters.misses;
    return reads === 0 ? 0 : c.counters.hits / reads;
  }],
];

const LATENCY_NAME = 'cachefs_backend_read_duration_seconds';
const LATENCY_HELP = 'Duration of whole-file reads from the backend, in seconds.';

/**
 * The backend read latency histogram. prom-client renders a histogram from what `getForPromString`
 * returns; this one returns the core's own fixed buckets instead of observations made through
 * prom-client, so that recording stays a few additions in the core and every registry sees the
 * cache's whole history.
 */
class BackendReadLatency extends Histogram<'cache'> {
  constructor(
    registry: Registry,
    private readonly sources: Sources,
    buckets: readonly number[],
  ) {
    super({
      name: LATENCY_NAME,
      help: LATENCY_HELP,
      labelNames: ['cache'],
      buckets: [...buckets],
      registers: [registry],
    });
  }

  /** Same shape as prom-client's own histogram export: cumulative `_bucket`s, then `_sum` and `_count`. */
  async getForPromString(): Promise<unknown> {
    const values: unknown[] = [];
    for (const [cache, core] of this.sources) {
      const h = core.readLatency;
      const sharedLabels = { cache };
      const cumulative = h.cumulative();
      h.bounds.forEach((le, i) => {
        values.push({ labels: { le }, sharedLabels, value: cumulative[i], metricName: `${LATENCY_NAME}_bucket` });
      });
      values.push({ labels: { le: '+Inf' }, sharedLabels, value: h.count, metricName: `${LATENCY_NAME}_bucket` });
      values.push({ labels: {}, sharedLabels, value: h.sum, metricName: `${LATENCY_NAME}_sum` });
      values.push({ labels: {}, sharedLabels, value: h.count, metricName: `${LATENCY_NAME}_count` });
    }
    return { name: LATENCY_NAME, help: LATENCY_HELP, type: 'histogram', values, aggregator: 'sum' };
  }
}

interface MetricSet {
  sources: Sources;
  names: string[];
}

const setsByRegistry = new WeakMap<Registry, MetricSet>();

function createMetricSet(registry: Registry): MetricSet {
  const names = [...COUNTERS.map(([n]) => n), 'cachefs_evictions_total', ...GAUGES.map(([n]) => n), LATENCY_NAME];
  for (const name of names) if (registry.getSingleMetric(name) !== undefined) throw new MetricsConflictError(name);
  const sources: Sources = new Map();
  const registers = [registry];
  for (const [name, help, field] of COUNTERS) {
    new Counter({
      name, help, labelNames: ['cache'], registers,
      collect() {
        this.reset();
        for (const [cache, core] of sources) this.inc({ cache }, core.counters[field]);
      },
    });
  }
  new Counter({
    name: 'cachefs_evictions_total',
    help: 'Entries that left the cache, by reason: evicted (limits), expired (TTL), invalidated, shed (memory pressure).',
    labelNames: ['cache', 'reason'],
    registers,
    collect() {
      this.reset();
      for (const [cache, core] of sources) {
        for (const [reason, field] of REMOVAL_REASONS) this.inc({ cache, reason }, core.counters[field]);
      }
    },
  });
  for (const [name, help, read] of GAUGES) {
    new Gauge({
      name, help, labelNames: ['cache'], registers,
      collect() {
        this.reset();
        for (const [cache, core] of sources) this.set({ cache }, read(core));
      },
    });
  }
  new BackendReadLatency(registry, sources, LATENCY_BUCKETS_SECONDS);
  return { sources, names };
}

/**
 * Adds the cache of `core` to `registry`'s cachefs metrics, labelled `cache="<name option>"`.
 * Registering the same cache again is a no-op; another cache with the same name throws
 * `ERR_CACHEFS_METRICS_NAME_IN_USE`. Returns a function that takes the cache off the registry (the
 * metrics leave the registry with the last cache).
 */
export function registerCacheMetrics(core: MetricsSource, registry: Registry): () => void {
  if (!registry || typeof (registry as { registerMetric?: unknown }).registerMetric !== 'function') {
    throw new InvalidArgTypeError('registry', 'a prom-client Registry', registry);
  }
  const name = core.opts.name;
  let set = setsByRegistry.get(registry);
  if (!set) {
    set = createMetricSet(registry);
    setsByRegistry.set(registry, set);
  }
  const existing = set.sources.get(name);
  if (existing !== undefined && existing !== core) throw new MetricsNameError(name);
  set.sources.set(name, core);
  const metricSet = set;
  return () => {
    if (metricSet.sources.get(name) !== core) return;
    metricSet.sources.delete(name);
    if (metricSet.sources.size === 0 && setsByRegistry.get(registry) === metricSet) {
      for (const metric of metricSet.names) registry.removeSingleMetric(metric);
      setsByRegistry.delete(registry);
    }
  };
}

/** The private registry behind each cache's `exportPrometheus()`. */
const privateRegistries = new WeakMap<MetricsSource, Registry>();

/** The cache's metrics in the Prometheus text format (from a registry of its own). */
export function exportPrometheus(core: MetricsSource): Promise<string> {
  let registry = privateRegistries.get(core);
  if (!registry) {
    registry = new Registry();
    registerCacheMetrics(core, registry);
    privateRegistries.set(core, registry);
  }
  return registry.metrics();
}
