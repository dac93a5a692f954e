import { InvalidArgError } from '../errors.js';

/**
 * How a warm treats the cache: `'high'` pins what it loads (never evicted until invalidated),
 * `'normal'` loads as a read would, `'low'` loads a file only if it fits without evicting anything.
 */
export type WarmPriority = 'high' | 'normal' | 'low';
const PRIORITIES: readonly WarmPriority[] = ['high', 'normal', 'low'];

/** Where a warm stands. `completed + errors === total` once it has finished. */
export interface WarmProgress {
  /** Files the warm considers, those already cached included. */
  total: number;
  /** Files done: loaded, already cached, or (priority `'low'`) left out because they did not fit. */
  completed: number;
  /** Files that failed (with `skipErrors`; without it the first failure rejects the warm). */
  errors: number;
  /** Bytes read from the backend for this warm. */
  bytesRead: number;
  /** `errors` by error code (`ENOENT`, `ERR_CACHEFS_PIN_LIMIT`, `ERR_CACHEFS_NOT_REGULAR_FILE`, …). */
  errorsByCode: Record<string, number>;
  /**
   * Files this warm loaded and then lost to eviction while it ran: the set does not fit in the cache
   * (what it warmed last pushed out what it warmed first).
   */
  evicted: number;
}

/** A progress with nothing done yet. */
export function emptyProgress(): WarmProgress {
  return { total: 0, completed: 0, errors: 0, bytesRead: 0, errorsByCode: {}, evicted: 0 };
}

/** `a` plus `b`, field by field (the error codes merged). */
export function addProgress(a: WarmProgress, b: WarmProgress): WarmProgress {
  const errorsByCode = { ...a.errorsByCode };
  for (const [code, n] of Object.entries(b.errorsByCode)) errorsByCode[code] = (errorsByCode[code] ?? 0) + n;
  return {
    total: a.total + b.total,
    completed: a.completed + b.completed,
    errors: a.errors + b.errors,
    bytesRead: a.bytesRead + b.bytesRead,
    errorsByCode,
    evicted: a.evicted + b.evicted,
  };
}

/** The code an error is counted under in `errorsByCode`. */
export function errorCodeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code !== '' ? code : 'ERR_UNKNOWN';
}

/** Options of `warm`, `warmFromPattern`, `warmFromList` and `warmFromDir`. */
export interface WarmOptions {
  /** Files loaded at the same time. Default 4. */
  concurrency?: number;
  /** Default `'normal'`. */
  priority?: WarmPriority;
  /** Count failed files in `errors` and go on; otherwise the first failure rejects. Default `false`. */
  skipErrors?: boolean;
  /** Called after each file (success or failure) with a fresh copy of the warm's progress. */
  onProgress?: (progress: WarmProgress) => void;
  /** With `skipErrors`: called for each file that failed, before `onProgress` (which file, and why). */
  onError?: (path: string, error: unknown) => void;
  /** Aborting stops the warm: no new load starts, and the promise rejects with an `AbortError`. */
  signal?: AbortSignal;
}

/** Options of `warmSmart`: those of a warm, plus how candidates are chosen. */
export interface WarmSmartOptions extends WarmOptions {
  /** At most this many files, the most looked-up first; `0` = no limit. Default 0. */
  limit?: number;
  /** Only files whose metadata was looked up at least this often. Default 2. */
  minLookups?: number;
}

/** Options of `prefetch`. */
export interface PrefetchOptions {
  /** Files loaded at the same time. Default 4. */
  concurrency?: number;
  /** Report failed files in `failed` and go on; otherwise the first failure rejects. Default `true`. */
  skipErrors?: boolean;
  /** Aborting stops the prefetch: the promise rejects with an `AbortError`. */
  signal?: AbortSignal;
}

/** What `prefetch` resolves to. */
export interface PrefetchResult {
  /** Files now in the cache (loaded, or already there). */
  loaded: number;
  /** Files that could not be loaded, with why. */
  failed: { path: string; error: unknown }[];
}

/** Warm options after validation, defaults filled in. */
export interface ResolvedWarmOptions {
  concurrency: number;
  priority: WarmPriority;
  skipErrors: boolean;
  onProgress: ((progress: WarmProgress) => void) | undefined;
  onError: ((path: string, error: unknown) => void) | undefined;
  signal: AbortSignal | undefined;
}

function isAbortSignal(value: unknown): value is AbortSignal {
  return (
    typeof value === 'object' && value !== null &&
    typeof (value as AbortSignal).aborted === 'boolean' &&
    typeof (value as AbortSignal).addEventListener === 'function'
  );
}

/** Validates warm (or prefetch) options; anything wrong throws `ERR_INVALID_ARG_VALUE` naming it. */
export function resolveWarmOptions(options: unknown, skipErrorsDefault: boolean): ResolvedWarmOptions {
  if (options === undefined || options === null) options = {};
  if (typeof options !== 'object') throw new InvalidArgError('options', options, 'must be an object');
  const o = options as Record<string, unknown>;
  const concurrency = o.concurrency ?? 4;
  if (typeof concurrency !== 'number' || !Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new InvalidArgError('options.concurrency', concurrency, 'must be a positive integer');
  }
  const priority = o.priority ?? 'normal';
  if (!PRIORITIES.includes(priority as WarmPriority)) {
    throw new InvalidArgError('options.priority', priority, "must be one of 'high', 'normal', 'low'");
  }
  const skipErrors = o.skipErrors ?? skipErrorsDefault;
  if (typeof skipErrors !== 'boolean') throw new InvalidArgError('options.skipErrors', skipErrors, 'must be a boolean');
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') {
    throw new InvalidArgError('options.onProgress', o.onProgress, 'must be a function');
  }
  if (o.onError !== undefined && typeof o.onError !== 'function') {
    throw new InvalidArgError('options.onError', o.onError, 'must be a function');
  }
  if (o.signal !== undefined && !isAbortSignal(o.signal)) {
    throw new InvalidArgError('options.signal', o.signal, 'must be an AbortSignal');
  }
  return {
    concurrency,
    priority: priority as WarmPriority,
    skipErrors,
    onProgress: o.onProgress as ResolvedWarmOptions['onProgress'],
    onError: o.onError as ResolvedWarmOptions['onError'],
    signal: o.signal as AbortSignal | undefined,
  };
}

/** A non-negative integer option of `warmSmart`. */
export function countOption(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgError(`options.${name}`, value, 'must be a non-negative integer');
  }
  return value;
}
