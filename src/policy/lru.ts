import type { EvictionPolicy } from './policy.js';
import { SlotLists } from './slot-list.js';

const QUEUE = 0;

/**
 * Least recently used: a hit moves the slot to the tail of one doubly linked list (kept in
 * `Int32Array`s), and the victim is the head, the slot untouched for longest. Every method is O(1).
 *
 * Sizes and expiry times are ignored: they do not change the order. Inserting a slot that is already
 * tracked starts it afresh as the most recently used.
 */
export class LruPolicy implements EvictionPolicy {
  readonly name = 'lru';
  readonly usesKeyHash = false;
  private readonly lists: SlotLists;

  /** @param capacity the initial slot capacity; `grow` raises it. */
  constructor(capacity = 16) {
    this.lists = new SlotLists(1, capacity);
  }

  grow(capacity: number): void {
    this.lists.grow(capacity);
  }

  insert(slot: number, _keyHash: number, _size: number, _expiresAt: number, _now: number): void {
    this.lists.moveToTail(QUEUE, slot);
  }

  access(slot: number, _now: number): void {
    if (this.lists.listOf(slot) === QUEUE) this.lists.moveToTail(QUEUE, slot);
  }

  resize(_slot: number, _size: number): void {}

  remove(slot: number): void {
    this.lists.unlink(slot);
  }

  victim(_now: number): number {
    return this.lists.head(QUEUE);
  }

  recordMiss(_keyHash: number): void {}

  refusedLast(): boolean {
    return false;
  }

  clear(): void {
    this.lists.clear();
  }
}
