import type { ByteStore } from './byte-store.js';
import { DEFAULT_SIZE_CLASSES, SizeClasses, type SizeClassOptions } from './size-classes.js';

/**
 * One slab: a large `ArrayBuffer` cut into equal chunks of one size class. A chunk's `Buffer` view is
 * made once, the first time the chunk is handed out, and kept with the chunk from then on: reusing a
 * chunk reuses its view, so a warm pool allocates nothing per entry.
 */
interface Slab {
  readonly memory: ArrayBuffer;
  readonly cls: number;
  readonly chunkSize: number;
  readonly chunkCount: number;
  /** Views of this slab's free chunks (a stack: the chunk freed last is reused first, still in cache). */
  readonly free: Buffer[];
  /** Chunks handed out at least once; those from `carved` on have no view yet. */
  carved: number;
  /** Chunks in use. */
  live: number;
  /** Index in its class's `partial` heap, or -1 when it is not there (full, or the spare). */
  partialAt: number;
  /** Creation order: chunks are taken from the oldest partly used slab first. */
  readonly seq: number;
}

/** Per-class state: the slabs that can still hand out a chunk, and one empty slab kept in reserve. */
interface ClassState {
  /**
   * Slabs with at least one free chunk and at least one in use: a binary min-heap by `seq`, so that new
   * entries fill the oldest slabs and the younger ones drain and can be given back (address-ordered
   * first fit, as in Bonwick's and jemalloc's slab allocators).
   */
  readonly partial: Slab[];
  /** An empty slab kept so that a class going 0 → 1 → 0 entries does not allocate a slab each time. */
  spare: Slab | null;
}

/** A snapshot of what the pool holds, for tests and diagnostics. */
export interface PoolStats {
  /** Slabs held (each a preallocated `ArrayBuffer`). */
  slabs: number;
  /** Bytes of all slabs held: what the pool keeps from the garbage collector for small and medium files. */
  slabBytes: number;
  /** Chunks handed out and not released. */
  liveChunks: number;
  /** Bytes of those chunks (each counted at its class size). */
  liveChunkBytes: number;
  /** Buffers larger than the largest class, handed out and not released. */
  dedicatedBuffers: number;
  /** Bytes of those buffers. */
  dedicatedBytes: number;
  /** Empty slabs kept in reserve (at most one per class). */
  spareSlabs: number;
  /** Chunks released while held by a loader, waiting for the hold to end. */
  deferredReleases: number;
}

const EMPTY = Buffer.alloc(0);

/**
 * Cached bytes in pages of large `ArrayBuffer`s, memcached-style: a size class per file size (see
 * {@link SizeClasses}), slabs allocated on demand per class, freed chunks reused by the next entry of the
 * same class. Files larger than the largest class get a dedicated buffer (counted at its exact length).
 *
 * Memory goes back to the garbage collector when a slab empties and its class already has a spare empty
 * slab, and on {@link trim} (called by `close()`), which drops the spares too. A slab with a single live
 * chunk stays, as in memcached: `bytesUsed` counts chunks, the slack of partly used slabs is reported by
 * {@link stats} (`slabBytes - liveChunkBytes`).
 */
export class PooledByteStore implements ByteStore {
  readonly pooled = true;
  readonly classes: SizeClasses;
  private readonly state: ClassState[];
  /** The slab of every chunk view, by the view's `ArrayBuffer`. */
  private readonly slabOf = new Map<ArrayBuffer, Slab>();
  private readonly held = new Set<Buffer>();
  private readonly deferred = new Set<Buffer>();
  private slabBytes = 0;
  private slabSeq = 0;
  private liveChunks = 0;
  private liveChunkBytes = 0;
  private dedicatedBuffers = 0;
  private dedicatedBytes = 0;

  constructor(options: SizeClassOptions = DEFAULT_SIZE_CLASSES) {
    this.classes = new SizeClasses(options);
    this.state = this.classes.chunkSizes.map(() => ({ partial: [], spare: null }));
  }

  allocate(size: number): Buffer {
    if (size <= 0) return EMPTY;
    const cls = this.classes.classOf(size);
    if (cls < 0) {
      this.dedicatedBuffers++;
      this.dedicatedBytes += size;
      return Buffer.allocUnsafeSlow(size);
    }
    const st = this.state[cls]!;
    const partial = st.partial;
    let slab: Slab;
    if (partial.length > 0) {
      slab = partial[0]!;
    } else {
      slab = st.spare ?? this.newSlab(cls);
      st.spare = null;
      this.addPartial(slab);
    }
    let chunk = slab.free.pop();
    if (chunk === undefined) {
      chunk = Buffer.from(slab.memory, slab.carved * slab.chunkSize, slab.chunkSize);
      slab.carved++;
    }
    slab.live++;
    this.liveChunks++;
    this.liveChunkBytes += slab.chunkSize;
    if (slab.free.length === 0 && slab.carved === slab.chunkCount) this.removePartial(slab);
    return chunk;
  }

  release(buffer: Buffer): void {
    if (buffer.length === 0) return;
    const slab = this.slabOf.get(buffer.buffer as ArrayBuffer);
    if (slab === undefined) {
      this.dedicatedBuffers--;
      this.dedicatedBytes -= buffer.length;
      return;
    }
    if (this.held.size > 0 && this.held.has(buffer)) {
      this.deferred.add(buffer);
      return;
    }
    slab.free.push(buffer);
    slab.live--;
    this.liveChunks--;
    this.liveChunkBytes -= slab.chunkSize;
    if (slab.live === 0) {
      this.removePartial(slab);
      const st = this.state[slab.cls]!;
      if (st.spare === null) st.spare = slab;
      else this.dropSlab(slab);
    } else if (slab.partialAt < 0) {
      this.addPartial(slab);
    }
  }

  footprint(size: number): number {
    if (size <= 0) return 0;
    const cls = this.classes.classOf(size);
    return cls < 0 ? size : this.classes.chunkSizes[cls]!;
  }

  hold(buffer: Buffer): void {
    this.held.add(buffer);
  }

  unhold(buffer: Buffer): void {
    this.held.delete(buffer);
    if (this.deferred.delete(buffer)) this.release(buffer);
  }

  trim(): void {
    for (const st of this.state) {
      if (st.spare !== null) {
        this.dropSlab(st.spare);
        st.spare = null;
      }
    }
  }

  stats(): PoolStats {
    let spareSlabs = 0;
    for (const st of this.state) if (st.spare !== null) spareSlabs++;
    return {
      slabs: this.slabOf.size,
      slabBytes: this.slabBytes,
      liveChunks: this.liveChunks,
      liveChunkBytes: this.liveChunkBytes,
      dedicatedBuffers: this.dedicatedBuffers,
      dedicatedBytes: this.dedicatedBytes,
      spareSlabs,
      deferredReleases: this.deferred.size,
    };
  }

  /** True when `view` lies in one of the pool's slabs (a returned buffer never should). */
  owns(view: ArrayBufferView): boolean {
    return this.slabOf.has(view.buffer as ArrayBuffer);
  }

  /**
   * Throws unless the bookkeeping adds up: every slab's chunks are either live or on its free list, the
   * partial lists hold exactly the slabs with both, and the totals match. For tests.
   */
  checkConsistency(): void {
    let live = 0;
    let liveBytes = 0;
    let bytes = 0;
    for (const slab of this.slabOf.values()) {
      bytes += slab.memory.byteLength;
      live += slab.live;
      liveBytes += slab.live * slab.chunkSize;
      const available = slab.free.length + (slab.chunkCount - slab.carved);
      if (slab.live + slab.free.length !== slab.carved) throw new Error(`pool: slab of class ${slab.cls} lost chunks`);
      const st = this.state[slab.cls]!;
      const inPartial = slab.partialAt >= 0 && st.partial[slab.partialAt] === slab;
      const shouldBePartial = slab.live > 0 && available > 0;
      if (inPartial !== shouldBePartial) throw new Error(`pool: slab of class ${slab.cls} misfiled (live ${slab.live}, available ${available})`);
      if (slab.live === 0 && st.spare !== slab) throw new Error(`pool: empty slab of class ${slab.cls} kept but not the spare`);
      const seen = new Set<number>();
      for (const view of slab.free) {
        if (view.buffer !== slab.memory || view.length !== slab.chunkSize || view.byteOffset % slab.chunkSize !== 0) {
          throw new Error(`pool: a free view of class ${slab.cls} is not one of its chunks`);
        }
        if (seen.has(view.byteOffset)) throw new Error(`pool: a chunk of class ${slab.cls} is free twice`);
        seen.add(view.byteOffset);
      }
    }
    if (live !== this.liveChunks || liveBytes !== this.liveChunkBytes || bytes !== this.slabBytes) {
      throw new Error('pool: totals do not match the slabs');
    }
  }

  private newSlab(cls: number): Slab {
    const chunkSize = this.classes.chunkSizes[cls]!;
    const chunkCount = this.classes.slabChunks[cls]!;
    // allocUnsafeSlow: no zero fill (a chunk's bytes are always written before they are read) and an
    // ArrayBuffer of its own, outside Node's small-buffer pool.
    const memory = Buffer.allocUnsafeSlow(chunkSize * chunkCount).buffer as ArrayBuffer;
    const slab: Slab = { memory, cls, chunkSize, chunkCount, free: [], carved: 0, live: 0, partialAt: -1, seq: this.slabSeq++ };
    this.slabOf.set(memory, slab);
    this.slabBytes += memory.byteLength;
    return slab;
  }

  private dropSlab(slab: Slab): void {
    this.slabOf.delete(slab.memory);
    this.slabBytes -= slab.memory.byteLength;
  }

  private addPartial(slab: Slab): void {
    const heap = this.state[slab.cls]!.partial;
    heap.push(slab);
    slab.partialAt = heap.length - 1;
    siftUp(heap, heap.length - 1);
  }

  private removePartial(slab: Slab): void {
    const at = slab.partialAt;
    if (at < 0) return;
    const heap = this.state[slab.cls]!.partial;
    const last = heap.pop()!;
    slab.partialAt = -1;
    if (last === slab) return;
    heap[at] = last;
    last.partialAt = at;
    siftDown(heap, siftUp(heap, at));
  }
}

/** Moves `heap[i]` up to its place; returns where it ended. */
function siftUp(heap: Slab[], i: number): number {
  const item = heap[i]!;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const p = heap[parent]!;
    if (p.seq <= item.seq) break;
    heap[i] = p;
    p.partialAt = i;
    i = parent;
  }
  heap[i] = item;
  item.partialAt = i;
  return i;
}

/** Moves `heap[i]` down to its place. */
function siftDown(heap: Slab[], i: number): void {
  const item = heap[i]!;
  const n = heap.length;
  for (;;) {
    let child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && heap[child + 1]!.seq < heap[child]!.seq) child++;
    const c = heap[child]!;
    if (c.seq >= item.seq) break;
    heap[i] = c;
    c.partialAt = i;
    i = child;
  }
  heap[i] = item;
  item.partialAt = i;
}
