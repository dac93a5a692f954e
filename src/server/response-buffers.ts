/**
 * Reusable buffers for response bodies. A body copied out of the cache into a fresh `Buffer` of 4 KiB
 * or more is a fresh `ArrayBuffer` (Node's slab serves only smaller ones), and at ten thousand 64 KiB
 * responses a second that churn makes the garbage collector the largest cost of a cache hit. Bodies
 * are instead read into buffers taken from here and given back once the response is `finish`ed, when
 * Node has handed every byte to the kernel and holds no reference any more.
 *
 * Buffers come in power-of-two classes; each class keeps at most `perClass` idle buffers, so idle
 * memory is bounded by about `perClass` × the sum of the classes in use.
 */
export class ResponseBuffers {
  private readonly idle = new Map<number, Buffer[]>();

  constructor(
    /** Smallest class: below it, `Buffer.allocUnsafe` (Node's slab) is cheaper than pooling. */
    readonly minSize = 4096,
    /** Largest class: bigger bodies are streamed, not pooled. */
    readonly maxSize = 4 * 1024 * 1024,
    readonly perClass = 64,
  ) {}

  /** The class a body of `size` bytes is taken from. */
  private classOf(size: number): number {
    return size <= this.minSize ? this.minSize : 2 ** Math.ceil(Math.log2(size));
  }

  /** A buffer of at least `size` bytes, content unspecified. */
  take(size: number): Buffer {
    const cls = this.classOf(size);
    const stack = this.idle.get(cls);
    const reused = stack?.pop();
    return reused ?? Buffer.allocUnsafeSlow(cls);
  }

  /** Hands back a buffer from {@link take} that nothing refers to any more. */
  give(buffer: Buffer): void {
    const cls = buffer.length;
    let stack = this.idle.get(cls);
    if (stack === undefined) {
      stack = [];
      this.idle.set(cls, stack);
    }
    if (stack.length < this.perClass) stack.push(buffer);
  }

  /** Idle bytes held (for tests and stats). */
  get idleBytes(): number {
    let n = 0;
    for (const [cls, stack] of this.idle) n += cls * stack.length;
    return n;
  }
}
