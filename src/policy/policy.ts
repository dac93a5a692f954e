/**
 * An eviction policy decides which resident entry leaves next. It knows entries only by their slot
 * number in the store (a small integer, reused after removal) and a 32-bit hash of their key, so that a
 * policy keeps its own state in typed arrays and allocates nothing per operation.
 *
 * The store calls `insert` when a slot becomes resident and evictable, `access` on every hit, `remove`
 * when it leaves (evicted, invalidated, pinned, or parked while its dirty data is flushed), and `victim`
 * when it must make room. Admission is decided before insertion: when a new entry would not fit, the
 * store asks for victims and removes them *first*, and only then inserts the new entry, so a victim is
 * always an entry that was already resident (as in SIEVE's paper, where the hand evicts and the new
 * object then goes in at the head). Every method is O(1) or O(log n).
 */
export interface EvictionPolicy {
  /** The option value that selects this policy (`'lru'`, `'lfu'`, …). */
  readonly name: string;
  /**
   * False when `insert` and `recordMiss` ignore their key hash: the store then passes 0 rather than hash
   * the key, twice per miss, for nothing.
   */
  readonly usesKeyHash: boolean;
  /** Makes room for slots `0 .. capacity-1`; called before a slot at or above the old capacity is used. */
  grow(capacity: number): void;
  /** `slot` became resident. `expiresAt` is an epoch ms, or `Infinity` for no expiry. */
  insert(slot: number, keyHash: number, size: number, expiresAt: number, now: number): void;
  /** `slot` was read (a hit). */
  access(slot: number, now: number): void;
  /** The size of a resident `slot` changed (a write). */
  resize(slot: number, size: number): void;
  /** `slot` left the policy's view. Removing a slot that is not tracked is a no-op. */
  remove(slot: number): void;
  /**
   * The slot that should leave next, or -1 when the policy tracks none. Asked before a new entry takes a
   * slot (and when a write grows an entry past the limits). Does not remove it: the store calls `remove`
   * when it actually goes. May reorganize internal state (W-TinyLFU's admission duel).
   */
  victim(now: number): number;
  /**
   * True when the slot the last {@link victim} call returned is a candidate the policy refused to admit
   * (W-TinyLFU: the entry leaving the admission window that lost the frequency duel), false when it is a
   * resident the policy chose to evict. The store counts the first as a rejection, the second as an
   * eviction.
   */
  refusedLast(): boolean;
  /** A lookup of a key that is not resident (a miss); frequency-based admission counts it. */
  recordMiss(keyHash: number): void;
  /** Forgets everything. */
  clear(): void;
}

/** The policy names accepted by the `eviction` option. */
export const POLICY_NAMES = ['lru', 'lfu', 'ttl', 'hybrid', 'tinylfu', 'sieve'] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

/** FNV-1a over the UTF-16 code units of a key: cheap, allocation-free, good enough for a sketch. */
export function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
