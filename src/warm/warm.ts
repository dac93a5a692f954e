import { InvalidArgError, InvalidArgTypeError } from '../errors.js';
import { compileGlob } from '../util/glob.js';
import { normalizePath, pathText, type PathLike } from '../paths.js';
import { wellFormed } from '../util/byte-path.js';
import {
  countOption, resolveWarmOptions,
  type PrefetchOptions, type PrefetchResult, type WarmOptions, type WarmProgress, type WarmSmartOptions,
} from './options.js';
import { runWarm } from './runner.js';
import { listTree, parseList, patternBase, smartCandidates } from './sources.js';
import type { CacheView } from './view.js';

/**
 * The path arguments of a batch call, checked: an array is returned as it is (no copy), another
 * iterable is collected. Every element must be a path, or nothing is done at all.
 */
export function checkPaths(paths: unknown, argName = 'paths'): readonly PathLike[] {
  if (paths === null || typeof paths !== 'object' || typeof (paths as Iterable<unknown>)[Symbol.iterator] !== 'function') {
    throw new InvalidArgTypeError(argName, 'an array (or iterable) of paths', paths);
  }
  const list = Array.isArray(paths) ? (paths as unknown[]) : [...(paths as Iterable<unknown>)];
  for (const p of list) {
    if (typeof p !== 'string' && !Buffer.isBuffer(p) && !(p instanceof URL)) {
      throw new InvalidArgTypeError(`${argName}[]`, 'of type string or an instance of Buffer or URL', p);
    }
  }
  return list as PathLike[];
}

/**
 * The path arguments of a warm as text in the form keys take (a Buffer's bytes that are not UTF-8
 * escaped, not made U+FFFD, so that two such names stay two), each once, in the order given.
 */
export function pathList(paths: unknown, argName = 'paths'): string[] {
  return [...new Set(checkPaths(paths, argName).map((p) => pathText(p, `${argName}[]`)))];
}

/** Loads the given files. */
export async function warm(view: CacheView, paths: Iterable<PathLike>, options?: WarmOptions): Promise<WarmProgress> {
  view.check('warm');
  const opts = resolveWarmOptions(options, false);
  const list = pathList(paths);
  return runWarm(view, opts, async () => list, { track: true });
}

/** Loads the files matching a glob (relative to the working directory when not absolute). */
export async function warmFromPattern(view: CacheView, pattern: string, options?: WarmOptions): Promise<WarmProgress> {
  view.check('warmFromPattern');
  if (typeof pattern !== 'string') throw new InvalidArgError('pattern', pattern, 'must be a glob string');
  const opts = resolveWarmOptions(options, false);
  const cwd = view.cwd();
  const text = wellFormed(pattern); // as a path string is: no text matches a byte name by its escapes
  const absolute = text.startsWith('/') ? text : cwd === '/' ? `/${text}` : `${cwd}/${text}`;
  const match = compileGlob(absolute);
  const { base, maxDepth } = patternBase(absolute);
  return runWarm(view, opts, (run) => listTree(run, base, match, maxDepth, true), { track: true });
}

/**
 * Loads the files named in `listFile`, one path a line, `#` starting a comment line. The list is a
 * file of this cached file system, read through the cache like any other; relative entries resolve
 * against the working directory.
 */
export async function warmFromList(view: CacheView, listFile: PathLike, options?: WarmOptions): Promise<WarmProgress> {
  view.check('warmFromList');
  const opts = resolveWarmOptions(options, false);
  return runWarm(view, opts, async () => parseList(await view.readText(listFile)), { track: true });
}

/** Loads every file below `dir`, recursively. */
export async function warmFromDir(view: CacheView, dir: PathLike, options?: WarmOptions): Promise<WarmProgress> {
  view.check('warmFromDir');
  const opts = resolveWarmOptions(options, false);
  const start = normalizePath(dir, view.cwd(), 'dir');
  return runWarm(view, opts, (run) => listTree(run, start, undefined, Infinity, false), { track: true });
}

/** Loads the files whose metadata was looked up often but whose data is not cached, most used first. */
export async function warmSmart(view: CacheView, options?: WarmSmartOptions): Promise<WarmProgress> {
  view.check('warmSmart');
  const opts = resolveWarmOptions(options, false);
  const limit = countOption('limit', options?.limit, 0);
  const minLookups = countOption('minLookups', options?.minLookups, 2);
  return runWarm(view, opts, (run) => smartCandidates(run, minLookups, limit), { track: true });
}

/**
 * Loads the given files as reads would, without being a warm (no progress, no events): a quick way to
 * get files in before they are needed, reporting which failed.
 */
export async function prefetch(view: CacheView, paths: Iterable<PathLike>, options?: PrefetchOptions): Promise<PrefetchResult> {
  view.check('prefetch');
  const opts = resolveWarmOptions(options, true);
  if (options && (options as WarmOptions).priority !== undefined) {
    throw new InvalidArgError('options.priority', (options as WarmOptions).priority, 'is not a prefetch option (use warm)');
  }
  const list = pathList(paths);
  const failed: PrefetchResult['failed'] = [];
  const progress = await runWarm(view, opts, async () => list, {
    track: false,
    onFile: (path, didFail, error) => {
      if (didFail) failed.push({ path, error });
    },
  });
  // Listed in the order given, not the order the loads happened to finish in.
  const order = new Map(list.map((path, i) => [path, i]));
  failed.sort((a, b) => (order.get(a.path) ?? 0) - (order.get(b.path) ?? 0));
  return { loaded: progress.completed, failed };
}
