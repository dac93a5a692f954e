/**
 * Fresh buffers for callers: what `readFile` returns on a hit. The caller owns the returned bytes for
 * good, so they can never be cache memory (a pool chunk is reused by the next entry); but an
 * `ArrayBuffer` per call is expensive (at 16 KiB it doubles the cost of a hit), and Node's own pool,
 * refilled every 8 KiB, serves sizes of a few KiB no better.
 *
 * So buffers are carved out of larger slabs, as Node's `Buffer.allocUnsafe` does for small sizes with its
 * 8 KiB pool: a slab is bump-allocated from front to back and never written again after a range was
 * handed out; the garbage collector frees it once every buffer carved from it is unreachable. Nothing is
 * ever reused, so a returned buffer can never change under its owner.
 *
 * What it costs: a caller that keeps one buffer keeps its whole slab alive. Slabs are sized per
 * power-of-two band of request sizes, 16 times the band's top, so a kept buffer of `n` bytes holds at
 * most `16 × 2^⌈log2 n⌉ < 32n` bytes (16n for a power of two: a 64 KiB buffer keeps at most 1 MiB).
 * Below 512 B Node's own 8 KiB pool is used (the smallest band's slab is 8 KiB too); above 64 KiB each
 * buffer has an `ArrayBuffer` of its own (the copy then costs more than the allocation).
 *
 * Against Node's pool, which is refilled every 8 KiB, a 1 KiB hit is 15% faster and a 3000-byte one
 * twice as fast (measured with `npm run bench -- seed`).
 */
export class ReturnBufferPool {
  /** The current slab of each band (index = ⌈log2 size⌉), and how far it has been handed out. */
  private readonly slabs: (ArrayBuffer | null)[] = [];
  private readonly offsets: number[] = [];
  /** Slabs created so far (for tests and the docs' figures). */
  slabsCreated = 0;

  /**
   * @param smallLimit sizes below this go to `Buffer.allocUnsafe` (Node's own pool)
   * @param maxCarved sizes above this get an `ArrayBuffer` each
   * @param slabMultiple a band's slab holds this many buffers of the band's largest size
   */
  constructor(
    readonly smallLimit = 512,
    readonly maxCarved = 64 * 1024,
    readonly slabMultiple = 16,
  ) {
    for (let band = 0; band <= 31; band++) {
      this.slabs.push(null);
      this.offsets.push(0);
    }
  }

  /** A new buffer of `size` bytes that nothing else will ever write to; its content is unspecified. */
  allocate(size: number): Buffer {
    if (size < this.smallLimit) return Buffer.allocUnsafe(size);
    if (size > this.maxCarved) return Buffer.allocUnsafeSlow(size);
    const band = 32 - Math.clz32(size - 1);
    const slabSize = this.slabMultiple << band;
    let slab = this.slabs[band]!;
    let offset = this.offsets[band]!;
    if (slab === null || offset + size > slabSize) {
      slab = Buffer.allocUnsafeSlow(slabSize).buffer as ArrayBuffer;
      this.slabs[band] = slab;
      this.slabsCreated++;
      offset = 0;
    }
    // 8-byte alignment, as Node's pool keeps it: a caller may view the bytes as a Float64Array.
    this.offsets[band] = (offset + size + 7) & ~7;
    return Buffer.from(slab, offset, size);
  }

  /** A new buffer holding a copy of `src[start..end)`. */
  copy(src: Buffer, start: number, end: number): Buffer {
    const out = this.allocate(end - start);
    src.copy(out, 0, start, end);
    return out;
  }

  /** The most memory a kept buffer of `size` bytes can keep alive. */
  retainedBound(size: number): number {
    if (size < this.smallLimit) return Math.max(size, Buffer.poolSize);
    if (size > this.maxCarved) return size;
    return this.slabMultiple << (32 - Math.clz32(size - 1));
  }
}

/** The process-wide pool: every cache shares it, so slabs fill as fast as possible. */
export const returnBuffers = new ReturnBufferPool();
