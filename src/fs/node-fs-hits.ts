import { checkEncoding } from '../args.js';
import type { BackendStats } from '../backend/backend.js';
import { candidateOf, knownAbsent } from '../engine/absence.js';
import { namesDirectory, type PathLike } from '../paths.js';
import { nameAs } from '../util/byte-path.js';
import { isSymlinkMode } from '../util/modes.js';
import type { NodeFsContext } from './node-fs-context.js';

/** The answer is not in the cache: the caller takes its ordinary (promise or sync-port) way. */
export const NOT_CACHED = Symbol('not cached');
/** The cache knows the path does not exist: the caller raises ENOENT in its own call's words. */
export const ABSENT = Symbol('absent');
/** The path is cached and is not a link: readlink's EINVAL. */
export const NOT_A_LINK = Symbol('not a link');

type Miss = typeof NOT_CACHED | typeof ABSENT;

/**
 * What the drop-in answers from the cache alone, synchronously, with no promise made: the calls a
 * resolver repeats (stat, lstat, readFile, readlink of files seen before, and of paths seen missing).
 * Each returns its value, or {@link ABSENT}, or {@link NOT_CACHED} when only the backend can tell; the
 * callback forms then call back on the next tick, the sync forms return or throw at once. Only the
 * whole backend's view (no `sub()` root) and a cache that is ready and open take this way; the rest
 * gets `NOT_CACHED` and the ordinary path, which applies every check.
 */
export function cacheHits(ctx: NodeFsContext) {
  const { core, view } = ctx;

  /** The canonical key of the stats {@link stats} returned last (for a caller that keeps the answer). */
  let servedKey = '';

  const usable = (path: PathLike): boolean =>
    view.root === '' && core.readiness.gate === undefined && !core.closed && !namesDirectory(path);

  /** Stats of `path` (following the last link or not), or why they cannot be given from the cache. */
  function stats(path: PathLike, follow: boolean): BackendStats | Miss {
    if (!usable(path)) return NOT_CACHED;
    const key = view.keyOf(path, 'path', follow ? 'stat' : 'lstat');
    if (follow) {
      const real = core.resolvedKey(key);
      if (real !== undefined) {
        const cached = core.meta.get(real, true);
        servedKey = real;
        return cached !== undefined && core.servable(cached) ? cached : NOT_CACHED;
      }
    }
    const candidate = candidateOf(core, key);
    if (candidate === undefined) return NOT_CACHED;
    if (!follow) {
      const cached = core.meta.get(candidate, false) ?? canonicalStats(candidate);
      servedKey = candidate;
      if (cached !== undefined) return core.servable(cached) ? cached : NOT_CACHED;
    }
    return knownAbsent(core, candidate) ? ABSENT : NOT_CACHED;
  }

  /** A canonical key's cached `stat`, which is its `lstat` too: a canonical path is not a link. */
  function canonicalStats(candidate: string): BackendStats | undefined {
    return core.resolvedKey(candidate) === candidate ? core.meta.get(candidate, true) : undefined;
  }

  /** The whole content of `path` (decoded when `options` asks), when cached or known missing. */
  function readFile(path: PathLike, options: unknown): Buffer | string | Miss {
    let encoding: BufferEncoding | undefined;
    if (typeof options === 'string') encoding = checkEncoding(options);
    else if (options !== undefined && options !== null) {
      // Flags and signals take the ordinary way; a plain `{ encoding }` does not.
      const o = options as { encoding?: BufferEncoding | null; flag?: unknown; signal?: unknown };
      if (o.flag !== undefined || o.signal !== undefined) return NOT_CACHED;
      encoding = o.encoding == null ? undefined : checkEncoding(o.encoding);
    }
    if (!usable(path)) return NOT_CACHED;
    const key = view.keyOf(path);
    const real = core.knownKey(key);
    const slot = core.hitSlot(real);
    if (slot >= 0) {
      core.counters.readOps++;
      const out = core.copyOut(slot);
      return encoding ? out.toString(encoding) : out;
    }
    if (slot === -1 && real === key && knownMissingHere(key)) {
      core.counters.readOps++;
      return ABSENT;
    }
    return NOT_CACHED;
  }

  function knownMissingHere(key: string): boolean {
    const candidate = candidateOf(core, key);
    return candidate !== undefined && knownAbsent(core, candidate);
  }

  /** The target of link `path`, or why the cache alone answers otherwise (or cannot). */
  function readlink(path: PathLike, options: unknown): string | Buffer | Miss | typeof NOT_A_LINK {
    if (!usable(path)) return NOT_CACHED;
    const encoding = typeof options === 'string' ? options : (options as { encoding?: string } | null | undefined)?.encoding;
    if (encoding !== undefined && encoding !== null && encoding !== 'utf8' && encoding !== 'utf-8' && encoding !== 'buffer') return NOT_CACHED;
    const candidate = candidateOf(core, view.keyOf(path, 'path', 'readlink'));
    if (candidate === undefined) return NOT_CACHED;
    // Targets are not revalidated, nor checked with a tier: with either, only stats and absences serve.
    const target = core.revalidateAfter < 0 && core.tierLink === undefined ? core.meta.linkTarget(candidate) : undefined;
    if (target !== undefined) return target === '' ? NOT_A_LINK : nameAs(target, encoding === 'buffer' ? 'buffer' : 'utf8');
    const cached = core.meta.get(candidate, false) ?? canonicalStats(candidate);
    if (cached !== undefined) return isSymlinkMode(cached.mode) || !core.servable(cached) ? NOT_CACHED : NOT_A_LINK;
    return knownAbsent(core, candidate) ? ABSENT : NOT_CACHED;
  }

  return {
    stats,
    readFile,
    readlink,
    get servedKey(): string {
      return servedKey;
    },
  };
}

/** What {@link cacheHits} returns. */
export type CacheHits = ReturnType<typeof cacheHits>;
