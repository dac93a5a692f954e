import type { PathLike } from '../paths.js';
import { checkCallback, type NodeFsContext } from './node-fs-context.js';
import { FileStats } from './stats-object.js';
import { CacheWatcher } from './watch.js';

type StatListener = (curr: FileStats, prev: FileStats) => void;

/** Node's zeroed stats, what `watchFile` reports for a file that does not exist. */
const MISSING = new FileStats({ dev: 0, ino: 0, mode: 0, nlink: 0, uid: 0, gid: 0, rdev: 0, size: 0, blksize: 0, blocks: 0, atimeMs: 0, mtimeMs: 0, ctimeMs: 0, birthtimeMs: 0 });

/**
 * `watch` (an `FSWatcher` over the cache's change reports, see fs/watch.ts) and `watchFile` /
 * `unwatchFile` (polling `stat` through the cache at `interval`, 5007 ms by default as Node's, calling
 * listeners when mtime or ctime or existence changed). No timer keeps the process alive.
 */
export function watchForms(ctx: NodeFsContext) {
  const polled = new Map<string, { timer: NodeJS.Timeout; listeners: Set<StatListener> }>();

  function watch(filename: PathLike, options?: unknown, listener?: unknown): CacheWatcher {
    if (typeof options === 'function') {
      listener = options;
      options = undefined;
    }
    const o = typeof options === 'object' && options !== null ? (options as { recursive?: boolean }) : {};
    const key = ctx.view.keyOf(filename, 'filename', 'watch');
    return new CacheWatcher(ctx.core, ctx.core.resolvedKey(key) ?? key, o.recursive === true, listener as never);
  }

  function watchFile(filename: PathLike, options?: unknown, listener?: unknown): void {
    if (typeof options === 'function') {
      listener = options;
      options = undefined;
    }
    checkCallback(listener);
    const key = ctx.view.keyOf(filename, 'filename', 'watch');
    const existing = polled.get(key);
    if (existing !== undefined) {
      existing.listeners.add(listener as StatListener);
      return;
    }
    const interval = (options as { interval?: number } | undefined)?.interval ?? 5007;
    const listeners = new Set<StatListener>([listener as StatListener]);
    let prev: FileStats | undefined;
    const poll = (): void => {
      ctx.cache.stat(filename).then((s) => s, () => MISSING).then((curr) => {
        const before = prev;
        prev = curr;
        if (before === undefined) return;
        if (curr.mtimeMs !== before.mtimeMs || curr.ctimeMs !== before.ctimeMs || curr.ino !== before.ino || curr.size !== before.size) {
          for (const l of listeners) l(curr, before);
        }
      });
    };
    poll();
    const timer = setInterval(poll, interval);
    timer.unref();
    polled.set(key, { timer, listeners });
  }

  function unwatchFile(filename: PathLike, listener?: StatListener): void {
    const key = ctx.view.keyOf(filename, 'filename', 'watch');
    const entry = polled.get(key);
    if (entry === undefined) return;
    if (listener !== undefined) entry.listeners.delete(listener);
    else entry.listeners.clear();
    if (entry.listeners.size === 0) {
      clearInterval(entry.timer);
      polled.delete(key);
    }
  }

  return { watch, watchFile, unwatchFile };
}
