import type { InstallHooks } from '../cache/ports.js';
import type { Engine } from '../engine/engine.js';
import { asCallError, fsError } from '../errors.js';
import { pathOfText } from '../paths.js';
import type { DataStore } from '../store/data-store.js';
import { NotRegularFileError, PinLimitError } from './errors.js';
import { isSpecialMode } from '../util/modes.js';
import type { WarmPriority } from './options.js';
import type { CacheView } from './view.js';

/**
 * True when a resident entry can be served as it is. Unlike a read's lookup this counts nothing and
 * drops nothing: warming is not the program reading, so it leaves hits, misses and recency alone.
 */
function isFresh(core: Engine, slot: number): boolean {
  const store = core.store;
  if (store.isDirty(slot) || store.isPinned(slot)) return true;
  const expires = store.expiresAt(slot);
  const revalidateAfter = core.opts.revalidateAfter;
  if (expires === Infinity && revalidateAfter < 0) return true;
  const now = Date.now();
  if (expires <= now) return false;
  return revalidateAfter < 0 || now - store.validatedAt(slot) < revalidateAfter;
}

function pinLimit(store: DataStore, path: string, bytes?: number): PinLimitError {
  const limits: string[] = [];
  if (store.maxBytes !== 0) limits.push(`${store.pinnedBytes} of maxBytes ${store.maxBytes} bytes are pinned already`);
  if (store.maxEntries !== 0) limits.push(`${store.pinnedEntries} of maxEntries ${store.maxEntries} entries are pinned already`);
  const what = bytes === undefined ? 'one more pinned entry' : `its ${bytes} bytes`;
  return new PinLimitError(path, `${what} would take pinned entries beyond the cache's limits (${limits.join('; ')})`);
}

/** Pins a resident entry, within the limits. A parked entry (its eviction flush running) is left as it is. */
function pinResident(store: DataStore, slot: number, path: string): void {
  if (store.isPinned(slot) || store.isParked(slot)) return;
  if (!store.canPin(slot)) throw pinLimit(store, path, store.size(slot));
  store.pin(slot);
}

/**
 * Brings one file of `view` into the cache with `priority`, through the core's shared load (so a warm
 * and a concurrent read of the same file make one backend read, and a load that a write overtook does
 * not install). `onRead` hears of the bytes this call read from the backend, failed files included;
 * there is no read when the file was already cached, when the call joined a load someone else had
 * started, or, with `'low'`, when the cache is full. `stopped()` is asked after the one await that precedes
 * the load, so that no load starts once the warm was aborted.
 */
export async function warmFile(
  view: CacheView,
  path: string,
  priority: WarmPriority,
  stopped: () => boolean,
  onRead: (bytes: number) => void,
): Promise<string | undefined> {
  const core = view.core;
  const store = core.store;
  const key = await core.resolve(view.keyOf(pathOfText(path)));
  if (stopped()) return undefined;
  // A link in a `sub` view that leads out of it: refused, as every other call of the view refuses it.
  if (view.viewOf(key) === undefined) throw fsError('EACCES', 'open', path);
  const resident = store.lookup(key);
  if (resident >= 0 && isFresh(core, resident)) {
    if (priority === 'high') pinResident(store, resident, path);
    return undefined;
  }
  // Asked before anything opens the file: opening a FIFO would wait for a writer, holding a thread.
  let mode: number;
  try {
    mode = (await core.backend.stat(key)).mode;
  } catch (err) {
    throw asCallError(err, 'open', path); // the syscall Node's readFile of the path reports
  }
  if (stopped()) return undefined;
  if (isSpecialMode(mode)) throw new NotRegularFileError(path);
  // Loaded by someone else while the stat ran (a link to a file warmed beside it, a concurrent read).
  const loadedMeanwhile = store.lookup(key);
  if (loadedMeanwhile >= 0 && isFresh(core, loadedMeanwhile)) {
    if (priority === 'high') pinResident(store, loadedMeanwhile, path);
    return undefined;
  }
  if (priority === 'low' && !store.fits(1)) return undefined;
  // Not even an empty file could be pinned: fail before reading it.
  if (priority === 'high' && !store.pinFits(0)) throw pinLimit(store, path);

  let refused = false;
  let pinned = false;
  const hooks: InstallHooks = { read: onRead };
  if (priority === 'high') {
    hooks.admit = (size) => {
      if (store.pinFits(size)) return true;
      refused = true;
      return false;
    };
    hooks.installed = (slot) => {
      store.pin(slot);
      pinned = true;
    };
  } else if (priority === 'low') {
    hooks.admit = (size) => store.fits(size);
  }
  const data = await core.load(key, path, hooks);

  if (priority === 'high' && !pinned) {
    if (refused || !store.admissible(data.length)) throw pinLimit(store, path, data.length);
    // This warm joined a load someone else started (their install rules applied), or a write overtook
    // the load: pin whatever is resident now.
    const now = store.lookup(key);
    if (now >= 0) pinResident(store, now, path);
  }
  return key;
}
