import type { DetailedStats } from './stats.js';
import { InvalidArgTypeError } from '../errors.js';

/** `snapshot()`: the detailed statistics at one moment. */
export interface StatsSnapshot {
  /** When it was taken, ms since the epoch. */
  timestamp: number;
  stats: DetailedStats;
}

/**
 * `compareSnapshots(before, after)`: what happened between two snapshots. Every numeric statistic
 * appears: counters (hits, misses, evictions, flushCount, readOps, …) as the increase, gauges
 * (bytesUsed, entries, dirtyEntries, metadataEntries) as the change, which may be negative.
 * `hitRate` is the hit rate of the reads made in between (0 when there were none).
 */
export interface SnapshotDelta {
  /** `after.timestamp - before.timestamp`. */
  elapsedMs: number;
  hitRate: number;
  [statistic: string]: number;
}

/** Statistics that describe the present rather than count events: their delta is a plain difference. */
const GAUGES = new Set(['bytesUsed', 'entries', 'dirtyEntries', 'metadataEntries']);
/** Configuration, not activity. */
const SETTINGS = new Set(['maxBytes', 'maxEntries', 'ttl', 'hitRate']);

function checkSnapshot(value: unknown, name: string): asserts value is StatsSnapshot {
  const s = value as StatsSnapshot | null;
  if (!s || typeof s !== 'object' || typeof s.timestamp !== 'number' || !s.stats || typeof s.stats !== 'object') {
    throw new InvalidArgTypeError(name, 'a snapshot returned by snapshot()', value);
  }
}

/**
 * The per-statistic deltas between two snapshots of one cache. A counter that went down was reset in
 * between (`resetStats()`); as Prometheus does for counter resets, its delta is then its value in
 * `after`.
 */
export function compareSnapshots(before: StatsSnapshot, after: StatsSnapshot): SnapshotDelta {
  checkSnapshot(before, 'before');
  checkSnapshot(after, 'after');
  const a = after.stats as unknown as Record<string, unknown>;
  const b = before.stats as unknown as Record<string, unknown>;
  const delta: SnapshotDelta = { elapsedMs: after.timestamp - before.timestamp, hitRate: 0 };
  for (const [name, value] of Object.entries(a)) {
    const old = b[name];
    if (typeof value !== 'number' || typeof old !== 'number' || SETTINGS.has(name)) continue;
    delta[name] = GAUGES.has(name) || value >= old ? value - old : value;
  }
  const hits = delta.hits ?? 0;
  const misses = delta.misses ?? 0;
  delta.hitRate = hits + misses === 0 ? 0 : hits / (hits + misses);
  return delta;
}
