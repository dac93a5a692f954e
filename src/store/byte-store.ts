/**
 * Where cached file bytes live. The store asks for a buffer of at least `size` bytes and hands it back
 * when the entry leaves; `footprint` is what such a buffer costs against `maxBytes`, so that the limit
 * counts what the cache really holds (pool rounding included).
 *
 * A buffer from `allocate` is the cache's own memory: it is never handed to a caller of cachefs (hits copy
 * out of it), because after `release` it may hold another file's bytes.
 */
export interface ByteStore {
  /** A buffer whose `byteLength` is at least `size` (its content is unspecified). */
  allocate(size: number): Buffer;
  /** Returns a buffer obtained from `allocate`; the caller no longer touches it. */
  release(buffer: Buffer): void;
  /** Bytes charged for a buffer of `size` requested bytes. */
  footprint(size: number): number;
  /**
   * Keeps `buffer` from being reused until {@link unhold}, even if it is released meanwhile: a loader
   * that installed a buffer still lets concurrent readers of the same load copy out of it.
   */
  hold(buffer: Buffer): void;
  /** Ends a {@link hold}; a release that came meanwhile takes effect now. */
  unhold(buffer: Buffer): void;
  /** Gives memory that holds no entry back to the garbage collector (on `close()`). */
  trim(): void;
  /** True when `allocate` rounds and reuses memory (the pooled implementation). */
  readonly pooled: boolean;
}

/**
 * The `pool: false` path: one exact-size `Buffer` per entry, left to the garbage collector on release.
 * Kept so the benchmark can show pooled against unpooled in one run.
 */
export class UnpooledByteStore implements ByteStore {
  readonly pooled = false;
  allocate(size: number): Buffer {
    return Buffer.allocUnsafeSlow(size);
  }
  release(_buffer: Buffer): void {
    // Nothing to reuse: the buffer becomes garbage.
  }
  footprint(size: number): number {
    return size;
  }
  hold(_buffer: Buffer): void {
    // A released buffer is never reused: nothing to hold back.
  }
  unhold(_buffer: Buffer): void {}
  trim(): void {}
}
