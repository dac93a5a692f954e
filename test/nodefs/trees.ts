// Shared by the node:fs drop-in tests (not a test file): caches over a real directory in every write
// mode, small enough that they evict.
import * as nodeFs from 'node:fs';
import { join } from 'node:path';
import { CacheFS, nodeBackend, toNodeFs, type WriteMode } from '../../src/index.js';

export const WRITE_MODES: WriteMode[] = ['write-through', 'write-around', 'write-back'];

/**
 * A cache over `root` that holds a few small files only, so that any real program makes it evict; its
 * metadata cache (stats, absences, link targets) is on and small, so that it evicts too.
 */
export function smallCache(root: string, writeMode: WriteMode): CacheFS {
  return new CacheFS(nodeBackend(root), { writeMode, maxBytes: 64 * 1024, maxEntries: 24, flushInterval: 20, metadataCache: true, metadataMaxEntries: 64 });
}

/** The drop-in over a small cache, and the cache (for its stats and its close). */
export function dropIn(root: string, writeMode: WriteMode) {
  const cache = smallCache(root, writeMode);
  return { cache, fs: toNodeFs(cache) };
}

/** Writes `files` (relative path → text) below `root`, making directories. */
export function writeTree(root: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    nodeFs.mkdirSync(join(root, rel, '..'), { recursive: true });
    nodeFs.writeFileSync(join(root, rel), text);
  }
}

/** What an error says, with the real root replaced by the cache's `/`, for comparison with Node's. */
export function errorShape(err: unknown, root?: string): Record<string, unknown> {
  const e = err as NodeJS.ErrnoException;
  const strip = (s: string | undefined) => (s === undefined || root === undefined ? s : s.split(root).join(''));
  return { code: e.code, errno: e.errno, syscall: e.syscall, path: strip(e.path), dest: strip((e as { dest?: string }).dest), message: strip(e.message) };
}
