import type { CacheCore } from '../core.js';
import { asCallError, CacheClosedError, fsError, hasCode } from '../errors.js';
import { isWithin } from '../paths.js';
import { isDirectoryMode } from '../stats-object.js';
import { DirtyRanges } from './dirty-ranges.js';
import type { Journal } from './journal.js';

const EMPTY = new Uint8Array(0);
/** First retry of a failed background flush after this long; doubles per failure, with jitter. */
const RETRY_BASE_MS = 100;
const RETRY_MAX_MS = 30_000;

const noop = (): void => undefined;

interface FailureState {
  attempts: number;
  nextAttemptAt: number;
}

/** A change of the namespace that flushes and the journal are ordered around. */
export type NamespaceOp = { kind: 'rename'; from: string; to: string } | { kind: 'remove'; path: string };

/** How a flush of one path ended: written, nothing to write, or the entry is no longer there. */
type FlushResult = 'flushed' | 'clean' | 'gone';

/** What a flush writes: byte ranges at positions then an optional cut, or (without positional writes) the whole file. */
interface FlushPlan {
  chunks: Array<[position: number, bytes: Buffer]>;
  /** Set when the file was cut since the backend's copy: the backend's file is cut to it after the writes. */
  length: number | undefined;
  /** The whole content, for backends without positional `write`. */
  whole: Buffer | undefined;
  bytes: number;
}

/** Payload of the `'flush'` event. */
export interface FlushEvent {
  /** The backend path. */
  path: string;
  /** Bytes written to the backend by this flush (the dirty ranges, not the whole file). */
  bytes: number;
}

/** Payload of the `'flushError'` event. */
export interface FlushErrorEvent {
  /** The backend path. */
  path: string;
  /** The backend's error, with `code` (`EIO`, `ENOSPC`, …), `syscall: 'write'` and `path`. */
  error: unknown;
  /** Failed flushes of this path in a row. */
  attempts: number;
  /** When the background flusher tries again (ms from now; `undefined` without a background flusher). */
  retryInMs: number | undefined;
}

/**
 * Write-back: writes land in the data store and mark the entry dirty; this module owns getting them to
 * the backend, and (with a journal) making them survive a crash until then.
 *
 * - Each dirty file keeps its {@link DirtyRanges}; a flush writes those ranges (and cuts the file when it
 *   shrank). Writing whole files measured slower (see `bench/flush-strategy.ts`) and, with its truncate
 *   to 0, would leave nothing a replay could be applied to if the process died in the middle of it.
 * - Flushes of one path are serialized, so an older snapshot never lands after a newer one. Writes do
 *   not wait for flushes: a flush writes a snapshot and marks the entry clean only if no write happened
 *   meanwhile (the store's per-slot write sequence).
 * - The namespace (which files and directories exist) always lives in the backend: creating a file
 *   creates it there at once, empty, and only its content is deferred. A rename or removal holds off the
 *   flushes of the paths it touches ({@link aroundNamespaceChange}), so a flush can never recreate a
 *   removed file or write under a name that no longer holds the data.
 * - A failed flush leaves the entry dirty and resident (past the limits if need be) and is retried with
 *   exponential backoff and jitter; it is reported by the `'flushError'` event and by `flush()`.
 */
export class WriteBack {
  /** Per path, the last flush queued (flushes of one path run one after the other). */
  private readonly chains = new Map<string, Promise<FlushResult>>();
  /** Flushes writing to the backend now (past the pause check): what a namespace change must wait for. */
  private readonly writing = new Map<string, Promise<void>>();
  private readonly failures = new Map<string, FailureState>();
  /** What changed in each dirty file since the backend's copy. Its keys are the dirty paths. */
  private readonly dirty = new Map<string, DirtyRanges>();
  /** Prefixes being renamed or removed: their flushes wait until {@link resume}. */
  private readonly paused = new Map<string, number>();
  private resumeWaiters: Array<() => void> = [];
  /** Rename intents in flight, by `from\0to`, so the cache's move can journal their outcome. */
  private readonly intents = new Map<string, { lsn: number; done: boolean }>();
  private intervalTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryAt = Infinity;
  private backgroundRunning = false;
  /** Set once `close` flushed everything: writes after that fail rather than dirty a closing cache. */
  private stopped = false;
  private readonly journal: Journal | undefined;

  constructor(private readonly core: CacheCore) {
    core.store.onDirtyVictim = (slot) => this.evictDirty(slot);
    this.journal = core.journal;
    this.startTimer();
  }

  // ---------------------------------------------------------------- writes (under the path's lock)

  /** Replaces the content of `key` in the cache and marks it dirty. */
  async writeWhole(key: string, data: Uint8Array, userPath: string, opts: { exclusive?: boolean; mode?: number }): Promise<void> {
    const core = this.core;
    const store = core.store;
    if (store.lookup(key) < 0 || opts.exclusive) await this.ensureExists(key, userPath, opts.exclusive ?? false, opts.mode);
    if (!store.admissible(data.length)) {
      await this.writeThrough(key, userPath, () => core.backend.writeFile(key, data));
      return;
    }
    this.checkOpen('write');
    const now = Date.now();
    let slot = store.lookup(key);
    if (slot >= 0) store.replaceContent(slot, data);
    else slot = store.install(key, data, data.length, core.expiryFor(key, now), now);
    this.dirtied(slot, key, now).replaced(data.length);
    const journaled = this.journal?.write(key, data);
    await core.enforceLimits();
    await journaled;
  }

  /** Writes `data` at `position` in the cached copy of `key` (loading it first). */
  async writeAt(key: string, data: Uint8Array, position: number, userPath: string): Promise<void> {
    const core = this.core;
    const store = core.store;
    let slot = store.lookup(key);
    if (slot < 0) slot = await this.loadForUpdate(key, userPath, position + data.length);
    if (slot < 0 || !store.admissible(Math.max(store.size(slot), position + data.length))) {
      await this.writeThrough(key, userPath, () => core.backend.write ? core.backend.write(key, data, position) : this.rewrite(key, data, position));
      return;
    }
    this.checkOpen('write');
    const sizeBefore = store.size(slot);
    store.writeAt(slot, position, data);
    this.dirtied(slot, key, Date.now()).wrote(position, position + data.length, sizeBefore);
    const journaled = this.journal?.pwrite(key, position, data);
    await core.enforceLimits();
    await journaled;
  }

  /** Cuts or extends the cached copy of `key`. */
  async truncate(key: string, length: number, userPath: string): Promise<void> {
    const core = this.core;
    const store = core.store;
    let slot = store.lookup(key);
    if (slot < 0) slot = await this.loadForUpdate(key, userPath, length);
    if (slot < 0 || !store.admissible(length)) {
      await this.writeThrough(key, userPath, () => core.backend.truncate(key, length));
      return;
    }
    this.checkOpen('truncate');
    const sizeBefore = store.size(slot);
    store.truncate(slot, length);
    this.dirtied(slot, key, Date.now()).truncated(length, sizeBefore);
    const journaled = this.journal?.truncate(key, length);
    await core.enforceLimits();
    await journaled;
  }

  // ---------------------------------------------------------------- flushing

  /**
   * Writes the dirty data of `key` to the backend. Rejects (and leaves the entry dirty) if the backend
   * fails. Serialized per path; waits while a rename or removal of the path is in progress.
   */
  async flushKey(key: string): Promise<void> {
    await this.chain(key);
  }

  /** Flushes every dirty entry (those `filter` accepts); AggregateError naming each path that failed. */
  async flushAll(filter?: (key: string) => boolean): Promise<void> {
    const first = [...this.dirty.keys()].filter((k) => !filter || filter(k));
    const results = await Promise.allSettled(first.map((k) => this.chain(k)));
    // A flush that waited for a rename finds its entry under the new name: flush those names too.
    if (results.some((r) => r.status === 'fulfilled' && r.value === 'gone')) {
      const seen = new Set(first);
      const moved = [...this.dirty.keys()].filter((k) => !seen.has(k) && (!filter || filter(k)));
      results.push(...(await Promise.allSettled(moved.map((k) => this.chain(k)))));
    }
    throwIfFailed(results);
  }

  /** Flushes the given keys (those that are dirty); AggregateError naming each path that failed. */
  async flushKeys(keys: Iterable<string>): Promise<void> {
    throwIfFailed(await Promise.allSettled([...new Set(keys)].map((k) => this.chain(k))));
  }

  /** Stops the background flusher and flushes everything (rejects if some flush fails). */
  async close(): Promise<void> {
    this.stopTimers();
    await Promise.all([...this.chains.values()].map((p) => p.catch(noop)));
    // Loop: a write that was already past the closed check when close began may dirty an entry again.
    while (this.dirty.size > 0) await this.flushAll();
    this.stopped = true;
  }

  /** Restarts the background timer after a failed close left the cache open. */
  restartTimer(): void {
    this.startTimer();
    if (this.failures.size > 0) this.scheduleRetry();
  }

  // ---------------------------------------------------------------- namespace changes

  /**
   * Runs a rename or removal (`change`: the backend call, then the cache's move or discard) ordered
   * with flushes and the journal:
   *
   * 1. flushes of the paths stop being started, and the ones writing now finish (so none can recreate a
   *    removed file or write to a name the data is leaving);
   * 2. with a journal, a rename that moves journaled data is journaled as an intent first, and its
   *    outcome (done, in the same tick as the cache moves its entries, or aborted) after; a removal is
   *    journaled when the cache discards the dirty entries;
   * 3. the change resolves once those records are written; then flushes resume, under the new names.
   */
  async aroundNamespaceChange(op: NamespaceOp, keys: readonly string[], change: () => Promise<void>): Promise<void> {
    for (const k of keys) this.pause(k);
    try {
      for (const k of keys) await this.settleWithin(k);
      const intent = op.kind === 'rename' ? await this.journalRenameIntent(op.from, op.to) : undefined;
      try {
        await change();
      } catch (err) {
        if (intent && !intent.done) await this.journal!.renameAbort(intent.lsn).catch(noop);
        throw err;
      } finally {
        if (op.kind === 'rename') this.intents.delete(`${op.from}\0${op.to}`);
      }
      await this.journal?.barrier();
    } finally {
      for (const k of keys) this.resume(k);
    }
  }

  /** The cache is moving its entries from `from` to `to` (called in the same tick, before it does). */
  movingWithin(from: string, to: string): void {
    const journal = this.journal;
    if (!journal) return;
    const intent = this.intents.get(`${from}\0${to}`);
    if (intent && !intent.done) {
      intent.done = true;
      void journal.renameDone(intent.lsn, from, to);
    } else if (journal.hasPendingWithin(from) || journal.hasPendingWithin(to)) {
      void journal.renameDone(0, from, to);
    }
  }

  /** The program removed `key`, a dirty file: its dirty data is moot. */
  forget(key: string): void {
    this.failures.delete(key);
    this.dirty.delete(key);
    if (this.journal?.latestLsn(key) !== undefined) void this.journal.removed(key);
  }

  /** `from` became `to` in the backend and the store; dirty ranges and retry state move along. */
  renamed(from: string, to: string): void {
    const ranges = this.dirty.get(from);
    if (ranges) {
      this.dirty.delete(from);
      this.dirty.set(to, ranges);
    }
    const f = this.failures.get(from);
    if (f) {
      this.failures.delete(from);
      this.failures.set(to, f);
    }
  }

  /** Holds off flushes at or below `prefix`. */
  pause(prefix: string): void {
    this.paused.set(prefix, (this.paused.get(prefix) ?? 0) + 1);
  }

  /** Ends a {@link pause}; flushes that waited go on. */
  resume(prefix: string): void {
    const n = (this.paused.get(prefix) ?? 1) - 1;
    if (n > 0) {
      this.paused.set(prefix, n);
      return;
    }
    this.paused.delete(prefix);
    const waiters = this.resumeWaiters;
    this.resumeWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Waits for the flushes at or below `prefix` that are writing to the backend now. */
  async settleWithin(prefix: string): Promise<void> {
    const pending = [...this.writing.entries()].filter(([k]) => isWithin(k, prefix)).map(([, p]) => p.catch(noop));
    await Promise.all(pending);
  }

  /** True while a flush of `key` runs or waits to: the backend file is changing because of us (coherence asks). */
  isFlushing(key: string): boolean {
    return this.chains.has(key);
  }

  /**
   * Flushes the whole file, not just its dirty ranges: the backend's copy changed behind the cache (a
   * conflict), so the ranges no longer describe the difference, and the program's data must replace it.
   */
  async flushWhole(key: string): Promise<void> {
    const slot = this.core.store.lookup(key);
    if (slot >= 0 && this.core.store.isDirty(slot)) this.dirty.get(key)?.replaced(this.core.store.size(slot));
    await this.chain(key);
  }

  // ---------------------------------------------------------------- internals

  private checkOpen(syscall: string): void {
    if (this.stopped || this.core.closed) throw new CacheClosedError(syscall);
  }

  private dirtied(slot: number, key: string, now: number): DirtyRanges {
    this.core.store.markDirty(slot, now);
    let ranges = this.dirty.get(key);
    if (ranges === undefined) {
      ranges = new DirtyRanges();
      this.dirty.set(key, ranges);
    }
    this.core.forgetMeta(key);
    this.core.forgetData(key);
    return ranges;
  }

  /** Creates `key` in the backend (empty) if it is missing, so the namespace stays in the backend. */
  private async ensureExists(key: string, userPath: string, exclusive: boolean, mode?: number): Promise<void> {
    const backend = this.core.backend;
    if (!(await this.core.existsForCreate(key, userPath, exclusive))) {
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

  /**
   * A write too large to cache goes straight to the backend, after the file's earlier dirty data (and the
   * journal record saying it was flushed: a replay must never lay older records over this write).
   */
  private async writeThrough(key: string, userPath: string, write: () => Promise<void>): Promise<void> {
    const store = this.core.store;
    await this.flushKey(key);
    try {
      await write();
    } catch (err) {
      throw asCallError(err, 'write', userPath);
    }
    this.core.forgetMeta(key);
    const again = store.lookup(key);
    if (again >= 0 && !store.isDirty(again)) store.remove(again, 'invalidated');
    this.core.forgetData(key);
  }

  private async rewrite(key: string, data: Uint8Array, position: number): Promise<void> {
    const current = Buffer.from(await this.core.backend.readFile(key));
    const next = Buffer.alloc(Math.max(current.length, position + data.length));
    current.copy(next);
    next.set(data, position);
    await this.core.backend.writeFile(key, next);
  }

  private chain(key: string): Promise<FlushResult> {
    const previous = this.chains.get(key);
    const run = (async () => {
      if (previous) await previous.catch(noop);
      return this.flushOnce(key);
    })();
    this.chains.set(key, run);
    const cleanup = (): void => {
      if (this.chains.get(key) === run) this.chains.delete(key);
    };
    run.then(cleanup, cleanup);
    return run;
  }

  private isPaused(key: string): boolean {
    if (this.paused.size === 0) return false;
    for (const prefix of this.paused.keys()) if (isWithin(key, prefix)) return true;
    return false;
  }

  private async flushOnce(key: string): Promise<FlushResult> {
    const core = this.core;
    const store = core.store;
    let slot: number;
    for (;;) {
      slot = store.lookup(key);
      if (slot < 0 || !store.isDirty(slot)) {
        this.dirty.delete(key);
        return slot < 0 ? 'gone' : 'clean';
      }
      if (!this.isPaused(key)) break;
      await new Promise<void>((wake) => this.resumeWaiters.push(wake));
    }
    // From here to the backend call nothing awaits: the snapshot, the fresh ranges for writes made
    // while it runs, and the registration that namespace changes wait for happen in one tick.
    const ranges = this.dirty.get(key) ?? wholeFile(store.size(slot));
    this.dirty.set(key, new DirtyRanges());
    const seq = store.writeSeq(slot);
    const mtimeMs = store.mtimeMs(slot);
    const upTo = this.journal?.latestLsn(key);
    const plan = this.plan(slot, ranges);
    const writing = this.writePlan(key, slot, plan, mtimeMs, upTo);
    this.writing.set(key, writing);
    try {
      await writing;
    } catch (err) {
      throw this.failed(key, ranges, err);
    } finally {
      if (this.writing.get(key) === writing) this.writing.delete(key);
    }
    core.counters.flushCount++;
    this.failures.delete(key);
    core.forgetMeta(key);
    const again = store.lookup(key);
    if (again === slot && store.writeSeq(again) === seq) {
      store.markClean(again);
      this.dirty.delete(key);
    }
    core.events.emit('flush', { path: key, bytes: plan.bytes } satisfies FlushEvent);
    return 'flushed';
  }

  /** Copies out what a flush of `slot` must write (the slot's buffer may change while the backend works). */
  private plan(slot: number, ranges: DirtyRanges): FlushPlan {
    const store = this.core.store;
    const size = store.size(slot);
    const buf = store.buffer(slot);
    if (!this.core.backend.write) {
      const whole = Buffer.allocUnsafeSlow(size);
      buf.copy(whole, 0, 0, size);
      return { chunks: [], length: undefined, whole, bytes: size };
    }
    let bytes = 0;
    const chunks: FlushPlan['chunks'] = ranges.list(size).map(([start, end]) => {
      const copy = Buffer.allocUnsafeSlow(end - start);
      buf.copy(copy, 0, start, end);
      bytes += copy.length;
      return [start, copy];
    });
    return { chunks, length: ranges.cut === Infinity ? undefined : size, whole: undefined, bytes };
  }

  private async writePlan(key: string, slot: number, plan: FlushPlan, mtimeMs: number, upTo: number | undefined): Promise<void> {
    const backend = this.core.backend;
    // Log before data: every write whose bytes are in this snapshot must be in the journal before the
    // backend gets them, so a crash in the middle of this flush leaves a file the replay can finish.
    if (this.journal) await this.journal.barrier();
    if (plan.whole) {
      await backend.writeFile(key, plan.whole);
    } else {
      try {
        for (const [position, bytes] of plan.chunks) await backend.write!(key, bytes, position);
        if (plan.length !== undefined) await backend.truncate(key, plan.length);
      } catch (err) {
        if (!hasCode(err) || err.code !== 'ENOENT') throw err;
        // The file is gone though the program did not remove it (renames and removals wait for
        // flushes): another process did. What the program wrote must still arrive: write it whole.
        const store = this.core.store;
        const size = store.size(slot);
        const whole = Buffer.allocUnsafeSlow(size);
        store.buffer(slot).copy(whole, 0, 0, size);
        await backend.writeFile(key, whole);
      }
    }
    // The program saw mtime = time of its write; keep it so after the flush.
    await backend.utimes(key, mtimeMs, mtimeMs).catch(noop);
    if (this.journal && upTo !== undefined) await this.journal.flushed(key, upTo);
  }

  /** Keeps what a failed flush owed, arms the retry, reports; returns the error for the caller. */
  private failed(key: string, ranges: DirtyRanges, err: unknown): unknown {
    const core = this.core;
    core.counters.flushErrors++;
    // What the failed flush should have written is still owed, under anything written since.
    const since = this.dirty.get(key) ?? new DirtyRanges();
    since.absorb(ranges);
    this.dirty.set(key, since);
    const failure = this.failures.get(key) ?? { attempts: 0, nextAttemptAt: 0 };
    failure.attempts++;
    const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (failure.attempts - 1)) * (0.5 + Math.random() / 2);
    failure.nextAttemptAt = Date.now() + delay;
    this.failures.set(key, failure);
    const slot = core.store.lookup(key);
    if (slot >= 0 && core.store.isParked(slot)) core.store.unpark(slot);
    this.scheduleRetry();
    const error = asCallError(err, 'write', key);
    const event: FlushErrorEvent = {
      path: key,
      error,
      attempts: failure.attempts,
      retryInMs: this.intervalTimer ? Math.round(delay) : undefined,
    };
    core.events.emit('flushError', event);
    return error;
  }

  /** With a journal: records a rename intent when the rename moves journaled data (or a directory). */
  private async journalRenameIntent(from: string, to: string): Promise<{ lsn: number; done: boolean } | undefined> {
    const journal = this.journal;
    if (!journal) return undefined;
    let isDirectory: boolean;
    try {
      isDirectory = isDirectoryMode((await this.core.backend.lstat(from)).mode);
    } catch {
      return undefined; // the rename itself will fail, and must not look like it happened to a replay
    }
    // A directory's files can be written while it is renamed (only the directory's path is locked).
    if (!isDirectory && !journal.hasPendingWithin(from) && !journal.hasPendingWithin(to)) return undefined;
    const { lsn, written } = journal.renameIntent(from, to);
    const intent = { lsn, done: false };
    this.intents.set(`${from}\0${to}`, intent);
    try {
      await written;
    } catch (err) {
      this.intents.delete(`${from}\0${to}`);
      throw err;
    }
    return intent;
  }

  /** The store wants this dirty slot gone: flush, then evict it if it is still clean and parked. */
  private async evictDirty(slot: number): Promise<void> {
    const store = this.core.store;
    const key = store.key(slot);
    const failure = this.failures.get(key);
    if (failure && failure.nextAttemptAt > Date.now()) {
      // Backing off: stay resident (past the limit) rather than hammer a failing backend on every write.
      await Promise.resolve();
      const again = store.lookup(key);
      if (again >= 0 && store.isParked(again)) store.unpark(again);
      return;
    }
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

  private startTimer(): void {
    const interval = this.core.opts.flushInterval;
    if (!this.intervalTimer && interval > 0) {
      this.intervalTimer = setInterval(() => void this.background(), interval);
      this.intervalTimer.unref();
    }
  }

  private stopTimers(): void {
    if (this.intervalTimer) clearInterval(this.intervalTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.intervalTimer = undefined;
    this.retryTimer = undefined;
    this.retryAt = Infinity;
  }

  /** Arms one timer for the earliest retry due (only with a background flusher). */
  private scheduleRetry(): void {
    if (!this.intervalTimer) return;
    let earliest = Infinity;
    for (const f of this.failures.values()) if (f.nextAttemptAt < earliest) earliest = f.nextAttemptAt;
    if (earliest >= this.retryAt) return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryAt = earliest;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.retryAt = Infinity;
      void this.background();
    }, Math.max(0, earliest - Date.now()));
    this.retryTimer.unref();
  }

  /** One background round: flush what is dirty and not backing off, then let limits catch up. */
  private async background(): Promise<void> {
    if (this.backgroundRunning || this.core.closed) return;
    this.backgroundRunning = true;
    try {
      const now = Date.now();
      const due = [...this.dirty.keys()].filter((k) => {
        const f = this.failures.get(k);
        return !f || f.nextAttemptAt <= now;
      });
      await Promise.allSettled(due.map((k) => this.chain(k)));
      // Entries that stayed past the limits while their flushes failed can leave now.
      if (this.core.store.overLimit()) await this.core.enforceLimits().catch(noop);
    } finally {
      this.backgroundRunning = false;
      if (this.failures.size > 0) this.scheduleRetry();
    }
  }
}

function wholeFile(size: number): DirtyRanges {
  const ranges = new DirtyRanges();
  ranges.replaced(size);
  return ranges;
}

function throwIfFailed(results: PromiseSettledResult<unknown>[]): void {
  const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (errors.length > 0) {
    const paths = errors.map((e) => (e as { path?: string }).path ?? '?');
    throw new AggregateError(errors, `cachefs: flush failed for ${paths.join(', ')}`);
  }
}
