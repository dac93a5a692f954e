import type { Redis } from 'ioredis';
import { InvalidArgError } from '../errors.js';

/** How a cached copy is trusted when several processes share the tier. */
export type TierConsistency = 'eventual' | 'strict';

/**
 * The `tier` option: a second level in Redis shared by every cache (in any process, on any host) with
 * the same `namespace` over the same backing store, and an invalidation channel between them.
 */
export interface TierOptions {
  /** A Redis URL (`redis://[user:password@]host[:port][/db]`, `rediss://…`) or a connected ioredis client. */
  redis: string | Redis;
  /** Names this cache's keys and channel in Redis: 1–64 characters of `A-Z a-z 0-9 . _ : -`. */
  namespace: string;
  /**
   * `'eventual'` (default): cached copies are trusted until another process's invalidation arrives
   * (milliseconds). `'strict'`: every hit checks the path's version in Redis (one round trip), so a read
   * that starts after another process's write resolved returns the written bytes.
   */
  consistency?: TierConsistency;
  /** Files larger than this many bytes are not shared (they stay in this process's cache). Default 1 MiB. */
  maxFileBytes?: number;
  /** Milliseconds a shared copy lives in Redis; `0` or absent = until invalidated or evicted by Redis. */
  ttl?: number;
  /** Milliseconds one Redis call may take before the tier counts it failed and goes on without it. Default 250. */
  timeout?: number;
  /** Milliseconds the cross-process load lock lives without its holder's heartbeat. Default 2000. */
  lockTtl?: number;
}

/** {@link TierOptions} after validation, with defaults. */
export interface ResolvedTierOptions {
  redis: string | Redis;
  namespace: string;
  consistency: TierConsistency;
  maxFileBytes: number;
  ttl: number;
  timeout: number;
  lockTtl: number;
}

const NAMESPACE = /^[A-Za-z0-9._:-]{1,64}$/;
const MAX_DURATION = 2 ** 31 - 1;
/** Redis refuses strings over 512 MB; the header of a shared value needs a little room. */
const MAX_FILE_BYTES = 512 * 1024 * 1024 - 4096;
const KNOWN = new Set(['redis', 'namespace', 'consistency', 'maxFileBytes', 'ttl', 'timeout', 'lockTtl']);

function tierError(name: string, value: unknown, reason: string): InvalidArgError {
  return new InvalidArgError(`options.tier.${name}`, value, reason);
}

/** A Redis URL with any password replaced, for error messages. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '<unparsable URL>';
  }
}

function validUrl(value: string): boolean {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return false;
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') return false;
  if (u.hostname === '') return false;
  const db = u.pathname.replace(/^\//, '');
  return db === '' || /^\d{1,5}$/.test(db);
}

function looksLikeClient(value: unknown): value is Redis {
  const v = value as Record<string, unknown> | null;
  return !!v && typeof v === 'object' && typeof v.duplicate === 'function' && typeof v.defineCommand === 'function';
}

function duration(name: string, value: unknown, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > MAX_DURATION) {
    throw tierError(name, value, `must be a number of milliseconds from ${min} to ${MAX_DURATION}`);
  }
  return value;
}

/**
 * Validates the `tier` option. `'strict'` with write-back is refused: unflushed bytes live in one
 * process, so no other process could read what a write there returned.
 */
export function resolveTierOptions(value: unknown, writeMode: string): ResolvedTierOptions | undefined {
  if (value === undefined) return undefined;
  if (!value || typeof value !== 'object') throw new InvalidArgError('options.tier', value, 'must be an object');
  const o = value as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!KNOWN.has(key)) throw tierError(key, o[key], 'is not a tier option');
  }
  let redis: string | Redis;
  if (typeof o.redis === 'string') {
    if (!validUrl(o.redis)) throw tierError('redis', redactRedisUrl(o.redis), 'must be a redis:// or rediss:// URL with a host');
    redis = o.redis;
  } else if (looksLikeClient(o.redis)) {
    redis = o.redis;
  } else {
    throw tierError('redis', typeof o.redis, 'must be a Redis URL or an ioredis client');
  }
  if (typeof o.namespace !== 'string' || !NAMESPACE.test(o.namespace)) {
    throw tierError('namespace', o.namespace, 'must be 1-64 characters of A-Z a-z 0-9 . _ : -');
  }
  let consistency: TierConsistency = 'eventual';
  if (o.consistency !== undefined) {
    if (o.consistency !== 'eventual' && o.consistency !== 'strict') {
      throw tierError('consistency', o.consistency, "must be 'eventual' or 'strict'");
    }
    consistency = o.consistency;
  }
  if (consistency === 'strict' && writeMode === 'write-back') {
    throw tierError('consistency', consistency, "cannot be 'strict' with writeMode 'write-back' (unflushed bytes live in one process)");
  }
  let maxFileBytes = 1024 * 1024;
  if (o.maxFileBytes !== undefined) {
    const m = o.maxFileBytes;
    if (typeof m !== 'number' || !Number.isSafeInteger(m) || m < 0 || m > MAX_FILE_BYTES) {
      throw tierError('maxFileBytes', m, `must be an integer from 0 to ${MAX_FILE_BYTES}`);
    }
    maxFileBytes = m;
  }
  return {
    redis,
    namespace: o.namespace,
    consistency,
    maxFileBytes,
    ttl: duration('ttl', o.ttl, 0),
    timeout: duration('timeout', o.timeout, 250, 1),
    lockTtl: duration('lockTtl', o.lockTtl, 2000, 10),
  };
}
