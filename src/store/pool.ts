import { UnpooledByteStore, type ByteStore } from './byte-store.js';

/**
 * True once pooled byte storage exists. Until then `pool: true` and `pool: false` run the same code,
 * and the benchmark says so.
 */
export const POOLING_IMPLEMENTED = false;

/** The byte store selected by the `pool` option. */
export function createByteStore(_pooled: boolean): ByteStore {
  return new UnpooledByteStore();
}
