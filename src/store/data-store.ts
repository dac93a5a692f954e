import type { EvictionPolicy } from '../policy/policy.js';
import { hashKey } from '../policy/policy.js';
import type { ByteStore } from './byte-store.js';
import { DIRTY, PARKED, PINNED, SlotColumns } from './slot-columns.js';
import { ChurnMap } from '../util/churn-map.js';

/** Internal: a parked victim counted as leaving until the next {@link DataStore.enforceLimits}. */
const LEAVING = 8;

/** Why an entry left the cache (reported to listeners and metrics). */
export type RemovalReason = 'evicted' | 'expired' | 'invalidated' | 'replaced' | 'shed';

/** Called by the store when it wants to evict a dirty entry: flush it, then call `remove`. */
export type DirtyVictimHandler = (slot: number) => Promise<void>;

const NO_SLOT = -1;

/**
 * The data cache: resident entries in struct-of-arrays slots ({@link SlotColumns}), keys in a `Map`
 * to slot numbers, bytes from a {@link ByteStore}, and an {@link EvictionPolicy} that picks victims.
 * Nothing here awaits: the facade owns concurrency, the store owns memory and limits.
 */
export class DataStore extends SlotColumns {
  private readonly index = new ChurnMap<string, number>();

  /** Bytes charged against `maxBytes` by resident entries. */
  bytesUsed = 0;
  /** Entries that were evicted (not invalidated) since the last reset. */
  evictions = 0;
  /** Entries the policy refused to admit (W-TinyLFU's admission window) since the last reset. */
  rejections = 0;
  /** Flushes of dirty victims parked while making room for an insert, for the next {@link enforceLimits}. */
  private parkedFlushes: Promise<void>[] | undefined;
  /** The victims of {@link parkedFlushes}; while one stays (flag LEAVING), it counts in the two sums. */
  private parkedSlots: number[] = [];
  private parkedBytes = 0;
  private parkedEntries = 0;
  /** Resident entries that are dirty. */
  dirtyCount = 0;
  /** Resident entries outside `maxEntries`, which counts files: blocks beyond a file's first (the block cache's). */
  uncountedEntries = 0;
  /** Bytes charged by pinned entries (warming with priority `'high'` keeps them within `maxBytes`). */
  pinnedBytes = 0;
  /** Resident entries that are pinned. */
  pinnedEntries = 0;
  /** Called with the key and reason whenever an entry leaves. */
  onRemove: ((key: string, reason: RemovalReason, size: number) => void) | undefined;
  /** Set by write-back: how a dirty victim is flushed before it may leave. */
  onDirtyVictim: DirtyVictimHandler | undefined;

  constructor(
    readonly policy: EvictionPolicy,
    readonly bytes: ByteStore,
    public maxBytes: number,
    public maxEntries: number,
  ) {
    super();
    this.grow(64);
  }

  /** The key's hash for the policy, or 0 for a policy that ignores it. */
  private hashOf(key: string): number {
    return this.policy.usesKeyHash ? hashKey(key) : 0;
  }

  /** Resident entries. */
  get entries(): number {
    return this.index.size;
  }

  /** The slot of `key`, or -1. Does not count as an access. */
  lookup(key: string): number {
    const slot = this.index.get(key);
    return slot === undefined ? NO_SLOT : slot;
  }

  /** Records a hit on `slot` for the policy and the access counter. */
  touch(slot: number, now: number): void {
    this.accessCounts[slot]! += 1;
    if ((this.flagBits[slot]! & (PINNED | PARKED)) === 0) this.policy.access(slot, now);
  }

  /** Records a miss on `key` (frequency-based admission learns from it). */
  recordMiss(key: string): void {
    this.policy.recordMiss(this.hashOf(key));
  }

  /** Every resident key (a snapshot array: callers may remove while iterating it). */
  allKeys(): string[] {
    return [...this.index.keys()];
  }

  /** True when an entry of `size` bytes fits without evicting anything (`addsEntry`: it counts as one). */
  fits(size: number, addsEntry = true): boolean {
    const cost = this.bytes.footprint(size);
    return (
      (this.maxBytes === 0 || this.bytesUsed + cost <= this.maxBytes) &&
      (this.maxEntries === 0 || this.index.size - this.uncountedEntries + (addsEntry ? 1 : 0) <= this.maxEntries)
    );
  }

  /** True when a single entry of `size` bytes could ever be cached under `maxBytes`. */
  admissible(size: number): boolean {
    return this.maxBytes === 0 || this.bytes.footprint(size) <= this.maxBytes;
  }

  /**
   * Makes `key` resident with a copy of `data[0..size)` (or, when `adopt` is set, with `data` itself, which
   * must have come from `bytes.allocate`), replacing an entry of the same key; `addsEntry` false: outside
   * `maxEntries` (a further block of a file). Returns the slot. The caller then calls {@link enforceLimits}.
   */
  install(key: string, data: Uint8Array, size: number, expiresAt: number, now: number, adopt = false, addsEntry = true): number {
    const existing = this.index.get(key);
    // A pin belongs to the path, not to one version of its bytes: a rewrite keeps it.
    const keepPinned = existing !== undefined && (this.flagBits[existing]! & PINNED) !== 0;
    if (existing !== undefined) this.removeSlot(existing, 'replaced');
    // Admission is decided before insertion: the policy picks its victims among the entries already
    // resident, and only then does the new one take a slot.
    this.makeRoom(this.bytes.footprint(adopt ? data.length : size), addsEntry ? 1 : 0, now);
    const slot = this.allocateSlot();
    let buf: Buffer;
    if (adopt) {
      buf = data as Buffer;
    } else {
      buf = this.bytes.allocate(size);
      buf.set(size === data.length ? data : data.subarray(0, size), 0);
    }
    this.keys[slot] = key;
    this.buffers[slot] = buf;
    this.sizes[slot] = size;
    this.refreshView(slot);
    const cost = this.bytes.footprint(buf.length);
    this.footprints[slot] = cost;
    this.bytesUsed += cost;
    this.expires[slot] = expiresAt;
    this.validated[slot] = now;
    this.mtimes[slot] = 0;
    this.accessCounts[slot] = 0;
    this.writeSeqs[slot] = 0;
    this.flagBits[slot] = 0;
    this.clearIdentity(slot);
    this.index.set(key, slot);
    this.policy.insert(slot, this.hashOf(key), size, expiresAt, now);
    if (keepPinned) this.pin(slot);
    return slot;
  }

  /** Writes `src` at `position` of a resident entry, growing it (zero-filling any hole). */
  writeAt(slot: number, position: number, src: Uint8Array): void {
    const end = position + src.length;
    const oldSize = this.sizes[slot]!;
    this.ensureCapacity(slot, Math.max(end, oldSize), oldSize);
    const buf = this.buffers[slot]!;
    if (position > oldSize) buf.fill(0, oldSize, position);
    buf.set(src, position);
    this.setSize(slot, Math.max(end, oldSize));
  }

  /** Cuts or extends (with zeros) a resident entry to `length` bytes. */
  truncate(slot: number, length: number): void {
    const oldSize = this.sizes[slot]!;
    if (length > oldSize) {
      this.ensureCapacity(slot, length, oldSize);
      this.buffers[slot]!.fill(0, oldSize, length);
    }
    this.setSize(slot, length);
  }

  /** Replaces the whole content of a resident entry. */
  replaceContent(slot: number, data: Uint8Array): void {
    this.ensureCapacity(slot, data.length, 0, true);
    this.buffers[slot]!.set(data, 0);
    this.setSize(slot, data.length);
  }

  markDirty(slot: number, mtimeMs: number): void {
    if ((this.flagBits[slot]! & DIRTY) === 0) {
      this.flagBits[slot]! |= DIRTY;
      this.dirtyCount++;
    }
    this.mtimes[slot] = mtimeMs;
  }

  markClean(slot: number): void {
    if ((this.flagBits[slot]! & DIRTY) !== 0) {
      this.flagBits[slot]! &= ~DIRTY;
      this.dirtyCount--;
    }
  }

  /** Takes `slot` out of the policy while its eviction flush runs. */
  park(slot: number): void {
    if ((this.flagBits[slot]! & (PARKED | PINNED)) !== 0) return;
    this.flagBits[slot]! |= PARKED;
    this.policy.remove(slot);
  }

  /** Gives a parked slot back to the policy (its flush failed or it became clean and stays). */
  unpark(slot: number): void {
    if ((this.flagBits[slot]! & PARKED) === 0) return;
    this.stopLeaving(slot);
    this.flagBits[slot]! &= ~PARKED;
    if ((this.flagBits[slot]! & PINNED) === 0) {
      this.policy.insert(slot, this.hashOf(this.keys[slot]!), this.sizes[slot]!, this.expires[slot]!, Date.now());
    }
  }

  /** Pins `slot`: it leaves the policy and is never evicted until removed. */
  pin(slot: number): void {
    if ((this.flagBits[slot]! & PINNED) !== 0) return;
    this.flagBits[slot]! |= PINNED;
    this.pinnedBytes += this.footprints[slot]!;
    this.pinnedEntries++;
    this.policy.remove(slot);
  }

  /**
   * True when one more pinned entry of `size` bytes keeps the pinned entries within `maxBytes` and
   * `maxEntries`: beyond that the limits could never hold again, since pinned entries are never evicted.
   */
  pinFits(size: number): boolean {
    return this.pinnedWithinLimits(this.bytes.footprint(size));
  }

  /** {@link pinFits} for a resident entry: its current footprint. */
  canPin(slot: number): boolean {
    return (this.flagBits[slot]! & PINNED) !== 0 || this.pinnedWithinLimits(this.footprints[slot]!);
  }

  private pinnedWithinLimits(cost: number): boolean {
    return (
      (this.maxBytes === 0 || this.pinnedBytes + cost <= this.maxBytes) &&
      (this.maxEntries === 0 || this.pinnedEntries + 1 <= this.maxEntries)
    );
  }

  /** Removes a resident entry (its bytes go back to the byte store). */
  remove(slot: number, reason: RemovalReason): void {
    this.removeSlot(slot, reason);
  }

  /** Renames a resident entry's key (used when a file moves but its bytes stay valid). */
  rekey(slot: number, newKey: string): void {
    const existing = this.index.get(newKey);
    if (existing !== undefined && existing !== slot) this.removeSlot(existing, 'replaced');
    this.index.delete(this.keys[slot]!);
    this.keys[slot] = newKey;
    this.index.set(newKey, slot);
  }

  /**
   * True when {@link enforceLimits} has nothing to do: no limit exceeded and no dirty victim's flush
   * parked. A caller that knows this skips reading the clock: `Date.now()` was 8% of the seed's
   * WriteThrough profile (a write-through open 'w' + write patches the entry twice).
   */
  withinLimits(): boolean {
    return this.parkedFlushes === undefined && !this.overLimit(this.parkedBytes, this.parkedEntries);
  }

  /**
   * Evicts until `bytesUsed <= maxBytes` and `entries <= maxEntries`. Clean victims leave at once;
   * dirty ones are parked and handed to {@link onDirtyVictim}, whose promises are returned (undefined
   * when there were none, so the common path allocates nothing).
   */
  enforceLimits(now: number): Promise<void>[] | undefined {
    while (this.overLimit(this.parkedBytes, this.parkedEntries) && this.evictOne(now)) {}
    const pending = this.parkedFlushes;
    if (pending !== undefined) {
      for (const slot of this.parkedSlots) this.flagBits[slot]! &= ~LEAVING;
      this.parkedSlots.length = 0;
      this.parkedFlushes = undefined;
      this.parkedBytes = 0;
      this.parkedEntries = 0;
    }
    return pending;
  }

  /**
   * Evicts until one more entry of `cost` bytes fits (dirty victims are parked and their flushes kept
   * for the next {@link enforceLimits}, which the caller of {@link install} runs).
   */
  private makeRoom(cost: number, entries: number, now: number): void {
    // Over the limits once the newcomer (cost bytes, `entries` entries) is in, not counting what is leaving.
    while (this.overLimit(this.parkedBytes - cost, this.parkedEntries - entries) && this.evictOne(now)) {}
  }

  /** Asks the policy for a victim and removes (or, when dirty, parks) it; false when it has none. */
  private evictOne(now: number): boolean {
    const victim = this.policy.victim(now);
    if (victim < 0) return false;
    if ((this.flagBits[victim]! & DIRTY) !== 0 && this.onDirtyVictim) {
      this.park(victim);
      this.flagBits[victim]! |= LEAVING;
      this.parkedSlots.push(victim);
      this.parkedBytes += this.footprints[victim]!;
      this.parkedEntries++;
      (this.parkedFlushes ??= []).push(this.onDirtyVictim(victim));
      return true;
    }
    if (this.policy.refusedLast()) this.rejections++;
    else this.evictions++;
    this.removeSlot(victim, this.expires[victim]! <= now ? 'expired' : 'evicted');
    return true;
  }

  /** True while limits are exceeded, not counting bytes already on their way out. */
  overLimit(leavingBytes = 0, leavingEntries = 0): boolean {
    return (
      (this.maxBytes !== 0 && this.bytesUsed - leavingBytes > this.maxBytes) ||
      (this.maxEntries !== 0 && this.index.size - this.uncountedEntries - leavingEntries > this.maxEntries)
    );
  }

  /** Removes every entry (callers flush dirty ones first). */
  removeAll(reason: RemovalReason): void {
    for (const slot of [...this.index.values()]) this.removeSlot(slot, reason);
  }

  private setSize(slot: number, size: number): void {
    this.writeSeqs[slot]! += 1;
    this.sizes[slot] = size;
    this.refreshView(slot);
    if ((this.flagBits[slot]! & (PINNED | PARKED)) === 0) this.policy.resize(slot, size);
  }

  /** Grows the slot's buffer to hold `needed` bytes, keeping the first `keep` bytes. */
  private ensureCapacity(slot: number, needed: number, keep: number, exact = false): void {
    const old = this.buffers[slot]!;
    if (old.length >= needed && (!exact || this.bytes.footprint(needed) === this.footprints[slot])) return;
    // Growth by doubling keeps a stream of appends amortized O(1) per byte.
    const target = exact ? needed : Math.max(needed, Math.min(old.length * 2, needed + 1024 * 1024));
    const next = this.bytes.allocate(target);
    if (keep > 0) old.copy(next, 0, 0, keep);
    this.bytes.release(old);
    this.buffers[slot] = next;
    this.refreshView(slot);
    const cost = this.bytes.footprint(next.length);
    this.bytesUsed += cost - this.footprints[slot]!;
    if ((this.flagBits[slot]! & PINNED) !== 0) this.pinnedBytes += cost - this.footprints[slot]!;
    this.footprints[slot] = cost;
  }

  /** A parked victim that left or stayed no longer counts as leaving (its flush ended early). */
  private stopLeaving(slot: number): void {
    if ((this.flagBits[slot]! & LEAVING) === 0) return;
    this.flagBits[slot]! &= ~LEAVING;
    this.parkedBytes = Math.max(0, this.parkedBytes - this.footprints[slot]!);
    this.parkedEntries--;
  }

  private removeSlot(slot: number, reason: RemovalReason): void {
    this.stopLeaving(slot);
    const key = this.keys[slot]!;
    this.index.delete(key);
    const size = this.sizes[slot]!;
    this.bytes.release(this.buffers[slot]!);
    this.freeSlot(slot);
    this.onRemove?.(key, reason, size);
    this.policy.remove(slot);
    this.bytesUsed -= this.footprints[slot]!;
    if ((this.flagBits[slot]! & DIRTY) !== 0) this.dirtyCount--;
    if ((this.flagBits[slot]! & PINNED) !== 0) {
      this.pinnedBytes -= this.footprints[slot]!;
      this.pinnedEntries--;
    }
    this.flagBits[slot] = 0;
  }

  /** The policy keeps its own arrays by slot: they grow with the columns. */
  protected override grow(capacity: number): void {
    super.grow(capacity);
    this.policy.grow(capacity);
  }
}
