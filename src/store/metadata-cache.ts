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
  /**
   * Paths known not to exist (nothing there, not even a link), with when that was learnt (epoch ms, for
   * revalidation). A resolver probes far more missing paths than existing ones; without these each probe
   * is a backend call. Dropped with the path's other metadata by every change the cache makes or hears of.
   */
  private readonly missing = new Map<string, number>();
  /**
   * Directories with a remembered absence somewhere below them. An absence below a path that did not
   * exist either says nothing once a file or a link is made there (then it is ENOTDIR, or whatever the
   * link leads to): a change of that path drops them ({@link forgetAbsencesBelow}), and this set spares
   * every other change the scan. May name directories whose absences left already (a wasted scan only).
   */
  private readonly absentBelow = new Set<string>();
  /**
   * Targets of symbolic links read through the cache, and `''` (never a link's target) for a path whose
   * readlink failed with EINVAL (not a link): dropped with the path's metadata.
   */
  private readonly targets = new Map<string, string>();
  /** Files' contents parsed as JSON (`readJson`, for resolvers), dropped with the file's metadata. */
  private readonly json = new Map<string, unknown>();
  /**
   * Counts every drop. An answer from the backend that a drop overtook (a create landed while a probe
   * that found nothing was on its way) must not be remembered: its caller took the count before asking.
   */
  generation = 0;

  constructor(
    readonly enabled: boolean,
    readonly maxEntries: number,
  ) {
    this.youngMoves = maxEntries >> 2;
  }

  get entries(): number {
    return this.stats.size + this.lstats.size;
  }

  /** True when nothing at all is kept: no stats, absences, link answers nor parsed JSON. */
  get holdsNothing(): boolean {
    return this.stats.size + this.lstats.size + this.missing.size + this.targets.size + this.json.size === 0;
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

  /**
   * True when `path` was seen not to exist after `since` (epoch ms; -1: at any time). Not counted as
   * a lookup: the caller asks {@link get} first when it wants one counted.
   */
  isMissing(path: string, since = -1): boolean {
    const at = this.missing.get(path);
    return at !== undefined && at > since;
  }

  /**
   * Remembers that `path` does not exist, unless metadata was dropped since `generation` was read (the
   * absence may already be out of date).
   */
  setMissing(path: string, generation: number): void {
    if (!this.enabled || generation !== this.generation) return;
    const missing = this.missing;
    if (missing.size >= (this.maxEntries || 65_536)) missing.delete(missing.keys().next().value as string);
    missing.set(path, Date.now());
    const above = this.absentBelow;
    if (above.size >= 65_536) {
      // A crawl's worth of directories: start again rather than grow (forgetting costs misses only).
      above.clear();
      missing.clear();
      missing.set(path, Date.now());
    }
    for (let end = path.lastIndexOf('/'); end > 0; end = path.lastIndexOf('/', end - 1)) {
      const dir = path.slice(0, end);
      if (above.has(dir)) break; // its own ancestors were added with it
      above.add(dir);
    }
  }

  /**
   * `path` changed (made, replaced, removed): the absences remembered below it may no longer hold, as a
   * file or a link there turns "no such file" into "not a directory" or into what the link leads to.
   */
  forgetAbsencesBelow(path: string): void {
    const above = this.absentBelow;
    if (above.size === 0 || !above.has(path)) return;
    this.generation++;
    const prefix = path === '/' ? '/' : `${path}/`;
    for (const p of this.missing.keys()) if (p.startsWith(prefix)) this.missing.delete(p);
    above.delete(path);
    for (const dir of above) if (dir.startsWith(prefix)) above.delete(dir);
  }

  /** The target of link `path` if it was read before; `''` when it was found not to be a link. */
  linkTarget(path: string): string | undefined {
    return this.targets.size === 0 ? undefined : this.targets.get(path);
  }

  /** Remembers link `path`'s target (same rule as {@link setMissing} for `generation`). */
  setLinkTarget(path: string, target: string, generation: number): void {
    if (!this.enabled || generation !== this.generation) return;
    if (this.targets.size >= (this.maxEntries || 65_536)) this.targets.clear();
    this.targets.set(path, target);
  }

  /** The parsed JSON content of `path` if it was kept, else undefined. */
  parsedJson(path: string): unknown {
    return this.json.size === 0 ? undefined : this.json.get(path);
  }

  /** Keeps `path`'s content parsed as JSON (same rule as {@link setMissing} for `generation`). */
  setParsedJson(path: string, value: unknown, generation: number): void {
    if (!this.enabled || generation !== this.generation || value === undefined) return;
    if (this.json.size >= (this.maxEntries || 65_536)) this.json.clear();
    this.json.set(path, value);
  }

  /** Drops both kinds of metadata of one path; true if any stats were cached. */
  delete(path: string): boolean {
    this.generation++;
    if (this.json.size !== 0) this.json.delete(path);
    if (this.missing.size !== 0) this.missing.delete(path);
    if (this.targets.size !== 0) this.targets.delete(path);
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
    this.generation++;
    for (const p of this.missing.keys()) if (match(p)) this.missing.delete(p);
    for (const p of this.targets.keys()) if (match(p)) this.targets.delete(p);
    for (const p of this.json.keys()) if (match(p)) this.json.delete(p);
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
    this.generation++;
    this.missing.clear();
    this.absentBelow.clear();
    this.targets.clear();
    this.json.clear();
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
