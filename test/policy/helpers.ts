import type { EvictionPolicy } from '../../src/policy/policy.js';

/** Inserts slots in order with hash = slot and no expiry, at time `now`. */
export function insertAll(policy: EvictionPolicy, slots: readonly number[], now = 0): void {
  for (const slot of slots) policy.insert(slot, slot, 1, Infinity, now);
}

/** Evicts everything: the victims in order, each removed before the next is asked for. */
export function drain(policy: EvictionPolicy, now = 0, limit = 10_000): number[] {
  const out: number[] = [];
  for (let v = policy.victim(now); v !== -1; v = policy.victim(now)) {
    out.push(v);
    policy.remove(v);
    if (out.length > limit) throw new Error('drain did not end');
  }
  return out;
}

/**
 * Replays key ids through `policy` as the store drives it (map key → slot, free slots, `access` on a hit;
 * on a miss `recordMiss`, then victims removed while the new entry would exceed `limit`, then `insert`).
 * Returns the hits and the map of resident keys, which the caller may keep feeding.
 */
export class MiniStore {
  readonly slots = new Map<number, number>();
  private readonly keyOf: number[] = [];
  private readonly free: number[] = [];
  private capacity = 0;
  hits = 0;
  /** Victims the policy marked as refused candidates. */
  rejections = 0;

  constructor(
    readonly policy: EvictionPolicy,
    readonly limit: number,
    readonly hash: (key: number) => number = (key) => Math.imul(key + 1, 0x9e3779b1) >>> 0,
  ) {}

  request(key: number, now = 0): boolean {
    const slot = this.slots.get(key);
    if (slot !== undefined) {
      this.hits++;
      this.policy.access(slot, now);
      return true;
    }
    this.policy.recordMiss(this.hash(key));
    // Admission before insertion, as the store does it: victims leave first, then the new entry goes in.
    while (this.slots.size + 1 > this.limit) {
      const v = this.policy.victim(now);
      if (v === -1) break;
      if (this.slots.get(this.keyOf[v]!) !== v) throw new Error(`bad victim ${v}`);
      if (this.policy.refusedLast()) this.rejections++;
      this.policy.remove(v);
      this.slots.delete(this.keyOf[v]!);
      this.free.push(v);
    }
    let s = this.free.pop();
    if (s === undefined) {
      s = this.keyOf.length;
      if (s >= this.capacity) {
        this.capacity = Math.max(4, this.capacity * 2);
        this.policy.grow(this.capacity);
      }
      this.keyOf.push(key);
    }
    this.keyOf[s] = key;
    this.slots.set(key, s);
    this.policy.insert(s, this.hash(key), 1, Infinity, now);
    return false;
  }
}
