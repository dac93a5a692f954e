/** Rows of the sketch: each key has one counter per row, and its estimate is the smallest. */
const DEPTH = 4;
/** A 4-bit counter saturates here. */
const MAX_COUNT = 15;
/** Counters packed per `Uint32Array` word. */
const PER_WORD = 8;
/** Per-row seeds, then the doorkeeper's two probes; odd constants with well-spread bits. */
const SEEDS = [0x97cb3127, 0x3c6ef372, 0xb2f8a8e1, 0x6a09e667, 0x510e527f, 0x9b05688c, 0x1f83d9ab] as const;
/** The doorkeeper's probes per key (a Bloom filter with three hash functions). */
const DOOR_PROBES = 3;
/**
 * Doorkeeper bits per counter of a row: 64 bits per key of capacity, i.e. 6.4 bits for each of the
 * 10 × capacity samples of a period, which with 3 probes keeps false positives near 5% even if every
 * sample were a new key.
 */
const DOOR_BITS_PER_COUNTER = 16;

/** Options of {@link CountMinSketch}. */
export interface CountMinSketchOptions {
  /** A doorkeeper in front of the counters (default true). */
  doorkeeper?: boolean;
  /** The fewest samples between two resets (default 0: 10 × capacity alone decides). */
  minSamples?: number;
}

/**
 * The popularity estimate of W-TinyLFU (Einziger, Friedman and Manes, "TinyLFU: A Highly Efficient
 * Cache Admission Policy", 2017): a *doorkeeper* in front of a count-min sketch of 4-bit counters, with
 * periodic halving.
 *
 * - The doorkeeper is a Bloom filter. The first occurrence of a key only sets its doorkeeper bits; later
 *   ones raise the key's counter in each of the sketch's 4 rows (each stops at 15). The estimate is the
 *   smallest of the 4 counters, plus one if the doorkeeper holds the key, so it over-estimates only
 *   through collisions. Keys seen once — most of a cache's traffic — thus never reach the counters,
 *   which stay accurate for the keys that matter.
 * - Every occurrence that changed something (set a doorkeeper bit or raised a counter) is a *sample*;
 *   after `sampleSize` = 10 × capacity samples, every counter is halved and the doorkeeper is cleared
 *   (the *reset*), so that old popularity fades and the sketch follows a changing workload. As in
 *   Caffeine's `FrequencySketch`, an occurrence of a key whose counters are all saturated is not a
 *   sample, and the count after a reset is halved rather than zeroed.
 *
 * - Without a doorkeeper (an option), every occurrence raises the counters, and a reset halves a counter
 *   rounding up, so that a count of one survives: the doorkeeper's reset forgets every key seen once
 *   in the last period, so a key requested about once a period (the tail of a hot set) reads as
 *   unseen half the time and loses its place to a one-hit wonder; kept at one, it ties the newcomer,
 *   and ties go to the resident.
 * - `minSamples` sets a floor under the period: in a small cache the period of 10 × capacity is too
 *   short to tell popular keys from the rest (Zipf 0.8 over 100k keys, 100 entries: the 100th key
 *   comes 0.55 times in 1,000 samples).
 *
 * Sizing: each row has at least `4 × capacity` counters and at least 0.4 per sample of the period (a
 * power of two; 8 bytes per tracked key as in Caffeine when the period is 10 × capacity), and the
 * doorkeeper 16 bits per counter of a row (8 bytes per key). `ensureCapacity` widens both by
 * doubling: a row index is the low bits of a hash, so a key's counter in the doubled row is a copy of its
 * old counter, and widening loses no count (Caffeine starts over).
 */
export class CountMinSketch {
  private table: Uint32Array;
  private door: Uint32Array;
  /** Counters per row, a power of two. */
  private width = 0;
  private cap = 0;
  private samples = 0;
  private limit = 0;
  /** Whether a doorkeeper absorbs each key's first occurrence in a period. */
  readonly doorkeeper: boolean;
  private readonly minSamples: number;

  /**
   * @param capacity how many distinct keys the sketch should tell apart (the tracked entries).
   * @param options `doorkeeper` (default true) puts the Bloom filter in front of the counters;
   *   `minSamples` (default 0) is the fewest samples between two resets, whatever the capacity.
   */
  constructor(capacity = 16, options: CountMinSketchOptions = {}) {
    this.table = new Uint32Array(0);
    this.door = new Uint32Array(0);
    this.doorkeeper = options.doorkeeper ?? true;
    this.minSamples = Math.max(0, options.minSamples ?? 0);
    this.ensureCapacity(capacity);
  }

  /** The capacity the sketch is sized for. */
  get capacity(): number {
    return this.cap;
  }

  /** Samples counted since the last reset (halved by a reset). */
  get sampleCount(): number {
    return this.samples;
  }

  /** Samples between two resets: 10 × the capacity. */
  get sampleSize(): number {
    return this.limit;
  }

  /** Sizes the sketch for at least `capacity` keys; never shrinks it. Amortized O(1) under doubling. */
  ensureCapacity(capacity: number): void {
    if (capacity <= this.cap) return;
    this.cap = Math.max(capacity, 8);
    this.limit = Math.max(10 * this.cap, this.minSamples);
    let width = Math.max(this.width, 16);
    while (width < 0.4 * this.limit) width *= 2;
    if (width === this.width) return;
    this.table = doubled(this.table, DEPTH, (DEPTH * width) / PER_WORD);
    if (this.doorkeeper) this.door = doubled(this.door, 1, (DOOR_BITS_PER_COUNTER * width) / 32);
    this.width = width;
  }

  /** Counts one occurrence of `keyHash`; may trigger a reset. */
  increment(keyHash: number): void {
    if (this.doorkeeper && !this.inDoor(keyHash)) {
      this.enterDoor(keyHash);
    } else {
      const words = this.width / PER_WORD;
      let added = false;
      for (let row = 0; row < DEPTH; row++) {
        const i = mix(keyHash, row) & (this.width - 1);
        const word = row * words + (i >>> 3);
        const shift = (i & 7) << 2;
        const v = this.table[word]!;
        if (((v >>> shift) & 0xf) < MAX_COUNT) {
          this.table[word] = v + (1 << shift);
          added = true;
        }
      }
      if (!added) return;
    }
    if (++this.samples >= this.limit) this.reset();
  }

  /** The estimated count of `keyHash`, 0..16: the smallest counter plus the doorkeeper's bit. */
  frequency(keyHash: number): number {
    let min = MAX_COUNT;
    const words = this.width / PER_WORD;
    for (let row = 0; row < DEPTH; row++) {
      const i = mix(keyHash, row) & (this.width - 1);
      const c = (this.table[row * words + (i >>> 3)]! >>> ((i & 7) << 2)) & 0xf;
      if (c < min) min = c;
    }
    return this.doorkeeper && this.inDoor(keyHash) ? min + 1 : min;
  }

  /**
   * Halves every counter (rounding up without a doorkeeper) and clears the doorkeeper (aging), as when
   * the samples reach `sampleSize`.
   */
  reset(): void {
    const t = this.table;
    // Shifting the whole word moves each counter's low bit into its neighbour: mask it away. Without
    // a doorkeeper, adding each counter's low bit back rounds up (at most 8, so no carry).
    const roundUp = this.doorkeeper ? 0 : 0x11111111;
    for (let w = 0; w < t.length; w++) {
      const v = t[w]!;
      t[w] = ((v >>> 1) & 0x77777777) + (v & roundUp);
    }
    this.door.fill(0);
    this.samples = this.samples >>> 1;
  }

  /** Zeroes every counter, the doorkeeper and the sample count. */
  clear(): void {
    this.table.fill(0);
    this.door.fill(0);
    this.samples = 0;
  }

  private inDoor(keyHash: number): boolean {
    const mask = this.door.length * 32 - 1;
    for (let p = 0; p < DOOR_PROBES; p++) {
      const bit = mix(keyHash, DEPTH + p) & mask;
      if ((this.door[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }

  private enterDoor(keyHash: number): void {
    const mask = this.door.length * 32 - 1;
    for (let p = 0; p < DOOR_PROBES; p++) {
      const bit = mix(keyHash, DEPTH + p) & mask;
      this.door[bit >>> 5]! |= 1 << (bit & 31);
    }
  }
}

/** murmur3's 32-bit finalizer over the hash mixed with a seed. */
function mix(keyHash: number, seed: number): number {
  let h = (keyHash ^ SEEDS[seed]!) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * `rows` rows of `from` widened to `words` words in all, each old row repeated across its new row, so
 * that an index taken as the low bits of a hash finds the same value as before.
 */
function doubled(from: Uint32Array, rows: number, words: number): Uint32Array {
  const to = new Uint32Array(words);
  if (from.length === 0) return to;
  const oldRow = from.length / rows;
  const newRow = words / rows;
  for (let row = 0; row < rows; row++) {
    const src = from.subarray(row * oldRow, (row + 1) * oldRow);
    for (let at = row * newRow; at < (row + 1) * newRow; at += oldRow) to.set(src, at);
  }
  return to;
}
