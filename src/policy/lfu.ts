import type { EvictionPolicy } from './policy.js';

/**
 * Least frequently used, in O(1) per operation (the scheme of Shah, Mitra and Matani, "An O(1)
 * algorithm for implementing the LFU cache eviction scheme", 2010): a list of frequency buckets in
 * ascending order, each bucket a list of the slots with that access count, oldest first. A hit moves a
 * slot to the tail of the next bucket up, so within a bucket slots are ordered by their last access, and
 * the victim — the head of the lowest bucket — is the least recently used among the least frequently
 * used.
 *
 * A slot's count starts at 1 on insertion and is forgotten when it leaves (frequency counts only while
 * resident; `recordMiss` is ignored). Counts age: after every 10 × maximum requests (hits and inserts;
 * the maximum is the most slots tracked at once), every count is halved (never below 1), in one O(n)
 * pass over the buckets, which keeps their order. Without aging, entries that were popular once hold
 * their slots forever, and once every resident has been hit a few times, each newcomer is the next
 * victim unless it is hit before the next miss (see docs/eviction.md for the figures). A bucket exists only while it holds a slot, so at most `capacity`
 * buckets are ever in use: they live in a pool of typed arrays the size of the slot capacity, with a free
 * list, and nothing is allocated per operation.
 */
export class LfuPolicy implements EvictionPolicy {
  readonly name = 'lfu';
  readonly usesKeyHash = false;

  // Per slot.
  /** The bucket holding the slot, or -1 when it is not tracked. */
  private bucketOf: Int32Array;
  private prev: Int32Array;
  private next: Int32Array;

  // Per bucket.
  /** Float64 so that a count never wraps. */
  private freq: Float64Array;
  private bPrev: Int32Array;
  /** Toward higher counts; in a free bucket, the next free bucket. */
  private bNext: Int32Array;
  private bHead: Int32Array;
  private bTail: Int32Array;

  /** The bucket with the lowest count, or -1. */
  private lowest = -1;
  private freeBuckets = -1;
  /** Slots tracked now, the most tracked at once, and requests since the last halving. */
  private tracked = 0;
  private maximum = 0;
  private requests = 0;

  /** @param capacity the initial slot capacity; `grow` raises it. */
  constructor(capacity = 16) {
    this.bucketOf = new Int32Array(0);
    this.prev = new Int32Array(0);
    this.next = new Int32Array(0);
    this.freq = new Float64Array(0);
    this.bPrev = new Int32Array(0);
    this.bNext = new Int32Array(0);
    this.bHead = new Int32Array(0);
    this.bTail = new Int32Array(0);
    this.grow(capacity);
  }

  grow(capacity: number): void {
    const old = this.bucketOf.length;
    if (capacity <= old) return;
    this.bucketOf = widen(this.bucketOf, capacity, -1);
    this.prev = widen(this.prev, capacity, 0);
    this.next = widen(this.next, capacity, 0);
    const freq = new Float64Array(capacity);
    freq.set(this.freq);
    this.freq = freq;
    this.bPrev = widen(this.bPrev, capacity, 0);
    this.bNext = widen(this.bNext, capacity, 0);
    this.bHead = widen(this.bHead, capacity, -1);
    this.bTail = widen(this.bTail, capacity, -1);
    // The new buckets join the free list, lowest index first.
    for (let b = capacity - 1; b >= old; b--) {
      this.bNext[b] = this.freeBuckets;
      this.freeBuckets = b;
    }
  }

  insert(slot: number, _keyHash: number, _size: number, _expiresAt: number, _now: number): void {
    this.remove(slot);
    let b = this.lowest;
    if (b === -1 || this.freq[b] !== 1) b = this.newBucket(1, -1, b);
    this.append(b, slot);
    if (++this.tracked > this.maximum) this.maximum = this.tracked;
    this.counted();
  }

  access(slot: number, _now: number): void {
    if (slot < 0 || slot >= this.bucketOf.length) return;
    if (this.bucketOf[slot] === -1) return;
    this.counted();
    const b = this.bucketOf[slot]!;
    const f = this.freq[b]! + 1;
    const up = this.bNext[b]!;
    if (up !== -1 && this.freq[up] === f) {
      this.detach(slot);
      this.append(up, slot);
    } else if (this.bHead[b] === slot && this.bTail[b] === slot) {
      // Alone in its bucket, with no bucket for the next count: the bucket itself moves up.
      this.freq[b] = f;
    } else {
      const nb = this.newBucket(f, b, up);
      this.detach(slot);
      this.append(nb, slot);
    }
  }

  resize(_slot: number, _size: number): void {}

  remove(slot: number): void {
    if (slot < 0 || slot >= this.bucketOf.length || this.bucketOf[slot] === -1) return;
    this.detach(slot);
    this.tracked--;
  }

  victim(_now: number): number {
    return this.lowest === -1 ? -1 : this.bHead[this.lowest]!;
  }

  recordMiss(_keyHash: number): void {}

  refusedLast(): boolean {
    return false;
  }

  clear(): void {
    const capacity = this.bucketOf.length;
    this.bucketOf.fill(-1);
    this.lowest = -1;
    this.freeBuckets = -1;
    this.tracked = 0;
    this.maximum = 0;
    this.requests = 0;
    for (let b = capacity - 1; b >= 0; b--) {
      this.bNext[b] = this.freeBuckets;
      this.freeBuckets = b;
    }
  }

  /** The access count of a tracked slot (for tests and diagnostics), or 0. */
  frequency(slot: number): number {
    const b = slot >= 0 && slot < this.bucketOf.length ? this.bucketOf[slot]! : -1;
    return b === -1 ? 0 : this.freq[b]!;
  }

  /** Counts a request, and halves every count when a period of 10 × maximum requests is complete. */
  private counted(): void {
    if (++this.requests < 10 * this.maximum) return;
    this.requests = 0;
    let keep = -1;
    for (let b = this.lowest; b !== -1; ) {
      const up = this.bNext[b]!;
      const f = Math.max(1, Math.floor(this.freq[b]! / 2));
      if (keep !== -1 && this.freq[keep] === f) {
        // Halving is monotone, so only neighbours merge, and the merged bucket stays in order.
        for (let s = this.bHead[b]!; s !== -1; ) {
          const n = this.next[s]!;
          this.append(keep, s);
          s = n;
        }
        this.bNext[keep] = up;
        if (up !== -1) this.bPrev[up] = keep;
        this.bNext[b] = this.freeBuckets;
        this.freeBuckets = b;
      } else {
        this.freq[b] = f;
        keep = b;
      }
      b = up;
    }
  }

  /** Takes a bucket from the free list and links it between `before` and `after` (either may be -1). */
  private newBucket(f: number, before: number, after: number): number {
    const b = this.freeBuckets;
    this.freeBuckets = this.bNext[b]!;
    this.freq[b] = f;
    this.bHead[b] = -1;
    this.bTail[b] = -1;
    this.bPrev[b] = before;
    this.bNext[b] = after;
    if (before === -1) this.lowest = b;
    else this.bNext[before] = b;
    if (after !== -1) this.bPrev[after] = b;
    return b;
  }

  private append(b: number, slot: number): void {
    const tail = this.bTail[b]!;
    this.prev[slot] = tail;
    this.next[slot] = -1;
    if (tail === -1) this.bHead[b] = slot;
    else this.next[tail] = slot;
    this.bTail[b] = slot;
    this.bucketOf[slot] = b;
  }

  /** Unlinks a tracked slot from its bucket, and frees the bucket when that empties it. */
  private detach(slot: number): void {
    const b = this.bucketOf[slot]!;
    const p = this.prev[slot]!;
    const n = this.next[slot]!;
    if (p === -1) this.bHead[b] = n;
    else this.next[p] = n;
    if (n === -1) this.bTail[b] = p;
    else this.prev[n] = p;
    this.bucketOf[slot] = -1;
    if (this.bHead[b] !== -1) return;
    const bp = this.bPrev[b]!;
    const bn = this.bNext[b]!;
    if (bp === -1) this.lowest = bn;
    else this.bNext[bp] = bn;
    if (bn !== -1) this.bPrev[bn] = bp;
    this.bNext[b] = this.freeBuckets;
    this.freeBuckets = b;
  }
}

function widen(a: Int32Array, capacity: number, fill: number): Int32Array {
  const b = new Int32Array(capacity);
  if (fill !== 0) b.fill(fill, a.length);
  b.set(a);
  return b;
}
