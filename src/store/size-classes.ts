/**
 * The size classes of the byte pool (memcached's slab classes): a cached file of `n` bytes is kept in a
 * chunk of the smallest class that holds `n`, and each class carves its chunks out of slabs of its own.
 * The spacing of the classes trades rounding waste (a file pays for the rest of its chunk) against the
 * number of classes (each class holds some partly used slabs); the defaults were chosen by measuring
 * with `npm run bench -- seed`.
 */
export interface SizeClassOptions {
  /** The smallest chunk, in bytes (files below it are rounded up to it). */
  minChunk: number;
  /** The largest chunk: larger files get a dedicated buffer of their own. */
  maxChunk: number;
  /**
   * Classes between two powers of two, evenly spaced (jemalloc's spacing: with 4, the classes above 1 KiB
   * are 1, 1.25, 1.5, 1.75, 2 KiB …, so a power-of-two file fits exactly and no file wastes more than a
   * fifth of its chunk). The growth factor between neighbours is about 2^(1/n).
   */
  classesPerDoubling: number;
  /** Chunk sizes are multiples of this (so that every chunk starts 8-byte aligned in its slab). */
  alignment: number;
  /** A slab holds about this many chunks, within {@link minSlab} and {@link maxSlab}. */
  chunksPerSlab: number;
  /** The smallest slab, in bytes (small classes: fewer, larger allocations). */
  minSlab: number;
  /** The largest slab, in bytes (large classes: bounded memory per partly used slab). */
  maxSlab: number;
}

/**
 * Defaults: 4 classes per doubling (growth about 2^(1/4) ≈ 1.19, as jemalloc spaces its classes: a file
 * wastes a fifth of its chunk at worst, about 7% on average), chunks from 16 B to 64 KiB (larger files get a
 * buffer of their own: their one allocation per miss is small next to reading them), slabs of 16 chunks
 * between 64 KiB and 1 MiB. {@link sizeClassOptionsFor} scales the slabs down for small caches.
 * The figures behind these choices come from `npm run bench -- seed`.
 */
export const DEFAULT_SIZE_CLASSES: SizeClassOptions = {
  minChunk: 16,
  maxChunk: 64 * 1024,
  classesPerDoubling: 4,
  alignment: 8,
  chunksPerSlab: 16,
  minSlab: 64 * 1024,
  maxSlab: 1024 * 1024,
};

/**
 * The defaults with slabs no larger than 1/256 of `maxBytes` (at least 4 KiB; `0` = no limit keeps
 * 1 MiB): every class holds a partly used slab or two, and with 1 MiB slabs in a 32 MiB cache those
 * would add a third to what the cache holds.
 */
export function sizeClassOptionsFor(maxBytes: number): SizeClassOptions {
  if (maxBytes <= 0) return DEFAULT_SIZE_CLASSES;
  const cap = Math.min(DEFAULT_SIZE_CLASSES.maxSlab, Math.max(4096, 2 ** Math.floor(Math.log2(maxBytes / 256))));
  return { ...DEFAULT_SIZE_CLASSES, maxSlab: cap, minSlab: Math.min(DEFAULT_SIZE_CLASSES.minSlab, cap) };
}

/** Sizes up to this are mapped to their class by a table lookup; larger ones by a binary search. */
const TABLE_LIMIT = 4096;

export class SizeClasses {
  /** Chunk size of each class, ascending. */
  readonly chunkSizes: readonly number[];
  /** Chunks per slab of each class. */
  readonly slabChunks: readonly number[];
  /** The largest chunk; {@link classOf} is -1 above it. */
  readonly maxChunk: number;
  private readonly table: Uint8Array | Uint16Array;
  private readonly alignShift: number;

  constructor(readonly options: SizeClassOptions = DEFAULT_SIZE_CLASSES) {
    const { minChunk, maxChunk, classesPerDoubling, alignment, chunksPerSlab, minSlab, maxSlab } = options;
    if (!(classesPerDoubling >= 1) || !Number.isInteger(classesPerDoubling)) throw new RangeError('size classes: classesPerDoubling must be a positive integer');
    if (alignment <= 0 || (alignment & (alignment - 1)) !== 0) throw new RangeError('size classes: alignment must be a power of two');
    const align = (n: number): number => Math.ceil(n / alignment) * alignment;
    const top = align(maxChunk);
    const sizes: number[] = [];
    for (let base = 2 ** Math.floor(Math.log2(Math.max(minChunk, 1))); sizes[sizes.length - 1] !== top; base *= 2) {
      for (let j = 0; j < classesPerDoubling; j++) {
        const size = Math.min(top, align(base + (base * j) / classesPerDoubling));
        if (size < minChunk || size <= (sizes[sizes.length - 1] ?? 0)) continue;
        sizes.push(size);
        if (size === top) break;
      }
    }
    this.chunkSizes = sizes;
    this.maxChunk = sizes[sizes.length - 1]!;
    this.slabChunks = sizes.map((chunk) => {
      const target = Math.min(maxSlab, Math.max(minSlab, chunk * chunksPerSlab));
      return Math.max(1, Math.floor(target / chunk));
    });
    this.alignShift = Math.log2(alignment);
    const entries = (TABLE_LIMIT >> this.alignShift) + 1;
    this.table = sizes.length <= 255 ? new Uint8Array(entries) : new Uint16Array(entries);
    let cls = 0;
    for (let i = 0; i < entries; i++) {
      const size = i << this.alignShift;
      while (cls < sizes.length - 1 && sizes[cls]! < size) cls++;
      this.table[i] = cls;
    }
  }

  /** Number of classes. */
  get count(): number {
    return this.chunkSizes.length;
  }

  /** The class whose chunks hold `size` bytes (the smallest such), or -1 when `size` exceeds them all. */
  classOf(size: number): number {
    if (size <= TABLE_LIMIT) {
      const cls = this.table[(size + (1 << this.alignShift) - 1) >> this.alignShift]!;
      return this.chunkSizes[cls]! >= size ? cls : -1;
    }
    if (size > this.maxChunk) return -1;
    const sizes = this.chunkSizes;
    let lo = 0;
    let hi = sizes.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sizes[mid]! >= size) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Bytes of one slab of class `cls`. */
  slabBytes(cls: number): number {
    return this.chunkSizes[cls]! * this.slabChunks[cls]!;
  }
}
