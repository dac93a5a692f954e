import type { EvictionPolicy } from './policy.js';
import { CountMinSketch } from './sketch.js';
import { SlotLists } from './slot-list.js';

const WINDOW = 0;
const PROBATION = 1;
const PROTECTED = 2;

/** The window's initial share of the tracked slots. */
const WINDOW_SHARE = 0.01;
/** Bounds of the window's share; as in Caffeine, the main area keeps at least its probation fifth. */
const WINDOW_SHARE_MIN = 0;
const WINDOW_SHARE_MAX = 0.8;
/** The protected segment's share of the main area (window excluded). */
const PROTECTED_SHARE = 0.8;
/** Caffeine's hill climber: first step (a share of the slots), restart threshold, decay per period. */
const CLIMB_STEP = 0.0625;
const CLIMB_RESTART = 0.05;
const CLIMB_DECAY = 0.98;
/** A shrinking window spills at most this many slots per insert, so that no insert costs O(n). */
const SPILL_LIMIT = 4;
/**
 * A candidate at least this popular that only ties (or loses to) the victim is still admitted once in
 * 128 duels: Caffeine's defence against a victim whose estimate is inflated by hash collisions (or an
 * attacker), which would otherwise freeze the main area.
 */
const JITTER_THRESHOLD = 6;

/** Options of {@link TinyLfuPolicy}, for tests and experiments; the defaults are Caffeine's. */
export interface TinyLfuOptions {
  /** Adapt the window's share with the hill climber (default true); false keeps it fixed. */
  adaptive?: boolean;
  /** The window's initial share of the tracked slots, 0..0.8 (default 0.01). */
  window?: number;
}

/**
 * W-TinyLFU, as in Caffeine (Einziger, Friedman and Manes, "TinyLFU: A Highly Efficient Cache Admission
 * Policy", 2017; Einziger, Eytan, Friedman and Manes, "Adaptive Software Cache Management", 2018): a
 * small LRU *window* in front of a *main* area that is a segmented LRU, with admission to the main area
 * decided by a frequency sketch, and the window's size tuned by a hill climber.
 *
 * - A new slot enters the tail of the window, which starts at 1% of the tracked slots. When an insert
 *   makes the window exceed its share, the window's least recently used slot moves to the tail of the
 *   main area's *probation* segment and becomes the *candidate*.
 * - When the store then asks for a `victim`, the candidate duels the probation segment's least recently
 *   used slot on their estimated frequencies, read from a {@link CountMinSketch} of 4-bit counters that
 *   halves itself every 10 × capacity samples. The other slot is the victim only if the candidate is
 *   strictly more popular (or, when the candidate's estimate is 6 or more, on a 1/128 chance); otherwise
 *   the candidate itself is the victim. Rejecting on ties is what defeats loops and scans: a key seen
 *   once cannot displace one seen as often. The decision is remembered, so asking again before `remove`
 *   returns the same slot. With no candidate pending (nothing spilled since the last duel), the victim is
 *   the head of probation, else of protected, else of the window.
 * - A hit in probation promotes the slot to protected, which holds at most 80% of the main area; when
 *   that overflows, protected's least recently used slot is demoted to the tail of probation. A hit
 *   elsewhere moves the slot to the tail of its segment.
 * - The sketch counts each access once: `recordMiss` counts a miss and `access` a hit; `insert` counts
 *   the key too unless it is the key whose miss was just recorded (a miss followed by loading the entry
 *   is one access, as in Caffeine, where a miss is counted when the loaded entry is added). An insert
 *   with no miss before it (a write) counts once.
 * - The hill climber (Caffeine's): every period of as many requests (hits plus misses) as the sketch's
 *   sample size, it compares the period's hit rate with the previous period's and moves the window's
 *   share by a step, in the same direction if the hit rate did not fall and in the other if it did.
 *   Steps start at 6.25% of the slots, shrink by 2% a period, and restart at 6.25% when the hit rate
 *   moves by 5 points (a new workload). A recency-biased workload so grows the window toward an LRU; a
 *   frequency-biased one or a loop shrinks it.
 *
 * The store asks for victims when bytes or entries exceed its limits, so the policy never knows its
 * capacity in entries. The window and protected shares are therefore taken of the number of slots
 * tracked *now* (under an entry limit, that is the limit give or take the slot being inserted; under a
 * byte limit, whatever number of entries currently fits), and the sketch is sized for, and ages and
 * climbs at 10 × , the largest number of slots tracked so far.
 *
 * Known limit (shared with Caffeine): when a hot set much smaller than the cache is replaced wholesale,
 * the old keys keep winning duels until the sketch ages them out, while LRU forgets them at once; the
 * climber narrows the gap but explores first. `bench/hit-ratio.ts`'s `shifting@10%` shows it.
 *
 * Every operation is O(1), amortized over the sketch's occasional widening and halving; nothing is
 * allocated per operation. Sizes and expiry times are ignored. Inserting a tracked slot starts it afresh.
 */
export class TinyLfuPolicy implements EvictionPolicy {
  readonly name = 'tinylfu';
  /** The frequency sketch; exposed for tests and diagnostics. */
  readonly sketch: CountMinSketch;
  /** Whether the hill climber adapts the window. */
  readonly adaptive: boolean;
  private readonly lists: SlotLists;
  private hashes: Uint32Array;
  /** The slot last spilled from the window that has not met a victim yet, or -1. */
  private candidate = -1;
  /** The answer of the last `victim` call if nothing changed since, or -1. */
  private decided = -1;
  /** The hash of the last `recordMiss` if no insert consumed it yet, or -1 (hashes are unsigned). */
  private pendingMiss = -1;
  private highWater = 0;
  /** xorshift32 state: the jitter is deterministic, so that runs and tests repeat. */
  private seed = 0x2545f491;
  private readonly initialWindow: number;
  private windowShare: number;
  private step = -CLIMB_STEP;
  private sampleHits = 0;
  private sampleMisses = 0;
  private previousHitRate = 0;

  /** @param capacity the initial slot capacity; `grow` raises it. */
  constructor(capacity = 16, options: TinyLfuOptions = {}) {
    this.adaptive = options.adaptive ?? true;
    this.initialWindow = Math.min(WINDOW_SHARE_MAX, Math.max(WINDOW_SHARE_MIN, options.window ?? WINDOW_SHARE));
    this.windowShare = this.initialWindow;
    this.lists = new SlotLists(3, capacity);
    this.hashes = new Uint32Array(capacity);
    this.sketch = new CountMinSketch(16);
  }

  /** The window's current share of the tracked slots. */
  get windowFraction(): number {
    return this.windowShare;
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
    this.decided = -1;
    const hash = keyHash >>> 0;
    this.hashes[slot] = hash;
    if (hash !== this.pendingMiss) this.sketch.increment(hash);
    this.pendingMiss = -1;
    this.lists.pushTail(WINDOW, slot);
    const tracked = this.tracked();
    if (tracked > this.highWater) {
      this.highWater = tracked;
      this.sketch.ensureCapacity(tracked);
    }
    const windowMax = Math.max(1, Math.round(this.windowShare * tracked));
    for (let n = 0; n < SPILL_LIMIT && this.lists.size(WINDOW) > windowMax; n++) {
      const spilled = this.lists.head(WINDOW);
      this.lists.moveToTail(PROBATION, spilled);
      this.candidate = spilled;
    }
  }

  access(slot: number, _now: number): void {
    const list = this.lists.listOf(slot);
    if (list === -1) return;
    this.decided = -1;
    this.sketch.increment(this.hashes[slot]!);
    this.sampleHits++;
    this.climb();
    if (list !== PROBATION) {
      this.lists.moveToTail(list, slot);
      return;
    }
    if (slot === this.candidate) this.candidate = -1;
    this.lists.moveToTail(PROTECTED, slot);
    const main = this.lists.size(PROBATION) + this.lists.size(PROTECTED);
    const protectedMax = Math.max(1, Math.floor(PROTECTED_SHARE * main));
    while (this.lists.size(PROTECTED) > protectedMax) {
      this.lists.moveToTail(PROBATION, this.lists.head(PROTECTED));
    }
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
    const c = this.candidate;
    let chosen: number;
    if (c !== -1) {
      this.candidate = -1;
      let v = this.lists.head(PROBATION);
      // Only slots demoted from protected since the spill can follow the candidate in probation.
      if (v === c) v = this.lists.newer(c);
      if (v === -1) v = this.lists.head(PROTECTED);
      chosen = v === -1 || !this.admit(this.hashes[c]!, this.hashes[v]!) ? c : v;
    } else {
      chosen = this.lists.head(PROBATION);
      if (chosen === -1) chosen = this.lists.head(PROTECTED);
      if (chosen === -1) chosen = this.lists.head(WINDOW);
    }
    this.decided = chosen;
    return chosen;
  }

  recordMiss(keyHash: number): void {
    const hash = keyHash >>> 0;
    this.sketch.increment(hash);
    this.pendingMiss = hash;
    this.sampleMisses++;
    this.climb();
  }

  clear(): void {
    this.lists.clear();
    this.sketch.clear();
    this.candidate = -1;
    this.decided = -1;
    this.pendingMiss = -1;
    this.highWater = 0;
    this.windowShare = this.initialWindow;
    this.step = -CLIMB_STEP;
    this.sampleHits = 0;
    this.sampleMisses = 0;
    this.previousHitRate = 0;
  }

  /** Which region a slot is in: `'window'`, `'probation'`, `'protected'`, or `null` when untracked. */
  segmentOf(slot: number): 'window' | 'probation' | 'protected' | null {
    const list = this.lists.listOf(slot);
    if (list === WINDOW) return 'window';
    if (list === PROBATION) return 'probation';
    return list === PROTECTED ? 'protected' : null;
  }

  private tracked(): number {
    return this.lists.size(WINDOW) + this.lists.size(PROBATION) + this.lists.size(PROTECTED);
  }

  private climb(): void {
    const requests = this.sampleHits + this.sampleMisses;
    if (!this.adaptive || requests < this.sketch.sampleSize) return;
    const hitRate = this.sampleHits / requests;
    const change = hitRate - this.previousHitRate;
    const amount = change >= 0 ? this.step : -this.step;
    // The sign is taken by comparison: after enough decay the step underflows to zero, and a restart
    // must still get a direction.
    this.step = Math.abs(change) >= CLIMB_RESTART ? (amount < 0 ? -CLIMB_STEP : CLIMB_STEP) : CLIMB_DECAY * amount;
    this.previousHitRate = hitRate;
    this.windowShare = Math.min(WINDOW_SHARE_MAX, Math.max(WINDOW_SHARE_MIN, this.windowShare + amount));
    this.sampleHits = 0;
    this.sampleMisses = 0;
  }

  /** Whether the candidate should take the victim's place. */
  private admit(candidateHash: number, victimHash: number): boolean {
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
