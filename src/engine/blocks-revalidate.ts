import type { BackendStats } from '../backend/backend.js';
import type { Cache } from '../cache/cache.js';
import { asCallError } from '../errors.js';
import { isGone, sameIdentity, type BlockedFile } from './block-file.js';

/** What a revalidation needs of the block cache (structural, so no import runs back to it). */
interface RevalidatedBlocks {
  readonly files: Map<string, BlockedFile>;
  dropFile(key: string): boolean;
}

/** What it needs of the engine. */
interface Host {
  readonly cache: Cache;
  readonly revalidator: { stat(key: string, follow: boolean, revalidation: boolean): Promise<BackendStats> };
}

/**
 * Checks block-cached file `key` (record `f`) against the backend, its revalidation being due. Valid: its
 * record is marked checked at `askedAt` and undefined is returned. Changed (or its record replaced
 * meanwhile): its blocks are dropped and the backend's stat is returned, to load from. Gone: its blocks
 * and metadata are dropped and the read fails with the backend's code.
 */
export async function revalidateBlocks(
  blocks: RevalidatedBlocks, host: Host, key: string, f: BlockedFile, askedAt: number, userPath: string,
): Promise<BackendStats | undefined> {
  const core = host.cache;
  let st: BackendStats;
  try {
    st = await host.revalidator.stat(key, true, true);
  } catch (err) {
    if (isGone(err)) {
      core.counters.changesDetected++;
      blocks.dropFile(key);
      core.metadataChanged(key);
    }
    throw asCallError(err, 'read', userPath);
  }
  const now = blocks.files.get(key);
  if (now === f && sameIdentity(f, st)) {
    f.validatedAt = askedAt;
    return undefined;
  }
  if (now === f) {
    core.counters.changesDetected++;
    blocks.dropFile(key);
  }
  return st;
}
