import { ExpiryHeap } from './expiry-heap.js';
import type { EvictionPolicy } from './policy.js';
import { SlotLists } from './slot-list.js';

const PROBATION = 0;
const PROTECTED = 1;

/** The share of tracked slots the protected segment may hold (as in Caffeine's main area). */
const PROTECTED_SHARE = 0.8;

/**
 * Expired first, then a segmented LRU (SLRU).
 *
 * - **Expired first.** Slots with a finite `expiresAt` are also kept in a min-heap on
 *   `(expiresAt, insertion order)`. When the earliest of them has `expiresAt <= now`, it is the victim,
 *   whatever its segment: an expired entry is worthless, so it goes before any live one. Slots that
 *   never expire (`Infinity`) stay out of the heap, so without TTLs the policy costs O(1) per operation;
 *   with them, `insert` and `remove` are O(log n) and `victim` and `access` stay O(1).
 * - **Segmented LRU.** A new slot enters the tail of the *probationary* segment. A hit on a probationary
 *   slot promotes it to the tail of the *protected* segment; a hit on a protected slot moves it to that
 *   segment's tail. The protected segment holds at most `max(1, floor(0.8 × tracked))` slots: when a
 *   promotion overflows it, its least recently used slot is demoted to the tail of probation, so that it
 *   must earn its place again. With nothing expired, the victim is the head (least recently used) of
 *   probation, or, when probation is empty, the head of protected. One-time entries (a scan) therefore
 *   flow through probation and leave without displacing the entries that were hit twice.
 *
 * The cap is a share of the slots tracked now rather than of a configured size, because the store may
 * limit bytes instead of entries and the policy never knows its capacity; removals can leave protected
 * above its share for a while, which only means victims come from probation until it empties.
 * Sizes are ignored. Inserting a slot that is already tracked starts it afresh on probation.
 */
export class HybridPolicy implements EvictionPolicy {
  readonly name = 'hybrid';
  readonly usesKeyHash = false;
  private readonly lists: SlotLists;
  private readonly expiry: ExpiryHeap;

  /** @param capacity the initial slot capacity; `grow` raises it. */
  constructor(capacity = 16) {
    this.lists = new SlotLists(2, capacity);
    this.expiry = new ExpiryHeap(capacity);
  }

  grow(capacity: number): void {
    this.lists.grow(capacity);
    this.expiry.grow(capacity);
  }

  insert(slot: number, _keyHash: number, _size: number, expiresAt: number, _now: number): void {
    this.remove(slot);
    this.lists.pushTail(PROBATION, slot);
    if (expiresAt !== Infinity) this.expiry.push(slot, expiresAt);
  }

  access(slot: number, _now: number): void {
    const list = this.lists.listOf(slot);
    if (list === PROTECTED) {
      this.lists.moveToTail(PROTECTED, slot);
    } else if (list === PROBATION) {
      this.lists.moveToTail(PROTECTED, slot);
      const tracked = this.lists.size(PROBATION) + this.lists.size(PROTECTED);
      const cap = Math.max(1, Math.floor(PROTECTED_SHARE * tracked));
      if (this.lists.size(PROTECTED) > cap) {
        this.lists.moveToTail(PROBATION, this.lists.head(PROTECTED));
      }
    }
  }

  resize(_slot: number, _size: number): void {}

  remove(slot: number): void {
    this.lists.unlink(slot);
    this.expiry.delete(slot);
  }

  victim(now: number): number {
    const soonest = this.expiry.peek();
    if (soonest !== -1 && this.expiry.expiresAt(soonest) <= now) return soonest;
    const probation = this.lists.head(PROBATION);
    return probation !== -1 ? probation : this.lists.head(PROTECTED);
  }

  recordMiss(_keyHash: number): void {}

  refusedLast(): boolean {
    return false;
  }

  clear(): void {
    this.lists.clear();
    this.expiry.clear();
  }

  /** Which segment a slot is in: `'probation'`, `'protected'`, or `null` when untracked. */
  segmentOf(slot: number): 'probation' | 'protected' | null {
    const list = this.lists.listOf(slot);
    return list === PROBATION ? 'probation' : list === PROTECTED ? 'protected' : null;
  }
}
