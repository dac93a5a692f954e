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
  /** Reads served from the shared tier (also counted in `hits`). */
  tierHits: number;
  /** Reads the shared tier was asked for and did not have (also counted in `misses`). */
  tierMisses: number;
  /** Calls to the shared tier that failed or timed out. */
  tierErrors: number;
}

/** Every counter at 0. */
export function newCounters(): Counters {
  return {
    hits: 0, misses: 0, readOps: 0, writeOps: 0, invalidateOps: 0, flushCount: 0, flushErrors: 0,
    backendReads: 0, revalidations: 0, changesDetected: 0, bytesShed: 0,
    removedEvicted: 0, removedExpired: 0, removedInvalidated: 0, removedShed: 0,
    tierHits: 0, tierMisses: 0, tierErrors: 0,
  };
}
