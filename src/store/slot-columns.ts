/** Entry flag bits (one byte per slot). */
export const DIRTY = 1;
/** Pinned entries are outside the policy: never evicted until invalidated. */
export const PINNED = 2;
/** A dirty entry taken out of the policy while its eviction flush runs. */
export const PARKED = 4;

/**
 * The columns of the data cache (the lru-cache layout): what each resident entry holds, in typed arrays
 * indexed by slot number, a stack of free slots, and growth by doubling, so a hit reads numbers out of
 * arrays and allocates nothing. Reading a slot is here; what makes entries come and go (admission,
 * limits, eviction, pins) is {@link DataStore}'s, which grows the policy's own slot arrays beside these.
 */
export class SlotColumns {
  private capacity = 0;
  protected keys: (string | undefined)[] = [];
  protected buffers: (Buffer | null)[] = [];
  /** Exact-length views of `buffers` (pooling: a hit copies a whole view, which allocates nothing). */
  private views: (Buffer | null)[] = [];
  protected sizes = new Float64Array(0);
  protected footprints = new Float64Array(0);
  protected expires = new Float64Array(0);
  protected validated = new Float64Array(0);
  protected mtimes = new Float64Array(0);
  protected accessCounts = new Float64Array(0);
  protected writeSeqs = new Float64Array(0);
  protected flagBits = new Uint8Array(0);
  // The backend's identity of the file when it was loaded (coherence): NaN mtime = unknown.
  private idSizes = new Float64Array(0);
  private idMtimes = new Float64Array(0);
  private idCtimes = new Float64Array(0);
  private idInos = new Float64Array(0);
  private freeSlots = new Int32Array(0);
  private freeTop = 0;

  key(slot: number): string {
    return this.keys[slot]!;
  }
  size(slot: number): number {
    return this.sizes[slot]!;
  }
  /** The bytes of `slot`: valid from 0 to `size(slot)`; the buffer may be longer. */
  buffer(slot: number): Buffer {
    return this.buffers[slot]!;
  }
  /**
   * The bytes of `slot`, exactly `size(slot)` long. Node's `Buffer#copy` allocates a view when it copies
   * part of its source, and a pool chunk is usually longer than its entry: copying a whole view is free.
   */
  view(slot: number): Buffer {
    return this.views[slot] ?? this.#makeView(slot);
  }

  #makeView(slot: number): Buffer {
    const buf = this.buffers[slot]!;
    const size = Math.min(this.sizes[slot]!, buf.length);
    return (this.views[slot] = buf.length === size ? buf : buf.subarray(0, size));
  }
  expiresAt(slot: number): number {
    return this.expires[slot]!;
  }
  validatedAt(slot: number): number {
    return this.validated[slot]!;
  }
  setValidatedAt(slot: number, at: number): void {
    this.validated[slot] = at;
  }
  mtimeMs(slot: number): number {
    return this.mtimes[slot]!;
  }
  setMtimeMs(slot: number, ms: number): void {
    this.mtimes[slot] = ms;
  }
  accessCount(slot: number): number {
    return this.accessCounts[slot]!;
  }
  /** Bumped by every change of a slot's bytes: a flush compares it to know whether it wrote the latest. */
  writeSeq(slot: number): number {
    return this.writeSeqs[slot]!;
  }
  isDirty(slot: number): boolean {
    return (this.flagBits[slot]! & DIRTY) !== 0;
  }
  isParked(slot: number): boolean {
    return (this.flagBits[slot]! & PARKED) !== 0;
  }
  isPinned(slot: number): boolean {
    return (this.flagBits[slot]! & PINNED) !== 0;
  }

  // ---------------------------------------------------------------- identity (coherence)

  /** Records the backend's identity of the file behind `slot` (captured before its bytes were read). */
  setIdentity(slot: number, size: number, mtimeMs: number, ctimeMs: number, ino: number): void {
    this.idSizes[slot] = size;
    this.idMtimes[slot] = mtimeMs;
    this.idCtimes[slot] = ctimeMs;
    this.idInos[slot] = ino;
  }

  /** Forgets the identity of `slot`: the next revalidation cannot vouch for it and reloads. */
  clearIdentity(slot: number): void {
    this.idMtimes[slot] = NaN;
  }

  /** True when `slot`'s identity is known (see {@link setIdentity}). */
  hasIdentity(slot: number): boolean {
    return this.idMtimes[slot] === this.idMtimes[slot];
  }

  /** True when the identity of `slot` is known and equals the given one. */
  sameIdentity(slot: number, size: number, mtimeMs: number, ctimeMs: number, ino: number): boolean {
    return (
      this.idMtimes[slot] === mtimeMs &&
      this.idSizes[slot] === size &&
      this.idCtimes[slot] === ctimeMs &&
      this.idInos[slot] === ino
    );
  }

  // ---------------------------------------------------------------- slots

  /**
   * Dropped when an entry's bytes or size change (a miss or a write) and made again by the first
   * {@link view} after it, never on a hit: a run of small writes to one file would otherwise make a
   * view per write that no read ever sees.
   */
  protected refreshView(slot: number): void {
    this.views[slot] = null;
  }

  /** A free slot, the columns doubled first when none is left. */
  protected allocateSlot(): number {
    if (this.freeTop === 0) this.grow(this.capacity * 2);
    return this.freeSlots[--this.freeTop]!;
  }

  /** Gives `slot` back to the free stack, letting go of its key and bytes (already released). */
  protected freeSlot(slot: number): void {
    this.buffers[slot] = null;
    this.views[slot] = null;
    this.keys[slot] = undefined;
    this.freeSlots[this.freeTop++] = slot;
  }

  /** Widens every column to `capacity` slots. */
  protected grow(capacity: number): void {
    const old = this.capacity;
    const widen = <T extends Float64Array | Uint8Array | Int32Array>(a: T, make: (n: number) => T): T => {
      const b = make(capacity);
      b.set(a);
      return b;
    };
    this.sizes = widen(this.sizes, (n) => new Float64Array(n));
    this.footprints = widen(this.footprints, (n) => new Float64Array(n));
    this.expires = widen(this.expires, (n) => new Float64Array(n));
    this.validated = widen(this.validated, (n) => new Float64Array(n));
    this.mtimes = widen(this.mtimes, (n) => new Float64Array(n));
    this.accessCounts = widen(this.accessCounts, (n) => new Float64Array(n));
    this.writeSeqs = widen(this.writeSeqs, (n) => new Float64Array(n));
    this.flagBits = widen(this.flagBits, (n) => new Uint8Array(n));
    this.idSizes = widen(this.idSizes, (n) => new Float64Array(n));
    this.idMtimes = widen(this.idMtimes, (n) => new Float64Array(n));
    this.idCtimes = widen(this.idCtimes, (n) => new Float64Array(n));
    this.idInos = widen(this.idInos, (n) => new Float64Array(n));
    const free = new Int32Array(capacity);
    free.set(this.freeSlots.subarray(0, this.freeTop));
    // Push new slots so that the lowest number is handed out first.
    for (let s = capacity - 1; s >= old; s--) free[this.freeTop++] = s;
    this.freeSlots = free;
    this.keys.length = capacity;
    this.buffers.length = capacity;
    this.views.length = capacity;
    this.capacity = capacity;
  }
}
