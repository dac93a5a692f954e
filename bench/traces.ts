/**
 * Synthetic request traces for the hit-ratio simulator. Every generator is deterministic: the same
 * arguments give the same trace, from a seeded PRNG, so that results can be compared across runs and
 * machines.
 *
 * A trace is a sequence of key ids (dense non-negative integers) and, for the byte-weighted trace, a size
 * per key id.
 */

/** One request sequence. */
export interface Trace {
  /** The requested key ids, in order. */
  readonly keys: Int32Array;
  /** One more than the largest key id that can occur. */
  readonly keySpace: number;
  /** Bytes per key id, or undefined when every entry counts as one (entry-count traces). */
  readonly sizes?: Float64Array;
}

/** mulberry32: a small, fast, well-distributed 32-bit PRNG; returns floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Draws ranks 0..n-1 with probability proportional to 1/(rank+1)^s, by binary search in the cumulative
 * distribution: exact, O(log n) per draw, and n doubles of memory.
 */
export class ZipfSampler {
  private readonly cdf: Float64Array;

  constructor(
    readonly n: number,
    readonly s: number,
  ) {
    this.cdf = new Float64Array(n);
    let sum = 0;
    for (let r = 0; r < n; r++) {
      sum += 1 / Math.pow(r + 1, s);
      this.cdf[r] = sum;
    }
    for (let r = 0; r < n; r++) this.cdf[r]! /= sum;
  }

  /** A rank for the uniform draw `u` in [0, 1). */
  rank(u: number): number {
    let lo = 0;
    let hi = this.n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cdf[mid]! > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/**
 * A seeded random permutation of 0..n-1, so that popularity rank and key id are unrelated (key ids are
 * otherwise in popularity order, which a scan over a range of ids would exploit or suffer from).
 */
function permutation(n: number, random: () => number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

/** `length` requests over `keys` keys with Zipf(`s`) popularity. */
export function zipfTrace(keys: number, s: number, length: number, seed: number): Trace {
  const random = prng(seed);
  const zipf = new ZipfSampler(keys, s);
  const ids = permutation(keys, random);
  const out = new Int32Array(length);
  for (let i = 0; i < length; i++) out[i] = ids[zipf.rank(random())]!;
  return { keys: out, keySpace: keys };
}

/**
 * Zipf(0.99) traffic over `keys` keys polluted by sequential scans: runs of `zipfRun` Zipf requests
 * alternate with bursts of `burst` sequential keys that never occur in the Zipf traffic. Bursts alternate
 * between two kinds: fresh keys, never requested again (a one-pass scan, such as a backup or a grep), and
 * the same range of `burst` keys each time (a scan repeated once per loop of the job, reused but at a
 * distance far beyond any cache size here).
 */
export function scanTrace(keys: number, length: number, zipfRun: number, burst: number, seed: number): Trace {
  const random = prng(seed);
  const zipf = new ZipfSampler(keys, 0.99);
  const ids = permutation(keys, random);
  const loopBase = keys;
  let fresh = keys + burst;
  const out = new Int32Array(length);
  let i = 0;
  for (let round = 0; i < length; round++) {
    for (let k = 0; k < zipfRun && i < length; k++) out[i++] = ids[zipf.rank(random())]!;
    const repeated = round % 2 === 1;
    for (let k = 0; k < burst && i < length; k++) out[i++] = repeated ? loopBase + k : fresh++;
  }
  return { keys: out, keySpace: fresh };
}

/**
 * A loop over `span` keys, repeated to `length` requests. With `span` slightly above the cache's entry
 * count, LRU (and FIFO) evict every key just before it is needed again and hit nothing; the optimal
 * policy keeps a fixed subset and hits almost `capacity / span` of the time.
 */
export function loopTrace(span: number, length: number): Trace {
  const out = new Int32Array(length);
  for (let i = 0; i < length; i++) out[i] = i % span;
  return { keys: out, keySpace: span };
}

/**
 * A hot set that moves: in each phase of `phase` requests, 90% of requests go to a hot set of `hot` keys
 * (Zipf(0.9) among them) and 10% are uniform over all `keys` keys; each phase draws a new hot set at
 * random. A policy must forget the old hot set quickly: recency wins here, pure frequency loses.
 */
export function shiftingTrace(keys: number, hot: number, phase: number, length: number, seed: number): Trace {
  const random = prng(seed);
  const zipf = new ZipfSampler(hot, 0.9);
  const out = new Int32Array(length);
  let set = permutation(keys, random).subarray(0, hot);
  for (let i = 0; i < length; i++) {
    if (i > 0 && i % phase === 0) set = permutation(keys, random).subarray(0, hot);
    out[i] = random() < 0.9 ? set[zipf.rank(random())]! : Math.floor(random() * keys);
  }
  return { keys: out, keySpace: keys };
}

/**
 * Files of mixed sizes: Zipf(`s`) popularity over `keys` files whose sizes are log-uniform between
 * `minSize` and `maxSize` bytes and independent of popularity. For the byte hit ratio.
 */
export function sizeMixTrace(
  keys: number,
  s: number,
  length: number,
  seed: number,
  minSize = 100,
  maxSize = 1024 * 1024,
): Trace {
  const random = prng(seed);
  const sizes = new Float64Array(keys);
  const span = Math.log(maxSize / minSize);
  for (let k = 0; k < keys; k++) sizes[k] = Math.round(minSize * Math.exp(random() * span));
  const trace = zipfTrace(keys, s, length, seed ^ 0x5bd1e995);
  return { keys: trace.keys, keySpace: keys, sizes };
}
