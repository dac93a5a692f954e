/**
 * SIEVE exactly as its paper's pseudo-code reads (Zhang, Yang, Yue, Vigfusson and Rashmi, "SIEVE is
 * Simpler than LRU: an Efficient Turn-Key Eviction Algorithm for Web Caches", NSDI 2024, Figure 2), with
 * objects in a plain doubly linked list: the yardstick that `src/policy/sieve.ts`, replayed through the
 * store, must match. Deliberately naive and separate from the policy code.
 */
import type { Trace } from './traces.js';

interface SieveNode {
  key: number;
  visited: boolean;
  /** Toward the head (newer). */
  prev: SieveNode | null;
  /** Toward the tail (older). */
  next: SieveNode | null;
}

/** Replays `trace` through a SIEVE cache of `capacity` objects and returns the number of hits. */
export function referenceSieveHits(trace: Trace, capacity: number): number {
  const table = new Map<number, SieveNode>();
  let head: SieveNode | null = null;
  let tail: SieveNode | null = null;
  let hand: SieveNode | null = null;
  let hits = 0;
  for (const key of trace.keys) {
    const found = table.get(key);
    if (found !== undefined) {
      // Cache hit: x.visited ← 1.
      found.visited = true;
      hits++;
      continue;
    }
    if (table.size === capacity) {
      // Evict: o ← hand (or tail); while o.visited: o.visited ← 0, o ← o.prev (or tail); hand ← o.prev.
      let o: SieveNode = hand ?? tail!;
      while (o.visited) {
        o.visited = false;
        o = o.prev ?? tail!;
      }
      hand = o.prev;
      if (o.prev !== null) o.prev.next = o.next;
      else head = o.next;
      if (o.next !== null) o.next.prev = o.prev;
      else tail = o.prev;
      table.delete(o.key);
    }
    // Insert x at the head, unvisited.
    const node: SieveNode = { key, visited: false, prev: null, next: head };
    if (head !== null) head.prev = node;
    head = node;
    if (tail === null) tail = node;
    table.set(key, node);
  }
  return hits;
}
