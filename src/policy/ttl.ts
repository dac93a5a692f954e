import { ExpiryHeap } from './expiry-heap.js';
import type { EvictionPolicy } from './policy.js';

/**
 * Soonest expiry first: the victim is the slot whose `expiresAt` comes first, expired or not. Slots that
 * never expire (`Infinity`) come after every finite one, in insertion order (first in, first out), and so
 * do slots with equal expiry times. A binary min-heap with a position index gives O(log n) `insert`,
 * `remove` and O(1) `victim`.
 *
 * Hits do not change the order (an entry's lifetime is fixed when it is stored); to give a slot a new
 * expiry, the store inserts it again, which replaces its old place.
 */
export class TtlPolicy implements EvictionPolicy {
  readonly name = 'ttl';
  readonly usesKeyHash = false;
  private readonly heap: ExpiryHeap;

  /** @param capacity the initial slot capacity; `grow` raises it. */
  constructor(capacity = 16) {
    this.heap = new ExpiryHeap(capacity);
  }

  grow(capacity: number): void {
    this.heap.grow(capacity);
  }

  insert(slot: number, _keyHash: number, _size: number, expiresAt: number, _now: number): void {
    this.heap.delete(slot);
    this.heap.push(slot, expiresAt);
  }

  access(_slot: number, _now: number): void {}

  resize(_slot: number, _size: number): void {}

  remove(slot: number): void {
    this.heap.delete(slot);
  }

  victim(_now: number): number {
    return this.heap.peek();
  }

  recordMiss(_keyHash: number): void {}

  refusedLast(): boolean {
    return false;
  }

  clear(): void {
    this.heap.clear();
  }
}
