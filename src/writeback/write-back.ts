import type { CacheCore } from '../core.js';
import { asCallError, fsError, hasCode } from '../errors.js';
import { isWithin } from '../paths.js';
import { isDirectoryMode } from '../stats-object.js';

const EMPTY = new Uint8Array(0);
/** First retry of a failed background flush after this long; doubles per failure, with jitter. */
const RETRY_BASE_MS = 100;
const RETRY_MAX_MS = 30_000;

interface FailureState {
  attempts: number;
  nextAttemptAt: number;
  lastError: unknown;
}

/**
 * Write-back: writes land in the data store and mark the entry dirty; this module owns getting them to
 * the backend. Flushes of one path are serialized (so an older snapshot never lands after a newer one);
 * writes do not wait for flushes: each flush writes a snapshot and marks the entry clean only if no
 * write happened meanwhile (the store's per-slot write sequence).
 *
 * The namespace (which files and directories exist) always lives in the backend: creating a file
 * creates it there at once, empty, and only its content is deferred. So `readdir`, `rename` and
 * `unlink` need no overlay.
 */
export class WriteBack {
  private readonly flushing = new Map<string, Promise<void>>();
  private readonly failures = new Map<string, FailureState>();
  /** Keys of dirty entries, so that flushing never scans the whole store. */
  private readonly dirtyKeys = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  /** Prefixes being renamed or removed: their flushes wait (the entry stays dirty). */
  private readonly paused = new Map<string, number>();
  private backgroundRunning = false;

  constructor(private readonly core: CacheCore) {
    core.store.onDirtyVictim = (slot) => this.evictDirty(slot);
    const interval = core.opts.flushInterval;
    if (interval > 0) {
      this.timer = setInterval(() => void this.background(), interval);
      this.timer.unref();
    }
  }

  /** Replaces the content of `key` in the cache and marks it dirty. Called under the path's lock. */
  async writeWhole(key: string, data: Uint8Array, userPath: string, opts: { exclusive?: boolean; mode?: number }): Promise<void> {
    const core = this.core;
    const store = core.store;
    if (store.lookup(key) < 0 || opts.exclusive) await this.ensureExists(key, userPath, opts.exclusive ?? false, opts.mode);
    if (!store.admissible(data.length)) {
      await this.writeThrough(key, userPath, () => core.backend.writeFile(key, data));
      return;
    }
    const now = Date.now();
    let slot = store.lookup(key);
    if (slot >= 0) store.replaceContent(slot, data);
    else slot = store.install(key, data, data.length, core.expiryFor(key, now), now);
    this.dirtied(slot, key, now);
    await core.enforceLimits();
  }

  /** Writes `data` at `position` in the cached copy of `key` (loading it first). Under the path's lock. */
  async writeAt(key: string, data: Uint8Array, position: number, userPath: string): Promise<void> {
    const core = this.core;
    const store = core.store;
    let slot = store.lookup(key);
    if (slot < 0) slot = await this.loadForUpdate(key, userPath, position + data.length);
    if (slot < 0 || !store.admissible(Math.max(store.size(slot), position + data.length))) {
      await this.writeThrough(key, userPath, () => core.backend.write ? core.backend.write(key, data, position) : this.rewrite(key, data, position));
      return;
    }
    store.writeAt(slot, position, data);
    this.dirtied(slot, key, Date.now());
    await core.enforceLimits();
  }

  /** Cuts or extends the cached copy of `key`. Under the path's lock. */
  async truncate(key: string, length: number, userPath: string): Promise<void> {
    const core = this.core;
    const store = core.store;
    let slot = store.lookup(key);
    if (slot < 0) slot = await this.loadForUpdate(key, userPath, length);
    if (slot < 0 || !store.admissible(length)) {
      await this.writeThrough(key, userPath, () => core.backend.truncate(key, length));
      return;
    }
    store.truncate(slot, length);
    this.dirtied(slot, key, Date.now());
    await core.enforceLimits();
  }

  /**
   * Writes the dirty data of `key` to the backend. Rejects (and leaves the entry dirty) if the backend
   * fails. Serialized per path.
   */
  flushKey(key: string): Promise<void> {
    const previous = this.flushing.get(key);
    const run = (async () => {
      if (previous) await previous.catch(() => undefined);
      await this.flushOnce(key);
    })();
    this.flushing.set(key, run);
    const cleanup = (): void => {
      if (this.flushing.get(key) === run) this.flushing.delete(key);
    };
    run.then(cleanup, cleanup);
    return run;
  }

  /** Flushes every dirty entry; rejects with an AggregateError naming each path that failed. */
  async flushAll(filter?: (key: string) => boolean): Promise<void> {
    const keys = [...this.dirtyKeys].filter((k) => !filter || filter(k));
    await this.flushKeys(keys);
  }

  /** Flushes the given keys (those that are dirty); AggregateError on failures. */
  async flushKeys(keys: Iterable<string>): Promise<void> {
    const results = await Promise.allSettled([...keys].map((k) => this.flushKey(k)));
    const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (errors.length > 0) {
      const paths = errors.map((e) => (e as { path?: string }).path ?? '?');
      throw new AggregateError(errors, `cachefs: flush failed for ${paths.join(', ')}`);
    }
  }

  /** Waits for in-flight flushes at or below `prefix` (before the backend renames or removes them). */
  async settleWithin(prefix: string): Promise<void> {
    const pending = [...this.flushing.entries()].filter(([k]) => isWithin(k, prefix)).map(([, p]) => p.catch(() => undefined));
    await Promise.all(pending);
  }

  /** The program removed `key`: its dirty data is moot. */
  forget(key: string): void {
    this.failures.delete(key);
    this.dirtyKeys.delete(key);
  }

  /** `from` became `to` in the backend and the store; retry state moves along. */
  renamed(from: string, to: string): void {
    if (this.dirtyKeys.delete(from)) this.dirtyKeys.add(to);
    const f = this.failures.get(from);
    if (f) {
      this.failures.delete(from);
      this.failures.set(to, f);
    }
  }

  /** Stops the background flusher and flushes everything (rejects if some flush fails). */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await Promise.all([...this.flushing.values()].map((p) => p.catch(() => undefined)));
    await this.flushAll();
  }

  /** Holds off flushes at or below `prefix` while the program renames or removes it. */
  pause(prefix: string): void {
    this.paused.set(prefix, (this.paused.get(prefix) ?? 0) + 1);
  }

  /** Ends a {@link pause}. */
  resume(prefix: string): void {
    const n = (this.paused.get(prefix) ?? 1) - 1;
    if (n <= 0) this.paused.delete(prefix);
    else this.paused.set(prefix, n);
  }

  /** True while a flush of `key` runs: the backend file is changing because of us (coherence asks). */
  isFlushing(key: string): boolean {
    return this.flushing.has(key);
  }

  /** Restarts the background timer after a failed close left the cache open. */
  restartTimer(): void {
    const interval = this.core.opts.flushInterval;
    if (!this.timer && interval > 0) {
      this.timer = setInterval(() => void this.background(), interval);
      this.timer.unref();
    }
  }

  // ---------------------------------------------------------------- internals

  private dirtied(slot: number, key: string, now: number): void {
    this.core.store.markDirty(slot, now);
    this.dirtyKeys.add(key);
    this.core.forgetMeta(key);
    this.core.forgetData(key);
  }

  /** Creates `key` in the backend (empty) if it is missing, so the namespace stays in the backend. */
  private async ensureExists(key: string, userPath: string, exclusive: boolean, mode?: number): Promise<void> {
    const backend = this.core.backend;
    let exists = true;
    try {
      const st = await backend.stat(key);
      if (isDirectoryMode(st.mode)) throw fsError('EISDIR', 'open', userPath);
    } catch (err) {
      if (!hasCode(err) || err.code !== 'ENOENT') throw asCallError(err, 'open', userPath);
      exists = false;
    }
    if (exists && exclusive) throw fsError('EEXIST', 'open', userPath);
    if (!exists) {
      try {
        await backend.writeFile(key, EMPTY, { flag: 'wx', ...(mode !== undefined ? { mode } : {}) });
      } catch (err) {
        throw asCallError(err, 'open', userPath);
      }
      this.core.forgetMeta(key);
    }
  }

  /** Loads `key` into the store so a partial write can patch it; -1 when it cannot be cached. */
  private async loadForUpdate(key: string, userPath: string, neededSize: number): Promise<number> {
    const core = this.core;
    const st = await core.statOf(key, true, 'open', userPath);
    if (isDirectoryMode(st.mode)) throw fsError('EISDIR', 'open', userPath);
    if (!core.store.admissible(Math.max(st.size, neededSize))) return -1;
    const data = await core.load(key, userPath);
    let slot = core.store.lookup(key);
    if (slot < 0) {
      const now = Date.now();
      slot = core.store.install(key, data, data.length, core.expiryFor(key, now), now);
    }
    return slot;
  }

  /** A write too large to cache goes straight to the backend, after any dirty data of the same file. */
  private async writeThrough(key: string, userPath: string, write: () => Promise<void>): Promise<void> {
    const store = this.core.store;
    const slot = store.lookup(key);
    if (slot >= 0 && store.isDirty(slot)) await this.flushKey(key);
    try {
      await write();
    } catch (err) {
      throw asCallError(err, 'write', userPath);
    }
    this.core.forgetMeta(key);
    const again = store.lookup(key);
    if (again >= 0) store.remove(again, 'invalidated');
    this.core.forgetData(key);
  }

  private async rewrite(key: string, data: Uint8Array, position: number): Promise<void> {
    const current = Buffer.from(await this.core.backend.readFile(key));
    const next = Buffer.alloc(Math.max(current.length, position + data.length));
    current.copy(next);
    next.set(data, position);
    await this.core.backend.writeFile(key, next);
  }

  private async flushOnce(key: string): Promise<void> {
    const core = this.core;
    const store = core.store;
    const slot = store.lookup(key);
    if (slot < 0 || !store.isDirty(slot)) {
      this.dirtyKeys.delete(key);
      return;
    }
    if (this.paused.size > 0) {
      for (const prefix of this.paused.keys()) if (isWithin(key, prefix)) return;
    }
    const seq = store.writeSeq(slot);
    const size = store.size(slot);
    const mtimeMs = store.mtimeMs(slot);
    // A snapshot: the slot's buffer may change (or be reused by the pool) while the backend writes.
    const snapshot = Buffer.allocUnsafeSlow(size);
    store.buffer(slot).copy(snapshot, 0, 0, size);
    try {
      await core.backend.writeFile(key, snapshot);
      // The program saw mtime = time of its write; keep it so after the flush.
      await core.backend.utimes(key, mtimeMs, mtimeMs).catch(() => undefined);
    } catch (err) {
      core.counters.flushErrors++;
      const failure = this.failures.get(key) ?? { attempts: 0, nextAttemptAt: 0, lastError: undefined };
      failure.attempts++;
      failure.lastError = err;
      const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (failure.attempts - 1));
      failure.nextAttemptAt = Date.now() + delay * (0.5 + Math.random() / 2);
      this.failures.set(key, failure);
      const again = store.lookup(key);
      if (again >= 0 && store.isParked(again)) store.unpark(again);
      const error = asCallError(err, 'write', key);
      core.events.emit('flushError', { path: key, error });
      throw error;
    }
    core.counters.flushCount++;
    this.failures.delete(key);
    core.meta.delete(key);
    const again = store.lookup(key);
    if (again === slot && store.writeSeq(again) === seq) {
      store.markClean(again);
      this.dirtyKeys.delete(key);
    }
    core.events.emit('flush', { path: key, bytes: size });
  }

  /** The store wants this dirty slot gone: flush, then evict it if it is still clean and parked. */
  private async evictDirty(slot: number): Promise<void> {
    const store = this.core.store;
    const key = store.key(slot);
    try {
      await this.flushKey(key);
    } catch {
      return; // stays dirty and resident; the error went out as a 'flushError' event
    }
    const again = store.lookup(key);
    if (again < 0) return;
    if (!store.isDirty(again) && store.isParked(again)) {
      store.evictions++;
      store.remove(again, 'evicted');
    } else if (store.isParked(again)) {
      store.unpark(again);
    }
  }

  private async background(): Promise<void> {
    if (this.backgroundRunning || this.core.closed) return;
    this.backgroundRunning = true;
    try {
      const now = Date.now();
      const store = this.core.store;
      const due = [...this.dirtyKeys].filter((k) => {
        const slot = store.lookup(k);
        if (slot < 0 || !store.isDirty(slot)) return false;
        const f = this.failures.get(k);
        return !f || f.nextAttemptAt <= now;
      });
      await Promise.allSettled(due.map((k) => this.flushKey(k)));
    } finally {
      this.backgroundRunning = false;
    }
  }
}
