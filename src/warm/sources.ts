import { constants } from 'node:fs';
import type { Engine } from '../engine/engine.js';
import { asCallError, hasCode } from '../errors.js';
import { joinPath, pathOfText } from '../paths.js';
import type { WarmRun } from './runner.js';

/**
 * Where the files a warm considers come from: a directory tree (whole, or filtered by a glob), a list
 * file, or the metadata cache's lookup counts. Each source returns view paths in a stable order.
 */

const GLOB_MAGIC = /[*?[{\\]/;

/**
 * Where to start walking for an absolute glob and how deep to go: the leading segments without glob
 * characters are walked into directly, and without `**` no file lies deeper than the pattern has
 * segments (counting every `/`, braces included, is an upper bound).
 */
export function patternBase(pattern: string): { base: string; maxDepth: number } {
  const segments = pattern.split('/').slice(1);
  let i = 0;
  while (i < segments.length - 1 && !GLOB_MAGIC.test(segments[i]!)) i++;
  const rest = segments.slice(i);
  return {
    base: '/' + segments.slice(0, i).join('/'),
    maxDepth: rest.some((s) => s.includes('**')) ? Infinity : rest.length,
  };
}

/** The paths of a list file: one a line, blank lines and lines starting with `#` ignored, duplicates once. */
export function parseList(text: string): string[] {
  const seen = new Set<string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    seen.add(line);
  }
  return [...seen];
}

async function isRegularFile(core: Engine, key: string): Promise<boolean> {
  try {
    const st = await core.backend.stat(key);
    return (st.mode & constants.S_IFMT) === constants.S_IFREG;
  } catch {
    return false; // a dangling link or a path that is gone: nothing to warm
  }
}

/**
 * The regular files below view directory `dir`, depth-first in name order, that `match` accepts (all
 * when absent), at most `maxDepth` levels down. Symbolic links to files count as files; links to
 * directories are not followed (no cycles). Listing goes to the backend directly: a warm is not the
 * program listing. A missing `dir` is an error unless `missingIsEmpty`; an unreadable subdirectory is
 * counted as a failed item with `skipErrors`, and rejects the warm without it.
 */
export async function listTree(
  run: WarmRun,
  dir: string,
  match: ((path: string) => boolean) | undefined,
  maxDepth: number,
  missingIsEmpty: boolean,
): Promise<string[]> {
  const view = run.view;
  const core = view.core;
  const out: string[] = [];
  const visit = async (dirView: string, dirKey: string | undefined, depth: number): Promise<void> => {
    if (run.stopped) return;
    let key: string;
    let entries;
    try {
      key = dirKey ?? (await core.resolve(view.keyOf(pathOfText(dirView), 'dir')));
      entries = await core.backend.readdir(key);
    } catch (err) {
      if (depth === 0) {
        if (missingIsEmpty && hasCode(err) && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) return;
        throw asCallError(err, 'scandir', dirView);
      }
      const error = asCallError(err, 'scandir', dirView);
      if (!run.opts.skipErrors) throw error;
      run.listFailure(dirView, error);
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const child = joinPath(dirView, e.name);
      if (e.type === 'directory') {
        if (depth + 1 < maxDepth) await visit(child, joinPath(key, e.name), depth + 1);
      } else if (match === undefined || match(child)) {
        if (e.type === 'file' || (e.type === 'symlink' && (await isRegularFile(core, joinPath(key, e.name))))) out.push(child);
      }
    }
  };
  await visit(dir, undefined, 0);
  return out;
}

/**
 * Files of this view whose metadata was looked up at least `minLookups` times but whose data is not
 * cached, most looked-up first (ties by path), at most `limit` (0 = all). One sort, O(n log n); the
 * counts include directories and paths that did not exist, so candidates are checked with a `stat`,
 * `concurrency` at a time, until enough regular files are found.
 */
export async function smartCandidates(run: WarmRun, minLookups: number, limit: number): Promise<string[]> {
  const view = run.view;
  const core = view.core;
  const store = core.store;
  const candidates: { key: string; path: string; count: number }[] = [];
  for (const [key, { n: count }] of core.meta.lookups) {
    if (count < minLookups || store.lookup(key) >= 0) continue;
    const path = view.viewOf(key);
    if (path !== undefined) candidates.push({ key, path, count });
  }
  candidates.sort((a, b) => b.count - a.count || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const out: string[] = [];
  const step = run.opts.concurrency;
  for (let i = 0; i < candidates.length && (limit === 0 || out.length < limit) && !run.stopped; i += step) {
    const batch = candidates.slice(i, i + step);
    const regular = await Promise.all(batch.map((c) => isRegularFile(core, c.key)));
    for (let j = 0; j < batch.length && (limit === 0 || out.length < limit); j++) {
      if (regular[j]) out.push(batch[j]!.path);
    }
  }
  return out;
}
