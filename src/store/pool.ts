import { UnpooledByteStore, type ByteStore } from './byte-store.js';
import { PooledByteStore } from './pooled-byte-store.js';
import { sizeClassOptionsFor } from './size-classes.js';

/**
 * True since pooled byte storage exists: `pool: true` and `pool: false` run different code, and the
 * benchmark compares them.
 */
export const POOLING_IMPLEMENTED = true;

/** The byte store selected by the `pool` option, its slabs sized for a cache of `maxBytes` (0 = no limit). */
export function createByteStore(pooled: boolean, maxBytes = 0): ByteStore {
  return pooled ? new PooledByteStore(sizeClassOptionsFor(maxBytes)) : new UnpooledByteStore();
}
