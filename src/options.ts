import { InvalidArgError } from './errors.js';
import { POLICY_NAMES, type PolicyName } from './policy/policy.js';
import { resolveTierOptions, type ResolvedTierOptions, type TierOptions } from './tier/options.js';

/** How writes reach the backend. */
export type WriteMode = 'write-through' | 'write-back' | 'write-around';
const WRITE_MODES: readonly WriteMode[] = ['write-through', 'write-back', 'write-around'];

/** A per-path TTL: the first rule whose glob matches a path gives its TTL. */
export interface TtlRule {
  pattern: string;
  ttl: number;
}

/** Options of `new CacheFS(backend, options)`. Every field is optional; see the README for defaults. */
export interface CacheFSOptions {
  /** `'write-through'` (default): backend, then cache. `'write-back'`: cache now, backend later. `'write-around'`: backend only, the cached copy is dropped. */
  writeMode?: WriteMode;
  /** Which entry leaves first when a limit is reached. Default `'lru'`. */
  eviction?: PolicyName;
  /** Bytes of cached file data (pool rounding included); `0` = no limit. Default 100 MiB. */
  maxBytes?: number;
  /** Cached files; `0` = no limit. Default `0`. */
  maxEntries?: number;
  /** Milliseconds an entry stays valid; `0` = forever. Default `0`. */
  ttl?: number;
  /** Milliseconds between background flushes in write-back mode; `0` = none. Default 30000. */
  flushInterval?: number;
  /** Flush a file's dirty data when a handle on it closes. Default `true`. */
  flushOnClose?: boolean;
  /** Cache `stat`/`lstat` results. Default `false`. */
  metadataCache?: boolean;
  /** Cached metadata entries; `0` = no limit. Default `0`. */
  metadataMaxEntries?: number;
  /** Keep entries and cached bytes in pooled storage (`false` only to compare). Default `true`. */
  pool?: boolean;
  /** A directory on local disk where write-back writes are journaled before they resolve. */
  journal?: string;
  /** fsync each journal append. Default `false`. */
  journalSync?: boolean;
  /**
   * `'never'`, `'always'`, or milliseconds after which a cached entry is checked against the backend.
   * Default: the backend's `defaultRevalidate` (5000 ms for the network stores), else `'never'`.
   */
  revalidate?: 'never' | 'always' | number;
  /** Invalidate on change events of the backend. Default `false`. */
  watch?: boolean;
  /** Per-path TTLs, first match wins. Default `[]`. */
  ttlRules?: TtlRule[];
  /** Above these (bytes), clean entries are shed. */
  memoryPressure?: { maxHeapUsed?: number; maxRss?: number };
  /** A name for metrics labels when an application runs several caches. Default `'default'`. */
  name?: string;
  /** A second level shared through Redis by every cache with the same namespace (docs/tier.md). */
  tier?: TierOptions;
}

/** Options after validation, with every default filled in. */
export interface ResolvedOptions {
  writeMode: WriteMode;
  eviction: PolicyName;
  maxBytes: number;
  maxEntries: number;
  ttl: number;
  flushInterval: number;
  flushOnClose: boolean;
  metadataCache: boolean;
  metadataMaxEntries: number;
  pool: boolean;
  journal: string | undefined;
  journalSync: boolean;
  /** -1 = never, 0 = always, else ms. */
  revalidateAfter: number;
  watch: boolean;
  ttlRules: TtlRule[];
  memoryPressure: { maxHeapUsed?: number; maxRss?: number } | undefined;
  name: string;
  tier: ResolvedTierOptions | undefined;
}

const KNOWN = new Set<string>([
  'writeMode', 'eviction', 'maxBytes', 'maxEntries', 'ttl', 'flushInterval', 'flushOnClose', 'metadataCache',
  'metadataMaxEntries', 'pool', 'journal', 'journalSync', 'revalidate', 'watch', 'ttlRules', 'memoryPressure', 'name', 'tier',
]);

function optionError(name: string, value: unknown, reason: string): InvalidArgError {
  return new InvalidArgError(`options.${name}`, value, reason);
}

function count(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw optionError(name, value, 'must be a non-negative integer');
  }
  return value;
}

/** The longest delay a Node timer keeps (2^31 - 1 ms, about 24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

function duration(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw optionError(name, value, 'must be a non-negative number of milliseconds');
  }
  // Node's timers turn a longer delay into 1 ms (TimeoutOverflowWarning): refuse it rather than spin.
  if (value > MAX_TIMER_MS) throw optionError(name, value, `must be at most ${MAX_TIMER_MS} ms (2^31 - 1)`);
  return value;
}

function flag(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw optionError(name, value, 'must be a boolean');
  return value;
}

function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw optionError(name, value, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}`);
  }
  return value as T;
}

/**
 * Validates `options` and fills in defaults. Anything invalid throws `ERR_INVALID_ARG_VALUE` with a
 * message that names the option, so a typo fails at construction rather than at the first eviction.
 * `defaults.revalidate` is the backend's own default (`Backend.defaultRevalidate`): a store whose files
 * change behind the cache (a network share) states how often it wants them checked.
 */
export function resolveOptions(options: unknown, defaults: { revalidate?: 'never' | 'always' | number } = {}): ResolvedOptions {
  if (options === undefined || options === null) options = {};
  if (typeof options !== 'object') throw new InvalidArgError('options', options, 'must be an object');
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!KNOWN.has(key)) throw optionError(key, o[key], 'is not a cachefs option');
  }

  let revalidateAfter = -1;
  const rv = o.revalidate ?? defaults.revalidate;
  if (rv === undefined || rv === 'never') revalidateAfter = -1;
  else if (rv === 'always') revalidateAfter = 0;
  else if (typeof rv === 'number' && Number.isFinite(rv) && rv >= 0 && rv <= MAX_TIMER_MS) revalidateAfter = rv;
  else throw optionError('revalidate', rv, "must be 'never', 'always' or a non-negative number of milliseconds");

  let ttlRules: TtlRule[] = [];
  if (o.ttlRules !== undefined) {
    if (!Array.isArray(o.ttlRules)) throw optionError('ttlRules', o.ttlRules, 'must be an array of { pattern, ttl }');
    ttlRules = o.ttlRules.map((rule: unknown, i: number) => {
      const r = rule as { pattern?: unknown; ttl?: unknown } | null;
      if (!r || typeof r !== 'object' || typeof r.pattern !== 'string' || r.pattern === '') {
        throw optionError(`ttlRules[${i}].pattern`, r?.pattern, 'must be a non-empty glob string');
      }
      return { pattern: r.pattern, ttl: duration(`ttlRules[${i}].ttl`, r.ttl, 0) };
    });
  }

  let memoryPressure: ResolvedOptions['memoryPressure'];
  if (o.memoryPressure !== undefined) {
    const mp = o.memoryPressure as Record<string, unknown> | null;
    if (!mp || typeof mp !== 'object') throw optionError('memoryPressure', mp, 'must be an object');
    memoryPressure = {};
    if (mp.maxHeapUsed !== undefined) memoryPressure.maxHeapUsed = count('memoryPressure.maxHeapUsed', mp.maxHeapUsed, 0);
    if (mp.maxRss !== undefined) memoryPressure.maxRss = count('memoryPressure.maxRss', mp.maxRss, 0);
  }

  let journal: string | undefined;
  if (o.journal !== undefined) {
    if (typeof o.journal !== 'string' || o.journal === '' || o.journal.includes('\u0000')) {
      throw optionError('journal', o.journal, 'must be a directory path');
    }
    journal = o.journal;
  }

  let name = 'default';
  if (o.name !== undefined) {
    if (typeof o.name !== 'string' || o.name === '') throw optionError('name', o.name, 'must be a non-empty string');
    name = o.name;
  }

  const writeMode = oneOf('writeMode', o.writeMode, WRITE_MODES, 'write-through');
  return {
    writeMode,
    eviction: oneOf('eviction', o.eviction, POLICY_NAMES, 'lru'),
    maxBytes: count('maxBytes', o.maxBytes, 100 * 1024 * 1024),
    maxEntries: count('maxEntries', o.maxEntries, 0),
    ttl: duration('ttl', o.ttl, 0),
    flushInterval: duration('flushInterval', o.flushInterval, 30_000),
    flushOnClose: flag('flushOnClose', o.flushOnClose, true),
    metadataCache: flag('metadataCache', o.metadataCache, false),
    metadataMaxEntries: count('metadataMaxEntries', o.metadataMaxEntries, 0),
    pool: flag('pool', o.pool, true),
    journal,
    journalSync: flag('journalSync', o.journalSync, false),
    revalidateAfter,
    watch: flag('watch', o.watch, false),
    ttlRules,
    memoryPressure,
    name,
    tier: resolveTierOptions(o.tier, writeMode),
  };
}
