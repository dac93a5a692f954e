import type { BlockedFile } from './block-file.js';

/** Blocks the doorkeeper remembers per file at most (when the cache has no byte limit to size it by). */
const MAX_SEEN = 1 << 16;
/** A block load costing at most this many range reads is cheap: the backend's round trip dominates it. */
const CHEAP_LOAD_RATIO = 2;
/**
 * Range reads slower than this (ms) wait on a network, next to which a block's transfer and page faults
 * are small. Faster ones are a local store's, where a block into memory the process has not touched yet
 * pays a page fault per 4 KiB (several reads' worth here, a virtual machine) and where a load into
 * memory used before cannot be told in advance from one into fresh memory.
 */
const ROUND_TRIP_MS = 1;
/** Weight of the newest sample in the running costs (an exponentially weighted mean). */
const SAMPLE_WEIGHT = 1 / 8;

/** What a random read of one block that is neither resident nor loading does (see {@link BlockAdmission.decide}). */
export type RandomReadPlan = 'range' | 'range+fill' | 'block';

/**
 * Which blocks random reads admit, and how an admitted block is loaded. A block costs up to sixteen
 * times the bytes of the 4 KiB read that asked for part of it (and, in memory the process has not used
 * yet, a page fault per 4 KiB), so admission is not free even while the cache has room.
 *
 * Admission: a block is admitted on its second touch (a doorkeeper, as TinyLFU's), so reads spread over a
 * file much larger than the cache flush nothing. The doorkeeper remembers at most as many blocks as the
 * cache holds (ARC's ghost list of once-seen entries is as long: a second touch later than that finds an
 * LRU cache of this size rid of the block already), and fewer as a block costs more range reads: a dear
 * block must be asked for again sooner to repay its load. Where blocks are cheap (a network store), a
 * block next to a resident one is also admitted at its first touch while there is room: hot data comes
 * in regions.
 *
 * Loading, by what blocks and range reads cost on the backend at hand (both measured): where blocks are
 * cheap the caller loads the block (one backend call); otherwise the caller reads its own range and the
 * block is filled beside it, at most {@link maxFills} at a time, so that no caller waits for a block's
 * page faults.
 */
export class BlockAdmission {
  /** Background fills at once: two leave a local store's thread pool (libuv's four) to the callers' own reads. */
  maxFills = 2;
  #fills = 0;
  /** Running mean duration (ms) of range reads and of block loads; NaN until the first of each. */
  #rangeMs = NaN;
  #blockMs = NaN;

  /** A range read of the backend took `ms`. */
  rangeRead(ms: number): void {
    this.#rangeMs = this.#rangeMs === this.#rangeMs ? this.#rangeMs + (ms - this.#rangeMs) * SAMPLE_WEIGHT : ms;
  }

  /** A block load from the backend took `ms`. */
  blockLoaded(ms: number): void {
    this.#blockMs = this.#blockMs === this.#blockMs ? this.#blockMs + (ms - this.#blockMs) * SAMPLE_WEIGHT : ms;
  }

  /** True when reads wait on a network and a block costs about what a range read does (false until both are measured). */
  get cheapBlocks(): boolean {
    return this.#rangeMs >= ROUND_TRIP_MS && this.#blockMs <= CHEAP_LOAD_RATIO * this.#rangeMs;
  }

  /**
   * The plan for a random read of block `b` of `f`, not resident and not loading. `nearby`: blocks are
   * cheap, one next to it is resident or loading, and it fits without evicting anything. `capacity`:
   * blocks the cache can hold (`maxBytes / blockSize`), 0 for no limit. A `'range+fill'` plan must be
   * followed by {@link fillStarted}; a `'block'` plan by the caller's load of the block.
   */
  decide(f: BlockedFile, b: number, nearby: boolean, capacity: number): RandomReadPlan {
    const seen = f.seen.has(b);
    if (seen || nearby) {
      const cheap = this.cheapBlocks;
      if (cheap || this.#fills < this.maxFills) {
        f.seen.delete(b);
        return cheap ? 'block' : 'range+fill';
      }
      return 'range'; // admitted, but every fill is busy: still remembered, its next touch fills it
    }
    if (f.seen.size >= this.#doorkeeperSize(capacity)) f.seen.clear();
    f.seen.add(b);
    return 'range';
  }

  /** How many once-touched blocks the doorkeeper remembers: the cache's capacity, scaled down by what a block costs in range reads. */
  #doorkeeperSize(capacity: number): number {
    const repays = this.#rangeMs < this.#blockMs ? this.#rangeMs / this.#blockMs : 1; // 1 while either is unknown
    return Math.max(1, Math.round(Math.min(capacity > 0 ? capacity : MAX_SEEN, MAX_SEEN) * repays));
  }

  /** Runs `fill` as one of the background fills. */
  fillStarted(fill: Promise<unknown>): void {
    this.#fills++;
    const done = (): void => void this.#fills--;
    fill.then(done, done); // a fill is a hint: the caller's own read reports errors
  }
}
