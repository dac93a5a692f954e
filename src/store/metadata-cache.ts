import type { BackendStats } from '../backend/backend.js';
import { isWithin } from '../paths.js';

/** How often one path's metadata was asked for; `live` false once the bounded count map let it go. */
export interface LookupCount {
  n: number;
  live: boolean;
}

/**
 * A cached result, when it was last moved to the young end (a count of {@link MetadataCache} moves),
 * and its path's lookup count, held here so that a hit counts without a second map lookup.
 */
interface Entry {
  readonly stats: BackendStats;
  movedAt: number;
  count: LookupCount;
}

/** The count of an entry whose path has none in the map yet (it was cached without being looked up). */
const NOT_COUNTED: LookupCount = { n: 0, live: false };

/**
 * Cached `stat` and `lstat` results, each bounded by `maxEntries` (0 = no limit) in least-recently-used
 * order. A `Map` keeps insertion order, so re-inserting an entry makes it the youngest. Re-inserting
 * on every hit would cost a delete and an insert (~120 ns, several times the lookup: V8 leaves the
 * deleted slot behind and rehashes to reclaim it), so a hit re-inserts only an entry that has left the
 * youngest quarter of the bound; one inside it is at least three quarters of the bound away from
 * eviction already. It also counts lookups per path, which `warmSmart` uses to find files worth loading.
 */
export class MetadataCache {
  private readonly stats = new Map<string, Entry>();
  private readonly lstats = new Map<string, Entry>();
  /** How often each path's metadata was asked for (bounded like the cache itself). */
  readonly lookups = new Map<string, LookupCount>();
  hits = 0;
  misses = 0;
  /** Insertions and moves so far: the age of an entry is `moves - entry.movedAt`. */
  private moves = 0;
  /** An entry at most this many moves old is young enough not to move on a hit. */
  private readonly youngMoves: number;

  constructor(
    readonly enabled: boolean,
    readonly maxEntries: number,
  ) {
    this.youngMoves = maxEntries >> 2;
  }

  get entries(): number {
    return this.stats.size + this.lstats.size;
  }

  get(path: string, follow: boolean): BackendStats | undefined {
    const map = follow ? this.stats : this.lstats;
    const found = map.get(path);
    if (found === undefined) {
      this.countLookup(path);
      this.misses++;
      return undefined;
    }
    const count = found.count;
    if (count.live) count.n++;
    else found.count = this.countLookup(path);
    this.hits++;
    if (this.maxEntries !== 0 && this.moves - found.movedAt > this.youngMoves) {
      map.delete(path);
      map.set(path, found);
      found.movedAt = ++this.moves;
    }
    return found.stats;
  }

  set(path: string, follow: boolean, value: BackendStats): void {
    if (!this.enabled) return;
    const map = follow ? this.stats : this.lstats;
    map.delete(path);
    map.set(path, { stats: value, movedAt: ++this.moves, count: this.lookups.get(path) ?? NOT_COUNTED });
    if (this.maxEntries !== 0) {
      while (this.stats.size + this.lstats.size > this.maxEntries) {
        // Evict from whichever map holds more, oldest first.
        const from = this.stats.size >= this.lstats.size ? this.stats : this.lstats;
        const oldest = from.keys().next().value as string;
        from.delete(oldest);
      }
    }
  }

  /** Drops both kinds of metadata of one path; true if any was cached. */
  delete(path: string): boolean {
    const a = this.stats.delete(path);
    const b = this.lstats.delete(path);
    return a || b;
  }

  has(path: string): boolean {
    return this.stats.has(path) || this.lstats.has(path);
  }

  /** Drops the metadata of every path at or below `prefix`; returns the number of paths dropped. */
  deleteWithin(prefix: string): number {
    return this.deleteWhere((p) => isWithin(p, prefix));
  }

  /** Drops the metadata of every path that `match` accepts; returns the number of paths dropped. */
  deleteWhere(match: (path: string) => boolean): number {
    const dropped = new Set<string>();
    for (const map of [this.stats, this.lstats]) {
      for (const p of map.keys()) {
        if (match(p)) {
          map.delete(p);
          dropped.add(p);
        }
      }
    }
    return dropped.size;
  }

  clear(): void {
    this.stats.clear();
    this.lstats.clear();
  }

  /** Every cached path (once, whichever kind). */
  paths(): Set<string> {
    return new Set([...this.stats.keys(), ...this.lstats.keys()]);
  }

  /** Counts one lookup of `path`; returns its count. */
  private countLookup(path: string): LookupCount {
    const lookups = this.lookups;
    const known = lookups.get(path);
    if (known !== undefined) {
      known.n++;
      return known;
    }
    // Bound the counter map so a crawl over millions of paths cannot grow it without limit.
    if (lookups.size >= 65_536) {
      const [oldest, dropped] = lookups.entries().next().value as [string, LookupCount];
      dropped.live = false; // an entry still holding it counts through the map again
      lookups.delete(oldest);
    }
    const count: LookupCount = { n: 1, live: true };
    lookups.set(path, count);
    return count;
  }
}
