/**
 * Several doubly linked lists of slots sharing one pair of `Int32Array`s, because a slot is in at most
 * one list at a time. The lists of a policy (an LRU queue, or the window, probation and protected
 * segments of a segmented LRU) then cost three integers per slot in total, with no object per entry.
 *
 * Each list runs from its head (oldest, the eviction end) to its tail (newest). Every method is O(1)
 * except `grow` and `clear`.
 */
export class SlotLists {
  /** Toward the tail (newer); -1 at the tail. */
  private next: Int32Array;
  /** Toward the head (older); -1 at the head. */
  private prev: Int32Array;
  /** The list a slot is in, or -1 when it is in none. */
  private owner: Int8Array;
  private readonly heads: Int32Array;
  private readonly tails: Int32Array;
  private readonly sizes: Int32Array;

  /** @param lists how many lists (at most 127); @param capacity the initial slot capacity. */
  constructor(lists: number, capacity: number) {
    this.next = new Int32Array(capacity);
    this.prev = new Int32Array(capacity);
    this.owner = new Int8Array(capacity).fill(-1);
    this.heads = new Int32Array(lists).fill(-1);
    this.tails = new Int32Array(lists).fill(-1);
    this.sizes = new Int32Array(lists);
  }

  /** The slot capacity. */
  get capacity(): number {
    return this.owner.length;
  }

  /** Makes room for slots below `capacity`, keeping every list as it is. */
  grow(capacity: number): void {
    if (capacity <= this.owner.length) return;
    const next = new Int32Array(capacity);
    next.set(this.next);
    const prev = new Int32Array(capacity);
    prev.set(this.prev);
    const owner = new Int8Array(capacity).fill(-1);
    owner.set(this.owner);
    this.next = next;
    this.prev = prev;
    this.owner = owner;
  }

  /** The list `slot` is in, or -1. Slots beyond the capacity are in none. */
  listOf(slot: number): number {
    return slot >= 0 && slot < this.owner.length ? this.owner[slot]! : -1;
  }

  /** The oldest slot of `list`, or -1 when it is empty. */
  head(list: number): number {
    return this.heads[list]!;
  }

  /** The newest slot of `list`, or -1 when it is empty. */
  tail(list: number): number {
    return this.tails[list]!;
  }

  /** How many slots `list` holds. */
  size(list: number): number {
    return this.sizes[list]!;
  }

  /** The slot after `slot` (toward the tail), or -1. */
  newer(slot: number): number {
    return this.next[slot]!;
  }

  /** The slot before `slot` (toward the head), or -1. */
  older(slot: number): number {
    return this.prev[slot]!;
  }

  /** Appends `slot`, which must be in no list, at the tail of `list`. */
  pushTail(list: number, slot: number): void {
    const tail = this.tails[list]!;
    this.prev[slot] = tail;
    this.next[slot] = -1;
    if (tail === -1) this.heads[list] = slot;
    else this.next[tail] = slot;
    this.tails[list] = slot;
    this.owner[slot] = list;
    this.sizes[list]!++;
  }

  /** Takes `slot` out of whatever list holds it; a slot in no list is left alone. */
  unlink(slot: number): void {
    const list = this.listOf(slot);
    if (list === -1) return;
    const p = this.prev[slot]!;
    const n = this.next[slot]!;
    if (p === -1) this.heads[list] = n;
    else this.next[p] = n;
    if (n === -1) this.tails[list] = p;
    else this.prev[n] = p;
    this.owner[slot] = -1;
    this.sizes[list]!--;
  }

  /** Moves `slot` from its list to the tail of `list` (the same list or another). */
  moveToTail(list: number, slot: number): void {
    if (this.owner[slot] === list && this.tails[list] === slot) return;
    this.unlink(slot);
    this.pushTail(list, slot);
  }

  /** Empties every list. */
  clear(): void {
    this.owner.fill(-1);
    this.heads.fill(-1);
    this.tails.fill(-1);
    this.sizes.fill(0);
  }
}
