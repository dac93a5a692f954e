import type { EvictionPolicy } from './policy.js';
import { SlotLists } from './slot-list.js';

const QUEUE = 0;

/**
 * SIEVE (Zhang et al., "SIEVE is simpler than LRU", NSDI 2024): a FIFO queue in which a hit only sets
 * the slot's visited bit, and a hand that walks from the oldest slot toward the newest. `victim` moves
 * the hand past visited slots, clearing their bits, and stops at the first unvisited one, which it
 * returns; the hand stays there, so asking again before `remove` returns the same slot (unless it was
 * hit meanwhile). When that slot is removed, the hand moves to the next newer slot; past the newest it
 * wraps to the oldest. New slots join at the newest end, behind the hand, so that survivors keep their
 * place instead of being moved as in LRU.
 *
 * `insert`, `access` and `remove` are O(1); `victim` is amortized O(1), because every bit it clears was
 * set by one `access`. Sizes and expiry times are ignored. Inserting a tracked slot re-queues it as new.
 */
export class SievePolicy implements EvictionPolicy {
  readonly name = 'sieve';
  readonly usesKeyHash = false;
  /** Head = oldest, tail = newest. */
  private readonly lists: SlotLists;
  private visited: Uint8Array;
  /** The slot the hand points at, or -1 to start at the oldest. */
  private hand = -1;

  /** @param capacity the initial slot capacity; `grow` raises it. */
  constructor(capacity = 16) {
    this.lists = new SlotLists(1, capacity);
    this.visited = new Uint8Array(capacity);
  }

  grow(capacity: number): void {
    if (capacity <= this.visited.length) return;
    this.lists.grow(capacity);
    const visited = new Uint8Array(capacity);
    visited.set(this.visited);
    this.visited = visited;
  }

  insert(slot: number, _keyHash: number, _size: number, _expiresAt: number, _now: number): void {
    this.remove(slot);
    this.lists.pushTail(QUEUE, slot);
    this.visited[slot] = 0;
  }

  access(slot: number, _now: number): void {
    if (this.lists.listOf(slot) === QUEUE) this.visited[slot] = 1;
  }

  resize(_slot: number, _size: number): void {}

  remove(slot: number): void {
    if (this.lists.listOf(slot) !== QUEUE) return;
    if (slot === this.hand) this.hand = this.lists.newer(slot);
    this.lists.unlink(slot);
  }

  victim(_now: number): number {
    let h = this.hand === -1 ? this.lists.head(QUEUE) : this.hand;
    if (h === -1) return -1;
    // Terminates: after one full turn every bit is clear.
    while (this.visited[h] === 1) {
      this.visited[h] = 0;
      h = this.lists.newer(h);
      if (h === -1) h = this.lists.head(QUEUE);
    }
    this.hand = h;
    return h;
  }

  recordMiss(_keyHash: number): void {}

  refusedLast(): boolean {
    return false;
  }

  clear(): void {
    this.lists.clear();
    this.visited.fill(0);
    this.hand = -1;
  }

  /** Whether a tracked slot has been hit since the hand last passed it. */
  isVisited(slot: number): boolean {
    return this.lists.listOf(slot) === QUEUE && this.visited[slot] === 1;
  }
}
