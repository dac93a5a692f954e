import { HybridPolicy } from './hybrid.js';
import { LfuPolicy } from './lfu.js';
import { LruPolicy } from './lru.js';
import type { EvictionPolicy, PolicyName } from './policy.js';
import { SievePolicy } from './sieve.js';
import { TinyLfuPolicy } from './tinylfu.js';
import { TtlPolicy } from './ttl.js';

export type { EvictionPolicy, PolicyName } from './policy.js';
export { POLICY_NAMES, hashKey } from './policy.js';
export { HybridPolicy } from './hybrid.js';
export { LfuPolicy } from './lfu.js';
export { LruPolicy } from './lru.js';
export { SievePolicy } from './sieve.js';
export { CountMinSketch, type CountMinSketchOptions } from './sketch.js';
export { TinyLfuPolicy } from './tinylfu.js';
export { TtlPolicy } from './ttl.js';

/**
 * A new, empty policy of the named kind, sized for `capacity` slots (the store calls `grow` before it
 * uses a slot beyond that). Throws a `RangeError` for a name outside {@link POLICY_NAMES}, so that a
 * caller that skipped option validation fails loudly rather than silently falling back.
 */
export function createPolicy(name: PolicyName, capacity = 16): EvictionPolicy {
  switch (name) {
    case 'lru':
      return new LruPolicy(capacity);
    case 'lfu':
      return new LfuPolicy(capacity);
    case 'ttl':
      return new TtlPolicy(capacity);
    case 'hybrid':
      return new HybridPolicy(capacity);
    case 'tinylfu':
      return new TinyLfuPolicy(capacity);
    case 'sieve':
      return new SievePolicy(capacity);
    default:
      throw new RangeError(`unknown eviction policy: ${String(name satisfies never)}`);
  }
}
