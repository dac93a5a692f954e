import type { EvictionPolicy } from './policy.js';
import { CountMinSketch } from './sketch.js';
import { SlotLists } from './slot-list.js';

const WINDOW = 0;
const PROBATION = 1;
const PROTECTED = 2;

/** The window's initial share of the cache (Caffeine: `maximum − floor(0.99 × maximum)` entries). */
const WINDOW_SHARE = 0.01;
/** The protected segment's initial share of the main area. */
const PROTECTED_SHARE = 0.8;
/**
 * The hill climber: step (a share of the cache), restart threshold (hit rate), decay per period.
 * Caffeine steps 6.25%, restarts at 5 points and decays by 2%. With 10% steps, the first toward a larger
 * window, a recency-biased trace reaches a large window within the few periods a short trace lasts
 * (sprite, 134k requests, at 700 / 1400 entries: from 4.3 / 2.5 points below LRU to 1.2 / 0.9), and
 * glimpse does not lose. The faster decay (10%) and the higher restart (20 points) let it settle where
 * a stationary workload is noisy from period to period: a scan burst moves the hit rate by 5 points and
 * restarted Caffeine's climber every few periods (Zipf with scans at 1,000 entries: 2 points below the
 * fixed window; Zipf 0.8: 1 point), and the climber then walked the window at random. Zipf with scans
 * at 1,000 entries swings by 10 to 58 points from period to period: 20 points still restarts on the
 * bursts but no longer on the 10-to-20-point recoveries after them (1.05 points below SIEVE at 10,
 * 0.85 at 20; no other row of the simulator moved by more than 0.2).
 */
const CLIMB_STEP = 0.1;
const CLIMB_RESTART = 0.2;
const CLIMB_DECAY = 0.9;
/**
 * As its step decays, the climber samples longer (the period grows by step₀ / step, at most this
 * factor; Caffeine's small caches up to 4×): a small step moves the hit rate by less than a short
 * period's noise, and a restart brings the short period back.
 */
const CLIMB_PERIOD_GROWTH = 16;
/**
 * The first sample period fills a cold cache, so its hit rate is no baseline: a climber that compares
 * the next period with it sees an improvement whatever it did, and steps on toward a larger window
 * (Zipf 0.99 at 1,000 entries: the window wandered between 20% and 30%, 1.5 points below SIEVE; now
 * 0.4 to 0.5). So the first period only measures, unless recency already shows: a window slot earns more
 * hits than this many main slots (sprite: 2.8 to 4.2 at 1%; Zipf, with or without scans, and the
 * moving hot set: 0.08 to 0.18), and then the climber grows the window at once, as before, because a
 * short recency-biased trace has few periods to climb in.
 */
const WARMUP_WINDOW_DENSITY = 1;
/**
 * A drop of the hit rate by this much from one watch period to the next ages the sketch at once, by
 * {@link SHIFT_AGING} extra resets: the popular keys changed, and their old counts would turn the new
 * ones away for several periods (a hot set that moves every 150k requests, 1,000 entries: +0.7 point
 * with two resets, +0.2 with one; three lose on Zipf with scans, whose bursts also drop the hit rate).
 */
const SHIFT_DROP = 0.05;
const SHIFT_AGING = 2;
/** Requests per watch period of {@link SHIFT_DROP}: short, so that a shift is seen within a sketch period. */
const SHIFT_WATCH = 2000;
/**
 * The climber's sample period, and the sketch's between two resets, is 10 × maximum requests (Caffeine's)
 * but at least this many. Over 1,000
 * requests (a cache of 100) a hit rate of 30% has a standard error of 1.4 points, so the difference of two
 * periods is mostly noise and the climber walks the window at random (Zipf over 100k keys at 100
 * entries: 2.7 points below the same policy with its window fixed); 10,000 requests bring the error
 * to 0.5 point. The sketch needs the same floor to rank keys at all (Zipf 0.8 / 0.99 at 100 entries: +1.2 /
 * +2.0 points with the window fixed).
 */
const CLIMB_MIN_PERIOD = 10_000;
/**
 * A candidate at least this popular that only ties (or loses to) the victim is still admitted once in
 * 128 duels: Caffeine's defence against a victim whose estimate is inflated by hash collisions (or an
 * attacker flooding one hash), which would otherwise turn every warm newcomer away.
 */
const JITTER_THRESHOLD = 6;
/** An insert spills at most this many window entries beyond the window's size, so no insert is O(n). */
const SPILL_LIMIT = 4;

/** Options of {@link TinyLfuPolicy}, for tests and experiments; the defaults are Caffeine's. */
export interface TinyLfuOptions {
  /** Adapt the window's size with the hill climber (default true); false keeps it at its initial size. */
  adaptive?: boolean;
  /** The window's initial share of the cache, in (0, 0.8] (default 0.01). */
  window?: number;
}

/**
 * W-TinyLFU as Caffeine does it (Einziger, Friedman and Manes, "TinyLFU: A Highly Efficient Cache
 * Admission Policy", 2017; Einziger, Eytan, Friedman and Manes, "Adaptive Software Cache Management",
 * 2018): a small LRU *window* in front of a *main* area that is a segmented LRU (probation and
 * protected), admission from the window to the main area by a frequency estimate, and a hill climber that
 * sizes the window.
 *
 * - A new slot always enters the tail of the window, which starts at 1% of the cache. The store asks for
 *   a victim before it inserts (see {@link EvictionPolicy}): when the window is full, its least recently
 *   used slot leaves it for the tail of probation as the *candidate*, and duels the slot at the head of
 *   probation (or of protected, when probation holds only the candidate) on their estimated frequencies,
 *   read from a {@link CountMinSketch} that halves itself every 10 × maximum samples (at least 10,000),
 *   without a doorkeeper (see the constructor), and also at once, to a quarter, when the hit rate drops
 *   by 5 points from one 2,000-request watch to the next (the popular keys changed).
 *   The candidate is admitted (the head is the victim) only if it is strictly more popular, or, when its
 *   estimate is 6 or more, on a 1/128 chance (Caffeine's jitter against hash flooding); otherwise the
 *   candidate is the victim, and {@link refusedLast} says so. Ties thus go to the resident: a key seen
 *   as often as the one it would displace brings no evidence that it is worth more. A resident that
 *   won goes to probation's tail (a departure from Caffeine), so that the next candidate meets another. When the window has
 *   room (the climber grew it), the victim is the head of probation, else protected, else the window.
 * - A hit in probation promotes the slot to protected, whose size is capped (at first 80% of the main
 *   area); protected's least recently used slots overflow back to the tail of probation. A hit elsewhere
 *   moves the slot to the tail of its segment.
 * - The sketch counts each request once: `recordMiss` counts a miss and `access` a hit; `insert` counts
 *   the key too unless its miss was just recorded (a miss followed by loading the entry is one request,
 *   as in Caffeine); an insert with no miss before it (a write) counts once.
 * - The hill climber (Caffeine's reactive one, with departures): after every 10 × maximum requests (hits
 *   plus misses), but at least 10,000, and up to 16 times longer as its step decays, it compares the
 *   period's hit rate with the previous period's and moves the window's size by a step, on in the same
 *   direction if the hit rate did not fall, back if it did. Steps start at 10% of the cache (Caffeine:
 *   6.25%), first toward a larger window (as Caffeine's small caches), shrink by 10% a period
 *   (Caffeine: 2%), and restart at 10% when the hit rate moves by 20 points (Caffeine: 5). The first
 *   period, a cold cache's, is only the baseline unless a window slot already earns more hits than a
 *   main slot (then the window grows at once). Growing the window takes
 *   the room from protected, so the window ranges from one slot to about 80% of the cache: a
 *   recency-biased workload drives it toward an LRU, a frequency-biased one or a loop shrinks it.
 *
 * The store limits bytes or entries and never tells the policy a size in entries: the *maximum* is the
 * largest number of slots tracked so far (under an entry limit, the limit once the cache has filled).
 *
 * Every operation is O(1) amortized (the climber's resize moves at most the cache once per 10 × maximum
 * requests); nothing is allocated per operation. Sizes and expiry times are ignored. Inserting a tracked
 * slot starts it afresh.
 */
export class TinyLfuPolicy implements EvictionPolicy {
  readonly name = 'tinylfu';
  readonly usesKeyHash = true;
  /** The frequency sketch; exposed for tests and diagnostics. */
  readonly sketch: CountMinSketch;
  /** Whether the hill climber adapts the window. */
  readonly adaptive: boolean;
  private readonly lists: SlotLists;
  private hashes: Uint32Array;
  /** The slot spilled from the window that has not met its victim yet, or -1. */
  private candidate = -1;
  /** The answer of the last `victim` call if nothing changed since, or -1. */
  private decided = -1;
  /** Whether `decided` is a refused candidate. */
  private refused = false;
  /** The hash of the last `recordMiss` if no insert consumed it yet, or -1 (hashes are unsigned). */
  private pendingMiss = -1;
  /** The cache's size in entries: the most slots tracked at once so far. */
  private maximum = 0;
  private readonly initialWindowShare: number;
  /** Slots the climber moved from protected to the window, as a share of the maximum (negative: back). */
  private shift = 0;
  private windowMax = 1;
  private protectedMax = 0;
  /**
   * The climber's next step, as a share of the maximum. Caffeine starts by shrinking the window; from 1%
   * there is little to shrink, so the first step here grows it, and a frequency-biased trace turns it
   * back after one period.
   */
  private step = CLIMB_STEP;
  private sampleHits = 0;
  private sampleMisses = 0;
  /** Hits in the window during the sample period. */
  private sampleWindowHits = 0;
  /** Whether a sample period has ended (the first one is the cold cache's). */
  private warm = false;
  private previousHitRate = 0;
  private watchHits = 0;
  private watchRequests = 0;
  /** The hit rate of the last watch period, or -1 before the first. */
  private watchedHitRate = -1;
  /** xorshift32 state: the jitter is deterministic, so that runs and tests repeat. */
  private seed = 0x2545f491;

  /** @param capacity the initial slot capacity; `grow` raises it. */
  constructor(capacity = 16, options: TinyLfuOptions = {}) {
    this.adaptive = options.adaptive ?? true;
    this.initialWindowShare = Math.min(0.8, Math.max(0, options.window ?? WINDOW_SHARE));
    this.lists = new SlotLists(3, capacity);
    this.hashes = new Uint32Array(capacity);
    // No doorkeeper: its reset forgets the keys seen about once a period, the tail of a hot set, which
    // then lose their places to one-hit wonders (a moving hot set at 1,000 entries: 0.8 point).
    this.sketch = new CountMinSketch(16, { doorkeeper: false, minSamples: CLIMB_MIN_PERIOD });
  }

  /** The window's current share of the cache. */
  get windowFraction(): number {
    return this.maximum === 0 ? this.initialWindowShare : this.windowMax / this.maximum;
  }

  /** The window's current size limit in entries. */
  get windowCapacity(): number {
    return this.windowMax;
  }

  grow(capacity: number): void {
    if (capacity <= this.hashes.length) return;
    this.lists.grow(capacity);
    const hashes = new Uint32Array(capacity);
    hashes.set(this.hashes);
    this.hashes = hashes;
  }

  insert(slot: number, keyHash: number, _size: number, _expiresAt: number, _now: number): void {
    this.remove(slot);
    const hash = keyHash >>> 0;
    this.hashes[slot] = hash;
    if (hash !== this.pendingMiss) this.sketch.increment(hash);
    this.pendingMiss = -1;
    this.lists.pushTail(WINDOW, slot);
    const tracked = this.lists.size(WINDOW) + this.lists.size(PROBATION) + this.lists.size(PROTECTED);
    if (tracked > this.maximum) {
      this.maximum = tracked;
      this.sketch.ensureCapacity(tracked);
      this.setLimits();
    }
    // Filling up (or after the climber shrank the window): the window's oldest go to probation freely.
    for (let n = 0; n < SPILL_LIMIT && this.lists.size(WINDOW) > this.windowMax; n++) {
      this.lists.moveToTail(PROBATION, this.lists.head(WINDOW));
    }
  }

  access(slot: number, _now: number): void {
    const list = this.lists.listOf(slot);
    if (list === -1) return;
    this.decided = -1;
    this.sketch.increment(this.hashes[slot]!);
    this.sampleHits++;
    if (list === WINDOW) this.sampleWindowHits++;
    this.watchHits++;
    this.watchShift();
    if (list === PROBATION) {
      if (slot === this.candidate) this.candidate = -1;
      this.lists.moveToTail(PROTECTED, slot);
      this.demoteProtected();
    } else {
      this.lists.moveToTail(list, slot);
    }
    this.climb();
  }

  resize(_slot: number, _size: number): void {}

  remove(slot: number): void {
    if (this.lists.listOf(slot) === -1) return;
    this.lists.unlink(slot);
    if (slot === this.candidate) this.candidate = -1;
    this.decided = -1;
  }

  victim(_now: number): number {
    if (this.decided !== -1) return this.decided;
    this.refused = false;
    if (this.candidate === -1 && this.lists.size(WINDOW) >= this.windowMax) {
      // The entry about to be inserted takes the window's last place: its oldest must earn one in main.
      const oldest = this.lists.head(WINDOW);
      if (oldest !== -1 && this.lists.size(PROBATION) + this.lists.size(PROTECTED) > 0) {
        this.lists.moveToTail(PROBATION, oldest);
        this.candidate = oldest;
      }
    }
    let chosen: number;
    const c = this.candidate;
    if (c !== -1) {
      this.candidate = -1;
      let v = this.lists.head(PROBATION);
      if (v === c) v = this.lists.newer(c);
      if (v === -1) v = this.lists.head(PROTECTED);
      if (v === -1 || !this.admits(this.hashes[c]!, this.hashes[v]!)) {
        chosen = c;
        this.refused = v !== -1;
        // The victim that won goes round probation once more, so that the next candidate meets another
        // one: a cold key with a high count would otherwise turn every newcomer away until its count
        // decays, even newcomers that beat the rest of probation (moving hot set: +0.7 point).
        if (v !== -1 && this.lists.listOf(v) === PROBATION) this.lists.moveToTail(PROBATION, v);
      } else {
        chosen = v;
      }
    } else {
      chosen = this.lists.head(PROBATION);
      if (chosen === -1) chosen = this.lists.head(PROTECTED);
      if (chosen === -1) chosen = this.lists.head(WINDOW);
    }
    this.decided = chosen;
    return chosen;
  }

  refusedLast(): boolean {
    return this.refused;
  }

  recordMiss(keyHash: number): void {
    const hash = keyHash >>> 0;
    this.sketch.increment(hash);
    this.pendingMiss = hash;
    this.sampleMisses++;
    this.watchShift();
    this.climb();
  }

  clear(): void {
    this.lists.clear();
    this.sketch.clear();
    this.candidate = -1;
    this.decided = -1;
    this.refused = false;
    this.pendingMiss = -1;
    this.maximum = 0;
    this.shift = 0;
    this.windowMax = 1;
    this.protectedMax = 0;
    this.step = CLIMB_STEP;
    this.sampleHits = 0;
    this.sampleMisses = 0;
    this.sampleWindowHits = 0;
    this.warm = false;
    this.previousHitRate = 0;
    this.watchHits = 0;
    this.watchRequests = 0;
    this.watchedHitRate = -1;
  }

  /** Which region a slot is in: `'window'`, `'probation'`, `'protected'`, or `null` when untracked. */
  segmentOf(slot: number): 'window' | 'probation' | 'protected' | null {
    const list = this.lists.listOf(slot);
    if (list === WINDOW) return 'window';
    if (list === PROBATION) return 'probation';
    return list === PROTECTED ? 'protected' : null;
  }

  /**
   * Recomputes the window's and protected's limits from the maximum and the climber's shift. As in
   * Caffeine, the window starts at `maximum − floor((1 − share) × maximum)` slots and protected at 80% of
   * the rest; the climber moves slots between the two, keeping the window at one slot or more and
   * protected at zero or more.
   */
  private setLimits(): void {
    const max = this.maximum;
    const window0 = Math.max(1, max - Math.floor((1 - this.initialWindowShare) * max));
    const protected0 = Math.floor(PROTECTED_SHARE * (max - window0));
    const moved = Math.min(protected0, Math.max(1 - window0, Math.round(this.shift * max)));
    this.shift = max === 0 ? 0 : moved / max;
    this.windowMax = window0 + moved;
    this.protectedMax = protected0 - moved;
  }

  /** Demotes protected's least recently used slots to probation while protected is over its limit. */
  private demoteProtected(): void {
    while (this.lists.size(PROTECTED) > this.protectedMax) {
      this.lists.moveToTail(PROBATION, this.lists.head(PROTECTED));
    }
  }

  /** Ages the sketch when the hit rate drops by {@link SHIFT_DROP} from one watch period to the next. */
  private watchShift(): void {
    if (++this.watchRequests < SHIFT_WATCH) return;
    const hitRate = this.watchHits / this.watchRequests;
    if (this.watchedHitRate >= 0 && hitRate < this.watchedHitRate - SHIFT_DROP) {
      for (let n = 0; n < SHIFT_AGING; n++) this.sketch.reset();
    }
    this.watchedHitRate = hitRate;
    this.watchHits = 0;
    this.watchRequests = 0;
  }

  private climb(): void {
    const requests = this.sampleHits + this.sampleMisses;
    if (!this.adaptive) return;
    const growth = Math.min(CLIMB_PERIOD_GROWTH, CLIMB_STEP / Math.max(Math.abs(this.step), CLIMB_STEP / CLIMB_PERIOD_GROWTH));
    if (requests < growth * Math.max(this.sketch.sampleSize, CLIMB_MIN_PERIOD)) return;
    const hitRate = this.sampleHits / requests;
    const windowDensity = this.sampleWindowHits / this.windowMax;
    const mainDensity = (this.sampleHits - this.sampleWindowHits) / Math.max(1, this.maximum - this.windowMax);
    const warmup = !this.warm;
    this.warm = true;
    this.sampleWindowHits = 0;
    if (warmup && windowDensity < WARMUP_WINDOW_DENSITY * mainDensity) {
      this.previousHitRate = hitRate;
      this.sampleHits = 0;
      this.sampleMisses = 0;
      return;
    }
    const change = hitRate - this.previousHitRate;
    const amount = change >= 0 ? this.step : -this.step;
    // The sign is taken by comparison: after enough decay a step underflows to zero, and a restart must
    // still get a direction.
    this.step = Math.abs(change) >= CLIMB_RESTART ? (amount < 0 ? -CLIMB_STEP : CLIMB_STEP) : CLIMB_DECAY * amount;
    this.previousHitRate = hitRate;
    this.sampleHits = 0;
    this.sampleMisses = 0;
    this.shift += amount;
    this.setLimits();
    // Apply the new limits at once: both moves are bounded by the cache's size, once per period.
    while (this.lists.size(WINDOW) > this.windowMax) this.lists.moveToTail(PROBATION, this.lists.head(WINDOW));
    this.demoteProtected();
  }

  /**
   * Whether the candidate should take the victim's place (Caffeine's `admit`): yes when its estimate is
   * higher; when not, no, unless its estimate is at least 6, then yes once in 128 (deterministic
   * pseudo-random). Public for tests; it draws from the jitter's generator like a duel.
   */
  admits(candidateHash: number, victimHash: number): boolean {
    const cf = this.sketch.frequency(candidateHash);
    const vf = this.sketch.frequency(victimHash);
    if (cf > vf) return true;
    if (cf < JITTER_THRESHOLD) return false;
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x >>> 0;
    return (this.seed & 127) === 0;
  }
}
