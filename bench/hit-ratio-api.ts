/**
 * Replays a trace through the public `CacheFS` API: every key is a file of 16 bytes in a memory
 * backend, every request a `readFile`, and the cache is limited to `capacity` entries (`maxEntries`,
 * no byte limit), so that a hit ratio measures the policy as the store, the loader and the facade drive
 * it — not only the policy in isolation.
 */
import { CacheFS } from '../src/fs/cachefs.js';
import { memoryBackend } from '../src/backend/memory.js';
import type { PolicyName } from '../src/policy/policy.js';
import type { Trace } from './traces.js';

/** The file that stands for key `id`. */
export function tracePath(id: number): string {
  return `/trace/${id}.blk`;
}

/** The hits, misses, evictions and rejections `CacheFS#detailedStats` reports after the replay. */
export interface ApiOutcome {
  hits: number;
  misses: number;
  evictions: number;
  rejections: number;
}

/** Replays `trace` with `readFile` through a `CacheFS` of `capacity` entries under `policy`. */
export async function replayThroughApi(policy: PolicyName, trace: Trace, capacity: number): Promise<ApiOutcome> {
  const files: Record<string, Uint8Array> = {};
  const content = new Uint8Array(16);
  for (let id = 0; id < trace.keySpace; id++) files[tracePath(id)] = content;
  const fs = new CacheFS(memoryBackend(files), { eviction: policy, maxEntries: capacity, maxBytes: 0 });
  try {
    const paths = Array.from({ length: trace.keySpace }, (_, id) => tracePath(id));
    for (const key of trace.keys) await fs.readFile(paths[key]!);
    const s = fs.detailedStats();
    return { hits: s.hits, misses: s.misses, evictions: s.evictions, rejections: s.rejections };
  } finally {
    await fs.close();
  }
}
