import type { Backend, BackendWatcher } from '../backend/backend.js';
import type { CoherencePort } from '../cache/ports.js';
import { InvalidArgError } from '../errors.js';
import { parentOf } from '../paths.js';
import type { Revalidator } from './revalidate.js';

/** A batch closes once no event came for this long… */
export const WATCH_QUIET_MS = 10;
/** …or this long after its first event, so that a steady stream still gets invalidated. */
export const WATCH_MAX_DELAY_MS = 100;
/** While the watcher is down, every cached entry is checked against the backend before use. */
export const WATCH_FALLBACK_REVALIDATE_MS = 0;
const REWATCH_MAX_MS = 30_000;

/** Payload of the `'watchInvalidate'` event. */
export interface WatchInvalidateEvent {
  /** The changed paths of the batch, deduplicated and sorted (`['/']` after lost events). */
  paths: string[];
  /** How many change events the batch coalesced. */
  events: number;
  /** True when events were lost and every clean entry was dropped. */
  overflow: boolean;
}

/**
 * Keeps the cache coherent with a backend that reports changes (`Backend.watch`, which `nodeBackend`
 * implements with Node's recursive `fs.watch`).
 *
 * Events are coalesced: paths are collected until the stream has been quiet for {@link WATCH_QUIET_MS}
 * (at most {@link WATCH_MAX_DELAY_MS} after the batch's first event), deduplicated, then each path's
 * data and metadata, its parent's metadata, and everything cached below it (it may have been a
 * directory) are dropped, and `'watchInvalidate'` is emitted. Dirty entries are not dropped: their file
 * is checked for a conflict instead (see `Revalidator`).
 *
 * When the watcher fails, the cache falls back to revalidating every entry before use, emits
 * `'watchError'` `{ error }`, and tries to watch again with a growing delay; once it succeeds it drops
 * every clean entry (changes made meanwhile were not reported) and emits `'watchRestored'`.
 * No timer or handle of this class keeps the process alive.
 */
export class ChangeWatcher {
  private handle: BackendWatcher | undefined;
  private readonly pendingPaths = new Set<string>();
  private pendingEvents = 0;
  private overflow = false;
  private batchTimer: NodeJS.Timeout | undefined;
  private batchStartedAt = 0;
  private lastEventAt = 0;
  private rewatchTimer: NodeJS.Timeout | undefined;
  /** First attempt to watch again after a failure; doubles per failed attempt, up to 30 s (tests lower it). */
  static rewatchFirstMs = 1000;

  private rewatchDelay = ChangeWatcher.rewatchFirstMs;
  private closed = false;
  private subscribeError: Error | undefined;
  /** Invalidation batches applied (tests and diagnostics). */
  batches = 0;

  constructor(
    private readonly core: CoherencePort,
    private readonly backend: Backend,
    private readonly revalidator: Revalidator,
    /** The `revalidate` option, restored once watching works again. */
    private readonly configuredRevalidateAfter: number,
  ) {
    if (typeof backend.watch !== 'function') {
      throw new InvalidArgError('options.watch', true, `needs a backend that can watch for changes (such as nodeBackend); ${backend.name ?? 'this'} backend has no watch()`);
    }
    if (!this.subscribe()) this.failed(this.subscribeError, true);
  }

  /** True while the backend's watcher runs. */
  get watching(): boolean {
    return this.handle !== undefined;
  }

  /** Stops watching; pending events are discarded. */
  close(): void {
    this.closed = true;
    if (this.batchTimer) clearTimeout(this.batchTimer);
    if (this.rewatchTimer) clearTimeout(this.rewatchTimer);
    this.batchTimer = undefined;
    this.rewatchTimer = undefined;
    this.pendingPaths.clear();
    this.handle?.close();
    this.handle = undefined;
  }

  // ---------------------------------------------------------------- subscription

  private subscribe(): boolean {
    try {
      this.handle = this.backend.watch!(
        (path) => this.onChange(path),
        (err) => this.failed(err),
      );
      return true;
    } catch (err) {
      this.subscribeError = err instanceof Error ? err : new Error(String(err));
      return false;
    }
  }

  /** The watcher failed (or could not start): fall back to revalidation, say so, try again later. */
  private failed(error: Error | undefined, starting = false): void {
    if (this.closed) return;
    this.handle?.close();
    this.handle = undefined;
    const core = this.core;
    core.revalidateAfter = WATCH_FALLBACK_REVALIDATE_MS;
    const payload = { error: error ?? new Error('cachefs: the backend watcher failed') };
    if (starting) {
      // Reported on the next turn, so that listeners attached right after construction hear it.
      setImmediate(() => {
        if (!this.closed) core.events.emit('watchError', payload);
      });
    } else {
      // Whatever happened since the last reported event went unseen.
      this.overflow = true;
      this.schedule();
      core.events.emit('watchError', payload);
    }
    this.scheduleRewatch();
  }

  private scheduleRewatch(): void {
    if (this.closed || this.rewatchTimer) return;
    this.rewatchTimer = setTimeout(() => {
      this.rewatchTimer = undefined;
      if (this.closed || this.handle) return;
      if (!this.subscribe()) {
        this.rewatchDelay = Math.min(REWATCH_MAX_MS, this.rewatchDelay * 2);
        this.scheduleRewatch();
        return;
      }
      this.rewatchDelay = ChangeWatcher.rewatchFirstMs;
      // Entries checked while we were down were right then; changes since the last check went unseen.
      this.invalidateEverything();
      this.core.revalidateAfter = this.configuredRevalidateAfter;
      this.core.events.emit('watchRestored', {});
    }, this.rewatchDelay);
    this.rewatchTimer.unref();
  }

  // ---------------------------------------------------------------- batching

  private onChange(path: string | null): void {
    if (this.closed) return;
    this.pendingEvents++;
    if (path === null) this.overflow = true;
    else this.pendingPaths.add(path);
    this.lastEventAt = Date.now();
    this.schedule();
  }

  private schedule(): void {
    if (this.batchTimer || this.closed) return;
    this.batchStartedAt = Date.now();
    this.lastEventAt = this.batchStartedAt;
    this.batchTimer = setTimeout(() => this.onTimer(), WATCH_QUIET_MS);
    this.batchTimer.unref();
  }

  private onTimer(): void {
    this.batchTimer = undefined;
    if (this.closed) return;
    const now = Date.now();
    const quietFor = now - this.lastEventAt;
    const open = now - this.batchStartedAt;
    if (quietFor < WATCH_QUIET_MS && open < WATCH_MAX_DELAY_MS) {
      const wait = Math.min(WATCH_QUIET_MS - quietFor, WATCH_MAX_DELAY_MS - open);
      this.batchTimer = setTimeout(() => this.onTimer(), Math.max(1, wait));
      this.batchTimer.unref();
      return;
    }
    this.applyBatch();
  }

  private applyBatch(): void {
    const core = this.core;
    if (core.closed) return;
    const overflow = this.overflow;
    const events = this.pendingEvents;
    const paths = overflow ? ['/'] : [...this.pendingPaths].sort();
    this.pendingPaths.clear();
    this.pendingEvents = 0;
    this.overflow = false;
    if (overflow) this.invalidateEverything();
    else this.invalidatePaths(paths);
    this.batches++;
    const payload: WatchInvalidateEvent = { paths, events, overflow };
    core.events.emit('watchInvalidate', payload);
  }

  // ---------------------------------------------------------------- invalidation

  private invalidatePaths(paths: string[]): void {
    const core = this.core;
    const store = core.store;
    // A path that was not a cached file may have been a directory: what is cached below it goes too.
    let maybeDirectories: Set<string> | undefined;
    for (const path of paths) {
      if (store.lookup(path) < 0) (maybeDirectories ??= new Set()).add(path);
      this.checkDirty(path);
      core.invalidate({ path }, 'keep', { parent: true });
    }
    if (maybeDirectories !== undefined) {
      const below = (key: string): boolean => {
        for (let p = parentOf(key); ; p = parentOf(p)) {
          if (maybeDirectories!.has(p)) return true;
          if (p === '/') return false;
        }
      };
      for (const key of store.allKeys()) if (below(key)) this.checkDirty(key);
      core.invalidate({ match: below }, 'keep');
    }
    // A link may now point elsewhere, or a path may have become a link.
    core.forgetResolutions();
  }

  /** A dirty entry is not dropped by an event: its file is checked for a conflict instead. */
  private checkDirty(key: string): void {
    const store = this.core.store;
    const slot = store.lookup(key);
    if (slot >= 0 && store.isDirty(slot)) void this.revalidator.checkDirtyAfterEvent(key);
  }

  private invalidateEverything(): void {
    const core = this.core;
    for (const key of core.store.allKeys()) this.checkDirty(key);
    core.invalidate({ all: true }, 'keep');
  }
}
