/** Rows of the sketch: each key has one counter per row, and its estimate is the smallest. */
const DEPTH = 4;
/** A 4-bit counter saturates here. */
const MAX_COUNT = 15;
/** Counters packed per `Uint32Array` word. */
const PER_WORD = 8;
/** Per-row seeds; odd constants with well-spread bits so that the rows hash independently. */
const SEEDS = [0x97cb3127, 0x3c6ef372, 0xb2f8a8e1, 0x6a09e667] as const;

/**
 * A count-min sketch of 4-bit counters with periodic aging: the popularity estimate of W-TinyLFU
 * (Einziger, Friedman and Manes, "TinyLFU: A Highly Efficient Cache Admission Policy", 2017), laid out
 * like Caffeine's `FrequencySketch`.
 *
 * Each key (a 32-bit hash) has a counter in each of 4 rows; `increment` raises each of them that is below
 * 15, and `frequency` returns the smallest, which over-estimates only through collisions. Counters are
 * packed eight to a `Uint32Array` word, half a byte each. Every increment that raised a counter is a
 * sample; when the samples reach `sampleSize` (10 × the capacity), every counter is halved — the
 * *reset* that makes old popularity fade so that the sketch follows a changing workload.
 *
 * Sizing: each row has at least `4 × capacity` counters (rounded up to a power of two), i.e. 8 bytes per
 * tracked key, as in Caffeine. `ensureCapacity` widens the table by doubling it: since a row index is the low bits of a
 * hash, a key's counter in the doubled row is a copy of its counter in the old one, so widening loses no
 * count (unlike Caffeine, which starts over).
 */
export class CountMinSketch {
  private table: Uint32Array;
  /** Counters per row, a power of two. */
  private width = 0;
  private cap = 0;
  private samples = 0;
  private limit = 0;

  /** @param capacity how many distinct keys the sketch should tell apart (the tracked entries). */
  constructor(capacity = 16) {
    this.table = new Uint32Array(0);
    this.ensureCapacity(capacity);
  }

  /** The capacity the sketch is sized for. */
  get capacity(): number {
    return this.cap;
  }

  /** Samples counted since the last reset. */
  get sampleCount(): number {
    return this.samples;
  }

  /** Samples that trigger a reset: 10 × the capacity. */
  get sampleSize(): number {
    return this.limit;
  }

  /** Sizes the sketch for at least `capacity` keys; never shrinks it. Amortized O(1) under doubling. */
  ensureCapacity(capacity: number): void {
    if (capacity <= this.cap) return;
    this.cap = Math.max(capacity, 8);
    this.limit = 10 * this.cap;
    let width = Math.max(this.width, 16);
    while (width < 4 * this.cap) width *= 2;
    if (width === this.width) return;
    const words = width / PER_WORD;
    const table = new Uint32Array(DEPTH * words);
    if (this.width > 0) {
      const oldWords = this.width / PER_WORD;
      for (let row = 0; row < DEPTH; row++) {
        const from = this.table.subarray(row * oldWords, (row + 1) * oldWords);
        for (let at = row * words; at < (row + 1) * words; at += oldWords) table.set(from, at);
      }
    }
    this.table = table;
    this.width = width;
  }

  /** Counts one occurrence of `keyHash`; may trigger a reset. */
  increment(keyHash: number): void {
    let added = false;
    const words = this.width / PER_WORD;
    for (let row = 0; row < DEPTH; row++) {
      const i = this.index(keyHash, row);
      const word = row * words + (i >>> 3);
      const shift = (i & 7) << 2;
      const v = this.table[word]!;
      if (((v >>> shift) & 0xf) < MAX_COUNT) {
        this.table[word] = v + (1 << shift);
        added = true;
      }
    }
    if (added && ++this.samples >= this.limit) this.reset();
  }

  /** The estimated count of `keyHash`, 0..15. */
  frequency(keyHash: number): number {
    let min = MAX_COUNT;
    const words = this.width / PER_WORD;
    for (let row = 0; row < DEPTH; row++) {
      const i = this.index(keyHash, row);
      const c = (this.table[row * words + (i >>> 3)]! >>> ((i & 7) << 2)) & 0xf;
      if (c < min) min = c;
    }
    return min;
  }

  /** Halves every counter (aging), as when the samples reach `sampleSize`. */
  reset(): void {
    let odd = 0;
    const t = this.table;
    for (let w = 0; w < t.length; w++) {
      const v = t[w]!;
      odd += popcount(v & 0x11111111);
      // Shifting the whole word moves each counter's low bit into its neighbour: mask it away.
      t[w] = (v >>> 1) & 0x77777777;
    }
    // Halving drops the remainders of odd counters; as Caffeine does, take them out of the sample
    // count (one sample per row touched) before halving it.
    this.samples = Math.max(0, (this.samples - (odd >>> 2)) >>> 1);
  }

  /** Zeroes every counter and the sample count. */
  clear(): void {
    this.table.fill(0);
    this.samples = 0;
  }

  private index(keyHash: number, row: number): number {
    // murmur3's 32-bit finalizer over the hash mixed with the row's seed.
    let h = (keyHash ^ SEEDS[row]!) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
    return h & (this.width - 1);
  }
}

function popcount(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}
