/**
 * A binary min-heap of slots ordered by `(expiresAt, seq)`, with each slot's position in the heap kept
 * in an index so that any slot can be removed in O(log n). `seq` is an insertion counter: it makes the
 * order total, so that equal expiries (including `Infinity`, which sorts after every finite time) leave
 * first in, first out.
 */
export class ExpiryHeap {
  /** `heap[i]` is a slot; the first `length` entries form the heap. */
  private heap: Int32Array;
  /** Where each slot sits in `heap`, or -1 when it is not in the heap. */
  private pos: Int32Array;
  private expires: Float64Array;
  /** Float64 holds every integer up to 2^53, far more insertions than any process performs. */
  private seqs: Float64Array;
  private nextSeq = 0;
  private count = 0;

  constructor(capacity: number) {
    this.heap = new Int32Array(capacity);
    this.pos = new Int32Array(capacity).fill(-1);
    this.expires = new Float64Array(capacity);
    this.seqs = new Float64Array(capacity);
  }

  /** How many slots the heap holds. */
  get size(): number {
    return this.count;
  }

  /** Makes room for slots below `capacity`, keeping the heap as it is. */
  grow(capacity: number): void {
    if (capacity <= this.pos.length) return;
    const heap = new Int32Array(capacity);
    heap.set(this.heap);
    const pos = new Int32Array(capacity).fill(-1);
    pos.set(this.pos);
    const expires = new Float64Array(capacity);
    expires.set(this.expires);
    const seqs = new Float64Array(capacity);
    seqs.set(this.seqs);
    this.heap = heap;
    this.pos = pos;
    this.expires = expires;
    this.seqs = seqs;
  }

  /** Whether `slot` is in the heap. */
  has(slot: number): boolean {
    return slot >= 0 && slot < this.pos.length && this.pos[slot]! !== -1;
  }

  /** The slot that expires first (first inserted among equals), or -1 when the heap is empty. */
  peek(): number {
    return this.count === 0 ? -1 : this.heap[0]!;
  }

  /** The expiry of a slot in the heap. */
  expiresAt(slot: number): number {
    return this.expires[slot]!;
  }

  /** Adds `slot`, which must not be in the heap. */
  push(slot: number, expiresAt: number): void {
    this.expires[slot] = expiresAt;
    this.seqs[slot] = this.nextSeq++;
    const i = this.count++;
    this.heap[i] = slot;
    this.pos[slot] = i;
    this.siftUp(i);
  }

  /** Removes `slot`; a slot not in the heap is left alone. */
  delete(slot: number): void {
    if (!this.has(slot)) return;
    const i = this.pos[slot]!;
    const last = --this.count;
    this.pos[slot] = -1;
    if (i === last) return;
    const moved = this.heap[last]!;
    this.heap[i] = moved;
    this.pos[moved] = i;
    // The slot moved in from the end may belong above or below the hole, never both.
    if (!this.siftUp(i)) this.siftDown(i);
  }

  /** Empties the heap. */
  clear(): void {
    this.pos.fill(-1);
    this.count = 0;
    this.nextSeq = 0;
  }

  private less(a: number, b: number): boolean {
    const ea = this.expires[a]!;
    const eb = this.expires[b]!;
    return ea < eb || (ea === eb && this.seqs[a]! < this.seqs[b]!);
  }

  /** Returns whether the entry at `i` moved. */
  private siftUp(i: number): boolean {
    const heap = this.heap;
    const slot = heap[i]!;
    const start = i;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (!this.less(slot, p)) break;
      heap[i] = p;
      this.pos[p] = i;
      i = parent;
    }
    heap[i] = slot;
    this.pos[slot] = i;
    return i !== start;
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    const n = this.count;
    const slot = heap[i]!;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      let child = left;
      if (right < n && this.less(heap[right]!, heap[left]!)) child = right;
      const c = heap[child]!;
      if (!this.less(c, slot)) break;
      heap[i] = c;
      this.pos[c] = i;
      i = child;
    }
    heap[i] = slot;
    this.pos[slot] = i;
  }
}
