import { UnpooledByteStore, type ByteStore } from './byte-store.js';
import { PooledByteStore } from './pooled-byte-store.js';
import { sizeClassOptionsFor } from './size-classes.js';

/** The byte store selected by the `pool` option, its slabs sized for a cache of `maxBytes` (0 = no limit). */
export function createByteStore(pooled: boolean, maxBytes = 0): ByteStore {
  return pooled ? new PooledByteStore(sizeClassOptionsFor(maxBytes)) : new UnpooledByteStore();
}
