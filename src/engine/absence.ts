import type { Cache } from '../cache/cache.js';
import { baseName, joinPath, parentOf } from '../paths.js';

/** What the absence checks need of the engine (an interface, so that no import runs back up to it). */
export interface AbsenceHost {
  readonly cache: Cache;
  readonly tierLink: unknown;
  readonly blocks: { readonly files: Map<string, unknown> };
  resolvedKey(key: string): string | undefined;
}

/**
 * The canonical key `key` has unless its last component is a link, when its directory's real path is
 * known without a backend call; undefined otherwise. Absences are remembered under these keys.
 */
export function candidateOf(host: AbsenceHost, key: string): string | undefined {
  if (key === '/') return key;
  const parent = parentOf(key);
  const realParent = host.resolvedKey(parent);
  if (realParent === undefined) return undefined;
  return realParent === parent ? key : joinPath(realParent, baseName(key));
}

/**
 * True when canonical `candidate` is known not to exist: the metadata cache saw nothing there (no file,
 * no link) recently enough to serve, and the cache holds no data under it. With a tier, absences are not
 * served: another process may have created the file, and only the async path asks Redis.
 */
export function knownAbsent(host: AbsenceHost, candidate: string): boolean {
  const cache = host.cache;
  const after = cache.revalidateAfter;
  if (!cache.meta.isMissing(candidate, after >= 0 ? Date.now() - after : -1)) return false;
  if (host.tierLink !== undefined) return false;
  return cache.store.lookup(candidate) < 0 && (host.blocks.files.size === 0 || !host.blocks.files.has(candidate));
}

/** True when the path `key` (a view's key, perhaps through links) is known not to exist. */
export function knownMissing(host: AbsenceHost, key: string): boolean {
  const candidate = candidateOf(host, key);
  return candidate !== undefined && knownAbsent(host, candidate);
}
