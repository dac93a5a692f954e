/**
 * Where cached file bytes live. The store asks for a buffer of at least `size` bytes and hands it back
 * when the entry leaves; `footprint` is what such a buffer costs against `maxBytes`, so that the limit
 * counts what the cache really holds (pool rounding included).
 */
export interface ByteStore {
  /** A buffer whose `byteLength` is at least `size` (its content is unspecified). */
  allocate(size: number): Buffer;
  /** Returns a buffer obtained from `allocate`; the caller no longer touches it. */
  release(buffer: Buffer): void;
  /** Bytes charged for a buffer of `size` requested bytes. */
  footprint(size: number): number;
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
}
