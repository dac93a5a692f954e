import { integerInRange } from '../args.js';
import { asyncFsError, fsError, hasCode } from '../errors.js';
import { pathString, type PathLike } from '../paths.js';
import { checkCallback, checkPath, type NodeFsContext } from './node-fs-context.js';
import { ABSENT, NOT_A_LINK, NOT_CACHED, type CacheHits } from './node-fs-hits.js';
import { callBackLater } from './callback-ticks.js';
import { walkedFailure } from './node-fs-realpath.js';
import type { RecentAnswers } from './node-fs-answers.js';

type Callback = (err: unknown, value?: unknown) => void;

const paths2 = ['path', 'dest'];

/**
 * The callback forms of the path-based calls, over the cache's promise methods. Argument errors (a
 * missing callback, a bad path) are thrown at once, as Node's own `fs` throws them; fs errors reach the
 * callback, on a later tick, never both.
 */
export function callbackForms(ctx: NodeFsContext, hits: CacheHits, answers: RecentAnswers) {
  const cache = ctx.cache as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;

  const names = paths2;
  const nothing = () => undefined;
  /** A result that may be absent (mkdir's first created directory): absent, no second argument. */
  const optional = (value: unknown) => value;
  /** `name(…, cb)`: `paths` path arguments from index `first` are checked at once. */
  const form = (name: string, paths: number, map?: (value: unknown) => unknown, mapError?: (err: unknown) => unknown, first = 0) =>
    function (this: unknown, ...args: unknown[]): void {
      const cb = args.pop();
      checkCallback(cb);
      for (let i = first; i < first + paths; i++) checkPath(args[i], names[i - first]);
      let work: Promise<unknown>;
      try {
        work = cache[name]!.apply(ctx.cache, args);
      } catch (err) {
        work = Promise.reject(err);
      }
      work.then(
        // A call with no result calls back with the error slot alone, as Node's do (arity shows).
        (value) => (map === nothing || (map === optional && value === undefined) ? process.nextTick(cb as Callback, null) : process.nextTick(cb as Callback, null, map ? map(value) : value)),
        (err) => process.nextTick(cb as Callback, mapError ? mapError(err) : err),
      );
    };

  // Node opens a directory fine and fails on the read, without a path.
  const readOfDirectory = (err: unknown) => (hasCode(err) && err.code === 'EISDIR' ? fsError('EISDIR', 'read') : err);

  const realpath = form('realpath', 1);
  const access = form('access', 1, nothing);
  const slow = {
    readFile: form('readFile', 1, undefined, readOfDirectory),
    stat: form('stat', 1),
    lstat: form('lstat', 1),
    readlink: form('readlink', 1),
  };

  // What the cache answers alone is called back on the next tick with no promise made: a resolver
  // asks these again and again, for files it saw and for paths it saw missing.
  const statForm = (follow: boolean, syscall: 'stat' | 'lstat') =>
    function (path: PathLike, options: unknown, cb?: unknown): void {
      const callback = cb ?? options;
      checkCallback(callback);
      // The path is checked by the hit's own key lookup, or by the ordinary form (as Node checks it).
      let answer = callback;
      if (cb === undefined || options == null || (options as { bigint?: unknown }).bigint !== true) {
        if (answers.stats(path, follow, callback)) return;
        answer = answers.learnStats(path, follow, callback);
      }
      if (cb === undefined) slow[syscall](path, answer);
      else slow[syscall](path, options, answer);
    };
  return {
    readFile(path: PathLike, options: unknown, cb?: unknown): void {
      const callback = cb ?? options;
      checkCallback(callback);
      const got = hits.readFile(path, cb === undefined ? undefined : options);
      if (got === ABSENT) return callBackLater(callback, asyncFsError('ENOENT', 'open', pathString(path)));
      if (got !== NOT_CACHED) return callBackLater(callback, null, got);
      if (cb === undefined) slow.readFile(path, callback);
      else slow.readFile(path, options, callback);
    },
    writeFile: form('writeFile', 1, nothing),
    appendFile: form('appendFile', 1, nothing),
    stat: statForm(true, 'stat'),
    lstat: statForm(false, 'lstat'),
    readdir: form('readdir', 1),
    mkdir: form('mkdir', 1, optional),
    mkdtemp: form('mkdtemp', 0),
    rmdir: form('rmdir', 1, nothing),
    unlink: form('unlink', 1, nothing),
    rm: form('rm', 1, nothing),
    rename: form('rename', 2, nothing),
    /** Node's walking realpath: a failure names `lstat` and the first part that failed (node-fs-realpath.ts). */
    realpath: Object.assign(function realpathWalked(path: PathLike, options: unknown, cb?: unknown): void {
      const callback = (cb ?? options) as Callback;
      checkCallback(callback);
      checkPath(path);
      const cache = ctx.cache;
      cache.realpath(path, (cb === undefined ? undefined : options) as never).then(
        (value) => process.nextTick(callback, null, value),
        (err: unknown) => walkedFailure(err, path, ctx.view.cwd, (p) => cache.lstat(p), (p) => cache.realpath(p)).then((failure) => process.nextTick(callback, failure)),
      );
    }, { native: realpath }),
    readlink(path: PathLike, options: unknown, cb?: unknown): void {
      const callback = cb ?? options;
      checkCallback(callback);
      if (cb === undefined) {
        if (answers.readlink(path, callback)) return;
        return slow.readlink(path, answers.learnLink(path, callback));
      }
      const got = hits.readlink(path, options);
      if (got === ABSENT || got === NOT_A_LINK) {
        return callBackLater(callback, asyncFsError(got === ABSENT ? 'ENOENT' : 'EINVAL', 'readlink', pathString(path)));
      }
      if (got !== NOT_CACHED) return callBackLater(callback, null, got);
      slow.readlink(path, options, callback);
    },
    symlink: form('symlink', 1, nothing, undefined, 1),
    access(path: PathLike, mode: unknown, cb?: unknown): void {
      // A bad mode is an argument error: thrown here, as Node's access throws it, not passed.
      if (cb !== undefined && mode != null) integerInRange(mode, 'mode', 0, 7);
      access.apply(null, cb === undefined ? [path, mode] : [path, mode, cb]);
    },
    copyFile: form('copyFile', 2, nothing),
    truncate: form('truncate', 1, nothing),
    chmod: form('chmod', 1, nothing),
    chown: form('chown', 1, nothing),
    utimes: form('utimes', 1, nothing),
    link: form('link', 2, nothing),
    lchown: form('lchown', 1, nothing),
    lutimes: form('lutimes', 1, nothing),
    statfs: form('statfs', 1),
    opendir: form('opendir', 1),
    cp: form('cp', 2, () => undefined), // Node's cp calls back (null, undefined)
    /** Node's deprecated `exists`: the callback gets one boolean, never an error. */
    exists(path: PathLike, cb: unknown): void {
      checkCallback(cb);
      ctx.cache.access(path).then(() => process.nextTick(cb, true), () => process.nextTick(cb, false));
    },
  };
}
