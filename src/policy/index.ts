// TEMPORARY until the policies branch lands: every name maps to a plain LRU.
import type { EvictionPolicy, PolicyName } from './policy.js';

class TempLru implements EvictionPolicy {
  readonly name: string;
  private order = new Map<number, true>();
  constructor(name: string) { this.name = name; }
  grow(): void {}
  insert(slot: number): void { this.order.delete(slot); this.order.set(slot, true); }
  access(slot: number): void { if (this.order.delete(slot)) this.order.set(slot, true); }
  resize(): void {}
  remove(slot: number): void { this.order.delete(slot); }
  victim(): number { const v = this.order.keys().next(); return v.done ? -1 : v.value; }
  recordMiss(): void {}
  clear(): void { this.order.clear(); }
}

export function createPolicy(name: PolicyName): EvictionPolicy {
  return new TempLru(name);
}
